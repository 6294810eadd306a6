"""``python -m cnn_notes.new_chapter``: scaffolds twin chapters that pass the book's consistency tests, refuses a
bad or taken slug with exit status 2, and never overwrites a file.

Everything runs in copies of the repository (the files git knows, without .venv or _build). Only the first test
executes notebooks (about 15 s); the others are cheap, so that they can land on any xdist worker.
"""

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

import cnn_notes
from cnn_notes import new_chapter

ROOT = Path(__file__).resolve().parent.parent
SLUG = "toynet"  # a name no chapter will plausibly take (a real architecture's name may become a chapter)
TITLE = {"en": "ToyNet", "zh": "玩具网络"}
NEW_FILES = {f"book/en/{SLUG}.ipynb", f"book/zh/{SLUG}.ipynb", f"cnn_notes/models/{SLUG}.py", f"tests/test_{SLUG}.py"}


def copy_repository(destination):
    """Copies the tracked and the untracked-but-not-ignored files; without git, everything but the usual
    generated folders."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout.decode()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        ignore = shutil.ignore_patterns(".git", ".venv", "_build", "*.egg-info", "__pycache__", ".*_cache")
        shutil.copytree(ROOT, destination, ignore=ignore, dirs_exist_ok=True)
        return destination
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # not a file deleted from the working tree
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def snapshot(root):
    """Each file's digest, by path relative to ``root``."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".pytest_cache" not in p.parts
    }


def run(root, *args):
    """Runs this interpreter in ``root`` as ``make`` would: the copy's package first, no TensorFlow noise."""
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]),
    }
    # The outer run's options (say -q, which cancels the -v whose lines are read below) are not the copy's.
    env.pop("PYTEST_ADDOPTS", None)
    command = [sys.executable, *args]
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)


def refuse(root, *argv):
    """Runs new_chapter in this process (no second TensorFlow start-up) and expects a refusal."""
    with pytest.raises(SystemExit) as info:
        new_chapter.main([*argv, "--en", "Title", "--zh", "标题", "--root", str(root)])
    assert info.value.code == 2  # what `python -m cnn_notes.new_chapter` exits with: parser.exit(2, ...)


def lines_added(old_path, new_path):
    old = old_path.read_text(encoding="utf-8").splitlines()
    new = new_path.read_text(encoding="utf-8").splitlines()
    added = [line for line in new if line not in old]
    assert [line for line in new if line not in added] == old, "lines other than the added ones changed"
    return new, added


def test_scaffolds_a_chapter_that_passes_the_book_tests(tmp_path, capsys, monkeypatch):
    root = copy_repository(tmp_path)
    before = snapshot(root)
    # main() is what `python -m cnn_notes.new_chapter` runs; here it runs in this process, which has imported
    # TensorFlow already (5 s). The kernels that execute the chapters import the copy's package, and the
    # environment main() sets up for them (new_chapter.kernel_environment) is undone after the test.
    for variable in ("PATH", "IPYTHONDIR", "PYTHONHASHSEED", "TF_CPP_MIN_LOG_LEVEL"):
        if variable in os.environ:
            monkeypatch.setenv(variable, os.environ[variable])
        else:
            monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PYTHONPATH", str(root))
    new_chapter.main([SLUG, "--en", TITLE["en"], "--zh", TITLE["zh"], "--root", str(root)])
    printed = capsys.readouterr().out
    assert "Next steps" in printed and "make notebooks" in printed and "make test" in printed
    assert f"make check-chapter SLUG={SLUG}" in printed and "book/en/intro.ipynb" in printed

    after = snapshot(root)
    assert set(after) - set(before) == NEW_FILES
    assert {name for name in before if before[name] != after[name]} == {"_toc.yml", "book/index.md"}
    toc, added = lines_added(ROOT / "_toc.yml", root / "_toc.yml")
    assert added == [f"      - file: book/en/{SLUG}", f"      - file: book/zh/{SLUG}"]
    for language, line in zip(("en", "zh"), added):
        assert toc[toc.index(line) + 1] == f"      - file: book/{language}/overview"
    index, added = lines_added(ROOT / "book" / "index.md", root / "book" / "index.md")
    assert added == [f"| [ToyNet](en/{SLUG}.ipynb) | [玩具网络](zh/{SLUG}.ipynb) |"]
    assert index[index.index(added[0]) + 1].startswith("| [Overview](en/overview.ipynb)")

    book = run(root, "-m", "pytest", "-v", "-p", "no:cacheprovider", "tests/test_book.py")
    assert book.returncode == 0, book.stdout[-3000:] + book.stderr[-2000:]
    for test in (f"test_twins_have_identical_code_but_for_the_language_and_link_each_other[{SLUG}]",
                 f"test_stored_outputs_are_clean[en/{SLUG}]", f"test_stored_outputs_are_clean[zh/{SLUG}]",
                 *(f"test_the_first_code_cell_is_the_colab_cell_and_the_language_is_set_where_cnn_notes_is_imported"
                   f"[{language}/{SLUG}]" for language in ("en", "zh"))):  # fmt: skip
        assert f"{test} PASSED" in book.stdout

    # A second run refuses, and changes nothing.
    refuse(root, SLUG)
    message = capsys.readouterr().err
    assert f"'{SLUG}' is taken" in message and f"book/en/{SLUG}.ipynb" in message
    assert snapshot(root) == after


