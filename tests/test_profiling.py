"""Profiling: what profile() counts equals the analysis helpers and a hand count; what it measures is a sane
timing; compare() tabulates profile(); plot_compare() draws one labelled bubble per model; bad input is refused
before any model is built."""

import math

import matplotlib

matplotlib.use("Agg")

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from keras import layers
from test_errors import raise_clean

import cnn_notes
from cnn_notes import profiling

FAST = dict(batch_sizes=(1, 4), runs=5, warmup=1)
COMPARED = ["custom_vgg", "custom_inception"]


def tiny_model():
    """Conv 3x3 (3->4) + BatchNorm + global pooling + a float16 Dense (4->2), on 8x8x3 images."""
    inputs = layers.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dense(2, dtype="float16", name="dense")(x)
    return keras.Model(inputs, x, name="tiny")


@pytest.fixture(scope="module")
def vgg_profile():
    return cnn_notes.profile("custom_vgg", **FAST)


@pytest.fixture(scope="module")
def compared():
    return cnn_notes.compare(COMPARED, progress=False, input_shape=(32, 32, 3), **FAST)


def test_counts_equal_a_hand_count():
    p = cnn_notes.profile(tiny_model(), batch_sizes=(2,), runs=3, warmup=0)
    conv, bn, dense = 3 * 3 * 3 * 4 + 4, 4 * 4, 4 * 2 + 2  # BatchNorm: gamma, beta (trainable), mean, variance
    assert (p.name, p.input_shape) == ("tiny", (8, 8, 3))
    assert (p.params, p.trainable_params) == (conv + bn + dense, conv + 2 * 4 + dense)
    assert p.macs == 8 * 8 * (3 * 3 * 3 * 4) + 4 * 2
    assert p.depth == 2  # the convolution and the dense layer; BatchNormalization is no weight layer
    assert p.weight_bytes == 4 * (conv + bn) + 2 * dense  # float32 and float16 weights
    assert [t.batch_size for t in p.latency] == [2]


def test_depth_counts_into_nested_models():
    inner = tiny_model()
    inputs = layers.Input((8, 8, 3))
    outer = keras.Model(inputs, layers.Dense(3, name="head")(inner(inputs)), name="outer")
    p = cnn_notes.profile(outer, batch_sizes=(1,), runs=1, warmup=0)
    assert p.depth == 3
    assert p.macs == cnn_notes.count_macs(outer) == cnn_notes.count_macs(inner) + 2 * 3


def test_counts_equal_the_analysis_helpers(vgg_profile):
    model = cnn_notes.build("custom_vgg")
    counts = cnn_notes.param_counts(model)
    assert (vgg_profile.params, vgg_profile.trainable_params) == (counts.total, counts.trainable) == (307_498,) * 2
    assert vgg_profile.macs == cnn_notes.count_macs(model)
    assert vgg_profile.gmacs == vgg_profile.macs / 1e9
    assert vgg_profile.depth == 7  # six 3x3 convolutions and the classifier
    assert vgg_profile.weight_bytes == 4 * counts.total
    assert vgg_profile.input_shape == (32, 32, 3)


def test_depth_of_efficientnet_counts_every_convolution():
    model = cnn_notes.build("efficientnet_b0", input_shape=(32, 32, 3))
    p = cnn_notes.profile(model, batch_sizes=(1,), runs=2, warmup=1)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert p.depth == sum(kinds.count(k) for k in ("Conv2D", "DepthwiseConv2D", "Dense"))
    counts = cnn_notes.param_counts(model)
    assert p.trainable_params == counts.trainable < p.params == counts.total  # BatchNorm statistics
    # float32 weights, but the input Normalization's sample count is one int64: 8 bytes, not 4.
    assert p.weight_bytes == 4 * counts.total + 4


def test_latency_is_positive_finite_and_inside_its_spread(vgg_profile):
    assert [t.batch_size for t in vgg_profile.latency] == [1, 4]
    assert vgg_profile.device.startswith(("CPU", "GPU"))
    for t in vgg_profile.latency:
        values = [t.median_ms, t.q1_ms, t.q3_ms, t.min_ms, t.max_ms]
        assert all(math.isfinite(v) and v > 0 for v in values)
        assert t.min_ms <= t.q1_ms <= t.median_ms <= t.q3_ms <= t.max_ms
        assert t.iqr_ms == t.q3_ms - t.q1_ms >= 0
        assert t.runs == 5


