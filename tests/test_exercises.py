"""Every architecture chapter ends with at least four exercises, each with a solution behind a toggle.

A solution is a dropdown admonition (sphinx-togglebutton, part of Jupyter Book 1) titled ``Solution`` / ``解答``
right after its exercise; one that computes something does it in the code cell that follows, tagged
``hide-cell`` (so the computation is toggled too) and checked by nbval like any other cell.
"""

import json
import re
import sys
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
# The chapters about an architecture (not the introduction, the training chapter or the overview).
NOT_ARCHITECTURES = {"intro", "learning", "overview", "backbones"}
CHAPTERS = sorted(p.stem for p in (BOOK / "en").glob("*.ipynb") if p.stem not in NOT_ARCHITECTURES)
HEADING = {"en": "## Exercises", "zh": "## 练习"}
SOLUTION = {"en": "Solution", "zh": "解答"}
ADMONITION = re.compile(r"^:::\{admonition\} (?P<title>[^\n]*)\n(?P<options>(?::[^\n]*\n)*)(?P<body>.*?)^:::[ \t]*$", re.M | re.S)
ITEM = re.compile(r"^(\d+)\. ", re.M)


def exercises_section(language, chapter):
    """The cells from the Exercises heading to the end: (markdown text before the heading cut off, cell) pairs."""
    cells = json.loads((BOOK / language / f"{chapter}.ipynb").read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and HEADING[language] in source:
            first = source[source.index(HEADING[language]) :]
            return [(first, cell)] + [("".join(c["source"]), c) for c in cells[index + 1 :]]
    raise AssertionError(f"{language}/{chapter} has no {HEADING[language]!r} section")


def parse(language, chapter):
    """Per exercise (by number): its solutions' admonition options and whether a code cell computes it."""
    exercises, current, previous_ended_with_solution = {}, None, False
    for text, cell in exercises_section(language, chapter):
        if cell["cell_type"] == "code":
            assert previous_ended_with_solution, f"{language}/{chapter}: a code cell that follows no solution"
            assert cell["metadata"].get("tags") == ["hide-cell"], f"{language}/{chapter}: solution cell not hide-cell"
            assert "NBVAL" not in "".join(cell["source"]), f"{language}/{chapter}: a solution escapes nbval"
            exercises[current]["computed"] = True
            previous_ended_with_solution = False
            continue
        # Numbered items outside the admonitions are exercises; a numbered list inside a solution is not.
        position = 0
        for match in ADMONITION.finditer(text):
            for item in ITEM.findall(text[position : match.start()]):
                current = int(item)
                exercises[current] = {"solutions": [], "computed": False}
            assert current is not None, f"{language}/{chapter}: an admonition before the first exercise"
            exercises[current]["solutions"].append((match["title"], match["options"]))
            position = match.end()
        for item in ITEM.findall(text[position:]):
            current = int(item)
            exercises[current] = {"solutions": [], "computed": False}
        previous_ended_with_solution = _ends_with_admonition(text)
    return exercises


def _ends_with_admonition(text):
    matches = list(ADMONITION.finditer(text))
    return bool(matches) and not text[matches[-1].end() :].strip()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_at_least_four_exercises_each_with_a_hidden_solution(chapter):
    counts = {}
    for language in ("en", "zh"):
        exercises = parse(language, chapter)
        numbers = sorted(exercises)
        assert numbers == list(range(1, len(numbers) + 1)), f"{language}/{chapter}: exercises numbered {numbers}"
        assert len(numbers) >= 4, f"{language}/{chapter}: only {len(numbers)} exercises"
        for number, exercise in exercises.items():
            assert len(exercise["solutions"]) == 1, f"{language}/{chapter}: exercise {number} has no single solution"
            title, options = exercise["solutions"][0]
            assert title == SOLUTION[language], f"{language}/{chapter}: exercise {number}'s solution is titled {title!r}"
            assert ":class: dropdown" in options, f"{language}/{chapter}: exercise {number}'s solution is not hidden"
        counts[language] = [(n, e["computed"]) for n, e in sorted(exercises.items())]
    # The twins have the same exercises, computed in the same places (the code cells are the same anyway).
    assert counts["en"] == counts["zh"]


def test_the_parser_finds_a_missing_solution(tmp_path, monkeypatch):
    text = HEADING["en"] + "\n\n1. A question.\n\n:::{admonition} Solution\n:class: dropdown\n\nIt is 4.\n:::\n\n2. Another.\n"
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": text}]}
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "planted.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "BOOK", tmp_path)
    exercises = parse("en", "planted")
    assert exercises[1]["solutions"] == [("Solution", ":class: dropdown\n")]
    assert exercises[2]["solutions"] == []
