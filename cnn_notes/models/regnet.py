"""RegNet: Radosavovic, Kosaraju, Girshick, He & Dollár, "Designing Network Design Spaces", CVPR 2020
(arXiv:2003.13678).

The paper designs *design spaces*, populations of networks, rather than single networks. It starts from AnyNet
(a stem, four stages of residual bottleneck blocks with group convolution, a head; every stage free in its depth,
width, bottleneck ratio and group width) and narrows it step by step, keeping each constraint that does not make
the distribution of errors of sampled models worse. What is left, RegNet, has six numbers: a depth ``d``, an
initial width ``w_0``, a slope ``w_a``, a multiplier ``w_m`` (with the bottleneck ratio and group width). Block
``j`` gets the width of a line, ``u_j = w_0 + w_a * j``, snapped to a power of ``w_m`` times ``w_0``:

    s_j = round(log(u_j / w_0) / log(w_m)),   w_j = w_0 * w_m ** s_j   (then rounded to a multiple of 8),

so the block widths form a staircase, and each step of the staircase is one stage: the *quantized linear* rule.
RegNetX uses the X block (ResNeXt's bottleneck with group convolution, bottleneck ratio 1); RegNetY adds
squeeze-and-excitation to it (Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018), with a squeeze width of a
quarter of the block's *input* width.

Keras 3 has no RegNet: the reference is torchvision (``torchvision/models/regnet.py``). ``regnet_stages``
computes the stages as torchvision's ``BlockParams.from_init_params`` does, including its rounding of a stage's
bottleneck width to a multiple of the group width (``_make_divisible``, halves up), where pycls, the paper's code,
rounds halves to even: torchvision's RegNetX-400MF has a last stage of 400 channels where pycls' has 384. The
blocks follow its ``SimpleStemIN``, ``ResBottleneckBlock``, ``BottleneckTransform`` and ``AnyStage``. Its 3x3
convolutions of stride 2 pad one pixel on every side, which Keras' ``padding="same"`` does not on an even input (it
pads after only), so those are an explicit ``ZeroPadding2D(1)`` and a ``"valid"`` convolution, as
keras.applications' ResNet stem: every convolution sees the input torchvision's sees. BatchNorm takes
torchvision's ``eps=1e-5, momentum=0.1``, which is Keras' ``epsilon=1e-5, momentum=0.9`` (Keras' momentum weighs
the old statistics). Layer names are this package's: ``stem_conv``, then ``s{stage}_b{block}_{a,b,se,c,proj}_...``
(torchvision's ``trunk_output.block{stage}.block{stage}-{block - 1}.f.a``).
"""

import math
from collections import namedtuple
from numbers import Integral, Real

import keras
from keras import layers

from cnn_notes.models.arguments import parse_common_args
from cnn_notes.models.heads import model_input, pooled_classifier
from cnn_notes.models.registry import register_model

# The eight models, torchvision's arguments to BlockParams.from_init_params (torchvision/models/regnet.py, the
# values of the paper's released models in pycls): depth d, initial width w_0, slope w_a, multiplier w_m, group
# width g, and the squeeze-and-excitation ratio (None for RegNetX, 0.25 for RegNetY). Every one has bottleneck
# ratio 1 and a stem of 32 channels. The name is the budget: 400MF is about 400 million multiply-adds.
RegNetRow = namedtuple("RegNetRow", ["depth", "w_0", "w_a", "w_m", "group_width", "se_ratio"])
VARIANTS = {
    "regnet_x_400mf": RegNetRow(22, 24, 24.48, 2.54, 16, None),
    "regnet_x_800mf": RegNetRow(16, 56, 35.73, 2.28, 16, None),
    "regnet_x_1_6gf": RegNetRow(18, 80, 34.01, 2.25, 24, None),
    "regnet_x_3_2gf": RegNetRow(25, 88, 26.31, 2.25, 48, None),
    "regnet_y_400mf": RegNetRow(16, 48, 27.89, 2.09, 8, 0.25),
    "regnet_y_800mf": RegNetRow(14, 56, 38.84, 2.4, 16, 0.25),
    "regnet_y_1_6gf": RegNetRow(27, 48, 20.71, 2.65, 24, 0.25),
    "regnet_y_3_2gf": RegNetRow(21, 80, 42.63, 2.66, 24, 0.25),
}

