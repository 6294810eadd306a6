"""Browser tests of the built book: `_build/html` served on localhost, driven in headless Chromium.

Debian's /usr/bin/chromium is driven by Playwright for Python (no browser download); `make site` installs it
with tools/install_browser.sh, together with fonts-noto-cjk for the Chinese chapters. Build the book first
(`make book`): these tests fail, not skip, when _build/html is missing.

The tests never use the network: Chromium resolves no host but the local server, and the offline test
aborts every other request with page.route. The only such request the book makes is MathJax's script from
its CDN; without it the formulas stay as TeX source, and the tests check that the text and figures render
anyway.
"""

import functools
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[1]
# SITE_HTML points the tests at another build of the book; the default is the one `make book` writes.
SITE = Path(os.environ.get("SITE_HTML", ROOT / "_build" / "html"))
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling Google's services, which a closed network
# refuses. Playwright gives every launch a new, empty user-data dir (it refuses --user-data-dir) and deletes
# it on close.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Every host but the local server fails to resolve at once: no test waits on the network.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
TIMEOUT_MS = 15_000
HAN = re.compile(r"[\u4e00-\u9fff]")
TWIN_LINK = "article.bd-article h1 + p a.reference.internal"  # 中文版 / English, right under the title


def _toc_pages():
    """Every page _toc.yml lists, as paths relative to the site root without .html: the root, then chapters."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


PAGES = _toc_pages()
EN_CHAPTERS = [page.removeprefix("book/en/") for page in PAGES if page.startswith("book/en/")]
ZH_CHAPTERS = [page.removeprefix("book/zh/") for page in PAGES if page.startswith("book/zh/")]
# What the crawl opens: the site's own index.html (a redirect to the toc root), then every page of the toc.
CRAWL = ["index.html"] + [f"{page}.html" for page in PAGES]

# Waits for every <img> to finish, then tells each one's natural width (0: it did not load).
IMAGES_LOADED = """() => Promise.all([...document.images].map(img => img.complete ? null :
    new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); })))
  .then(() => [...document.images].map(img => ({src: img.currentSrc || img.src, width: img.naturalWidth})))"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def server():
    """The base URL of _build/html, served by http.server in a thread on a free localhost port."""
    missing = [path for path in CRAWL + ["search.html"] if not (SITE / path).is_file()]
    if missing:
        pytest.fail(
            f"the built book is missing or incomplete under {SITE} (no {', '.join(missing[:5])}"
            f"{' …' if len(missing) > 5 else ''}): run `make book` first",
            pytrace=False,
        )
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: run tools/install_browser.sh (or `make site`)", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """One browser context and page on the local server, recording what went wrong on its pages.

    With block=True a page.route aborts every request that is not for the local server, and records it.
    The other tests go without: a route sends every request through Playwright, which halves the speed.
    """

    def __init__(self, browser, base, block=False):
        self.base = base
        self.origin = base.rstrip("/")
        self.blocked = []  # off-localhost URLs the route aborted
        self.console_errors = []
        self.local_failures = []  # local requests that failed or were answered with a status >= 400
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        if block:
            self.page.route("**/*", self._route)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", self._response)

    def is_local(self, url):
        return url.startswith(self.origin + "/")

    def _route(self, route):
        url = route.request.url
        if self.is_local(url):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def _console(self, message):
        if message.type != "error":
            return
        url = message.location.get("url", "")
        # Chromium logs each failed load as a console error. Off localhost that is MathJax's CDN, kept
        # offline on purpose; a local one is also recorded by the request listeners below.
        if message.text.startswith("Failed to load resource") and (
            not self.is_local(url) or self._is_favicon_guess(url)
        ):
            return
        self.console_errors.append(f"{message.text} ({url})")

    def _is_favicon_guess(self, url):
        # Chromium asks for /favicon.ico by itself when a page names no icon, and the book names none.
        return url == f"{self.origin}/favicon.ico"

    def _request_failed(self, request):
        if self.is_local(request.url):
            self.local_failures.append(f"{request.url}: {request.failure}")

    def _response(self, response):
        if self.is_local(response.url) and response.status >= 400 and not self._is_favicon_guess(response.url):
            self.local_failures.append(f"{response.url}: HTTP {response.status}")

    def start(self):
        """Leaves the last page, so that nothing it logs late counts against the next, and forgets it."""
        self.page.goto("about:blank")
        self.blocked.clear()
        self.console_errors.clear()
        self.local_failures.clear()

    def goto(self, path, wait_until="load"):
        response = self.page.goto(self.base + path, wait_until=wait_until)
        assert response is not None, f"no response for {path}"
        return response

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def crawler(browser, server):
    """The crawl's context, in which every page meets an empty storage, as a first-time visitor's.

    The theme keeps the reader's light/dark choice in localStorage: a page that misbehaves without it must
    not be hidden by the page before. The HTTP cache stays; it makes the crawl twice as fast.
    """
    visit = Visit(browser, server)
    visit.context.add_init_script("try { localStorage.clear(); sessionStorage.clear(); } catch (e) {}")
    yield visit
    visit.close()


@pytest.fixture(scope="module")
def shared(browser, server):
    """One context for the tests that navigate and look: twin links, search, fonts, screenshots."""
    visit = Visit(browser, server)
    yield visit
    visit.close()


@pytest.fixture
def offline(browser, server):
    """A context of its own whose page.route aborts every request that is not for the local server."""
    visit = Visit(browser, server, block=True)
    yield visit
    visit.close()


@pytest.mark.parametrize("path", CRAWL)
def test_page_loads_cleanly(crawler, path):
    crawler.start()
    response = crawler.goto(path)
    assert response.status == 200, f"{path}: HTTP {response.status}"
    if path == "index.html":
        # The site's index.html only redirects to the toc root; check where it lands too.
        crawler.page.wait_for_url(f"{crawler.base}{PAGES[0]}.html", wait_until="load")
    images = crawler.page.evaluate(IMAGES_LOADED)
    broken = [image["src"] for image in images if image["width"] <= 0]
    assert not broken, f"{path}: images that did not load: {broken}"
    assert not crawler.local_failures, f"{path}: failed local requests: {crawler.local_failures}"
    assert not crawler.console_errors, f"{path}: console errors: {crawler.console_errors}"


def _follow_twin_link(page, text, target):
    """Clicks the link under the chapter's title and waits until the browser is on `target`."""
    link = page.locator(TWIN_LINK)
    expect(link).to_have_text(text)  # waits for the page; fails on no such link, or several
    link.click()
    page.wait_for_url(target, wait_until="commit")


