"""Published reference numbers that the builders are checked against, each with its source.

These are *references*, never results: tests and chapters compute every number from the built models and
compare it with the figures here. Sources:

* ``POST``: the ``model.summary()`` totals printed in the blog post the book follows (and in the article
  it quotes, "CNN Architectures, a Deep-dive", 2019).
* ``KERAS_APPLICATIONS``: ``keras.applications.X(weights=None)`` at its default input; the tests also build
  those models live and compare.
* ``TORCHVISION``: torchvision's weights metadata (``num_params``, ``GFLOPS`` = billions of
  multiply-accumulates, ``acc@1``). torchvision counts learnable parameters only, so it matches Keras'
  *trainable* count.
* ``PAPERS``: the headline parameter figures of the papers, at the paper's own rounding, counted as the paper
  counts (``unit``; ``weights_only`` leaves out biases).
"""

from collections import namedtuple

PostTotals = namedtuple("PostTotals", ["total", "non_trainable"])
Torchvision = namedtuple("Torchvision", ["num_params", "gmacs", "top1"])
PaperFigure = namedtuple("PaperFigure", ["params_millions", "source", "unit", "weights_only"], defaults=(1e6, False))

POST = {
    "custom_vgg": PostTotals(307_498, 0),
    "custom_resnet": PostTotals(68_671_236, 1_952),
    "custom_densenet": PostTotals(2_065_686, 880),
    "custom_inception": PostTotals(1_373_284, 0),
    "custom_xception": PostTotals(4_456_548, 1_984),
}

# cnn_notes name -> (keras.applications attribute, total params at the default input)
KERAS_APPLICATIONS = {
    "vgg16": ("VGG16", 138_357_544),
    "vgg19": ("VGG19", 143_667_240),
    "resnet50": ("ResNet50", 25_636_712),
    "resnet101": ("ResNet101", 44_707_176),
    "resnet152": ("ResNet152", 60_419_944),
    "resnet50_v2": ("ResNet50V2", 25_613_800),
    "resnet101_v2": ("ResNet101V2", 44_675_560),
    "resnet152_v2": ("ResNet152V2", 60_380_648),
    "inception_v3": ("InceptionV3", 23_851_784),
    "inception_resnet_v2": ("InceptionResNetV2", 55_873_736),
    "xception": ("Xception", 22_910_480),
    "densenet121": ("DenseNet121", 8_062_504),
    "densenet169": ("DenseNet169", 14_307_880),
    "densenet201": ("DenseNet201", 20_242_984),
    "efficientnet_b0": ("EfficientNetB0", 5_330_571),
    "efficientnet_b1": ("EfficientNetB1", 7_856_239),
    "efficientnet_b2": ("EfficientNetB2", 9_177_569),
    "efficientnet_b3": ("EfficientNetB3", 12_320_535),
    "efficientnet_b4": ("EfficientNetB4", 19_466_823),
    "efficientnet_b5": ("EfficientNetB5", 30_562_527),
    "efficientnet_b6": ("EfficientNetB6", 43_265_143),
    "efficientnet_b7": ("EfficientNetB7", 66_658_687),
    "efficientnet_v2_b0": ("EfficientNetV2B0", 7_200_312),
    "efficientnet_v2_b1": ("EfficientNetV2B1", 8_212_124),
    "efficientnet_v2_b2": ("EfficientNetV2B2", 10_178_374),
    "efficientnet_v2_b3": ("EfficientNetV2B3", 14_467_622),
    "efficientnet_v2_s": ("EfficientNetV2S", 21_612_360),
    "efficientnet_v2_m": ("EfficientNetV2M", 54_431_388),
    "efficientnet_v2_l": ("EfficientNetV2L", 119_027_848),
    "mobilenet": ("MobileNet", 4_253_864),
    "mobilenet_v2": ("MobileNetV2", 3_538_984),
    "convnext_tiny": ("ConvNeXtTiny", 28_589_128),
    "convnext_small": ("ConvNeXtSmall", 50_223_688),
    "convnext_base": ("ConvNeXtBase", 88_591_464),
    "convnext_large": ("ConvNeXtLarge", 197_767_336),
    "convnext_xlarge": ("ConvNeXtXLarge", 350_196_968),
}

