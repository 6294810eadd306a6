"""LeNet-5 and Network in Network: where convolution and pooling, and then 1x1 convolutions and global average
pooling, come from.

* LeNet-5: LeCun, Bottou, Bengio & Haffner, "Gradient-Based Learning Applied to Document Recognition",
  Proceedings of the IEEE 86(11), 1998. A 32x32 grayscale digit goes through two pairs of a 5x5 convolution
  (C1, 6 maps; C3, 16 maps) and a 2x2 subsampling (S2, S4), a 5x5 convolution to 120 maps of 1x1 (C5), a
  fully-connected layer of 84 units (F6) and the output, one unit per class.
* NiN: Lin, Chen & Yan, "Network In Network", ICLR 2014 (arXiv:1312.4400). Each convolution is followed by
  two 1x1 convolutions, a small multilayer perceptron slid over the map (the *mlpconv* layer), and the
  classifier is a last mlpconv with one map per class, averaged over the map (*global average pooling*):
  no fully-connected layer.

Both follow the modern reading that d2l gives them (Zhang et al., "Dive into Deep Learning", sections 7.6 and
8.3), not every detail of the papers; each builder's docstring says what differs.
"""

import keras
from keras import layers

from cnn_notes.models.arguments import check_rate, parse_common_args
from cnn_notes.models.heads import global_pool, model_input
from cnn_notes.models.registry import register_model

# LeNet-5 (LeCun et al. 1998, section II.B): (layer, maps) of its three convolutions, each 5x5 and valid, the
# first two followed by 2x2 subsampling; then F6's 84 units.
LENET5_CONVS = (("c1", 6), ("c3", 16), ("c5", 120))
LENET5_F6 = 84
LENET5_ACTIVATIONS = ("tanh", "relu", "sigmoid")

# NiN for ImageNet as d2l builds it (section 8.3): (filters, kernel, strides) of each mlpconv block's first
# convolution; every block is that convolution and two 1x1 convolutions of the same width, each with ReLU. A
# 3x3 max pooling with stride 2 follows each of the three blocks, dropout the third; the last block has one
# map per class (``NIN_BLOCKS`` leaves its width to ``classes``).
NIN_BLOCKS = ((96, 11, 4), (256, 5, 1), (384, 3, 1))
NIN_LAST_KERNEL = 3

# The smallest inputs whose last map is not empty. LeNet-5: 32 -> 28 -> 14 -> 10 -> 5 -> 1 (C5 needs 5x5; 31
# gives S4 4x4). NiN: 67 -> 15 (11x11/4, valid) -> 7 -> 3 -> 1 (three 3x3/2 poolings); 66 gives 14 -> 6 -> 2 -> 0.
LENET5_MIN_SIZE = 32
NIN_MIN_SIZE = 67


def mlpconv_block(x, filters, kernel_size, *, strides=1, name):
    """NiN's mlpconv layer (Lin et al. 2014, section 3.1, Figure 1): a ``kernel_size`` convolution, then two
    1x1 convolutions of ``filters`` maps, a two-layer perceptron shared over every position; ReLU after each.
    The first convolution is valid when strided (NiN's 11x11/4 stem), "same" otherwise (d2l's padding)."""
    padding = "valid" if strides > 1 else "same"
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, activation="relu", name=f"{name}_conv")(x)
    x = layers.Conv2D(filters, 1, activation="relu", name=f"{name}_mlp1")(x)
    return layers.Conv2D(filters, 1, activation="relu", name=f"{name}_mlp2")(x)


