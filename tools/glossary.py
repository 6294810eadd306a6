"""The glossary pages, made from one table: ``python -m tools.glossary`` rewrites ``book/en/glossary.md`` and
``book/zh/glossary.md`` from ``book/glossary.csv``.

The table is the book's single list of terms, one row a term (UTF-8, sorted by the English term):

* ``english``: the term as the English chapters write it;
* ``chinese``: the one word the Chinese chapters use for it (``tests/test_glossary.py`` holds them to it);
* ``other_renderings``: the other Chinese renderings readers meet, none of which this book uses, each with where
  it is met in brackets, ``批量归一化 [邱锡鹏]; 批标准化 [花书]`` (the keys of ``SOURCES``). The Chinese page lists
  them, so that the site's search finds the glossary by any of them and leads on to the chapter;
* ``meaning_en``, ``meaning_zh``: a short meaning in each language;
* ``chapters``: the slugs of the chapters that teach the term, space-separated (``resnet resnext``);
* ``glossary_only``: ``yes`` for a term no Chinese chapter uses yet (readers meet it elsewhere), else empty.

Usage: python -m tools.glossary [--check]   (--check: rewrite nothing, exit 1 if a page is out of date)
"""

import csv
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
DATA = BOOK / "glossary.csv"
PAGES = {"en": BOOK / "en" / "glossary.md", "zh": BOOK / "zh" / "glossary.md"}
COLUMNS = ["english", "chinese", "other_renderings", "meaning_en", "meaning_zh", "chapters", "glossary_only"]

# Where readers meet a rendering this book does not use: the key written in the table, and how the Chinese page
# names it.
SOURCES = {
    "d2l-zh": "《动手学深度学习》中文版（d2l-zh）",
    "邱锡鹏": "邱锡鹏《神经网络与深度学习》",
    "花书": "Goodfellow 等《深度学习》的中译本（“花书”）",
    "论文译文": "论文的中文译文",
    "常见": "中文文章、教程和代码注释中常见",
    "原文": "本书所依据的原文《CNN Architecture》",
    "本书旧稿": "本书早先的用词，现已统一",
}

_RENDERING = re.compile(r"^(?P<text>[^\[\]]+?) \[(?P<sources>[^\[\]]+)\]$")


@dataclass(frozen=True)
class Rendering:
    """A Chinese rendering of a term that this book does not use, and where readers meet it."""

    text: str
    sources: tuple


@dataclass(frozen=True)
class Term:
    english: str
    chinese: str
    others: tuple
    meaning_en: str
    meaning_zh: str
    chapters: tuple
    glossary_only: bool


def chapter_slugs():
    """The chapters both languages have (``book/en/<slug>.ipynb`` and ``book/zh/<slug>.ipynb``)."""
    return sorted({p.stem for p in (BOOK / "en").glob("*.ipynb")} & {p.stem for p in (BOOK / "zh").glob("*.ipynb")})


def _renderings(cell, where):
    renderings = []
    for item in filter(None, (part.strip() for part in cell.split(";"))):
        match = _RENDERING.match(item)
        if not match:
            raise ValueError(f"{where}: a rendering must read `word [source, ...]`. Received: {item!r}")
        sources = tuple(s.strip() for s in match["sources"].split(","))
        unknown = [s for s in sources if s not in SOURCES]
        if unknown:
            raise ValueError(f"{where}: unknown source {unknown[0]!r}; known: {', '.join(SOURCES)}")
        renderings.append(Rendering(match["text"], sources))
    return tuple(renderings)


