"""DenseNet: Huang, Liu, van der Maaten & Weinberger, "Densely Connected Convolutional Networks",
CVPR 2017 (arXiv:1608.06993); and the post's small "Dense Net"."""

from collections import namedtuple

import keras
from keras import layers

from cnn_notes.models.arguments import check_rate, parse_common_args
from cnn_notes.models.heads import global_pool, model_input, pooled_classifier
from cnn_notes.models.registry import register_model

# keras.applications' epsilon (Caffe's 1e-5 nudged above cuDNN's minimum); kept so that the layers match.
BN_EPSILON = 1.001e-5

# The paper's Table 1 (DenseNet-BC, compression 0.5): dense layers per block and the growth rate k.
# min_size is the smallest input side that builds: keras' own 32 for the three models it ships; for
# DenseNet-161 the architecture's own limit, 29: three 2x2 average pools need an 8x8 map after the
# stride-4 stem, whose output side is (H - 1) // 4 + 1.
DenseNetConfig = namedtuple("DenseNetConfig", ["blocks", "growth_rate", "min_size"])
CONFIGS = {
    "densenet121": DenseNetConfig((6, 12, 24, 16), 32, 32),
    "densenet161": DenseNetConfig((6, 12, 36, 24), 48, 29),
    "densenet169": DenseNetConfig((6, 12, 32, 32), 32, 32),
    "densenet201": DenseNetConfig((6, 12, 48, 32), 32, 32),
}


def conv_block(x, growth_rate, name):
    """One dense layer (BN-ReLU-1x1 conv to 4k, BN-ReLU-3x3 conv to k), concatenated to its input."""
    x1 = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_0_bn")(x)
    x1 = layers.Activation("relu", name=f"{name}_0_relu")(x1)
    # The 1x1 "bottleneck" caps the 3x3's input at 4k channels however wide the block has grown.
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_1_bn")(x1)
    x1 = layers.Activation("relu", name=f"{name}_1_relu")(x1)
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x1)
    return layers.Concatenate(name=f"{name}_concat")([x, x1])


def dense_block(x, blocks, growth_rate, name):
    """A dense block: ``blocks`` dense layers, each adding ``growth_rate`` channels."""
    for i in range(1, blocks + 1):
        x = conv_block(x, growth_rate, name=f"{name}_block{i}")
    return x


