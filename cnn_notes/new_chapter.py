"""Scaffolds a new architecture: the twin chapters, a builder module and its test, ready to be filled in.

Usage, from the repository root::

    python -m cnn_notes.new_chapter toynet --en "ToyNet" --zh "ToyNet" [--after alexnet]

It writes

* ``book/en/<slug>.ipynb`` and ``book/zh/<slug>.ipynb``: the standard chapter sections with what to write in
  each (TODO), the twin links and identical code cells, executed so that their stored outputs exist;
* ``cnn_notes/models/<slug>.py``: a builder skeleton in the package's style that imports cleanly and registers nothing;
* ``tests/test_<slug>.py``: a test that fails until the model is registered (a chapter without its model is
  unfinished), with the list of checks the generic tests then make;

and adds both chapters to ``_toc.yml``, in each of its two parts (the English and the Chinese edition), and to
the table of chapters on the landing page, ``book/index.md``, in the same place: right after the chapter
``--after`` names (e.g. ``--after xception``, the chapter's slug), or by default before ``overview``.

It refuses a slug that is not a lowercase Python identifier, or one that is taken (a chapter, module, test or
table-of-contents entry of that name, or a name of the package such as ``summary`` or ``vgg16``), and an
``--after`` that is not a chapter of both parts, with exit status 2, and never overwrites a file. CONTRIBUTING.md walks
through the rest.
"""

import argparse
import importlib.util
import json
import keyword
import os
import re
import sys
from collections import namedtuple
from pathlib import Path

import yaml

import cnn_notes
from cnn_notes.models.registry import reserved_names

LANGUAGES = ("en", "zh")
TWIN_LINK = {"en": "[中文版](../zh/{slug}.ipynb)", "zh": "[English](../en/{slug}.ipynb)"}
# Every chapter's first code cell, the same in both languages: Colab has neither cnn_notes nor the book's stored
# results, so there it clones the book, puts its package on the path and installs the one requirement Colab
# lacks (the CJK font of the Chinese figures); anywhere else it does nothing and prints nothing. The book's pages
# do not show it (tag remove-cell); README.md documents it.
COLAB_CELL = """\
# Colab only: fetch the book and its package (this cell does nothing anywhere else).
import os
import sys

if "google.colab" in sys.modules and not os.path.isdir("cnn-notes"):
    import subprocess

    subprocess.run(["git", "clone", "--quiet", "--depth=1", "https://github.com/cnn-notes/cnn-notes"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "mplfonts==0.0.11"], check=True)
if "google.colab" in sys.modules:
    sys.path.insert(0, "cnn-notes")"""
COLAB_TAGS = ["remove-cell"]
# The one line in which the twins' code differs: the language of cnn_notes' tables and plots, set in the cell
# that first imports cnn_notes (tests/test_book.py allows exactly this difference).
LANGUAGE_CALL = 'cnn_notes.set_language("{language}")'

SLUG = re.compile(r"[a-z][a-z0-9_]*")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

# The chapter template, one section a row: the heading and what to write, in each language, and the code cell
# that follows the section, if any; the code is the same in both languages by construction. The first section
# has the chapter's title as its heading. ``{slug}`` and ``{name}`` are filled in: ``{name}`` is the title's short
# form (``short_name``), so that "Which SENet?" does not read "Which SENet: squeeze-and-excitation?".
Section = namedtuple("Section", ["en_heading", "en", "zh_heading", "zh", "code"], defaults=(None,))

