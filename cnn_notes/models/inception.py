"""Inception v3, Inception-v4 and Inception-ResNet v1/v2: Szegedy et al., "Rethinking the Inception
Architecture for Computer Vision", 2015 (arXiv:1512.00567), and Szegedy, Ioffe, Vanhoucke & Alemi,
"Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning", 2016 (arXiv:1602.07261).

The four networks are built from the same few pieces, so each model is a table of rows
``(name, block, *arguments)`` read top to bottom, like the papers' architecture tables, and one private
builder runs the table. The pieces:

* ``conv_bn``: convolution without bias, batch normalisation without scale, ReLU; the unit of every
  Inception network since BN-Inception (TF-Slim and keras.applications drop the BN scale, since a ReLU
  follows and the next convolution can absorb it).
* ``inception_block``: parallel branches concatenated. A branch is a tuple of steps, applied in order:

  - ``(filters, kernel[, strides[, padding]])``: a ``conv_bn`` unit ('same' and stride 1 by default);
  - ``"avg"``: 3x3 average pooling, stride 1 (the pooling branch of the stride-1 blocks);
  - ``"max"``: 3x3 max pooling, stride 2, 'valid' (the pooling branch of the grid reductions);
  - a list of convolutions: applied side by side to the same input and concatenated (v3's and v4's
    1x3 | 3x1 split in the 8x8 blocks).

  The grid reductions (v3's Figure 10, the paper's Reduction-A/B) are inception blocks whose branches
  end in a 3x3 stride-2 'valid' convolution or max-pool.
* ``inception_resnet_block``: an inception block whose concatenation is projected back to the input
  width by a linear 1x1 convolution, scaled and added to the input (``ScaledResidual``).

Every layer is named after its place: block ``mixed5``, branch 1, second unit gives the convolution
``mixed5_branch1_conv2`` with ``mixed5_branch1_conv2_bn`` and ``mixed5_branch1_conv2_ac``, after
keras.applications' ``conv_7b``/``conv_7b_bn``/``conv_7b_ac``. Branches count from 0 as in TF-Slim and
keras' ``branch_0``; the stem keeps TF-Slim's names (``conv_1a`` ... ``pool_5a``), as keras does for
``conv_7b``.
"""

from collections import namedtuple

import keras
from keras import layers

from cnn_notes.models.arguments import check_rate, parse_common_args
from cnn_notes.models.heads import model_input, pooled_classifier
from cnn_notes.models.registry import register_model


@keras.saving.register_keras_serializable(package="cnn_notes")
class ScaledResidual(keras.layers.Layer):
    """Adds a scaled residual to the shortcut: ``inputs[0] + scale * inputs[1]``.

    Szegedy et al. 2016 (section 3.3) scale the residuals down by 0.1-0.3 before the addition: with more
    than about 1000 filters the Inception-ResNets "died" early in training otherwise. keras.applications
    does this with an auto-named ``CustomScaleLayer``; here the layer carries the block's name.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs):
        shortcut, residual = inputs
        return shortcut + residual * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def conv_bn(x, filters, kernel_size, strides=1, padding="same", *, name):
    """Convolution (no bias) -> BatchNormalization (no scale) -> ReLU, named ``name``, ``name_bn``,
    ``name_ac`` as keras.applications' Inception-ResNet-v2 names its ``conv_7b``."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False, name=name)(x)
    x = layers.BatchNormalization(scale=False, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_ac")(x)


def max_pool(x, *, name):
    """3x3 max pooling, stride 2, 'valid': the stem's grid reductions."""
    return layers.MaxPooling2D(3, strides=2, name=name)(x)


def branch(x, steps, *, name, split_name=None):
    """One branch (tower) of an inception block; see the module docstring for the steps."""
    units = 0
    for step in steps:
        if step == "avg":
            x = layers.AveragePooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
        elif step == "max":
            x = max_pool(x, name=f"{name}_pool")
        elif isinstance(step, list):
            units += 1
            parts = [conv_bn(x, *conv, name=f"{name}_conv{units}{letter}") for letter, conv in zip("ab", step)]
            x = layers.Concatenate(name=split_name or f"{name}_concat")(parts)
        else:
            units += 1
            x = conv_bn(x, *step, name=f"{name}_conv{units}")
    return x


def _branches(x, branches, name, split_names=None):
    split_names = split_names or {}
    return [
        branch(x, steps, name=f"{name}_branch{i}", split_name=split_names.get(i))
        for i, steps in enumerate(branches)
    ]


def inception_block(x, branches, split_names=None, *, name):
    """Parallel branches, concatenated along the channels into the layer ``name``.

    ``split_names`` maps a branch index to the name of its inner 1x3 | 3x1 concatenation, where
    keras.applications names it (``mixed9_0``).
    """
    return layers.Concatenate(name=name)(_branches(x, branches, name, split_names))


def inception_resnet_block(x, branches, scale, activation="relu", *, name):
    """An Inception-ResNet block: ``activation(x + scale * conv1x1(concat(branches)))``.

    The 1x1 convolution is linear, with a bias and no BN, and restores the input width so the sum is
    defined (the "1x1 Conv (... Linear)" of the paper's Figures 10-13, 16, 17, 19). Names follow
    keras.applications: ``{name}_mixed``, ``{name}_conv``, ``{name}`` (the sum) and ``{name}_ac``.
    """
    mixed = layers.Concatenate(name=f"{name}_mixed")(_branches(x, branches, name))
    up = layers.Conv2D(x.shape[-1], 1, name=f"{name}_conv")(mixed)
    x = ScaledResidual(scale, name=name)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}_ac")(x)
    return x


