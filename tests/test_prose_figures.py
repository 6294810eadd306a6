"""The prose is checked like the outputs: every figure a chapter states is printed by it or cited.

nbval keeps the stored outputs true to the code; this file keeps the markdown true to the outputs and to the
papers. It reads every chapter (``book/*/*.ipynb``), finds each *stated figure* in its markdown and requires
it to be either

* **printed**: a number of that notebook's stored outputs rounds to it, at the precision the prose writes it
  (``61M`` is matched by a printed ``61,100,840`` or ``61.1M``; ``16.9 times`` by ``16.93`` or
  ``(16.9x more)``), in outputs that nbval compares (a cell marked ``# NBVAL_IGNORE_OUTPUT`` proves
  nothing, so its outputs do not count); or
* **cited**: the paragraph it stands in (a blank-line block; each list item and each table row is a paragraph
  of its own) has a ``{cite}`` role or names its source: ``torchvision``, ``keras.io``,
  ``keras.applications``, ``TF-Slim``, ``Table N``, ``Figure N``/``Fig. N`` (``表 N``, ``图 N``).

Anything else fails, with the chapter, the cell, the sentence and the number.

**What a stated figure is** (the kinds of claim a reader checks against a paper or an output):

1. a number with thousands separators (``11,689,512``);
2. a decimal (``1.61``, ``0.7``);
3. a percentage (``96%``, ``37 %``);
4. a ratio: a number followed by ``×``, ``x``, ``times``, ``-fold`` or ``倍`` (``8.7×``, ``16.9 times``);
5. a count with a scale or a count word: ``M``, ``K``, ``G``, ``B``, ``million``, ``billion``,
   ``thousand``, ``万``, ``亿``, ``GMACs``, ``MACs``, ``GFLOPs``, ``FLOPs``, ``multiply-adds``, ``parameters``,
   ``weights``, ``参数`` (``61M``, ``15.5 GMACs``, ``6000 万``); in a range (``43–56M``, ``5M to 66M``) the
   unit written after the last number applies to every number of the range, and the trailing zeros of a
   scaled integer are not significant (``6100 万`` is 61M, to the nearest million);
6. a year (1990–2029) in a sentence about a result (``top-1``, ``top-5``, ``error``, ``accuracy``, ``won``,
   ``winner``, ``ILSVRC``, ``准确率``, ``错误率``, ``冠军``, ...).

Plain small integers (``64 filters``, ``22 layers``, ``k = 192``) are not figures: they are architecture
definitions that the shape printouts and the builders' tests check, and counting them would drown the real
claims.

**What is structure, not a figure** (skipped, each for a reason):

* code: inline ``code`` and fenced blocks other than MyST directives (an ``{admonition}``'s body is prose and
  is checked): code is run by nbval, not read;
* math, ``$...$`` and ``$$...$$``: a formula is a derivation whose result the prose or an output states; the
  stated result outside the formula is checked;
* sizes and shapes ``3×3``, ``224×224``, ``7×7×512``, ``32x4d``: a ``×`` between two numbers is a shape,
  not a ratio;
* references *to* things: numbers right after ``Table``, ``Figure``, ``Fig.``, ``Eq.``, ``section``,
  ``cell``, ``exercise``, ``arXiv:``, ``v`` (``v1.5``), ``表``, ``图``, ``第``; list markers (``1.``) and
  headings' numbers; link targets and citation keys;
* versions: ``Python 3.11``, ``Keras 3``, ``TensorFlow 2.16``.

The matching is exact at the prose's precision: a printed ``16.93`` supports ``16.9`` but not ``16.8``, so
a drifted sentence fails (``test_a_drifted_figure_fails`` proves it on a mutated copy of a chapter). A
printed number also supports the same digits at another power of 1,000 (a ``GMACs`` column's ``2.834``
supports ``28.34 亿`` and ``2.83 billion``), because tables print a column's unit once, in its header.
"""

import copy
import json
import math
import re
from collections import namedtuple
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
CHAPTERS = sorted(p for p in BOOK.glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)

Figure = namedtuple("Figure", ["text", "value", "decimals", "scale", "kind", "start", "end"])
Failure = namedtuple("Failure", ["chapter", "cell", "sentence", "number"])

