"""Every registered model against its references: parameters, output shapes, MACs, determinism."""

import functools
import re

import keras
import pytest
from conftest import default_model, keras_twin, min_size, small_model, unallocated_build

import cnn_notes
from cnn_notes.references import (
    KERAS_APPLICATIONS,
    KERAS_APPLICATIONS_SIZED,
    KERAS_RESNET_V1_GMACS,
    PAPER_COUNTS,
    PAPER_MACS,
    PAPERS,
    POST,
    TORCHVISION,
    TORCHVISION_INPUT_SIZE,
    TORCHVISION_PARAMS_DIFFER,
)  # fmt: skip
from cnn_notes.models.arguments import parse_common_args, stated_defaults
from cnn_notes.models.heads import model_input, pooled_classifier
from cnn_notes.tables import matches_paper, paper_count

MODELS = cnn_notes.list_models()

# Larger rows of a family's table, each with the family's first row: the same builder code with other numbers,
# so they skip the checks that only exercise code (a second build, the pooling options, the classifier
# options, a build at the minimum size). Every model still gets its reference counts, its default output, its
# layer names and its stated minimum size, which for a larger row is its first row's, proven there.
LARGER_ROWS = {
    **dict.fromkeys(["vgg13", "vgg16", "vgg16_c", "vgg19"], "vgg11"), "resnet34": "resnet18",
    "resnet101": "resnet50", "resnet152": "resnet50", "resnet101_v2": "resnet50_v2", "resnet152_v2": "resnet50_v2",
    "resnext101_32x8d": "resnext50_32x4d", "densenet169": "densenet121", "densenet201": "densenet121",
    # DenseNet-161's wider stem gives it its own minimum, 29: tests/test_densenet.py builds it there.
    "densenet161": "densenet121",
    **{f"efficientnet_b{i}": "efficientnet_b0" for i in range(1, 8)},
    **{f"regnet_{kind}_{size}": f"regnet_{kind}_400mf" for kind in ("x", "y") for size in ("800mf", "1_6gf", "3_2gf")},
    **{f"efficientnet_v2_{v}": "efficientnet_v2_b0" for v in ("b1", "b2", "b3", "s", "m", "l")},
    **{f"convnext_{v}": "convnext_tiny" for v in ("small", "base", "large", "xlarge")},
    **{f"{kind}{depth}_cifar": "resnet20_cifar" for kind in ("resnet", "plain") for depth in (20, 32, 44, 56, 110)},
}  # fmt: skip
del LARGER_ROWS["resnet20_cifar"]
CODE_PATHS = [name for name in MODELS if name not in LARGER_ROWS]

# The list: each of these must be registered.
EXPECTED = {
    "custom_vgg", "custom_resnet", "custom_densenet", "custom_inception", "custom_xception",
    "vgg16", "vgg19", "resnet50", "resnet101", "resnet152", "resnet50_v2", "resnet101_v2", "resnet152_v2",
    "inception_v3", "inception_resnet_v2", "xception", "densenet121", "densenet169", "densenet201",
    *(f"efficientnet_b{i}" for i in range(8)),
    "alexnet", "vgg11", "vgg13", "resnet18", "resnet34", "resnext50_32x4d", "resnext101_32x8d", "densenet161",
    "googlenet", "inception_v2", "inception_v4", "inception_resnet_v1", "vgg11_lrn", "vgg16_c",
    *(f"{kind}{depth}_cifar" for kind in ("resnet", "plain") for depth in (20, 32, 44, 56, 110)),
}  # fmt: skip

def test_every_expected_model_is_registered():
    assert sorted(EXPECTED - set(MODELS)) == []


@pytest.mark.parametrize("name", sorted(POST))
def test_post_models_match_the_printed_totals(name):
    counts = cnn_notes.param_counts(default_model(name))
    assert (counts.total, counts.non_trainable) == POST[name]


@pytest.mark.parametrize("name", sorted(KERAS_APPLICATIONS | KERAS_APPLICATIONS_SIZED))
def test_equals_keras_applications_built_live(name):
    published_total = (KERAS_APPLICATIONS | KERAS_APPLICATIONS_SIZED)[name][1]
    reference = keras_twin(name)
    ours = default_model(name)
    assert cnn_notes.param_counts(ours) == cnn_notes.param_counts(reference)
    assert cnn_notes.param_counts(ours).total == published_total
    assert ours.output.shape == reference.output.shape
    assert ours.input.shape == reference.input.shape
    # Same weights, layer for layer: the multiset of weight shapes must agree.
    assert sorted(tuple(w.shape) for w in ours.weights) == sorted(tuple(w.shape) for w in reference.weights)
    assert cnn_notes.count_macs(ours) == cnn_notes.count_macs(reference)