# --- Branch tables of the paper figures ------------------------------------------------------------------
# Each function returns the branches of one block type, with the filter counts as arguments, so that the
# model tables below read like the papers' tables.


def reduction_a(k, l, m, n):
    """Reduction-A (2016, Figure 7): 3x3/2 conv (n) | 1x1 (k) -> 3x3 (l) -> 3x3/2 (m) | 3x3/2 max-pool.

    The 35x35 -> 17x17 reduction of v3 (2015, Figure 10; keras' ``mixed3``) is the same block with
    k, l, m, n = 64, 96, 96, 384.
    """
    return (((n, 3, 2, "valid"),), ((k, 1), (l, 3), (m, 3, 2, "valid")), ("max",))


def reduction_b(a, b):
    """v3's 17x17 -> 8x8 reduction (keras' ``mixed8``) and v4's Reduction-B (2016, Figure 8):
    1x1 (a0) -> 3x3/2 (a1) | 1x1 (b0) -> 1x7 (b1) -> 7x1 (b2) -> 3x3/2 (b3) | 3x3/2 max-pool."""
    return (
        ((a[0], 1), (a[1], 3, 2, "valid")),
        ((b[0], 1), (b[1], (1, 7)), (b[2], (7, 1)), (b[3], 3, 2, "valid")),
        ("max",),
    )


def reduction_b_resnet(a, b, c):
    """Inception-ResNet's Reduction-B (2016, Figures 12 and 18): three 1x1 (256) towers ending in a
    3x3/2 conv (a, b; c after a 3x3) and a 3x3/2 max-pool."""
    return (
        ((256, 1), (a, 3, 2, "valid")),
        ((256, 1), (b, 3, 2, "valid")),
        ((256, 1), (c[0], 3), (c[1], 3, 2, "valid")),
        ("max",),
    )


def block_35(b0, b1, b2, pool, kernel):
    """The 35x35 stride-1 block: 1x1 | 1x1 -> kxk | 1x1 -> 3x3 -> 3x3 | avg-pool -> 1x1.

    v4's Inception-A (2016, Figure 4) has k=3. v3's first three blocks (keras' ``mixed0``-``mixed2``)
    keep a 5x5 branch (k=5), as TF-Slim and keras do, although the v3 paper's Figure 5 factorises it
    into two 3x3s.
    """
    return (((b0, 1),), ((b1[0], 1), (b1[1], kernel)), ((b2[0], 1), (b2[1], 3), (b2[2], 3)), ("avg", (pool, 1)))


