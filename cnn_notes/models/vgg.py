"""VGG: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
ICLR 2015 (arXiv:1409.1556); and the post's small "custom VGG"."""

import keras
from keras import layers

from cnn_notes.models.arguments import check_bool, check_rate, parse_common_args
from cnn_notes.models.heads import flatten_classifier, global_pool, model_input
from cnn_notes.models.layers import LocalResponseNormalization
from cnn_notes.models.registry import register_model

# The paper's Table 1, one row per configuration: each block is a list of convolutions, written as
# kernel sizes (3 for 3x3, 1 for 1x1), with the block's filter count. Every block ends in a 2x2 max-pool.
FILTERS = (64, 128, 256, 512, 512)
CONFIGS = {
    "A": ((3,), (3,), (3, 3), (3, 3), (3, 3)),
    "B": ((3, 3), (3, 3), (3, 3), (3, 3), (3, 3)),
    "C": ((3, 3), (3, 3), (3, 3, 1), (3, 3, 1), (3, 3, 1)),
    "D": ((3, 3), (3, 3), (3, 3, 3), (3, 3, 3), (3, 3, 3)),
    "E": ((3, 3), (3, 3), (3, 3, 3, 3), (3, 3, 3, 3), (3, 3, 3, 3)),
}


def vgg_block(x, filters, kernel_sizes, name):
    """One VGG block: 'same' convolutions with ReLU, then a 2x2 max-pool that halves the map."""
    for i, size in enumerate(kernel_sizes, start=1):
        x = layers.Conv2D(filters, size, padding="same", activation="relu", name=f"{name}_conv{i}")(x)
    return layers.MaxPooling2D(2, strides=2, name=f"{name}_pool")(x)


def _vgg(model, config, *, lrn=False, dropout=0.5, **kwargs):
    dropout = check_rate(dropout, "dropout")
    args = parse_common_args(model, kwargs, default_size=224, min_size=32)
    inputs = model_input(args)
    x = inputs
    for b, (filters, sizes) in enumerate(zip(FILTERS, CONFIGS[config]), start=1):
        if b == 1 and lrn:
            # A-LRN: local response normalisation right after the first convolution (Table 1).
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", name="block1_conv1")(x)
            x = LocalResponseNormalization(name="block1_lrn")(x)
            x = layers.MaxPooling2D(2, strides=2, name="block1_pool")(x)
            continue
        x = vgg_block(x, filters, sizes, name=f"block{b}")
    if args.include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dropout(dropout, name="fc1_dropout")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dropout(dropout, name="fc2_dropout")(x)
        x = layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)
    else:
        x = global_pool(x, args.pooling)
    return keras.Model(inputs, x, name=args.name)


@register_model
def vgg11(*, dropout=0.5, **kwargs):
    """VGG-11, configuration A of Simonyan & Zisserman 2014 (arXiv:1409.1556): 8 convolutions + 3 dense.

    133M parameters in the paper's Table 2; 132,863,336 here and in torchvision. ``dropout`` follows
    each hidden dense layer (0.5 in the paper; keras.applications leaves it out, which changes no count).
    """
    return _vgg("vgg11", "A", dropout=dropout, **kwargs)


@register_model
def vgg11_lrn(*, dropout=0.5, **kwargs):
    """VGG-11 with local response normalisation, configuration A-LRN (Simonyan & Zisserman 2014).

    The paper found that LRN "does not improve" A (Table 3) and dropped it from deeper nets. LRN has no
    weights, so the count equals A's: 132,863,336, Table 2's 133M.
    """
    return _vgg("vgg11_lrn", "A", lrn=True, dropout=dropout, **kwargs)


@register_model
def vgg13(*, dropout=0.5, **kwargs):
    """VGG-13, configuration B (Simonyan & Zisserman 2014): 10 convolutions + 3 dense; Table 2: 133M."""
    return _vgg("vgg13", "B", dropout=dropout, **kwargs)


@register_model
def vgg16_c(*, dropout=0.5, **kwargs):
    """VGG-16 configuration C (Simonyan & Zisserman 2014): the third convolution of blocks 3-5 is 1x1.

    The 1x1 layers add non-linearity without widening the receptive field. Each 1x1 keeps 1/9 of the
    weights of D's 3x3 in its place, saving 8*(256*256 + 512*512 + 512*512) = 4,718,592 weights:
    138,357,544 - 4,718,592 = 133,638,952, Table 2's 134M (biases are unchanged).
    """
    return _vgg("vgg16_c", "C", dropout=dropout, **kwargs)


@register_model
def vgg16(*, dropout=0.5, **kwargs):
    """VGG-16, configuration D (Simonyan & Zisserman 2014): 13 convolutions + 3 dense; 138,357,544 params.

    Equals ``keras.applications.VGG16(weights=None)``; layer names follow it (``block1_conv1`` ...).
    """
    return _vgg("vgg16", "D", dropout=dropout, **kwargs)


@register_model
def vgg19(*, dropout=0.5, **kwargs):
    """VGG-19, configuration E (Simonyan & Zisserman 2014): 16 convolutions + 3 dense; 143,667,240 params.

    Equals ``keras.applications.VGG19(weights=None)``.
    """
    return _vgg("vgg19", "E", dropout=dropout, **kwargs)


@register_model
def custom_vgg(*, dropout=0.4, batch_norm=False, **kwargs):
    """The post's "custom VGG": three VGG blocks of two 3x3 convolutions (32, 64, 128 filters), dropout
    after every convolution, then Flatten and one softmax layer; 32x32x3 input, 10 classes.

    The post prints 307,498 parameters: convolutions 287,008 + dense 4*4*128*10 + 10 = 20,490.

    Errata in the post's code, which this builder fixes rather than copies:
    * it imports ``DropOut`` from ``keras.layers`` (no such name; the layer is ``Dropout``), so the
      snippet fails at its first line;
    * it passes ``input_shape=`` to the first ``Conv2D``, which Keras 3 deprecates in favour of an
      ``Input`` layer (used here).

    ``batch_norm=True`` puts batch normalisation between every convolution and its ReLU, as Ioffe & Szegedy
    2015 (arXiv:1502.03167) do, and drops the convolutions' biases, which BN's shift replaces: the network of
    the Inception v2 chapter's experiment.
    """
    dropout = check_rate(dropout, "dropout")
    batch_norm = check_bool(batch_norm, "batch_norm")
    args = parse_common_args("custom_vgg", kwargs, default_size=32, min_size=8, default_classes=10)
    inputs = model_input(args)
    x = inputs
    for b, filters in enumerate((32, 64, 128), start=1):
        for i in (1, 2):
            if batch_norm:
                x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"block{b}_conv{i}")(x)
                x = layers.BatchNormalization(name=f"block{b}_bn{i}")(x)
                x = layers.Activation("relu", name=f"block{b}_relu{i}")(x)
            else:
                x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"block{b}_conv{i}")(x)
            x = layers.Dropout(dropout, name=f"block{b}_dropout{i}")(x)
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
    x = flatten_classifier(x, args)
    return keras.Model(inputs, x, name=args.name)
