"""Xception: Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions", CVPR 2017
(arXiv:1610.02357); and the post's small "Xception Net"."""

import keras
from keras import layers

from cnn_notes.models.arguments import check_rate, parse_common_args
from cnn_notes.models.heads import flatten_classifier, model_input, pooled_classifier
from cnn_notes.models.registry import register_model

# The paper's Figure 5. Entry and exit blocks: (block, filters of the two separable convs, whether the
# block starts with a ReLU). Block 2 does not: the stem's ReLU has just run.
ENTRY_FLOW = ((2, (128, 128), False), (3, (256, 256), True), (4, (728, 728), True))
MIDDLE_FLOW = (5, 8, 728)  # first block, repeats, filters
EXIT_BLOCK = (13, (728, 1024), True)
EXIT_CONVS = (1536, 2048)


def sepconv_bn(x, filters, name):
    """A 3x3 separable convolution (no bias: BatchNorm follows) and its BatchNorm."""
    x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(name=f"{name}_bn")(x)


def downsampling_block(x, filters, first_act, name):
    """An entry/exit-flow block: two ReLU-separable conv-BN and a strided 3x3 max-pool, plus a strided
    1x1 conv-BN shortcut.

    keras.applications names the activations after the convolution they feed, so block 2, which has no
    leading ReLU, goes from ``block2_sepconv1_bn`` straight to ``block2_sepconv2_act``.
    """
    residual = layers.Conv2D(
        filters[1], 1, strides=2, padding="same", use_bias=False, name=f"{name}_residual_conv"
    )(x)
    residual = layers.BatchNormalization(name=f"{name}_residual_bn")(residual)
    if first_act:
        x = layers.Activation("relu", name=f"{name}_sepconv1_act")(x)
    x = sepconv_bn(x, filters[0], name=f"{name}_sepconv1")
    x = layers.Activation("relu", name=f"{name}_sepconv2_act")(x)
    x = sepconv_bn(x, filters[1], name=f"{name}_sepconv2")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)
    return layers.Add(name=f"{name}_add")([x, residual])


def middle_block(x, filters, name):
    """A middle-flow block: three ReLU-separable conv-BN on an identity shortcut."""
    residual = x
    for i in (1, 2, 3):
        x = layers.Activation("relu", name=f"{name}_sepconv{i}_act")(x)
        x = sepconv_bn(x, filters, name=f"{name}_sepconv{i}")
    return layers.Add(name=f"{name}_add")([x, residual])


@register_model
def xception(**kwargs):
    """Xception (Chollet 2016, arXiv:1610.02357): Inception modules taken to the extreme, i.e. depthwise
    separable convolutions in 14 blocks, 12 of them with residual shortcuts; 299x299 input.

    Equals ``keras.applications.Xception(weights=None)``, layer names and weight shapes included; keras
    leaves the shortcut convolutions, their BatchNorms and the additions unnamed, here they are
    ``block2_residual_conv``, ``block2_residual_bn``, ``block2_add`` and so on. The middle flow is one
    block repeated 8 times (blocks 5-12).

    22,910,480 parameters. The paper's 22,855,952 (its Table 3) is exactly the *trainable* count: the
    other 54,528 are the moving mean and variance of the 27,264 BatchNorm channels, which Keras counts
    as non-trainable weights and the paper, counting what is learned, does not. About 8.36 billion
    multiply-accumulates at 299x299, most of them in the 1x1 pointwise halves of the separable
    convolutions (a 728-wide one costs 728 x 728 per position against 9 x 728 for its depthwise half).
    ``min_size`` is keras' 71.
    """
    args = parse_common_args("xception", kwargs, default_size=299, min_size=71)
    inputs = model_input(args)
    # Entry flow: two valid 3x3 convs (299 -> 149 -> 147), then three blocks that halve the map.
    x = inputs
    for i, (filters, strides) in enumerate(((32, 2), (64, 1)), start=1):
        x = layers.Conv2D(filters, 3, strides=strides, use_bias=False, name=f"block1_conv{i}")(x)
        x = layers.BatchNormalization(name=f"block1_conv{i}_bn")(x)
        x = layers.Activation("relu", name=f"block1_conv{i}_act")(x)
    for block, filters, first_act in ENTRY_FLOW:
        x = downsampling_block(x, filters, first_act, name=f"block{block}")
    first, repeats, filters = MIDDLE_FLOW
    for block in range(first, first + repeats):
        x = middle_block(x, filters, name=f"block{block}")
    block, filters, first_act = EXIT_BLOCK
    x = downsampling_block(x, filters, first_act, name=f"block{block}")
    # The last two separable convs are conv-BN-ReLU, not ReLU-conv-BN: their output feeds the classifier.
    for i, filters in enumerate(EXIT_CONVS, start=1):
        x = sepconv_bn(x, filters, name=f"block14_sepconv{i}")
        x = layers.Activation("relu", name=f"block14_sepconv{i}_act")(x)
    x = pooled_classifier(x, args)
    return keras.Model(inputs, x, name=args.name)


# The post's two "separable" blocks as a table: (name, whether x1 starts as ReLU(x), the convs run on x1
# as (filters, activation) with None filters for a 3x3 depthwise conv, filters of the valid 2x2 conv on x).
CUSTOM_BLOCKS = (
    ("block1", False, ((None, "relu"), (None, "relu")), 64),
    ("block2", True, ((256, "relu"), (None, "relu"), (None, None)), 256),
)


