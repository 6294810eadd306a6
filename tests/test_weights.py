"""Pretrained weights (cnn_notes/models/weights.py): a weights file, or the keras.applications twin's checkpoint.

Offline by construction: the "imagenet" tests replace Keras' download by one that fails, or the checkpoint by a
twin with seeded random weights, so that no test ever fetches anything.
"""

import warnings

import keras
import numpy as np
import pytest
from test_errors import raise_clean

import cnn_notes
from cnn_notes.models import weights as pretrained

SMALL = {"include_top": False, "input_shape": (32, 32, 3)}  # DenseNet-121's features at 32x32: 1 s to build


def seeded_twin():
    """keras.applications' DenseNet-121 with seeded random weights (BatchNorm's variances kept positive)."""
    twin = keras.applications.DenseNet121(weights=None, **SMALL)
    rng = np.random.default_rng(0)
    values = []
    for weight in twin.weights:
        value = rng.normal(0.0, 0.05, size=weight.shape).astype("float32")
        if weight.path.endswith("moving_variance"):
            value = np.abs(value) + 0.5
        values.append(value)
    twin.set_weights(values)
    return twin


@pytest.fixture(scope="module")
def twin_file(tmp_path_factory):
    twin = seeded_twin()
    path = tmp_path_factory.mktemp("weights") / "densenet121.weights.h5"
    twin.save_weights(path)
    return twin, path


def same_outputs(ours, twin):
    # Called eagerly, not through predict, which would trace each model into a graph first (seconds).
    x = np.random.default_rng(1).normal(size=(2, 32, 32, 3)).astype("float32")
    return np.abs(keras.ops.convert_to_numpy(ours(x, training=False) - twin(x, training=False))).max()


def test_a_weights_file_saved_from_the_twin_gives_the_twins_outputs(twin_file):
    twin, path = twin_file
    ours = cnn_notes.build("densenet121", weights=path, **SMALL)
    assert same_outputs(ours, twin) < 1e-5


def test_imagenet_weights_are_the_twins_tensor_by_tensor(monkeypatch, twin_file):
    # The checkpoint replaced by a twin with known weights: the copy is what is tested, not the download.
    twin, _ = twin_file
    monkeypatch.setattr(pretrained, "imagenet_twin", lambda model, kwargs: twin)
    ours = cnn_notes.build("densenet121", weights="imagenet", **SMALL)
    assert same_outputs(ours, twin) < 1e-5


@pytest.fixture
def no_network(monkeypatch):
    """Keras' download of a checkpoint fails, as it does offline."""

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setattr("keras.src.utils.file_utils.get_file", offline)


def test_no_network_is_a_clear_error_naming_weights(no_network):
    raise_clean(lambda: cnn_notes.build("densenet121", weights="imagenet", **SMALL),
                "could not fetch the ImageNet checkpoint", "Received: weights='imagenet'")  # fmt: skip


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"weights": 3}, "Received: weights=3"),
        ({"weights": True}, "Received: weights=True"),
        ({"weights": "no/such/file.weights.h5"}, "names no file"),
        ({"weights": "imagenet", "classes": 10}, "Received: classes=10"),
        # Keras' own check of what its checkpoint can serve, passed on, before anything is downloaded
        ({"weights": "imagenet", "input_shape": (64, 64, 3)}, "cannot serve these arguments"),
    ],
)
def test_weights_that_cannot_be_loaded_are_refused_before_a_build(monkeypatch, kwargs, message):
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: pytest.fail("nothing may be downloaded"))
    raise_clean(lambda: cnn_notes.build("densenet121", **kwargs), message)


def test_twins_built_at_a_size_have_published_weights_too(no_network):
    # MobileNetV3's twin is in KERAS_APPLICATIONS_SIZED: "imagenet" goes on to fetch its checkpoint (failing
    # here), it is not refused as a model without one.
    raise_clean(lambda: cnn_notes.build("mobilenet_v3_small", weights="imagenet"),
                "could not fetch the ImageNet checkpoint of keras.applications.MobileNetV3Small")  # fmt: skip


def test_models_without_a_published_checkpoint_refuse_imagenet():
    raise_clean(lambda: cnn_notes.build("custom_vgg", weights="imagenet"),
                "custom_vgg has no published ImageNet weights", "Received: weights='imagenet'")  # fmt: skip


def test_a_file_of_another_kind_or_model_is_refused(tmp_path, twin_file):
    text = tmp_path / "notes.txt"
    text.write_text("not weights")
    raise_clean(lambda: cnn_notes.build("densenet121", weights=text, **SMALL), "must be a Keras weights file")
    _, path = twin_file
    # One error, without Keras' warning for each part of the model that found nothing in the file.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raise_clean(lambda: cnn_notes.build("custom_vgg", weights=path), "does not hold weights for this custom_vgg")
    assert [str(w.message) for w in caught] == []


def test_a_file_that_would_leave_parts_of_the_model_unloaded_is_refused(tmp_path, monkeypatch):
    # Where the rest of a file matches, Keras loads it and only warns about the parts that found nothing: a
    # model half loaded. Keras' loader is replaced by one that does just that, in Keras' words.
    def partly(model, path):
        warnings.warn(f"Skipping nested container at '{model.layers[1].name}': no matching group found in the "
                      "saved file. Affected layers will retain their freshly-initialized weights.", UserWarning)  # fmt: skip

    monkeypatch.setattr(keras.Model, "load_weights", partly)
    path = tmp_path / "custom_vgg.weights.h5"
    path.write_bytes(b"")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raise_clean(lambda: cnn_notes.build("custom_vgg", weights=path), "1 of its parts would keep their random",
                    "freshly-initialized", f"Received: weights={str(path)!r}")  # fmt: skip
    assert caught == []


def test_every_builder_documents_weights():
    assert all("weights:" in (cnn_notes.get_builder(name).__doc__ or "") for name in cnn_notes.list_models())