def test_chapters_have_the_standard_sections_and_the_same_code():
    english, chinese = (new_chapter.chapter_notebook(SLUG, TITLE, language) for language in ("en", "zh"))
    for notebook in (english, chinese):
        assert [cell["id"] for cell in notebook["cells"]] == [f"{SLUG}-{i:02d}" for i in range(len(notebook["cells"]))]
    code = [[c["source"] for c in nb["cells"] if c["cell_type"] == "code"] for nb in (english, chinese)]
    # The Colab cell, then the first import, in which only the language differs.
    assert code[0] == [new_chapter.COLAB_CELL, 'import cnn_notes\n\ncnn_notes.set_language("en")']
    assert code[1] == [new_chapter.COLAB_CELL, 'import cnn_notes\n\ncnn_notes.set_language("zh")']
    en, zh = (
        "\n\n".join(c["source"] for c in nb["cells"] if c["cell_type"] == "markdown") for nb in (english, chinese)
    )
    assert en.startswith(f"# ToyNet\n\n[中文版](../zh/{SLUG}.ipynb)")
    assert zh.startswith(f"# 玩具网络\n\n[English](../en/{SLUG}.ipynb)")
    headings = ["The key block", "The math", "The post's code", "Which ToyNet?", "Stage by stage", "Summary",
                "Exercises"]  # fmt: skip
    assert [line[3:] for line in en.splitlines() if line.startswith("## ")] == headings
    assert [line[3:] for line in zh.splitlines() if line.startswith("## ")] == [
        "核心模块", "数学推导", "原文代码", "哪一个 玩具网络？", "逐阶段查看", "小结", "练习",
    ]  # fmt: skip
    assert en.count("TODO") == zh.count("TODO") == len(headings) + 1
    assert "{cite}`key`" in en and "{cite}`zh-key`" in zh and "plot_block" in en and "plot_block" in zh
    for notebook in (english, chinese):
        nbformat.validate(nbformat.from_dict(notebook))


def test_sections_name_the_architecture_by_the_short_form_of_its_title():
    # "Which SENet?", not "Which SENet: squeeze-and-excitation?"; the first heading keeps the whole title.
    title = {"en": "SENet: squeeze-and-excitation", "zh": "SENet：压缩激励"}
    for language, which in (("en", "## Which SENet?"), ("zh", "## 哪一个 SENet？")):
        cells = new_chapter.chapter_cells("senet", title, language)
        markdown = "\n".join(c["source"] for c in cells if c["cell_type"] == "markdown")
        assert markdown.startswith(f"# {title[language]}\n") and which in markdown.splitlines()
        assert 'title="SENet: ..."' in markdown and "squeeze-and-excitation:" not in markdown
    assert new_chapter.short_name("MobileNet v1, v2, v3") == "MobileNet v1, v2, v3"