# The family options a builder takes (torchvision's from_init_params arguments); each defaults to the row's.
DESIGN_OPTIONS = ("depth", "w_0", "w_a", "w_m", "group_width", "bottleneck_multiplier", "se_ratio")

QUANT = 8  # block widths are multiples of 8
STRIDE = 2  # every stage halves the map in its first block
STEM_WIDTH = 32
# torchvision's BatchNorm2d(eps=1e-5, momentum=0.1): Keras' momentum is the weight of the old statistics.
BN_EPSILON, BN_MOMENTUM = 1e-5, 0.9
# The stem and four stages halve the map, n -> ceil(n / 2), so any input builds (torchvision's meta says
# min_size (1, 1)); 32 is the smallest side that every halving divides exactly (32 -> 16 -> 8 -> 4 -> 2 -> 1),
# the floor keras.applications keeps for its padded families, and what the book states.
MIN_SIZE = 32

Stage = namedtuple("Stage", ["width", "depth", "group_width", "bottleneck_multiplier", "stride"])


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, Real) and not isinstance(value, bool)


def check_design(depth, w_0, w_a, w_m, group_width, bottleneck_multiplier=1.0):
    """Checks the numbers of a RegNet (torchvision refuses the same: w_a < 0, w_0 <= 0, w_m <= 1, w_0 % 8)."""
    if not _is_int(depth) or depth < 1:
        raise ValueError(f"`depth` must be an integer of at least 1 (the number of blocks). Received: depth={depth!r}")
    if not _is_int(w_0) or w_0 < QUANT or w_0 % QUANT:
        raise ValueError(f"`w_0` must be a positive multiple of 8 (the first block's width). Received: w_0={w_0!r}")
    if not _is_number(w_a) or not w_a >= 0:
        raise ValueError(f"`w_a` must be a number of at least 0 (the slope of the widths). Received: w_a={w_a!r}")
    if not _is_number(w_m) or not w_m > 1:
        raise ValueError(f"`w_m` must be a number greater than 1 (the width multiplier). Received: w_m={w_m!r}")
    if not _is_int(group_width) or group_width < 1:
        raise ValueError(
            "`group_width` must be an integer of at least 1 (channels per group). "
            f"Received: group_width={group_width!r}"
        )
    if not _is_number(bottleneck_multiplier) or not bottleneck_multiplier > 0:
        raise ValueError(
            "`bottleneck_multiplier` must be a positive number (the bottleneck's width over the block's). "
            f"Received: bottleneck_multiplier={bottleneck_multiplier!r}"
        )


def linear_widths(depth, w_0, w_a):
    """The continuous widths of the linear rule, ``u_j = w_0 + w_a * j`` for the blocks ``j = 0 .. depth - 1``."""
    return [w_0 + w_a * j for j in range(depth)]


def block_widths(depth, w_0, w_a, w_m):
    """The quantized linear rule: each block's width ``u_j`` snapped to ``w_0 * w_m ** s_j``, with
    ``s_j = round(log(u_j / w_0) / log(w_m))``, then rounded to a multiple of 8 (torchvision's
    ``from_init_params``, first step). Returns one width per block: a staircase whose steps are the stages."""
    check_design(depth, w_0, w_a, w_m, 1)
    widths = []
    for u in linear_widths(depth, w_0, w_a):
        s = round(math.log(u / w_0) / math.log(w_m))
        widths.append(int(round(w_0 * w_m**s / QUANT)) * QUANT)
    return widths


def make_divisible(value, divisor):
    """torchvision's ``_make_divisible``: ``value`` rounded to the nearest multiple of ``divisor`` (halves up),
    at least ``divisor``, and raised by one ``divisor`` if that fell more than 10% below ``value``."""
    new_value = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


