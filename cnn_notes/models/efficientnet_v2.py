"""EfficientNetV2: Tan & Le, "EfficientNetV2: Smaller Models and Faster Training", ICML 2021 (arXiv:2104.00298).

EfficientNet's successor, searched and scaled for *training* speed as well as accuracy and size:

* **Fused-MBConv** in the early stages: MBConv's 1x1 expansion and depthwise 3x3 convolution are fused into one
  ordinary 3x3 convolution (with no expansion convolution at all when the ratio is 1). It has more weights and
  multiply-adds than the pair it replaces, but on narrow early stages it runs faster on accelerators, which
  handle depthwise convolutions poorly; the later, wider stages keep MBConv with squeeze-and-excitation.
* **Training-aware architecture search**: the search rewards accuracy, training step time and size together; it
  chose 3x3 kernels only and smaller expansion ratios (4 in the early stages) than EfficientNet's 6.
* **Non-uniform scaling** for S, M and L: more blocks in the late stages and a capped image size, instead of
  EfficientNet's compound scaling. B0 to B3 are the searched baseline scaled as EfficientNet-B0 to B3 are.
* **Progressive learning** (a training method, not part of the models): the image size grows during training and
  the regularisation (dropout, RandAugment, mixup) grows with it.

The layers, their names and their weights follow ``keras.applications.efficientnet_v2`` (``EfficientNetV2B0`` to
``EfficientNetV2L``), so that every variant equals its keras twin weight for weight, in the same order. keras
names a block's layers ``block1a_project_conv`` and so on; its input layers ``rescaling`` and ``normalization``
keep their names here too.
"""

import math
from collections import namedtuple

import keras
from keras import layers

from cnn_notes.models.arguments import check_bool, check_rate, parse_common_args
from cnn_notes.models.efficientnet import CONV_KERNEL_INITIALIZER, squeeze_excite
from cnn_notes.models.heads import model_input, pooled_classifier
from cnn_notes.models.registry import register_model

# One row per stage, as keras' DEFAULT_BLOCKS_ARGS (and the official code's block strings, google/automl's
# efficientnetv2/effnetv2_configs.py): the block type, kernel, number of blocks, input and output channels,
# expansion ratio, the first block's stride and the squeeze-and-excitation ratio (of the block's input channels;
# 0 is no SE). Every block has an identity shortcut wherever the stride is 1 and the channels agree.
Stage = namedtuple(
    "Stage", ["block", "kernel_size", "repeats", "filters_in", "filters_out", "expand_ratio", "strides", "se_ratio"]
)
FUSED, MBCONV = "fused", "mbconv"

# B0-B3's baseline: three Fused-MBConv stages, then three MBConv stages with SE (the paper's section 3.3 search;
# B1-B3 scale it as EfficientNet-B1-B3 scale B0).
BASE_STAGES = (
    Stage(FUSED, 3, 1, 32, 16, 1, 1, 0.0),
    Stage(FUSED, 3, 2, 16, 32, 4, 2, 0.0),
    Stage(FUSED, 3, 2, 32, 48, 4, 2, 0.0),
    Stage(MBCONV, 3, 3, 48, 96, 4, 2, 0.25),
    Stage(MBCONV, 3, 5, 96, 112, 6, 1, 0.25),
    Stage(MBCONV, 3, 8, 112, 192, 6, 2, 0.25),
)
# EfficientNetV2-S, the paper's Table 4.
S_STAGES = (
    Stage(FUSED, 3, 2, 24, 24, 1, 1, 0.0),
    Stage(FUSED, 3, 4, 24, 48, 4, 2, 0.0),
    Stage(FUSED, 3, 4, 48, 64, 4, 2, 0.0),
    Stage(MBCONV, 3, 6, 64, 128, 4, 2, 0.25),
    Stage(MBCONV, 3, 9, 128, 160, 6, 1, 0.25),
    Stage(MBCONV, 3, 15, 160, 256, 6, 2, 0.25),
)
# M and L: S scaled up by hand, with a seventh stage (the paper's section 3.4).
M_STAGES = (
    Stage(FUSED, 3, 3, 24, 24, 1, 1, 0.0),
    Stage(FUSED, 3, 5, 24, 48, 4, 2, 0.0),
    Stage(FUSED, 3, 5, 48, 80, 4, 2, 0.0),
    Stage(MBCONV, 3, 7, 80, 160, 4, 2, 0.25),
    Stage(MBCONV, 3, 14, 160, 176, 6, 1, 0.25),
    Stage(MBCONV, 3, 18, 176, 304, 6, 2, 0.25),
    Stage(MBCONV, 3, 5, 304, 512, 6, 1, 0.25),
)
L_STAGES = (
    Stage(FUSED, 3, 4, 32, 32, 1, 1, 0.0),
    Stage(FUSED, 3, 7, 32, 64, 4, 2, 0.0),
    Stage(FUSED, 3, 7, 64, 96, 4, 2, 0.0),
    Stage(MBCONV, 3, 10, 96, 192, 4, 2, 0.25),
    Stage(MBCONV, 3, 19, 192, 224, 6, 1, 0.25),
    Stage(MBCONV, 3, 25, 224, 384, 6, 2, 0.25),
    Stage(MBCONV, 3, 7, 384, 640, 6, 1, 0.25),
)
TOP_FILTERS = 1280

