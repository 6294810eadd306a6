"""Every cnn_notes model that keras.applications also has, built and run side by side with its twin.

Usage::

    python benchmarks/run.py [--models resnet50 vgg16 ... | all] [--batch-sizes 1 32] [--rounds N]
                             [--min-seconds T] [--input-size S] [--out DIR]

For each model it reports

* equality, which must be exact: parameter counts (total, trainable, non-trainable), the multiset of weight
  shapes, the weight shapes layer by layer (where both models have as many layers with weights), and the
  multiply-accumulates of ``cnn_notes.count_macs`` (the same graph costs the same);
* time ratios, ours / keras, of building the model and of one forward step at each batch size, next to a
  control row that times keras' model against a second, identical build of itself. A ratio below 1 means
  ours is faster; the control shows how far from 1 pure noise goes on this machine.

The table is printed and written to ``DIR/benchmark.md`` with ``DIR/benchmark.csv`` (all best times in
seconds). Why the timing method is what it is: see ``alternate``, ``measure_forward`` and ``control_band``.
"""

import argparse
import csv
import difflib
import gc
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

import cnn_notes
from cnn_notes.references import KERAS_APPLICATIONS

# One model per family, chosen so that the default run takes a few minutes on two CPU cores.
DEFAULT_MODELS = ("vgg16", "resnet50", "inception_v3", "densenet121", "efficientnet_b0")
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
MIN_SECONDS = 2.0  # timed seconds per side and measurement below which a cheap step gets more rounds
# The sides of each model: ours, keras' twin, and "control", keras' model built a second time.
PAIRS = (("ours", "keras"), ("control", "keras"))
EQUALITY = ("params_equal", "weight_shapes_equal", "layers_equal", "macs_equal")


# --- Arguments -----------------------------------------------------------------------------------------------


def resolve_models(names):
    """Returns the model names to benchmark, in order and without repeats; ``["all"]`` means every twin.

    Raises ``ValueError`` for a name that is not a cnn_notes model with a keras.applications twin.
    """
    if list(names) == ["all"]:
        return list(KERAS_APPLICATIONS)
    for name in names:
        if name in KERAS_APPLICATIONS:
            continue
        if name in cnn_notes.list_models():
            reason = f"cnn_notes model {name!r} has no keras.applications twin."
        else:
            close = difflib.get_close_matches(name, list(KERAS_APPLICATIONS), n=3, cutoff=0.5)
            reason = f"Unknown model {name!r}." + (f" Did you mean: {', '.join(close)}?" if close else "")
        raise ValueError(
            f"{reason} Expected 'all' or some of: {', '.join(KERAS_APPLICATIONS)}. Received: models={list(names)}"
        )
    return list(dict.fromkeys(names))


def positive_int(text):
    """argparse type of the benchmark scripts: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer of at least 1. Received: {text!r}")
    return value


def parse_args(argv=None):
    """Parses the command line; a bad value exits with status 2 and a message, as argparse does."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models",
        nargs="+",
        default=list(DEFAULT_MODELS),
        metavar="NAME",
        help="cnn_notes names with a keras.applications twin, or 'all' (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-sizes",
        nargs="+",
        type=positive_int,
        default=[1, 32],
        metavar="N",
        help="batch sizes of the forward step (default: %(default)s)",
    )
    parser.add_argument(
        "--rounds",
        type=positive_int,
        default=3,
        help="timed rounds per measurement, after one warm-up round; cheap steps get more (default: %(default)s)",
    )
    parser.add_argument(
        "--min-seconds",
        type=float,
        default=MIN_SECONDS,
        metavar="T",
        help="more rounds until each side has T timed seconds per measurement (default: %(default)s)",
    )
    parser.add_argument(
        "--input-size",
        type=positive_int,
        default=None,
        metavar="S",
        help="build both models at SxSx3 instead of each model's default size",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help="where benchmark.md and benchmark.csv go (default: benchmarks/results)",
    )
    args = parser.parse_args(argv)
    try:
        args.models = resolve_models(args.models)
    except ValueError as error:
        parser.error(str(error))
    args.batch_sizes = list(dict.fromkeys(args.batch_sizes))
    return args


# --- Timing --------------------------------------------------------------------------------------------------


def alternate(steps, rounds, min_seconds=0.0, collect=False):
    """Runs every step once per round, taking turns, and returns each step's times without the warm-up round.

    ``steps`` maps a side's name to a function of no arguments. On a shared machine the speed drifts over
    seconds; timing all of A and then all of B puts each slow spell on one side only. Taking turns
    (A B C, B C A, C A B, ...) spreads the drift over all sides, and rotating the order keeps a side from
    always following the same neighbour (whose memory traffic it would inherit). The first round pays for
    one-time work (tracing, first allocation, lazy imports) and is discarded.

    There are at least ``rounds`` timed rounds, and more until every side has spent ``min_seconds`` on the
    clock: cheap steps get more draws, which is what the minimum needs (see ``measure_forward``). As in
    ``timeit``, the garbage collector is off while a step runs, so that no step pays for a collection of
    the whole heap that the steps before it made due; with ``collect`` it runs before each step instead
    (off the clock), for steps that leave much garbage behind, as builds do.
    """
    names = list(steps)
    times = {name: [] for name in names}
    enabled = gc.isenabled()
    gc.disable()
    try:
        round_ = 0
        while round_ <= rounds or min(sum(elapsed[1:]) for elapsed in times.values()) < min_seconds:
            k = round_ % len(names)
            for name in names[k:] + names[:k]:
                if collect:
                    gc.collect()
                start = time.perf_counter()
                steps[name]()
                times[name].append(time.perf_counter() - start)
            round_ += 1
    finally:
        if enabled:
            gc.enable()
    return {name: elapsed[1:] for name, elapsed in times.items()}


