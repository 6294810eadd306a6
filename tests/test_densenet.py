"""DenseNet-specific checks: DenseNet-161's growth rate and stem, and the post's DenseNet as it is written.

The checks every model gets (counts against keras.applications, shapes, pooling, arguments, summaries)
live in the shared tests; these cover what only this family has.
"""

import functools

import pytest
from conftest import unallocated_build
from keras import layers

import cnn_notes
import cnn_notes.models.densenet
from cnn_notes.references import POST, TORCHVISION


@functools.cache
def build(name, **kwargs):
    return unallocated_build(name, **kwargs)


def kernel_shape(model, name):
    return tuple(model.get_layer(name).kernel.shape)


def channels(model, name):
    return model.get_layer(name).output.shape[-1]


def test_densenet161_stem_is_twice_the_growth_rate():
    model = build("densenet161")
    # torchvision: features.conv0 = Conv2d(3, 96, 7), denselayer.conv1 = 4k = 192, conv2 = k = 48.
    assert kernel_shape(model, "conv1_conv") == (7, 7, 3, 96)
    assert kernel_shape(model, "conv2_block1_1_conv") == (1, 1, 96, 192)
    assert kernel_shape(model, "conv2_block1_2_conv") == (3, 3, 192, 48)


def test_densenet161_channel_arithmetic_matches_torchvision():
    model = build("densenet161")
    # Each dense layer adds k = 48 channels; each transition halves them.
    assert channels(model, "conv2_block6_concat") == 96 + 6 * 48 == 384
    assert channels(model, "pool2_pool") == 192
    assert channels(model, "conv3_block12_concat") == 192 + 12 * 48 == 768
    assert channels(model, "conv4_block36_concat") == 384 + 36 * 48 == 2112
    # torchvision's classifier = Linear(2208, 1000).
    assert kernel_shape(model, "predictions") == (2208, 1000)


def test_densenet161_trainable_and_macs_match_torchvision():
    model = build("densenet161")
    reference = TORCHVISION["densenet161"]
    assert cnn_notes.param_counts(model).trainable == reference.num_params == 28_681_000
    assert cnn_notes.count_macs(model) / 1e9 == pytest.approx(reference.gmacs, rel=0.01)


def test_densenet161_min_size_is_the_architectures_own():
    # keras' 32 is a rule of its own; DenseNet-161 builds down to a 1x1 map at 29.
    model = unallocated_build("densenet161", input_shape=(29, 29, 3), include_top=False)
    assert tuple(model.output.shape[1:]) == (1, 1, 2208)
    with pytest.raises(ValueError, match="at least 29x29"):
        cnn_notes.build("densenet161", input_shape=(28, 28, 3))


def test_custom_densenet_matches_the_post_totals():
    counts = cnn_notes.param_counts(build("custom_densenet"))
    assert (counts.total, counts.non_trainable) == POST["custom_densenet"] == (2_065_686, 880)


@pytest.mark.parametrize("block, filters", [(1, 8), (2, 16), (3, 32), (4, 64), (5, 128)])
def test_custom_densenet_dense_layer_quirks(block, filters):
    model = build("custom_densenet")
    block_input = model.get_layer(f"block{block}_conv1").input
    # The first two convolutions both read the block input.
    assert model.get_layer(f"block{block}_conv2").input is block_input
    # Later convolutions read only the previous convolutions: the block input is never concatenated.
    for i in (3, 4, 5):
        concat = model.get_layer(f"block{block}_concat{i}")
        outputs = [model.get_layer(f"block{block}_conv{j}").output for j in range(1, i)]
        assert len(concat.input) == i - 1
        assert all(a is b for a, b in zip(concat.input, outputs))
        assert concat.output.shape[-1] == (i - 1) * filters
    # The block returns the last convolution alone, not a concatenation.
    dropout = model.get_layer(f"block{block}_dropout")
    assert dropout.input is model.get_layer(f"block{block}_conv5").output
    assert dropout.output.shape[1:] == (32, 32, filters)
    assert dropout.rate == 0.8


def test_custom_densenet_tail():
    model = build("custom_densenet")
    assert not any(isinstance(layer, layers.AveragePooling2D) for layer in model.layers)  # no transitions
    assert tuple(model.get_layer("tail_conv").output.shape[1:]) == (16, 16, 96)
    assert tuple(model.get_layer("flatten").output.shape[1:]) == (8 * 8 * 96,)
    assert model.get_layer("top_dropout").rate == 0.4
    assert kernel_shape(model, "predictions") == (6144, 14)
