"""Profiling the built models: size and cost counted from the model, forward latency measured on this machine.

``profile(name)`` returns one ``Profile``: parameters, multiply-accumulates, depth, weight memory and the
forward latency at each batch size. ``compare(names)`` profiles several models into a ``pandas.DataFrame``, one
row per model, and ``plot_compare(frame)`` draws the usual cost-against-speed bubble chart from it::

    frame = cnn_notes.compare(["custom_vgg", "custom_inception"], input_shape=(64, 64, 3))
    cnn_notes.plot_compare(frame)

Parameters, MACs, depth and weight memory depend only on the model. Latency depends on the machine (its
processor, its load, the TensorFlow build): it is measured, never stored, and a book cell that prints it
carries ``# NBVAL_IGNORE_OUTPUT`` and checks it with an ``assert`` instead (e.g. that it is positive).
"""

import gc
import math
import re
import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from cnn_notes.analysis import count_macs, param_counts
from cnn_notes.language import say
from cnn_notes.models.arguments import _is_int
from cnn_notes.models.registry import build, get_builder

# The layers that papers count as a network's depth ("16 weight layers" for VGG-16): convolutions and
# fully-connected layers, the same layers count_macs counts. BatchNormalization also holds weights, but is not
# a weight layer in that sense.
WEIGHT_LAYERS = (layers.Conv2D, layers.DepthwiseConv2D, layers.SeparableConv2D, layers.Dense)

_PROFILE_SETTINGS = ("input_shape", "batch_sizes", "runs", "warmup")


@dataclass(frozen=True)
class Latency:
    """Forward latency at one batch size, in milliseconds per batch, over ``runs`` timed calls."""

    batch_size: int
    median_ms: float
    q1_ms: float  # first quartile
    q3_ms: float  # third quartile
    min_ms: float
    max_ms: float
    runs: int

    @property
    def iqr_ms(self):
        """The interquartile range ``q3_ms - q1_ms``: the spread of the middle half of the runs."""
        return self.q3_ms - self.q1_ms


@dataclass(frozen=True)
class Profile:
    """What ``profile`` measured of one model.

    ``params``, ``trainable_params``, ``macs``, ``depth`` and ``weight_bytes`` depend only on the model;
    ``latency`` (one ``Latency`` per batch size, in the order asked) and ``device`` depend on the machine.
    """

    name: str
    input_shape: tuple
    params: int
    trainable_params: int
    macs: int
    depth: int
    weight_bytes: int
    device: str
    latency: tuple

    @property
    def gmacs(self):
        """Multiply-accumulates of one image, in billions."""
        return self.macs / 1e9

    def as_row(self):
        """The profile as one flat dict, the row ``compare`` puts in its DataFrame.

        Per batch size ``n``: ``latency_ms_b{n}`` (the median), ``latency_iqr_ms_b{n}``,
        ``latency_min_ms_b{n}`` and ``latency_max_ms_b{n}``.
        """
        row = {
            "name": self.name,
            "input_shape": self.input_shape,
            "params": self.params,
            "trainable_params": self.trainable_params,
            "macs": self.macs,
            "gmacs": self.gmacs,
            "depth": self.depth,
            "weight_bytes": self.weight_bytes,
            "device": self.device,
        }
        for t in self.latency:
            n = t.batch_size
            row |= {
                f"latency_ms_b{n}": t.median_ms,
                f"latency_iqr_ms_b{n}": t.iqr_ms,
                f"latency_min_ms_b{n}": t.min_ms,
                f"latency_max_ms_b{n}": t.max_ms,
            }
        return row


def _check_settings(input_shape, batch_sizes, runs, warmup):
    """Checks profile()'s settings, before any model is built."""
    if input_shape is not None and not isinstance(input_shape, (tuple, list)):
        # The builders check the shape itself; this catches what they would not name as input_shape.
        raise ValueError(
            f"`input_shape` must be None or (height, width, channels). Received: input_shape={input_shape!r}"
        )
    if (
        not isinstance(batch_sizes, (tuple, list))
        or not batch_sizes
        or not all(_is_int(n) and n >= 1 for n in batch_sizes)
        or len(set(batch_sizes)) != len(batch_sizes)
    ):
        raise ValueError(
            "`batch_sizes` must be a non-empty list of distinct positive integers, e.g. (1, 32). "
            f"Received: batch_sizes={batch_sizes!r}"
        )
    if not _is_int(runs) or runs < 1:
        raise ValueError(f"`runs` must be an integer of at least 1. Received: runs={runs!r}")
    if not _is_int(warmup) or warmup < 0:
        raise ValueError(f"`warmup` must be an integer of at least 0. Received: warmup={warmup!r}")