def block_17(b0, b1, b2, pool):
    """The 17x17 block with factorised 7x7s (2015, Figure 6; 2016, Figure 5 Inception-B):
    1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7 | avg-pool -> 1x1."""
    b1_kernels = (1, (1, 7), (7, 1))
    b2_kernels = (1, (7, 1), (1, 7), (7, 1), (1, 7))
    return (
        ((b0, 1),),
        tuple(zip(b1, b1_kernels)),
        tuple(zip(b2, b2_kernels)),
        ("avg", (pool, 1)),
    )


def block_8(b0, b1, b2, split, pool):
    """The 8x8 block with the expanded 1x3 | 3x1 outputs (2015, Figure 7; 2016, Figure 6 Inception-C):
    1x1 | 1x1 -> [1x3, 3x1] | b2's chain -> [1x3, 3x1] | avg-pool -> 1x1."""
    parallel = [(split, (1, 3)), (split, (3, 1))]
    return (((b0, 1),), ((b1, 1), parallel), (*b2, parallel), ("avg", (pool, 1)))


def _repeat(prefix, suffixes, block, *options):
    """Rows of identical blocks named ``prefix + suffix``."""
    return tuple((f"{prefix}{suffix}", block, *options) for suffix in suffixes)


# --- The models as tables ------------------------------------------------------------------------------------

# The stem of TF-Slim's Inception v3 (2015, Table 1's first rows): 299 -> 149 -> 147 -> 147 -> 73 -> 73 -> 71.
# Inception-ResNet-v2 in TF-Slim and keras.applications reuses it (not the v4 stem of the 2016 paper's Fig. 3).
STEM_V3 = (
    ("conv_1a", conv_bn, 32, 3, 2, "valid"),
    ("conv_2a", conv_bn, 32, 3, 1, "valid"),
    ("conv_2b", conv_bn, 64, 3),
    ("pool_3a", max_pool),
    ("conv_3b", conv_bn, 80, 1, 1, "valid"),
    ("conv_4a", conv_bn, 192, 3, 1, "valid"),
)

INCEPTION_V3 = (
    *STEM_V3,
    ("pool_5a", max_pool),  # 35x35x192
    ("mixed0", inception_block, block_35(64, (48, 64), (64, 96, 96), 32, kernel=5)),  # 35x35x256
    ("mixed1", inception_block, block_35(64, (48, 64), (64, 96, 96), 64, kernel=5)),  # 35x35x288
    ("mixed2", inception_block, block_35(64, (48, 64), (64, 96, 96), 64, kernel=5)),
    ("mixed3", inception_block, reduction_a(64, 96, 96, 384)),  # 17x17x768
    # The 7x7 factorisation widens from 128 to 192 filters over the four 17x17 blocks.
    *(
        (f"mixed{4 + i}", inception_block, block_17(192, (c, c, 192), (c, c, c, c, 192), 192))
        for i, c in enumerate((128, 160, 160, 192))
    ),
    ("mixed8", inception_block, reduction_b((192, 320), (192, 192, 192, 192))),  # 8x8x1280
    # keras.applications names the 1x3 | 3x1 concatenation of branch 1 "mixed9_0" in mixed9 and
    # "mixed9_1" in mixed10; the names are kept.
    ("mixed9", inception_block, block_8(320, 384, ((448, 1), (384, 3)), 384, 192), {1: "mixed9_0"}),  # 8x8x2048
    ("mixed10", inception_block, block_8(320, 384, ((448, 1), (384, 3)), 384, 192), {1: "mixed9_1"}),
)

