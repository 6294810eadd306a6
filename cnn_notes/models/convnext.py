"""ConvNeXt: Liu, Mao, Wu, Feichtenhofer, Darrell & Xie, "A ConvNet for the 2020s", CVPR 2022 (arXiv:2201.03545).

A ResNet-50 "modernised" step by step towards the design of a hierarchical vision Transformer (Swin), without
attention (the paper's Figure 2 and section 2): a "patchify" stem (a 4x4 convolution with stride 4, then
LayerNorm), four stages of (3, 3, 9, 3) blocks, each stage but the first entered through its own downsampling
layer (LayerNorm, then a 2x2 convolution with stride 2), and one block everywhere (Figure 4): a 7x7 depthwise
convolution, LayerNorm, a 1x1 convolution to four times the width with GELU, a 1x1 convolution back, a per-channel
scale (LayerScale) and the identity shortcut. Global average pooling, LayerNorm and the classifier end it.
The variants differ only in the widths C and the depths B of their stages (section 3).

The layers, their names and their weights follow ``keras.applications``' ``convnext.py``, so that each model
equals its keras twin weight for weight, in the same order: the 1x1 convolutions are ``Dense`` layers applied to
the 4-D map (as in the official code; the same weights as a 1x1 convolution), the depthwise convolution is a
``Conv2D`` with one group per channel, and the stem and each downsampling layer are small nested ``Sequential``
models, as keras builds them (so that keras' weight files load). Every layer name starts with the registered
model's name, as keras' do with its default ``name``. The addition that closes a block, an operation without a
layer in keras, is a named ``Add`` layer here; keras' ``LayerScale`` and ``StochasticDepth`` (not public API) are
written again in ``cnn_notes.models.layers``.
"""

from collections import namedtuple
from numbers import Real

import keras
import numpy as np
from keras import layers

from cnn_notes.models.arguments import check_bool, check_rate, parse_common_args
from cnn_notes.models.heads import global_pool, model_input
from cnn_notes.models.layers import LayerScale, StochasticDepth
from cnn_notes.models.registry import register_model

# The paper's section 3: the widths C and the depths B of the four stages. Tiny ends the ResNet-50 regime's
# roadmap (ResNet-50's (3, 4, 6, 3) blocks become Swin-T's 1:1:3:1), Base the ResNet-200 regime's; Small,
# Large and XLarge are built to match Swin-S, Swin-L and beyond.
Variant = namedtuple("Variant", ["depths", "widths"])
VARIANTS = {
    "convnext_tiny": Variant((3, 3, 9, 3), (96, 192, 384, 768)),
    "convnext_small": Variant((3, 3, 27, 3), (96, 192, 384, 768)),
    "convnext_base": Variant((3, 3, 27, 3), (128, 256, 512, 1024)),
    "convnext_large": Variant((3, 3, 27, 3), (192, 384, 768, 1536)),
    "convnext_xlarge": Variant((3, 3, 27, 3), (256, 512, 1024, 2048)),
}

