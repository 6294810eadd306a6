"""EfficientNet's own arithmetic: channel and depth rounding, B0's Table 1, SE widths, drop-connect, padding."""

import functools

import keras
import numpy as np
import pytest
from conftest import unallocated_build
from keras.src.applications import imagenet_utils

import cnn_notes
from cnn_notes.models import efficientnet
from cnn_notes.models.efficientnet import DEFAULT_BLOCKS_ARGS, SCALINGS, correct_pad, round_filters, round_repeats


@functools.cache
def b0(**options):
    return cnn_notes.build("efficientnet_b0", **options)


def _stages(width, depth):
    """(stem, per-stage (channels, blocks), head) after scaling B0's table."""
    stages = [(round_filters(r.filters_out, width), round_repeats(r.repeats, depth)) for r in DEFAULT_BLOCKS_ARGS]
    return round_filters(32, width), stages, round_filters(1280, width)


def test_b0_table_is_the_papers_table_1():
    # Tan & Le 2019, Table 1: stem 32; MBConv1 k3 16 x1, MBConv6 k3 24 x2, k5 40 x2, k3 80 x3, k5 112 x3,
    # k5 192 x4, k3 320 x1; 1x1 conv 1280.
    stem, stages, head = _stages(1.0, 1.0)
    assert stem == 32 and head == 1280
    assert stages == [(16, 1), (24, 2), (40, 2), (80, 3), (112, 3), (192, 4), (320, 1)]
    assert [r.kernel_size for r in DEFAULT_BLOCKS_ARGS] == [3, 3, 5, 3, 5, 5, 3]
    assert [r.expand_ratio for r in DEFAULT_BLOCKS_ARGS] == [1, 6, 6, 6, 6, 6, 6]


def test_scaled_widths_and_depths_of_b2_and_b7():
    # keras' and torchvision's B2 and B7 (their layer shapes): widths round to multiples of 8, depths round up.
    stem, stages, head = _stages(SCALINGS["efficientnet_b2"].width, SCALINGS["efficientnet_b2"].depth)
    assert stem == 32  # 32 * 1.1 = 35.2 rounds down to 32, within the 10% that rounding may lose
    assert stages == [(16, 2), (24, 3), (48, 3), (88, 4), (120, 4), (208, 5), (352, 2)]
    assert head == 1408
    stem, stages, head = _stages(SCALINGS["efficientnet_b7"].width, SCALINGS["efficientnet_b7"].depth)
    assert stem == 64 and head == 2560
    assert stages == [(32, 4), (48, 7), (80, 7), (160, 10), (224, 10), (384, 13), (640, 4)]
    assert sum(blocks for _, blocks in stages) == 55


def test_rounding_never_loses_more_than_ten_percent():
    # Nearest multiple of 8 of 11 is 8, 27% below: the rule bumps it to 16.
    assert round_filters(11, 1.0) == 16
    assert round_filters(3, 1.0) == 8  # never below the divisor
    assert round_repeats(1, 1.1) == 2  # a stage of one block gains a block as soon as depth > 1


def test_b0_feature_maps_follow_table_1():
    # Tan & Le 2019, Table 1: resolution and channels at the end of each stage, from a 224x224 input.
    expected = {
        "stem_activation": (112, 112, 32),
        "block1a_project_bn": (112, 112, 16),
        "block2b_add": (56, 56, 24),
        "block3b_add": (28, 28, 40),
        "block4c_add": (14, 14, 80),
        "block5c_add": (14, 14, 112),
        "block6d_add": (7, 7, 192),
        "block7a_project_bn": (7, 7, 320),
        "top_activation": (7, 7, 1280),
    }
    model = b0()
    assert {name: tuple(model.get_layer(name).output.shape[1:]) for name in expected} == expected
    blocks = sorted({layer.name.split("_")[0] for layer in model.layers if layer.name.startswith("block")})
    assert len(blocks) == 16


def test_squeeze_excite_width_is_a_quarter_of_the_block_input():
    # se_ratio 0.25 applies to the block's input channels, not to the expanded ones (keras, torchvision,
    # the TF reference): block2a expands 16 -> 96 but squeezes to 16 // 4 = 4.
    model = b0()
    assert model.get_layer("block1a_se_reduce").kernel.shape == (1, 1, 32, 8)
    assert model.get_layer("block2a_se_reduce").kernel.shape == (1, 1, 96, 4)
    assert model.get_layer("block6a_se_expand").kernel.shape == (1, 1, 28, 672)


def test_drop_connect_grows_linearly_over_the_blocks():
    # Block b of 16 drops its residual branch with rate 0.2 * b / 16; only blocks with a shortcut have one.
    rates = {layer.name: layer.rate for layer in b0().layers if layer.name.endswith("_drop")}
    assert rates == pytest.approx(
        {
            "block2b_drop": 0.2 * 2 / 16,
            "block3b_drop": 0.2 * 4 / 16,
            "block4b_drop": 0.2 * 6 / 16,
            "block4c_drop": 0.2 * 7 / 16,
            "block5b_drop": 0.2 * 9 / 16,
            "block5c_drop": 0.2 * 10 / 16,
            "block6b_drop": 0.2 * 12 / 16,
            "block6c_drop": 0.2 * 13 / 16,
            "block6d_drop": 0.2 * 14 / 16,
        }
    )
    without = b0(drop_connect_rate=0.0)
    assert not [layer.name for layer in without.layers if layer.name.endswith("_drop")]
    assert cnn_notes.param_counts(without) == cnn_notes.param_counts(b0())


def test_preprocessing_is_keras_weights_none_version():
    # keras with weights=None: Rescaling(1/255) and an unadapted Normalization (mean 0, variance 1, 7
    # non-trainable weights); the extra Rescaling(1/sqrt(std)) comes only with its ImageNet weights.
    model = b0()
    front = keras.Model(model.input, model.get_layer("stem_conv_pad").input)
    pixels = np.random.default_rng(0).uniform(0, 255, size=(1, 224, 224, 3)).astype("float32")
    np.testing.assert_allclose(front(pixels), pixels / 255.0, rtol=1e-5, atol=1e-6)
    bare = b0(include_preprocessing=False)
    assert cnn_notes.param_counts(model).non_trainable - cnn_notes.param_counts(bare).non_trainable == 7
    assert bare.layers[1].name == "stem_conv_pad"


@pytest.mark.parametrize("size", [224, 225, None])
@pytest.mark.parametrize("kernel_size", [3, 5])
def test_correct_pad_equals_keras(size, kernel_size):
    x = keras.Input((size, size, 8))
    assert correct_pad(x, kernel_size) == imagenet_utils.correct_pad(x, kernel_size)


def test_b2_macs_match_torchvision_at_its_evaluation_crop():
    # torchvision's 1.088 GMACs for B2 is counted at 288x288, the crop of its ported weights; at the paper's
    # 260 the count is 0.994 (Table 2: 1.0B FLOPs), as keras.applications.EfficientNetB2 gives.
    model = unallocated_build("efficientnet_b2", input_shape=(288, 288, 3))
    assert cnn_notes.count_macs(model) / 1e9 == pytest.approx(1.088, rel=1e-3)


def test_variants_are_table_rows():
    assert sorted(SCALINGS) == cnn_notes.list_models("efficientnet_b*")
    assert [s.resolution for s in SCALINGS.values()] == [224, 240, 260, 300, 380, 456, 528, 600]
    assert efficientnet.MIN_SIZE == 32