def regnet_stages(depth, w_0, w_a, w_m, group_width, bottleneck_multiplier=1.0):
    """The stages of the RegNet with these numbers, computed as torchvision's ``BlockParams.from_init_params``.

    The blocks of equal width (``block_widths``) form a stage; each stage's bottleneck width ``int(width * b)``
    is then made a multiple of its group width (``make_divisible``; the group width is capped at the
    bottleneck width), and the stage width follows from it. Every stage's first block has stride 2.

    Returns a tuple of ``Stage(width, depth, group_width, bottleneck_multiplier, stride)``; raises a
    ``ValueError`` naming the argument for numbers outside the design space.
    """
    check_design(depth, w_0, w_a, w_m, group_width, bottleneck_multiplier)
    runs = []  # [width, blocks] for each run of equal widths
    for width in block_widths(depth, w_0, w_a, w_m):
        if runs and runs[-1][0] == width:
            runs[-1][1] += 1
        else:
            runs.append([width, 1])
    stages = []
    for width, blocks in runs:
        w_bot = int(width * bottleneck_multiplier)
        g = min(group_width, w_bot)
        w_bot = make_divisible(w_bot, g) if w_bot else 0
        width = int(w_bot / bottleneck_multiplier)
        # The block recomputes its bottleneck from the stage width (int(round(width * b))); it must still split
        # into whole groups, which a multiplier other than 1 can break.
        if w_bot < 1 or int(round(width * bottleneck_multiplier)) % g:
            raise ValueError(
                f"`bottleneck_multiplier` gives a stage of width {width} whose bottleneck does not split into "
                f"groups of {g} channels. Received: bottleneck_multiplier={bottleneck_multiplier!r}"
            )
        stages.append(Stage(width, blocks, g, bottleneck_multiplier, STRIDE))
    return tuple(stages)


def _bn(name):
    return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name)