# Inception-v4 (2016, Figures 3-9), with TF-Slim's block names. The stem (Figure 3) splits its two
# stride-2 reductions into a conv and a max-pool side by side: 147x147x64 -> 73x73x160 -> 71x71x192 -> 35x35x384.
INCEPTION_V4 = (
    *STEM_V3[:3],
    ("mixed_3a", inception_block, (("max",), ((96, 3, 2, "valid"),))),
    (
        "mixed_4a",
        inception_block,
        (((64, 1), (96, 3, 1, "valid")), ((64, 1), (64, (1, 7)), (64, (7, 1)), (96, 3, 1, "valid"))),
    ),
    ("mixed_5a", inception_block, (((192, 3, 2, "valid"),), ("max",))),
    *_repeat("mixed_5", "bcde", inception_block, block_35(96, (64, 96), (64, 96, 96), 96, kernel=3)),
    ("mixed_6a", inception_block, reduction_a(192, 224, 256, 384)),  # 17x17x1024
    *_repeat(
        "mixed_6", "bcdefgh", inception_block, block_17(384, (192, 224, 256), (192, 192, 224, 224, 256), 128)
    ),
    ("mixed_7a", inception_block, reduction_b((192, 192), (256, 256, 320, 320))),  # 8x8x1536
    *_repeat(
        "mixed_7", "bcd", inception_block, block_8(256, 384, ((384, 1), (448, (3, 1)), (512, (1, 3))), 256, 256)
    ),
)

# Inception-ResNet branches (before the linear 1x1 up-projection): A (35x35), B (17x17), C (8x8).
RESNET_V1_A = (((32, 1),), ((32, 1), (32, 3)), ((32, 1), (32, 3), (32, 3)))  # Figure 10
RESNET_V1_B = (((128, 1),), ((128, 1), (128, (1, 7)), (128, (7, 1))))  # Figure 11
RESNET_V1_C = (((192, 1),), ((192, 1), (192, (1, 3)), (192, (3, 1))))  # Figure 13
RESNET_V2_A = (((32, 1),), ((32, 1), (32, 3)), ((32, 1), (48, 3), (64, 3)))  # Figure 16
RESNET_V2_B = (((192, 1),), ((128, 1), (160, (1, 7)), (192, (7, 1))))  # Figure 17
RESNET_V2_C = (((192, 1),), ((192, 1), (224, (1, 3)), (256, (3, 1))))  # Figure 19

# Residual scales of TF-Slim (and keras, and facenet's v1): the paper says only "between 0.1 and 0.3".
SCALE_A, SCALE_B, SCALE_C = 0.17, 0.10, 0.20

# Inception-ResNet-v1 (2016, Figures 14, 10, 7, 11, 12, 13, 15): 35x35x256 -> 17x17x896 -> 8x8x1792.
INCEPTION_RESNET_V1 = (
    *STEM_V3,
    ("conv_4b", conv_bn, 256, 3, 2, "valid"),  # 35x35x256 (Figure 14)
    *_repeat("block35_", range(1, 6), inception_resnet_block, RESNET_V1_A, SCALE_A),
    ("mixed_6a", inception_block, reduction_a(192, 192, 256, 384)),  # 17x17x(384+256+256)
    *_repeat("block17_", range(1, 11), inception_resnet_block, RESNET_V1_B, SCALE_B),
    ("mixed_7a", inception_block, reduction_b_resnet(384, 256, (256, 256))),  # 8x8x(896+384+256+256)
    *_repeat("block8_", range(1, 6), inception_resnet_block, RESNET_V1_C, SCALE_C),
)

# Inception-ResNet-v2 as keras.applications (TF-Slim) builds it: v3's stem and a v3-style mixed_5b,
# 10 + 20 + 10 blocks (the paper's Figure 15 schema draws 5 + 10 + 5), the last block linear and unscaled,
# and a 1x1 conv to 1536 channels.
INCEPTION_RESNET_V2 = (
    *STEM_V3,
    ("pool_5a", max_pool),  # 35x35x192
    ("mixed_5b", inception_block, block_35(96, (48, 64), (64, 96, 96), 64, kernel=5)),  # 35x35x320
    *_repeat("block35_", range(1, 11), inception_resnet_block, RESNET_V2_A, SCALE_A),
    ("mixed_6a", inception_block, reduction_a(256, 256, 384, 384)),  # 17x17x1088
    *_repeat("block17_", range(1, 21), inception_resnet_block, RESNET_V2_B, SCALE_B),
    ("mixed_7a", inception_block, reduction_b_resnet(384, 288, (288, 320))),  # 8x8x2080
    *_repeat("block8_", range(1, 10), inception_resnet_block, RESNET_V2_C, SCALE_C),
    # The last block leaves its ReLU to conv_7b's BN-ReLU.
    ("block8_10", inception_resnet_block, RESNET_V2_C, 1.0, None),
    ("conv_7b", conv_bn, 1536, 1),  # 8x8x1536
)

