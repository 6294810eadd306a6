"""RegNet (Radosavovic et al. 2020, "Designing Network Design Spaces"): the checks that the generic tests do not make.

The generic tests compare each of the eight models with torchvision (``TORCHVISION`` in cnn_notes/references.py:
trainable parameters exactly, MACs within 1%), check the common options, the layer names and the stated minimum
size. Here: the stages that the quantized linear rule computes, against hand-checked rows; the rounding steps one
by one; that the built models have those stages; one block counted by hand; RegNetY = RegNetX + squeeze-and-
excitation; torchvision's padding and BatchNorm settings; and the family options, refused before any layer.
"""

import keras
import pytest
from conftest import default_model
from test_errors import refused_before_any_layer

import cnn_notes
from cnn_notes.models import regnet as family

NAMES = [
    "regnet_x_1_6gf", "regnet_x_3_2gf", "regnet_x_400mf", "regnet_x_800mf",
    "regnet_y_1_6gf", "regnet_y_3_2gf", "regnet_y_400mf", "regnet_y_800mf",
]  # fmt: skip


def test_regnet_is_registered():
    assert cnn_notes.list_models("regnet*") == NAMES


# Stage widths, depths and group widths worked out by hand from torchvision's from_init_params for four rows
# (and equal to the in_features of torchvision's classifiers: 400, 912, 440, 784). RegNetX-400MF: u_j = 24 +
# 24.48 j, s_j = round(log(u_j / 24) / log 2.54) is 0 for j = 0, 1 for j = 1, 2 (u = 48.5, 73.0), 2 for j = 3..9
# and 3 for j = 10..21, so the widths 24 * 2.54 ** s rounded to 8 are 24, 64 (x2), 152 (x7), 392 (x12); then
# the bottleneck widths are made multiples of 16: 24 -> 32, 152 -> 160, 392 -> 400. RegNetX-1.6GF's first
# stage, 80 channels with groups of 24, rounds *down* to 72. RegNetY-800MF: 56 -> 64, 136 -> 144, 776 -> 784.
HAND_CHECKED = {
    "regnet_x_400mf": ((32, 64, 160, 400), (1, 2, 7, 12), 16),
    "regnet_x_1_6gf": ((72, 168, 408, 912), (2, 4, 10, 2), 24),
    "regnet_y_400mf": ((48, 104, 208, 440), (1, 3, 6, 6), 8),
    "regnet_y_800mf": ((64, 144, 320, 784), (1, 3, 8, 2), 16),
}


@pytest.mark.parametrize("name", sorted(HAND_CHECKED))
def test_computed_stages_equal_the_hand_checked_rows(name):
    row = family.VARIANTS[name]
    stages = family.regnet_stages(row.depth, row.w_0, row.w_a, row.w_m, row.group_width)
    widths, depths, group_width = HAND_CHECKED[name]
    assert tuple(s.width for s in stages) == widths
    assert tuple(s.depth for s in stages) == depths and sum(depths) == row.depth
    assert {s.group_width for s in stages} == {group_width}
    assert {(s.stride, s.bottleneck_multiplier) for s in stages} == {(2, 1.0)}


def test_the_quantized_linear_rule_step_by_step():
    # RegNetX-400MF's 22 blocks: the line, then the staircase (before the group rounding).
    u = family.linear_widths(22, 24, 24.48)
    assert u[:3] == pytest.approx([24.0, 48.48, 72.96]) and u[-1] == pytest.approx(24 + 21 * 24.48)
    assert family.block_widths(22, 24, 24.48, 2.54) == [24] + [64] * 2 + [152] * 7 + [392] * 12
    # torchvision's _make_divisible rounds halves up (392 / 16 = 24.5 -> 400, where pycls' round() gives 384)
    # and never goes more than 10% below (80 -> 72 with 24).
    assert [family.make_divisible(v, d) for v, d in [(392, 16), (80, 24), (24, 16), (136, 16), (8, 16)]] == [
        400, 72, 32, 144, 16
    ]
    # No slope: one stage of d blocks.
    assert family.regnet_stages(4, 64, 0, 2.5, 16) == (family.Stage(64, 4, 16, 1.0, 2),)


def _blocks(model):
    """Per stage: [(width, groups of the 3x3 convolution)] of each block, read from the built model."""
    stages = {}
    for layer in model.layers:
        if layer.name.endswith("_b_conv"):
            stage = int(layer.name.split("_")[0][1:])
            stages.setdefault(stage, []).append((layer.filters, layer.groups))
    return [stages[s] for s in sorted(stages)]