def post_bn_dropout(x, dropout, name, i):
    """The post's BatchNorm + Dropout pair."""
    x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
    return layers.Dropout(dropout, name=f"{name}_dropout{i}")(x)


def post_conv_bn(x, filters, strides, dropout, name, i):
    """The post's conv unit: a "same" 3x3 conv with ReLU, then BatchNorm + Dropout."""
    x = layers.Conv2D(
        filters, 3, strides=strides, padding="same", activation="relu", name=f"{name}_conv{i}"
    )(x)
    return post_bn_dropout(x, dropout, name, i)


def post_xception_block(x, relu_x1, x1_convs, filters, dropout, name):
    """One of the post's "separable" blocks, wired as written (see ``custom_xception``).

    ``x1`` (``x``, or ``ReLU(x)``) runs through ``x1_convs`` and a 2x2/1 max-pool; after each of those
    convs, ``x`` (not ``x1``) gets a BatchNorm + Dropout; then a valid 2x2 conv on ``x``, and the two
    branches, each 1 pixel smaller than the input, are concatenated as ``[x1, x]``.
    """
    x1 = layers.Activation("relu", name=f"{name}_x1_relu")(x) if relu_x1 else x
    for i, (conv_filters, activation) in enumerate(x1_convs, start=1):
        if conv_filters is None:
            conv = layers.DepthwiseConv2D(
                3, padding="same", activation=activation, name=f"{name}_x1_dwconv{i}"
            )
        else:
            conv = layers.Conv2D(
                conv_filters, 3, padding="same", activation=activation, name=f"{name}_x1_conv{i}"
            )
        x1 = conv(x1)
        x = post_bn_dropout(x, dropout, f"{name}_x", i)
    x1 = layers.MaxPooling2D(2, strides=1, name=f"{name}_x1_pool")(x1)
    x = layers.Conv2D(filters, 2, name=f"{name}_x_conv")(x)
    return layers.Concatenate(name=f"{name}_concat")([x1, x])


@register_model
def custom_xception(*, dropout=0.4, **kwargs):
    """The post's "Xception Net": a strided stem, two depthwise blocks joined by concatenation, two 3x3
    convolutions and a softmax over the flattened 14x14x128 map; 32x32x3 input, 100 classes.

    The post prints 4,456,548 parameters, 1,984 non-trainable (BatchNorm moving statistics of
    32+64+64+64+128+128+128+256+128 = 992 channels). Most of it is in the last conv (9*512*256 + 256 =
    1,179,904) and the classifier (14*14*128*100 + 100 = 2,508,900): without global pooling the head is
    larger than all the convolutions together. ``dropout`` is the post's 0.4, after every BatchNorm.
``min_size`` is 5: the stem halves the side (rounding up) and each block takes one pixel off.

    The post's code is reproduced as it runs, quirks included (the book prints them as errata next to
    ``xception``):

    * The x/x1 wiring. Each convolution on ``x1`` (block 1: two depthwise; block 2: a 3x3 conv to 256 and
      two depthwise) is followed by ``x = BatchNormalization()(x)`` and ``x = Dropout(0.4)(x)`` on the
      *other* branch ``x``. So ``x1`` is never normalised, while ``x`` gets two (block 1) or three
      (block 2) BatchNorm+Dropout pairs in a row with nothing between them, then feeds the valid 2x2
      convolution that is concatenated with ``x1``. In block 2, ``x`` is block 1's raw 128-channel
      concatenation: only ``x1`` goes through the ReLU.
    * No separable convolution: a ``DepthwiseConv2D`` is never followed by the 1x1 pointwise
      convolution that makes it one (compare ``SeparableConv2D`` in ``xception``), so the depthwise
      layers never mix channels; only block 2's full 3x3 conv to 256 does, which is exactly what
      Xception factors.
    * No residual additions: the branches are concatenated, as in Inception. And the map shrinks by one
      pixel per block instead of halving: ``x1`` loses it in the 2x2 max-pool of stride 1, ``x`` in the
      valid 2x2 convolution, so 16 -> 15 after block 1 and 15 -> 14 after block 2.
    * Block 2's last depthwise conv and both valid 2x2 convs have no activation (the post passes
      none), unlike every other convolution.
    * ``Dropout(0.4)`` after every BatchNorm, stem included, and ``Flatten`` into a 25,088-input
      classifier.
    """
    dropout = check_rate(dropout, "dropout")
    args = parse_common_args("custom_xception", kwargs, default_size=32, min_size=5, default_classes=100)
    inputs = model_input(args)
    x = post_conv_bn(inputs, 32, 2, dropout, "stem", 1)
    x = post_conv_bn(x, 64, 1, dropout, "stem", 2)
    for name, relu_x1, x1_convs, filters in CUSTOM_BLOCKS:
        x = post_xception_block(x, relu_x1, x1_convs, filters, dropout, name)
    x = layers.Activation("relu", name="exit_relu")(x)
    x = post_conv_bn(x, 256, 1, dropout, "exit", 1)
    x = post_conv_bn(x, 128, 1, dropout, "exit", 2)
    x = flatten_classifier(x, args)
    return keras.Model(inputs, x, name=args.name)