@pytest.mark.parametrize("chapter", EN_CHAPTERS)
def test_twin_links_lead_to_the_other_language_and_back(shared, chapter):
    assert chapter in ZH_CHAPTERS, f"book/en/{chapter} has no Chinese twin in _toc.yml"
    en = f"{shared.base}book/en/{chapter}.html"
    zh = f"{shared.base}book/zh/{chapter}.html"
    page = shared.page
    shared.start()
    # The crawl checks each page's full load; here the link under the title is all that must be there.
    shared.goto(f"book/en/{chapter}.html", wait_until="commit")
    _follow_twin_link(page, "中文版", zh)
    expect(page.locator("article.bd-article")).to_contain_text(HAN)  # Chinese, not a copy of the English
    _follow_twin_link(page, "English", en)
    expect(page.locator(TWIN_LINK)).to_have_text("中文版")
    assert not shared.local_failures, shared.local_failures


@pytest.mark.parametrize(
    "query, expected",
    [("residual", "book/en/resnet.html"), ("残差", "book/zh/resnet.html")],
)
def test_search_finds_the_resnet_chapter(shared, query, expected):
    shared.start()
    shared.goto(f"search.html?q={quote(query)}")
    # Sphinx writes this summary once every result is listed.
    summary = shared.page.locator("#search-results p.search-summary")
    expect(summary).to_contain_text("finished")
    hrefs = shared.page.eval_on_selector_all(
        "#search-results ul.search li a", "links => links.map(a => new URL(a.href).pathname)"
    )
    assert f"/{expected}" in hrefs, f"search for {query!r}: {summary.inner_text()!r}, results {hrefs}"
    assert not shared.console_errors, shared.console_errors


