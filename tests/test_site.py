"""Browser tests of the built book: `_build/html` served on localhost, driven in headless Chromium.

Debian's /usr/bin/chromium is driven by Playwright for Python (no browser download); `make site` installs it
with tools/install_browser.sh, together with fonts-noto-cjk for the Chinese chapters. Build the book first
(`make book`): these tests fail, not skip, when _build/html is missing.

The book is two editions (tools/build_book.py): `_build/html/en/` and `_build/html/zh/`, each with its own
sidebar, search index and interface language, and a switch to the twin page in every page's header; the
landing page `_build/html/index.html` leads to both.

The tests never use the network: Chromium resolves no host but the local server, and the offline test aborts
every other request with page.route. MathJax is served with the book (_ext/editions.py), so formulas typeset
offline.
"""

import functools
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect, sync_playwright

from tools.build_book import editions

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
TWIN_LINK = "article.bd-article h1 + p a.reference"  # 中文版 / English, right under the title
SWITCH = "a.edition-switch"  # the header's switch to the twin page (_ext/editions.py)
SIDEBAR = "nav.bd-docs-nav"
# Where the theme writes its own words: the header, the sidebars, the article's header and the footer.
INTERFACE = ".bd-header, .bd-sidebar-primary, .bd-header-article, .bd-sidebar-secondary, .prev-next-area, footer"

EDITIONS = editions()  # {"en": (settings, files), "zh": ...}, in _toc.yml's order
# Both editions have the same chapters (tests/test_book.py): intro, alexnet, ..., references.
CHAPTERS = [Path(file).name for file in next(iter(EDITIONS.values()))[1]]
PAGES = [f"{edition}/{chapter}" for edition in EDITIONS for chapter in CHAPTERS]
# What the crawl opens: the landing page, every page of both editions, and each edition's search page.
CRAWL = ["index.html"] + [f"{page}.html" for page in PAGES] + [f"{edition}/search.html" for edition in EDITIONS]
OTHER = {edition: next(other for other in EDITIONS if other != edition) for edition in EDITIONS}
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


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
        # net::ERR_ABORTED is the browser cancelling a request because the test left the page (a MathJax font
        # still loading when the header's switch is clicked): not a failure of the site, which answers every
        # request it cannot serve with a status >= 400 (recorded below).
        if self.is_local(request.url) and request.failure != "net::ERR_ABORTED":
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
    images = crawler.page.evaluate(IMAGES_LOADED)
    broken = [image["src"] for image in images if image["width"] <= 0]
    assert not broken, f"{path}: images that did not load: {broken}"
    assert not crawler.local_failures, f"{path}: failed local requests: {crawler.local_failures}"
    assert not crawler.console_errors, f"{path}: console errors: {crawler.console_errors}"
    if path.removesuffix(".html") in PAGES:
        _check_twin_switch(crawler, path.removesuffix(".html"))


def _check_twin_switch(visit, page_path):
    """The page is in its edition's language and its header's switch is one visible link to its twin.

    The switch is a plain link written by the build (_ext/templates/language-switch.html), so its target,
    checked here on every page the crawl loads anyway, is where a click goes; the crawl loads that page too.
    test_the_header_switch_leads_to_the_twin_and_back clicks it on one chapter.
    """
    edition, chapter = page_path.split("/")
    other = OTHER[edition]
    switch = visit.page.locator(SWITCH)
    expect(switch).to_have_count(1)
    expect(switch).to_be_visible()
    expect(switch).to_have_text(EDITIONS[other][0]["switch"])
    assert switch.evaluate("a => new URL(a.href).pathname") == f"/{other}/{chapter}.html"
    if edition == "zh":
        expect(visit.page.locator("html")).to_have_attribute("lang", re.compile("^zh"))
        expect(visit.page.locator("article.bd-article")).to_contain_text(HAN)  # Chinese, not a copy of the English
    else:
        expect(visit.page.locator("html")).to_have_attribute("lang", "en")