Config = namedtuple("Config", ["rows", "min_size"])

# min_size: the smallest input whose last reduction still sees a 3x3 map. All four have the same five
# 'valid' stride-2 reductions and two 'valid' 3x3s: 75 -> 37 -> 35 -> 17 -> 15 -> 7 -> 3 -> 1, while 74 ends
# in an empty map. keras.applications states 75 for v3 and Inception-ResNet-v2.
CONFIGS = {
    "inception_v3": Config(INCEPTION_V3, 75),
    "inception_v4": Config(INCEPTION_V4, 75),
    "inception_resnet_v1": Config(INCEPTION_RESNET_V1, 75),
    "inception_resnet_v2": Config(INCEPTION_RESNET_V2, 75),
}


def _inception(model, *, dropout, **kwargs):
    dropout = check_rate(dropout, "dropout")
    config = CONFIGS[model]
    args = parse_common_args(model, kwargs, default_size=299, min_size=config.min_size)
    inputs = model_input(args)
    x = inputs
    for name, block, *options in config.rows:
        x = block(x, *options, name=name)
    x = pooled_classifier(x, args, dropout=dropout)
    return keras.Model(inputs, x, name=args.name)


@register_model
def inception_v3(*, dropout=0.0, **kwargs):
    """Inception v3 (Szegedy, Vanhoucke, Ioffe, Shlens & Wojna 2015, "Rethinking the Inception Architecture
    for Computer Vision", arXiv:1512.00567), as keras.applications.InceptionV3 builds it.

    v3 factorises large convolutions: 7x7 into 1x7 and 7x1 in the 17x17 blocks (Figure 6), 3x3 into
    parallel 1x3 and 3x1 in the 8x8 blocks (Figure 7), and reduces the grid with a stride-2 conv and a
    max-pool side by side (Figure 10) rather than pooling first, which would make a representational
    bottleneck. Stem and 11 blocks:
    299 -> 35x35x192 -> mixed0-2 (35x35x256/288/288) -> mixed3 (17x17x768) -> mixed4-7 -> mixed8
    (8x8x1280) -> mixed9-10 (8x8x2048) -> average pool -> classifier.

    Equals ``keras.applications.InceptionV3(weights=None)``: 23,851,784 parameters, of which 34,432 are
    BatchNormalization's moving statistics (non-trainable); 21,802,784 + 2048*1000 + 1000 for the
    classifier. torchvision's 27,161,264 adds the auxiliary classifier (3,326,696) and BN's scale.
    5.713 G multiply-accumulates at 299x299, torchvision's figure ("about 5 billion multiply-adds" in
    the paper). The auxiliary classifier is left out, as in keras.

    ``dropout`` before the classifier defaults to 0, as in keras.applications; TF-Slim uses 0.2
    (keep 0.8), torchvision 0.5.
    """
    return _inception("inception_v3", dropout=dropout, **kwargs)


@register_model
def inception_v4(*, dropout=0.2, **kwargs):
    """Inception-v4 (Szegedy, Ioffe, Vanhoucke & Alemi 2016, "Inception-v4, Inception-ResNet and the
    Impact of Residual Connections on Learning", arXiv:1602.07261), Figures 3-9.

    A uniform, deeper pure-Inception network: the stem of Figure 3 (35x35x384), 4 Inception-A (Figure 4),
    Reduction-A with k, l, m, n = 192, 224, 256, 384 (Figure 7; 17x17x1024), 7 Inception-B (Figure 5),
    Reduction-B (Figure 8; 8x8x1536), 3 Inception-C (Figure 6), average pooling, dropout, classifier.
    Every convolution is followed by BN and ReLU and has no bias, as in TF-Slim and timm's
    ``inception_v4``; block names are TF-Slim's (``mixed_5b`` ... ``mixed_7d``).

    Parameters: 42,711,400 in all, of which 63,168 are BN moving statistics (non-trainable); the
    trainable 42,648,232 are 41,111,232 for the convolutions and their BN shifts plus 1536*1000 + 1000
    for the classifier. timm's 42.68M (``inception_v4.tf_in1k``) counts BN's scale too, which TF-Slim and
    this builder leave out: 42,648,232 + 31,584 BN channels = 42,679,816. 12.254 G multiply-accumulates
    at 299x299 (timm: 12.3).

    ``dropout`` defaults to 0.2, Figure 9's "Dropout (keep 0.8)" (TF-Slim's default too).
    """
    return _inception("inception_v4", dropout=dropout, **kwargs)


