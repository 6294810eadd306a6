"""MobileNet v1, v2 and v3: networks for phones, built from depthwise separable convolutions.

* v1: Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto & Adam, "MobileNets: Efficient Convolutional
  Neural Networks for Mobile Vision Applications", 2017 (arXiv:1704.04861). A 3x3 convolution is split into a
  3x3 *depthwise* convolution (one filter per input channel) and a 1x1 *pointwise* convolution that mixes the
  channels, each with BatchNorm and ReLU6; the *width multiplier* alpha thins every layer.
* v2: Sandler, Howard, Zhu, Zhmoginov & Chen, "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
  CVPR 2018 (arXiv:1801.04381). The block widens a narrow input by 6 with a 1x1 convolution, filters it
  depthwise and projects it back with a *linear* 1x1 convolution (no activation: ReLU on a narrow tensor
  loses information); the shortcut joins the narrow ends, the reverse of ResNet's bottleneck.
* v3: Howard, Sandler, Chu, Chen, Chen, Tan, Wang, Zhu, Pang, Vasudevan, Le & Adam, "Searching for
  MobileNetV3", ICCV 2019 (arXiv:1905.02244). v2's block, found block by block by architecture search
  (MnasNet's, then NetAdapt), with squeeze-and-excitation in some blocks and *hard-swish*,
  x * ReLU6(x + 3) / 6, a cheap swish, in the later ones; Large and Small for two budgets.

The layers, their names and their weights follow ``keras.applications`` (``mobilenet.py``,
``mobilenet_v2.py``, ``mobilenet_v3.py``), so that each model equals its keras twin weight for weight, in
the same order. The layers keras leaves unnamed (its pooling, dropout, ReLU and hard-swish layers, which
carry no weight) are named here, since automatic names change with what was built before.
"""

from collections import namedtuple
from numbers import Real

import keras
from keras import layers

from cnn_notes.models.arguments import check_bool, check_rate, parse_common_args
from cnn_notes.models.heads import global_pool, model_input, pooled_classifier
from cnn_notes.models.registry import register_model

# MobileNet v1, the paper's Table 1: a 3x3 convolution of 32 filters with stride 2, then 13 depthwise separable
# blocks, as (pointwise filters, stride).
V1_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
             (512, 1), (1024, 2), (1024, 1))  # fmt: skip

# MobileNetV2, the paper's Table 2: rows (t, c, n, s) of expansion, output channels, repeats and the first
# block's stride, after a 3x3 stem of 32 and before a 1x1 convolution to 1280.
V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
             (6, 320, 1, 1))  # fmt: skip

# MobileNetV3, the paper's Tables 1 (Large) and 2 (Small), as keras.applications writes them: one row per
# block, (expansion, output channels, kernel, stride, squeeze-and-excitation, hard-swish). keras gives the
# expansion as a ratio where the paper gives the expanded width (Small's 72 / 16, 88 / 24); the kernel None
# is 5x5 (3x3 in the minimalistic variant, which also drops SE and hard-swish).
V3Block = namedtuple("V3Block", ["expansion", "filters", "kernel", "stride", "se", "hard_swish"])
V3_LARGE = (
    V3Block(1, 16, 3, 1, False, False), V3Block(4, 24, 3, 2, False, False), V3Block(3, 24, 3, 1, False, False),
    V3Block(3, 40, None, 2, True, False), V3Block(3, 40, None, 1, True, False), V3Block(3, 40, None, 1, True, False),
    V3Block(6, 80, 3, 2, False, True), V3Block(2.5, 80, 3, 1, False, True), V3Block(2.3, 80, 3, 1, False, True),
    V3Block(2.3, 80, 3, 1, False, True), V3Block(6, 112, 3, 1, True, True), V3Block(6, 112, 3, 1, True, True),
    V3Block(6, 160, None, 2, True, True), V3Block(6, 160, None, 1, True, True), V3Block(6, 160, None, 1, True, True),
)  # fmt: skip
V3_SMALL = (
    V3Block(1, 16, 3, 2, True, False), V3Block(72 / 16, 24, 3, 2, False, False),
    V3Block(88 / 24, 24, 3, 1, False, False), V3Block(4, 40, None, 2, True, True), V3Block(6, 40, None, 1, True, True),
    V3Block(6, 40, None, 1, True, True), V3Block(3, 48, None, 1, True, True), V3Block(3, 48, None, 1, True, True),
    V3Block(6, 96, None, 2, True, True), V3Block(6, 96, None, 1, True, True), V3Block(6, 96, None, 1, True, True),
)  # fmt: skip
# Per variant: its blocks and the width of the 1x1 convolution on the pooled features (the paper's last rows).
V3Variant = namedtuple("V3Variant", ["blocks", "last_point_channels"])
V3_VARIANTS = {"mobilenet_v3_large": V3Variant(V3_LARGE, 1280), "mobilenet_v3_small": V3Variant(V3_SMALL, 1024)}
V3_SE_RATIO = 0.25