def load(path):
    spec = importlib.util.spec_from_file_location(f"scaffolded_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_builder_skeleton_imports_and_registers_nothing(tmp_path):
    path = tmp_path / f"{SLUG}.py"
    path.write_text(new_chapter.MODULE_TEMPLATE.format(slug=SLUG, name=TITLE["en"]), encoding="utf-8")
    registered = cnn_notes.list_models()
    module = load(path)
    assert cnn_notes.list_models() == registered
    assert module.VARIANTS == {}
    assert "TODO" in module.__doc__ and "@register_model" in module.__doc__ and "parse_common_args" in module.__doc__


def test_test_skeleton_fails_until_the_model_is_registered(tmp_path):
    path = tmp_path / f"test_{SLUG}.py"
    path.write_text(new_chapter.TEST_TEMPLATE.format(slug=SLUG, name=TITLE["en"]), encoding="utf-8")
    module = load(path)
    with pytest.raises(AssertionError, match=f"cnn_notes/models/{SLUG}.py registers no model: fill it in"):
        getattr(module, f"test_{SLUG}_is_registered")()
    assert "KERAS_APPLICATIONS" in module.__doc__ and "tests/test_models.py" in module.__doc__


@pytest.fixture(scope="module")
def repository(tmp_path_factory):
    """A copy of the repository; tests that use it must leave it as they found it."""
    return copy_repository(tmp_path_factory.mktemp("repository"))


@pytest.mark.parametrize("slug", ["MobileNet", "mobile-net", "2net", "_mobilenet", "class", "mobilenet v2", ""])
def test_refuses_a_bad_slug(repository, capsys, slug):
    before = snapshot(repository)
    refuse(repository, slug)
    message = capsys.readouterr().err
    assert message.startswith("python -m cnn_notes.new_chapter: error: The slug must be a lowercase Python identifier")
    assert f"Received: slug={slug!r}" in message
    assert snapshot(repository) == before


@pytest.mark.parametrize("slug", ["vgg", "arguments", "analysis", "models", "glossary", "intro", "summary", "vgg16"])
def test_refuses_a_taken_slug_and_writes_nothing(repository, capsys, slug):
    before = snapshot(repository)
    refuse(repository, slug)
    assert f"{slug!r} is taken" in capsys.readouterr().err
    assert snapshot(repository) == before


def test_one_existing_file_is_enough_to_refuse(repository, capsys):
    mine = repository / "tests" / "test_squeezenet.py"
    mine.write_text("# the contributor's own work\n", encoding="utf-8")
    try:
        before = snapshot(repository)
        refuse(repository, "squeezenet")
        assert "tests/test_squeezenet.py already exist" in capsys.readouterr().err
        assert snapshot(repository) == before
    finally:
        mine.unlink()


def test_refuses_a_slug_listed_in_the_toc(tmp_path, capsys):
    (tmp_path / "_toc.yml").write_text("root: book/index\nparts:\n  - chapters:\n      - file: book/en/toynet\n")
    refuse(tmp_path, "toynet")
    assert "_toc.yml lists book/en/toynet" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_toc.yml"]


def test_a_failed_execution_leaves_nothing_behind(repository, monkeypatch):
    before = snapshot(repository)

    def broken(path):
        raise RuntimeError("the kernel died")

    monkeypatch.setattr(new_chapter, "load_executor", lambda root: broken)
    monkeypatch.setattr(new_chapter, "kernel_environment", lambda: None)
    with pytest.raises(RuntimeError, match="the kernel died"):
        new_chapter.main(["squeezenet", "--en", "SqueezeNet", "--zh", "SqueezeNet", "--root", str(repository)])
    assert snapshot(repository) == before


def test_after_places_both_chapters_and_the_landing_row_after_that_chapter(repository, monkeypatch, capsys):
    # The whole command, but with the kernels replaced by a no-op (the first test executes the chapters).
    before = snapshot(repository)
    monkeypatch.setattr(new_chapter, "load_executor", lambda root: lambda path: None)
    monkeypatch.setattr(new_chapter, "kernel_environment", lambda: None)
    toc_path, index_path = repository / "_toc.yml", repository / "book" / "index.md"
    originals = {path: path.read_bytes() for path in (toc_path, index_path)}
    try:
        new_chapter.main([SLUG, "--en", TITLE["en"], "--zh", TITLE["zh"], "--after", "alexnet", "--root", str(repository)])
        assert "added both chapters, after alexnet, to" in capsys.readouterr().out
        toc, added = lines_added(ROOT / "_toc.yml", toc_path)
        assert added == [f"      - file: book/en/{SLUG}", f"      - file: book/zh/{SLUG}"]
        for language, line in zip(("en", "zh"), added):
            assert toc[toc.index(line) - 1] == f"      - file: book/{language}/alexnet"
            assert toc[toc.index(line) + 1] == f"      - file: book/{language}/vgg"
        index, added = lines_added(ROOT / "book" / "index.md", index_path)
        assert added == [f"| [ToyNet](en/{SLUG}.ipynb) | [玩具网络](zh/{SLUG}.ipynb) |"]
        assert index[index.index(added[0]) - 1].startswith("| [AlexNet](en/alexnet.ipynb)")
        # The two editions keep the same chapters in the same order (tools/build_book.py builds one per part).
        parts = yaml.safe_load(toc_path.read_text(encoding="utf-8"))["parts"]
        en, zh = ([Path(c["file"]).name for c in part["chapters"]] for part in parts)
        assert en == zh and en[en.index("alexnet") + 1] == SLUG
    finally:
        for path in new_chapter.planned_files(repository, SLUG).values():
            path.unlink(missing_ok=True)
        for path, data in originals.items():
            path.write_bytes(data)
    assert snapshot(repository) == before


@pytest.mark.parametrize("after", ["alexnett", "glossary_x", "book/en/alexnet", "Alexnet", ""])
def test_refuses_an_unknown_after_and_writes_nothing(repository, capsys, after):
    before = snapshot(repository)
    with pytest.raises(SystemExit) as info:
        new_chapter.main([SLUG, "--en", "T", "--zh", "T", "--after", after, "--root", str(repository)])
    assert info.value.code == 2
    message = capsys.readouterr().err
    assert "--after" in message and f"Received: after={after!r}" in message
    assert snapshot(repository) == before


def test_after_keeps_an_entry_with_sections_whole():
    toc = (
        "parts:\n  - caption: English\n    chapters:\n      - file: book/en/a\n        sections:\n"
        "          - file: book/en/a1\n      - file: book/en/b\n  - caption: 中文\n    chapters:\n"
        "      - file: book/zh/a\n        sections:\n          - file: book/zh/a1\n"
    )
    text = new_chapter.add_to_toc(toc, "toynet", after="a")
    chapters = [[c["file"] for c in part["chapters"]] for part in yaml.safe_load(text)["parts"]]
    assert chapters == [["book/en/a", "book/en/toynet", "book/en/b"], ["book/zh/a", "book/zh/toynet"]]
    with pytest.raises(new_chapter.Refusal, match="overview"):
        new_chapter.add_to_toc(toc, "toynet")
    with pytest.raises(new_chapter.Refusal, match="one of: a"):
        new_chapter.add_to_toc(toc, "toynet", after="b")  # only in the English part


def test_check_chapter_selects_every_model_of_the_family():
    from tools.chapter_tests import expression

    from _pytest.mark.expression import Expression

    def selects(slug, keywords):
        # pytest's -k: a term matches if it is a substring of any of a test's keywords (its name with the
        # parameter ids, its module's file name, ...), ignoring case.
        return Expression.compile(expression(slug)).evaluate(lambda term: any(term.lower() in k.lower() for k in keywords))

    # lenet.py registers lenet5 and nin: -k lenet alone would skip nin's generic tests, -k nin would run the
    # learning chapter's; -k senet would run DenseNet's.
    assert selects("lenet", ["test_params_match_the_reference[nin]", "test_models.py"])
    assert selects("lenet", ["test_mirrors_keras[lenet5-LeNet]"]) and selects("lenet", ["test_lenet.py", "test_c3"])
    assert not selects("lenet", ["test_learning_curve_is_plotted", "test_training.py"])
    assert not selects("senet", ["test_params_match_the_reference[densenet121]", "test_densenet.py"])
    assert expression("toynet") == "test_toynet.py"


def test_make_check_chapter_runs_what_a_new_chapter_can_break():
    # Not run here (nbval and the book build take minutes): the target exists and names each stage.
    dry = subprocess.run(["make", "-n", "check-chapter", "SLUG=toynet"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    commands = dry.stdout
    assert 'tools/chapter_tests.py toynet)" tests' in commands  # the -k expression of its models
    for path in ("tests/test_book.py", "tests/test_prose_figures.py", "tests/test_glossary.py",
                 "tests/test_exercises.py", "tests/test_editions.py"):  # fmt: skip
        assert path in commands
    assert "--nbval" in commands
    for notebook in ("book/en/toynet.ipynb", "book/zh/toynet.ipynb", "book/en/intro.ipynb", "book/zh/intro.ipynb"):
        assert notebook in commands
    assert "tools/build_book.py" in commands
    # test_every_model_appears_in_a_chapter, which -k toynet would skip, is in one of those files.
    assert "def test_every_model_appears_in_a_chapter" in (ROOT / "tests" / "test_book.py").read_text(encoding="utf-8")
