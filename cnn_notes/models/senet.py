"""SENet: squeeze-and-excitation. Jie Hu, Li Shen and Gang Sun, "Squeeze-and-Excitation Networks", CVPR 2018
(arXiv:1709.01507); the journal version, with Samuel Albanie and Enhua Wu, IEEE TPAMI 42(8), 2020.

An SE block recalibrates the channels of a feature map ``U`` (H x W x C): it *squeezes* each channel to one number
by global average pooling, *excites* the C numbers through a bottleneck of two fully connected layers (C -> C/r
with ReLU, C/r -> C with a sigmoid) and *scales* each channel of ``U`` by its gate. In SE-ResNet the block sits
on the residual branch, after the last BatchNorm and before the addition (the paper's Fig. 3).

No keras.applications or torchvision model exists, so the layers are named in the style of keras' ``resnet.py``
(``conv3_block1_2_conv``: stage 3, block 1, second convolution; ``_0_`` is the shortcut), with the SE layers
``{block}_se_squeeze``, ``_se_reduce``, ``_se_expand`` and ``_se_excite``, and the ResNet-50 underneath is built
from ``resnet.py``'s pieces (stem, ``conv_bn``, projection shortcut, BatchNorm epsilon). The architecture is the
public implementations' SE-ResNet-50: Cadene/pretrained-models.pytorch ``senet.py`` (``se_resnet50``, a port of
the authors' Caffe model, hujie-frank/SENet), which timm keeps as ``legacy_seresnet50``.
"""

from collections import namedtuple

import keras
from keras import layers

from cnn_notes.models.arguments import parse_common_args
from cnn_notes.models.heads import model_input, pooled_classifier
from cnn_notes.models.registry import register_model
from cnn_notes.models.resnet import FILTERS, MIN_SIZE, conv_bn, projection, stem

# The paper's Table 1 (middle column): SE-ResNet-50 is ResNet-50's [3, 4, 6, 3] bottlenecks, each with an SE
# module whose two fully connected layers have C/16 and C outputs (r = 16, Section 6.1).
Variant = namedtuple("Variant", ["depths", "reduction"])
VARIANTS = {
    "se_resnet50": Variant((3, 4, 6, 3), 16),
}

# The narrowest gated width: conv2's 4 * 64 = 256 channels. A larger r would leave that stage's gate with no unit.
MAX_REDUCTION = 4 * FILTERS[0]


def check_reduction(value):
    """Checks the reduction ratio r: an integer from 1 to 256, so that every gate keeps at least one unit."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REDUCTION:
        raise ValueError(
            f"`reduction` must be an integer from 1 to {MAX_REDUCTION} (the gate of a C-channel block has C // "
            f"reduction units, and the narrowest block has {MAX_REDUCTION} channels). Received: reduction={value!r}"
        )
    return value


def squeeze_excite(x, reduction, name):
    """The SE module: global average pool, fc C/r + ReLU, fc C + sigmoid, then each channel times its gate.

    The two fully connected layers are ``Dense`` layers on the pooled 1x1xC map (Cadene's port writes them as
    1x1 convolutions: the same weights, transposed). C // r units, as Cadene and the Caffe model (C = 256 and
    r = 16: 16 units). With their biases a gate has 2 C^2 / r + C / r + C parameters.
    """
    channels = x.shape[-1]
    se = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_squeeze")(x)
    se = layers.Dense(channels // reduction, activation="relu", name=f"{name}_se_reduce")(se)
    se = layers.Dense(channels, activation="sigmoid", name=f"{name}_se_expand")(se)
    return layers.Multiply(name=f"{name}_se_excite")([x, se])


def se_bottleneck_block(x, filters, *, stride=1, reduction, name):
    """ResNet-50's bottleneck (1x1, 3x3, 1x1 expanding 4x) with the SE module before the addition.

    The stride sits in the first 1x1, as in the original ResNet, keras.applications' ResNet50, the Caffe SENet
    and Cadene's ``SEResNetBottleneck``; no convolution has a bias (BatchNorm's beta replaces it), as in Cadene's
    and torchvision's ResNets.
    """
    shortcut = projection(x, 4 * filters, stride, False, name)
    x = conv_bn(x, filters, 1, strides=stride, use_bias=False, name=f"{name}_1")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = conv_bn(x, filters, 3, use_bias=False, name=f"{name}_2")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = conv_bn(x, 4 * filters, 1, use_bias=False, name=f"{name}_3")
    x = squeeze_excite(x, reduction, name)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def _senet(model, reduction, **kwargs):
    variant = VARIANTS[model]
    args = parse_common_args(model, kwargs, default_size=224, min_size=MIN_SIZE)
    reduction = check_reduction(variant.reduction if reduction is None else reduction)

    inputs = model_input(args)
    x = stem(inputs, use_bias=False, preact=False)
    # conv2 follows the stem's max-pool, so it keeps the 56x56 map; conv3 .. conv5 halve it in their first block.
    for stage, (filters, blocks, stride) in enumerate(zip(FILTERS, variant.depths, (1, 2, 2, 2)), start=2):
        for i in range(1, blocks + 1):
            x = se_bottleneck_block(
                x, filters, stride=stride if i == 1 else 1, reduction=reduction, name=f"conv{stage}_block{i}"
            )
    x = pooled_classifier(x, args)
    return keras.Model(inputs, x, name=args.name)


@register_model
def se_resnet50(*, reduction=None, **kwargs):
    """SE-ResNet-50 (Hu, Shen, Sun, "Squeeze-and-Excitation Networks", CVPR 2018, arXiv:1709.01507; Table 1).

    ResNet-50 with an SE module in each of its 16 bottlenecks, on the residual branch before the addition.
    ``reduction`` is the ratio r of the gate's bottleneck, 16 by default (the paper's choice, Section 6.1); a
    gate of C channels has C // r hidden units. No convolution has a bias, the stride of a downsampling block
    sits in its first 1x1, and the shortcut projections are 1x1 convolutions with BatchNorm, as in the public
    implementations (Cadene/pretrained-models.pytorch ``se_resnet50``, timm's ``legacy_seresnet50``).

    Reference numbers: 28,088,024 trainable parameters, the count of Cadene's ``se_resnet50`` (and of
    osmr/imgclsmob's ``seresnet50``, whose tests assert it): torchvision's ResNet-50, 25,557,032, plus
    2,530,992 in the 16 gates (2 C^2 / r + C / r + C each). The paper rounds it to 28.1M (Table 10, r = 16).
    3.860 GMACs at 224x224, 0.25% below the paper's ~3.87 GFLOPs (journal version, Section 4); that figure is for
    this layout, the stride in the first 1x1 of a downsampling block. torchvision's "v1.5" ResNet-50 puts it in the 3x3
    (timm's ``seresnet50``: 4.11 GMACs), 6% above the paper. The gates add 9.9% to the parameters and 0.07%
    to the MACs (the paper: ~10% and 0.26%, counting the pooling and scaling as well).

    Cadene's stem max-pools with ``ceil_mode=True`` and no padding, keras' ResNet pads by one and floors: the
    same 56x56 map at 224x224 (and at every input whose stem output is even).
    """
    return _senet("se_resnet50", reduction, **kwargs)