def test_chinese_renders_with_a_cjk_font(shared):
    page = shared.page
    shared.start()
    shared.goto("book/zh/resnet.html")
    paragraph = page.locator("article.bd-article p").filter(has_text=HAN).first
    han_count = len(HAN.findall(paragraph.text_content()))
    assert han_count > 20, f"the first Chinese paragraph has only {han_count} Han characters"

    # The fonts Chromium really drew the paragraph with, and how many glyphs each drew.
    paragraph.evaluate("p => { p.id = 'cjk-font-probe'; }")
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#cjk-font-probe"})["nodeId"]
        assert node, "could not find the paragraph through the DevTools protocol"
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    cjk = [font for font in fonts if "CJK" in font["familyName"] and font["glyphCount"] > 0]
    assert cjk, f"the Chinese paragraph was drawn with {fonts}: no CJK font (install fonts-noto-cjk)"
    assert sum(font["glyphCount"] for font in cjk) >= han_count, (fonts, han_count)

    # Widths in the paragraph's own font: a CJK font draws each Han character 1 em wide; without one they
    # are tofu boxes, as wide as those for a code point that no font has (U+0378 is unassigned).
    widths = paragraph.evaluate(
        """p => {
            const ctx = document.createElement('canvas').getContext('2d');
            ctx.font = `100px ${getComputedStyle(p).fontFamily}`;
            return {han: ctx.measureText('残差网络').width, tofu: ctx.measureText('\\u0378'.repeat(4)).width};
        }"""
    )
    assert abs(widths["han"] - 400) < 4, f"4 Han characters at 100px are not 400px wide: {widths}"
    assert abs(widths["han"] - widths["tofu"]) > 4, f"Han characters are as wide as tofu: {widths}"


@pytest.mark.parametrize("path", ["book/en/resnet.html", "book/zh/resnet.html"])
def test_pages_render_text_and_figures_offline(offline, path):
    offline.goto(path)
    page = offline.page
    article = page.locator("article.bd-article")
    assert article.is_visible()
    text = article.inner_text()
    assert len(text) > 2000, f"{path}: only {len(text)} characters of text"
    if "/zh/" in path:
        assert len(HAN.findall(text)) > 500, f"{path}: little Chinese text"
    else:
        assert "residual" in text.lower()
    # Every figure of the chapter has loaded and takes room on the page.
    figures = page.eval_on_selector_all(
        "article.bd-article img",
        """imgs => imgs.map(img => ({src: img.src, width: img.naturalWidth,
                                    shown: img.getBoundingClientRect().width}))""",
    )
    assert len(figures) >= 3, f"{path}: only {len(figures)} figures"
    assert all(f["width"] > 0 and f["shown"] > 0 for f in figures), figures
    math = page.locator("article.bd-article .math")
    assert math.count() > 0, f"{path}: no math"
    if any("mathjax" in url.lower() for url in offline.blocked):
        # MathJax comes from its CDN, online only: without it the formulas stay readable as TeX source.
        assert "\\" in math.first.inner_text(), f"{path}: the math shows no TeX source"
    else:
        # MathJax served with the book typesets offline too.
        page.wait_for_selector("article.bd-article .math mjx-container", state="attached")
    assert not offline.local_failures, offline.local_failures
    assert not offline.console_errors, offline.console_errors


@pytest.mark.parametrize("path", ["book/en/resnet.html", "book/zh/resnet.html"])
def test_screenshot(shared, path):
    """Full-page screenshots to look at: _build/screenshots/en-resnet.png and zh-resnet.png."""
    shared.start()
    shared.goto(path)
    shared.page.evaluate(IMAGES_LOADED)
    shared.page.evaluate("document.fonts.ready.then(() => true)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / (path.removeprefix("book/").replace("/", "-").removesuffix(".html") + ".png")
    shared.page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 50_000, f"{target} looks empty"
