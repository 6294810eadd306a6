"""Conceptual figures: the ideas the papers draw, drawn from small Keras models built for the purpose.

Each function returns a closed matplotlib Figure (a notebook shows it once, as the cell's result) in the language
of :func:`cnn_notes.set_language`:

- :func:`plot_inception_naive_vs_reduced`: GoogLeNet's naive Inception module beside the one with 1×1
  reductions (Szegedy et al. 2015, Fig. 2), with the multiply-accumulates of each.
- :func:`plot_plain_vs_residual`: two 3×3 convolutions as a plain block and as a residual block (He et al. 2016,
  Fig. 2).
- :func:`plot_inception_to_xception`: from a simplified Inception module to its "extreme" version, a 1×1
  followed by a depthwise 3×3 (Chollet 2017, Figs. 2-4).
- :func:`plot_mbconv_widths`: the narrow-wide-narrow channel counts along one MBConv block of EfficientNet-B0
  (Sandler et al. 2018, Fig. 3; Tan & Le 2019).
- :func:`plot_receptive_field`: the receptive field of a stack of 3×3 convolutions (Simonyan & Zisserman 2015,
  section 2.3).

The block figures are drawn by :func:`cnn_notes.plot_block` from models whose layers are all named, so a figure
shows exactly what the code computes; the MACs under the panels are :func:`cnn_notes.count_macs` of those models.
"""

import keras
from keras import layers

from cnn_notes.analysis import count_macs
from cnn_notes.diagrams import plot_block
from cnn_notes.language import say

# Panels side by side (inches): the margin at each side, the space between two panels, one caption line.
_MARGIN = 0.1
_GAP = 0.3
_LINE = 0.2
_CAPTION_FONT = 8.5


# ---------------------------------------------------------------------------------------------------------
# Small models.


def _conv(x, filters, kernel_size, name, *, groups=1):
    return layers.Conv2D(filters, kernel_size, padding="same", groups=groups, activation="relu", name=name)(x)


def _model(shape, build, name):
    """``build(x)`` applied to a named input of ``shape``; the input layer is ``f"{name}_input"``."""
    inputs = keras.Input(shape, name=f"{name}_input")
    return keras.Model(inputs, build(inputs), name=name)


def _inception(x, name, towers, pool_proj=None):
    """Parallel towers (lists of ``(filters, kernel)``), an optional 3×3 max pool (with a 1×1 after it when
    ``pool_proj`` is given) and their concatenation, as in GoogLeNet."""
    outputs = []
    for tower, convs in towers.items():
        y = x
        for i, (filters, kernel) in enumerate(convs):
            y = _conv(y, filters, kernel, f"{name}_{tower}" + ("_reduce" if i < len(convs) - 1 else ""))
        outputs.append(y)
    if pool_proj is not False:
        y = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
        outputs.append(y if pool_proj is None else _conv(y, pool_proj, 1, f"{name}_pool_proj"))
    return layers.Concatenate(name=f"{name}_output")(outputs)


def _macs_text(model):
    macs = count_macs(model)
    if macs >= 1e8:
        return say(f"{macs / 1e6:.0f}M MACs", f"{macs / 1e8:.3g} 亿次乘加")
    return say(f"{macs / 1e6:.3g}M MACs", f"{macs / 1e4:.3g} 万次乘加")


# ---------------------------------------------------------------------------------------------------------
# Drawing helpers.


def _text_lines(text):
    return text.count("\n") + 1


def _block_panels(panels):
    """One Figure with the blocks side by side, top-aligned, a caption under each.

    ``panels``: ``(model, first, last, caption)`` per panel. :func:`plot_block` draws in inches (its data units
    are the inches of the figure it would make alone), so each panel keeps that scale and the text stays inside
    its boxes; the figure is as wide as the panels need.
    """
    import matplotlib.pyplot as plt

    from cnn_notes.diagrams import _text_width

    fig = plt.figure()
    sizes, axes = [], []
    for model, first, last, caption in panels:
        ax = fig.add_axes((0, 0, 1, 1))
        plot_block(model, first, last, ax=ax)
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        caption_width = max(_text_width(line, _CAPTION_FONT) for line in caption.split("\n")) + 0.3
        sizes.append((x1 - x0, y1 - y0, max(x1 - x0, caption_width)))
        axes.append(ax)
    caption_height = max(_text_lines(p[3]) for p in panels) * _LINE + 0.15
    width = sum(slot for _, _, slot in sizes) + _GAP * (len(panels) - 1) + 2 * _MARGIN
    height = max(h for _, h, _ in sizes) + caption_height
    fig.set_size_inches(width, height)
    left = _MARGIN
    for ax, (w, h, slot), (*_, caption) in zip(axes, sizes, panels):
        middle = left + slot / 2
        ax.set_position(((middle - w / 2) / width, (height - h) / height, w / width, h / height))
        fig.text(middle / width, (caption_height - 0.02) / height, caption, ha="center", va="top",
                 fontsize=_CAPTION_FONT, linespacing=1.35, gid="caption")  # fmt: skip
        left += slot + _GAP
    plt.close(fig)
    return fig


