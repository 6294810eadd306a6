"""Plain-text tables for the chapters: each model's computed numbers beside its public reference."""

import functools
import hashlib
import json
import math
import os
import unicodedata
from collections import namedtuple
from pathlib import Path

from cnn_notes.analysis import ParamCounts, count_macs, param_counts, stage_shapes
from cnn_notes.language import say
from cnn_notes.references import (
    KERAS_APPLICATIONS,
    PAPER_COUNTS,
    PAPERS,
    POST,
    TORCHVISION,
    TORCHVISION_PARAMS_DIFFER,
)
from cnn_notes.models.memory import unallocated
from cnn_notes.models.registry import build, get_builder

Check = namedtuple("Check", ["model", "total", "trainable", "gmacs", "source", "reference", "match"])


def _reference(name, facts):
    """The first applicable reference for ``name``: (source, shown value, whether ``facts`` match it)."""
    counts = facts.counts
    if name in POST:
        ref = POST[name]
        return "the post", f"{ref.total:,}", (counts.total, counts.non_trainable) == tuple(ref)
    if name in KERAS_APPLICATIONS:
        attribute, total = KERAS_APPLICATIONS[name]
        return f"keras {attribute}", f"{total:,}", counts.total == total
    if name in TORCHVISION and name not in TORCHVISION_PARAMS_DIFFER:
        # torchvision counts learnable parameters only, i.e. Keras' trainable ones.
        ref = TORCHVISION[name].num_params
        return "torchvision (trainable)", f"{ref:,}", counts.trainable == ref
    if name in PAPER_COUNTS:
        # An exact count, a paper's or a public implementation's, of what is learned: Keras' trainable parameters.
        ref = PAPER_COUNTS[name]
        return ref.label, f"{ref.params:,}", counts.trainable == ref.params
    if name in PAPERS:
        return "paper", f"{PAPERS[name].params_millions}M", matches_paper(facts, PAPERS[name])
    return "-", "-", None


def paper_count(model, figure):
    """``model``'s parameters counted as the paper counts them, in the paper's unit (e.g. millions).

    Papers count what is learned: the trainable weights (BatchNorm's moving statistics are not parameters).
    """
    weights = model.trainable_weights
    if figure.weights_only:
        weights = [w for w in weights if not w.path.endswith("bias")]
    return sum(math.prod(w.shape) for w in weights) / figure.unit


def matches_paper(model, figure):
    """Whether ``model``'s count, rounded as the paper rounds ``figure``, equals it."""
    decimals = 0 if float(figure.params_millions).is_integer() else len(str(figure.params_millions).split(".")[1])
    return round(paper_count(model, figure), decimals) == figure.params_millions


def check_models(names):
    """Builds each model with its defaults (once per process: ``default_facts``) and compares its parameter
    count with its reference.

    Returns one ``Check`` per model: total and trainable parameters, GMACs at the default input size, the
    reference's source and value, and whether they match (``None`` where no public reference exists).
    """
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"`names` must be a list of model names. Received: names={names!r}")
    for name in names:
        get_builder(name)  # the registry's ValueError, with close matches, before anything is built
    checks = []
    for name in names:
        facts = default_facts(name)
        source, reference, match = _reference(name, facts)
        checks.append(Check(name, facts.counts.total, facts.counts.trainable, facts.gmacs, source, reference, match))
    return checks


# What the tables need of a model: its counts, its MACs and, for the papers' way of counting, the path and
# shape of every trainable weight (``paper_count`` reads ``trainable_weights`` of this as of a model).
Facts = namedtuple("Facts", ["counts", "gmacs", "trainable_weights"])
_Weight = namedtuple("_Weight", ["path", "shape"])


# A folder where default models' facts are kept between processes (``make test`` sets it: the unit tests build
# every default model, and nbval's tables then read their facts instead of building each model again).
MEMO_VARIABLE = "CNN_NOTES_FACTS_MEMO"


@functools.cache
def default_facts(name):
    """The ``Facts`` of one model built with its defaults: built once per process, then remembered.

    A builder is a function of its arguments (every layer named, nothing random in the structure), so the
    numbers of the default model cannot change within a process; the book's twin chapters, which ``make
    nbval`` runs one after the other in one kernel, print them from one build. A new process builds again,
    unless the environment variable ``CNN_NOTES_FACTS_MEMO`` names a folder that holds them under this
    package's fingerprint (``remember_facts``). The references they are compared with are read anew at every
    call.
    """
    get_builder(name)  # an unknown name is refused before any file is looked up
    memo = _memo_file(name)
    if memo is not None and memo.exists():
        return _facts_from_json(memo.read_text(encoding="utf-8"))
    # Built unallocated: the facts are counts, MACs and weight shapes, which need no weight's memory (VGG-16's
    # would be 0.55 GB), and the build is 2 to 4 times faster.
    with unallocated():
        facts = facts_of(build(name))
    if memo is not None:
        _write(memo, facts)
    return facts


