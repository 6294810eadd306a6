"""EfficientNet: Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks",
ICML 2019 (arXiv:1905.11946).

One baseline, EfficientNet-B0 (found by architecture search: MobileNetV2's inverted residual blocks with
squeeze-and-excitation and swish), is scaled up by *compound scaling*: a single coefficient phi sets depth,
width and input resolution together,

    depth d = alpha ** phi,   width w = beta ** phi,   resolution r = gamma ** phi,
    alpha * beta**2 * gamma**2 ~= 2   (alpha = 1.2, beta = 1.1, gamma = 1.15, from a grid search at phi = 1),

so that each step of phi about doubles the FLOPs (a convolution's cost grows as d * w**2 * r**2).

The layers, their names and their weights follow ``keras.applications.efficientnet``, so that every variant
equals ``keras.applications.EfficientNetB*(weights=None)`` weight for weight.
"""

import math
from collections import namedtuple

import keras
from keras import layers

from cnn_notes.models.arguments import check_bool, check_rate, parse_common_args
from cnn_notes.models.heads import model_input, pooled_classifier
from cnn_notes.models.registry import register_model

# B0's seven stages (the paper's Table 1, stages 2-8), as keras' DEFAULT_BLOCKS_ARGS. Every block has
# squeeze-and-excitation (se_ratio of the block's *input* channels) and an identity shortcut wherever the
# stride is 1 and the channels agree (keras' id_skip is True in every row, so it is left out).
BlockArgs = namedtuple(
    "BlockArgs", ["kernel_size", "repeats", "filters_in", "filters_out", "expand_ratio", "strides", "se_ratio"]
)
DEFAULT_BLOCKS_ARGS = (
    BlockArgs(3, 1, 32, 16, 1, 1, 0.25),
    BlockArgs(3, 2, 16, 24, 6, 2, 0.25),
    BlockArgs(5, 2, 24, 40, 6, 2, 0.25),
    BlockArgs(3, 3, 40, 80, 6, 2, 0.25),
    BlockArgs(5, 3, 80, 112, 6, 1, 0.25),
    BlockArgs(5, 4, 112, 192, 6, 2, 0.25),
    BlockArgs(3, 1, 192, 320, 6, 1, 0.25),
)
STEM_FILTERS = 32
TOP_FILTERS = 1280

# Per variant: width and depth multipliers, default input size, dropout before the classifier: the released
# values (TF's efficientnet_builder.py, keras, torchvision). They follow the compound-scaling rule only roughly:
# reading phi back from each (log d / log 1.2, log w / log 1.1, log(r / 224) / log 1.15) gives B2 1.0, 1.0, 1.07
# but B7 6.2, 7.3, 7.1. The dropout grows linearly from 0.2 (B0) to 0.5 (B7), as in the paper.
Scaling = namedtuple("Scaling", ["width", "depth", "resolution", "dropout"])
SCALINGS = {
    "efficientnet_b0": Scaling(1.0, 1.0, 224, 0.2),
    "efficientnet_b1": Scaling(1.0, 1.1, 240, 0.2),
    "efficientnet_b2": Scaling(1.1, 1.2, 260, 0.3),
    "efficientnet_b3": Scaling(1.2, 1.4, 300, 0.3),
    "efficientnet_b4": Scaling(1.4, 1.8, 380, 0.4),
    "efficientnet_b5": Scaling(1.6, 2.2, 456, 0.4),
    "efficientnet_b6": Scaling(1.8, 2.6, 528, 0.5),
    "efficientnet_b7": Scaling(2.0, 3.1, 600, 0.5),
}

# keras.applications' initialiser for every convolution: He-style fan-out truncated normal, as the TF reference
# implementation. A config, not an instance: an unseeded instance shared by layers would give equal kernels.
CONV_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}

# keras' own limit (it also builds below: every stride-2 layer maps n to ceil(n / 2), never to 0).
MIN_SIZE = 32