def test_the_landing_page_leads_to_both_editions(shared):
    shared.start()
    shared.goto("index.html")
    hrefs = shared.page.eval_on_selector_all(
        "article.bd-article a.reference", "links => links.map(a => new URL(a.href).pathname)"
    )
    for edition in EDITIONS:
        assert {f"/{edition}/{chapter}.html" for chapter in CHAPTERS} <= set(hrefs), (edition, hrefs)
    assert not shared.local_failures, shared.local_failures


def _switch(page, label, target):
    """Clicks the header's switch and waits until the browser is on `target`."""
    switch = page.locator(SWITCH)
    expect(switch).to_have_text(label)  # waits for the page; fails on no such switch, or several
    expect(switch).to_be_visible()
    switch.click()
    page.wait_for_url(target, wait_until="commit")


# Clicked through on two chapters; on every page the crawl checks where the switch leads (_check_twin_switch).
@pytest.mark.parametrize("chapter", ["resnet", "intro"])
def test_the_header_switch_leads_to_the_twin_and_back(shared, chapter):
    en, zh = (f"{shared.base}{edition}/{chapter}.html" for edition in ("en", "zh"))
    page = shared.page
    shared.start()
    shared.goto(f"en/{chapter}.html", wait_until="commit")
    _switch(page, EDITIONS["zh"][0]["switch"], zh)
    expect(page.locator("article.bd-article")).to_contain_text(HAN)  # Chinese, not a copy of the English
    expect(page.locator("html")).to_have_attribute("lang", re.compile("^zh"))
    _switch(page, EDITIONS["en"][0]["switch"], en)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert not shared.local_failures, shared.local_failures


def test_the_link_under_a_title_leads_to_the_twin(shared):
    # The notebooks link their twins (../zh/resnet.ipynb, which works in Jupyter); the build makes it the page.
    shared.start()
    shared.goto("en/resnet.html", wait_until="commit")
    link = shared.page.locator(TWIN_LINK)
    expect(link).to_have_text("中文版")
    link.click()
    shared.page.wait_for_url(f"{shared.base}zh/resnet.html", wait_until="commit")


def _sidebar(visit, edition):
    visit.start()
    visit.goto(f"{edition}/resnet.html")
    titles = visit.page.locator(f"{SIDEBAR} a").all_inner_texts()
    hrefs = visit.page.eval_on_selector_all(f"{SIDEBAR} a", "links => links.map(a => new URL(a.href).pathname)")
    return [t.strip() for t in titles], hrefs


def test_each_edition_lists_only_its_own_chapters(shared):
    sidebars = {edition: _sidebar(shared, edition) for edition in EDITIONS}
    for edition, (titles, hrefs) in sidebars.items():
        assert len(titles) == len(CHAPTERS), (edition, titles)
        assert all(href.startswith(f"/{edition}/") for href in hrefs), (edition, hrefs)
    english, chinese = sidebars["en"][0], sidebars["zh"][0]
    only_english = set(english) - set(chinese)  # AlexNet, VGG, ResNet... are the same in both
    assert {"Overview", "Glossary", "References"} <= only_english
    assert not only_english & set(chinese), f"English titles in the Chinese sidebar: {only_english & set(chinese)}"


def _interface_words(visit, path):
    visit.start()
    visit.goto(path)
    text = "\n".join(visit.page.locator(INTERFACE).all_inner_texts())
    return text, set(ENGLISH_WORD.findall(text))


