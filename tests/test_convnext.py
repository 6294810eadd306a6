"""ConvNeXt: the checks that the generic tests (tests/test_models.py) do not make.

The generic tests compare all five with their keras.applications twins built live (``KERAS_APPLICATIONS``:
parameters, weight shapes, MACs), Tiny to Large with torchvision (``TORCHVISION``: trainable parameters, MACs
within 1%), all five with the paper's Table 1 (``PAPERS``, and ``PAPER_MACS`` in tests/test_mobilenet.py). Here:
the weights in keras' order under keras' names, keras' outputs from keras' weights (through a weights file
saved from the twin), the paper's stage table, the block's parameters and MACs by hand, the options against
keras and the option checks.
"""

import keras
import numpy as np
import pytest
from conftest import default_model, keras_twin, unallocated_build, weighted_layers
from keras.src.applications import convnext as keras_convnext
from test_errors import refused_before_any_layer

import cnn_notes
from cnn_notes.models import convnext as family
from cnn_notes.models.layers import LayerScale, StochasticDepth
from cnn_notes.models.memory import unallocated

NAMES = ["convnext_base", "convnext_large", "convnext_small", "convnext_tiny", "convnext_xlarge"]
SMALL = (32, 32, 3)  # the minimum: every option test builds there (the counts do not depend on the input)


def test_convnext_is_registered():
    assert cnn_notes.list_models("convnext*") == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_weights_in_keras_order_under_keras_names(name):
    # Layer for layer (the stem and the downsampling layers are nested Sequentials, as in keras): every layer
    # with weights has keras' name and shapes, in keras' order, so keras' checkpoints load by order or by name.
    assert weighted_layers(default_model(name)) == weighted_layers(keras_twin(name))


@pytest.mark.parametrize("name", NAMES)
def test_stages_follow_section_3(name):
    # Liu et al. 2022, section 3: the widths C and the depths B of the four stages, as keras' MODEL_CONFIGS.
    variant = family.VARIANTS[name]
    config = keras_convnext.MODEL_CONFIGS[name.removeprefix("convnext_")]
    assert (list(variant.depths), list(variant.widths)) == (config["depths"], config["projection_dims"])
    # ... and in the built model: the blocks of each stage, and the width of each stage's last block.
    model = default_model(name)
    adds = [layer for layer in model.layers if layer.name.endswith("_add")]
    per_stage = [sum(f"_stage_{s}_" in layer.name for layer in adds) for s in range(4)]
    assert tuple(per_stage) == variant.depths
    assert sum(variant.depths) == (18 if name == "convnext_tiny" else 36)
    widths = [layer.output.shape[-1] for layer in adds if layer.name.endswith(f"_block_{0}_add")]
    assert tuple(widths) == variant.widths


@pytest.mark.parametrize("name", ["convnext_tiny"])
def test_tiny_stage_shapes(name):
    # The patchify stem divides the side by 4, each downsampling layer by 2: 56, 28, 14, 7 (Table 9).
    stages = cnn_notes.stage_shapes(default_model(name))
    assert [s.shape for s in stages][2:] == [(56, 56, 96), (28, 28, 192), (14, 14, 384), (7, 7, 768)]
    assert [s.layer for s in stages][2:] == [f"convnext_tiny_stage_{i}_block_{n - 1}_add" for i, n in
                                             enumerate(family.VARIANTS[name].depths)]  # fmt: skip


@pytest.mark.parametrize("name", ["convnext_tiny"])
def test_one_block_by_hand(name):
    # Stage 0's block at width 96: the 7x7 depthwise convolution 49 * 96 + 96, LayerNorm 2 * 96, the two 1x1
    # convolutions 96 * 384 + 384 and 384 * 96 + 96, LayerScale 96.
    model = default_model(name)
    prefix, c = "convnext_tiny_stage_0_block_0", 96
    counts = {suffix: model.get_layer(f"{prefix}_{suffix}").count_params() for suffix in
              ("depthwise_conv", "layernorm", "pointwise_conv_1", "pointwise_conv_2", "layer_scale")}  # fmt: skip
    assert counts == {
        "depthwise_conv": 49 * c + c, "layernorm": 2 * c, "pointwise_conv_1": c * 4 * c + 4 * c,
        "pointwise_conv_2": 4 * c * c + c, "layer_scale": c,
    }  # fmt: skip
    assert model.get_layer(f"{prefix}_depthwise_conv").kernel.shape == (7, 7, 1, c)


def test_macs_count_dense_on_a_map_and_the_grouped_7x7():
    # count_macs counts a Dense layer on an HxWxC map as H*W*C_in*C_out multiply-adds, and the depthwise 7x7
    # (a Conv2D with one group per channel) as H*W*49*C: ConvNeXt's two kinds of layer.
    inputs = keras.Input((8, 8, 4))
    x = keras.layers.Conv2D(4, 7, padding="same", groups=4, name="dw")(inputs)
    x = keras.layers.Dense(16, name="pw")(x)
    model = keras.Model(inputs, x)
    assert cnn_notes.count_macs(model) == 8 * 8 * 49 * 4 + 8 * 8 * 4 * 16


def _seeded(model, seed=0):
    """Sets every weight to seeded random values (LayerScale's 1e-6 too, so that every block counts)."""
    rng = np.random.default_rng(seed)
    model.set_weights([0.05 * rng.standard_normal(w.shape, dtype="float32") for w in model.weights])
    return model


