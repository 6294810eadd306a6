"""GoogLeNet (Inception v1): Szegedy et al., "Going Deeper with Convolutions", CVPR 2015 (arXiv:1409.4842);
BN-Inception: Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing Internal
Covariate Shift", ICML 2015 (arXiv:1502.03167); and the post's small "Inception Net".

All three are built from one ``inception_module``: parallel branches over the same input, concatenated along
the channels. A branch is a tuple of steps (``Conv`` or ``Pool``), so each model's module table only says
which branches it has and how wide they are.

Layer names follow the Caffe models the papers' networks are known by (``bvlc_googlenet``, the BN-Inception
port in ``pretrainedmodels``), with ``/`` written as ``_``: ``conv1_7x7_s2``, ``inception_3a_5x5_reduce``,
``inception_3a_output``, ``loss1_fc``; BatchNorm and ReLU layers add ``_bn`` and ``_relu`` to their
convolution's name, as in keras.applications, which has neither model.
"""

import functools
from collections import namedtuple

import keras
from keras import layers

from cnn_notes.models.arguments import check_bool, check_rate, parse_common_args
from cnn_notes.models.heads import global_pool, model_input, pooled_classifier
from cnn_notes.models.layers import LocalResponseNormalization
from cnn_notes.models.registry import register_model

# One step of a branch: a convolution (ReLU, and BatchNorm in BN-Inception) or a 3x3 "same" pooling.
Conv = namedtuple("Conv", ["name", "filters", "kernel_size", "strides"], defaults=(1,))
Pool = namedtuple("Pool", ["name", "mode", "strides"], defaults=(1,))

# Caffe's epsilon, as in the BN-Inception port whose layer names are used here.
BN_EPSILON = 1e-5

# Every layer pads "same", so the graph builds at any size; 32 is the total stride of the network (TF-slim:
# "the inputs can be of any size greater 32x32"). The auxiliary heads' valid 5x5 pooling needs a 5x5 map
# after 4a (stride 16): ceil(size / 16) >= 5, i.e. at least 65.
MIN_SIZE = 32
AUX_MIN_SIZE = 65

# Table 1 of Szegedy et al. 2014: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj), one row per
# module, grouped by stage; a 3x3/2 max-pool separates the stages.
GOOGLENET_STAGES = (
    {"3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64)},
    {
        "4a": (192, 96, 208, 16, 48, 64),
        "4b": (160, 112, 224, 24, 64, 64),
        "4c": (128, 128, 256, 24, 64, 64),
        "4d": (112, 144, 288, 32, 64, 64),
        "4e": (256, 160, 320, 32, 128, 128),
    },
    {"5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128)},
)

# Figure 5 of Ioffe & Szegedy 2015: (stride, #1x1, #3x3 reduce, #3x3, double #3x3 reduce, double #3x3,
# pool, pool proj). The stride-2 modules 3c and 4e have no 1x1 branch and pass the pooled map through
# unprojected ("max + pass through"); they replace GoogLeNet's max-pools between stages.
INCEPTION_V2_MODULES = {
    "3a": (1, 64, 64, 64, 64, 96, "avg", 32),
    "3b": (1, 64, 64, 96, 64, 96, "avg", 64),
    "3c": (2, 0, 128, 160, 64, 96, "max", 0),
    "4a": (1, 224, 64, 96, 96, 128, "avg", 128),
    "4b": (1, 192, 96, 128, 96, 128, "avg", 128),
    "4c": (1, 160, 128, 160, 128, 160, "avg", 128),
    "4d": (1, 96, 128, 192, 160, 192, "avg", 128),
    "4e": (2, 0, 128, 192, 192, 256, "max", 0),
    "5a": (1, 352, 192, 320, 160, 224, "avg", 128),
    "5b": (1, 352, 192, 320, 192, 224, "max", 128),
}

# The post's three modules (from the article it follows; see /work/shared/reference/README.md), in
# GoogLeNet's column order. 3b's pool projection is 96 where the paper has 64.
CUSTOM_INCEPTION_MODULES = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 96),
    "4a": (192, 96, 208, 16, 48, 64),
}