TORCHVISION_RESNETS = ("resnet50", "resnet101", "resnet152")


@functools.lru_cache(maxsize=1)
def _torchvision_resnet(name):
    """torchvision's ResNet: v1.5 (the stride in the 3x3), no bias before BatchNorm. Neither option changes
    the other's figure (the stride moves no weight; a bias adds no multiply), so one build serves both tests."""
    return unallocated_build(name, use_bias=False, stride_in_3x3=True)


@pytest.mark.parametrize("name", sorted(set(TORCHVISION) - set(TORCHVISION_PARAMS_DIFFER)))
def test_trainable_params_equal_torchvision(name):
    # torchvision's num_params counts learnable parameters only. Its ResNet-50/101/152 have no conv bias
    # before BatchNorm, which keras.applications' (and our defaults) have.
    model = _torchvision_resnet(name) if name in TORCHVISION_RESNETS else default_model(name)
    assert cnn_notes.param_counts(model).trainable == TORCHVISION[name].num_params


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_macs_within_one_percent_of_torchvision(name):
    # torchvision's ResNet-50/101/152 are "v1.5" (stride in the 3x3); some figures are at another input size.
    if name in TORCHVISION_RESNETS:
        model = _torchvision_resnet(name)
    elif name in TORCHVISION_INPUT_SIZE:
        size = TORCHVISION_INPUT_SIZE[name]
        model = unallocated_build(name, input_shape=(size, size, 3))
    else:
        model = default_model(name)
    gmacs = cnn_notes.count_macs(model) / 1e9
    assert gmacs == pytest.approx(TORCHVISION[name].gmacs, rel=0.01)


@pytest.mark.parametrize("name", sorted(KERAS_RESNET_V1_GMACS))
def test_resnet_v1_macs(name):
    gmacs = cnn_notes.count_macs(default_model(name)) / 1e9
    assert round(gmacs, 3) == KERAS_RESNET_V1_GMACS[name]


@pytest.mark.parametrize("name", sorted(PAPERS))
def test_params_at_the_papers_rounding(name):
    figure = PAPERS[name]
    model = default_model(name)
    if name == "alexnet":
        # "60 million" is the paper's round figure for its two-GPU variant: within 2%.
        assert paper_count(model, figure) == pytest.approx(figure.params_millions, rel=0.02)
    else:
        assert matches_paper(model, figure), f"{paper_count(model, figure):.3f} vs {figure.params_millions}"


@pytest.mark.parametrize("name", sorted(PAPER_COUNTS))
def test_trainable_params_equal_the_exact_count(name):
    # A paper's or a public implementation's exact count is of what is learned: Keras' trainable parameters.
    assert cnn_notes.param_counts(default_model(name)).trainable == PAPER_COUNTS[name].params


@pytest.mark.parametrize("name", sorted(PAPER_MACS))
def test_macs_match_the_papers(name):
    figure = PAPER_MACS[name]
    assert cnn_notes.count_macs(default_model(name)) / 1e6 == pytest.approx(figure.millions, rel=figure.rel)


@pytest.mark.parametrize("name", MODELS)
def test_default_output_is_one_probability_vector(name):
    model = default_model(name)
    # The defaults the builder stated to parse_common_args in that build: no model's defaults are repeated here.
    stated = stated_defaults(name)
    assert stated is not None, f"{name}'s builder does not call parse_common_args with its registered name"
    assert tuple(model.outputs[0].shape) == (None, stated.classes)
    assert len(model.inputs) == 1 and tuple(model.input.shape) == (None, stated.size, stated.size, stated.channels)