def round_filters(filters, width, divisor=8):
    """Scales a channel count by ``width`` and rounds it to the nearest multiple of ``divisor``.

    Multiples of 8 suit the hardware; the rounding never goes more than 10% below the scaled value.
    """
    filters *= width
    new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    if new_filters < 0.9 * filters:
        new_filters += divisor
    return int(new_filters)


def round_repeats(repeats, depth):
    """Scales a stage's number of blocks by ``depth``, rounding up (a stage never loses a block)."""
    return int(math.ceil(depth * repeats))


def correct_pad(x, kernel_size):
    """The zero-padding that makes a stride-2 'valid' convolution act like TensorFlow's 'same'.

    An even side needs one pixel more after than before; written out as a layer, the padding is the same on
    every backend, as in keras.applications.
    """
    correct = kernel_size // 2
    return tuple((correct - (1 if size is None else 1 - size % 2), correct) for size in x.shape[1:3])


def squeeze_excite(x, filters_se, name):
    """Squeeze-and-excitation: rescales each channel by a gate computed from the global average of all."""
    filters = x.shape[-1]
    se = layers.GlobalAveragePooling2D(name=f"{name}_se_squeeze")(x)
    se = layers.Reshape((1, 1, filters), name=f"{name}_se_reshape")(se)
    # 1x1 convolutions on the 1x1 map act as dense layers; keras writes them as convolutions (and so here).
    se = layers.Conv2D(
        filters_se,
        1,
        padding="same",
        activation="swish",
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}_se_reduce",
    )(se)
    se = layers.Conv2D(
        filters,
        1,
        padding="same",
        activation="sigmoid",
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}_se_expand",
    )(se)
    return layers.Multiply(name=f"{name}_se_excite")([x, se])