def googlenet_branches(n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj):
    """The four branches of a GoogLeNet module, from one row of Table 1."""
    return (
        (Conv("1x1", n1x1, 1),),
        (Conv("3x3_reduce", n3x3_reduce, 1), Conv("3x3", n3x3, 3)),
        (Conv("5x5_reduce", n5x5_reduce, 1), Conv("5x5", n5x5, 5)),
        (Pool("pool", "max"), Conv("pool_proj", pool_proj, 1)),
    )


def bn_inception_branches(strides, n1x1, n3x3_reduce, n3x3, double_reduce, double_3x3, pool, pool_proj):
    """The branches of a BN-Inception module, from one row of Figure 5: the 5x5 becomes two 3x3."""
    branches = [(Conv("1x1", n1x1, 1),)] if n1x1 else []
    branches.append((Conv("3x3_reduce", n3x3_reduce, 1), Conv("3x3", n3x3, 3, strides)))
    branches.append(
        (
            Conv("double_3x3_reduce", double_reduce, 1),
            Conv("double_3x3_1", double_3x3, 3),
            Conv("double_3x3_2", double_3x3, 3, strides),
        )
    )
    pool_branch = (Pool("pool", pool, strides),)
    branches.append(pool_branch + ((Conv("pool_proj", pool_proj, 1),) if pool_proj else ()))
    return tuple(branches)