def test_a_family_sets_its_default_channels():
    # A builder defined here, registered nowhere: a grayscale family states default_channels=1.
    def tiny_gray(**kwargs):
        args = parse_common_args("tiny_gray", kwargs, default_size=8, min_size=4, default_classes=3, default_channels=1)
        inputs = model_input(args)
        x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
        return keras.Model(inputs, pooled_classifier(x, args), name=args.name)

    model = tiny_gray()
    assert tuple(model.input.shape) == (None, 8, 8, 1) and tuple(model.output.shape) == (None, 3)
    assert model.get_layer("conv").count_params() == 3 * 3 * 1 * 2 + 2
    assert stated_defaults("tiny_gray") == (8, 1, 3, 4)
    # An explicit input_shape still wins, and the default of every other family stays 3 channels.
    assert tuple(tiny_gray(input_shape=(8, 8, 3)).input.shape) == (None, 8, 8, 3)
    assert parse_common_args("tiny_rgb", {}, default_size=8, min_size=4).input_shape == (8, 8, 3)
    with pytest.raises(ValueError, match=r"Received: default_channels=0"):
        parse_common_args("tiny_gray", {}, default_size=8, min_size=4, default_channels=0)


@pytest.mark.parametrize("name", MODELS)
def test_every_layer_is_named(name):
    # Keras names an unnamed layer after its class, with a number once the name is taken (conv2d, conv2d_13):
    # the number depends on what was built before in the process, and with it every summary. By this test
    # many models have been built, so an unnamed layer would carry a number. keras.applications itself names
    # three layers after their class, and the twins copy those names.
    for layer in default_model(name).layers:
        automatic = _snake_case(type(layer).__name__)
        if layer.name in ("flatten", "rescaling", "normalization"):
            continue
        assert not re.fullmatch(rf"{automatic}(_\d+)?", layer.name), layer.name


