"""LeNet-5 and Network in Network: the checks that the generic tests do not make.

The generic tests (tests/test_models.py, tests/test_errors.py, tests/test_book.py) cover both models through
``cnn_notes.list_models()``: heads, ``min_size``, layer names, bad common arguments, the chapter. No library
ships either model and neither paper states the count of these versions (cnn_notes/references.py says why), so
here the counts are checked by arithmetic, layer by layer, with the shapes per stage, the MACs, the reference
table's units and the family options.
"""

import pytest
from conftest import default_model
from test_errors import refused_before_any_layer

import cnn_notes
from cnn_notes.models import lenet as family


def conv(k, c_in, c_out):
    return k * k * c_in * c_out + c_out


def dense(n_in, n_out):
    return n_in * n_out + n_out


# LeNet-5 at 32x32x1 with 10 classes: C1, C3 (full connections), C5, F6, the output.
LENET5_LAYERS = {"c1": conv(5, 1, 6), "c3": conv(5, 6, 16), "c5": conv(5, 16, 120), "f6": dense(120, 84),
                 "predictions": dense(84, 10)}  # fmt: skip


def nin_layers(channels=3, classes=1000):
    widths = [(f"block{b}", k, w) for b, (w, k, _) in enumerate(family.NIN_BLOCKS, start=1)] + [("block4", 3, classes)]
    counts, c_in = {}, channels
    for block, k, width in widths:
        counts[f"{block}_conv"] = conv(k, c_in, width)
        counts[f"{block}_mlp1"] = conv(1, width, width)
        counts[f"{block}_mlp2"] = conv(1, width, width)
        c_in = width
    return counts


def _layer_counts(model):
    return {layer.name: layer.count_params() for layer in model.layers if layer.weights}


def test_lenet_is_registered():
    assert cnn_notes.list_models("lenet*") == ["lenet5"]
    assert "nin" in cnn_notes.list_models()


@pytest.mark.parametrize("name", ["lenet5"])
def test_lenet5_counts_61706_by_arithmetic(name):
    model = default_model(name)
    assert LENET5_LAYERS == {"c1": 156, "c3": 2_416, "c5": 48_120, "f6": 10_164, "predictions": 850}
    assert _layer_counts(model) == LENET5_LAYERS
    counts = cnn_notes.param_counts(model)
    assert counts.total == counts.trainable == sum(LENET5_LAYERS.values()) == 61_706
    # The paper's sparse C3 (LeCun et al. 1998, Table I): 6 maps see 3 of S2's maps, 9 see 4, 1 sees all 6.
    assert 6 * (3 * 25 + 1) + 9 * (4 * 25 + 1) + (6 * 25 + 1) == 1_516


@pytest.mark.parametrize("name", ["lenet5"])
def test_lenet5_shapes_per_stage(name):
    model = default_model(name)
    assert model.input.shape == (None, 32, 32, 1)
    assert [(s.layer, s.shape) for s in cnn_notes.stage_shapes(model)] == [
        ("input", (32, 32, 1)), ("c1", (28, 28, 6)), ("s2", (14, 14, 6)), ("c3", (10, 10, 16)), ("s4", (5, 5, 16)),
        ("c5", (1, 1, 120)),
    ]  # fmt: skip
    assert model.get_layer("f6").output.shape == (None, 84)
    assert model.output.shape == (None, 10)


@pytest.mark.parametrize("name", ["lenet5"])
def test_lenet5_macs(name):
    # One multiply-add per weight (not bias) per output position: 117,600 + 240,000 + 48,000 + 10,080 + 840.
    macs = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 6 * 25 + 120 * 400 + 120 * 84 + 84 * 10
    assert macs == 416_520
    assert cnn_notes.count_macs(default_model(name)) == macs


@pytest.mark.parametrize("name", ["nin"])
def test_nin_counts_by_arithmetic(name):
    model = default_model(name)
    expected = nin_layers()
    assert _layer_counts(model) == expected
    assert cnn_notes.param_counts(model).total == cnn_notes.param_counts(model).trainable == sum(expected.values())
    assert sum(expected.values()) == 7_439_608
    # No dense layer: every weight is a convolution's.
    assert {type(layer).__name__ for layer in model.layers if layer.weights} == {"Conv2D"}


@pytest.mark.parametrize("name", ["nin"])
def test_nin_shapes_per_stage_and_macs(name):
    model = default_model(name)
    stages = [(s.layer, s.shape) for s in cnn_notes.stage_shapes(model)]
    assert stages == [
        ("input", (224, 224, 3)), ("block1_mlp2", (54, 54, 96)), ("block2_mlp2", (26, 26, 256)),
        ("block3_mlp2", (12, 12, 384)), ("block4_mlp2", (5, 5, 1000)),
    ]  # fmt: skip
    sizes = {"block1": 54, "block2": 26, "block3": 12, "block4": 5}
    counts = nin_layers()
    macs = sum((counts[n] - model.get_layer(n).filters) * sizes[n.split("_")[0]] ** 2 for n in counts)
    assert cnn_notes.count_macs(model) == macs


def test_nin_d2l_fashion_mnist_configuration():
    # d2l's NiN: 224x224x1, 10 classes.
    model = cnn_notes.build("nin", input_shape=(224, 224, 1), classes=10)
    assert cnn_notes.param_counts(model).total == sum(nin_layers(channels=1, classes=10).values())


def test_reference_table_switches_to_mmacs(capsys):
    # LeNet-5's 0.000417 GMACs would print 0.000: the column switches to MMACs for the whole table.
    cnn_notes.reference_table(["lenet5"])
    out = capsys.readouterr().out
    assert "MMACs" in out and "GMACs" not in out
    assert "0.417" in out and "61,706" in out


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_lenet5_activation_keeps_the_count(activation):
    model = cnn_notes.build("lenet5", activation=activation)
    assert cnn_notes.param_counts(model).total == 61_706
    assert model.get_layer("c1").activation.__name__ == activation


BAD_OPTIONS = [
    ("lenet5", {"activation": "swish"}, "activation"),
    ("lenet5", {"activation": None}, "activation"),
    ("nin", {"dropout": 1.0}, "dropout"),
    ("nin", {"dropout": "0.5"}, "dropout"),
]


@pytest.mark.parametrize(("name", "options", "argument"), BAD_OPTIONS)
def test_bad_options_are_refused_before_any_layer(name, options, argument, monkeypatch):
    refused_before_any_layer(family, name, options, argument, monkeypatch)