def load(path=DATA):
    """The terms of the table, checked: every column filled in, known sources and chapters, no duplicates."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows, header = list(reader), reader.fieldnames
    if header != COLUMNS:
        raise ValueError(f"{path.name}: the columns must be {', '.join(COLUMNS)}. Received: {header}")
    slugs = set(chapter_slugs())
    terms = []
    for number, row in enumerate(rows, start=2):
        where = f"{path.name} line {number} ({row['english']})"
        for column in ("english", "chinese", "meaning_en", "meaning_zh", "chapters"):
            if not row[column].strip():
                raise ValueError(f"{where}: `{column}` is empty")
        if row["glossary_only"] not in ("", "yes"):
            raise ValueError(f"{where}: `glossary_only` must be empty or yes. Received: {row['glossary_only']!r}")
        chapters = tuple(row["chapters"].split())
        unknown = [c for c in chapters if c not in slugs]
        if unknown:
            raise ValueError(f"{where}: no chapter {unknown[0]!r} in both book/en and book/zh")
        others = _renderings(row["other_renderings"], where)
        if row["chinese"] in [r.text for r in others]:
            raise ValueError(f"{where}: {row['chinese']!r} is both the book's word and a rendering it does not use")
        terms.append(Term(row["english"], row["chinese"], others, row["meaning_en"], row["meaning_zh"], chapters,
                          row["glossary_only"] == "yes"))  # fmt: skip
    for key in ("english", "chinese"):
        seen = [getattr(t, key) for t in terms]
        duplicates = sorted({s for s in seen if seen.count(s) > 1})
        if duplicates:
            raise ValueError(f"{path.name}: {key} terms must be unique. Received twice: {', '.join(duplicates)}")
    english = [t.english for t in terms]
    if english != sorted(english, key=str.casefold):
        raise ValueError(f"{path.name}: the rows must be sorted by their English term")
    return terms


def chapter_title(language, slug):
    """A chapter's short title: its first heading, up to a colon (``DenseNet：密集连接网络`` -> ``DenseNet``)."""
    notebook = json.loads((BOOK / language / f"{slug}.ipynb").read_text(encoding="utf-8"))
    heading = "".join(notebook["cells"][0]["source"]).splitlines()[0]
    return re.split(r"[:：]", heading.lstrip("# "), maxsplit=1)[0].strip()


def _cell(text):
    return text.replace("|", r"\|")


def _links(term, language, separator):
    return separator.join(f"[{chapter_title(language, slug)}]({slug}.ipynb)" for slug in term.chapters)


GENERATED = "<!-- Generated from book/glossary.csv by `python -m tools.glossary`: edit the table, not this page. -->"


def render_en(terms):
    lines = [
        "# Glossary",
        "",
        "[中文版](../zh/glossary.md)",
        "",
        GENERATED,
        "",
        "The terms this book uses, with the Chinese words the Chinese part uses for them and the chapters that teach",
        "them. The Chinese page also lists the other Chinese renderings readers meet in textbooks and translations,",
        "which this book does not use.",
        "",
        "| English | 中文 | meaning | chapters |",
        "|---|---|---|---|",
    ]
    for t in terms:
        lines.append(f"| {_cell(t.english)} | {_cell(t.chinese)} | {_cell(t.meaning_en)} | {_links(t, 'en', ', ')} |")
    return "\n".join(lines) + "\n"


def render_zh(terms):
    legend = "；".join(f"{key}：{name}" for key, name in SOURCES.items())
    lines = [
        "# 术语表",
        "",
        "[English](../en/glossary.md)",
        "",
        GENERATED,
        "",
        "本书使用的术语及其英文对照，以及讲解它们的章节。“其他译法”一栏列出读者在其他中文教材、论文译文和文章中",
        "会遇到、而本书不采用的译法，括号中注明出处。",
        "",
        f"出处的简称——{legend}。",
        "",
        "| 中文 | English | 其他译法 | 含义 | 章节 |",
        "|---|---|---|---|---|",
    ]
    for t in terms:
        others = "、".join(f"{r.text}（{'、'.join(r.sources)}）" for r in t.others) or "—"
        cells = [_cell(t.chinese), _cell(t.english), _cell(others), _cell(t.meaning_zh), _links(t, "zh", "、")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def pages(terms=None):
    """What each glossary page must contain: {path: text}."""
    terms = load() if terms is None else terms
    return {PAGES["en"]: render_en(terms), PAGES["zh"]: render_zh(terms)}


def main(argv):
    check = "--check" in argv
    stale = []
    for path, text in pages().items():
        if path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not check:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if check and stale:
        print("out of date (run `python -m tools.glossary`): " + ", ".join(str(p.relative_to(ROOT)) for p in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