def test_the_theme_speaks_the_language_of_the_page(shared):
    en_text, en_words = _interface_words(shared, "en/resnet.html")
    zh_text, zh_words = _interface_words(shared, "zh/resnet.html")
    for english, chinese in (("Search", "搜索"), ("Contents", "目录"), ("previous", "上一页"), ("next", "下一页")):
        assert english.lower() in en_text.lower(), f"en/resnet.html's interface has no {english!r}: {en_text!r}"
        assert chinese in zh_text, f"zh/resnet.html's interface has no {chinese!r}: {zh_text!r}"
    # The Chinese page's interface has no English word but those of its chapter titles (model names), the
    # switch's "English", the keyboard's Ctrl and the project's name, cnn-notes.
    titles, _ = _sidebar(shared, "zh")
    allowed = set(ENGLISH_WORD.findall(" ".join(titles))) | {"English", "Ctrl", "cnn", "notes"}
    assert not zh_words - allowed, f"English words in the Chinese interface: {sorted(zh_words - allowed)}"
    assert en_words - allowed, "the English interface has no words of its own: is the test looking at it?"


def _search(visit, edition, query):
    visit.start()
    visit.goto(f"{edition}/search.html?q={quote(query)}")
    # Sphinx writes this summary once every result is listed, in the page's language.
    summary = visit.page.locator("#search-results p.search-summary")
    expect(summary).to_contain_text(re.compile("finished|完成"))
    hrefs = visit.page.eval_on_selector_all(
        "#search-results ul.search li a", "links => links.map(a => new URL(a.href).pathname)"
    )
    assert not visit.console_errors, visit.console_errors
    return summary.inner_text(), hrefs


@pytest.mark.parametrize(
    "edition, query, expected",
    [
        ("en", "residual", "resnet"),
        ("zh", "残差", "resnet"),
        ("zh", "residual", "resnet"),  # English terms in the Chinese edition
        # Renderings other textbooks use (book/glossary.csv), which the chapters do not: index entries
        ("zh", "快捷连接", "resnet"),
        ("zh", "跳跃连接", "resnet"),
        ("en", "残差块", "resnet"),
        ("en", "shortcut", "resnet"),
    ],
)
def test_each_edition_searches_its_own_pages(shared, edition, query, expected):
    summary, hrefs = _search(shared, edition, query)
    assert f"/{edition}/{expected}.html" in hrefs, f"search {edition} for {query!r}: {summary!r}, results {hrefs}"
    assert all(href.startswith(f"/{edition}/") for href in hrefs), hrefs


def test_chinese_renders_with_a_cjk_font(shared):
    page = shared.page
    shared.start()
    shared.goto("zh/resnet.html")
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


@pytest.mark.parametrize("path", ["en/resnet.html", "zh/resnet.html"])
def test_pages_render_text_figures_and_formulas_offline(offline, path):
    offline.goto(path)
    page = offline.page
    article = page.locator("article.bd-article")
    assert article.is_visible()
    text = article.inner_text()
    assert len(text) > 2000, f"{path}: only {len(text)} characters of text"
    if path.startswith("zh/"):
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
    # Every formula is typeset by the MathJax served with the book: no TeX source is left on the page.
    formulas = page.locator("article.bd-article .math")
    assert formulas.count() > 0, f"{path}: no math"
    expect(page.locator("article.bd-article .math:not(:has(mjx-container))")).to_have_count(0)
    assert "\\frac" not in article.inner_text() and "\\times" not in article.inner_text()
    assert not [url for url in offline.blocked if "mathjax" in url.lower()], offline.blocked
    assert not offline.local_failures, offline.local_failures
    assert not offline.console_errors, offline.console_errors


@pytest.mark.parametrize("path", ["en/resnet.html", "zh/resnet.html", "zh/inception_v2.html"])
def test_screenshot(shared, path):
    """Full-page screenshots to look at, in _build/screenshots/: en-resnet.png, zh-resnet.png, and
    zh-inception_v2.png, a Chinese chapter with a Chinese table and a Chinese plot."""
    shared.start()
    shared.goto(path)
    shared.page.evaluate(IMAGES_LOADED)
    shared.page.evaluate("document.fonts.ready.then(() => true)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / (path.replace("/", "-").removesuffix(".html") + ".png")
    shared.page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 50_000, f"{target} looks empty"