# Per model: its stages, width and depth multipliers and default input size (keras' and the official code's
# evaluation size). ``v1_preprocessing``: B0-B3 take EfficientNet's input normalisation (Rescaling(1/255), then
# ImageNet's mean and variance); S, M and L map [0, 255] to [-1, 1].
Variant = namedtuple("Variant", ["stages", "width", "depth", "resolution", "v1_preprocessing"])
VARIANTS = {
    "efficientnet_v2_b0": Variant(BASE_STAGES, 1.0, 1.0, 224, True),
    "efficientnet_v2_b1": Variant(BASE_STAGES, 1.0, 1.1, 240, True),
    "efficientnet_v2_b2": Variant(BASE_STAGES, 1.1, 1.2, 260, True),
    "efficientnet_v2_b3": Variant(BASE_STAGES, 1.2, 1.4, 300, True),
    "efficientnet_v2_s": Variant(S_STAGES, 1.0, 1.0, 384, False),
    "efficientnet_v2_m": Variant(M_STAGES, 1.0, 1.0, 480, False),
    "efficientnet_v2_l": Variant(L_STAGES, 1.0, 1.0, 480, False),
}

# ImageNet's channel statistics, which keras writes into the B-variants' Normalization layer (constants: the
# layer then has no weights).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_VARIANCE = (0.229**2, 0.224**2, 0.225**2)

# keras' BatchNorm momentum in EfficientNetV2 (the TF reference code's); the epsilon is keras' default, 1e-3.
BN_MOMENTUM = 0.9

# keras' own limit (it also builds below: every stride-2 layer pads "same", mapping n to ceil(n / 2), never to 0).
MIN_SIZE = 32


