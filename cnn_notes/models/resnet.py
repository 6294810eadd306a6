"""ResNet and its descendants: He et al., "Deep Residual Learning for Image Recognition", 2015
(arXiv:1512.03385); "Identity Mappings in Deep Residual Networks", 2016 (arXiv:1603.05027); Xie et al.,
"Aggregated Residual Transformations for Deep Neural Networks", 2016 (arXiv:1611.05431); and the post's
small "custom ResNet".

One table row per variant drives one builder, as in keras.applications (``ResNet(stack_fn, preact, ...)``)
and torchvision (``ResNet(block, layers, groups, width_per_group)``). Layer names follow keras.applications'
``resnet.py`` (``conv3_block1_2_conv`` is stage 3, block 1, second convolution; ``_0_`` is the shortcut), so
that its weights line up by name with ResNet50/101/152 and their V2 versions.
"""

import functools
from collections import namedtuple

import keras
from keras import layers

from cnn_notes.models.arguments import check_bool, parse_common_args
from cnn_notes.models.heads import global_pool, model_input, pooled_classifier
from cnn_notes.models.registry import register_model

# keras.applications' BatchNormalization epsilon (slightly above cuDNN's old 1e-5 floor). torchvision uses
# 1e-5; the difference changes no parameter count and no output beyond rounding.
BN_EPSILON = 1.001e-5

# keras.applications' ResNet() enforces 32 for every model it builds (ResNet, ResNetV2 and, in
# keras-applications 1.0.8, ResNeXt); the graph itself would build from 1x1 up, since every strided layer
# is padded or 1x1. The family keeps keras' 32: at 32 the last stage sees a 1x1 map, as 224 gives 7x7.
MIN_SIZE = 32

# Bottleneck width ("planes") of the four residual stages conv2_x .. conv5_x (the paper's Table 1).
FILTERS = (64, 128, 256, 512)

# block: "basic" (two 3x3), "bottleneck" (1x1-3x3-1x1, 4x expansion) or "preact" (v2's bottleneck).
# groups / width_per_group: ResNeXt's cardinality and per-path width, as torchvision (1 / 64: plain ResNet).
Config = namedtuple("Config", ["block", "depths", "groups", "width_per_group"], defaults=(1, 64))
CONFIGS = {
    "resnet18": Config("basic", (2, 2, 2, 2)),
    "resnet34": Config("basic", (3, 4, 6, 3)),
    "resnet50": Config("bottleneck", (3, 4, 6, 3)),
    "resnet101": Config("bottleneck", (3, 4, 23, 3)),
    "resnet152": Config("bottleneck", (3, 8, 36, 3)),
    "resnet50_v2": Config("preact", (3, 4, 6, 3)),
    "resnet101_v2": Config("preact", (3, 4, 23, 3)),
    "resnet152_v2": Config("preact", (3, 8, 36, 3)),
    "resnext50_32x4d": Config("bottleneck", (3, 4, 6, 3), groups=32, width_per_group=4),
    "resnext101_32x8d": Config("bottleneck", (3, 4, 23, 3), groups=32, width_per_group=8),
}


def batch_norm(x, name):
    return layers.BatchNormalization(epsilon=BN_EPSILON, name=name)(x)


def conv_bn(x, filters, kernel_size, *, strides=1, groups=1, use_bias, name):
    """``{name}_conv`` then ``{name}_bn``; a strided 3x3 is padded by one pixel on every side first.

    Keras' ``padding="same"`` with stride 2 pads only the bottom and right of an even map; torchvision pads
    symmetrically (``padding=1``), so the explicit ``{name}_pad`` keeps its pixel alignment.
    """
    padded = kernel_size > 1 and strides > 1
    if padded:
        x = layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad")(x)
    # A 1x1 needs no padding; keras.applications writes it "valid".
    padding = "same" if kernel_size > 1 and not padded else "valid"
    x = layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        groups=groups,
        use_bias=use_bias,
        name=f"{name}_conv",
    )(x)
    return batch_norm(x, f"{name}_bn")


def projection(x, filters, stride, use_bias, name):
    """The shortcut: identity where the shape is kept, else a strided 1x1 convolution + BN (option B)."""
    if stride == 1 and x.shape[-1] == filters:
        return x
    return conv_bn(x, filters, 1, strides=stride, use_bias=use_bias, name=f"{name}_0")


