"""The CIFAR-10 networks of He et al., "Deep Residual Learning for Image Recognition", 2015
(arXiv:1512.03385), section 4.2, and their plain twins: the experiment behind the paper's Figure 6.

A 3x3 convolution of 16 filters, then three stages of ``n`` blocks of two 3x3 convolutions with 16, 32 and
64 filters on maps of 32x32, 16x16 and 8x8 (the first convolution of the second and third stage has stride
2), global average pooling and a 10-way softmax: 6n + 2 weighted layers. Every convolution is followed by
batch normalisation, then ReLU. The residual networks add an identity shortcut around every block, with
option A where the shape changes (subsample, pad with zero channels: no parameters), so each residual
network has exactly the parameters of its plain twin. Table 6 gives 0.27M, 0.46M, 0.66M, 0.85M and 1.7M for
n = 3, 5, 7, 9, 18.
"""

import keras
from keras import layers

from cnn_notes.models.arguments import parse_common_args
from cnn_notes.models.heads import model_input, pooled_classifier
from cnn_notes.models.layers import ZeroPadShortcut
from cnn_notes.models.registry import register_model

WIDTHS = (16, 32, 64)

# Registered depth -> n, the number of blocks per stage (depth = 6n + 2).
DEPTHS = {20: 3, 32: 5, 44: 7, 56: 9, 110: 18}

# Each stride-2 stage must halve a map of at least 2 pixels: 4 -> 2 -> 1.
MIN_SIZE = 4


def conv_bn_relu(x, filters, strides, name, relu=True):
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x) if relu else x


def cifar_block(x, filters, strides, residual, name):
    """Two 3x3 convolutions; with ``residual``, plus the input (option A where the shape changes), then ReLU."""
    y = conv_bn_relu(x, filters, strides, f"{name}_1")
    y = conv_bn_relu(y, filters, 1, f"{name}_2", relu=False)
    if residual:
        shortcut = x if strides == 1 and x.shape[-1] == filters else ZeroPadShortcut(filters, strides, name=f"{name}_0_pad")(x)
        y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.Activation("relu", name=f"{name}_out")(y)


def _cifar_net(model, depth, residual, **kwargs):
    args = parse_common_args(model, kwargs, default_size=32, min_size=MIN_SIZE, default_classes=10)
    inputs = model_input(args)
    x = conv_bn_relu(inputs, WIDTHS[0], 1, "conv1")
    for stage, filters in enumerate(WIDTHS, start=1):
        for block in range(1, DEPTHS[depth] + 1):
            strides = 2 if stage > 1 and block == 1 else 1
            x = cifar_block(x, filters, strides, residual, name=f"stage{stage}_block{block}")
    x = pooled_classifier(x, args)
    return keras.Model(inputs, x, name=args.name)


@register_model
def resnet20_cifar(**kwargs):
    """ResNet-20 for CIFAR-10 (He et al. 2015, section 4.2, n = 3): 0.27M parameters (Table 6)."""
    return _cifar_net("resnet20_cifar", 20, True, **kwargs)


@register_model
def resnet32_cifar(**kwargs):
    """ResNet-32 for CIFAR-10 (He et al. 2015, section 4.2, n = 5): 0.46M parameters (Table 6)."""
    return _cifar_net("resnet32_cifar", 32, True, **kwargs)


@register_model
def resnet44_cifar(**kwargs):
    """ResNet-44 for CIFAR-10 (He et al. 2015, section 4.2, n = 7): 0.66M parameters (Table 6)."""
    return _cifar_net("resnet44_cifar", 44, True, **kwargs)


@register_model
def resnet56_cifar(**kwargs):
    """ResNet-56 for CIFAR-10 (He et al. 2015, section 4.2, n = 9): 0.85M parameters (Table 6)."""
    return _cifar_net("resnet56_cifar", 56, True, **kwargs)


@register_model
def resnet110_cifar(**kwargs):
    """ResNet-110 for CIFAR-10 (He et al. 2015, section 4.2, n = 18): 1.7M parameters (Table 6)."""
    return _cifar_net("resnet110_cifar", 110, True, **kwargs)


@register_model
def plain20_cifar(**kwargs):
    """The plain 20-layer CIFAR-10 network of He et al. 2015 (Figure 6, left): ResNet-20 without shortcuts."""
    return _cifar_net("plain20_cifar", 20, False, **kwargs)


@register_model
def plain32_cifar(**kwargs):
    """The plain 32-layer CIFAR-10 network of He et al. 2015 (Figure 6, left): ResNet-32 without shortcuts."""
    return _cifar_net("plain32_cifar", 32, False, **kwargs)


@register_model
def plain44_cifar(**kwargs):
    """The plain 44-layer CIFAR-10 network of He et al. 2015 (Figure 6, left): ResNet-44 without shortcuts."""
    return _cifar_net("plain44_cifar", 44, False, **kwargs)


@register_model
def plain56_cifar(**kwargs):
    """The plain 56-layer CIFAR-10 network of He et al. 2015 (Figure 6, left): ResNet-56 without shortcuts."""
    return _cifar_net("plain56_cifar", 56, False, **kwargs)


@register_model
def plain110_cifar(**kwargs):
    """A plain 110-layer twin of ResNet-110 (He et al. 2015, section 4.2; the paper plots plain nets to 56)."""
    return _cifar_net("plain110_cifar", 110, False, **kwargs)