def _check_profilable(model):
    """A model profile() can feed: one input of known size (what every cnn_notes builder returns)."""
    try:
        inputs = model.inputs
    except AttributeError:
        inputs = None
    if not inputs or len(inputs) != 1:
        raise ValueError(
            "profile() needs a model with one defined input, such as cnn_notes.build() returns (a subclassed "
            f"model or a Sequential without an Input has none). Received: model={model!r}"
        )
    shape = tuple(inputs[0].shape[1:])
    if any(d is None for d in shape):
        raise ValueError(
            "profile() needs a model with a known input size; build it with an input_shape of integers. "
            f"Received: model={model!r} with input shape {shape}"
        )
    return shape


def _unique_weights(model):
    return {id(w): w for w in model.weights}.values()


def _depth(model):
    """The number of weight layers (convolutions and fully-connected), counted into nested models."""
    return sum(
        _depth(layer) if isinstance(layer, keras.Model) else isinstance(layer, WEIGHT_LAYERS) for layer in model.layers
    )


def _weight_bytes(model):
    return sum(math.prod(w.shape) * np.dtype(w.dtype).itemsize for w in _unique_weights(model))


def _time_forward(model, input_shape, batch_size, runs, warmup):
    """Times ``runs`` calls of the traced forward step on one seeded batch; returns (Latency, device)."""
    dtype = model.inputs[0].dtype
    batch = np.random.default_rng(0).standard_normal((batch_size, *input_shape)).astype(dtype)
    # An op puts the batch on the current device (a GPU where there is one), once: a tf.constant may stay in
    # host memory, and every timed call would then include copying it over.
    x = tf.identity(batch)

    @tf.function
    def forward(images):
        return model(images, training=False)

    step = forward.get_concrete_function(x)  # traced here, so no timed call (nor warm-up) includes tracing

    def call():
        # Pulling the outputs to the host waits for the device to finish: the time is the real one.
        return [t.numpy() for t in tf.nest.flatten(step(x))]

    for _ in range(warmup):
        call()
    times = []
    gc_was_enabled = gc.isenabled()
    gc.disable()  # as timeit does: a collection in the middle of a run is not the model's time
    try:
        for _ in range(runs):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1e3)
    finally:
        if gc_was_enabled:
            gc.enable()
    q1, median, q3 = np.percentile(times, [25, 50, 75])
    latency = Latency(batch_size, float(median), float(q1), float(q3), min(times), max(times), runs)
    return latency, x.device.rpartition("device:")[2]


def profile(name_or_model, *, input_shape=None, batch_sizes=(1, 32), runs=10, warmup=2):
    """Profiles one model: parameters, MACs, depth, weight memory and measured forward latency.

    Args:
        name_or_model: a registered model name, built with ``cnn_notes.build(name, input_shape=input_shape)``,
            or a built ``keras.Model``, used as it is (its input size must be known).
        input_shape: ``(height, width, channels)`` for a name; ``None`` takes the model's default size. Must be
            ``None`` with a model, whose own input size is used.
        batch_sizes: the batch sizes to time, each a positive integer.
        runs: timed calls per batch size (at least 1).
        warmup: untimed calls per batch size before the timed ones (at least 0).

    Returns a ``Profile``. Counted from the model (the same on every machine): ``params`` and
    ``trainable_params`` (``param_counts``), ``macs`` of one image (``count_macs``), ``depth`` (the weight
    layers: convolutions and fully-connected layers, as the papers count depth) and ``weight_bytes`` (every
    weight's size times its dtype's size, BatchNorm statistics included).

    Measured: per batch size, the forward latency of one batch in milliseconds: the median and the spread
    (quartiles, min and max) of ``runs`` timed calls, after ``warmup`` untimed ones. What is timed is the
    compiled forward step, a ``tf.function`` of ``model(x, training=False)`` traced once beforehand, on a batch
    of seeded random images already on the current device (``Profile.device``), until its outputs are on the
    host (``time.perf_counter``). Latency depends on the machine and its load: book cells that print it carry
    ``# NBVAL_IGNORE_OUTPUT`` and check it with an ``assert``.
    """
    _check_settings(input_shape, batch_sizes, runs, warmup)
    if isinstance(name_or_model, str):
        get_builder(name_or_model)  # an unknown name: the registry's error, with close matches
        model = build(name_or_model, input_shape=input_shape)
        name = name_or_model
    elif isinstance(name_or_model, keras.Model):
        if input_shape is not None:
            raise ValueError(
                "`input_shape` must be None when profiling a built model: its own input size is used. "
                f"Received: input_shape={input_shape!r}"
            )
        model, name = name_or_model, name_or_model.name
    else:
        raise ValueError(
            "`name_or_model` must be a registered model name (see cnn_notes.list_models()) or a keras.Model. "
            f"Received: name_or_model={name_or_model!r} of type {type(name_or_model).__name__}"
        )
    shape = _check_profilable(model)
    counts = param_counts(model)
    timings = [_time_forward(model, shape, n, runs, warmup) for n in batch_sizes]
    return Profile(
        name=name,
        input_shape=shape,
        params=counts.total,
        trainable_params=counts.trainable,
        macs=count_macs(model),
        depth=_depth(model),
        weight_bytes=_weight_bytes(model),
        device=timings[0][1],
        latency=tuple(latency for latency, _ in timings),
    )