# v1's smallest input, exactly: the stem and four blocks halve the map with floor (31 -> 16 -> 8 -> 4 -> 2 -> 1;
# a 30x30 input ends at 0x0). v2 and v3 pad every strided layer so that n becomes ceil(n / 2), never 0: they
# take keras' own limit, 32.
V1_MIN_SIZE = 31
MIN_SIZE = 32


def make_divisible(value, divisor=8):
    """Rounds a channel count to the nearest multiple of ``divisor``, never more than 10% below ``value``
    (keras' ``_make_divisible`` and ``_depth``, from the TF reference code): multiples of 8 suit the hardware."""
    new_value = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


def correct_pad(x, kernel_size):
    """The zero-padding that makes a stride-2 'valid' convolution act like TensorFlow's 'same' (one pixel
    more after than before on an even side), as ``keras.applications.imagenet_utils.correct_pad``."""
    correct = kernel_size // 2
    return tuple((correct - (1 if size is None else 1 - size % 2), correct) for size in x.shape[1:3])


def check_alpha(alpha):
    """The width multiplier: a positive number (keras builds any; its ImageNet weights exist for a few)."""
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not alpha > 0:
        raise ValueError(f"`alpha` must be a positive number (the width multiplier). Received: alpha={alpha!r}")
    return float(alpha)


def depthwise_separable_block(x, filters, *, strides, depth_multiplier, block_id):
    """MobileNet v1's block: a 3x3 depthwise convolution (each channel filtered on its own), then a 1x1
    pointwise convolution that mixes the channels, each followed by BatchNorm and ReLU6.

    A stride-2 block pads the bottom and the right only, then convolves 'valid', as keras.applications does.
    """
    if strides == 2:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(
        3,
        strides=strides,
        padding="same" if strides == 1 else "valid",
        depth_multiplier=depth_multiplier,
        use_bias=False,
        name=f"conv_dw_{block_id}",
    )(x)
    x = layers.BatchNormalization(name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def _bn(name):
    # v2 and v3 use the TF reference code's BatchNorm settings (keras' defaults are epsilon 1e-3, momentum 0.99).
    return layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name=name)