def test_profile_is_frozen(vgg_profile):
    with pytest.raises(AttributeError):
        vgg_profile.params = 0


def test_compare_has_one_row_per_name_with_the_expected_columns(compared):
    latency = [f"latency_{s}ms_b{n}" for n in (1, 4) for s in ("", "iqr_", "min_", "max_")]
    assert list(compared.columns) == [
        "name", "input_shape", "params", "trainable_params", "macs", "gmacs", "depth", "weight_bytes", "device",
        *latency,
    ]  # fmt: skip
    assert compared["name"].tolist() == COMPARED
    assert (compared[latency] > 0).all().all() and np.isfinite(compared[latency].to_numpy()).all()
    for n in (1, 4):
        assert (compared[f"latency_min_ms_b{n}"] <= compared[f"latency_ms_b{n}"]).all()
        assert (compared[f"latency_ms_b{n}"] <= compared[f"latency_max_ms_b{n}"]).all()


@pytest.mark.parametrize("row", range(len(COMPARED)))
def test_compare_equals_profile(compared, row):
    name = COMPARED[row]
    expected = cnn_notes.profile(name, input_shape=(32, 32, 3), batch_sizes=(1,), runs=1, warmup=0).as_row()
    counted = ["name", "input_shape", "params", "trainable_params", "macs", "gmacs", "depth", "weight_bytes"]
    assert compared.loc[row, counted].to_dict() == {k: expected[k] for k in counted}


def test_compare_prints_nothing_without_progress(capsys):
    cnn_notes.compare(["custom_vgg"], progress=False, batch_sizes=(1,), runs=1, warmup=0)
    assert capsys.readouterr() == ("", "")


def test_compare_shows_a_progress_bar(capsys):
    cnn_notes.compare(["custom_vgg"], batch_sizes=(1,), runs=1, warmup=0)
    assert "1/1" in capsys.readouterr().out


def test_plot_compare_draws_one_labelled_point_per_row(compared):
    open_before = plt.get_fignums()
    fig = cnn_notes.plot_compare(compared)
    ax = fig.axes[0]
    assert len(ax.collections) == 1 and len(ax.collections[0].get_offsets()) == len(compared)
    assert [t.get_text() for t in ax.texts] == COMPARED
    np.testing.assert_allclose(ax.collections[0].get_offsets(), compared[["gmacs", "latency_ms_b1"]].to_numpy())
    sizes = ax.collections[0].get_sizes()
    assert (sizes[0] < sizes[1]) == (compared["params"][0] < compared["params"][1])  # bubble area follows params
    assert "GMACs" in ax.get_xlabel() and "batch 1" in ax.get_ylabel()
    assert plt.get_fignums() == open_before  # closed: a notebook shows it once


def test_plot_compare_uses_log_axes_across_a_decade():
    frame = pd.DataFrame({"name": ["a", "b", "c"], "gmacs": [0.1, 2.0, 20.0], "latency_ms_b1": [3.0, 4.0, 9.0],
                          "params": [1e5, 1e6, 1e7]})  # fmt: skip
    ax = cnn_notes.plot_compare(frame, size=None).axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "linear")
    assert [t.get_text() for t in ax.texts] == ["a", "b", "c"]


def test_plot_compare_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    frame = pd.DataFrame({"name": ["a"], "gmacs": [1.0], "latency_ms_b1": [2.0], "params": [3]})
    assert cnn_notes.plot_compare(frame, ax=ax) is fig
    assert plt.fignum_exists(fig.number)  # the caller's figure stays open
    plt.close(fig)


# Bad input: refused before any model is built.


@pytest.fixture
def nothing_built(monkeypatch):
    monkeypatch.setattr(profiling, "build", lambda *args, **kwargs: pytest.fail("a model was built"))