SECTIONS = (
    Section(
        en_heading=None,
        en=(
            "*TODO: the idea and its history.* Who proposed {name}, when and where, and which problem it "
            "answered; what the post says about it, quoted where useful. Cite every paper with "
            "`` {{cite}}`key` `` and add missing entries to `references.bib`. End with a sentence that says what "
            "the next cell shows."
        ),
        zh_heading=None,
        zh=(
            "*TODO：思想与历史。* {name} 由谁、在何时何地提出，解决了什么问题；原文对它的评价"
            "（必要时引用原话）。每篇论文都用 `` {{cite}}`zh-key` `` 引用（中文章节的键加 `zh-` 前缀），"
            "缺少的条目补进 `references.bib`。最后用一句话说明下一个代码单元展示什么。"
        ),
        code="import cnn_notes\n\n" + LANGUAGE_CALL,
    ),
    Section(
        en_heading="The key block",
        en=(
            "*TODO: the block that defines the architecture, and its figure.* Describe the block in prose first, "
            'then build the model (`model = cnn_notes.build("{slug}")`) and draw the block from the model itself '
            'with `cnn_notes.plot_block(model, "first_layer", "last_layer", title="{name}: ...")`. Figures are '
            "never image files: they are drawn from the built model, so they cannot disagree with the code."
        ),
        zh_heading="核心模块",
        zh=(
            "*TODO：定义这一架构的模块及其示意图。* 先用文字描述模块，再构建模型"
            '（`model = cnn_notes.build("{slug}")`），并用 '
            '`cnn_notes.plot_block(model, "first_layer", "last_layer", title="{name}: ...")` '
            "直接从模型画出模块。示意图从不使用图片文件：它们由构建好的模型画出，因此不会与代码不一致。"
        ),
    ),
    Section(
        en_heading="The math",
        en=(
            "*TODO: the formula behind the block* (parameters, multiply-accumulates, receptive field or output "
            "size), in `$...$` and `$$...$$`, worked out for one concrete layer; then a short code cell that reads "
            "the same number from the built model (`layer.count_params()`, `cnn_notes.count_macs(model)`)."
        ),
        zh_heading="数学推导",
        zh=(
            "*TODO：模块背后的公式*（参数量、乘加次数、感受野或输出尺寸），用 `$...$` 和 `$$...$$` 书写，"
            "并以某一具体层为例算出结果；然后用一个简短的代码单元从构建好的模型读出同一个数"
            "（`layer.count_params()`、`cnn_notes.count_macs(model)`）。"
        ),
    ),
    Section(
        en_heading="The post's code",
        en=(
            "*TODO, if the post shows code for this architecture:* quote it, abridged, in a `python` code block; "
            "build the corrected model with `cnn_notes`; list every error in an admonition titled *Errata* with "
            "`:class: warning` (see the VGG chapter). The builder's docstring lists the same errata. Delete this "
            "section if the post has no code."
        ),
        zh_heading="原文代码",
        zh=(
            "*TODO（如果原文给出了这一架构的代码）：* 在 `python` 代码块中节选引用；用 `cnn_notes` "
            "构建修正后的模型；在标题为 *勘误*、带 `:class: warning` 的提示框中列出每一处错误（参见 VGG 一章）。"
            "构建函数的文档字符串列出同样的勘误。如果原文没有代码，删除本节。"
        ),
    ),
    Section(
        en_heading="Which {name}?",
        en=(
            "*TODO: the canonical models.* The paper's variants and the versions the libraries ship, and how they "
            'differ; then `cnn_notes.reference_table(["{slug}", ...])`, which builds each model and checks it '
            "against its reference numbers in `cnn_notes/references.py` (keras.applications, torchvision, the "
            "paper)."
        ),
        zh_heading="哪一个 {name}？",
        zh=(
            "*TODO：标准模型。* 论文中的各个变体、各个库所采用的版本以及它们的差别；然后用 "
            '`cnn_notes.reference_table(["{slug}", ...])` 构建每个模型，并与 `cnn_notes/references.py` '
            "中的参考数字（keras.applications、torchvision、论文）逐一核对。"
        ),
    ),
    Section(
        en_heading="Stage by stage",
        en=(
            "*TODO: the shape walk-through.* `cnn_notes.stage_table(model)` lists the last layer at each "
            "resolution with its output shape; explain each change of size from the formula of the math section."
        ),
        zh_heading="逐阶段查看",
        zh=(
            "*TODO：逐阶段的形状变化。* `cnn_notes.stage_table(model)` 列出每个分辨率下的最后一层及其输出形状；"
            "用数学推导一节的公式解释每一次尺寸变化。"
        ),
    ),
    Section(
        en_heading="Summary",
        en="*TODO: three to five bullets,* each with a number the chapter computed.",
        zh_heading="小结",
        zh="*TODO：三到五条要点，* 每条都带一个本章算出的数字。",
    ),
    Section(
        en_heading="Exercises",
        en=(
            "*TODO: at least four exercises* a reader can answer with `cnn_notes.build` and the helpers used above, "
            "each followed by its solution in a `:::{{admonition}} Solution` with `:class: dropdown`; a solution "
            "that computes something does it in the code cell right after, tagged `hide-cell` (see the ResNet "
            "chapter)."
        ),
        zh_heading="练习",
        zh=(
            "*TODO：至少四道练习题，* 读者可以用 `cnn_notes.build` 和上文用到的函数解答；每道题后面跟着它的解答，"
            "写在带 `:class: dropdown` 的 `:::{{admonition}} 解答` 里；需要计算的解答放在紧随其后、"
            "带 `hide-cell` 标签的代码单元中（参见 ResNet 一章）。"
        ),
    ),
)