def inverted_residual_block(x, *, expansion, filters, stride, block_id):
    """MobileNetV2's block: a 1x1 expansion with BatchNorm and ReLU6 (absent in block 0, whose expansion is
    1), a 3x3 depthwise convolution with BatchNorm and ReLU6, and a *linear* 1x1 projection with BatchNorm;
    an identity shortcut joins the narrow ends where the stride is 1 and the widths agree.
    """
    inputs = x
    in_channels = x.shape[-1]
    prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, 1, padding="same", use_bias=False, name=f"{prefix}expand")(x)
        x = _bn(f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    if stride == 2:
        x = layers.ZeroPadding2D(correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(
        3, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False, name=f"{prefix}depthwise"
    )(x)
    x = _bn(f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    # No activation after the projection: the linear bottleneck.
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = _bn(f"{prefix}project_BN")(x)
    if stride == 1 and in_channels == filters:
        x = layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _activation(x, hard_swish, name):
    """v3's two activations: ReLU, or hard-swish x * ReLU6(x + 3) / 6 (keras' ``hard_swish``)."""
    if hard_swish:
        return layers.Activation("hard_swish", name=f"{name}_hard_swish")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def squeeze_excite(x, filters, prefix):
    """v3's squeeze-and-excitation: the global average of each channel, a 1x1 reduction to a quarter (rounded
    to a multiple of 8) with ReLU, a 1x1 expansion with hard-sigmoid ReLU6(x + 3) / 6, and the product.

    keras writes the hard-sigmoid as ``ReLU(6)(x + 3) * (1 / 6)``, two unnamed operations and a ReLU layer;
    here it is one named layer, keras' ``hard_sigmoid`` activation, the same function.
    """
    se = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(x)
    se = layers.Conv2D(
        make_divisible(filters * V3_SE_RATIO), 1, padding="same", name=f"{prefix}squeeze_excite_conv"
    )(se)
    se = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(se)
    se = layers.Conv2D(filters, 1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(se)
    se = layers.Activation("hard_sigmoid", name=f"{prefix}squeeze_excite_hard_sigmoid")(se)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([x, se])


def v3_block(x, *, expansion, filters, kernel, stride, se, hard_swish, block_id):
    """MobileNetV3's block: v2's inverted residual with a chosen kernel (3 or 5), an activation per block
    (ReLU or hard-swish) and, in some blocks, squeeze-and-excitation between the depthwise convolution and
    the linear projection."""
    inputs = x
    in_channels = x.shape[-1]
    prefix = f"expanded_conv_{block_id}_" if block_id else "expanded_conv_"
    expanded = make_divisible(in_channels * expansion)
    if block_id:
        x = layers.Conv2D(expanded, 1, padding="same", use_bias=False, name=f"{prefix}expand")(x)
        x = _bn(f"{prefix}expand_bn")(x)
        x = _activation(x, hard_swish, f"{prefix}expand")
    if stride == 2:
        x = layers.ZeroPadding2D(correct_pad(x, kernel), name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(
        kernel, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False, name=f"{prefix}depthwise"
    )(x)
    x = _bn(f"{prefix}depthwise_bn")(x)
    x = _activation(x, hard_swish, f"{prefix}depthwise")
    if se:
        x = squeeze_excite(x, expanded, prefix)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = _bn(f"{prefix}project_bn")(x)
    if stride == 1 and in_channels == filters:
        x = layers.Add(name=f"{prefix}add")([inputs, x])
    return x


@register_model
def mobilenet(*, alpha=1.0, depth_multiplier=1, dropout=1e-3, **kwargs):
    """MobileNet v1 1.0 (Howard et al. 2017, arXiv:1704.04861): 224x224, 4,253,864 parameters, 568.7M MACs.

    A 3x3 convolution of 32 filters with stride 2 and 13 depthwise separable blocks (the paper's Table 1:
    64, 128, 128, 256, 256, 512 x 6, 1024, 1024 pointwise filters, five of the layers with stride 2), global
    average pooling and the classifier, which keras.applications writes as a 1x1 convolution on the pooled
    1x1 map (``conv_preds``) and a ``Reshape``: the same 1,025,000 weights as a dense layer, in another shape.
    keras names that ``Reshape`` ``reshape_2`` and the dropout before it ``dropout``, which read as automatic
    names (the tests refuse those): here they are ``conv_preds_reshape`` and ``top_dropout``.

    Family options (keyword-only):
        alpha: the width multiplier, scaling every layer's filters (``int(filters * alpha)``); the paper's
            Table 6 reports 1.0, 0.75, 0.5 and 0.25 (569M, 325M, 149M and 41M multiply-adds).
        depth_multiplier: depthwise filters per input channel (keras'; 1 in the paper). The paper's
            *resolution* multiplier is the input size, which ``input_shape`` sets.
        dropout: the rate before the classifier (keras' 1e-3).

    Parameters: 4,253,864 in all, as keras' MobileNet: 4,231,976 trainable (the paper's Table 6: 4.2 million)
    and 21,888 non-trainable (BatchNorm's moving statistics of 10,944 channels). 568,740,352 MACs at 224x224,
    the paper's 569 million mult-adds (Table 6), 95% of them in the 1x1 convolutions (its Table 2).
    ``min_size`` is exact, 31 (keras refuses below 32).
    """
    args = parse_common_args("mobilenet", kwargs, default_size=224, min_size=V1_MIN_SIZE)
    alpha = check_alpha(alpha)
    if isinstance(depth_multiplier, bool) or not isinstance(depth_multiplier, int) or depth_multiplier < 1:
        raise ValueError(
            f"`depth_multiplier` must be a positive integer. Received: depth_multiplier={depth_multiplier!r}"
        )
    dropout = check_rate(dropout, "dropout")

    inputs = model_input(args)
    x = layers.Conv2D(int(32 * alpha), 3, strides=2, padding="same", use_bias=False, name="conv1")(inputs)
    x = layers.BatchNormalization(name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, strides) in enumerate(V1_BLOCKS, start=1):
        x = depthwise_separable_block(
            x, int(filters * alpha), strides=strides, depth_multiplier=depth_multiplier, block_id=block_id
        )
    if not args.include_top:
        return keras.Model(inputs, global_pool(x, args.pooling), name=args.name)
    x = layers.GlobalAveragePooling2D(keepdims=True, name="avg_pool")(x)
    x = layers.Dropout(dropout, name="top_dropout")(x)
    x = layers.Conv2D(args.classes, 1, padding="same", name="conv_preds")(x)
    x = layers.Reshape((args.classes,), name="conv_preds_reshape")(x)
    x = layers.Activation(args.classifier_activation, name="predictions")(x)
    return keras.Model(inputs, x, name=args.name)


@register_model
def mobilenet_v2(*, alpha=1.0, **kwargs):
    """MobileNetV2 1.0 (Sandler et al. 2018, arXiv:1801.04381): 224x224, 3,538,984 parameters, 300.8M MACs.

    A 3x3 stem of 32, 17 inverted residual blocks in seven stages (the paper's Table 2: 16, 24, 32, 64, 96,
    160, 320 channels, expansion 6 but in the first), a 1x1 convolution to 1280, pooling and a dense
    classifier. Ten blocks have an identity shortcut: those with stride 1 whose input and output widths agree.

    Family options (keyword-only):
        alpha: the width multiplier: every block's output width becomes ``int(c * alpha)`` rounded to a
            multiple of 8, the stem ``32 * alpha`` rounded so; the last 1x1 convolution keeps 1280 unless
            ``alpha > 1`` (the paper's section 6.1: its Table 6 and keras' weights use 0.35 to 1.4).

    Parameters: 3,538,984 in all, as keras' MobileNetV2: 3,504,872 trainable (torchvision's num_params; the
    paper's Table 4 rounds to 3.4M) and 34,112 non-trainable. 300,774,272 MACs at 224x224: the paper's 300M
    (Table 4) and torchvision's 0.301 GFLOPS. ``min_size`` is keras' 32 (every strided layer maps n to
    ceil(n / 2), so smaller inputs build too).
    """
    args = parse_common_args("mobilenet_v2", kwargs, default_size=224, min_size=MIN_SIZE)
    alpha = check_alpha(alpha)

    inputs = model_input(args)
    x = layers.Conv2D(make_divisible(32 * alpha), 3, strides=2, padding="same", use_bias=False, name="Conv1")(inputs)
    x = _bn("bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    block_id = 0
    for expansion, channels, repeats, stride in V2_STAGES:
        for j in range(repeats):
            x = inverted_residual_block(
                x,
                expansion=expansion,
                filters=make_divisible(int(channels * alpha)),
                stride=stride if j == 0 else 1,
                block_id=block_id,
            )
            block_id += 1
    last_channels = make_divisible(1280 * alpha) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_channels, 1, use_bias=False, name="Conv_1")(x)
    x = _bn("Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    x = pooled_classifier(x, args)
    return keras.Model(inputs, x, name=args.name)


def _mobilenet_v3(model, *, alpha, minimalistic, dropout, include_preprocessing, **kwargs):
    args = parse_common_args(model, kwargs, default_size=224, min_size=MIN_SIZE)
    alpha = check_alpha(alpha)
    minimalistic = check_bool(minimalistic, "minimalistic")
    dropout = check_rate(dropout, "dropout")
    include_preprocessing = check_bool(include_preprocessing, "include_preprocessing")
    variant = V3_VARIANTS[model]

    inputs = model_input(args)
    x = inputs
    if include_preprocessing:
        # keras' default: the model takes pixels in [0, 255] and maps them to [-1, 1].
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0, name="rescaling")(x)
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="conv")(x)
    x = _bn("conv_bn")(x)
    x = _activation(x, not minimalistic, "conv")
    for block_id, row in enumerate(variant.blocks):
        x = v3_block(
            x,
            expansion=row.expansion,
            filters=make_divisible(row.filters * alpha),
            kernel=3 if minimalistic or row.kernel is not None else 5,
            stride=row.stride,
            se=row.se and not minimalistic,
            hard_swish=row.hard_swish and not minimalistic,
            block_id=block_id,
        )
    x = layers.Conv2D(make_divisible(x.shape[-1] * 6), 1, padding="same", use_bias=False, name="conv_1")(x)
    x = _bn("conv_1_bn")(x)
    x = _activation(x, not minimalistic, "conv_1")
    if not args.include_top:
        return keras.Model(inputs, global_pool(x, args.pooling), name=args.name)
    # The top, as keras: pooling to a 1x1 map, a 1x1 convolution with bias and the activation (the paper's
    # "NBN" rows, no BatchNorm), dropout, a 1x1 convolution to the classes, and Flatten.
    last_point = make_divisible(variant.last_point_channels * alpha) if alpha > 1.0 else variant.last_point_channels
    x = layers.GlobalAveragePooling2D(keepdims=True, name="avg_pool")(x)
    x = layers.Conv2D(last_point, 1, padding="same", name="conv_2")(x)
    x = _activation(x, not minimalistic, "conv_2")
    if dropout > 0:
        x = layers.Dropout(dropout, name="top_dropout")(x)
    x = layers.Conv2D(args.classes, 1, padding="same", name="logits")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Activation(args.classifier_activation, name="predictions")(x)
    return keras.Model(inputs, x, name=args.name)


@register_model
def mobilenet_v3_large(*, alpha=1.0, minimalistic=False, dropout=0.2, include_preprocessing=True, **kwargs):
    """MobileNetV3-Large 1.0 (Howard et al. 2019, arXiv:1905.02244): 224x224, 5,507,432 parameters, 216.6M MACs.

    The paper's Table 1: a 3x3 stem of 16 with hard-swish, 15 blocks (3x3 and 5x5 kernels; ReLU in the first
    six, hard-swish after; squeeze-and-excitation in eight), a 1x1 convolution to 960, pooling, a 1x1
    convolution to 1280 without BatchNorm, and the classifier.

    Family options (keyword-only), as keras.applications' MobileNetV3:
        alpha: the width multiplier: every block's output width times ``alpha``, rounded to a multiple of 8
            (the stem's 16 stays; keras' ImageNet weights exist for 0.75 and 1.0).
        minimalistic: keras' "minimalistic" variant: 3x3 kernels only, ReLU only, no squeeze-and-excitation
            (the same widths; faster on accelerators that lack those operations).
        dropout: the rate before the classifier (keras' ``dropout_rate``, 0.2); 0 removes the layer.
        include_preprocessing: start with keras' ``Rescaling(1/127.5, offset=-1)``, so that the model takes
            pixels in [0, 255] (keras' default; it has no weights).

    Parameters: 5,507,432 in all, as keras' MobileNetV3Large at 224x224 (keras' own default input is
    ``(None, None, 3)``): 5,483,032 trainable (torchvision's num_params; the paper's Table 3 rounds to 5.4M) and
    24,400 non-trainable. 216,589,760 MACs: torchvision's 0.217 GFLOPS and TF-Slim's 217M; the paper's Table 3
    gives 219M, 1.1% more. ``min_size`` is keras' 32 (smaller inputs build too).
    """
    return _mobilenet_v3(
        "mobilenet_v3_large",
        alpha=alpha,
        minimalistic=minimalistic,
        dropout=dropout,
        include_preprocessing=include_preprocessing,
        **kwargs,
    )


@register_model
def mobilenet_v3_small(*, alpha=1.0, minimalistic=False, dropout=0.2, include_preprocessing=True, **kwargs):
    """MobileNetV3-Small 1.0 (Howard et al. 2019, arXiv:1905.02244): 224x224, 2,554,968 parameters, 56.5M MACs.

    The paper's Table 2: a 3x3 stem of 16 with hard-swish, 11 blocks (squeeze-and-excitation in nine,
    hard-swish in the last eight), a 1x1 convolution to 576, pooling, a 1x1 convolution to 1024 without
    BatchNorm, and the classifier. The options are those of ``mobilenet_v3_large``.

    Parameters: 2,554,968 in all, as keras' MobileNetV3Small at 224x224: 2,542,856 trainable (torchvision's
    num_params; the paper's Table 3: 2.5M) and 12,112 non-trainable. 56,510,400 MACs: the paper's 56M (Table 3)
    and torchvision's 0.057 GFLOPS. ``min_size`` is keras' 32.
    """
    return _mobilenet_v3(
        "mobilenet_v3_small",
        alpha=alpha,
        minimalistic=minimalistic,
        dropout=dropout,
        include_preprocessing=include_preprocessing,
        **kwargs,
    )