def facts_of(model):
    """A model's ``Facts``: its parameter counts, GMACs and the path and shape of every trainable weight."""
    weights = tuple(_Weight(w.path, tuple(w.shape)) for w in model.trainable_weights)
    return Facts(param_counts(model), count_macs(model) / 1e9, weights)


def remember_facts(name, model):
    """Stores the facts of ``model``, the default build of ``name``, in the memo folder, if one is set."""
    memo = _memo_file(name)
    if memo is not None and not memo.exists():
        _write(memo, facts_of(model))


@functools.cache
def fingerprint():
    """What a default model's facts depend on: every source file of ``cnn_notes``, and the versions of Keras
    and TensorFlow. Facts stored under another fingerprint are never read."""
    return source_digest(Path(__file__).resolve().parent)


def source_digest(package):
    """The fingerprint of the package in the folder ``package``, read now."""
    import keras
    import tensorflow as tf

    digest = hashlib.sha256(f"keras {keras.__version__} tensorflow {tf.__version__}".encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _memo_file(name):
    folder = os.environ.get(MEMO_VARIABLE)
    return Path(folder) / fingerprint() / f"{name}.json" if folder else None


def _write(path, facts):
    # Two xdist workers or kernels may store the same model at once: each writes its own file, then renames.
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"counts": list(facts.counts), "gmacs": facts.gmacs, "trainable_weights": facts.trainable_weights}
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(record), encoding="utf-8")
    os.replace(partial, path)


def _facts_from_json(text):
    record = json.loads(text)
    weights = tuple(_Weight(path, tuple(shape)) for path, shape in record["trainable_weights"])
    return Facts(ParamCounts(*record["counts"]), record["gmacs"], weights)


def display_width(text):
    """How many columns ``text`` takes in a monospaced font: Chinese characters (East Asian wide or full-width)
    take two, so that a Chinese header lines up with the numbers under it."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def _pad(text, width, right):
    fill = " " * (width - display_width(text))
    return fill + str(text) if right else str(text) + fill


def format_table(header, rows, right=()):
    """Formats rows of strings as a fixed-width table; columns listed in ``right`` are right-aligned."""
    widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(row):
        return "  ".join(_pad(c, w, i in right) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def _source_text(source):
    """A reference's source as the table shows it, in the current language."""
    chinese = {"the post": "原文", "torchvision (trainable)": "torchvision（可训练）", "paper": "论文"}
    return say(source, chinese.get(source, source))


# The units of the multiply-accumulates column, largest first: (name, MACs per unit).
MAC_UNITS = (("GMACs", 1e9), ("MMACs", 1e6), ("KMACs", 1e3), ("MACs", 1))


def mac_unit(gmacs):
    """The largest unit of ``MAC_UNITS`` in which every non-zero value of ``gmacs`` (billions of MACs) shows a
    non-zero number at three decimals: GMACs unless a model is below 0.0005 GMACs (e.g. LeNet-5's 0.4 million
    MACs), then MMACs, and so on. Returns (name, factor): the column shows ``value * factor`` with 3 decimals."""
    nonzero = [g * 1e9 for g in gmacs if g > 0]
    for name, size in MAC_UNITS:
        if all(round(macs / size, 3) > 0 for macs in nonzero):
            return name, 1e9 / size
    return MAC_UNITS[-1][0], 1e9


def reference_table(names):
    """Prints ``check_models(names)`` as a table: model, params, trainable, MACs, reference, match.

    The MACs column is in GMACs with 3 decimals, unless a model of the table would show 0.000: then the whole
    column switches to the largest unit that shows every model's number (``mac_unit``), and its header says so.
    """
    checks = check_models(names)
    unit, factor = mac_unit([c.gmacs for c in checks])
    rows = [
        (c.model, f"{c.total:,}", f"{c.trainable:,}", f"{c.gmacs * factor:.3f}", _source_text(c.source), c.reference,
         {True: "✓", False: "✗", None: "-"}[c.match])
        for c in checks
    ]  # fmt: skip
    header = say(("model", "params", "trainable", unit, "reference", "value", "match"),
                 ("模型", "参数", "可训练参数", unit, "参考来源", "参考值", "一致"))
    print(format_table(header, rows, right=(1, 2, 3, 5)))


def stage_table(model):
    """Prints ``stage_shapes(model)`` as a table: the last layer of each stage and its output size."""
    rows = [(s.layer, "x".join(str(d) for d in s.shape)) for s in stage_shapes(model)]
    header = say(("stage ends at layer", "output (HxWxC)"), ("阶段的最后一层", "输出（高x宽x通道）"))
    print(format_table(header, rows, right=(1,)))
