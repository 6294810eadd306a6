"""Bad input gets a ValueError that names the argument and what was received, raised before any layer is
built: never a traceback from inside Keras."""

import re
import traceback
import types

import pytest

import cnn_notes
from cnn_notes.models import memory

MODELS = cnn_notes.list_models()


def raise_clean(call, *patterns):
    """Runs ``call``, expects a ValueError matching every pattern, raised from cnn_notes' own code."""
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    for pattern in patterns:
        assert pattern in message, f"{pattern!r} not in {message!r}"
    frames = traceback.extract_tb(info.value.__traceback__)
    foreign = [f.filename for f in frames if "/keras/" in f.filename or "/tensorflow/" in f.filename]
    assert foreign == [], f"raised from inside Keras/TensorFlow: {foreign}"
    return message


def refused_before_any_layer(family, name, options, argument, monkeypatch):
    """Builds ``name`` with one bad family option and expects the ValueError that names ``argument`` and ends in
    what was received, raised before any layer: ``family.model_input``, which makes a builder's first layer, fails
    the test if it is reached. ``family`` is the model's family module."""

    def no_layers(args):
        raise AssertionError("a layer was built before the options were checked")

    monkeypatch.setattr(family, "model_input", no_layers)
    value = next(iter(options.values()))
    with pytest.raises(ValueError, match=rf"`{argument}`.*{re.escape(f'Received: {argument}={value!r}')}$"):
        cnn_notes.build(name, **options)


def test_unknown_model_suggests_close_names():
    message = raise_clean(lambda: cnn_notes.build("vgg_16"), "vgg_16", "Did you mean", "Received: model_name=")
    assert "vgg16" in message


def test_model_name_must_be_a_string():
    raise_clean(lambda: cnn_notes.build(50), "Received: model_name=50")


def test_list_models_pattern_must_be_a_string():
    raise_clean(lambda: cnn_notes.list_models(3), "pattern", "Received: pattern=3")


def test_list_models_filters_by_pattern():
    assert cnn_notes.list_models("vgg1?") == ["vgg11", "vgg13", "vgg16", "vgg19"]
    assert cnn_notes.list_models("no_such*") == []


def test_registering_a_name_twice_is_refused():
    from cnn_notes.models.registry import register_model

    def vgg16():
        """A second vgg16."""

    raise_clean(lambda: register_model(vgg16), "already registered", "vgg16")


def test_models_are_module_attributes():
    assert cnn_notes.vgg16 is cnn_notes.get_builder("vgg16")
    with pytest.raises(AttributeError):
        cnn_notes.no_such_model


def test_every_model_is_callable_from_the_package():
    # A module or function of the package named like a model would hide it (cnn_notes.alexnet was once the
    # family module): every registered name must reach its builder.
    import cnn_notes.models.alexnet  # the family module is imported, and still does not hide the model

    assert isinstance(cnn_notes.models.alexnet, types.ModuleType)
    hidden = [name for name in MODELS if getattr(cnn_notes, name) is not cnn_notes.get_builder(name)]
    assert not hidden, f"cnn_notes.<name> is not the builder for {hidden}"
    assert callable(cnn_notes.alexnet) and callable(cnn_notes.xception)


@pytest.mark.parametrize("taken", ["analysis", "models", "summary", "new_chapter"])
def test_a_model_named_like_the_package_s_own_names_is_refused(taken):
    from cnn_notes.models.registry import register_model, reserved_names

    assert taken in reserved_names()

    def builder():
        """A model that cnn_notes.<name> could not reach."""

    builder.__name__ = taken
    raise_clean(lambda: register_model(builder), "may not be named", f"Received: name={taken!r}")
    assert taken not in cnn_notes.list_models()


@pytest.mark.parametrize("name", MODELS)
def test_unknown_argument(name):
    raise_clean(lambda: cnn_notes.build(name, clases=10), "clases", name)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("shape", [(224, 224), (1, 224, 224, 3), "224x224x3", 224])
def test_input_shape_of_the_wrong_rank(name, shape):
    raise_clean(lambda: cnn_notes.build(name, input_shape=shape), "input_shape", f"Received: input_shape={shape!r}")