def _snake_case(class_name):
    """Keras' automatic layer name for a class: Conv2D -> conv2d, DepthwiseConv2D -> depthwise_conv2d."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def test_automatic_names_are_recognised():
    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.DepthwiseConv2D(3), keras.layers.Conv2D(2, 1)])
    automatic = [_snake_case(type(layer).__name__) for layer in model.layers]
    assert [re.fullmatch(rf"{a}(_\d+)?", layer.name) is not None for a, layer in zip(automatic, model.layers)] == [
        True,
        True,
    ]


@pytest.mark.parametrize("name", CODE_PATHS)
def test_a_second_build_has_the_same_layer_names(name):
    # Auto-numbered layer names (conv2d_13) would differ between two builds in one process, and with them
    # every summary. The second build is the small one below, with its own input size and classes: the
    # same names, in the same order.
    assert [layer.name for layer in small_model(name).layers] == [layer.name for layer in default_model(name).layers]
    assert "\x1b[" not in cnn_notes.format_summary(default_model(name))


@pytest.mark.parametrize("name", ["custom_vgg", "resnet20_cifar", "googlenet"])
def test_summary_is_identical_for_two_builds(name):
    assert cnn_notes.format_summary(default_model(name)) == cnn_notes.format_summary(cnn_notes.build(name))


@pytest.mark.parametrize("name", CODE_PATHS)
def test_feature_extractor_pools_to_a_vector(name):
    # Each builder hands `pooling` to the shared head (heads.global_pool): "max" is the option no default
    # takes; both options are checked on one model below, and pooling=None (the 4-D map) after that.
    size = min_size(name)
    model = unallocated_build(name, include_top=False, pooling="max", input_shape=(size, size, 3))
    assert len(model.output.shape) == 2 and model.output.shape[0] is None and model.output.shape[1] >= 1
    assert isinstance(model.layers[-1], keras.layers.GlobalMaxPooling2D)
    # Below the pooling is the trunk of the model with the top: the same layers, up to the head.
    names = [layer.name for layer in model.layers[:-1]]
    assert names == [layer.name for layer in small_model(name).layers][: len(names)]


@pytest.mark.parametrize(("pooling", "layer"), [("avg", "GlobalAveragePooling2D"), ("max", "GlobalMaxPooling2D")])
def test_both_pooling_options(pooling, layer):
    model = unallocated_build("resnet20_cifar", include_top=False, pooling=pooling)
    assert type(model.layers[-1]).__name__ == layer and tuple(model.output.shape) == (None, 64)


# One model per head: the post's flattening head, AlexNet's and VGG's dense layers, the pooled heads.
FEATURE_MAPS = ["custom_vgg", "custom_densenet", "alexnet", "vgg11", "googlenet", "resnet50", "efficientnet_b0"]


@pytest.mark.parametrize("name", FEATURE_MAPS)
def test_without_the_top_and_pooling_the_output_is_the_feature_map(name):
    size = min_size(name)
    model = unallocated_build(name, include_top=False, pooling=None, input_shape=(size, size, 3))
    shape = tuple(model.output.shape)
    assert len(shape) == 4 and shape[0] is None and all(d >= 1 for d in shape[1:])
    names = [layer.name for layer in model.layers]
    assert names == [layer.name for layer in small_model(name).layers][: len(names)]


@pytest.mark.parametrize("name", CODE_PATHS)
def test_custom_classes_and_logits(name):
    model = small_model(name)
    assert tuple(model.outputs[0].shape) == (None, 7)
    assert model.layers[-1].activation is keras.activations.linear


@pytest.mark.parametrize("name", CODE_PATHS)
def test_stated_minimum_size_is_exact(name):
    # The small model is built at the stated minimum: every feature map in it keeps at least one pixel.
    # One pixel less is refused before any layer is built.
    size = min_size(name)
    assert tuple(small_model(name).input.shape) == (None, size, size, 3)
    maps = [layer.output.shape for layer in small_model(name).layers if len(layer.output.shape) == 4]
    assert maps and all(d >= 1 for shape in maps for d in shape[1:])
    with pytest.raises(ValueError, match=f"at least {size}x{size}"):
        cnn_notes.build(name, input_shape=(size - 1, size, 3))


@pytest.mark.parametrize("name", sorted(set(LARGER_ROWS) - {"densenet161"}))
def test_a_larger_row_states_its_first_row_s_minimum(name):
    assert min_size(name) == min_size(LARGER_ROWS[name])


def test_macs_of_a_tiny_model_by_hand():
    inputs = keras.Input((8, 8, 4))
    x = keras.layers.Conv2D(8, 3, padding="same", groups=2, name="grouped")(inputs)  # 64*9*(4/2)*8
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", name="dw")(x)  # 16*9*8
    x = keras.layers.SeparableConv2D(6, 3, padding="same", name="sep")(x)  # 16*(9*8 + 8*6)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dense(5, name="fc")(x)  # 6*5
    model = keras.Model(inputs, x)
    assert cnn_notes.count_macs(model) == 64 * 9 * 2 * 8 + 16 * 9 * 8 + 16 * (9 * 8 + 8 * 6) + 6 * 5


@pytest.mark.parametrize("name", ["vgg16"])  # with vgg16's other tests, on its build
def test_vgg16_stage_shapes_follow_the_paper(name):
    stages = cnn_notes.stage_shapes(default_model(name))
    assert [s.shape for s in stages] == [
        (224, 224, 3), (224, 224, 64), (112, 112, 128), (56, 56, 256), (28, 28, 512), (14, 14, 512), (7, 7, 512),
    ]
    assert [s.layer for s in stages][:3] == ["input", "block1_conv2", "block2_conv2"]


def test_summary_does_not_depend_on_the_terminal(monkeypatch):
    model = cnn_notes.build("custom_vgg")
    monkeypatch.setenv("COLUMNS", "40")
    narrow = cnn_notes.format_summary(model)
    monkeypatch.setenv("COLUMNS", "250")
    wide = cnn_notes.format_summary(model)
    assert narrow == wide
    assert narrow.splitlines()[-4:-1] == [
        "Total params: 307,498", "Trainable params: 307,498", "Non-trainable params: 0",
    ]


def test_summary_prints_the_totals(capsys):
    cnn_notes.summary(cnn_notes.build("custom_vgg"), show_layers=False)
    assert capsys.readouterr().out.splitlines()[1:4] == [
        "Total params: 307,498", "Trainable params: 307,498", "Non-trainable params: 0",
    ]


def test_param_counts_agree_with_keras():
    model = cnn_notes.build("custom_vgg")
    assert cnn_notes.param_counts(model).total == model.count_params() == 307_498


def test_custom_vgg_with_batch_norm():
    plain, normed = cnn_notes.build("custom_vgg"), cnn_notes.build("custom_vgg", batch_norm=True)
    # BN between every convolution and its ReLU; the convolutions lose their biases, which BN's beta replaces.
    assert [layer.name for layer in normed.layers[1:5]] == ["block1_conv1", "block1_bn1", "block1_relu1", "block1_dropout1"]
    assert normed.get_layer("block1_conv1").use_bias is False
    biases = sum(layer.filters for layer in plain.layers if isinstance(layer, keras.layers.Conv2D))
    counts = cnn_notes.param_counts(normed)
    assert counts.total == POST["custom_vgg"].total - biases + 4 * biases
    assert counts.non_trainable == 2 * biases
    with pytest.raises(ValueError, match="`batch_norm` must be True or False"):
        cnn_notes.build("custom_vgg", batch_norm="yes")