# --- removing what is not prose -------------------------------------------------------------------------

_FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
_MATH_BLOCK = re.compile(r"\$\$.*?\$\$", re.S)
_MATH_INLINE = re.compile(r"(?<![\\$])\$(?!\$)[^$\n]+?\$")
_CODE_INLINE = re.compile(r"`[^`\n]*`")
_CITE = re.compile(r"\{cite(?::[a-z]+)?\}`[^`]*`")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_URL = re.compile(r"https?://\S+")


def _blank(match):
    """Replaces a match by spaces (newlines kept), so that positions and line structure survive."""
    return re.sub(r"[^\n]", " ", match.group(0))


def strip_non_prose(source):
    """The markdown with code, math, link targets and citation roles blanked out (same length, same lines)."""
    lines, out, fence = source.split("\n"), [], None
    for line in lines:
        match = _FENCE.match(line.strip())
        if fence is None and match:
            fence = (match.group(1), match.group(2).strip().startswith("{"))
            out.append(" " * len(line))
            continue
        if fence is not None and line.strip().startswith(fence[0]) and line.strip().strip(fence[0][0]) == "":
            fence = None
            out.append(" " * len(line))
            continue
        directive_option = fence is not None and fence[1] and line.startswith(":")
        out.append(line if (fence is None or fence[1]) and not directive_option else " " * len(line))
    text = "\n".join(out)
    for pattern in (_HTML_COMMENT, _MATH_BLOCK, _MATH_INLINE, _CITE, _CODE_INLINE, _LINK_TARGET, _URL):
        text = pattern.sub(_blank, text)
    return text


# --- finding the figures --------------------------------------------------------------------------------

_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
    r"(?=[^A-Za-z0-9_.]|\.(?!\d)|$|[KkMGBx](?![A-Za-z0-9_])|G?MACs?\b|G?FLOPs?\b)"
)
_SCALES = {
    "thousand": 1e3, "million": 1e6, "billion": 1e9, "K": 1e3, "k": 1e3, "M": 1e6, "G": 1e9, "B": 1e9,
    "万": 1e4, "百万": 1e6, "千万": 1e7, "亿": 1e8,
}  # fmt: skip
_UNIT = re.compile(
    r"\s?(?P<unit>%|％|×|x(?![\w])|times\b|-fold\b|倍|thousand\b|million\b|billion\b|百万|千万|万|亿"
    r"|[KkMGB](?=\b|[\s,.;:)]|GMAC|MAC|FLOP|$)|GMACs?\b|MACs?\b|GFLOPs?\b|FLOPs?\b|multiply-adds\b"
    r"|multiply-accumulates\b|parameters\b|params\b|weights\b|个?参数)"
)
_RANGE = re.compile(r"\s?(?:–|-|—|~|to|至|到)\s?(?=\d)")
_SHAPE_NEXT = re.compile(r"\s?[×x]\s?\d")
_SHAPE_PREV = re.compile(r"\d\s?[×x]\s?$")
_REFERENCE_PREV = re.compile(
    r"(?:\bTables?|\bFigures?|\bFigs?\.|\bEqs?\.|\bsections?|\bSections?|\bcells?|\bexercises?|\bExercises?"
    r"|arXiv:|\bv|\bPython|\bKeras|\bTensorFlow|\bPyTorch|\bJupyter Book|表|图|第|式|节)\s?$"
)
_RESULT_WORDS = re.compile(
    r"top-1|top-5|error|accuracy|\bwon\b|\bwins?\b|winner|ILSVRC|ImageNet challenge|state of the art"
    r"|准确率|错误率|误差|冠军|夺冠|精度",
    re.I,
)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？；])\s+|(?<=[。！？；])")
_LIST_OR_ROW = re.compile(r"^\s*(?:[*+-]\s|\d+[.)]\s|\|)")


def paragraphs(text):
    """Splits blanked markdown into paragraphs: blank-line blocks, where each list item, table row and heading
    starts a paragraph of its own. Yields (start, end) offsets into ``text``."""
    start, pos = None, 0
    for line in text.split("\n"):
        if not line.strip() or _LIST_OR_ROW.match(line) or line.lstrip().startswith("#"):
            if start is not None:
                yield start, pos - 1
            start = pos if line.strip() else None
        elif start is None:
            start = pos
        pos += len(line) + 1
    if start is not None:
        yield start, len(text)


