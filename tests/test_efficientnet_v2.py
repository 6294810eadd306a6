"""EfficientNetV2: the checks that the generic tests (tests/test_models.py) do not make.

The generic tests compare all seven models with their keras.applications twins built live (``KERAS_APPLICATIONS``:
parameters, weight shapes, input and output shapes, MACs), S, M and L with torchvision (``TORCHVISION``: trainable
parameters, MACs within 1%), six with the counts of the authors' release (``PAPERS``) and all seven with its FLOPs
(``PAPER_MACS``). Here: the weights in keras' order under keras' names, the outputs with keras' weights, the block
table against keras', the input layers, stochastic depth, the options and their checks.
"""

import keras
import numpy as np
import pytest
from conftest import computing_pair, default_model, keras_twin, weighted_layers
from keras.src.applications import efficientnet_v2 as keras_v2
from test_errors import refused_before_any_layer

import cnn_notes
from cnn_notes.models import efficientnet_v2 as family
from cnn_notes.models.memory import unallocated

NAMES = [f"efficientnet_v2_{v}" for v in ("b0", "b1", "b2", "b3", "l", "m", "s")]


def test_efficientnet_v2_is_registered():
    assert cnn_notes.list_models("efficientnet_v2*") == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_weights_in_keras_order_under_keras_names(name):
    # Layer for layer: every layer with weights has keras' name and shapes, in keras' order, so that keras'
    # checkpoints load (weights="imagenet" copies them tensor by tensor).
    assert weighted_layers(default_model(name)) == weighted_layers(keras_twin(name))


@pytest.mark.parametrize("name", NAMES)
def test_input_layers_and_stochastic_depth_are_keras(name):
    # The weightless layers keras builds too: the same preprocessing constants (B0-B3: EfficientNet's
    # Rescaling and ImageNet's mean and variance; S, M, L: [0, 255] -> [-1, 1]) and the same dropout rates,
    # block by block (keras divides by the blocks of the unscaled table, so B1-B3's last rates exceed 0.2).
    ours, reference = default_model(name), keras_twin(name)

    def inputs(model):
        found = []
        for layer in model.layers:
            if isinstance(layer, keras.layers.Rescaling):
                found.append(("rescaling", [layer.scale, layer.offset]))
            elif isinstance(layer, keras.layers.Normalization):
                found.append(("normalization", [*np.ravel(layer.mean), *np.ravel(layer.variance)]))
        return found

    def dropouts(model):
        return [(layer.name, [layer.rate]) for layer in model.layers if isinstance(layer, keras.layers.Dropout)]

    for ours_rows, their_rows in ((inputs(ours), inputs(reference)), (dropouts(ours), dropouts(reference))):
        assert [row[0] for row in ours_rows] == [row[0] for row in their_rows]
        for (_, a), (_, b) in zip(ours_rows, their_rows):
            np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("name", ["efficientnet_v2_b0"])
def test_outputs_equal_keras_with_keras_weights(name):
    # keras' weights copied in: the same pooled features and probabilities for two images in [0, 255], through
    # the preprocessing layers, all 21 blocks and the classifier.
    ours, reference = computing_pair(name)
    images = np.random.default_rng(0).uniform(0, 255, (2, 224, 224, 3)).astype("float32")
    features = [keras.Model(m.input, m.get_layer("avg_pool").output)(images) for m in (ours, reference)]
    np.testing.assert_allclose(*features, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours(images), reference(images), rtol=1e-5, atol=1e-7)