@register_model
def lenet5(*, activation="tanh", **kwargs):
    """LeNet-5 (LeCun et al. 1998, "Gradient-Based Learning Applied to Document Recognition"), simplified as
    d2l's LeNet and most tutorials build it: 61,706 trainable parameters at 32x32x1 with 10 classes.

    C1 (6 maps of 5x5) -> S2 (2x2 average pooling) -> C3 (16 maps of 5x5) -> S4 -> C5 (120 maps of 5x5, 1x1 at
    32x32) -> F6 (84 units) -> output (``classes`` units). Per layer: 156 + 2,416 + 48,120 + 10,164 + 850 =
    61,706. This count is d2l's (section 7.6), not the paper's: no paper or library states it; the tests
    check it by that arithmetic. The simplifications, all from d2l:

    * S2 and S4 are plain average pooling: the paper's subsampling multiplies each average by a trainable
      coefficient, adds a trainable bias and squashes it (12 and 32 parameters).
    * C3 sees all six maps of S2 (2,416 parameters); the paper's Table I connects each map to three, four or
      six of them, 1,516 parameters, so that its C3 breaks the symmetry and costs less.
    * The output is a dense softmax layer (850 parameters); the paper's are 84-input Euclidean radial basis
      function units with fixed weights. With those, the paper's LeNet-5 has about 60,000 trainable
      parameters (section II.B), not 61,706.
    * ``activation`` ("tanh", the default, "relu" or "sigmoid") squashes C1, C3, C5 and F6; the paper uses a
      scaled tanh, 1.7159 tanh(2a/3) (Appendix A), d2l a sigmoid.

    The default input is 32x32x1 (``default_channels=1``), the paper's padded MNIST digit; 10 classes.
    """
    args = parse_common_args("lenet5", kwargs, default_size=32, min_size=LENET5_MIN_SIZE, default_classes=10,
                             default_channels=1)  # fmt: skip
    if activation not in LENET5_ACTIVATIONS:
        raise ValueError(
            f'`activation` must be one of "tanh", "relu" or "sigmoid". Received: activation={activation!r}'
        )
    inputs = model_input(args)
    x = inputs
    for i, (name, filters) in enumerate(LENET5_CONVS):
        x = layers.Conv2D(filters, 5, activation=activation, name=name)(x)
        if i < 2:
            x = layers.AveragePooling2D(2, name=f"s{2 * i + 2}")(x)
    if not args.include_top:
        return keras.Model(inputs, global_pool(x, args.pooling), name=args.name)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(LENET5_F6, activation=activation, name="f6")(x)
    x = layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)
    return keras.Model(inputs, x, name=args.name)


@register_model
def nin(*, dropout=0.5, **kwargs):
    """Network in Network (Lin, Chen & Yan 2014, "Network In Network", arXiv:1312.4400) for ImageNet, as d2l
    builds it (section 8.3), at 224x224x3 with 1,000 classes.

    Three mlpconv blocks (96 maps of 11x11 with stride 4, 256 of 5x5, 384 of 3x3, each followed by two 1x1
    convolutions of the same width and a 3x3 max pooling with stride 2), dropout, and a last mlpconv block of
    ``classes`` maps (3x3, then two 1x1), averaged over the map by global average pooling: no fully-connected
    layer. The paper describes the architecture on CIFAR-10 and other small datasets and gives no ImageNet
    table; d2l's layer widths follow AlexNet's. d2l trains it on Fashion-MNIST at 224x224x1 with 10 classes
    (``input_shape=(224, 224, 1), classes=10``); this default takes ImageNet's RGB input and 1,000 classes.
    No library ships it: the tests count its parameters layer by layer, k*k*c_in*c_out + c_out.

    ``dropout`` is the rate after the third block (d2l's 0.5). The softmax follows the pooled vector, so the
    last convolution has a ReLU, as in d2l. With ``include_top=False`` the model ends at the third block.
    """
    args = parse_common_args("nin", kwargs, default_size=224, min_size=NIN_MIN_SIZE)
    dropout = check_rate(dropout, "dropout")
    inputs = model_input(args)
    x = inputs
    for b, (filters, kernel_size, strides) in enumerate(NIN_BLOCKS, start=1):
        x = mlpconv_block(x, filters, kernel_size, strides=strides, name=f"block{b}")
        x = layers.MaxPooling2D(3, strides=2, name=f"pool{b}")(x)
    if not args.include_top:
        return keras.Model(inputs, global_pool(x, args.pooling), name=args.name)
    x = layers.Dropout(dropout, name="block3_dropout")(x)
    x = mlpconv_block(x, args.classes, NIN_LAST_KERNEL, name="block4")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Activation(args.classifier_activation, name="predictions")(x)
    return keras.Model(inputs, x, name=args.name)