@pytest.mark.parametrize(
    "kwargs, received",
    [
        (dict(batch_sizes=()), "batch_sizes=()"),
        (dict(batch_sizes=[]), "batch_sizes=[]"),
        (dict(batch_sizes=(1, 0)), "batch_sizes=(1, 0)"),
        (dict(batch_sizes=(-4,)), "batch_sizes=(-4,)"),
        (dict(batch_sizes=(1, 2.0)), "batch_sizes=(1, 2.0)"),
        (dict(batch_sizes=(True,)), "batch_sizes=(True,)"),
        (dict(batch_sizes=32), "batch_sizes=32"),
        (dict(batch_sizes=(1, 1)), "batch_sizes=(1, 1)"),
        (dict(runs=0), "runs=0"),
        (dict(runs=2.5), "runs=2.5"),
        (dict(warmup=-1), "warmup=-1"),
        (dict(warmup="2"), "warmup='2'"),
        (dict(input_shape="32x32x3"), "input_shape='32x32x3'"),
    ],
)
def test_bad_settings(nothing_built, kwargs, received):
    raise_clean(lambda: cnn_notes.profile("custom_vgg", **kwargs), f"Received: {received}")
    raise_clean(lambda: cnn_notes.compare(["custom_vgg"], progress=False, **kwargs), f"Received: {received}")


def test_unknown_model(nothing_built):
    raise_clean(lambda: cnn_notes.profile("custom_vg"), "Did you mean", "Received: model_name='custom_vg'")
    raise_clean(lambda: cnn_notes.compare(["custom_vgg", "vgg_16"]), "vgg16", "Received: model_name='vgg_16'")


@pytest.mark.parametrize("value", [None, 3, keras.layers.Dense(2), ["custom_vgg"]])
def test_profile_refuses_a_non_model(nothing_built, value):
    raise_clean(lambda: cnn_notes.profile(value), "name_or_model", f"Received: name_or_model={value!r}")


def test_input_shape_with_a_model():
    raise_clean(lambda: cnn_notes.profile(tiny_model(), input_shape=(8, 8, 3)), "Received: input_shape=(8, 8, 3)")


def test_model_without_a_known_input_size():
    model = cnn_notes.build("custom_vgg", include_top=False, input_shape=(None, None, 3))
    raise_clean(lambda: cnn_notes.profile(model), "known input size", "Received: model=")
    raise_clean(lambda: cnn_notes.profile(keras.Sequential([layers.Dense(2)])), "defined input", "Received: model=")


def test_input_shape_the_builder_refuses():
    raise_clean(lambda: cnn_notes.profile("custom_vgg", input_shape=(4, 4, 3)), "Received: input_shape=(4, 4, 3)")


@pytest.mark.parametrize("names", ["custom_vgg", [], ("custom_vgg", 3), None, {"custom_vgg": 1}])
def test_compare_names_must_be_a_list_of_strings(nothing_built, names):
    raise_clean(lambda: cnn_notes.compare(names), f"Received: names={names!r}")


def test_compare_refuses_other_arguments(nothing_built):
    raise_clean(lambda: cnn_notes.compare(["custom_vgg"], run=3), "run", "Received: {'run': 3}")
    raise_clean(lambda: cnn_notes.compare(["custom_vgg"], progress="no"), "Received: progress='no'")


@pytest.mark.parametrize("frame", [None, {"gmacs": [1.0]}, [[1.0, 2.0]], pd.Series([1.0])])
def test_plot_compare_refuses_a_non_dataframe(frame):
    raise_clean(lambda: cnn_notes.plot_compare(frame), "DataFrame", "Received: frame=")


@pytest.mark.parametrize(
    "kwargs, received",
    [
        (dict(x="flops"), "x='flops'"),
        (dict(y="latency_ms_b64"), "y='latency_ms_b64'"),
        (dict(size="weights"), "size='weights'"),
        (dict(x=None), "x=None"),
        (dict(x="name"), "x='name'"),  # a column, but not a number
    ],
)
def test_plot_compare_refuses_unknown_columns(kwargs, received):
    frame = pd.DataFrame({"name": ["a"], "gmacs": [1.0], "latency_ms_b1": [2.0], "params": [3]})
    raise_clean(lambda: cnn_notes.plot_compare(frame, **kwargs), f"Received: {received}")


def test_plot_compare_refuses_an_empty_frame():
    raise_clean(lambda: cnn_notes.plot_compare(pd.DataFrame(columns=["name", "gmacs"])), "no rows")