# ---------------------------------------------------------------------------------------------------------
# The figures.


def plot_inception_naive_vs_reduced():
    """GoogLeNet's Inception module, naive and with 1×1 reductions: Szegedy et al. 2015, Fig. 2(a) and 2(b).

    Both act on module 3a's input, 28×28×192. The naive module (a) runs a 1×1 conv with 64 filters, a 3×3 with
    128, a 5×5 with 32 and a 3×3 max pool side by side on it and concatenates them; the module GoogLeNet uses
    (b, its 3a) puts a 1×1 convolution before the 3×3 (96 filters) and the 5×5 (16) and after the pool (32).
    Under each panel: its multiply-accumulates, :func:`cnn_notes.count_macs` of the small model drawn.
    """
    naive = _model((28, 28, 192), lambda x: _inception(x, "naive", {"1x1": [(64, 1)], "3x3": [(128, 3)],
                                                                    "5x5": [(32, 5)]}), "naive")  # fmt: skip
    towers = {"1x1": [(64, 1)], "3x3": [(96, 1), (128, 3)], "5x5": [(16, 1), (32, 5)]}
    reduced = _model((28, 28, 192), lambda x: _inception(x, "inception_3a", towers, pool_proj=32), "reduced")
    return _block_panels([
        (naive, "naive_input", "naive_output",
         say("(a) naive Inception module", "(a) 朴素的 Inception 模块") + f"\n{_macs_text(naive)}"),
        (reduced, "reduced_input", "inception_3a_output",
         say("(b) with 1×1 reductions (GoogLeNet's 3a)", "(b) 加入 1×1 降维（GoogLeNet 的 3a）")
         + f"\n{_macs_text(reduced)}"),
    ])  # fmt: skip