def compare(names, *, progress=True, **profile_kwargs):
    """Profiles each named model with ``profile(name, **profile_kwargs)``; returns a ``pandas.DataFrame``.

    One row per model, in the order of ``names``, with the columns of ``Profile.as_row()``: ``name``,
    ``input_shape``, ``params``, ``trainable_params``, ``macs``, ``gmacs``, ``depth``, ``weight_bytes``,
    ``device``, and per batch size ``n`` the latency in milliseconds: ``latency_ms_b{n}`` (median over the
    runs), ``latency_iqr_ms_b{n}``, ``latency_min_ms_b{n}``, ``latency_max_ms_b{n}``. All models are built at
    the same ``input_shape`` (their default sizes when it is ``None``).

    ``progress=True`` shows a progress bar (``keras.utils.Progbar``, one step per model) while measuring;
    ``progress=False`` prints nothing. Latency is machine-dependent (see ``profile``).
    """
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) for n in names):
        raise ValueError(f"`names` must be a non-empty list of model names. Received: names={names!r}")
    if not isinstance(progress, bool):
        raise ValueError(f"`progress` must be True or False. Received: progress={progress!r}")
    unknown = sorted(set(profile_kwargs) - set(_PROFILE_SETTINGS))
    if unknown:
        raise ValueError(
            f"Unknown argument(s) for compare(): {', '.join(unknown)}. Expected progress or profile()'s "
            f"{', '.join(_PROFILE_SETTINGS)}. Received: {profile_kwargs}"
        )
    settings = {"input_shape": None, "batch_sizes": (1, 32), "runs": 10, "warmup": 2} | profile_kwargs
    _check_settings(**settings)
    for name in names:
        get_builder(name)  # every name is known before the first model is built

    import pandas as pd

    bar = keras.utils.Progbar(len(names), unit_name="model") if progress else None
    rows = []
    for i, name in enumerate(names, start=1):
        rows.append(profile(name, **settings).as_row())
        if bar is not None:
            bar.update(i)
    return pd.DataFrame(rows)


# English and Chinese: the axis labels follow cnn_notes.set_language.
_AXIS_LABELS = {
    "gmacs": ("GMACs per image", "每张图像的 GMACs"),
    "top1": ("ImageNet top-1 accuracy (%)", "ImageNet top-1 准确率（%）"),
    "macs": ("MACs per image", "每张图像的乘加次数（MACs）"),
    "params": ("parameters", "参数"),
    "trainable_params": ("trainable parameters", "可训练参数"),
    "depth": ("depth (weight layers)", "深度（带权重的层）"),
    "weight_bytes": ("weight memory (bytes)", "权重内存（字节）"),
}


# Where a point's label may go, in points from the point: right, left, above, below, then further out.
_LABEL_OFFSETS = [(dx * k, dy * k) for k in (1, 1.8, 2.6) for dx, dy in ((7, -3), (-7, -3), (7, 7), (7, -13), (-7, 7), (-7, -13))]