# keras.applications twins whose default input is not a fixed size: keras' MobileNetV3Small/Large default to
# (None, None, 3) (fully convolutional), so they are compared built at 224x224, the size of their ImageNet
# weights and of every published count: (attribute, total params, input size). test_models.py's
# test_equals_keras_applications_built_live builds them at that size and compares them as the others.
KERAS_APPLICATIONS_SIZED = {
    "mobilenet_v3_large": ("MobileNetV3Large", 5_507_432, 224),
    "mobilenet_v3_small": ("MobileNetV3Small", 2_554_968, 224),
}


def twin_attribute_and_size(name):
    """keras.applications' attribute for model ``name`` and the input side to build it at: from
    ``KERAS_APPLICATIONS`` at keras' default input (None), or from ``KERAS_APPLICATIONS_SIZED`` at the size of its
    published weights."""
    if name in KERAS_APPLICATIONS:
        return KERAS_APPLICATIONS[name][0], None
    attribute, _, size = KERAS_APPLICATIONS_SIZED[name]
    return attribute, size

# top1 is None where the reference file gives no acc@1.
TORCHVISION = {
    "alexnet": Torchvision(61_100_840, 0.714, 56.522),
    "vgg11": Torchvision(132_863_336, 7.609, 69.020),
    "vgg13": Torchvision(133_047_848, 11.308, 69.928),
    "vgg16": Torchvision(138_357_544, 15.47, 71.592),
    "vgg19": Torchvision(143_667_240, 19.632, 72.376),
    "inception_v3": Torchvision(27_161_264, 5.713, 77.294),  # num_params includes the auxiliary head
    "resnet18": Torchvision(11_689_512, 1.814, 69.758),
    "resnet34": Torchvision(21_797_672, 3.664, 73.314),
    # torchvision's ResNet-50/101/152 are "v1.5" (stride in the 3x3): MACs match stride_in_3x3=True.
    "resnet50": Torchvision(25_557_032, 4.089, 76.130),
    "resnet101": Torchvision(44_549_160, 7.801, 77.374),
    "resnet152": Torchvision(60_192_808, 11.514, 78.312),
    "resnext50_32x4d": Torchvision(25_028_904, 4.23, 77.618),
    "resnext101_32x8d": Torchvision(88_791_336, 16.414, 79.312),
    "densenet121": Torchvision(7_978_856, 2.834, 74.434),
    "densenet161": Torchvision(28_681_000, 7.728, 77.138),
    "densenet169": Torchvision(14_149_480, 3.36, 75.600),
    "densenet201": Torchvision(20_013_928, 4.291, None),
    "efficientnet_b0": Torchvision(5_288_548, 0.386, None),
    "efficientnet_b1": Torchvision(7_794_184, 0.687, None),
    "efficientnet_b2": Torchvision(9_109_994, 1.088, None),
    "efficientnet_b3": Torchvision(12_233_232, 1.827, None),
    "efficientnet_b4": Torchvision(19_341_616, 4.394, None),
    "efficientnet_b5": Torchvision(30_389_784, 10.266, None),
    "efficientnet_b6": Torchvision(43_040_704, 19.068, None),
    "efficientnet_b7": Torchvision(66_347_960, 37.746, None),
    # EfficientNetV2 (torchvision/models/efficientnet.py: num_params, _ops, acc@1 of IMAGENET1K_V1), each at its
    # weights' crop, 384 (S) and 480 (M, L), keras' default sizes too. torchvision has no B0-B3.
    "efficientnet_v2_s": Torchvision(21_458_488, 8.366, 84.228),
    "efficientnet_v2_m": Torchvision(54_139_356, 24.582, 85.112),
    "efficientnet_v2_l": Torchvision(118_515_272, 56.08, 85.808),
    "mobilenet_v2": Torchvision(3_504_872, 0.301, 71.878),
    "mobilenet_v3_large": Torchvision(5_483_032, 0.217, 74.042),
    "mobilenet_v3_small": Torchvision(2_542_856, 0.057, 67.668),
    # ConvNeXt (torchvision/models/convnext.py, commit 086fe1f: num_params, _ops, acc@1 of IMAGENET1K_V1, trained
    # with torchvision's own recipe). torchvision has no XLarge.
    "convnext_tiny": Torchvision(28_589_128, 4.456, 82.520),
    "convnext_small": Torchvision(50_223_688, 8.684, 83.616),
    "convnext_base": Torchvision(88_591_464, 15.355, 84.062),
    "convnext_large": Torchvision(197_767_336, 34.361, 84.414),
    # RegNet (torchvision/models/regnet.py, commit 90a8f70: num_params, _ops, acc@1 of IMAGENET1K_V1). Keras 3
    # has no RegNet. torchvision writes RegNetX-800MF's _ops as 0.8.
    "regnet_x_400mf": Torchvision(5_495_976, 0.414, 72.834),
    "regnet_x_800mf": Torchvision(7_259_656, 0.8, 75.212),
    "regnet_x_1_6gf": Torchvision(9_190_136, 1.603, 77.040),
    "regnet_x_3_2gf": Torchvision(15_296_552, 3.177, 78.364),
    "regnet_y_400mf": Torchvision(4_344_144, 0.402, 74.046),
    "regnet_y_800mf": Torchvision(6_432_512, 0.834, 76.420),
    "regnet_y_1_6gf": Torchvision(11_202_430, 1.612, 77.950),
    "regnet_y_3_2gf": Torchvision(19_436_338, 3.176, 78.948),
}

