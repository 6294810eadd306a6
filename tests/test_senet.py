"""SENet (SE-ResNet-50): the checks that the generic tests (tests/test_models.py) do not make.

No keras.applications or torchvision twin exists. The generic tests check the count at the paper's rounding
(``PAPERS``: 28.1M, Table 10); here: the exact count of the public implementations (``PAPER_COUNTS``), each
stage's gates against the formula 2 C^2 / r + C / r + C, the paper's multiply-adds and the layout they imply,
the stage shapes of the paper's Table 1, where the SE module sits in the block, the ``reduction`` option and
its checks, and the SE module on its own.
"""

import math

import keras
import numpy as np
import pytest
from conftest import default_model, small_model
from test_errors import refused_before_any_layer

import cnn_notes
from cnn_notes.models import senet as family
from cnn_notes.references import KERAS_RESNET_V1_GMACS, PAPER_COUNTS, PAPER_MACS, TORCHVISION

NAMES = ["se_resnet50"]


def test_senet_is_registered():
    assert cnn_notes.list_models("se_*") == NAMES == sorted(family.VARIANTS)


def _se_layers(model, prefix=""):
    return [layer for layer in model.layers if "_se_" in layer.name and layer.name.startswith(prefix) and layer.weights]


def _gate_params(channels, reduction):
    """One SE gate's parameters: C x C/r + C/r (reduce) and C/r x C + C (expand)."""
    hidden = channels // reduction
    return 2 * channels * hidden + hidden + channels


@pytest.mark.parametrize("name", NAMES)
def test_exact_count_of_the_public_implementations(name):
    counts = cnn_notes.param_counts(default_model(name))
    assert counts.trainable == PAPER_COUNTS[name].params
    # Under the gates, torchvision's ResNet-50 (no convolution bias), weight for weight.
    se_params = sum(layer.count_params() for layer in _se_layers(default_model(name)))
    assert counts.trainable - se_params == TORCHVISION["resnet50"].num_params


@pytest.mark.parametrize("name", NAMES)
def test_gates_of_each_stage_follow_the_formula(name):
    model, variant = default_model(name), family.VARIANTS[name]
    total = 0
    for stage, (filters, blocks) in enumerate(zip(family.FILTERS, variant.depths), start=2):
        channels = 4 * filters
        expected = blocks * _gate_params(channels, variant.reduction)
        gates = _se_layers(model, f"conv{stage}_")
        assert len(gates) == 2 * blocks
        assert sum(layer.count_params() for layer in gates) == expected, stage
        # The paper's Table 1: fc, [C/16, C] in every block of the stage.
        assert {(layer.kernel.shape[-1]) for layer in gates} == {channels // 16, channels}
        total += expected
    assert total == 2_530_992 == PAPER_COUNTS[name].params - TORCHVISION["resnet50"].num_params


@pytest.mark.parametrize("name", NAMES)
def test_macs_match_the_paper_and_its_layout(name):
    model = default_model(name)
    macs = cnn_notes.count_macs(model)
    assert macs / 1e6 == pytest.approx(PAPER_MACS[name].millions, rel=PAPER_MACS[name].rel)
    # Each gate costs its two kernels once per image (1x1 map); the rest is keras' ResNet-50 v1, the stride in
    # the first 1x1 (torchvision's v1.5, the stride in the 3x3, would be 4.089 G, 6% above the paper).
    se_macs = sum(math.prod(layer.kernel.shape) for layer in _se_layers(model))
    assert round((macs - se_macs) / 1e9, 3) == KERAS_RESNET_V1_GMACS["resnet50"]


@pytest.mark.parametrize("name", NAMES)
def test_stages_and_the_place_of_the_gate(name):
    model = default_model(name)
    # The paper's Table 1: 112x112 after the stem, then 256, 512, 1024, 2048 channels at 56, 28, 14, 7.
    assert [s.shape for s in cnn_notes.stage_shapes(model)] == [
        (224, 224, 3), (112, 112, 64), (56, 56, 256), (28, 28, 512), (14, 14, 1024), (7, 7, 2048),
    ]  # fmt: skip
    # Fig. 3: the gate scales the residual branch after its last BatchNorm, before the addition.
    for block in ("conv2_block1", "conv3_block1", "conv5_block3"):
        excite, add = model.get_layer(f"{block}_se_excite"), model.get_layer(f"{block}_add")
        assert excite.input[0] is model.get_layer(f"{block}_3_bn").output
        assert add.input[1] is excite.output


@pytest.mark.parametrize("name", NAMES)
def test_reduction_changes_only_the_gates(name):
    # At the stated minimum size (32x32), against the shared small build (r = 16, 7 classes): r = 8 doubles the
    # hidden units of every gate and leaves every other weight as it is.
    default = small_model(name)
    size = default.input.shape[1]
    wider = cnn_notes.build(
        name, reduction=8, input_shape=(size, size, 3), classes=7, classifier_activation=None
    )
    assert [layer.name for layer in wider.layers] == [layer.name for layer in default.layers]

    def shapes(model, gates):
        return [
            [tuple(w.shape) for w in layer.weights]
            for layer in model.layers
            if layer.weights and ("_se_" in layer.name) == gates
        ]

    assert shapes(wider, gates=False) == shapes(default, gates=False)
    assert shapes(wider, gates=True) != shapes(default, gates=True)
    assert {layer.kernel.shape[-1] for layer in _se_layers(wider, "conv2_") if layer.name.endswith("reduce")} == {32}
    variant = family.VARIANTS[name]
    extra = sum(
        blocks * (_gate_params(4 * filters, 8) - _gate_params(4 * filters, 16))
        for filters, blocks in zip(family.FILTERS, variant.depths)
    )
    assert cnn_notes.param_counts(wider).trainable - cnn_notes.param_counts(default).trainable == extra


BAD_OPTIONS = [0, -16, 257, 1.5, 16.0, True, "16"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("value", BAD_OPTIONS)
def test_bad_reduction_is_refused_before_any_layer(name, value, monkeypatch):
    refused_before_any_layer(family, name, {"reduction": value}, "reduction", monkeypatch)


def test_se_module_squeezes_excites_and_scales():
    # The module alone, on an 8x8x64 map with r = 16: the gate's weights, the output shape, and the output
    # itself, x * sigmoid(W2 relu(W1 mean(x) + b1) + b2), computed in NumPy.
    inputs = keras.Input((8, 8, 64))
    module = keras.Model(inputs, family.squeeze_excite(inputs, 16, name="test"))
    assert [tuple(w.shape) for w in module.weights] == [(64, 4), (4,), (4, 64), (64,)]
    assert module.output.shape[1:] == (8, 8, 64)
    rng = np.random.default_rng(0)
    module.set_weights([rng.normal(size=tuple(w.shape)).astype("float32") for w in module.weights])
    x = rng.normal(size=(2, 8, 8, 64)).astype("float32")
    w1, b1, w2, b2 = module.get_weights()
    gate = 1 / (1 + np.exp(-(np.maximum(x.mean(axis=(1, 2)) @ w1 + b1, 0) @ w2 + b2)))
    np.testing.assert_allclose(module(x), x * gate[:, None, None, :], rtol=1e-5, atol=1e-5)