def _conv_bn(x, filters, kernel_size, *, strides=1, groups=1, relu, name):
    """torchvision's ``Conv2dNormActivation``: a convolution without bias, BatchNorm, and ReLU if ``relu``. A 3x3
    convolution of stride 2 pads one pixel on every side first, as PyTorch's ``padding=1``."""
    padding = "same"
    if kernel_size == 3 and strides == 2:
        x = layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
        padding = "valid"
    x = layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, groups=groups, use_bias=False, name=f"{name}_conv"
    )(x)
    x = _bn(f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def squeeze_excite(x, squeeze, *, name):
    """Squeeze-and-excitation (torchvision's ``SqueezeExcitation``): the global average of each channel, a 1x1
    convolution down to ``squeeze`` channels with ReLU, a 1x1 convolution back with a sigmoid, and the
    product of that gate with ``x``, channel by channel."""
    se = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_squeeze")(x)
    se = layers.Conv2D(squeeze, 1, name=f"{name}_reduce")(se)
    se = layers.ReLU(name=f"{name}_relu")(se)
    se = layers.Conv2D(x.shape[-1], 1, name=f"{name}_expand")(se)
    se = layers.Activation("sigmoid", name=f"{name}_sigmoid")(se)
    return layers.Multiply(name=f"{name}_excite")([x, se])


def x_block(x, width, *, stride, group_width, bottleneck_multiplier=1.0, se_ratio=None, name):
    """RegNet's X block, the Y block with ``se_ratio`` (torchvision's ``ResBottleneckBlock``).

    A 1x1 convolution to the bottleneck width ``w_b = round(width * bottleneck_multiplier)`` (``a``), a 3x3
    group convolution of ``w_b / group_width`` groups with the block's stride (``b``), squeeze-and-excitation
    to ``round(se_ratio * input width)`` channels if ``se_ratio`` (``se``), a 1x1 convolution to ``width``
    without ReLU (``c``); the shortcut, a 1x1 convolution with BatchNorm where the stride or the width changes
    (``proj``), is added, then ReLU.
    """
    in_width = x.shape[-1]
    w_b = int(round(width * bottleneck_multiplier))
    shortcut = x
    if in_width != width or stride != 1:
        shortcut = _conv_bn(x, width, 1, strides=stride, relu=False, name=f"{name}_proj")
    y = _conv_bn(x, w_b, 1, relu=True, name=f"{name}_a")
    y = _conv_bn(y, w_b, 3, strides=stride, groups=w_b // group_width, relu=True, name=f"{name}_b")
    if se_ratio:
        y = squeeze_excite(y, int(round(se_ratio * in_width)), name=f"{name}_se")
    y = _conv_bn(y, width, 1, relu=False, name=f"{name}_c")
    x = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(x)


def _check_se_ratio(se_ratio, stages):
    if se_ratio is None:
        return None
    if not _is_number(se_ratio) or not 0 <= se_ratio <= 1:
        raise ValueError(
            "`se_ratio` must be None or a number in [0, 1] (the squeeze width over the block's input width). "
            f"Received: se_ratio={se_ratio!r}"
        )
    narrowest = min(STEM_WIDTH, *(stage.width for stage in stages))
    if se_ratio and int(round(se_ratio * narrowest)) < 1:
        raise ValueError(
            f"`se_ratio` leaves no channel in the squeeze of a block of {narrowest} input channels. "
            f"Received: se_ratio={se_ratio!r}"
        )
    return float(se_ratio) or None


def _regnet(model, **kwargs):
    row = VARIANTS[model]._asdict() | {"bottleneck_multiplier": 1.0}
    design = {option: kwargs.pop(option, row[option]) for option in DESIGN_OPTIONS}
    args = parse_common_args(model, kwargs, default_size=224, min_size=MIN_SIZE)
    se_ratio = design.pop("se_ratio")
    stages = regnet_stages(**design)
    se_ratio = _check_se_ratio(se_ratio, stages)

    inputs = model_input(args)
    x = _conv_bn(inputs, STEM_WIDTH, 3, strides=2, relu=True, name="stem")
    for s, stage in enumerate(stages, start=1):
        for b in range(1, stage.depth + 1):
            x = x_block(
                x,
                stage.width,
                stride=stage.stride if b == 1 else 1,
                group_width=stage.group_width,
                bottleneck_multiplier=stage.bottleneck_multiplier,
                se_ratio=se_ratio,
                name=f"s{s}_b{b}",
            )
    x = pooled_classifier(x, args)
    return keras.Model(inputs, x, name=args.name)


@register_model
def regnet_x_400mf(**kwargs):
    """RegNetX-400MF (Radosavovic et al. 2020, "Designing Network Design Spaces", arXiv:2003.13678).

    d = 22, w_0 = 24, w_a = 24.48, w_m = 2.54, g = 16: stages of 32, 64, 160, 400 channels and 1, 2, 7, 12
    blocks. Parameters: 5,533,832 in all: 5,495,976 trainable, torchvision's num_params, and 37,856
    non-trainable (BatchNorm's moving means and variances). 413,812,608 MACs at 224x224, torchvision's
    0.414 GFLOPS.

    Family options (keyword-only), torchvision's ``BlockParams.from_init_params`` arguments, each defaulting to
    the model's row of ``VARIANTS``: ``depth``, ``w_0``, ``w_a``, ``w_m``, ``group_width``,
    ``bottleneck_multiplier`` (1.0) and ``se_ratio`` (None for RegNetX, 0.25 for RegNetY). Another value builds
    another member of the design space, under the same name: ``regnet_stages`` computes its stages and refuses
    numbers outside the space. All eight models take them.
    """
    return _regnet("regnet_x_400mf", **kwargs)


@register_model
def regnet_x_800mf(**kwargs):
    """RegNetX-800MF (Radosavovic et al. 2020, arXiv:2003.13678).

    d = 16, w_0 = 56, w_a = 35.73, w_m = 2.28, g = 16: stages of 64, 128, 288, 672 channels and 1, 3, 7, 5
    blocks. Parameters: 7,296,968 in all: 7,259,656 trainable, torchvision's num_params, and 37,312
    non-trainable (BatchNorm's moving means and variances). 799,699,712 MACs at 224x224, torchvision's
    0.8 GFLOPS.

    The family options are those of ``regnet_x_400mf``.
    """
    return _regnet("regnet_x_800mf", **kwargs)


@register_model
def regnet_x_1_6gf(**kwargs):
    """RegNetX-1.6GF (Radosavovic et al. 2020, arXiv:2003.13678).

    d = 18, w_0 = 80, w_a = 34.01, w_m = 2.25, g = 24: stages of 72, 168, 408, 912 channels and 2, 4, 10, 2
    blocks. Parameters: 9,233,640 in all: 9,190,136 trainable, torchvision's num_params, and 43,504
    non-trainable (BatchNorm's moving means and variances). 1,602,849,792 MACs at 224x224, torchvision's
    1.603 GFLOPS.

    The family options are those of ``regnet_x_400mf``.
    """
    return _regnet("regnet_x_1_6gf", **kwargs)


@register_model
def regnet_x_3_2gf(**kwargs):
    """RegNetX-3.2GF (Radosavovic et al. 2020, arXiv:2003.13678).

    d = 25, w_0 = 88, w_a = 26.31, w_m = 2.25, g = 48: stages of 96, 192, 432, 1008 channels and 2, 6, 15, 2
    blocks. Parameters: 15,359,112 in all: 15,296,552 trainable, torchvision's num_params, and 62,560
    non-trainable (BatchNorm's moving means and variances). 3,176,621,952 MACs at 224x224, torchvision's
    3.177 GFLOPS.

    The family options are those of ``regnet_x_400mf``.
    """
    return _regnet("regnet_x_3_2gf", **kwargs)


@register_model
def regnet_y_400mf(**kwargs):
    """RegNetY-400MF (Radosavovic et al. 2020, arXiv:2003.13678): RegNetX's block with squeeze-and-excitation.

    d = 16, w_0 = 48, w_a = 27.89, w_m = 2.09, g = 8, se_ratio = 0.25: stages of 48, 104, 208, 440 channels and
    1, 3, 6, 6 blocks. Parameters: 4,371,296 in all: 4,344,144 trainable, torchvision's num_params, and 27,152
    non-trainable (BatchNorm's moving means and variances). 401,842,848 MACs at 224x224, torchvision's
    0.402 GFLOPS.

    The family options are those of ``regnet_x_400mf``.
    """
    return _regnet("regnet_y_400mf", **kwargs)


@register_model
def regnet_y_800mf(**kwargs):
    """RegNetY-800MF (Radosavovic et al. 2020, arXiv:2003.13678).

    d = 14, w_0 = 56, w_a = 38.84, w_m = 2.4, g = 16, se_ratio = 0.25: stages of 64, 144, 320, 784 channels
    and 1, 3, 8, 2 blocks. Parameters: 6,462,944 in all: 6,432,512 trainable, torchvision's num_params, and 30,432
    non-trainable (BatchNorm's moving means and variances). 833,856,256 MACs at 224x224, torchvision's
    0.834 GFLOPS.

    The family options are those of ``regnet_x_400mf``.
    """
    return _regnet("regnet_y_800mf", **kwargs)


@register_model
def regnet_y_1_6gf(**kwargs):
    """RegNetY-1.6GF (Radosavovic et al. 2020, arXiv:2003.13678).

    d = 27, w_0 = 48, w_a = 20.71, w_m = 2.65, g = 24, se_ratio = 0.25: stages of 48, 120, 336, 888 channels
    and 2, 6, 17, 2 blocks. Parameters: 11,255,102 in all: 11,202,430 trainable, torchvision's num_params, and 52,672
    non-trainable (BatchNorm's moving means and variances). 1,612,076,160 MACs at 224x224, torchvision's
    1.612 GFLOPS.

    The family options are those of ``regnet_x_400mf``.
    """
    return _regnet("regnet_y_1_6gf", **kwargs)


@register_model
def regnet_y_3_2gf(**kwargs):
    """RegNetY-3.2GF (Radosavovic et al. 2020, arXiv:2003.13678).

    d = 21, w_0 = 80, w_a = 42.63, w_m = 2.66, g = 24, se_ratio = 0.25: stages of 72, 216, 576, 1512 channels
    and 2, 5, 13, 1 blocks. Parameters: 19,502,498 in all: 19,436,338 trainable, torchvision's num_params, and 66,160
    non-trainable (BatchNorm's moving means and variances). 3,176,482,752 MACs at 224x224, torchvision's
    3.176 GFLOPS.

    The family options are those of ``regnet_x_400mf``.
    """
    return _regnet("regnet_y_3_2gf", **kwargs)