# Where torchvision's num_params counts something else than the model built here, with the reason.
TORCHVISION_PARAMS_DIFFER = {
    "inception_v3": "num_params includes the auxiliary classifier (3,326,696) and BatchNorm scales (17,216), "
    "which keras.applications' InceptionV3 leaves out",
}

# torchvision counts GFLOPS at its weights' evaluation crop; where that differs from the model's default size
# (keras' and the paper's 260 for B2), the MACs comparison builds at torchvision's size.
TORCHVISION_INPUT_SIZE = {"inception_v3": 299, "efficientnet_b2": 288}

# Analytic MAC counts of keras.applications' ResNet v1 (stride in the first 1x1, as the paper): the
# paper's Table 1 gives 3.8 and 11.3 GFLOPs (multiply-adds) for ResNet-50 and ResNet-152.
KERAS_RESNET_V1_GMACS = {"resnet50": 3.858, "resnet152": 11.282}

PAPERS = {
    "alexnet": PaperFigure(60, "Krizhevsky et al. 2012, section 1: 60 million parameters"),
    "vgg11": PaperFigure(133, "Simonyan & Zisserman 2014, Table 2 (A)"),
    "vgg11_lrn": PaperFigure(133, "Simonyan & Zisserman 2014, Table 2 (A-LRN)"),
    "vgg13": PaperFigure(133, "Simonyan & Zisserman 2014, Table 2 (B)"),
    "vgg16_c": PaperFigure(134, "Simonyan & Zisserman 2014, Table 2 (C)"),
    "vgg16": PaperFigure(138, "Simonyan & Zisserman 2014, Table 2 (D)"),
    "vgg19": PaperFigure(144, "Simonyan & Zisserman 2014, Table 2 (E)"),
    # Table 1 counts weights without biases, in K of 1024 (conv2: 114,688 weights = "112K"): 6.8M = 6,800 K.
    "googlenet": PaperFigure(6.8, "Szegedy et al. 2014, Table 1 (sum of the params column)", 1_024_000, True),
    "resnext50_32x4d": PaperFigure(25.0, "Xie et al. 2016, Table 1"),
    "efficientnet_b0": PaperFigure(5.3, "Tan & Le 2019, Table 2"),
    "efficientnet_b7": PaperFigure(66, "Tan & Le 2019, Table 2"),
    # EfficientNetV2: the authors' release (google/automl, efficientnetv2/README.md, the tables of checkpoints),
    # which counts the released models. L is left out: the README's 119.5M is not its released checkpoint's
    # 118,515,272 trainable parameters (keras and torchvision alike).
    "efficientnet_v2_b0": PaperFigure(7.1, "Tan & Le 2021, google/automl efficientnetv2 README (EffNetV2-B0)"),
    "efficientnet_v2_b1": PaperFigure(8.1, "Tan & Le 2021, google/automl efficientnetv2 README (EffNetV2-B1)"),
    "efficientnet_v2_b2": PaperFigure(10.1, "Tan & Le 2021, google/automl efficientnetv2 README (EffNetV2-B2)"),
    "efficientnet_v2_b3": PaperFigure(14.4, "Tan & Le 2021, google/automl efficientnetv2 README (EffNetV2-B3)"),
    "efficientnet_v2_s": PaperFigure(21.5, "Tan & Le 2021, google/automl efficientnetv2 README (EffNetV2-S)"),
    "efficientnet_v2_m": PaperFigure(54.1, "Tan & Le 2021, google/automl efficientnetv2 README (EffNetV2-M)"),
    # MobileNetV2's 3.4M (Sandler et al. 2018, Table 4) and V3-Large's 5.4M (Howard et al. 2019, Table 3) are
    # not what their released models have (3.50M and 5.48M trainable, keras and torchvision alike): not here.
    "mobilenet": PaperFigure(4.2, "Howard et al. 2017, Table 6 (1.0 MobileNet-224)"),
    "mobilenet_v3_small": PaperFigure(2.5, "Howard et al. 2019, Table 3 (MobileNetV3-Small 1.0)"),
    # ConvNeXt: Liu et al. 2022, Table 1 (the #param. column; XL in its ImageNet-22K rows).
    **{f"convnext_{size}": PaperFigure(millions, f"Liu et al. 2022, Table 1 (ConvNeXt-{label})")
       for size, label, millions in (("tiny", "T", 29), ("small", "S", 50), ("base", "B", 89), ("large", "L", 198),
                                     ("xlarge", "XL", 350))},
    "se_resnet50": PaperFigure(28.1, "Hu et al. 2020 (TPAMI), Table 10 (SE-ResNet-50, r = 16)"),
    # Section 4.2's CIFAR-10 networks. Table 6 counts the residual networks; the text says their plain
    # counterparts have the same number of parameters (option A shortcuts have none).
    **{f"{kind}{depth}_cifar": PaperFigure(millions, f"He et al. 2015, Table 6 ({depth} layers)" + note)
       for depth, millions in ((20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85), (110, 1.7))
       for kind, note in (("resnet", ""), ("plain", "; section 4.2: plain twins have the same parameters"))},
}

