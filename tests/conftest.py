"""Shared fixtures. TensorFlow's start-up logging is silenced before anything imports it."""

import functools
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

import cnn_notes


@functools.lru_cache(maxsize=2)
def default_model(name):
    """The model built with default arguments, kept while the tests of that model run.

    Tests are ordered by model (below), so a cache of two is enough and memory stays bounded even for the
    VGG family (about 0.5 GB of weights each).
    """
    return cnn_notes.build(name)


@functools.lru_cache(maxsize=1)
def keras_reference(attribute):
    """keras.applications' model of that name, without weights, shared by the tests that compare with it."""
    import keras

    return getattr(keras.applications, attribute)(weights=None)


def _model_of(item):
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("name") if callspec else None


def pytest_collection_modifyitems(items):
    # Run all tests of one model together, on one xdist worker (--dist loadgroup), so it is built once.
    items.sort(key=lambda item: _model_of(item) or "")
    for item in items:
        name = _model_of(item)
        if name:
            item.add_marker(pytest.mark.xdist_group(name))
