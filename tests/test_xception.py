"""Xception-specific checks: the paper's parameter count, the named shortcuts, the middle-flow loop, and
the post's "Xception Net" as it is written.

The checks every model gets (counts against keras.applications, shapes, pooling, arguments, summaries)
live in the shared tests; these cover what only this family has.
"""

import functools

import pytest
from conftest import unallocated_build
from keras import layers

import cnn_notes
import cnn_notes.models.xception
from cnn_notes.references import POST

PAPER_TRAINABLE = 22_855_952  # Chollet 2016, Table 3 (size and training speed)


@functools.cache
def build(name):
    return unallocated_build(name)


def bn_channels(model):
    return sum(layer.gamma.shape[0] for layer in model.layers if isinstance(layer, layers.BatchNormalization))


def test_xception_trainable_is_the_papers_count():
    counts = cnn_notes.param_counts(build("xception"))
    assert counts.trainable == PAPER_TRAINABLE
    # The rest is BatchNorm's moving mean and variance, which the paper does not count.
    assert counts.non_trainable == 2 * bn_channels(build("xception")) == 54_528


def test_xception_macs_at_299():
    assert cnn_notes.count_macs(build("xception")) / 1e9 == pytest.approx(8.357, abs=5e-4)


@pytest.mark.parametrize(
    "block, in_channels, out_channels, size",
    [(2, 64, 128, 74), (3, 128, 256, 37), (4, 256, 728, 19), (13, 728, 1024, 10)],
)
def test_xception_named_shortcuts(block, in_channels, out_channels, size):
    model = build("xception")
    conv = model.get_layer(f"block{block}_residual_conv")
    assert tuple(conv.kernel.shape) == (1, 1, in_channels, out_channels)
    assert conv.strides == (2, 2)
    add = model.get_layer(f"block{block}_add")
    assert add.input[0] is model.get_layer(f"block{block}_pool").output
    assert add.input[1] is model.get_layer(f"block{block}_residual_bn").output
    assert tuple(add.output.shape[1:]) == (size, size, out_channels)


def test_xception_middle_flow_is_eight_identity_blocks():
    model = build("xception")
    previous = model.get_layer("block4_add").output
    for block in range(5, 13):
        add = model.get_layer(f"block{block}_add")
        assert add.input[0] is model.get_layer(f"block{block}_sepconv3_bn").output
        assert add.input[1] is previous  # identity shortcut
        assert tuple(add.output.shape[1:]) == (19, 19, 728)
        previous = add.output
    assert model.get_layer("block13_sepconv1_act").input is previous


def test_custom_xception_matches_the_post_totals():
    counts = cnn_notes.param_counts(build("custom_xception"))
    assert (counts.total, counts.non_trainable) == POST["custom_xception"] == (4_456_548, 1_984)


def test_custom_xception_batchnorms_run_on_the_other_branch():
    model = build("custom_xception")
    # Block 1: x1 = DepthwiseConv2D(x), but the BatchNorm reads x, the same tensor, not the conv's output.
    assert model.get_layer("block1_x_bn1").input is model.get_layer("block1_x1_dwconv1").input
    assert model.get_layer("block1_x_bn2").input is model.get_layer("block1_x_dropout1").output
    # No BatchNorm ever reads a depthwise convolution; the 2x2 conv reads the stacked BN+Dropout of x.
    depthwise = [layer for layer in model.layers if isinstance(layer, layers.DepthwiseConv2D)]
    assert len(depthwise) == 4
    bn_inputs = [layer.input for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    assert not any(t is d.output for t in bn_inputs for d in depthwise)
    assert model.get_layer("block2_x_conv").input is model.get_layer("block2_x_dropout3").output
    # Block 2's x is block 1's raw concatenation; only x1 goes through the ReLU.
    assert model.get_layer("block2_x_bn1").input is model.get_layer("block1_concat").output


def test_custom_xception_has_no_separable_conv_and_no_addition():
    model = build("custom_xception")
    assert not any(isinstance(layer, (layers.SeparableConv2D, layers.Add)) for layer in model.layers)
    # Each depthwise conv feeds another depthwise conv or the pool, never a 1x1 pointwise conv.
    assert model.get_layer("block1_x1_dwconv2").input is model.get_layer("block1_x1_dwconv1").output
    assert model.get_layer("block1_x1_pool").input is model.get_layer("block1_x1_dwconv2").output
    assert model.get_layer("block2_x1_pool").input is model.get_layer("block2_x1_dwconv3").output
    assert model.get_layer("block2_x1_dwconv3").get_config()["activation"] == "linear"


def test_custom_xception_map_shrinks_one_pixel_per_block():
    model = build("custom_xception")
    shapes = {name: tuple(model.get_layer(name).output.shape[1:]) for name in
              ("stem_dropout2", "block1_x1_pool", "block1_x_conv", "block1_concat", "block2_concat")}
    assert shapes == {
        "stem_dropout2": (16, 16, 64),
        "block1_x1_pool": (15, 15, 64),
        "block1_x_conv": (15, 15, 64),
        "block1_concat": (15, 15, 128),  # [x1, x]
        "block2_concat": (14, 14, 512),
    }
    assert tuple(model.get_layer("predictions").kernel.shape) == (14 * 14 * 128, 100)