@pytest.mark.parametrize("name", ["convnext_tiny"])
def test_keras_weights_file_gives_keras_outputs(name, tmp_path):
    # keras' ConvNeXtTiny with seeded weights, saved to a weights file and loaded into ours through
    # weights=path: the same logits on a batch of two 64x64 images of pixels in [0, 255] (through both
    # models' Normalization). The file loads only because the layers nest as keras' do.
    options = {"input_shape": (64, 64, 3), "classifier_activation": None}
    twin = _seeded(keras.applications.ConvNeXtTiny(weights=None, **options))
    path = tmp_path / "convnext_tiny.weights.h5"
    twin.save_weights(path)
    ours = cnn_notes.build(name, weights=path, **options)
    images = np.random.default_rng(1).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    # Called eagerly: predict would trace each model into a graph first (seconds).
    np.testing.assert_allclose(ours(images, training=False), twin(images, training=False), rtol=1e-4, atol=1e-4)


def _structure(model):
    return [(type(layer).__name__, layer.name, [tuple(w.shape) for w in layer.weights]) for layer in model.layers]


def test_options_equal_keras():
    # keras' public builders fix drop_path_rate=0 and layer_scale_init_value=1e-6; its ConvNeXt function takes
    # both: stochastic depth in every block (its rate growing from 0 to 0.1) and no LayerScale.
    options = {"drop_path_rate": 0.1, "layer_scale_init_value": None, "include_preprocessing": False}
    with unallocated():  # both compared by their structure only
        reference = keras_convnext.ConvNeXt(
            depths=[3, 3, 9, 3], projection_dims=[96, 192, 384, 768], name="convnext_tiny", weights=None,
            input_shape=SMALL, **options,
        )  # fmt: skip
        ours = cnn_notes.build("convnext_tiny", input_shape=SMALL, **options)
    assert cnn_notes.param_counts(ours) == cnn_notes.param_counts(reference)
    assert cnn_notes.count_macs(ours) == cnn_notes.count_macs(reference)
    # The same layers, but for our named additions (an operation without a layer in keras) and input.
    skip = ("Add", "InputLayer")
    assert [s for s in _structure(ours) if s[0] not in skip] == [s for s in _structure(reference) if s[0] not in skip]
    rates = [layer.drop_path_rate for layer in ours.layers if isinstance(layer, StochasticDepth)]
    assert rates == [layer.drop_path_rate for layer in reference.layers if type(layer).__name__ == "StochasticDepth"]
    # The first block's rate is 0: it keeps keras' linear Activation instead (``_identity``).
    assert len(rates) == 17 and rates[-1] == pytest.approx(0.1)
    assert ours.get_layer("convnext_tiny_stage_0_block_0_identity").activation is keras.activations.linear
    # Without preprocessing the model starts at the stem; the default starts with keras' Normalization.
    assert ours.layers[1].name == "convnext_tiny_stem"
    assert not any(isinstance(layer, LayerScale) for layer in ours.layers)


def test_preprocessing_is_keras_normalization():
    ours = cnn_notes.build("convnext_tiny", input_shape=SMALL, classifier_activation=None)
    reference = keras.applications.ConvNeXtTiny(weights=None, input_shape=SMALL, classifier_activation=None)
    assert _structure(ours)[1] == ("Normalization", "convnext_tiny_prestem_normalization", [])
    pixels = np.random.default_rng(2).uniform(0, 255, (1, *SMALL)).astype("float32")
    normalize = [keras.Model(m.input, m.layers[1].output) for m in (ours, reference)]
    np.testing.assert_allclose(normalize[0](pixels), normalize[1](pixels), rtol=1e-6, atol=1e-6)
    # keras normalises only 3-channel inputs.
    gray = unallocated_build("convnext_tiny", input_shape=(32, 32, 1))
    assert gray.layers[1].name == "convnext_tiny_stem"


def test_stochastic_depth_drops_whole_samples_while_training():
    layer = StochasticDepth(0.5)
    x = np.ones((64, 2, 2, 3), "float32")
    assert np.array_equal(layer(x), x) and np.array_equal(layer(x, training=False), x)
    kept = np.asarray(layer(x, training=True)).reshape(64, -1)
    # Each sample is kept whole (scaled by 1 / 0.5) or dropped whole.
    assert set(np.unique(kept)) <= {0.0, 2.0} and all(len(set(row)) == 1 for row in kept)
    assert 0 < (kept[:, 0] == 2.0).sum() < 64


BAD_OPTIONS = [
    ("convnext_tiny", {"drop_path_rate": 1.0}, "drop_path_rate"),
    ("convnext_tiny", {"drop_path_rate": -0.1}, "drop_path_rate"),
    ("convnext_small", {"drop_path_rate": "0.1"}, "drop_path_rate"),
    ("convnext_tiny", {"layer_scale_init_value": -1e-6}, "layer_scale_init_value"),
    ("convnext_base", {"layer_scale_init_value": True}, "layer_scale_init_value"),
    ("convnext_tiny", {"layer_scale_init_value": "1e-6"}, "layer_scale_init_value"),
    ("convnext_large", {"include_preprocessing": 1}, "include_preprocessing"),
    ("convnext_xlarge", {"include_preprocessing": "yes"}, "include_preprocessing"),
]


@pytest.mark.parametrize(("name", "options", "argument"), BAD_OPTIONS)
def test_bad_options_are_refused_before_any_layer(name, options, argument, monkeypatch):
    refused_before_any_layer(family, name, options, argument, monkeypatch)