def measure_build(builders, rounds, min_seconds=MIN_SECONDS):
    """Returns ``(best build time per side, the model each side built last)``.

    The minimum over rounds is the estimate: noise on a CPU only ever adds time, so the fastest round is the
    one closest to the cost of the work itself. (Naive medians put two identical keras models 0.85 to 1.23
    apart on a shared two-core machine.)
    """
    models = {}

    def step(side):
        def build():
            models[side] = builders[side]()

        return build

    times = alternate({side: step(side) for side in builders}, rounds, min_seconds, collect=True)
    return {side: min(elapsed) for side, elapsed in times.items()}, models


def measure_forward(models, batch_size, rounds, min_seconds=MIN_SECONDS):
    """Returns the best time per side of one compiled forward step on ``batch_size`` random images.

    The step is ``tf.function(model(x, training=False))`` (traced in the warm-up round), which is what
    inference runs, rather than eager calls whose Python overhead would swamp small batches. The result is
    pulled to host memory (``.numpy()``) so that the clock stops only when the work is done. The minimum
    over rounds estimates the noise-free time better the more rounds it is taken over, and a 30 ms step at
    batch 1 costs little to run again: ``min_seconds`` gives it dozens of rounds where batch 32 gets
    ``rounds``.
    """
    shape = tuple(next(iter(models.values())).input.shape[1:])
    x = tf.constant(np.random.default_rng(0).standard_normal((batch_size, *shape), dtype=np.float32))

    def step(model):
        forward = tf.function(lambda images: model(images, training=False))
        return lambda: forward(x).numpy()

    times = alternate({side: step(model) for side, model in models.items()}, rounds, min_seconds)
    return {side: min(elapsed) for side, elapsed in times.items()}


def control_band(control_ratios):
    """Returns ``(low, high)``: the range of ratios that the A-vs-A controls show pure noise can produce.

    Two builds of one keras model are the same work, so any control ratio away from 1 is noise, and noise
    has no preferred side: a control of 1.08 means 1/1.08 was as likely. The band is therefore symmetric
    in log scale, as wide as the widest control of the run (one control is one draw of the noise; a draw
    that lands on 1.00 by luck would call every twin "outside").
    """
    spread = max(abs(math.log(ratio)) for ratio in control_ratios)
    return math.exp(-spread), math.exp(spread)


def in_band(ratio, band):
    """Whether a twin's ratio lies inside the controls' band (then the difference cannot be told from noise)."""
    low, high = band
    return low <= ratio <= high


# --- Equality ------------------------------------------------------------------------------------------------


def _layer_shapes(model):
    return [[tuple(w.shape) for w in layer.weights] for layer in model.layers if layer.weights]


def compare(model, reference):
    """Returns the equality columns of ``model`` against ``reference``: all must be True for true twins.

    ``layers_equal`` compares the weight shapes layer by layer in order; it is None where the two models do
    not have the same number of layers with weights (then only the multiset of shapes can be compared).
    """
    shapes, reference_shapes = _layer_shapes(model), _layer_shapes(reference)
    macs = cnn_notes.count_macs(model)
    return {
        "params": cnn_notes.param_counts(model).total,
        "macs": macs,
        "params_equal": cnn_notes.param_counts(model) == cnn_notes.param_counts(reference),
        "weight_shapes_equal": sorted(tuple(w.shape) for w in model.weights)
        == sorted(tuple(w.shape) for w in reference.weights),
        "layers_equal": shapes == reference_shapes if len(shapes) == len(reference_shapes) else None,
        "macs_equal": macs == cnn_notes.count_macs(reference),
    }


# --- One model -----------------------------------------------------------------------------------------------


def metrics(batch_sizes):
    """The timed measurements, in table order: building, then a forward step at each batch size."""
    return ["build"] + [f"fwd_b{batch}" for batch in batch_sizes]