def round_filters(filters, width, divisor=8):
    """Scales a channel count by ``width`` and rounds it to the nearest multiple of ``divisor`` (at least one).

    keras' V2 rule. Unlike EfficientNet's (``cnn_notes.models.efficientnet.round_filters``) it never adds a
    ``divisor`` back when the rounding falls more than 10% below: B3's 16 * 1.2 = 19.2 becomes 16, not 24.
    """
    filters *= width
    return int(max(divisor, int(filters + divisor / 2) // divisor * divisor))


def round_repeats(repeats, depth):
    """Scales a stage's number of blocks by ``depth``, rounding up (a stage never loses a block)."""
    return int(math.ceil(depth * repeats))


def _bn(name):
    return layers.BatchNormalization(momentum=BN_MOMENTUM, name=name)


def _conv(filters, kernel_size, strides, name):
    return layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=name,
    )


def _shortcut(x, inputs, strides, filters_in, filters_out, drop_rate, name):
    """The identity shortcut where the shapes agree, with stochastic depth (keras' Dropout that drops the whole
    residual branch of an example: ``noise_shape`` (batch, 1, 1, 1))."""
    if strides == 1 and filters_in == filters_out:
        if drop_rate:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(x)
        x = layers.Add(name=f"{name}_add")([x, inputs])
    return x


def mbconv_block(x, filters_in, filters_out, *, kernel_size, strides, expand_ratio, se_ratio, drop_rate, name):
    """MBConv, EfficientNet's inverted residual: a 1x1 expansion with BatchNorm and swish (none when the ratio
    is 1), a depthwise convolution with BatchNorm and swish, squeeze-and-excitation, a linear 1x1 projection with
    BatchNorm, and the shortcut.

    As keras' V2 ``MBConvBlock``: the depthwise layer is named ``*_dwconv2`` (EfficientNet's is ``*_dwconv``) and
    pads "same" even with stride 2 (EfficientNet pads explicitly first), and BatchNorm's momentum is 0.9.
    """
    inputs = x
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = _conv(filters, 1, 1, f"{name}_expand_conv")(x)
        x = _bn(f"{name}_expand_bn")(x)
        x = layers.Activation("swish", name=f"{name}_expand_activation")(x)
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=False,
        depthwise_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}_dwconv2",
    )(x)
    x = _bn(f"{name}_bn")(x)
    x = layers.Activation("swish", name=f"{name}_activation")(x)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, max(1, int(filters_in * se_ratio)), name)
    x = _conv(filters_out, 1, 1, f"{name}_project_conv")(x)
    x = _bn(f"{name}_project_bn")(x)
    return _shortcut(x, inputs, strides, filters_in, filters_out, drop_rate, name)


def fused_mbconv_block(x, filters_in, filters_out, *, kernel_size, strides, expand_ratio, se_ratio, drop_rate, name):
    """Fused-MBConv: one ordinary kxk convolution (with the stride) in place of MBConv's 1x1 expansion and
    depthwise kxk, with BatchNorm and swish; then a linear 1x1 projection with BatchNorm, and the shortcut.

    With an expansion ratio of 1 there is nothing to expand: the block is a single kxk convolution to the output
    width with BatchNorm and swish (keras' ``*_project_conv`` and ``*_project_activation``). keras also allows
    squeeze-and-excitation here; no released model uses it (their Fused-MBConv stages have ``se_ratio`` 0).
    """
    inputs = x
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = _conv(filters, kernel_size, strides, f"{name}_expand_conv")(x)
        x = _bn(f"{name}_expand_bn")(x)
        x = layers.Activation("swish", name=f"{name}_expand_activation")(x)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, max(1, int(filters_in * se_ratio)), name)
    if expand_ratio != 1:
        x = _conv(filters_out, 1, 1, f"{name}_project_conv")(x)
        x = _bn(f"{name}_project_bn")(x)
    else:
        x = _conv(filters_out, kernel_size, strides, f"{name}_project_conv")(x)
        x = _bn(f"{name}_project_bn")(x)
        x = layers.Activation("swish", name=f"{name}_project_activation")(x)
    return _shortcut(x, inputs, strides, filters_in, filters_out, drop_rate, name)


BLOCKS = {FUSED: fused_mbconv_block, MBCONV: mbconv_block}


def drop_rates(variant, drop_connect_rate):
    """Each block's stochastic-depth rate, as keras computes it: ``drop_connect_rate * b / n``, from 0 at the first
    block, where ``n`` is the number of blocks of the *unscaled* table. In B1-B3, whose depth multiplier adds
    blocks, the last rates therefore exceed ``drop_connect_rate`` (B3's 32 blocks over 21: up to 1.48 times)."""
    unscaled = sum(stage.repeats for stage in variant.stages)
    scaled = sum(round_repeats(stage.repeats, variant.depth) for stage in variant.stages)
    return [drop_connect_rate * b / unscaled for b in range(scaled)]