# A paper's exact parameter count, for a model that no library ships (so neither KERAS_APPLICATIONS nor
# TORCHVISION can hold it) and whose paper states the count to the unit, e.g. as the sum of a per-layer table.
# ``params`` is compared, exactly, with the model's *trainable* count (papers count what is learned; BatchNorm's
# moving statistics are not parameters); ``source`` names the table or section. A model listed here needs no
# PAPERS entry: reference_table shows this count, with thousands separators, before any rounded figure.
# ``label``: what the reference table shows as the source, "paper" unless the count is a public implementation's.
PaperCount = namedtuple("PaperCount", ["params", "source", "label"], defaults=("paper",))

# Not here: LeNet-5 (``lenet5``) and NiN (``nin``). LeNet-5's 61,706 trainable parameters are d2l's simplified
# LeNet (Zhang et al., Dive into Deep Learning, section 7.6: full C3, plain average pooling, a dense output),
# 156 + 2,416 + 48,120 + 10,164 + 850; LeCun et al. 1998 (section II.B) count their own network, whose C3
# (Table I) has 1,516 parameters and whose subsampling layers 12 and 32: "about 60,000" in all, a different
# model, so no figure of the paper is a reference for this one. NiN's paper gives no ImageNet table. Both are
# checked layer by layer in tests/test_lenet.py.
PAPER_COUNTS = {
    # No paper states SE-ResNet-50's count to the unit; the public implementations do: Cadene/pretrained-models.pytorch
    # se_resnet50 (the port of the authors' Caffe model) and osmr/imgclsmob's seresnet50 (its tests assert it):
    # torchvision's ResNet-50, 25,557,032, plus 2,530,992 in the 16 SE gates. The paper rounds it (PAPERS).
    "se_resnet50": PaperCount(
        28_088_024, "Cadene/pretrained-models.pytorch se_resnet50; osmr/imgclsmob seresnet50", "pretrained-models"
    ),
}