# keras' block tables, by our model name (keras' conv_type 1 is Fused-MBConv, 0 MBConv).
KERAS_TABLES = {name: name.replace("efficientnet_v2_", "efficientnetv2-") for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_the_block_table_is_keras_and_the_model_follows_it(name):
    variant = family.VARIANTS[name]
    theirs = [
        ("fused" if row["conv_type"] else "mbconv", row["kernel_size"], row["num_repeat"], row["input_filters"],
         row["output_filters"], row["expand_ratio"], row["strides"], row["se_ratio"])
        for row in keras_v2.DEFAULT_BLOCKS_ARGS[KERAS_TABLES[name]]
    ]  # fmt: skip
    assert [tuple(stage) for stage in variant.stages] == theirs
    # Read back from the built model: which stages are Fused-MBConv (no depthwise convolution, no SE), how
    # many blocks each stage has after depth scaling, and which stages hold SE gates.
    model = default_model(name)
    stages = {i: {"blocks": 0, "depthwise": 0, "se": 0} for i in range(1, len(variant.stages) + 1)}
    for layer in model.layers:
        if not layer.name.startswith("block"):
            continue
        counts = stages[int(layer.name[5])]  # block<stage><letter>_...
        counts["blocks"] += layer.name.endswith("_project_conv")
        counts["depthwise"] += isinstance(layer, keras.layers.DepthwiseConv2D)
        counts["se"] += layer.name.endswith("_se_excite")
    for i, stage in enumerate(variant.stages, start=1):
        blocks = family.round_repeats(stage.repeats, variant.depth)
        fused = stage.block == "fused"
        assert stages[i] == {"blocks": blocks, "depthwise": 0 if fused else blocks, "se": 0 if fused else blocks}
    # Fused-MBConv in exactly the first three stages of every variant.
    assert [stage.block for stage in variant.stages][:4] == ["fused", "fused", "fused", "mbconv"]
    assert all(stage.block == "mbconv" for stage in variant.stages[3:])


def test_rounding_to_multiples_of_eight_has_no_ten_percent_rule():
    assert family.round_filters(16, 1.2) == 16  # 19.2: 17% below, kept (EfficientNet's rule gives 24)
    assert cnn_notes.models.efficientnet.round_filters(16, 1.2) == 24
    assert family.round_filters(32, 1.1) == 32 and family.round_filters(1280, 1.2) == 1536
    assert [family.round_repeats(r, 1.1) for r in (1, 2, 2, 3, 5, 8)] == [2, 3, 3, 4, 6, 9]


def test_options_equal_keras():
    # keras' own EfficientNetV2 function takes the rates its public builders fix: without preprocessing,
    # dropout or stochastic depth, at 64x64 (the counts do not depend on the size), the same layers.
    options = {"include_preprocessing": False, "dropout": 0.0, "drop_connect_rate": 0.0}
    with unallocated():  # both compared by their structure only
        ours = cnn_notes.build("efficientnet_v2_b0", input_shape=(64, 64, 3), **options)
        reference = keras_v2.EfficientNetV2(
            1.0, 1.0, 224, dropout_rate=0.0, drop_connect_rate=0.0, name="efficientnetv2-b0", weights=None,
            input_shape=(64, 64, 3), include_preprocessing=False,
        )  # fmt: skip
    assert cnn_notes.param_counts(ours) == cnn_notes.param_counts(reference)
    assert weighted_layers(ours) == weighted_layers(reference)
    assert cnn_notes.count_macs(ours) == cnn_notes.count_macs(reference)
    assert [type(layer).__name__ for layer in ours.layers[1:]] == [type(layer).__name__ for layer in reference.layers[1:]]
    assert not any(isinstance(layer, (keras.layers.Dropout, keras.layers.Rescaling)) for layer in ours.layers)


BAD_OPTIONS = [
    ("efficientnet_v2_b0", {"include_preprocessing": "yes"}, "include_preprocessing"),
    ("efficientnet_v2_b0", {"dropout": 1.0}, "dropout"),
    ("efficientnet_v2_s", {"drop_connect_rate": -0.1}, "drop_connect_rate"),
    # B3's last block gets 31/21 of the rate: 0.7 would give it 1.03, which keras' Dropout refuses.
    ("efficientnet_v2_b3", {"drop_connect_rate": 0.7}, "drop_connect_rate"),
]


@pytest.mark.parametrize(("name", "options", "argument"), BAD_OPTIONS)
def test_bad_options_are_refused_before_any_layer(name, options, argument, monkeypatch):
    refused_before_any_layer(family, name, options, argument, monkeypatch)