def _plain_or_residual(x, name, residual):
    y = x
    for i in (1, 2):
        y = layers.Conv2D(64, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(y)
        y = layers.BatchNormalization(name=f"{name}_bn{i}")(y)
        if i == 1 or not residual:
            y = layers.Activation("relu", name=f"{name}_relu{i}")(y)
    if residual:
        y = layers.Add(name=f"{name}_add")([y, x])
        y = layers.Activation("relu", name=f"{name}_out")(y)
    return y


def plot_plain_vs_residual():
    """Two 3×3 convolutions, 64 channels on a 56×56 map, as a plain block and as a residual block: He et al.
    2016, Fig. 2 ("Residual learning: a building block").

    The plain block (a) must learn the whole mapping H(x); the residual block (b) learns F(x) = H(x) - x, the
    identity shortcut adds x back before the last ReLU. Both have the same weights and MACs.
    """
    plain = _model((56, 56, 64), lambda x: _plain_or_residual(x, "plain", False), "plain")
    residual = _model((56, 56, 64), lambda x: _plain_or_residual(x, "residual", True), "residual")
    return _block_panels([
        (plain, "plain_input", "plain_relu2", say("(a) plain block: learns H(x)", "(a) 普通块：学习 H(x)")),
        (residual, "residual_input", "residual_out",
         say("(b) residual block: learns F(x) = H(x) − x,\nthe identity shortcut adds x back",
             "(b) 残差块：学习 F(x) = H(x) − x，\n恒等捷径再把 x 加回来")),
    ])  # fmt: skip


def plot_inception_to_xception():
    """From Inception to Xception on a 12×12×48 input: Chollet 2017, Figs. 2, 3 and 4.

    (a) A simplified Inception module (Fig. 2): three towers of a 1×1 convolution (16 filters) then a 3×3 (16),
    concatenated. (b) Its strictly equivalent reformulation (Fig. 3): one 1×1 convolution (48 filters) whose
    output is cut into three non-overlapping segments of 16 channels, each filtered by its own 3×3, i.e. a
    grouped 3×3 convolution with 3 groups. (c) The "extreme" version (Fig. 4): one spatial 3×3 per channel, a
    depthwise convolution, as in Xception. Under each panel: its MACs (a and b are equal).
    """
    towers = {f"tower{i}": [(16, 1), (16, 3)] for i in (1, 2, 3)}
    simplified = _model((12, 12, 48), lambda x: _inception(x, "simplified", towers, pool_proj=False), "simplified")
    grouped = _model((12, 12, 48), lambda x: _conv(_conv(x, 48, 1, "grouped_1x1"), 48, 3, "grouped_3x3", groups=3),
                     "grouped")  # fmt: skip

    def extreme_block(x):
        x = _conv(x, 48, 1, "extreme_1x1")
        return layers.DepthwiseConv2D(3, padding="same", activation="relu", name="extreme_dw3x3")(x)

    extreme = _model((12, 12, 48), extreme_block, "extreme")
    return _block_panels([
        (simplified, "simplified_input", "simplified_output",
         say("(a) simplified Inception module", "(a) 简化的 Inception 模块") + f"\n{_macs_text(simplified)}"),
        (grouped, "grouped_input", "grouped_3x3",
         say("(b) one 1×1, then a 3×3 per\nsegment of 16 channels (g=3)",
             "(b) 一个 1×1，再对每段 16 个\n通道各做 3×3（g=3）") + f"\n{_macs_text(grouped)}"),
        (extreme, "extreme_input", "extreme_dw3x3",
         say("(c) “extreme”: one 3×3\nper channel (depthwise)",
             "(c) “极端”版本：每个通道\n一个 3×3（逐通道卷积）") + f"\n{_macs_text(extreme)}"),
    ])  # fmt: skip


# The layers of one MBConv block whose output widths the chart shows, in order, after the block's input.
_MBCONV_STEPS = (
    ("expand_conv", ("expand 1×1", "扩张 1×1")),
    ("dwconv", ("depthwise 3×3", "逐通道 3×3")),
    ("se_reduce", ("SE reduce 1×1", "SE 降维 1×1")),
    ("se_expand", ("SE expand 1×1", "SE 升维 1×1")),
    ("project_conv", ("project 1×1\n(linear)", "投影 1×1\n（线性）")),
)


def mbconv_widths(model, block):
    """``[(step, channels)]`` along MBConv block ``block`` of an EfficientNet ``model``: its input, then the
    output of its expansion, depthwise convolution, squeeze-and-excitation's reduction and expansion and its
    projection (``"input"``, ``"expand_conv"``, ...). For EfficientNet-B0's ``block2b``: 24, 144, 144, 6,
    144, 24."""
    by_name = {layer.name: layer for layer in model.layers}
    missing = [f"{block}_{step}" for step, _ in _MBCONV_STEPS if f"{block}_{step}" not in by_name]
    if missing:
        raise ValueError(
            f"`block` must name an MBConv block with an expansion of `model` (e.g. 'block2b'); {missing[0]!r} is "
            f"not a layer of {model.name!r}. Received: block={block!r}"
        )
    first = by_name[f"{block}_expand_conv"]
    widths = [("input", int(first.input.shape[-1]))]
    return widths + [(step, int(by_name[f"{block}_{step}"].output.shape[-1])) for step, _ in _MBCONV_STEPS]


def plot_mbconv_widths(model=None, block="block2b"):
    """The channel count along one MBConv block, narrow-wide-narrow: the inverted residual of Sandler et al.
    2018 (MobileNetV2, Fig. 3(b)), with EfficientNet's squeeze-and-excitation (Tan & Le 2019).

    ``model`` is an EfficientNet built by cnn_notes (by default EfficientNet-B0 without its top on 64×64 inputs:
    the widths do not depend on the input size); ``block`` names one of its blocks with an expansion (not
    ``block1a``). The widths are read from the model's layers (:func:`mbconv_widths`); the shortcut joins the
    two narrow ends.
    """
    import matplotlib.pyplot as plt

    if model is None:
        from cnn_notes.models.registry import build

        model = build("efficientnet_b0", include_top=False, input_shape=(64, 64, 3))
    if not isinstance(model, keras.Model):
        raise ValueError(f"`model` must be a keras.Model built by cnn_notes, or None. Received: model={model!r}")
    if not isinstance(block, str):
        raise ValueError(f"`block` must be a string such as 'block2b'. Received: block={block!r}")
    widths = mbconv_widths(model, block)
    names = [say("input", "输入")] + [say(*text) for _, text in _MBCONV_STEPS]
    channels = [c for _, c in widths]
    colours = ["#eeeeee", "#cfe2f3", "#d9d2e9", "#ead1dc", "#ead1dc", "#cfe2f3"]
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    bars = ax.bar(range(len(channels)), channels, color=colours, edgecolor="#555555", linewidth=0.6, width=0.62)
    for i in (3, 4):  # squeeze-and-excitation: a side branch that computes the gate of the 144 channels
        bars[i].set_hatch("///")
        bars[i].set_edgecolor("#7d3c98")
    ax.bar_label(bars, labels=[str(c) for c in channels], padding=2, fontsize=9)
    # The shortcut of the inverted residual, drawn as a bracket from the narrow input to the narrow output.
    last, high = len(channels) - 1, max(channels)
    lane = high * 1.2
    ax.plot([0, 0, last, last], [channels[0] + high * 0.1, lane, lane, channels[-1] + high * 0.16],
            color="#c0392b", lw=0.9)  # fmt: skip
    ax.annotate("", xy=(last, channels[-1] + high * 0.1), xytext=(last, channels[-1] + high * 0.17),
                arrowprops=dict(arrowstyle="-|>", color="#c0392b", lw=0.9, mutation_scale=8))  # fmt: skip
    ax.text(last / 2, lane + high * 0.03, say("shortcut: adds the narrow input to the narrow output",
                                              "捷径：把窄的输入加到窄的输出上"),
            ha="center", va="bottom", fontsize=8, color="#c0392b")  # fmt: skip
    ax.text(3, high * 0.45, say("squeeze-and-excitation\n(gates the channels)", "压缩激励\n（通道门控）"),
            ha="center", va="center", fontsize=7.5, color="#7d3c98")  # fmt: skip
    top = lane + high * 0.14
    ax.set_ylim(0, top)
    ax.set_xticks(range(len(channels)), names, fontsize=8.5)
    ax.set_ylabel(say("channels", "通道数"))
    ax.set_xlabel(say(f"layer of {block} in {model.name}", f"{model.name} 的 {block} 中的层"))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_receptive_field(layers=3):
    """What one output pixel of a stack of ``layers`` 3×3 convolutions (stride 1) sees of the input: Simonyan &
    Zisserman 2015 (VGG), section 2.3, "a stack of two 3×3 conv. layers ... has an effective receptive field of
    5×5; three such layers have a 7×7 effective receptive field".

    One grid panel per depth n = 1 ... ``layers`` (an int from 1 to 6), each cell an input pixel; the shaded
    square is the receptive field of the centre output pixel, 1 + 2·n pixels on a side.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if isinstance(layers, bool) or not isinstance(layers, int) or not 1 <= layers <= 6:
        raise ValueError(f"`layers` must be an int from 1 to 6. Received: layers={layers!r}")
    grid = 1 + 2 * layers  # the input drawn: just large enough for the deepest field
    side = min(2.2, 9.6 / layers)
    fig, axes = plt.subplots(1, layers, figsize=(side * layers, side + 0.55), squeeze=False)
    for n, ax in enumerate(axes[0], start=1):
        field = 1 + 2 * n
        start = (grid - field) / 2
        ax.add_patch(Rectangle((start, start), field, field, fc="#cfe2f3", ec="#1f4e79", lw=1.2))
        for depth in range(1, n):  # the fields of the shallower layers, nested inside
            s = (grid - 1 - 2 * depth) / 2
            ax.add_patch(Rectangle((s, s), 1 + 2 * depth, 1 + 2 * depth, fill=False, ec="#6fa8dc", lw=0.8, ls="--"))
        ax.add_patch(Rectangle(((grid - 1) / 2, (grid - 1) / 2), 1, 1, fc="#1f4e79", ec="none"))
        for i in range(grid + 1):
            ax.plot([0, grid], [i, i], color="#bbbbbb", lw=0.5)
            ax.plot([i, i], [0, grid], color="#bbbbbb", lw=0.5)
        ax.set_xlim(-0.2, grid + 0.2)
        ax.set_ylim(-0.2, grid + 0.2)
        ax.set_aspect("equal")
        ax.axis("off")
        plural = "s" if n > 1 else ""
        title = say(f"{n} layer{plural} of 3×3: {field}×{field}", f"{n} 层 3×3 卷积：{field}×{field}")
        ax.set_title(title, fontsize=9 if layers <= 4 else 7.5)
    fig.text(0.5, 0.02, say("dark: one output pixel; blue: the input pixels it sees (its receptive field)",
                            "深色：一个输出像素；蓝色：它能看到的输入像素（感受野）"),
             ha="center", va="bottom", fontsize=8)  # fmt: skip
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    plt.close(fig)
    return fig


__all__ = [
    "mbconv_widths",
    "plot_inception_naive_vs_reduced",
    "plot_inception_to_xception",
    "plot_mbconv_widths",
    "plot_plain_vs_residual",
    "plot_receptive_field",
]
