"""MobileNet v1, v2, v3: the checks that the generic tests (tests/test_models.py) do not make.

The generic tests compare all four with their keras.applications twins built live (``KERAS_APPLICATIONS``, and
``KERAS_APPLICATIONS_SIZED`` for MobileNetV3, built at 224x224 since keras' default input has no size) and all
but v1 with torchvision (``TORCHVISION``: trainable parameters, MACs within 1%). Here: the weights in keras'
order, the family options against keras, the paper's stage shapes and the option checks (the papers'
multiply-adds, ``PAPER_MACS``, are checked by tests/test_models.py).
"""

import keras
import numpy as np
import pytest
from conftest import computing_pair, default_model, keras_twin, weighted_layers
from test_errors import refused_before_any_layer

import cnn_notes
from cnn_notes.models import mobilenet as family
from cnn_notes.models.memory import unallocated

NAMES = ["mobilenet", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"]


def test_mobilenet_is_registered():
    assert cnn_notes.list_models("mobilenet*") == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_weights_in_keras_order_under_keras_names(name):
    # Layer for layer: every layer with weights has keras' name and shapes, in keras' order, so keras'
    # checkpoints load by order or by name.
    assert weighted_layers(default_model(name)) == weighted_layers(keras_twin(name))


@pytest.mark.parametrize("name", ["mobilenet_v3_small"])
def test_v3_computes_what_keras_computes(name):
    # keras' hard-sigmoid is ReLU(6)(x + 3) / 6 in three operations, ours keras' hard_sigmoid activation: with
    # keras' weights, the same outputs (pixels in [0, 255], through the Rescaling layer).
    ours, reference = computing_pair(name)
    images = np.random.default_rng(0).uniform(0, 255, (2, 224, 224, 3)).astype("float32")
    # Logits, before the softmax: a random network's probabilities are all about 1/1000.
    logits = [keras.Model(m.input, m.get_layer("logits").output)(images) for m in (ours, reference)]
    np.testing.assert_allclose(*logits, rtol=1e-5, atol=1e-5)


# The options, each against keras with the same options, at a small input (the counts do not depend on it):
# v1 thinner and with two depthwise filters per channel, v2 wider than 1 (its last convolution widens too),
# v3 minimalistic and thinner, v3 without dropout and preprocessing.
OPTIONS = [
    ("mobilenet", "MobileNet", {"alpha": 0.5, "depth_multiplier": 2}),
    ("mobilenet_v2", "MobileNetV2", {"alpha": 1.4}),
    ("mobilenet_v3_small", "MobileNetV3Small", {"alpha": 0.75, "minimalistic": True}),
    ("mobilenet_v3_large", "MobileNetV3Large", {"dropout": 0.0, "include_preprocessing": False}),
]


@pytest.mark.parametrize(("name", "attribute", "options"), OPTIONS)
def test_options_equal_keras(name, attribute, options):
    keras_options = {("dropout_rate" if k == "dropout" and "V3" in attribute else k): v for k, v in options.items()}
    with unallocated():  # both compared by their structure only
        reference = getattr(keras.applications, attribute)(weights=None, input_shape=(96, 96, 3), **keras_options)
        ours = cnn_notes.build(name, input_shape=(96, 96, 3), **options)
    assert cnn_notes.param_counts(ours) == cnn_notes.param_counts(reference)
    assert weighted_layers(ours) == weighted_layers(reference)
    assert cnn_notes.count_macs(ours) == cnn_notes.count_macs(reference)
    assert [type(layer).__name__ for layer in ours.layers if layer.weights] == [
        type(layer).__name__ for layer in reference.layers if layer.weights
    ]


@pytest.mark.parametrize("name", ["mobilenet"])
def test_v1_stages_follow_table_1(name):
    # Howard et al. 2017, Table 1: 112x112x32 after the stem, then 64, 128 at 56, 256 at 28, 512 at 14, 1024 at 7.
    stages = cnn_notes.stage_shapes(default_model(name))
    assert [s.shape for s in stages][:6] == [
        (224, 224, 3), (112, 112, 64), (56, 56, 128), (28, 28, 256), (14, 14, 512), (7, 7, 1024),
    ]  # fmt: skip
    assert default_model(name).get_layer("conv1").output.shape[1:] == (112, 112, 32)


def test_v2_table_2_has_17_blocks_and_10_shortcuts():
    # Sandler et al. 2018, Table 2: n = 1, 2, 3, 4, 3, 3, 1 blocks; a shortcut wherever stride 1 keeps the width.
    assert sum(n for _, _, n, _ in family.V2_STAGES) == 17
    shortcuts = sum(n - 1 for _, _, n, _ in family.V2_STAGES)
    assert shortcuts == 10


def test_rounding_to_multiples_of_eight():
    assert family.make_divisible(32 * 0.35) == 16  # 11.2 rounds to 8, 29% below: bumped to 16
    assert family.make_divisible(1280 * 1.4) == 1792
    assert family.make_divisible(16 * 0.75) == 16  # 12 is halfway: rounds up


BAD_OPTIONS = [
    ("mobilenet", {"alpha": 0}, "alpha"),
    ("mobilenet", {"alpha": True}, "alpha"),
    ("mobilenet", {"alpha": "1.0"}, "alpha"),
    ("mobilenet", {"depth_multiplier": 1.5}, "depth_multiplier"),
    ("mobilenet", {"depth_multiplier": 0}, "depth_multiplier"),
    ("mobilenet", {"dropout": 1.0}, "dropout"),
    ("mobilenet_v2", {"alpha": -1.0}, "alpha"),
    ("mobilenet_v3_small", {"minimalistic": "yes"}, "minimalistic"),
    ("mobilenet_v3_small", {"include_preprocessing": 1}, "include_preprocessing"),
    ("mobilenet_v3_large", {"dropout": -0.1}, "dropout"),
    ("mobilenet_v3_large", {"alpha": None}, "alpha"),
]


@pytest.mark.parametrize(("name", "options", "argument"), BAD_OPTIONS)
def test_bad_options_are_refused_before_any_layer(name, options, argument, monkeypatch):
    refused_before_any_layer(family, name, options, argument, monkeypatch)
