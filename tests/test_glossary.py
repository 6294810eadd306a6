"""One set of terms: the glossary table, the two pages made from it, and the Chinese chapters held to it.

``book/glossary.csv`` names, for every term, the one Chinese word this book uses and the other renderings readers
meet elsewhere (other textbooks, translations of the papers, articles), which it does not use. These tests check
that

* both glossary pages are exactly what ``python -m tools.glossary`` makes from the table;
* no Chinese chapter (the markdown cells of ``book/zh/*.ipynb``, and ``book/zh/*.md`` but the glossary) uses a
  rendering the table marks as not used in this book;
* every term the book uses is used by a Chinese chapter, by one of the chapters its row links, and a term marked
  ``glossary_only`` by none (the mark must stay true).

What is not prose is left out before reading, as ``tests/test_prose_figures.py`` leaves it out: code (inline and
fenced, but a MyST directive's body is prose), math, link targets, citation keys, URLs. Emphasis marks and the line breaks inside Chinese sentences are removed,
so that a term split by ``**`` or by the editor's line wrap is still one word.
"""

import json
import re

import pytest

from test_prose_figures import strip_non_prose
from tools import glossary

BOOK = glossary.BOOK
TERMS = glossary.load()
ZH_PAGES = sorted(BOOK.glob("zh/*.ipynb")) + sorted(p for p in BOOK.glob("zh/*.md") if p.name != "glossary.md")

# A rendering may be part of a longer word that means something else. Each case here was met in the chapters:
ALLOWED_INSIDE = {
    # 深度 is "deep" here, not "depthwise": a deep convolutional (neural) network (the overview's AlexNet row).
    "深度卷积": ("深度卷积网络", "深度卷积神经网络"),
    # 特征 followed by the verb 映射到, "features mapped to ...": AlexNet's first fully connected layer maps the
    # 9216 features of the last pooling layer to 4096 units. Not the noun 特征映射 (feature map).
    "特征映射": ("特征映射到",),
}
# A rendering is also allowed inside the word the book uses for any term: 组卷积 inside 分组卷积 and 点卷积
# inside 逐点卷积 are the book's own words (grouped, pointwise convolution), not the renderings.

# Where a chapter quotes the post (the Chinese blog post the book follows, which is not part of this repository),
# the quoted words stay as the post spells them: each quotation here is the post's wording, checked against the
# post, marked by the quotation marks and attributed to 原文 in the sentence, and allowed once.
POST_QUOTATIONS = {
    ("xception", "每个通道只有一个内核"),  # the post: "每个通道只有一个内核可以进行卷积"
    ("efficientnet", "用处：EfficientDet 的 backbone"),  # the post: "用处：EfficientDet的backbone"
}

# A line break (and a list item's indentation) between two non-ASCII characters: the editor's wrap, not a space.
_WRAP = re.compile(r"(?<=[^\x00-\x7f])\n[ \t]*(?=[^\x00-\x7f])")


def prose(text):
    """The words of a markdown text, as a reader reads them: what is not prose blanked out as the figure check
    does it (``strip_non_prose``), then the emphasis marks and the editor's line wraps removed."""
    return _WRAP.sub("", strip_non_prose(text).replace("*", ""))


def page_prose(path):
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    return prose(text)


def word_pattern(word):
    """A term as a pattern: Latin words whole and in any case, a space between scripts optional."""
    pattern = r"\s*".join(map(re.escape, word.split(" ")))
    if word.isascii():
        return re.compile(rf"(?<![A-Za-z0-9_]){pattern}(?![A-Za-z0-9_])", re.I)
    return re.compile(pattern)


def without_glosses(text):
    # The book glosses a term with its English name in brackets right after its own word: 起始部分（stem）,
    # 骨干网络（backbone）. Such a gloss names the term; it is not a rendering of it.
    for term in TERMS:
        text = re.sub(word_pattern(term.chinese).pattern + r"（[^（）\n]*）", term.chinese, text)
    return text


def without_post_quotations(text, slug):
    for chapter, quotation in POST_QUOTATIONS:
        if chapter == slug:
            text = text.replace(f"“{quotation}”", "“”", 1)
    return text