def _unit_after(text, end):
    """The unit that follows the number ending at ``end``, looking through a range (``43–56M``)."""
    match = _UNIT.match(text, end)
    if match:
        return match.group("unit")
    rng = _RANGE.match(text, end)
    if rng:
        nxt = _NUMBER.match(text, rng.end())
        if nxt:
            return _unit_after(text, nxt.end())
    return None


def _kind(unit):
    if unit is None:
        return None
    if unit in ("%", "％"):
        return "percent"
    if unit in ("×", "x", "times", "-fold", "倍"):
        return "ratio"
    return "count"


def find_figures(text):
    """Every stated figure of a blanked paragraph, with its value in base units and its precision."""
    figures = []
    for match in _NUMBER.finditer(text):
        whole, frac = match.group(1), match.group(2)
        before, after = text[: match.start()], text[match.end() :]
        if _SHAPE_NEXT.match(after) or _SHAPE_PREV.search(before) or _REFERENCE_PREV.search(before):
            continue
        line_start = before.rfind("\n") + 1
        if re.fullmatch(r"\s*", before[line_start:]) and re.match(r"[.)]\s", after):  # a list marker
            continue
        unit = _unit_after(text, match.end())
        kind = _kind(unit)
        value = float(whole.replace(",", "") + ("." + frac if frac else ""))
        is_year = frac is None and "," not in whole and 1990 <= value <= 2029 and kind is None
        if is_year:
            sentence = sentence_at(text, match.start())
            if not _RESULT_WORDS.search(sentence):
                continue
            kind = "year"
        elif not ("," in whole or frac is not None or kind is not None):
            continue
        scale = 1.0
        if unit in _SCALES:
            scale = _SCALES[unit]
        elif unit is not None and unit.startswith(("GMAC", "GFLOP")):
            scale = 1e9
        decimals = len(frac or "")
        if scale != 1 and not frac:  # "6100 万", "120 亿": trailing zeros of a scaled count are not significant
            digits = whole.replace(",", "")
            decimals = -(len(digits) - len(digits.rstrip("0"))) if digits.strip("0") else 0
        figures.append(Figure(match.group(0), value, decimals, scale, kind or "plain",
                              match.start(), match.end()))  # fmt: skip
    return figures


def sentence_at(text, position):
    """The sentence of ``text`` around ``position``, on one line."""
    starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text) if m.end() <= position]
    start = starts[-1]
    end_match = _SENTENCE_END.search(text, position)
    end = end_match.start() if end_match else len(text)
    return " ".join(text[start:end].split())


# --- what the notebook prints ---------------------------------------------------------------------------

_PRINTED = re.compile(r"(?<![\w.])(-?\d{1,3}(?:,\d{3})+|-?\d+)(?:\.(\d+))?\s?([KMGB%]|x\b|×)?")


def printed_numbers(notebook):
    """Every number of the stored outputs that nbval compares, as a set of (value, kind): kind is
    ``percent`` (printed with ``%``), ``ratio`` (with ``x`` or ``×``), ``scaled`` (with ``K``, ``M``, ``G``,
    ``B``, the value in base units), ``int`` or ``decimal``."""
    values = set()
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code" or "".join(cell["source"]).lstrip().startswith("# NBVAL_IGNORE_OUTPUT"):
            continue
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
            for match in _PRINTED.finditer(text):
                whole, frac, unit = match.groups()
                value = abs(float(whole.replace(",", "") + ("." + frac if frac else "")))
                if unit == "%":
                    values.add((value, "percent"))
                elif unit in ("x", "×"):
                    values.add((value, "ratio"))
                elif unit in _SCALES:
                    values.add((value * _SCALES[unit], "scaled"))
                    values.add((value, "decimal" if frac else "int"))
                else:
                    values.add((value, "decimal" if frac else "int"))
    return values


