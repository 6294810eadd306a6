"""Shared fixtures. TensorFlow's start-up logging is silenced before anything imports it.

Building the models is most of what the unit tests cost (``make unit`` prints the ratio to that floor), so
every model is built with its defaults once, and once more small, and the tests share those builds.
"""

import functools
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

from tools.pytest_timing import group_seconds, record_build

# cnn_notes (and with it TensorFlow, 5 s) is imported where a fixture first needs it, not here: under xdist the
# controller loads this file too, and it runs no test.


@functools.lru_cache(maxsize=2)
def default_model(name):
    """The model built with default arguments and unallocated (``unallocated_build``), kept while the tests of
    that model run: every test of a default model checks its structure; the few that run a model on images
    build their own (``computing_pair``).

    Tests are ordered by model (below), so a cache of two is enough. Its first build counts towards the unit
    tests' floor.
    """
    from cnn_notes.tables import remember_facts

    start = time.perf_counter()
    model = unallocated_build(name)
    record_build("model", name, time.perf_counter() - start)
    # Under make test, nbval's tables then read this build's numbers (cnn_notes.tables.default_facts).
    remember_facts(name, model)
    return model


@pytest.fixture
def chinese():
    """cnn_notes printing and drawing in Chinese for one test (cnn_notes.set_language), English again after it."""
    from cnn_notes.language import set_language

    set_language("zh")
    try:
        yield
    finally:
        set_language("en")


def unallocated_build(name, **kwargs):
    """``cnn_notes.build(name, **kwargs)`` with every layer, name and weight shape but no weight's memory
    (``cnn_notes.models.memory.unallocated``): 2 to 4 times faster, for the checks of structure (names, shapes,
    parameter counts, MACs). The builder runs the same code; only Keras' initialisers do not."""
    import cnn_notes
    from cnn_notes.models.memory import unallocated

    with unallocated():
        return cnn_notes.build(name, **kwargs)


@functools.lru_cache(maxsize=2)
def small_model(name):
    """The model at its stated minimum size with a 7-class linear top, unallocated: the checks of the builder's
    options."""
    size = min_size(name)
    return unallocated_build(name, classes=7, classifier_activation=None, input_shape=(size, size, 3))


@functools.cache
def min_size(name):
    """The smallest input side the model states, read from the error it raises below it (nothing is built)."""
    import cnn_notes

    with pytest.raises(ValueError, match=r"at least (\d+)x\1") as info:
        cnn_notes.build(name, input_shape=(1, 1, 3))
    return int(str(info.value).split("at least ")[1].split("x")[0])


@functools.lru_cache(maxsize=1)
def keras_reference(attribute, size=None):
    """keras.applications' model of that name, without weights and unallocated
    (``cnn_notes.models.memory.unallocated``, as ``unallocated_build``), shared by the tests that compare structure
    with it; at ``size`` x ``size`` pixels where keras' default input has no size (MobileNetV3)."""
    from cnn_notes.models.memory import unallocated

    start = time.perf_counter()
    with unallocated():
        model = _keras_application(attribute, size)
    record_build("keras", attribute, time.perf_counter() - start)
    return model


def _keras_application(attribute, size):
    import keras

    options = {} if size is None else {"input_shape": (size, size, 3)}
    return getattr(keras.applications, attribute)(weights=None, **options)


def computing_pair(name):
    """Model ``name`` and its keras.applications twin, both with their weights in memory, keras' copied into
    ours: for the few tests that run the two on images. Not cached, and not counted in the floor: it is work
    beyond building each model once."""
    import cnn_notes
    from cnn_notes.references import twin_attribute_and_size

    ours, reference = cnn_notes.build(name), _keras_application(*twin_attribute_and_size(name))
    ours.set_weights(reference.get_weights())
    return ours, reference


def weighted_layers(model):
    """``model``'s layers with weights, in order, as (name, [weight shapes]): what a checkpoint's layout depends on."""
    return [(layer.name, [tuple(w.shape) for w in layer.weights]) for layer in model.layers if layer.weights]


def keras_twin(name):
    """The keras.applications twin of model ``name``, unallocated (``keras_reference``), at the input side
    ``cnn_notes.references.twin_attribute_and_size`` names."""
    from cnn_notes.references import twin_attribute_and_size

    return keras_reference(*twin_attribute_and_size(name))


def _model_of(item):
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("name") if callspec else None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    # Run all tests of one model together, on one xdist worker (--dist loadgroup), so it is built once. First:
    # xdist's own hook in each worker reads the groups into the test ids, and without them loadgroup spreads
    # a model's tests over both workers, each building it.
    # The other tests run by file, so that a file's module-scoped fixture (a trained model, a weights file) is
    # made once, not once on each worker. The longest groups first (tools/unit_seconds.json, measured; a group
    # not in it yet counts as the longest), so that the last ones to finish are short and the workers end
    # together (make unit passes --no-loadscope-reorder, which keeps this order).
    seconds = group_seconds()

    def group(item):
        return _model_of(item) or item.path.stem

    items.sort(key=lambda item: (-seconds.get(group(item), float("inf")), group(item)))
    for item in items:
        item.add_marker(pytest.mark.xdist_group(group(item)))