def conv_relu(x, filters, kernel_size, name, *, strides=1, batch_norm=False, separable=False):
    """A "same" convolution and ReLU; with ``batch_norm``, conv (no bias) -> BatchNorm -> ReLU.

    ``separable``: a depthwise convolution with 8 filters per input channel, then a 1x1 to ``filters``.
    """
    conv = functools.partial(layers.SeparableConv2D, depth_multiplier=8) if separable else layers.Conv2D
    if not batch_norm:
        return conv(filters, kernel_size, strides=strides, padding="same", activation="relu", name=name)(x)
    # BatchNorm's beta takes the place of the bias, which the normalisation would subtract away.
    x = conv(filters, kernel_size, strides=strides, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def inception_module(x, branches, name, *, batch_norm=False):
    """An Inception module: each branch runs its steps on ``x``; the outputs are concatenated."""
    outputs = []
    for branch in branches:
        y = x
        for step in branch:
            step_name = f"{name}_{step.name}"
            if isinstance(step, Pool):
                pool = layers.MaxPooling2D if step.mode == "max" else layers.AveragePooling2D
                y = pool(3, strides=step.strides, padding="same", name=step_name)(y)
            else:
                y = conv_relu(
                    y, step.filters, step.kernel_size, step_name, strides=step.strides, batch_norm=batch_norm
                )
        outputs.append(y)
    return layers.Concatenate(name=f"{name}_output")(outputs)


def stem(x, *, batch_norm=False, lrn=False, separable=False):
    """conv 7x7/2 64, max-pool 3x3/2, conv 1x1 64, conv 3x3 192, max-pool 3x3/2; with ``lrn``, local
    response normalisation after the first max-pool and after the 3x3 convolution, as in Table 1.

    "same" max-pools halve the map as Caffe's ceil-mode pools do at 224: 112 -> 56 -> 28.
    """
    x = conv_relu(x, 64, 7, "conv1_7x7_s2", strides=2, batch_norm=batch_norm, separable=separable)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1_3x3_s2")(x)
    if lrn:
        x = _lrn(x, "pool1_norm1")
    x = conv_relu(x, 64, 1, "conv2_3x3_reduce", batch_norm=batch_norm)
    x = conv_relu(x, 192, 3, "conv2_3x3", batch_norm=batch_norm)
    if lrn:
        x = _lrn(x, "conv2_norm2")
    return layers.MaxPooling2D(3, strides=2, padding="same", name="pool2_3x3_s2")(x)


def _lrn(x, name):
    # bvlc_googlenet's LRN: local_size 5, alpha 1e-4, beta 0.75 and Caffe's default k = 1.
    return LocalResponseNormalization(size=5, alpha=1e-4, beta=0.75, k=1.0, name=name)(x)


def auxiliary_classifier(x, args, name, *, pool_size=5, classifier_name=None):
    """GoogLeNet's auxiliary classifier (section 5): 5x5/3 average pooling, 1x1 conv 128 + ReLU,
    FC 1024 + ReLU, 70% dropout, linear + softmax. The post's head is the same with a 2x2 pool."""
    x = layers.AveragePooling2D(pool_size, strides=3, name=f"{name}_ave_pool")(x)
    x = layers.Conv2D(128, 1, activation="relu", name=f"{name}_conv")(x)
    x = layers.Flatten(name=f"{name}_flatten")(x)
    x = layers.Dense(1024, activation="relu", name=f"{name}_fc")(x)
    x = layers.Dropout(0.7, name=f"{name}_drop_fc")(x)
    classifier_name = classifier_name or f"{name}_classifier"
    return layers.Dense(args.classes, activation=args.classifier_activation, name=classifier_name)(x)


@register_model
def googlenet(*, aux_logits=False, dropout=0.4, separable_stem=False, **kwargs):
    """GoogLeNet, the Inception v1 network of Szegedy et al., "Going Deeper with Convolutions", 2014
    (arXiv:1409.4842), as published in its Table 1: no BatchNorm; every convolution has a bias and ReLU.

    Stem (conv 7x7/2, max-pool, LRN, conv 1x1 64, conv 3x3 192, LRN, max-pool), modules 3a-3b, max-pool,
    4a-4e, max-pool, 5a-5b, 7x7 average pooling, 40% dropout, linear + softmax. Each module concatenates a
    1x1 branch, a 1x1 -> 3x3 branch, a 1x1 -> 5x5 branch and a 3x3 max-pool -> 1x1 branch; the 1x1
    "reduce" convolutions keep the 3x3 and 5x5 cheap. The widths are Table 1's rows (``GOOGLENET_STAGES``).

    Options:
        aux_logits: add the two auxiliary classifiers of section 5 (5x5/3 average pooling, 1x1 conv 128,
            FC 1024, 70% dropout, linear + softmax) on the outputs of 4a and 4d; the model then returns
            ``[main, aux1, aux2]``. They only serve training (their losses are added with weight 0.3);
            they need ``include_top=True`` and an input of at least 65x65 (a 5x5 map after 4a).
        dropout: the dropout rate before the classifier; the paper's 40%.
        separable_stem: make the first convolution depthwise-separable (a depthwise 7x7 with 8 filters
            per channel, then 1x1 to 64): what Table 1's 2.7K parameters and 34M operations for it
            imply, and what the BN paper says Google's model used. Off by default, like every public
            reimplementation (Caffe's bvlc_googlenet, torchvision), since the text only says "7x7/2".

    Conventions: the head is global average pooling, which at 224x224 is Table 1's 7x7/1 average pool
    and lets other input sizes work. LRN uses bvlc_googlenet's settings (size 5, alpha 1e-4, beta 0.75,
    k 1). Pools pad "same", which reproduces Caffe's ceil-mode sizes 112 -> 56 -> 28 -> 14 -> 7.

    Parameters (without the auxiliary heads, 1000 classes): 6,990,272 weights + 8,280 biases = 6,998,552,
    i.e. 7.0M. The "6.8M" quoted for GoogLeNet is the sum of Table 1's "params" column, 6797.7K, where:
    * K is 1024 weights, not 1000: conv2 is 64*64 + 9*64*192 = 114,688 = 112 * 1024 ("112K") and the
      classifier 1024*1000 = 1000 * 1024 ("1000K"). In those units our weights are 6826.4K, which also
      reads as 6.8 thousand K; in plain millions the table's own sum is 6.96M;
    * the first convolution is listed as 2.7K: 7*7*3*8 + 24*64 = 2,712 separable weights, where the
      plain 7x7 has 7*7*3*64 = 9,408 (``separable_stem=True`` gives 6,991,856 in all);
    * rows 4a-5b disagree with their own filter columns (4a 364K for 366.75K, 4c 463K for 497.5K, 4d 580K
      for 590.5K, 4e 840K for 847K, 5a 1072K for 1018K, 5b 1388K for 1409K); with 3a, 3b and 4b rounded
      (159 for 159.5, 380 for 379, 437 for 438) the column is 22.2K below its filter columns;
    * biases are not counted.
    Each auxiliary head adds its 1x1 conv (512*128 + 128 = 65,664 on 4a, 67,712 on 4d), FC 4*4*128 ->
    1024 (2,098,176) and classifier (1,025,000): 13,378,280 in all with both heads.

    Multiply-accumulates at 224x224: 1.583 billion. The paper's "1.5 billion multiply-adds" is the sum of
    Table 1's "ops" column (1502M), which counts the separable first convolution (34M where the plain
    7x7 costs 112*112*9,408 = 118M): ``separable_stem=True`` gives 1.499 billion; the other 3M are mostly
    5a's, listed as 54M where its filter columns give 49 * 1,042,432 = 51.1M.
    """
    aux_logits = check_bool(aux_logits, "aux_logits")
    dropout = check_rate(dropout, "dropout")
    separable_stem = check_bool(separable_stem, "separable_stem")
    min_size = AUX_MIN_SIZE if aux_logits else MIN_SIZE
    args = parse_common_args("googlenet", kwargs, default_size=224, min_size=min_size)
    if aux_logits and not args.include_top:
        raise ValueError(
            "`aux_logits=True` needs the classifier: the auxiliary heads are classifiers too. "
            f"Received: aux_logits={aux_logits}, include_top={args.include_top}"
        )
    inputs = model_input(args)
    x = stem(inputs, lrn=True, separable=separable_stem)
    aux_outputs = []
    for stage, modules in enumerate(GOOGLENET_STAGES, start=3):
        if stage > 3:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{stage - 1}_3x3_s2")(x)
        for module, row in modules.items():
            x = inception_module(x, googlenet_branches(*row), name=f"inception_{module}")
            if aux_logits and module in ("4a", "4d"):
                aux_outputs.append(auxiliary_classifier(x, args, name=f"loss{len(aux_outputs) + 1}"))
    x = pooled_classifier(x, args, dropout=dropout)
    return keras.Model(inputs, [x, *aux_outputs] if aux_logits else x, name=args.name)


@register_model
def inception_v2(*, dropout=0.0, separable_stem=False, **kwargs):
    """BN-Inception, the "Inception v2" of Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network
    Training by Reducing Internal Covariate Shift", 2015 (arXiv:1502.03167), after its Figure 5.

    What changes from GoogLeNet: BatchNorm between every convolution and its ReLU (the convolutions lose
    their bias, which BN's beta replaces); each 5x5 becomes two stacked 3x3 ("double 3x3"); a third
    28x28 module, 3c; no max-pools between stages: modules 3c and 4e reduce the map themselves with
    stride-2 3x3 convolutions beside a stride-2 max-pool that is passed through unprojected; average
    pooling in most pool branches (5b and the stride-2 modules use max); no LRN; no auxiliary heads.

    Options:
        dropout: rate before the classifier. 0 by default: the paper removed dropout from its BN networks
            ("Remove Dropout", section 4.2.1); its ensemble used 5% or 10% (GoogLeNet used 40%).
        separable_stem: a depthwise-separable first convolution (depthwise 7x7 with multiplier 8, then
            1x1 to 64), as the paper's appendix says its model "employed"; TF-slim's ``inception_v2`` does
            the same. Off by default, like the Caffe BN-Inception port in ``pretrainedmodels``.

    Figure 5 contradicts itself in 4c and 4d: its filter columns (160 + 160 + 160 + 128 and
    96 + 192 + 192 + 128) give 608 channels where its depth column says 576, so 4e outputs
    192 + 256 + 608 = 1056 channels (the column: 1024) and 5a takes 1056 inputs. This builder follows the
    filter columns, as the Caffe port does; TF-slim instead shrinks the two pool projections to 96 so that
    the depth column holds. 5a and 5b output 1024 either way. (The column also prints 3c and 4e with their
    input size, 28x28 and 14x14; they output 14x14x576 and 7x7x1056.)

    Parameters with 1000 classes: 11,305,256 in all; 11,285,224 trainable (weights and BN's gamma and
    beta) and 20,032 non-trainable (BN's moving mean and variance, 2 for each of the 10,016 convolution
    channels). The Caffe port keeps a bias in every convolution before its BN: 11,285,224 + 10,016 =
    11,295,240, the count published for ``pretrainedmodels.bninception`` (torch counts no moving
    statistics). The paper's text says 13.6M parameters and, for the double 3x3, "25% more parameters"
    than GoogLeNet; neither follows from Figure 5 (11.29M is 61% more than GoogLeNet's 6.99M).

    Multiply-accumulates at 224x224: 2.033 billion (1.949 with ``separable_stem=True``). Against
    GoogLeNet's 1.499 billion with the same separable stem that is the paper's "about 30%" more.
    """
    dropout = check_rate(dropout, "dropout")
    separable_stem = check_bool(separable_stem, "separable_stem")
    args = parse_common_args("inception_v2", kwargs, default_size=224, min_size=MIN_SIZE)
    inputs = model_input(args)
    x = stem(inputs, batch_norm=True, separable=separable_stem)
    for module, row in INCEPTION_V2_MODULES.items():
        x = inception_module(x, bn_inception_branches(*row), name=f"inception_{module}", batch_norm=True)
    x = pooled_classifier(x, args, dropout=dropout)
    return keras.Model(inputs, x, name=args.name)


@register_model
def custom_inception(**kwargs):
    """The post's "Inception Net": GoogLeNet's stem and its first three Inception modules, with what looks
    like GoogLeNet's auxiliary classifier as the only head; 32x32x3 input, 100 classes.

    The post prints 1,373,284 parameters, all trainable. Its snippet leaves out the module configurations
    ``layer_3a``, ``layer_3b``, ``layer_4a``; those of the article it follows are used
    (``CUSTOM_INCEPTION_MODULES``). They are Table 1's rows of GoogLeNet except 3b's pool projection:
    96 here, 64 in the paper. With 64 the model has 1,353,284 parameters: 3b's projection loses
    32 * (256 + 1) = 8,224 and 4a's four 1x1 convolutions (192 + 96 + 16 + 64 filters) lose 32 input
    channels each, 11,776; 20,000 in all. The post's total needs 96, so 96 is kept.

    Quirks of the post, reproduced rather than fixed (they are what its parameter count measures):
    * the head looks like GoogLeNet's auxiliary classifier but pools 2x2, not 5x5, with stride 3: on
      4a's 2x2 map (32 -> 16 -> 8 -> 4 through the stem, 2 after the pool before 4a) that is one global
      average, and the stride does nothing. Then 1x1 conv 128, Flatten, Dense 1024, 70% dropout, Dense
      softmax.
      There is no main classifier: no modules 4b-5b, no global pooling, no 40% dropout;
    * the 7x7/2 stem and its 3x3/2 pools, made for 224x224 ImageNet images, shrink a 32x32 image to 4x4
      before the first module; all convolutions and pools pad "same", the stage pools with stride 2;
    * no LRN after the stem's pool and 3x3 convolution, unlike Table 1.

    Errata in the post's code, which this builder does not copy:
    * the model-building lines are indented like the body of ``inception_layer``, after its ``return``:
      as printed, they are unreachable code, so the snippet defines a function and builds nothing;
    * ``layer_3a``, ``layer_3b`` and ``layer_4a`` are never defined (see above);
    * every layer is unnamed; here they are named after Caffe's GoogLeNet (``inception_3a_1x1`` ...),
      the head after its auxiliary classifier (``loss1_*``), the last layer ``predictions``.

    The smallest input is 17x17: the head's 2x2 pool needs a 2x2 map after 4a (stride 16).
    """
    args = parse_common_args("custom_inception", kwargs, default_size=32, min_size=17, default_classes=100)
    inputs = model_input(args)
    x = stem(inputs)
    for module, row in CUSTOM_INCEPTION_MODULES.items():
        if module == "4a":
            x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool3_3x3_s2")(x)
        x = inception_module(x, googlenet_branches(*row), name=f"inception_{module}")
    if args.include_top:
        x = auxiliary_classifier(x, args, name="loss1", pool_size=2, classifier_name="predictions")
    else:
        x = global_pool(x, args.pooling)
    return keras.Model(inputs, x, name=args.name)