MODULE_TEMPLATE = '''\
"""{name}: TODO authors, "TODO paper title", TODO venue year (arXiv:TODO).

TODO(contributor): ``python -m cnn_notes.new_chapter {slug}`` wrote this skeleton. It imports cleanly and
registers no model yet, so nothing in the package changes until it is filled in; tests/test_{slug}.py fails
until then, on purpose: a chapter without its model is unfinished. CONTRIBUTING.md walks through it, and
cnn_notes/models/mobilenet.py (a keras.applications twin) and cnn_notes/models/lenet.py (a paper's network, no
library twin) are finished examples. Fill in, in order:

1. This docstring: the paper's authors, title, venue, year and arXiv id.
2. ``VARIANTS``: the paper's table of variants, one row per registered model (widths, depths, multipliers).
3. The block functions ``f(x, ..., name) -> x``, one per block of the paper's figure, with every layer named
   ``f"{{name}}_..."``: auto-numbered names (``conv2d_13``) change with build history and break the summaries.
4. ``_{slug}``, the one private builder: ``parse_common_args`` first, before any layer is built; then the
   family's own options, checked with ``check_rate`` / ``check_bool`` or a ``ValueError`` whose message ends in
   ``Received: arg=...``; then the layers, from the table.
5. One thin public builder per row, decorated with ``@register_model`` (the example at the end of this file);
   its docstring names the paper and the reference numbers.
6. ``{slug}`` in the import of ``cnn_notes/models/__init__.py``: importing the module registers its
   builders.
"""

import keras
from keras import layers

from cnn_notes.models.arguments import parse_common_args
from cnn_notes.models.heads import model_input, pooled_classifier
from cnn_notes.models.registry import register_model  # noqa: F401 (used by the public builders, once written)

# TODO: the paper's table of variants. Registered name -> the numbers that tell the variants apart.
VARIANTS = {{}}


def {slug}_block(x, filters, *, strides=1, name):
    """TODO: one block of the paper's figure (a placeholder: convolution, batch norm, ReLU)."""
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{{name}}_conv")(x)
    x = layers.BatchNormalization(name=f"{{name}}_bn")(x)
    return layers.Activation("relu", name=f"{{name}}_relu")(x)


def _{slug}(model, variant, **kwargs):
    # TODO: the paper's input size and channels (1 for a grayscale network, as LeNet-5), its classes, and the
    # smallest input whose last feature map is not empty (tests/test_models.py checks that min_size is exact and
    # reads the other defaults back from here).
    args = parse_common_args(model, kwargs, default_size=224, min_size=32, default_channels=3, default_classes=1000)
    inputs = model_input(args)
    x = inputs
    for b, filters in enumerate(VARIANTS[variant], start=1):
        x = {slug}_block(x, filters, strides=2, name=f"block{{b}}")
    x = pooled_classifier(x, args)
    return keras.Model(inputs, x, name=args.name)


# TODO: one public builder per row of VARIANTS, for example:
#
# @register_model
# def {slug}(**kwargs):
#     """{name} (Author et al. YEAR, arXiv:XXXX.XXXXX): N parameters, as keras.applications.X(weights=None).
#
#     What this variant changes; its options; the errata of the post's code it fixes, if any.
#     """
#     return _{slug}("{slug}", "row", **kwargs)
'''