@pytest.mark.parametrize("name", MODELS)
def test_input_shape_too_small_names_the_minimum(name):
    raise_clean(lambda: cnn_notes.build(name, input_shape=(3, 3, 3)), "at least", "Received: input_shape=(3, 3, 3)")


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("shape", [(224.0, 224, 3), ("224", 224, 3), (224, 224, 3.0), (224, 224, 0), (True, 224, 3)])
def test_input_shape_of_non_integers(name, shape):
    raise_clean(lambda: cnn_notes.build(name, input_shape=shape), "input_shape", f"Received: input_shape={shape!r}")


@pytest.mark.parametrize("name", MODELS)
def test_include_top_needs_a_known_size(name):
    raise_clean(
        lambda: cnn_notes.build(name, input_shape=(None, None, 3)), "include_top", "Received: input_shape=(None, None, 3)"
    )


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("classes", [0, -3, 2.5, "10", True])
def test_classes_below_one_or_not_an_integer(name, classes):
    raise_clean(lambda: cnn_notes.build(name, classes=classes), f"Received: classes={classes!r}")


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("pooling", ["mean", "AVG", 1])
def test_pooling_not_avg_or_max(name, pooling):
    raise_clean(lambda: cnn_notes.build(name, include_top=False, pooling=pooling), f"Received: pooling={pooling!r}")


@pytest.mark.parametrize("name", MODELS)
def test_include_top_must_be_a_bool(name):
    raise_clean(lambda: cnn_notes.build(name, include_top="no"), "Received: include_top='no'")


@pytest.mark.parametrize("name", MODELS)
def test_classifier_activation_must_exist(name):
    raise_clean(lambda: cnn_notes.build(name, classifier_activation="softmaxx"), "classifier_activation='softmaxx'")


@pytest.mark.parametrize("name", MODELS)
def test_name_must_be_a_string(name):
    raise_clean(lambda: cnn_notes.build(name, name=""), "Received: name=''")


@pytest.mark.parametrize("helper", ["summary", "format_summary", "count_macs", "stage_shapes", "param_counts"])
@pytest.mark.parametrize("value", ["resnet50", None, 3])
def test_analysis_helpers_refuse_a_non_model(helper, value):
    raise_clean(lambda: getattr(cnn_notes, helper)(value), f"Received: model={value!r}")


def test_count_macs_needs_a_known_input_size():
    model = cnn_notes.build("custom_vgg", include_top=False, input_shape=(None, None, 3))
    raise_clean(lambda: cnn_notes.count_macs(model), "known input size")


@pytest.mark.parametrize("name", ["alexnet", "vgg16", "custom_vgg"])
@pytest.mark.parametrize("dropout", [-0.1, 1.0, "0.5"])
def test_dropout_rate_out_of_range(name, dropout):
    raise_clean(lambda: cnn_notes.build(name, dropout=dropout), f"Received: dropout={dropout!r}")


def test_a_model_too_large_for_memory_is_refused_before_any_weight_is_allocated(capfd):
    # AlexNet's first dense layer reads the flattened pool5 map: at 10^6 x 10^6 pixels its kernel would hold
    # 249,984,000,256 x 4,096 floats. The dry run finds it without allocating anything: TensorFlow's allocator,
    # which would log its failure to stderr after waiting 10 s, is never asked.
    message = raise_clean(
        lambda: cnn_notes.build("alexnet", input_shape=(10**6, 10**6, 3)),
        "`input_shape` needs", "GiB for one weight of shape (249984000256, 4096) alone, more than this machine's",
        "Received: input_shape=(1000000, 1000000, 3)",
    )
    assert "ResourceExhaustedError" not in message
    assert "ran out of memory" not in capfd.readouterr().err
    assert cnn_notes.alexnet.__name__ == "alexnet" and "Common arguments" in cnn_notes.alexnet.__doc__
    # The dry run's variables are not left for Keras to allocate at its next initialising scope.
    from keras.src.backend.common import global_state

    assert not global_state.get_global_attribute("uninitialized_variables", [])


def test_an_allocation_that_fails_while_building_is_answered_the_same_way():
    # Below the dry run's threshold (or with memory already in use) the allocation itself can fail: a builder
    # whose weight TensorFlow cannot allocate, as it reports it.
    import tensorflow as tf

    def builder(**kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[65536,65536,4]")

    message = raise_clean(
        lambda: memory.answering_out_of_memory(builder)(input_shape=(2000, 2000, 3)),
        "builder with this `input_shape` needs 64 GiB for one weight of shape (65536, 65536, 4) alone",
        "Received: input_shape=(2000, 2000, 3)",
    )
    assert "ResourceExhaustedError" not in message