# Multiply-adds at 224x224 as the papers state them, in millions, with the relative tolerance of the check
# (tests/test_mobilenet.py). MobileNetV3-Large counts 216.6M here, as keras, torchvision (0.217 GFLOPS) and
# TF-Slim's released checkpoint (217M, research/slim/nets/mobilenet/README.md); the paper's Table 3 says 219M,
# 1.1% more, which is why its tolerance is 1.2%.
PaperMacs = namedtuple("PaperMacs", ["millions", "source", "rel"], defaults=(0.01,))
PAPER_MACS = {
    "mobilenet": PaperMacs(569, "Howard et al. 2017, Table 6: 569 million mult-adds"),
    "mobilenet_v2": PaperMacs(300, "Sandler et al. 2018, Table 4: 300M MAdds"),
    "mobilenet_v3_large": PaperMacs(219, "Howard et al. 2019, Table 3: 219M MAdds", 0.012),
    "mobilenet_v3_small": PaperMacs(56, "Howard et al. 2019, Table 3: 56M MAdds"),
    # ConvNeXt at 224x224: Liu et al. 2022, Table 1's FLOPs (multiply-adds, as fvcore counts them; XL in its
    # ImageNet-22K rows). Tiny's 4,455.5M is 0.99% below its rounded 4.5G, within the 1%.
    "convnext_tiny": PaperMacs(4500, "Liu et al. 2022, Table 1: 4.5G FLOPs (ConvNeXt-T)"),
    "convnext_small": PaperMacs(8700, "Liu et al. 2022, Table 1: 8.7G FLOPs (ConvNeXt-S)"),
    "convnext_base": PaperMacs(15400, "Liu et al. 2022, Table 1: 15.4G FLOPs (ConvNeXt-B)"),
    "convnext_large": PaperMacs(34400, "Liu et al. 2022, Table 1: 34.4G FLOPs (ConvNeXt-L)"),
    "convnext_xlarge": PaperMacs(60900, "Liu et al. 2022, Table 1: 60.9G FLOPs (ConvNeXt-XL)"),
    # EfficientNetV2, at each model's default size (224, 240, 260, 300, 384, 480, 480: the official code's
    # evaluation sizes, effnetv2_configs.py), against the FLOPs of the authors' release (google/automl,
    # efficientnetv2/README.md), all within 0.5%.
    "efficientnet_v2_b0": PaperMacs(720, "Tan & Le 2021, google/automl efficientnetv2 README: 0.72B FLOPs"),
    "efficientnet_v2_b1": PaperMacs(1200, "Tan & Le 2021, google/automl efficientnetv2 README: 1.2B FLOPs"),
    "efficientnet_v2_b2": PaperMacs(1700, "Tan & Le 2021, google/automl efficientnetv2 README: 1.7B FLOPs"),
    "efficientnet_v2_b3": PaperMacs(3000, "Tan & Le 2021, google/automl efficientnetv2 README: 3.0B FLOPs"),
    "efficientnet_v2_s": PaperMacs(8400, "Tan & Le 2021, google/automl efficientnetv2 README: 8.4B FLOPs"),
    "efficientnet_v2_m": PaperMacs(24700, "Tan & Le 2021, google/automl efficientnetv2 README: 24.7B FLOPs"),
    "efficientnet_v2_l": PaperMacs(56300, "Tan & Le 2021, google/automl efficientnetv2 README: 56.3B FLOPs"),
    # SE-ResNet-50 with the stride in the first 1x1 (the paper's and Caffe's layout): 3.860 GMACs here.
    "se_resnet50": PaperMacs(3870, "Hu et al. 2020 (TPAMI), Section 4: ~3.87 GFLOPs (SE-ResNet-50, r = 16)"),
}