# The stem divides the side by 4 and each of the three downsampling layers by 2, both without padding: a 32x32
# input ends at 1x1, a 31x31 one at 0x0 (31 // 4 = 7, then 3, 1, 0). keras' own limit is 32 too.
MIN_SIZE = 32
EXPANSION = 4  # the inverted bottleneck: the hidden width of the block's MLP is four times its input width
EPSILON = 1e-6  # every LayerNorm's, as the official code and keras
# include_preprocessing: keras' Normalization by ImageNet's mean and standard deviation of pixels in [0, 255].
IMAGENET_MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
IMAGENET_VARIANCE = ((0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2)


def check_layer_scale(value):
    """LayerScale's initial value: a number of at least 0 (the paper's 1e-6), or None for no LayerScale."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or not value >= 0:
        raise ValueError(
            "`layer_scale_init_value` must be a number of at least 0 (the paper's 1e-6) or None (no LayerScale). "
            f"Received: layer_scale_init_value={value!r}"
        )
    return float(value)


def convnext_block(x, *, drop_path_rate, layer_scale_init_value, name):
    """The ConvNeXt block (the paper's Figure 4): a 7x7 depthwise convolution, LayerNorm, a 1x1 convolution to
    four times the width with GELU, a 1x1 convolution back to the width, LayerScale and the identity shortcut.

    One normalisation and one activation per block, as in a Transformer block; the 1x1 convolutions are
    ``Dense`` layers on the 4-D map (channels last), as keras and the official code write them. With
    ``drop_path_rate`` > 0 the residual branch goes through stochastic depth (keras' ``{name}_stochastic_depth``),
    otherwise through a linear ``Activation`` (keras' ``{name}_identity``), which computes nothing.
    """
    inputs = x
    width = x.shape[-1]
    x = layers.Conv2D(width, 7, padding="same", groups=width, name=f"{name}_depthwise_conv")(x)
    x = layers.LayerNormalization(epsilon=EPSILON, name=f"{name}_layernorm")(x)
    x = layers.Dense(EXPANSION * width, name=f"{name}_pointwise_conv_1")(x)
    x = layers.Activation("gelu", name=f"{name}_gelu")(x)
    x = layers.Dense(width, name=f"{name}_pointwise_conv_2")(x)
    if layer_scale_init_value is not None:
        x = LayerScale(layer_scale_init_value, width, name=f"{name}_layer_scale")(x)
    if drop_path_rate:
        x = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")(x)
    else:
        x = layers.Activation("linear", name=f"{name}_identity")(x)
    return layers.Add(name=f"{name}_add")([inputs, x])


def stem(x, width, prefix):
    """The "patchify" stem (section 2.2): a 4x4 convolution with stride 4 (non-overlapping 4x4 patches), then
    LayerNorm (section 2.6), as keras' nested ``Sequential`` ``{prefix}_stem``."""
    return keras.Sequential(
        [
            layers.Conv2D(width, 4, strides=4, name=f"{prefix}_stem_conv"),
            layers.LayerNormalization(epsilon=EPSILON, name=f"{prefix}_stem_layernorm"),
        ],
        name=f"{prefix}_stem",
    )(x)


def downsampling(x, width, index, prefix):
    """A separate downsampling layer (section 2.6): LayerNorm, then a 2x2 convolution with stride 2 that halves
    the side and doubles the width, as keras' nested ``Sequential`` ``{prefix}_downsampling_block_{index}``."""
    return keras.Sequential(
        [
            layers.LayerNormalization(epsilon=EPSILON, name=f"{prefix}_downsampling_layernorm_{index}"),
            layers.Conv2D(width, 2, strides=2, name=f"{prefix}_downsampling_conv_{index}"),
        ],
        name=f"{prefix}_downsampling_block_{index}",
    )(x)


def _convnext(model, *, drop_path_rate=0.0, layer_scale_init_value=1e-6, include_preprocessing=True, **kwargs):
    args = parse_common_args(model, kwargs, default_size=224, min_size=MIN_SIZE)
    drop_path_rate = check_rate(drop_path_rate, "drop_path_rate")
    layer_scale_init_value = check_layer_scale(layer_scale_init_value)
    include_preprocessing = check_bool(include_preprocessing, "include_preprocessing")
    variant = VARIANTS[model]

    inputs = model_input(args)
    x = inputs
    if include_preprocessing and args.input_shape[-1] == 3:
        # keras normalises only 3-channel inputs (its PreStem): the model takes pixels in [0, 255].
        x = layers.Normalization(
            mean=IMAGENET_MEAN, variance=IMAGENET_VARIANCE, name=f"{model}_prestem_normalization"
        )(x)
    x = stem(x, variant.widths[0], model)
    # Stochastic depth grows linearly from 0 in the first block to drop_path_rate in the last (keras' and the
    # official code's schedule).
    rates = [float(rate) for rate in np.linspace(0.0, drop_path_rate, sum(variant.depths))]
    block = 0
    for stage, (depth, width) in enumerate(zip(variant.depths, variant.widths)):
        if stage:
            x = downsampling(x, width, stage - 1, model)
        for j in range(depth):
            x = convnext_block(
                x,
                drop_path_rate=rates[block],
                layer_scale_init_value=layer_scale_init_value,
                name=f"{model}_stage_{stage}_block_{j}",
            )
            block += 1
    if not args.include_top:
        # keras' feature extractor adds a LayerNormalization after its pooling (the head's, unnamed); here the
        # features end at the pooling, as every model of the package (see the public builders' docstrings).
        return keras.Model(inputs, global_pool(x, args.pooling), name=args.name)
    # The head: global average pooling, LayerNorm (section 2.6: "one after the final global average pooling")
    # and the classifier.
    x = layers.GlobalAveragePooling2D(name=f"{model}_head_gap")(x)
    x = layers.LayerNormalization(epsilon=EPSILON, name=f"{model}_head_layernorm")(x)
    x = layers.Dense(args.classes, activation=args.classifier_activation, name=f"{model}_head_dense")(x)
    return keras.Model(inputs, x, name=args.name)


_OPTIONS_DOC = """
    Family options (keyword-only), those of keras.applications' ``ConvNeXt`` builder:
        drop_path_rate: stochastic depth's rate in the last block, growing linearly from 0 in the first
            (keras' public builders fix 0; the paper trains Tiny, Small, Base and Large with 0.1, 0.4, 0.5 and
            0.5, its Table 5). It acts only in training and adds no weights.
        layer_scale_init_value: LayerScale's initial value (the paper's and keras' 1e-6); ``None`` removes the
            LayerScale layers and their ``C`` weights per block.
        include_preprocessing: start with keras' ``Normalization`` by ImageNet's mean and variance, so that
            the model takes pixels in [0, 255] (keras' default; it has no weights, and is left out for inputs
            of other than 3 channels, as keras does).

    Without the top, the features end at the pooling (``pooling``), as for every model of the package;
    keras' ConvNeXt adds one more LayerNormalization after its pooling there (``2 * C`` weights), so its
    ``include_top=False`` checkpoint holds two tensors more than this feature extractor.
"""


def _documented(fn):
    fn.__doc__ = fn.__doc__.rstrip() + "\n" + _OPTIONS_DOC.rstrip("\n")
    return fn


@register_model
@_documented
def convnext_tiny(**kwargs):
    """ConvNeXt-T (Liu et al. 2022, arXiv:2201.03545): 224x224, 28,589,128 parameters, 4.456 GMACs.

    The end of the paper's roadmap from ResNet-50 (its Figure 2): C = (96, 192, 384, 768), B = (3, 3, 9, 3)
    (section 3). All 28,589,128 parameters are trainable (LayerNorm keeps no moving statistics), as keras'
    ConvNeXtTiny and torchvision's num_params; the paper's Table 1 rounds them to 29M. 4,455,531,264 MACs at
    224x224: torchvision's 4.456 GFLOPS and the paper's 4.5G FLOPs (Table 1), both multiply-adds, of which the
    1x1 convolutions (the Dense layers) do most. ``min_size`` is exact, 32 (keras' too).
    """
    return _convnext("convnext_tiny", **kwargs)


@register_model
@_documented
def convnext_small(**kwargs):
    """ConvNeXt-S (Liu et al. 2022, arXiv:2201.03545): 224x224, 50,223,688 parameters, 8.684 GMACs.

    Tiny's widths, C = (96, 192, 384, 768), with the third stage three times as deep: B = (3, 3, 27, 3)
    (section 3; Swin-S's depths). All parameters trainable, as keras' ConvNeXtSmall and torchvision's
    num_params; the paper's Table 1 rounds them to 50M.
    8,683,712,256 MACs: torchvision's 8.684 GFLOPS, the paper's 8.7G (Table 1). ``min_size``: 32, as Tiny's.
    """
    return _convnext("convnext_small", **kwargs)


@register_model
@_documented
def convnext_base(**kwargs):
    """ConvNeXt-B (Liu et al. 2022, arXiv:2201.03545): 224x224, 88,591,464 parameters, 15.355 GMACs.

    The end of the roadmap in the ResNet-200 regime: C = (128, 256, 512, 1024), B = (3, 3, 27, 3) (section 3).
    All parameters trainable, as keras' ConvNeXtBase and torchvision's num_params; the paper's Table 1: 89M.
    15,354,729,472 MACs: torchvision's 15.355 GFLOPS, the paper's 15.4G (Table 1). ``min_size``: 32, as Tiny's.
    """
    return _convnext("convnext_base", **kwargs)


@register_model
@_documented
def convnext_large(**kwargs):
    """ConvNeXt-L (Liu et al. 2022, arXiv:2201.03545): 224x224, 197,767,336 parameters, 34.361 GMACs.

    C = (192, 384, 768, 1536), B = (3, 3, 27, 3) (section 3). All parameters trainable, as keras'
    ConvNeXtLarge and torchvision's num_params; the paper's Table 1: 198M.
    34,361,433,600 MACs: torchvision's 34.361 GFLOPS, the paper's 34.4G (Table 1). ``min_size``: 32, as Tiny's.
    """
    return _convnext("convnext_large", **kwargs)


@register_model
@_documented
def convnext_xlarge(**kwargs):
    """ConvNeXt-XL (Liu et al. 2022, arXiv:2201.03545): 224x224, 350,196,968 parameters, 60.921 GMACs.

    C = (256, 512, 1024, 2048), B = (3, 3, 27, 3) (section 3), built "to further test the scalability" and
    trained only with ImageNet-22K pre-training. All parameters trainable, as keras' ConvNeXtXLarge (torchvision
    has no XLarge); the paper's Table 1: 350M.
    60,921,030,656 MACs: the paper's 60.9G (Table 1). ``min_size``: 32, as Tiny's.
    """
    return _convnext("convnext_xlarge", **kwargs)