TEST_TEMPLATE = '''\
"""{name}: the checks that the generic tests do not make.

TODO(contributor): ``python -m cnn_notes.new_chapter {slug}`` wrote this file. Its one test fails until
cnn_notes/models/{slug}.py registers a model and cnn_notes/models/__init__.py imports that module: a chapter without its
model is unfinished.

Once a model is registered, the generic tests check it with no code here:

* tests/test_models.py, for every name in ``cnn_notes.list_models()``: the default output is one probability
  vector; ``include_top=False`` with ``pooling="avg"`` or ``"max"`` pools to a vector; ``classes=7`` and
  ``classifier_activation=None`` work; the minimum input size stated to ``parse_common_args`` is exact; two builds
  print the same summary (every layer named).
* tests/test_errors.py: bad common arguments raise a ``ValueError`` from cnn_notes' own code, ending in
  ``Received: arg=...``.
* tests/test_book.py: the model's name appears, in quotes, in a code cell of book/en/{slug}.ipynb (e.g.
  ``cnn_notes.build("{slug}")``); the twins keep identical code cells and link each other.

Reference numbers in cnn_notes/references.py (with their source) add these checks:

* ``KERAS_APPLICATIONS["{slug}"] = ("KerasName", total_params)``: tests/test_models.py builds
  ``keras.applications.KerasName(weights=None)`` live and compares parameters, weight shapes, input and output
  shapes and MACs.
* ``TORCHVISION["{slug}"] = Torchvision(num_params, gmacs, top1)``: trainable parameters equal, MACs
  within 1%.
* ``PAPERS["{slug}"] = PaperFigure(millions, "Author et al. YEAR, Table N")``: the count at the paper's
  rounding.
* ``PAPER_COUNTS["{slug}"] = PaperCount(trainable, "source", label)``: an exact count that no library built here
  gives (a paper's, or a public implementation's: ``label`` is what the reference table shows, "paper" by
  default).
* ``PAPER_MACS["{slug}"] = PaperMacs(millions, "Author et al. YEAR, Table N")``: ``count_macs`` within 1%.
* ``POST["..."] = PostTotals(total, non_trainable)``: the totals the post prints, for the post's own model.
* ``OVERVIEW``: a row for the overview chapter's table.

Add below only what is specific to {name}: the stage shapes of the paper's table, one block's parameter count
worked out by hand, a family option that must change the count.
"""

import cnn_notes
from cnn_notes.models.registry import get_builder


def test_{slug}_is_registered():
    # The family's models, whatever their names (SENet's module registers se_resnet50).
    family = [name for name in cnn_notes.list_models() if get_builder(name).__module__ == "cnn_notes.models.{slug}"]
    assert family, (
        "cnn_notes/models/{slug}.py registers no model: fill it in, decorate its builders with @register_model "
        "and import it in cnn_notes/models/__init__.py (see CONTRIBUTING.md)."
    )
'''

NEXT_STEPS = """\
Next steps (CONTRIBUTING.md has the details):
  1. cnn_notes/models/{slug}.py: the paper, the table of variants, the blocks and one private builder
     (parse_common_args states the defaults: size, classes, default_channels=1 for a grayscale network);
     register each model with @register_model and add {slug} to the import in cnn_notes/models/__init__.py.
  2. cnn_notes/references.py: the public reference numbers, with their source (KERAS_APPLICATIONS,
     TORCHVISION, PAPER_COUNTS for a paper's exact count, PAPERS for its rounded one, OVERVIEW).
  3. tests/test_{slug}.py: fails until the model is registered; add the checks specific to {name}.
  4. book/en/{slug}.ipynb and book/zh/{slug}.ipynb: replace every TODO; keep the code cells identical
     (but for cnn_notes.set_language("en") / ("zh")).
  5. make notebooks NOTEBOOKS="book/en/{slug}.ipynb book/zh/{slug}.ipynb book/en/intro.ipynb book/zh/intro.ipynb"
     (stores their outputs; the intro's lists every model, so it changes with each new one; add
     book/en/overview.ipynb book/zh/overview.ipynb when OVERVIEW gained a row)
  6. make check-chapter SLUG={slug}   (ALSO="book/en/overview.ipynb book/zh/overview.ipynb" after an OVERVIEW row)
     (what a new chapter can break: its unit tests, the book-wide tests that -k {slug} would skip, nbval on
     its notebooks and the intro's, the book build; pytest -k {slug} alone misses most of it)
  7. make test        (everything, before you open the pull request)
"""