# Which printed kinds can support which stated kinds. A percentage needs a printed percentage, a ratio a
# printed ratio or decimal, a year the very integer; an unscaled number is compared as printed.
_SUPPORTS = {
    "percent": {"percent"},
    "ratio": {"ratio", "decimal"},
    "year": {"int"},
    "count": {"int", "decimal", "scaled"},
    "plain": {"int", "decimal", "ratio", "percent", "scaled"},
}


def is_printed(figure, printed):
    """Whether a printed number of a compatible kind rounds to the figure at the precision the prose writes
    it. A scaled figure (``61M``, ``28.34 亿``, ``15.5 GMACs``) is compared in base units with printed
    counts, and with printed decimals at any power of 1,000 (a table prints a column's unit once, in its
    header: ``GMACs``, ``params (M)``)."""
    target = figure.value * figure.scale
    half = 0.5 * 10 ** -figure.decimals * figure.scale * (1 + 1e-9)
    kinds = _SUPPORTS[figure.kind]
    for value, kind in printed:
        if kind not in kinds:
            continue
        if figure.kind == "year":
            if value == figure.value:
                return True
            continue
        powers = (1e3, 1e6, 1e9) if figure.scale != 1 and kind == "decimal" else (1,)
        if any(abs(value * power - target) <= half for power in powers):
            return True
    return False


_SOURCE = re.compile(
    r"\{cite(?::[a-z]+)?\}`|torchvision|keras\.io|keras\.applications|TF-Slim|\bTables?\s+\d|\bFig(?:ure|s?\.)\s*\d"
    r"|表\s*\d|图\s*\d"
)


def check_notebook(path, notebook=None):
    """Returns (failures, figures) for one chapter; figures is a list of (figure text, "printed"/"cited")."""
    notebook = notebook if notebook is not None else json.loads(Path(path).read_text(encoding="utf-8"))
    printed = printed_numbers(notebook)
    chapter = f"{Path(path).parent.name}/{Path(path).name}"
    failures, checked = [], []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        text = strip_non_prose(source)
        for start, end in paragraphs(text):
            paragraph = text[start:end]
            cited = bool(_SOURCE.search(source[start:end]))
            for figure in find_figures(paragraph):
                if is_printed(figure, printed):
                    checked.append((figure.text, "printed"))
                elif cited:
                    checked.append((figure.text, "cited"))
                else:
                    failures.append(Failure(chapter, index, sentence_at(paragraph, figure.start), figure.text))
    return failures, checked


def describe(failures):
    return "\n".join(
        f"{f.chapter} cell {f.cell}: {f.number!r} is neither printed by the notebook nor cited in its "
        f"paragraph: {f.sentence}"
        for f in failures
    )


# --- the checks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_stated_figure_is_printed_or_cited(path):
    failures, _ = check_notebook(path)
    assert not failures, "\n" + describe(failures)


def _mutated(path, old, new):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    mutated = copy.deepcopy(notebook)
    hits = 0
    for cell in mutated["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            hits += source.count(old)
            cell["source"] = source.replace(old, new)
    assert hits, f"{old!r} is not in the markdown of {path}"
    return notebook, mutated


def test_a_drifted_figure_fails():
    # ResNet's bottleneck arithmetic: the chapter prints "(16.9x more)" and says "16.9 times fewer weights".
    path = BOOK / "en" / "resnet.ipynb"
    original, mutated = _mutated(path, "16.9 times", "16.8 times")
    assert not [f for f in check_notebook(path, original)[0] if f.number.startswith("16.")]
    failures = [f for f in check_notebook(path, mutated)[0] if f.number == "16.8"]
    assert failures, "changing 16.9 to 16.8 in the prose was not caught"
    assert all(f.chapter == "en/resnet.ipynb" and "16.8 times" in f.sentence for f in failures)
    assert "en/resnet.ipynb" in describe(failures) and "'16.8'" in describe(failures)


def test_a_drifted_figure_in_chinese_fails():
    path = BOOK / "zh" / "resnet.ipynb"
    text = "".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"])
    old = re.search(r"16\.9\s?倍", text).group(0)
    _, mutated = _mutated(path, old, old.replace("16.9", "16.8"))
    assert any(f.number == "16.8" for f in check_notebook(path, mutated)[0])


def test_a_changed_output_unprints_the_figure():
    # The other direction: the prose stays, the stored output changes (nbval would fail the cell too).
    path = BOOK / "en" / "resnet.ipynb"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = "".join(output["text"]).replace("16.9x", "17.2x")
    figures = [f for f in check_notebook(path, notebook)[0] if f.number == "16.9"]
    assert figures


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("It has 61M parameters, 96% of them dense.", ["61", "96"]),
        ("A 3×3 kernel on a 224×224 map, 7×7×512 at the end.", []),
        ("See Table 2 and section 4.2, ResNet v1.5, Python 3.11.", []),
        ("1. First item\n2. Second item", []),
        ("About 8.7× fewer, or 16.9 times; 43–56M parameters.", ["8.7", "16.9", "43", "56"]),
        ("It won ILSVRC 2014 with 6.67% top-5 error.", ["2014", "6.67"]),
        ("The paper appeared in 2014.", []),
        ("用 6000 万个参数，计算量 28.34 亿次，约 8.7 倍。", ["6000", "28.34", "8.7"]),
        ("The formula $k^2 C = 1.5$ is a derivation, `x = 2.5` is code.", []),
        ("64 filters, 22 layers, 1,000 classes.", ["1,000"]),
    ],
)
def test_what_counts_as_a_figure(sentence, expected):
    text = strip_non_prose(sentence)
    assert [f.text for f in find_figures(text)] == expected