def benchmark(name, batch_sizes, rounds, min_seconds=MIN_SECONDS, input_size=None):
    """Measures one model against its twin and the control; returns two rows (twin, control)."""
    attribute = KERAS_APPLICATIONS[name][0]
    shape = None if input_size is None else (input_size, input_size, 3)
    reference = getattr(keras.applications, attribute)
    builders = {
        "ours": lambda: cnn_notes.build(name, input_shape=shape),
        "keras": lambda: reference(weights=None, input_shape=shape),
        "control": lambda: reference(weights=None, input_shape=shape),
    }
    best, models = measure_build(builders, rounds, min_seconds)
    times = {"build": best}
    for batch in batch_sizes:
        times[f"fwd_b{batch}"] = measure_forward(models, batch, rounds, min_seconds)
    rows = []
    for side, base in PAIRS:
        row = {"model": name, "pair": f"{side}/{base}", "keras": attribute}
        row.update(compare(models[side], models[base]))
        for metric, seconds in times.items():
            row[f"{metric}_{side}_s"], row[f"{metric}_{base}_s"] = seconds[side], seconds[base]
            row[f"{metric}_ratio"] = seconds[side] / seconds[base]
        rows.append(row)
    return rows


def mark_bands(rows, metric_names):
    """Adds ``<metric>_in_band`` to every twin row; returns the band of each metric."""
    bands = {}
    for metric in metric_names:
        bands[metric] = control_band([r[f"{metric}_ratio"] for r in rows if r["pair"] == "control/keras"])
        for row in rows:
            if row["pair"] == "ours/keras":
                row[f"{metric}_in_band"] = in_band(row[f"{metric}_ratio"], bands[metric])
    return bands


# --- Output --------------------------------------------------------------------------------------------------


def csv_columns(metric_names):
    """The CSV's columns: identity, equality, then per metric both best times, the ratio and the band flag."""
    columns = ["model", "pair", "keras", "params", "macs", *EQUALITY]
    for metric in metric_names:
        columns += [f"{metric}_a_s", f"{metric}_b_s", f"{metric}_ratio", f"{metric}_in_band"]
    return columns


def write_csv(rows, metric_names, path):
    """Writes one line per row; ``_a_s`` / ``_b_s`` are the best times of the pair's first / second side."""
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=csv_columns(metric_names))
        writer.writeheader()
        for row in rows:
            side, base = row["pair"].split("/")
            line = {key: row.get(key, "") for key in ["model", "pair", "keras", "params", "macs", *EQUALITY]}
            line["layers_equal"] = "n/a" if row["layers_equal"] is None else row["layers_equal"]
            for metric in metric_names:
                line[f"{metric}_a_s"] = f"{row[f'{metric}_{side}_s']:.6f}"
                line[f"{metric}_b_s"] = f"{row[f'{metric}_{base}_s']:.6f}"
                line[f"{metric}_ratio"] = f"{row[f'{metric}_ratio']:.4f}"
                line[f"{metric}_in_band"] = row.get(f"{metric}_in_band", "")
            writer.writerow(line)


def _yes(value):
    return "n/a" if value is None else ("yes" if value else "**NO**")


def _ratio(row, metric):
    text = f"{row[f'{metric}_ratio']:.2f}"
    if f"{metric}_in_band" in row:
        text += " in" if row[f"{metric}_in_band"] else " **out**"
    return text


def format_table(rows, metric_names, bands):
    """Returns the markdown table: one twin row and one control row per model, then the noise bands."""
    header = ["model", "pair", "params", "GMACs", "params =", "shapes =", "layers =", "MACs ="]
    header += [metric.replace("_", " ") for metric in metric_names]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        pair = f"ours / {row['keras']}" if row["pair"] == "ours/keras" else f"control: {row['keras']} x2"
        cells = [row["model"], pair, f"{row['params']:,}", f"{row['macs'] / 1e9:.3f}"]
        cells += [_yes(row[key]) for key in EQUALITY]
        cells += [_ratio(row, metric) for metric in metric_names]
        lines.append("| " + " | ".join(cells) + " |")
    bands_text = ", ".join(f"{m.replace('_', ' ')} {low:.2f}-{high:.2f}" for m, (low, high) in bands.items())
    lines += [
        "",
        "Ratios are best time of ours / best time of keras (below 1: ours faster); the control row times keras'",
        "model against a second build of itself. A twin's ratio is `in` when it lies inside the noise band, the",
        f"widest control deviation of the run, symmetric in log scale: {bands_text}.",
    ]
    return "\n".join(lines)


# --- Main ----------------------------------------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)
    tf.get_logger().setLevel("ERROR")  # one tf.function per model and batch size is not accidental retracing
    start = time.perf_counter()
    rows = []
    for name in args.models:
        print(f"{name} ...", file=sys.stderr, flush=True)
        rows += benchmark(name, args.batch_sizes, args.rounds, args.min_seconds, args.input_size)
        gc.collect()
    metric_names = metrics(args.batch_sizes)
    bands = mark_bands(rows, metric_names)
    wall = time.perf_counter() - start
    size = "default input sizes" if args.input_size is None else f"input {args.input_size}x{args.input_size}"
    text = format_table(rows, metric_names, bands) + (
        f"\n\nTimed rounds: at least {args.rounds} and {args.min_seconds:g} s per side, after one warm-up; "
        f"{size}; wall time {wall:.0f} s.\n"
    )
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmark.md").write_text(text)
    write_csv(rows, metric_names, args.out / "benchmark.csv")
    return rows


if __name__ == "__main__":
    main()