class Refusal(Exception):
    """A reason not to scaffold; reported on stderr with exit status 2."""


def read(path):
    """The text of ``path`` with its line endings as they are (no newline translation)."""
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def write(path, text, mode="w"):
    with open(path, mode, encoding="utf-8", newline="") as f:
        f.write(text)


def _code_cell(source, tags=None):
    metadata = {"tags": list(tags)} if tags else {}
    return {"cell_type": "code", "execution_count": None, "metadata": metadata, "outputs": [], "source": source}


def short_name(title):
    """The architecture's name in ``title``: what comes before its first colon (ASCII or full-width), if any.

    >>> short_name("SENet: squeeze-and-excitation"), short_name("SENet：压缩激励"), short_name("MobileNet v1, v2, v3")
    ('SENet', 'SENet', 'MobileNet v1, v2, v3')
    """
    return re.split(r":|：", title, maxsplit=1)[0].strip() or title


def chapter_cells(slug, title, language):
    """The cells of the new chapter in ``language``: markdown with TODO guidance, and the code cells."""
    cells = []
    for section in SECTIONS:
        heading, text = getattr(section, f"{language}_heading"), getattr(section, language)
        if heading is None:
            lines = [f"# {title[language]}", "", TWIN_LINK[language].format(slug=slug)]
        else:
            lines = [f"## {heading.format(name=short_name(title[language]))}"]
        lines += ["", text.format(slug=slug, name=short_name(title[language]))]
        cells.append({"cell_type": "markdown", "metadata": {}, "source": "\n".join(lines)})
        if section.code is not None:
            if len(cells) == 1:  # the chapter's first code cell
                cells.append(_code_cell(COLAB_CELL, tags=COLAB_TAGS))
            cells.append(_code_cell(section.code.format(language=language)))
    for index, cell in enumerate(cells):
        cell["id"] = f"{slug}-{index:02d}"
    return cells