def basic_block(x, filters, *, stride=1, use_bias=False, name):
    """ResNet-18/34's block: two 3x3 convolutions (the first strided) on the residual path."""
    shortcut = projection(x, filters, stride, use_bias, name)
    x = conv_bn(x, filters, 3, strides=stride, use_bias=use_bias, name=f"{name}_1")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = conv_bn(x, filters, 3, use_bias=use_bias, name=f"{name}_2")
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def bottleneck_block(
    x, filters, *, stride=1, use_bias=True, stride_in_3x3=False, groups=1, width_per_group=64, name
):
    """The 1x1 (reduce) - 3x3 (grouped for ResNeXt) - 1x1 (expand 4x) block of ResNet-50 and deeper.

    The stride sits in the first 1x1 (the paper, keras.applications) or in the 3x3 (``stride_in_3x3``:
    torchvision's "v1.5" and ResNeXt), which then sees the full-resolution map: same weights, more MACs.
    """
    width = int(filters * width_per_group / 64) * groups
    shortcut = projection(x, 4 * filters, stride, use_bias, name)
    stride_1x1, stride_3x3 = (1, stride) if stride_in_3x3 else (stride, 1)
    x = conv_bn(x, width, 1, strides=stride_1x1, use_bias=use_bias, name=f"{name}_1")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = conv_bn(x, width, 3, strides=stride_3x3, groups=groups, use_bias=use_bias, name=f"{name}_2")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = conv_bn(x, 4 * filters, 1, use_bias=use_bias, name=f"{name}_3")
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def preact_block(x, filters, *, stride=1, conv_shortcut=False, name):
    """ResNet v2's pre-activation bottleneck, exactly as keras.applications' ``residual_block_v2``.

    BN + ReLU come before the convolutions and the sum is left un-activated, so between projections the
    shortcut path is a pure identity. The 1x1 projection reads the pre-activated tensor; a strided block
    without projection subsamples its shortcut with a 1x1 max-pool. Only the convolutions not followed by
    BN (the projection and the last 1x1) have a bias.
    """
    preact = batch_norm(x, f"{name}_preact_bn")
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    elif stride > 1:
        shortcut = layers.MaxPooling2D(1, strides=stride, name=f"{name}_0_pool")(x)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = batch_norm(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.ZeroPadding2D(1, name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, 3, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = batch_norm(x, f"{name}_2_bn")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def stack_v1(x, block, filters, blocks, stride, name):
    """A v1 stage: the first block changes resolution and width, the others keep them."""
    for i in range(1, blocks + 1):
        x = block(x, filters, stride=stride if i == 1 else 1, name=f"{name}_block{i}")
    return x


def stack_v2(x, filters, blocks, stride, name):
    """A v2 stage as keras.applications builds it: the projection in the first block, the stride in the last."""
    x = preact_block(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = preact_block(x, filters, name=f"{name}_block{i}")
    return preact_block(x, filters, stride=stride, name=f"{name}_block{blocks}")


def stem(x, use_bias, preact):
    """7x7/2 convolution and 3x3/2 max-pool: 224 -> 112 -> 56. v2 moves the BN + ReLU into the first block."""
    x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = batch_norm(x, "conv1_bn")
        x = layers.Activation("relu", name="conv1_relu")(x)
    # Zero padding equals torchvision's -inf padding here: the map is non-negative (after ReLU) in v1.
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def stages_v1(x, config, use_bias, stride_in_3x3):
    if config.block == "basic":
        block = functools.partial(basic_block, use_bias=use_bias)
    else:
        block = functools.partial(
            bottleneck_block,
            use_bias=use_bias,
            stride_in_3x3=stride_in_3x3,
            groups=config.groups,
            width_per_group=config.width_per_group,
        )
    # conv2 follows the stem's max-pool, so it keeps the 56x56 map.
    for stage, (filters, blocks, stride) in enumerate(zip(FILTERS, config.depths, (1, 2, 2, 2)), start=2):
        x = stack_v1(x, block, filters, blocks, stride, name=f"conv{stage}")
    return x


def stages_v2(x, config):
    # keras.applications: the stride closes stages 2-4, so conv5 runs at 7x7 as in v1.
    for stage, (filters, blocks, stride) in enumerate(zip(FILTERS, config.depths, (2, 2, 2, 1)), start=2):
        x = stack_v2(x, filters, blocks, stride, name=f"conv{stage}")
    # Pre-activation leaves the last sum un-normalised: one more BN + ReLU before the head.
    x = batch_norm(x, "post_bn")
    return layers.Activation("relu", name="post_relu")(x)


def _resnet(model, use_bias, stride_in_3x3=False, /, **kwargs):
    # Positional-only options, so that one a variant lacks (stride_in_3x3 for ResNet-18, any for v2)
    # stays in kwargs and is refused by parse_common_args as an unknown argument.
    config = CONFIGS[model]
    use_bias = check_bool(use_bias, "use_bias")
    stride_in_3x3 = check_bool(stride_in_3x3, "stride_in_3x3")
    args = parse_common_args(model, kwargs, default_size=224, min_size=MIN_SIZE)
    preact = config.block == "preact"

    inputs = model_input(args)
    x = stem(inputs, use_bias, preact)
    x = stages_v2(x, config) if preact else stages_v1(x, config, use_bias, stride_in_3x3)
    x = pooled_classifier(x, args)
    return keras.Model(inputs, x, name=args.name)


@register_model
def resnet18(*, use_bias=False, **kwargs):
    """ResNet-18 (He et al. 2015, "Deep Residual Learning for Image Recognition", arXiv:1512.03385).

    Basic blocks of two 3x3 convolutions, [2, 2, 2, 2] per stage (Table 1). The first block of stages 3-5
    halves the map in its first 3x3 and projects the shortcut with a strided 1x1 + BN (the paper's option B,
    as torchvision; Keras has no ResNet-18). ``use_bias=False`` follows torchvision (a bias before BN is
    cancelled by BN's mean), so trainable params equal torchvision's 11,689,512 and MACs its 1.814 G (the
    paper's 1.8 GFLOPs). A stage of width c costs 2*9*c^2 weights per block: 73,728 at c=64 ... 4,718,592
    at c=512, which is why stage 5 alone holds 8.4M of the 11.7M.
    """
    return _resnet("resnet18", use_bias, **kwargs)


@register_model
def resnet34(*, use_bias=False, **kwargs):
    """ResNet-34 (He et al. 2015, arXiv:1512.03385): basic blocks, [3, 4, 6, 3] per stage.

    Defaults as ``resnet18`` (torchvision: no conv bias, option-B projections): 21,797,672 trainable
    params and 3.664 GMACs, the paper's 3.6 GFLOPs.
    """
    return _resnet("resnet34", use_bias, **kwargs)


@register_model
def resnet50(*, use_bias=True, stride_in_3x3=False, **kwargs):
    """ResNet-50 (He et al. 2015, arXiv:1512.03385): bottleneck blocks, [3, 4, 6, 3] per stage.

    Defaults follow keras.applications, whose ImageNet weights line up by layer name:
    ``use_bias=True`` (a bias in every convolution, 25,636,712 params in all) and ``stride_in_3x3=False``
    (the stride in the first 1x1, as the paper: 3.858 GMACs, Table 1's 3.8 GFLOPs).
    ``use_bias=False`` drops one bias per output channel of the 53 convolutions (26,560 weights), leaving
    torchvision's 25,557,032 trainable. ``stride_in_3x3=True`` is torchvision's "v1.5": the same
    weights, but each stage's first 1x1 and 3x3 run at the input resolution (4.089 GMACs, torchvision's
    GFLOPS) -- a 3x3 that skips no pixels, about +0.5% top-1 by NVIDIA's measurements.
    """
    return _resnet("resnet50", use_bias, stride_in_3x3, **kwargs)


@register_model
def resnet101(*, use_bias=True, stride_in_3x3=False, **kwargs):
    """ResNet-101 (He et al. 2015, arXiv:1512.03385): bottleneck blocks, [3, 4, 23, 3] per stage.

    Defaults and options as ``resnet50`` (keras.applications: 44,707,176 params, 7.6 GFLOPs in Table 1;
    ``stride_in_3x3=True`` gives torchvision's 7.801 GMACs). The 17 extra conv4 blocks hold 19.1M params.
    """
    return _resnet("resnet101", use_bias, stride_in_3x3, **kwargs)


@register_model
def resnet152(*, use_bias=True, stride_in_3x3=False, **kwargs):
    """ResNet-152 (He et al. 2015, arXiv:1512.03385): bottleneck blocks, [3, 8, 36, 3] per stage.

    Defaults and options as ``resnet50`` (keras.applications: 60,419,944 params, 11.282 GMACs, Table 1's
    11.3 GFLOPs; ``stride_in_3x3=True`` gives torchvision's 11.514). Its ensemble won ILSVRC 2015 with
    3.57% top-5 error.
    """
    return _resnet("resnet152", use_bias, stride_in_3x3, **kwargs)


@register_model
def resnet50_v2(**kwargs):
    """ResNet-50 v2 (He et al. 2016, "Identity Mappings in Deep Residual Networks", arXiv:1603.05027).

    Pre-activation bottlenecks (BN-ReLU-conv): no ReLU follows an addition, so between projections the
    shortcut is a clean identity up to ``post_bn`` / ``post_relu``, the BN + ReLU that v2 needs before the
    head. Built exactly as ``keras.applications.ResNet50V2`` (25,613,800 params, 3.482 GMACs), whose layer
    names it shares, including the choices of keras' port of the authors' code: the stride sits in the 3x3
    of each stage's *last* block (stages 2-4, not 3-5's first), whose shortcut is then a 1x1 max-pool with
    stride 2; the stem convolution, the projections and each block's last 1x1 have a bias.
    """
    return _resnet("resnet50_v2", True, **kwargs)  # keras: a bias in the stem


@register_model
def resnet101_v2(**kwargs):
    """ResNet-101 v2 (He et al. 2016, arXiv:1603.05027): pre-activation, [3, 4, 23, 3] per stage.

    Exactly ``keras.applications.ResNet101V2`` (44,675,560 params); see ``resnet50_v2``.
    """
    return _resnet("resnet101_v2", True, **kwargs)  # keras: a bias in the stem


@register_model
def resnet152_v2(**kwargs):
    """ResNet-152 v2 (He et al. 2016, arXiv:1603.05027): pre-activation, [3, 8, 36, 3] per stage.

    Exactly ``keras.applications.ResNet152V2`` (60,380,648 params); see ``resnet50_v2``.
    """
    return _resnet("resnet152_v2", True, **kwargs)  # keras: a bias in the stem


@register_model
def resnext50_32x4d(*, use_bias=False, stride_in_3x3=True, **kwargs):
    """ResNeXt-50 32x4d (Xie et al. 2016, "Aggregated Residual Transformations for Deep Neural Networks",
    arXiv:1611.05431).

    ResNet-50's bottleneck with 32 parallel paths of width 4 in the 3x3, written as one grouped
    convolution (``Conv2D(groups=32)``). As torchvision, the 3x3 width is int(planes * 4 / 64) * 32:
    128, 256, 512, 1024 per stage, twice ResNet-50's, yet each group sees only 1/32 of the channels, so
    a 3x3 costs 9 * 128 * 128 / 32 = 4,608 weights where ResNet-50's costs 36,864. Defaults as torchvision
    and the paper: no conv bias, stride in the 3x3. 25,028,904 trainable params (Table 1: 25.0M) and
    4.23 GMACs (Table 1: 4.2 GFLOPs).
    """
    return _resnet("resnext50_32x4d", use_bias, stride_in_3x3, **kwargs)


@register_model
def resnext101_32x8d(*, use_bias=False, stride_in_3x3=True, **kwargs):
    """ResNeXt-101 32x8d (Xie et al. 2016, arXiv:1611.05431): [3, 4, 23, 3] blocks, 32 paths of width 8.

    The 3x3 width is int(planes * 8 / 64) * 32: 256, 512, 1024, 2048, four times ResNet-101's. Defaults
    as torchvision: 88,791,336 trainable params and 16.414 GMACs.
    """
    return _resnet("resnext101_32x8d", use_bias, stride_in_3x3, **kwargs)


# The post's res_layer calls: (filters, max-pool after the sum, dropout rate).
CUSTOM_LAYERS = (
    (32, False, 0.2),
    (32, False, 0.3),
    (32, True, 0.4),
    (64, False, 0.2),
    (64, True, 0.2),
    (256, False, 0.4),
)


def custom_res_layer(x, filters, pooling, dropout, name, identity_shortcut=False):
    """The post's ``res_layer``: conv-BN-ReLU-conv plus a 3x3-convolved shortcut, then pool, dropout, BN, ReLU.

    With ``identity_shortcut``, the shortcut is the paper's instead: the input itself where the width is
    unchanged, a 1x1 projection where it changes (option B).
    """
    residual = layers.Conv2D(filters, 3, padding="same", name=f"{name}_1_conv")(x)
    residual = layers.BatchNormalization(name=f"{name}_1_bn")(residual)
    residual = layers.Activation("relu", name=f"{name}_1_relu")(residual)
    residual = layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(residual)
    if not identity_shortcut:
        shortcut = layers.Conv2D(filters, 3, padding="same", name=f"{name}_0_conv")(x)
    elif x.shape[-1] == filters:
        shortcut = x
    else:
        shortcut = layers.Conv2D(filters, 1, name=f"{name}_0_conv")(x)
    x = layers.Add(name=f"{name}_add")([residual, shortcut])
    if pooling:
        x = layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_out")(x)


@register_model
def custom_resnet(*, identity_shortcuts=False, pooled_head=False, block_dropout=True, **kwargs):
    """The post's "custom ResNet" ("Resnet" there): a 3x3 stem of 16 filters, six ``res_layer`` blocks of
    32, 32, 32, 64, 64, 256 filters with two 2x2 max-pools, then Flatten, Dense(4096) and the classifier;
    32x32x3 input, 100 classes, 68,671,236 params of which 1,952 non-trainable (the moving mean and
    variance of 976 BN channels: 16 + 2 * (32 + 32 + 32 + 64 + 64 + 256)).

    Reproduced as the post writes it, quirks included, which the book shows as errata next to He et al.:
    * the shortcut is a 3x3 convolution in every block, even where the shape is unchanged (32 -> 32):
      never an identity, so it is not the residual learning of the paper (an identity, or a 1x1 projection
      where the width changes, option B); it costs as much as a third convolution (e.g. 147,712 params in
      the 64 -> 256 block, where a 1x1 needs 16,640);
    * the residual path is conv-BN-ReLU-conv: its second convolution has no BN before the sum, and the BN
      + ReLU come after the sum, after the optional 2x2 max-pool and dropout (dropout before BN);
    * every convolution has stride 1 (the post's global ``stride = 1``); only the max-pools downsample;
    * the head flattens the 8x8x256 map (16,384 values) into Dense(4096): 16,384 * 4,096 + 4,096 =
      67,112,960 params, 97.7% of the model, where ResNet's global average pooling needs none;
    * the dropouts (0.2, 0.3, 0.4, 0.2, 0.2, 0.4 in the blocks; 0.4 and 0.23 in the head) are the post's.
    BN keeps Keras' defaults (epsilon 1e-3), as the post's ``BatchNormalization(axis=3)`` does. The post
    names the model "Resnet"; the default name here is the registered ``custom_resnet``.

    Two options mend the two errata that change how the network learns, for the training chapter:
    ``identity_shortcuts=True`` gives every block the paper's shortcut (identity, or a 1x1 projection where
    the width changes), and ``pooled_head=True`` replaces Flatten + Dense(4096) by global average pooling
    and the classifier, as in every ResNet of the paper. ``block_dropout=False`` removes the dropout that
    each block applies right before its BN, which shifts the variance BN sees between training and inference
    (Li et al. 2019, arXiv:1801.05134).
    """
    identity_shortcuts = check_bool(identity_shortcuts, "identity_shortcuts")
    pooled_head = check_bool(pooled_head, "pooled_head")
    block_dropout = check_bool(block_dropout, "block_dropout")
    args = parse_common_args("custom_resnet", kwargs, default_size=32, min_size=4, default_classes=100)
    inputs = model_input(args)
    x = layers.Conv2D(16, 3, padding="same", name="conv1_conv")(inputs)
    x = layers.BatchNormalization(name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    for i, (filters, pooling, dropout) in enumerate(CUSTOM_LAYERS, start=1):
        dropout = dropout if block_dropout else 0.0
        x = custom_res_layer(x, filters, pooling, dropout, name=f"block{i}", identity_shortcut=identity_shortcuts)
    if pooled_head:
        x = pooled_classifier(x, args)
    elif args.include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dropout(0.4, name="flatten_dropout")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dropout(0.23, name="fc1_dropout")(x)
        x = layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)
    else:
        x = global_pool(x, args.pooling)
    return keras.Model(inputs, x, name=args.name)