def _efficientnet_v2(model, *, dropout=0.2, drop_connect_rate=0.2, include_preprocessing=True, **kwargs):
    variant = VARIANTS[model]
    args = parse_common_args(model, kwargs, default_size=variant.resolution, min_size=MIN_SIZE)
    dropout = check_rate(dropout, "dropout")
    drop_connect_rate = check_rate(drop_connect_rate, "drop_connect_rate")
    include_preprocessing = check_bool(include_preprocessing, "include_preprocessing")
    rates = drop_rates(variant, drop_connect_rate)
    if rates[-1] >= 1:
        raise ValueError(
            f"`drop_connect_rate` must keep every block's rate below 1 in {model}, whose last block gets "
            f"{rates[-1] / drop_connect_rate:.2f} times it (keras' rule). Received: drop_connect_rate={drop_connect_rate!r}"
        )

    inputs = model_input(args)
    x = inputs
    if include_preprocessing:
        if variant.v1_preprocessing and args.input_shape[-1] == 3:
            # [0, 255] -> [0, 1], then ImageNet's mean and variance, as EfficientNet (keras: constants, no weights).
            x = layers.Rescaling(1.0 / 255, name="rescaling")(x)
            x = layers.Normalization(mean=IMAGENET_MEAN, variance=IMAGENET_VARIANCE, axis=-1, name="normalization")(x)
        else:
            # [0, 255] -> [-1, 1] (keras does this for B0-B3 too when the input has other than 3 channels).
            x = layers.Rescaling(1.0 / 128.0, offset=-1, name="rescaling")(x)

    x = _conv(round_filters(variant.stages[0].filters_in, variant.width), 3, 2, "stem_conv")(x)
    x = _bn("stem_bn")(x)
    x = layers.Activation("swish", name="stem_activation")(x)

    b = 0
    for i, stage in enumerate(variant.stages, start=1):
        filters_in = round_filters(stage.filters_in, variant.width)
        filters_out = round_filters(stage.filters_out, variant.width)
        for j in range(round_repeats(stage.repeats, variant.depth)):
            # Only a stage's first block changes the stride and the channels.
            x = BLOCKS[stage.block](
                x,
                filters_in if j == 0 else filters_out,
                filters_out,
                kernel_size=stage.kernel_size,
                strides=stage.strides if j == 0 else 1,
                expand_ratio=stage.expand_ratio,
                se_ratio=stage.se_ratio,
                drop_rate=rates[b],
                name=f"block{i}{chr(ord('a') + j)}",
            )
            b += 1

    x = _conv(round_filters(TOP_FILTERS, variant.width), 1, 1, "top_conv")(x)
    x = _bn("top_bn")(x)
    x = layers.Activation("swish", name="top_activation")(x)
    x = pooled_classifier(x, args, dropout=dropout)
    return keras.Model(inputs, x, name=args.name)


_OPTIONS = """
    Family options (keyword-only), as keras' ``EfficientNetV2`` function:
        include_preprocessing: start with keras' input layers, so that the model takes pixels in [0, 255]:
            ``Rescaling(1/255)`` and ImageNet's mean and variance for B0-B3 (EfficientNet's preprocessing),
            ``Rescaling(1/128, offset=-1)`` for S, M and L. They have no weights.
        dropout: the rate before the classifier (keras' ``dropout_rate``, 0.2 for every variant; the official
            code trains M with 0.3 and L with 0.4); 0 removes the layer.
        drop_connect_rate: stochastic depth, growing over the blocks from 0 (keras' 0.2; see ``drop_rates``);
            0 removes the Dropout layers. Neither rate changes a count.
"""


def _documented(fn):
    fn.__doc__ = fn.__doc__.rstrip() + "\n" + _OPTIONS
    return fn


@register_model
@_documented
def efficientnet_v2_b0(**kwargs):
    """EfficientNetV2-B0 (Tan & Le 2021, arXiv:2104.00298): 224x224, 7,200,312 parameters, 0.718B MACs.

    The searched baseline, as keras.applications.EfficientNetV2B0(weights=None): a 3x3 stem of 32 channels, three
    Fused-MBConv stages (16, 32, 48 channels; expansion 1, 4, 4) and three MBConv stages with SE (96, 112, 192;
    expansion 4, 6, 6), 21 blocks in all, all 3x3; a 1x1 convolution to 1280, pooling and the classifier.

    Parameters: 7,200,312 in all, as keras: 7,139,704 trainable (the official release's 7.1M, google/automl's
    efficientnetv2 README) and 60,608 non-trainable (BatchNorm's moving statistics). 718,086,176 MACs at
    224x224, the README's 0.72B FLOPs.
    """
    return _efficientnet_v2("efficientnet_v2_b0", **kwargs)