def label_points(ax, labels, xs, ys, sizes=40.0, fontsize=8):
    """Writes each label next to its point, at the first place (``_LABEL_OFFSETS``) where it stays inside
    the axes and overlaps neither a label written before nor another point's marker (``sizes``: the markers'
    areas in points squared, as ``scatter`` takes them). Call it after the axes' scales and limits are set."""
    from matplotlib.transforms import Bbox

    canvas = ax.figure.canvas
    if not hasattr(canvas, "get_renderer"):  # a closed pyplot figure, or one made without pyplot
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = FigureCanvasAgg(ax.figure)
    renderer = canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    centres = ax.transData.transform(np.column_stack([xs, ys]))
    radii = np.sqrt(np.broadcast_to(np.asarray(sizes, float), len(labels))) / 2 * ax.figure.dpi / 72
    markers = [Bbox.from_bounds(cx - r, cy - r, 2 * r, 2 * r) for (cx, cy), r in zip(centres, radii)]
    taken = []
    for i, (label, px, py) in enumerate(zip(labels, xs, ys)):
        if not (np.isfinite(px) and np.isfinite(py)):
            continue
        obstacles = taken + markers[:i] + markers[i + 1 :]
        for dx, dy in _LABEL_OFFSETS:
            text = ax.annotate(label, (px, py), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                               ha="left" if dx > 0 else "right")  # fmt: skip
            box = text.get_window_extent(renderer)
            clear = inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1)
            if clear and not any(box.overlaps(other) for other in obstacles):
                break
            text.remove()
        else:  # nowhere clear: the first place
            text = ax.annotate(label, (px, py), xytext=_LABEL_OFFSETS[0], textcoords="offset points", fontsize=fontsize)
            box = text.get_window_extent(renderer)
        taken.append(box)


def _axis_label(column):
    match = re.fullmatch(r"latency_(iqr_|min_|max_)?ms_b(\d+)", column)
    if match:
        what = {None: "median", "iqr_": "IQR of", "min_": "min", "max_": "max"}[match[1]]
        chinese = {None: "中位数", "iqr_": "四分位距", "min_": "最小值", "max_": "最大值"}[match[1]]
        return say(f"{what} latency at batch {match[2]} (ms)", f"批大小 {match[2]} 时的延迟{chinese}（毫秒）")
    return say(*_AXIS_LABELS[column]) if column in _AXIS_LABELS else column


def plot_compare(frame, x="gmacs", y="latency_ms_b1", size="params", ax=None):
    """Draws ``compare()``'s frame as a bubble chart; returns the matplotlib Figure.

    One point per row at (``x``, ``y``), its area proportional to column ``size`` (``None``: all points the
    same size), labelled with the model's name (the ``name`` column, else the index). An axis is logarithmic
    when its values are all positive and span more than a factor of ten, as cost and latency do across
    architectures. A figure this function creates is closed before it is returned, so a notebook shows it
    exactly once, as the cell's result. Latency columns are machine-dependent (see ``profile``).
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise ValueError(
            "`frame` must be a pandas.DataFrame such as cnn_notes.compare() returns. "
            f"Received: frame={frame!r} of type {type(frame).__name__}"
        )
    if frame.empty:
        raise ValueError(f"`frame` has no rows to plot. Received: frame={frame!r}")
    for argument, column in (("x", x), ("y", y), ("size", size)):
        if column is None and argument == "size":
            continue
        if not isinstance(column, str) or column not in frame.columns:
            raise ValueError(
                f"`{argument}` must name a column of `frame` ({', '.join(map(str, frame.columns))}). "
                f"Received: {argument}={column!r}"
            )
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column]):
            raise ValueError(f"`{argument}` must name a numeric column of `frame`. Received: {argument}={column!r}")

    owns_figure = ax is None
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.4))
    xs, ys = frame[x].to_numpy(float), frame[y].to_numpy(float)
    if size is None:
        areas = 60.0
    else:
        sizes = frame[size].to_numpy(float)
        largest = np.nanmax(np.abs(sizes)) or 1.0
        areas = 30.0 + 770.0 * np.abs(sizes) / largest
    ax.scatter(xs, ys, s=areas, alpha=0.5, color="#3d85c6", edgecolors="#1c4587", linewidths=0.8)
    labels = frame["name"] if "name" in frame.columns else frame.index
    for values, set_scale in ((xs, ax.set_xscale), (ys, ax.set_yscale)):
        finite = values[np.isfinite(values)]
        if finite.size and finite.min() > 0 and finite.max() / finite.min() > 10:
            set_scale("log")
    ax.set_xlabel(_axis_label(x))
    ax.set_ylabel(_axis_label(y))
    if size is not None:
        ax.set_title(say("bubble area: ", "气泡面积：") + _axis_label(size), fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    ax.margins(0.15)
    ax.figure.tight_layout()
    label_points(ax, [str(label) for label in labels], xs, ys, sizes=areas, fontsize=8)
    if owns_figure:
        plt.close(ax.figure)
    return ax.figure


__all__ = ["Latency", "Profile", "compare", "plot_compare", "profile"]