def renderings_used(text):
    """(rendering, the term it renders, context) for each rendering marked not used that the text uses."""
    found = []
    for term in TERMS:
        for rendering in term.others:
            containers = [t.chinese for t in TERMS if rendering.text in t.chinese]
            containers += ALLOWED_INSIDE.get(rendering.text, ())
            allowed = [m.span() for word in containers for m in word_pattern(word).finditer(text)]
            for match in word_pattern(rendering.text).finditer(text):
                if not any(start <= match.start() and match.end() <= end for start, end in allowed):
                    context = text[max(0, match.start() - 15) : match.end() + 15].replace("\n", " ")
                    found.append((rendering.text, term.chinese, context))
    return found


# --- the pages are made from the table --------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_glossary_page_is_generated_from_the_table(language):
    path = glossary.PAGES[language]
    expected = glossary.pages(TERMS)[path]
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.relative_to(glossary.ROOT)} differs from book/glossary.csv: run `python -m tools.glossary`"
    )


def test_the_zh_page_lists_every_other_rendering_and_links_the_chapters():
    page = glossary.PAGES["zh"].read_text(encoding="utf-8")
    assert "| 中文 | English | 其他译法 | 含义 | 章节 |" in page
    for term in TERMS:
        [row] = [line for line in page.splitlines() if line.startswith(f"| {term.chinese} | ")]
        assert all(r.text in row for r in term.others), term.english
        assert all(f"]({slug}.ipynb)" in row for slug in term.chapters), term.english


def test_no_rendering_marked_not_used_is_a_word_the_book_uses():
    chosen = {t.chinese: t.english for t in TERMS}
    clashes = [(r.text, t.english, chosen[r.text]) for t in TERMS for r in t.others if r.text in chosen]
    assert clashes == []


def test_a_malformed_row_is_refused(tmp_path):
    good = glossary.DATA.read_text(encoding="utf-8")
    bad = tmp_path / "glossary.csv"
    bad.write_text(good.replace("批标准化 [花书]", "批标准化 [a blog]"), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown source 'a blog'"):
        glossary.load(bad)
    bad.write_text(good.replace(",inception_v2,\n", ",inception_v9,\n", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="no chapter 'inception_v9'"):
        glossary.load(bad)


# --- the Chinese chapters use the book's words ------------------------------------------------------------------


@pytest.mark.parametrize("path", ZH_PAGES, ids=lambda p: p.name)
def test_chinese_chapters_use_no_rendering_marked_not_used(path):
    text = without_glosses(without_post_quotations(ALL_PROSE[path.stem], path.stem))
    found = renderings_used(text)
    assert found == [], "\n".join(f"{path.name}: {r!r} (the book says {c!r}): ...{ctx}..." for r, c, ctx in found)


@pytest.mark.parametrize(("slug", "quotation"), sorted(POST_QUOTATIONS))
def test_each_post_quotation_is_still_quoted_once(slug, quotation):
    assert page_prose(BOOK / "zh" / f"{slug}.ipynb").count(f"“{quotation}”") == 1


def test_the_check_finds_a_rendering_and_spares_the_allowed_words():
    text = prose(
        "GoogLeNet 的主干把图片缩小；ResNet 的**起始部分（stem）**也是；批量\n归一化；stem 有 64 个通道。"
        "首次证明深度卷积网络能领先；深度卷积更慢；分组卷积；逐点卷积；9216 个特征映射到 4096 个单元。"
        "`stem_conv` 是代码。"
    )
    found = [(r, c) for r, c, _ in renderings_used(without_glosses(text))]
    assert found == [("批量归一化", "批归一化"), ("深度卷积", "逐通道卷积"), ("主干", "起始部分"), ("stem", "起始部分")]


# --- every term is used, where the table says -------------------------------------------------------------------

ALL_PROSE = {p.stem: page_prose(p) for p in ZH_PAGES}


@pytest.mark.parametrize("term", [t for t in TERMS if not t.glossary_only], ids=lambda t: t.english)
def test_each_term_is_used_by_a_chapter_its_row_links(term):
    pattern = word_pattern(term.chinese)
    assert any(pattern.search(ALL_PROSE[slug]) for slug in term.chapters), (
        f"{term.chinese!r} ({term.english}) is in none of {', '.join(term.chapters)}: a glossary term nobody uses is "
        "suspect; fix the row's chapters, or mark it glossary_only"
    )


@pytest.mark.parametrize("term", [t for t in TERMS if t.glossary_only], ids=lambda t: t.english)
def test_a_glossary_only_term_is_used_by_no_chapter(term):
    users = [slug for slug, text in ALL_PROSE.items() if word_pattern(term.chinese).search(text)]
    assert users == [], f"{term.chinese!r} is now used by {users}: drop its glossary_only mark"
