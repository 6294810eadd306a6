"""The book's consistency: the table of contents, the twin chapters, and clean stored outputs."""

import json
import re
from pathlib import Path

import pytest
import yaml

import cnn_notes
from cnn_notes.new_chapter import COLAB_CELL, COLAB_TAGS, LANGUAGE_CALL

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC_REPOSITORY = CONFIG["repository"]["url"]

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
ABSOLUTE_PATH = re.compile(r"(/root/|/home/[^/\s]+/|/tmp/|/Users/|[A-Z]:\\\\|/work/)")


def toc_files():
    files = [TOC["root"]]
    for part in TOC["parts"]:
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def part_files(caption):
    [part] = [p for p in TOC["parts"] if p["caption"] == caption]
    return [chapter["file"] for chapter in part["chapters"]]


def resolve(entry):
    matches = [ROOT / f"{entry}{suffix}" for suffix in (".ipynb", ".md") if (ROOT / f"{entry}{suffix}").exists()]
    assert matches, f"{entry} in _toc.yml has no .ipynb or .md file"
    return matches[0]


NOTEBOOKS = sorted(p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
EN_NOTEBOOKS = sorted((BOOK / "en").glob("*.ipynb"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(path):
    return ["".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "code"]


def markdown(path):
    return "\n".join("".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "markdown")


def test_every_toc_entry_exists():
    for entry in toc_files():
        resolve(entry)


def test_every_notebook_is_in_the_toc():
    listed = {resolve(entry) for entry in toc_files()}
    assert [str(p.relative_to(ROOT)) for p in NOTEBOOKS if p not in listed] == []


def test_both_parts_list_the_same_chapters_in_the_same_order():
    english = [Path(f).name for f in part_files("English")]
    chinese = [Path(f).name for f in part_files("中文")]
    assert english == chinese
    assert all(f.startswith("book/en/") for f in part_files("English"))
    assert all(f.startswith("book/zh/") for f in part_files("中文"))


def code_tags(path):
    return [c["metadata"].get("tags", []) for c in load(path)["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("english", EN_NOTEBOOKS, ids=lambda p: p.stem)
def test_twins_have_identical_code_but_for_the_language_and_link_each_other(english):
    chinese = BOOK / "zh" / english.name
    assert chinese.exists(), f"{english.name} has no Chinese twin"
    en, zh = code_cells(english), code_cells(chinese)
    # The one sanctioned difference: the language of cnn_notes' tables and plots, set once, in the same cell.
    calls = {language: [i for i, c in enumerate(cells) if "set_language" in c] for language, cells in (("en", en), ("zh", zh))}
    assert len(calls["en"]) == 1 and calls["en"] == calls["zh"], calls
    for language, cells in (("en", en), ("zh", zh)):
        call = LANGUAGE_CALL.format(language=language)
        assert cells[calls["en"][0]].count(call) == 1, f"{language}/{english.name} must call {call} once"
    assert [c.replace(LANGUAGE_CALL.format(language="zh"), LANGUAGE_CALL.format(language="en")) for c in zh] == en
    assert code_tags(english) == code_tags(chinese)
    assert f"../zh/{english.name}" in markdown(english), "the English chapter must link its Chinese twin"
    assert f"../en/{english.name}" in markdown(chinese), "the Chinese chapter must link its English twin"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_first_code_cell_is_the_colab_cell_and_the_language_is_set_where_cnn_notes_is_imported(notebook):
    cells, tags = code_cells(notebook), code_tags(notebook)
    assert cells[0] == COLAB_CELL and tags[0] == COLAB_TAGS, f"{notebook.name}: the first code cell is not COLAB_CELL"
    first_import = next(i for i, c in enumerate(cells) if re.search(r"^\s*(import cnn_notes|from cnn_notes)", c, re.M))
    call = LANGUAGE_CALL.format(language=notebook.parent.name)
    assert call in cells[first_import], f"{notebook.name}: {call} is not in the cell that first imports cnn_notes"


def _run_colab_cell(monkeypatch, tmp_path, in_colab):
    """Runs COLAB_CELL in a fresh namespace, with `google.colab` imported or not; returns the commands it ran."""
    import subprocess
    import sys
    import types

    commands = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: commands.append(command))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(COLAB_CELL, "colab-cell", "exec"), {})
    return commands, sys.path


def test_the_colab_cell_does_nothing_outside_colab(monkeypatch, tmp_path, capsys):
    path_before = list(__import__("sys").path)
    commands, path = _run_colab_cell(monkeypatch, tmp_path, in_colab=False)
    assert commands == [] and path == path_before
    assert capsys.readouterr() == ("", "")


def test_the_colab_cell_fetches_the_book_and_its_font_in_colab(monkeypatch, tmp_path):
    commands, path = _run_colab_cell(monkeypatch, tmp_path, in_colab=True)
    assert commands[0][:2] == ["git", "clone"] and commands[0][-1] == TOC_REPOSITORY
    # The pinned font package, the same version as requirements.txt's.
    pin = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("mplfonts=="))
    assert commands[1][-1] == pin
    assert path[0] == "cnn-notes"  # the clone's folder, where `import cnn_notes` finds the package
    # Run again in the same session (another chapter): the clone is there; nothing is fetched twice.
    (tmp_path / "cnn-notes").mkdir()
    commands, path = _run_colab_cell(monkeypatch, tmp_path, in_colab=True)
    assert commands == [] and path[0] == "cnn-notes"


def test_chinese_chapters_have_an_english_twin():
    assert sorted(p.name for p in (BOOK / "zh").glob("*.ipynb")) == [p.name for p in EN_NOTEBOOKS]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_chapter_imports_cnn_notes(notebook):
    assert any(re.search(r"^\s*(import cnn_notes|from cnn_notes)", c, re.M) for c in code_cells(notebook))


def test_every_model_appears_in_a_chapter():
    text = "\n".join("\n".join(code_cells(p)) for p in EN_NOTEBOOKS)
    missing = [name for name in cnn_notes.list_models() if f'"{name}"' not in text]
    assert missing == []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_stored_outputs_are_clean(notebook):
    for index, cell in enumerate(load(notebook)["cells"]):
        if cell["cell_type"] != "code":
            continue
        where = f"{notebook.name} cell {index}"
        assert cell["execution_count"] is not None, f"{where} was never executed"
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"{where} stores an error"
            assert output.get("name") != "stderr", f"{where} stores stderr: {output.get('text')}"
            texts = [output.get("text", "")] + [v for k, v in output.get("data", {}).items() if k.startswith("text/")]
            blob = "".join("".join(t) if isinstance(t, list) else str(t) for t in texts)
            assert not ANSI.search(blob), f"{where} has ANSI codes"
            assert not ABSOLUTE_PATH.search(blob), f"{where} shows an absolute path"
            assert "Traceback" not in blob, f"{where} shows a traceback"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_only_checked_cells_escape_nbval(notebook):
    # A cell whose output nbval ignores (a timing, measured on the reader's machine) must check what has to
    # hold anywhere with an assert; nothing else may be ignored or sanitised away.
    for source in code_cells(notebook):
        if "NBVAL" in source:
            assert source.startswith("# NBVAL_IGNORE_OUTPUT\n"), source
            assert re.search(r"^assert ", source, re.MULTILINE), source