@register_model
def inception_resnet_v1(*, dropout=0.2, **kwargs):
    """Inception-ResNet-v1 (Szegedy et al. 2016, arXiv:1602.07261), Figures 14, 10, 7, 11, 12, 13 and 15.

    The cheaper hybrid, costing about as much as v3: the stem of Figure 14 (35x35x256), 5
    Inception-ResNet-A (Figure 10), Reduction-A with k, l, m, n = 192, 192, 256, 384 (Figure 7;
    17x17x896), 10 Inception-ResNet-B (Figure 11), Reduction-B (Figure 12; 8x8x1792), 5
    Inception-ResNet-C (Figure 13), average pooling, dropout, classifier. Each block adds a linear 1x1
    projection of its branches, scaled by 0.17, 0.10 and 0.20 (TF-Slim's scales, section 3.3), to its
    input.

    Parameters: 22,769,848 in all, 27,040 of them BN moving statistics; 22,742,808 trainable, of which
    1792*1000 + 1000 are the classifier. 6.206 G multiply-accumulates at 299x299 (v3: 5.713).

    keras.applications has no v1. The best-known public one, facenet's (D. Sandberg, TF-Slim; a face
    embedder), has the same stem, blocks and scales but appends a sixth, unscaled and linear
    Inception-ResNet-C block and a 512-d bottleneck instead of the classifier; this builder follows the
    paper's 5 blocks and classifier. The last block keeps its ReLU, as the paper's Figure 13 draws it
    (keras' Inception-ResNet-v2 drops it only because conv_7b's BN-ReLU follows).

    ``dropout`` defaults to 0.2, Figure 15's "Dropout (keep 0.8)".
    """
    return _inception("inception_resnet_v1", dropout=dropout, **kwargs)


@register_model
def inception_resnet_v2(*, dropout=0.0, **kwargs):
    """Inception-ResNet-v2 (Szegedy et al. 2016, arXiv:1602.07261), as keras.applications builds it.

    The costlier hybrid, costing about as much as Inception-v4: v3's stem and a v3-style ``mixed_5b``
    (35x35x320), 10 Inception-ResNet-A (Figure 16), Reduction-A with k, l, m, n = 256, 256, 384, 384
    (17x17x1088), 20 Inception-ResNet-B (Figure 17), Reduction-B (Figure 18; 8x8x2080), 10
    Inception-ResNet-C (Figure 19), a 1x1 conv to 1536 channels, average pooling, classifier. The
    paper's Figure 15 schema draws 5, 10 and 5 blocks and the Figure 3 stem; the released TF-Slim model,
    which keras.applications ports, doubles the blocks and keeps v3's stem.

    Equals ``keras.applications.InceptionResNetV2(weights=None)`` layer for layer: 55,873,736 parameters
    (55,813,192 trainable, 60,544 BN moving statistics), with keras' names (``block35_1``,
    ``block35_1_mixed``, ``block35_1_conv``, ``conv_7b`` ...); the layers keras leaves auto-named are
    named here. timm's 55.84M adds BN's scale: 55,813,192 + 30,272 channels = 55,843,464. 13.156 G
    multiply-accumulates at 299x299.

    ``dropout`` defaults to 0, as in keras.applications; the paper and TF-Slim use 0.2 (keep 0.8).
    """
    return _inception("inception_resnet_v2", dropout=dropout, **kwargs)