def test_rounding_is_at_the_prose_precision():
    printed = {(16.93, "decimal"), (61_100_840.0, "int"), (2.834, "decimal"), (96.2, "percent")}
    fig = lambda s: find_figures(s)[0]  # noqa: E731
    assert is_printed(fig("16.9 times"), printed)
    assert not is_printed(fig("16.8 times"), printed)
    assert is_printed(fig("61M parameters"), printed)
    assert is_printed(fig("61.1M parameters"), printed)
    assert not is_printed(fig("61.2M parameters"), printed)
    assert is_printed(fig("28.34 亿次"), printed)
    assert is_printed(fig("2.83 GMACs"), printed)
    assert is_printed(fig("6100 万参数"), printed)  # trailing zeros of a scaled count are not significant
    assert not is_printed(fig("6200 万参数"), printed)
    assert is_printed(fig("96% of them"), printed)
    assert not is_printed(fig("16.93%"), printed)  # a percentage needs a printed percentage


_BIB_KEY = re.compile(r"^@\w+\{([^,\s]+),", re.M)
_CITED = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]*)`")


def cited_keys(language):
    keys = set()
    for path in sorted((BOOK / language).glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                for group in _CITED.findall("".join(cell["source"])):
                    keys.update(k.strip() for k in group.split(","))
    return keys


@pytest.mark.parametrize(("language", "prefix"), [("en", ""), ("zh", "zh-")])
def test_every_bibliography_entry_is_cited_and_every_citation_has_an_entry(language, prefix):
    # The bibliography pages list every entry (:all:), so an entry no chapter cites is a work the book names
    # nowhere, or names without citing it.
    entries = {prefix + key for key in _BIB_KEY.findall((ROOT / "references.bib").read_text(encoding="utf-8"))}
    cited = cited_keys(language)
    assert not cited - entries, f"cited in book/{language} but not in references.bib: {sorted(cited - entries)}"
    assert not entries - cited, f"in references.bib but cited by no chapter of book/{language}: {sorted(entries - cited)}"


def figure_counts():
    """Per chapter: (figures checked, printed, cited). Used for the closing note of issue 10."""
    counts = {}
    for path in CHAPTERS:
        _, checked = check_notebook(path)
        counts[f"{path.parent.name}/{path.stem}"] = (
            len(checked),
            sum(1 for _, how in checked if how == "printed"),
            sum(1 for _, how in checked if how == "cited"),
        )
    return counts


if __name__ == "__main__":  # python tests/test_prose_figures.py: the counts and every failure
    for name, (total, printed, cited) in figure_counts().items():
        print(f"{name:24} {total:4} figures: {printed:4} printed, {cited:4} cited")
    for path in CHAPTERS:
        failures, _ = check_notebook(path)
        if failures:
            print(describe(failures))