def transition_block(x, reduction, name):
    """A transition: BN-ReLU-1x1 conv that keeps ``reduction`` of the channels, then 2x2 average pooling."""
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[-1] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def _densenet(model, **kwargs):
    config = CONFIGS[model]
    args = parse_common_args(model, kwargs, default_size=224, min_size=config.min_size)
    inputs = model_input(args)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = layers.Conv2D(2 * config.growth_rate, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    last = len(config.blocks) + 1
    for stage, blocks in enumerate(config.blocks, start=2):
        x = dense_block(x, blocks, config.growth_rate, name=f"conv{stage}")
        if stage < last:
            x = transition_block(x, 0.5, name=f"pool{stage}")
    # DenseNet-BC is pre-activation: the last dense layer's output still needs its BN and ReLU.
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = pooled_classifier(x, args)
    return keras.Model(inputs, x, name=args.name)


@register_model
def densenet121(**kwargs):
    """DenseNet-121 (Huang et al. 2016, arXiv:1608.06993): DenseNet-BC with k=32, blocks (6, 12, 24, 16).

    Equals ``keras.applications.DenseNet121(weights=None)``, layer names and weight shapes included
    (keras leaves the two ZeroPadding2D unnamed; here they are ``conv1_pad`` and ``pool1_pad``):
    8,062,504 parameters, of which 7,978,856 trainable (torchvision's ``num_params``); the other 83,648
    are BatchNorm moving statistics. 121 = 2 x (6 + 12 + 24 + 16) dense-layer convs + the stem conv +
    3 transition convs + the classifier. The stem has 2k = 64 filters.
    """
    return _densenet("densenet121", **kwargs)


@register_model
def densenet161(**kwargs):
    """DenseNet-161 (Huang et al. 2016, arXiv:1608.06993): the wide DenseNet-BC, k=48, blocks (6, 12, 36, 24).

    keras.applications does not ship it; this follows torchvision and the authors' release, where the
    stem has 2k = 96 filters (keras hard-codes 64, which equals 2k for its three k=32 models). Each dense
    layer's bottleneck is 4k = 192 wide. 28,681,000 trainable parameters, torchvision's ``num_params``.
    """
    return _densenet("densenet161", **kwargs)


@register_model
def densenet169(**kwargs):
    """DenseNet-169 (Huang et al. 2016, arXiv:1608.06993): DenseNet-BC with k=32, blocks (6, 12, 32, 32).

    Equals ``keras.applications.DenseNet169(weights=None)``: 14,307,880 parameters, 14,149,480 of them
    trainable (torchvision's ``num_params``).
    """
    return _densenet("densenet169", **kwargs)


@register_model
def densenet201(**kwargs):
    """DenseNet-201 (Huang et al. 2016, arXiv:1608.06993): DenseNet-BC with k=32, blocks (6, 12, 48, 32).

    Equals ``keras.applications.DenseNet201(weights=None)``: 20,242,984 parameters, 20,013,928 of them
    trainable (torchvision's ``num_params``).
    """
    return _densenet("densenet201", **kwargs)


# The post's dense_layer configs as a table: (filters, convolutions) per block. Every convolution is
# 3x3, stride 1, "same", ReLU, as in the post's dicts.
CUSTOM_BLOCKS = ((8, 5), (16, 5), (32, 5), (64, 5), (128, 5))


def post_dense_layer(x, filters, convs, name):
    """The post's ``dense_layer``, as written: not a dense block (see ``custom_densenet``).

    The first two convolutions both read ``x``; every later one reads the concatenation of all previous
    convolution outputs (``x`` itself is never concatenated); only the last convolution's output is returned.
    """

    def conv(inputs, i):
        return layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv{i}")(inputs)

    outputs = [conv(x, 1), conv(x, 2)]
    for i in range(3, convs + 1):
        outputs.append(conv(layers.Concatenate(name=f"{name}_concat{i}")(outputs), i))
    return outputs[-1]


@register_model
def custom_densenet(*, dropout=0.8, top_dropout=0.4, **kwargs):
    """The post's "Dense Net": a 4-filter stem, five "dense layers" of five 3x3 convolutions
    (8, 16, 32, 64, 128 filters), then max-pool, a 1x1 convolution to 96, max-pool, Flatten and softmax;
    32x32x3 input, 14 classes.

    The post prints 2,065,686 parameters, 880 non-trainable (BatchNorm moving statistics of
    8+16+32+64+128+96+96 = 440 channels). A block of f filters on c input channels costs
    2(9cf + f) + sum over n=2..4 of (9nf*f + f): 1,475,200 for the last; the head 8*8*96*14 + 14 = 86,030.
    ``dropout`` follows each block (the post's 0.8) and ``top_dropout`` precedes the classifier (0.4).
    ``min_size`` is 4, for the tail's two 2x2 max-pools (every convolution is "same").

    The post's code is reproduced as it runs, quirks included (the book prints them as errata next to
    ``densenet121``):

    * ``dense_layer`` is not a dense block. Its first two convolutions both read the block input ``x``
      (the paper's layer 2 would read [x, layer 1]); each later convolution reads the concatenation of the
      previous convolutions' outputs only, so ``x`` never reaches a concatenation; and the block returns
      the last convolution alone instead of the concatenation of everything. Each block therefore
      outputs just ``filters`` channels, and nothing is reused across blocks.
    * ``Dropout(0.8)`` after every block drops 80% of the activations in training: far above the
      paper's 0.2 (which it used only without data augmentation), and after the last block too.
    * There is no transition: the map stays 32x32 through all five blocks (they are the costly part),
      and the blocks are separated only by BatchNorm, without the paper's BN-ReLU-1x1 conv-pool.
    * The tail max-pools twice with a BN between, then BN again right before Flatten.
    * The snippet does not run as printed: the ``layer_f8`` ... ``layer_f128`` lists and
      ``inp = Input(...)`` are indented into ``dense_layer`` after its ``return`` (dead code), so the
      top-level ``x = inp`` raises ``NameError``. Dedented, the five lists of five identical dicts are
      the table ``CUSTOM_BLOCKS`` here.
    """
    dropout = check_rate(dropout, "dropout")
    top_dropout = check_rate(top_dropout, "top_dropout")
    args = parse_common_args("custom_densenet", kwargs, default_size=32, min_size=4, default_classes=14)
    inputs = model_input(args)
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="stem_conv")(inputs)
    for b, (filters, convs) in enumerate(CUSTOM_BLOCKS, start=1):
        if b > 1:
            x = layers.BatchNormalization(name=f"block{b}_bn")(x)
        x = post_dense_layer(x, filters, convs, name=f"block{b}")
        x = layers.Dropout(dropout, name=f"block{b}_dropout")(x)
    x = layers.MaxPooling2D(2, name="tail_pool1")(x)
    x = layers.BatchNormalization(name="tail_bn1")(x)
    x = layers.Conv2D(96, 1, activation="relu", name="tail_conv")(x)
    x = layers.BatchNormalization(name="tail_bn2")(x)
    x = layers.MaxPooling2D(2, name="tail_pool2")(x)
    x = layers.BatchNormalization(name="tail_bn3")(x)
    if args.include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dropout(top_dropout, name="top_dropout")(x)
        x = layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)
    else:
        x = global_pool(x, args.pooling)
    return keras.Model(inputs, x, name=args.name)