def chapter_notebook(slug, title, language):
    return {
        "cells": chapter_cells(slug, title, language),
        "metadata": {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def toc_entries(toc):
    """Every ``file`` entry of a Jupyter Book table of contents, at any depth."""
    if isinstance(toc, dict):
        found = [toc["file"]] if isinstance(toc.get("file"), str) else []
        for value in toc.values():
            found += toc_entries(value)
        return found
    if isinstance(toc, list):
        return [entry for item in toc for entry in toc_entries(item)]
    return []


def add_to_toc(text, slug, after=None):
    """``_toc.yml``'s text with ``book/<language>/<slug>`` in each part: right after the entry of the chapter
    ``after`` (with its sections, if it has any), or, when ``after`` is ``None``, right before ``overview``.

    Edits the text, not the parsed YAML, so that comments, order and formatting are kept.
    """
    anchor = "overview" if after is None else after
    lines = text.splitlines(keepends=True)
    out, added = [], []
    index = 0
    while index < len(lines):
        line = lines[index]
        match = re.fullmatch(rf"(\s*-\s+file:\s+)book/(en|zh)/{re.escape(anchor)}\s*", line)
        if not match:
            out.append(line)
            index += 1
            continue
        prefix, language = match.groups()
        newline = line[len(line.rstrip("\r\n")) :] or "\n"
        entry = f"{prefix}book/{language}/{slug}{newline}"
        added.append(language)
        if after is None:
            out += [entry, line]
            index += 1
            continue
        # After the anchor's entry and everything nested in it (its sections): lines indented deeper than its "-".
        dash = len(prefix) - len(prefix.lstrip())
        out.append(line)
        index += 1
        while index < len(lines) and (
            not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > dash
        ):
            out.append(lines[index])
            index += 1
        out.append(entry)
    if sorted(added) != sorted(LANGUAGES):
        if after is None:
            raise Refusal(
                "_toc.yml must have one `- file: book/en/overview` and one `- file: book/zh/overview` entry, "
                "before which the new chapters go; add them by hand, or place them with --after. "
                f"Received: overview entries for {added}"
            )
        chapters = sorted(set(_chapters(text, "en")) & set(_chapters(text, "zh")))
        raise Refusal(
            f"--after must name a chapter that both parts of _toc.yml list once (book/en/X and book/zh/X), "
            f"one of: {', '.join(chapters)}. Received: after={after!r}"
        )
    return "".join(out)


def _chapters(text, language):
    """The slugs of the ``book/<language>/...`` entries of ``_toc.yml``'s text."""
    return [Path(entry).name for entry in toc_entries(yaml.safe_load(text)) if entry.startswith(f"book/{language}/")]


def add_to_index(text, slug, title, after=None):
    """``book/index.md``'s text with a row for the new chapters: right after the row of the chapter ``after``,
    or, when ``after`` is ``None``, before the overview's row; ``None`` when the landing page has no such row
    (then the new chapters are only in the table of contents)."""
    lines = text.splitlines(keepends=True)
    anchor = re.compile(rf"\(en/{re.escape('overview' if after is None else after)}\.(ipynb|md)\)")
    for index, line in enumerate(lines):
        if line.startswith("|") and anchor.search(line):
            en, zh = (title[language].replace("|", "\\|") for language in LANGUAGES)
            newline = line[len(line.rstrip("\r\n")) :] or "\n"
            row = f"| [{en}](en/{slug}.ipynb) | [{zh}](zh/{slug}.ipynb) |{newline}"
            at = index if after is None else index + 1
            return "".join(lines[:at] + [row] + lines[at:])
    return None


def planned_files(root, slug):
    return {
        **{language: root / "book" / language / f"{slug}.ipynb" for language in LANGUAGES},
        "module": root / "cnn_notes" / "models" / f"{slug}.py",
        "test": root / "tests" / f"test_{slug}.py",
    }


def check(root, slug, title, after=None):
    """Raises ``Refusal`` unless ``slug`` is a free, valid name and ``after`` (if given) a chapter of both parts;
    returns the new text of ``_toc.yml``."""
    if not (SLUG.fullmatch(slug) and slug.isidentifier() and not keyword.iskeyword(slug)):
        raise Refusal(
            "The slug must be a lowercase Python identifier (letters, digits and underscores, starting with a "
            f"letter, not a keyword), such as `mobilenet` or `mobilenet_v2`. Received: slug={slug!r}"
        )
    for language, value in title.items():
        if not value.strip() or "\n" in value:
            raise Refusal(f"The --{language} title must be one non-empty line. Received: {language}={value!r}")
    toc_path = root / "_toc.yml"
    if not toc_path.is_file():
        raise Refusal(f"No _toc.yml in {root}: run this from the repository root. Received: root={str(root)!r}")
    candidates = [*planned_files(root, slug).values(), *(root / "book" / lang / f"{slug}.md" for lang in LANGUAGES)]
    existing = [p for p in candidates if p.exists()]
    if existing:
        names = ", ".join(str(p.relative_to(root)) for p in existing)
        raise Refusal(f"{slug!r} is taken: {names} already exist(s); nothing was written. Received: slug={slug!r}")
    if slug in dir(cnn_notes) or slug in reserved_names():
        raise Refusal(
            f"{slug!r} is taken: cnn_notes.{slug} exists (a function, a module or a registered model), and a "
            f"module of that name would hide it. Received: slug={slug!r}"
        )
    text = read(toc_path)
    listed = [entry for entry in toc_entries(yaml.safe_load(text)) if Path(entry).name == slug]
    if listed:
        raise Refusal(f"{slug!r} is taken: _toc.yml lists {', '.join(listed)}. Received: slug={slug!r}")
    if after is not None and not (isinstance(after, str) and SLUG.fullmatch(after)):
        raise Refusal(f"--after takes a chapter's slug, such as `alexnet`. Received: after={after!r}")
    return add_to_toc(text, slug, after)


def load_executor(root):
    """``execute(path)`` from tools/execute_notebooks.py, the function behind ``make notebooks``."""
    path = root / "tools" / "execute_notebooks.py"
    spec = importlib.util.spec_from_file_location("execute_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.execute


def kernel_environment():
    """The environment ``make notebooks`` gives the kernels: no TensorFlow start-up noise in the stored
    outputs (the log level, and the IPython configuration that ``make setup`` puts in the venv, which keeps
    oneDNN's C++ lines out of the cells), and this interpreter's ``python`` first on PATH (the kernel is
    ``python -m ipykernel_launcher``)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("IPYTHONDIR", os.path.join(sys.prefix, "ipython"))
    os.environ.setdefault("PYTHONHASHSEED", "0")
    bin_dir = os.path.dirname(sys.executable)
    os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])


def scaffold(root, slug, title, after=None):
    """Writes the new files, executes the chapters, adds them to ``_toc.yml`` and to the landing page's table
    (``book/index.md``), after the chapter ``after`` or before the overview; undoes it all on failure. Returns
    the new files and the edited ones."""
    new_toc = check(root, slug, title, after)
    files = planned_files(root, slug)
    sources = {
        "module": MODULE_TEMPLATE.format(slug=slug, name=short_name(title["en"])),
        "test": TEST_TEMPLATE.format(slug=slug, name=short_name(title["en"])),
    }
    for language in LANGUAGES:
        sources[language] = json.dumps(chapter_notebook(slug, title, language), indent=1, ensure_ascii=False) + "\n"
    edits = {root / "_toc.yml": new_toc}
    index_path = root / "book" / "index.md"
    if index_path.is_file():
        new_index = add_to_index(read(index_path), slug, title, after)
        if new_index is not None:
            edits[index_path] = new_index
    originals = {path: read(path) for path in edits}
    written = []
    try:
        for key, path in files.items():
            write(path, sources[key], mode="x")  # "x": never overwrite, even in a race
            written.append(path)
        execute = load_executor(root)
        kernel_environment()
        for language in LANGUAGES:
            print(f"executing {files[language].relative_to(root)}", flush=True)
            execute(files[language])
        for path, text in edits.items():
            write(path, text)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        for path, text in originals.items():
            write(path, text)
        raise
    return files, list(edits)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cnn_notes.new_chapter",
        description="Scaffold a new architecture: the twin chapters (executed), a builder module and its test; "
        "adds the chapters to _toc.yml and book/index.md. Never overwrites a file.",
    )
    parser.add_argument("slug", help="the chapter's and module's name, a lowercase identifier such as toynet_v2")
    parser.add_argument("--en", required=True, metavar="TITLE", help='the English title, e.g. "ToyNet"')
    parser.add_argument("--zh", required=True, metavar="TITLE", help='the Chinese title, e.g. "ToyNet"')
    parser.add_argument(
        "--after",
        metavar="CHAPTER",
        help="the slug of the chapter the new one follows in both parts of _toc.yml and on book/index.md, e.g. "
        "alexnet (default: before the overview)",
    )
    parser.add_argument("--root", default=".", type=Path, help="the repository root (default: the current folder)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    title = {"en": args.en, "zh": args.zh}
    try:
        files, edited = scaffold(root, args.slug, title, args.after)
    except Refusal as refusal:
        parser.exit(2, f"{parser.prog}: error: {refusal}\n")
    print("created", *(str(p.relative_to(root)) for p in files.values()), sep="\n  ")
    place = "before the overview" if args.after is None else f"after {args.after}"
    print(f"added both chapters, {place}, to", *(str(p.relative_to(root)) for p in edited), sep="\n  ")
    print()
    print(NEXT_STEPS.format(slug=args.slug, name=short_name(args.en)))


if __name__ == "__main__":
    main()