@pytest.mark.parametrize("name", NAMES)
def test_the_built_model_has_the_computed_stages(name):
    row = family.VARIANTS[name]
    model = default_model(name)
    blocks = _blocks(model)
    stages = family.regnet_stages(row.depth, row.w_0, row.w_a, row.w_m, row.group_width)
    assert [len(b) for b in blocks] == [s.depth for s in stages]
    assert [sorted(set(b)) for b in blocks] == [[(s.width, s.width // s.group_width)] for s in stages]
    # X has no squeeze-and-excitation; Y has one in every block.
    se_gates = sum(layer.name.endswith("_se_excite") for layer in model.layers)
    assert se_gates == (row.depth if row.se_ratio else 0)
    assert model.get_layer("predictions").kernel.shape == (stages[-1].width, 1000)


@pytest.mark.parametrize("name", ["regnet_x_400mf"])
def test_one_block_counted_by_hand(name):
    # s1_b1 of RegNetX-400MF: 32 -> 32 channels, stride 2, groups of 16 (2 groups): a projection shortcut,
    # three convolutions (the 3x3 one sees 16 channels per group) and four BatchNorms of 32 channels (gamma,
    # beta trainable; moving mean and variance not).
    model = default_model(name)
    convs = {"proj": 32 * 32, "a": 32 * 32, "b": 3 * 3 * 16 * 32, "c": 32 * 32}
    for part, weights in convs.items():
        assert model.get_layer(f"s1_b1_{part}_conv").count_params() == weights
        assert model.get_layer(f"s1_b1_{part}_bn").count_params() == 4 * 32
    # A later block keeps its width and stride 1: no projection, the identity shortcut.
    names = {layer.name for layer in model.layers}
    assert "s4_b2_proj_conv" not in names and "s4_b1_proj_conv" in names


@pytest.mark.parametrize("name", ["regnet_x_400mf"])
def test_y_with_x_s_numbers_and_no_se_is_x(name):
    # The Y builder, given RegNetX-400MF's row and no squeeze-and-excitation, is RegNetX-400MF layer for layer:
    # the two families differ in their rows and in SE only. Weights do not depend on the input size.
    row = family.VARIANTS[name]._asdict()
    x_from_y = cnn_notes.build("regnet_y_400mf", **row, input_shape=(32, 32, 3))
    assert _weighted(x_from_y) == _weighted(default_model(name))


def _weighted(model):
    return [(layer.name, [tuple(w.shape) for w in layer.weights]) for layer in model.layers if layer.weights]


@pytest.mark.parametrize("name", ["regnet_y_400mf"])
def test_y_is_x_plus_squeeze_and_excitation(name):
    y = default_model(name)
    x = cnn_notes.build(name, se_ratio=None, input_shape=(33, 33, 3))
    # Without the SE layers, Y is the X block model with the same numbers, in the same order.
    assert [entry for entry in _weighted(y) if "_se_" not in entry[0]] == _weighted(x)
    # Each gate squeezes to a quarter of the block's INPUT width (torchvision's "with respect to the beginning
    # of the block"), from and back to the bottleneck width: s2_b1 takes 48 channels, s2_b2 104.
    for block, w_in, w_b in [("s1_b1", 32, 48), ("s2_b1", 48, 104), ("s2_b2", 104, 104), ("s4_b1", 208, 440)]:
        assert y.get_layer(f"{block}_se_reduce").kernel.shape == (1, 1, w_b, round(0.25 * w_in))
        assert y.get_layer(f"{block}_se_expand").kernel.shape == (1, 1, round(0.25 * w_in), w_b)
    extra = cnn_notes.param_counts(y).trainable - cnn_notes.param_counts(x).trainable
    assert extra == sum(layer.count_params() for layer in y.layers if "_se_" in layer.name)
    # torchvision's padding: every stride-2 layer maps n to ceil(n / 2), so 33 -> 17 -> 9 -> 5 -> 3 -> 2.
    assert [s.shape[0] for s in cnn_notes.stage_shapes(x)] == [33, 17, 9, 5, 3, 2]
    assert isinstance(x.get_layer("s1_b1_b_pad"), keras.layers.ZeroPadding2D)
    assert x.get_layer("s1_b1_b_pad").padding == ((1, 1), (1, 1)) and x.get_layer("s1_b1_b_conv").padding == "valid"
    # torchvision's BatchNorm2d(eps=1e-5, momentum=0.1), in Keras' convention.
    norms = [layer for layer in x.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert {(layer.epsilon, layer.momentum) for layer in norms} == {(1e-5, 0.9)}


BAD_OPTIONS = [
    ("depth", 0), ("depth", 2.5), ("w_0", 20), ("w_0", 0), ("w_a", -1.0), ("w_a", "steep"), ("w_m", 1.0),
    ("w_m", True), ("group_width", 0), ("bottleneck_multiplier", 0), ("se_ratio", 1.5), ("se_ratio", 0.01),
]  # fmt: skip


@pytest.mark.parametrize(("option", "value"), BAD_OPTIONS)
def test_bad_design_numbers_are_refused_before_any_layer(option, value, monkeypatch):
    refused_before_any_layer(family, "regnet_y_400mf", {option: value}, option, monkeypatch)


def test_regnet_stages_refuses_what_torchvision_refuses():
    # torchvision's from_init_params: "Invalid RegNet settings" for w_a < 0, w_0 <= 0, w_m <= 1, w_0 % 8 != 0.
    for bad, argument in [((16, 24, -0.5, 2.5, 8), "w_a"), ((16, 0, 20, 2.5, 8), "w_0"),
                          ((16, 24, 20, 1, 8), "w_m"), ((16, 12, 20, 2.5, 8), "w_0")]:  # fmt: skip
        with pytest.raises(ValueError, match=rf"`{argument}`.*Received: {argument}="):
            family.regnet_stages(*bad)