@register_model
@_documented
def efficientnet_v2_b1(**kwargs):
    """EfficientNetV2-B1 (Tan & Le 2021, arXiv:2104.00298): B0 with depth 1.1 and 240x240 input.

    As EfficientNet-B1 scales B0: every stage's blocks times 1.1, rounded up (1, 2, 2, 3, 5, 8 become 2, 3, 3, 4,
    6, 9). 8,212,124 parameters (8,141,052 trainable: the README's 8.1M) and 1.197B MACs (the README's 1.2B).
    """
    return _efficientnet_v2("efficientnet_v2_b1", **kwargs)


@register_model
@_documented
def efficientnet_v2_b2(**kwargs):
    """EfficientNetV2-B2 (Tan & Le 2021, arXiv:2104.00298): width 1.1, depth 1.2, 260x260 input.

    10,178,374 parameters (10,096,086 trainable: the README's 10.1M) and 1.698B MACs (the README's 1.7B).
    """
    return _efficientnet_v2("efficientnet_v2_b2", **kwargs)


@register_model
@_documented
def efficientnet_v2_b3(**kwargs):
    """EfficientNetV2-B3 (Tan & Le 2021, arXiv:2104.00298): width 1.2, depth 1.4, 300x300 input.

    Widths round to the nearest multiple of 8 without EfficientNet's 10% correction (block 1's 16 * 1.2 stays
    16). 14,467,622 parameters (14,358,406 trainable: the README's 14.4M) and 3.011B MACs (the README's 3.0B).
    """
    return _efficientnet_v2("efficientnet_v2_b3", **kwargs)


@register_model
@_documented
def efficientnet_v2_s(**kwargs):
    """EfficientNetV2-S (Tan & Le 2021, arXiv:2104.00298): the paper's Table 4, 384x384, 21.6M parameters.

    A 3x3 stem of 24 channels, Fused-MBConv stages of 24, 48, 64 channels (2, 4, 4 blocks) and MBConv stages of
    128, 160, 256 (6, 9, 15 blocks), 40 blocks in all; trained with progressive learning up to 300x300 and
    evaluated at 384x384 (the official code's sizes).

    Parameters: 21,612,360 in all, as keras.applications.EfficientNetV2S(weights=None): 21,458,488 trainable
    (torchvision's num_params; the README's 21.5M) and 153,872 non-trainable. 8,365,617,152 MACs at 384x384:
    torchvision's 8.366 GFLOPS, the README's 8.4B.
    """
    return _efficientnet_v2("efficientnet_v2_s", **kwargs)


@register_model
@_documented
def efficientnet_v2_m(**kwargs):
    """EfficientNetV2-M (Tan & Le 2021, arXiv:2104.00298): S scaled up, 480x480, 54.4M parameters.

    Seven stages (3, 5, 5, 7, 14, 18, 5 blocks; the seventh, of 512 channels, is new), 57 blocks in all.
    54,431,388 parameters, as keras: 54,139,356 trainable (torchvision's num_params; the README's 54.1M) and
    292,032 non-trainable. 24.58B MACs at 480x480: torchvision's 24.582 GFLOPS, the README's 24.7B.
    """
    return _efficientnet_v2("efficientnet_v2_m", **kwargs)


@register_model
@_documented
def efficientnet_v2_l(**kwargs):
    """EfficientNetV2-L (Tan & Le 2021, arXiv:2104.00298): the largest ImageNet-1k model, 480x480, 119.0M parameters.

    Seven stages (4, 7, 7, 10, 19, 25, 7 blocks), 79 blocks in all, stem of 32 channels. 119,027,848 parameters,
    as keras: 118,515,272 trainable (torchvision's num_params; the README says 119.5M) and 512,576 non-trainable.
    56.08B MACs at 480x480: torchvision's 56.08 GFLOPS, the README's 56.3B.
    """
    return _efficientnet_v2("efficientnet_v2_l", **kwargs)