def conv_bn(x, filters, name, activation="swish"):
    """A 1x1 convolution without bias (BatchNorm's beta replaces it), BatchNorm and an optional activation."""
    x = layers.Conv2D(
        filters, 1, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}_conv"
    )(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    if activation:
        x = layers.Activation(activation, name=f"{name}_activation")(x)
    return x


def block(x, filters_in, filters_out, kernel_size, strides, expand_ratio, se_ratio, drop_rate, name):
    """MBConv, the inverted residual block: 1x1 expansion, depthwise conv, SE, linear 1x1 projection.

    The shortcut joins the two narrow ends (``filters_in`` -> ``filters_out``); the wide middle
    (``expand_ratio`` times the input) exists only inside the block. ``drop_rate`` is the block's
    drop-connect (stochastic depth): dropping the whole residual branch of an example.
    """
    inputs = x
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = conv_bn(x, filters, name=f"{name}_expand")
    if strides == 2:
        x = layers.ZeroPadding2D(correct_pad(x, kernel_size), name=f"{name}_dwconv_pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=strides,
        padding="valid" if strides == 2 else "same",
        use_bias=False,
        depthwise_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}_dwconv",
    )(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    x = layers.Activation("swish", name=f"{name}_activation")(x)
    x = squeeze_excite(x, max(1, int(filters_in * se_ratio)), name)
    # No activation after the projection: a ReLU/swish on the narrow output would destroy information
    # (MobileNetV2's "linear bottleneck").
    x = conv_bn(x, filters_out, name=f"{name}_project", activation=None)
    if strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            # noise_shape drops the whole branch per example, not single activations.
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(x)
        x = layers.Add(name=f"{name}_add")([x, inputs])
    return x


def _efficientnet(model, *, dropout=None, drop_connect_rate=0.2, include_preprocessing=True, **kwargs):
    scaling = SCALINGS[model]
    dropout = scaling.dropout if dropout is None else check_rate(dropout, "dropout")
    drop_connect_rate = check_rate(drop_connect_rate, "drop_connect_rate")
    include_preprocessing = check_bool(include_preprocessing, "include_preprocessing")
    args = parse_common_args(model, kwargs, default_size=scaling.resolution, min_size=MIN_SIZE)

    inputs = model_input(args)
    x = inputs
    if include_preprocessing:
        # keras' weights=None model: [0, 255] -> [0, 1], then a Normalization that holds the dataset's mean and
        # variance (3 + 3 + a count = 7 non-trainable weights; the identity until adapted or loaded).
        # keras adds a third layer, Rescaling(1 / sqrt(std)), only when it loads its ImageNet weights.
        x = layers.Rescaling(1.0 / 255.0, name="rescaling")(x)
        x = layers.Normalization(axis=-1, name="normalization")(x)

    x = layers.ZeroPadding2D(correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(
        round_filters(STEM_FILTERS, scaling.width),
        3,
        strides=2,
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name="stem_conv",
    )(x)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("swish", name="stem_activation")(x)

    # Drop-connect grows linearly with depth, from 0 at the first block to just under the rate at the last.
    total = sum(round_repeats(row.repeats, scaling.depth) for row in DEFAULT_BLOCKS_ARGS)
    b = 0
    for stage, row in enumerate(DEFAULT_BLOCKS_ARGS, start=1):
        filters_in = round_filters(row.filters_in, scaling.width)
        filters_out = round_filters(row.filters_out, scaling.width)
        for j in range(round_repeats(row.repeats, scaling.depth)):
            # Only a stage's first block changes the stride and the channels.
            x = block(
                x,
                filters_in if j == 0 else filters_out,
                filters_out,
                row.kernel_size,
                row.strides if j == 0 else 1,
                row.expand_ratio,
                row.se_ratio,
                drop_connect_rate * b / total,
                name=f"block{stage}{chr(ord('a') + j)}",
            )
            b += 1

    x = conv_bn(x, round_filters(TOP_FILTERS, scaling.width), name="top")
    x = pooled_classifier(x, args, dropout=dropout)
    return keras.Model(inputs, x, name=args.name)


@register_model
def efficientnet_b0(*, dropout=None, drop_connect_rate=0.2, include_preprocessing=True, **kwargs):
    """EfficientNet-B0, the baseline of Tan & Le 2019 (arXiv:1905.11946): 224x224, 5.3M params, 0.39B MACs.

    Found by a multi-objective architecture search (MnasNet's space, target ACC * (FLOPS / 400M) ** -0.07):
    a 3x3 stem of 32 channels, 16 MBConv blocks in seven stages (the paper's Table 1: 16, 24, 40, 80, 112,
    192, 320 channels at strides 2, 4, 8, 16, 16, 32, 32), a 1x1 conv to 1280, pooling and the classifier.

    Family options (keyword-only):
        dropout: the rate before the classifier; ``None`` takes the variant's: 0.2 for B0, as the paper
            and keras, which raise it linearly to 0.5 for B7 since larger models need more regularisation.
        drop_connect_rate: stochastic depth, the rate of dropping a residual branch, growing linearly over
            the blocks up to this value (0.2 in the paper, keras and torchvision's
            ``stochastic_depth_prob``); 0 removes the Dropout layers and changes no count.
        include_preprocessing: start with keras' ``Rescaling(1/255)`` and ``Normalization`` layers, so the
            model takes pixels in [0, 255] (as keras; their 7 non-trainable weights are in keras' total).

    Parameters: 5,330,571 in all, as keras' EfficientNetB0: 5,288,548 trainable (torchvision's num_params;
    the classifier alone is 1280 * 1000 + 1000 = 1,281,000) and 42,023 non-trainable (BatchNorm's moving
    statistics, 2 * 21,008, plus the 7 of the Normalization).
    """
    return _efficientnet(
        "efficientnet_b0",
        dropout=dropout,
        drop_connect_rate=drop_connect_rate,
        include_preprocessing=include_preprocessing,
        **kwargs,
    )


@register_model
def efficientnet_b1(**kwargs):
    """EfficientNet-B1 (Tan & Le 2019, arXiv:1905.11946): B0 with depth 1.1 and 240x240 input.

    Half a compound-scaling step: depth and resolution grow (1.2 ** 0.5 ~= 1.1, 224 * 1.15 ** 0.5 ~= 240),
    width stays 1.0. Depth rounds up per stage (``ceil(1.1 * repeats)``): stages of 1, 2, 2, 3, 3, 4, 1
    blocks become 2, 3, 3, 4, 4, 5, 2, so B1 has 23 blocks for B0's 16 and 7.8M parameters.
    Dropout defaults to 0.2. See ``efficientnet_b0`` for the options.
    """
    return _efficientnet("efficientnet_b1", **kwargs)


@register_model
def efficientnet_b2(**kwargs):
    """EfficientNet-B2 (Tan & Le 2019, arXiv:1905.11946): width 1.1, depth 1.2, 260x260 input.

    One compound-scaling step, phi = 1: exactly alpha = 1.2 and beta = 1.1, and 224 * 1.15 = 258 rounded
    to 260. Widths round to multiples of 8 (the stem's 32 * 1.1 = 35.2 becomes 32, the top's 1408).
    9.2M parameters; 0.99B MACs at 260x260 (the paper's Table 2: 1.0B FLOPs). torchvision's 1.088 GMACs
    is the count at 288x288, the crop its ported weights are evaluated at. Dropout defaults to 0.3.
    See ``efficientnet_b0`` for the options.
    """
    return _efficientnet("efficientnet_b2", **kwargs)


@register_model
def efficientnet_b3(**kwargs):
    """EfficientNet-B3 (Tan & Le 2019, arXiv:1905.11946): width 1.2, depth 1.4, 300x300 input (phi 1.9-2.1).

    12.3M parameters, 1.8B MACs. Dropout defaults to 0.3. See ``efficientnet_b0`` for the options.
    """
    return _efficientnet("efficientnet_b3", **kwargs)


@register_model
def efficientnet_b4(**kwargs):
    """EfficientNet-B4 (Tan & Le 2019, arXiv:1905.11946): width 1.4, depth 1.8, 380x380 input (phi 3.2-3.8).

    19.5M parameters, 4.4B MACs. Dropout defaults to 0.4. See ``efficientnet_b0`` for the options.
    """
    return _efficientnet("efficientnet_b4", **kwargs)


@register_model
def efficientnet_b5(**kwargs):
    """EfficientNet-B5 (Tan & Le 2019, arXiv:1905.11946): width 1.6, depth 2.2, 456x456 input (phi 4.3-5.1).

    30.6M parameters, 10.3B MACs. Dropout defaults to 0.4. See ``efficientnet_b0`` for the options.
    """
    return _efficientnet("efficientnet_b5", **kwargs)


@register_model
def efficientnet_b6(**kwargs):
    """EfficientNet-B6 (Tan & Le 2019, arXiv:1905.11946): width 1.8, depth 2.6, 528x528 input (phi 5.2-6.2).

    43.3M parameters, 19.1B MACs. Dropout defaults to 0.5. See ``efficientnet_b0`` for the options.
    """
    return _efficientnet("efficientnet_b6", **kwargs)


@register_model
def efficientnet_b7(**kwargs):
    """EfficientNet-B7 (Tan & Le 2019, arXiv:1905.11946): width 2.0, depth 3.1, 600x600 input (phi 6.2-7.3).

    The paper's flagship: 84.3% top-1 with 66M parameters and 37B MACs, 8.4x smaller than GPipe at the
    same accuracy. Against B0, d * w**2 * r**2 = 3.1 * 4 * (600/224)**2 ~= 89 predicts the MACs' growth;
    rounding up the depth per stage makes it 98 (0.386B -> 37.7B). Dropout defaults to 0.5.
    See ``efficientnet_b0`` for the options.
    """
    return _efficientnet("efficientnet_b7", **kwargs)