# The overview chapter's table: one representative model per architecture, the year its paper appeared on arXiv
# (or at NIPS, for AlexNet) and its ImageNet top-1 accuracy (single crop) with the source of that figure. Top-1
# may be None where neither a paper nor a reference implementation of this exact model publishes one.
Architecture = namedtuple("Architecture", ["label", "model", "year", "top1", "top1_source"])

OVERVIEW = (
    Architecture("AlexNet", "alexnet", 2012, 56.522, "torchvision"),
    Architecture("VGG-16", "vgg16", 2014, 71.3, "keras.io"),
    # GoogLeNet's paper gives top-5 only; Szegedy et al. 2015, "Rethinking the Inception Architecture", Table 3
    # lists single-crop top-1 errors: GoogLeNet 29%, BN-Inception 25.2% (the BN paper's own 74.8%).
    Architecture("GoogLeNet", "googlenet", 2014, 71.0, "Rethinking Inception, Table 3"),
    Architecture("BN-Inception", "inception_v2", 2015, 74.8, "Rethinking Inception, Table 3"),
    Architecture("Inception v3", "inception_v3", 2015, 77.9, "keras.io"),
    Architecture("ResNet-50", "resnet50", 2015, 74.9, "keras.io"),
    Architecture("ResNet-152", "resnet152", 2015, 76.6, "keras.io"),
    # TF-Slim's inception_v4_2016_09_09 checkpoint, the model built here (the paper's Table 2: 20.0% error).
    Architecture("Inception v4", "inception_v4", 2016, 80.2, "TF-Slim"),
    Architecture("Inception-ResNet-v2", "inception_resnet_v2", 2016, 80.3, "keras.io"),
    Architecture("ResNeXt-50 32x4d", "resnext50_32x4d", 2016, 77.618, "torchvision"),
    Architecture("DenseNet-121", "densenet121", 2016, 75.0, "keras.io"),
    Architecture("Xception", "xception", 2016, 79.0, "keras.io"),
    # SE-ResNet-50: 100 - 23.29, the single-crop top-1 error of Hu et al.'s Table 2 (arXiv, September 2017).
    Architecture("SE-ResNet-50", "se_resnet50", 2017, 76.71, "Hu et al., Table 2"),
    Architecture("MobileNetV2", "mobilenet_v2", 2018, 71.3, "keras.io"),
    Architecture("MobileNetV3-Large", "mobilenet_v3_large", 2019, 75.6, "keras.io"),
    Architecture("EfficientNet-B0", "efficientnet_b0", 2019, 77.1, "paper, keras.io"),
    Architecture("EfficientNet-B7", "efficientnet_b7", 2019, 84.3, "paper, keras.io"),
    Architecture("RegNetX-3.2GF", "regnet_x_3_2gf", 2020, 78.364, "torchvision"),
    Architecture("RegNetY-3.2GF", "regnet_y_3_2gf", 2020, 78.948, "torchvision"),
    Architecture("EfficientNetV2-S", "efficientnet_v2_s", 2021, 83.9, "keras.io"),
    Architecture("ConvNeXt-Tiny", "convnext_tiny", 2022, 82.520, "torchvision"),
)
