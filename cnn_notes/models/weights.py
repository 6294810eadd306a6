"""Pretrained weights: ``weights=None`` (the default) | the path of a weights file | ``"imagenet"``.

Every builder takes ``weights``, as keras.applications' do. ``"imagenet"`` loads the published checkpoint of the
model's keras.applications twin (``references.KERAS_APPLICATIONS`` and ``KERAS_APPLICATIONS_SIZED``): Keras downloads it once into its cache
(``~/.keras/models``) and builds the twin with it; our model, whose layers have the twin's names, shapes and order
(the unit tests check all three), then takes the twin's weights tensor by tensor. A path loads a Keras weights
file (``model.save_weights``), e.g. one saved from the twin or from a model of ours. The book itself never loads
weights: its numbers are those of untrained models, and its machine has no network.

Everything that can be checked before a layer is built is: the type of ``weights``, that the file exists, that the
model has a twin with published weights, that the classifier has the checkpoint's 1000 classes; the checkpoint is
then fetched (a failed download is a ``ValueError`` naming ``weights``) before our model is built.
"""

import warnings
from pathlib import Path

from cnn_notes.references import KERAS_APPLICATIONS, KERAS_APPLICATIONS_SIZED

# Every model with a keras.applications twin, and that twin's name: the twins of both tables publish weights.
TWINS = {name: entry[0] for name, entry in (KERAS_APPLICATIONS | KERAS_APPLICATIONS_SIZED).items()}

WEIGHTS_DOC = """
        weights: ``None`` (random initialisation, the default), ``"imagenet"`` (the published checkpoint of
            the model's keras.applications twin, downloaded once by Keras) or the path of a Keras weights file
            (``.weights.h5``) saved from this architecture.
"""
IMAGENET = "imagenet"
# How Keras' loader says that part of a model found nothing to load in the file (keras/src/saving/saving_lib.py).
_LEFT_UNLOADED = "retain their freshly-initialized weights"
IMAGENET_CLASSES = 1000


def check_weights(model, weights, kwargs):
    """Refuses what cannot be loaded, before anything is built; returns ``weights`` as given."""
    if weights is None:
        return None
    if not isinstance(weights, (str, Path)) or isinstance(weights, bool):
        raise ValueError(
            f"`weights` must be None, 'imagenet' or the path of a weights file. Received: weights={weights!r}"
        )
    if str(weights) == IMAGENET:
        if model not in TWINS:
            with_weights = ", ".join(sorted(TWINS))
            raise ValueError(
                f"{model} has no published ImageNet weights: 'imagenet' is available for the models with a "
                f"keras.applications twin ({with_weights}). Received: weights={weights!r}"
            )
        classes = kwargs.get("classes", IMAGENET_CLASSES)
        if kwargs.get("include_top", True) and classes != IMAGENET_CLASSES:
            raise ValueError(
                f"The ImageNet checkpoint's classifier has {IMAGENET_CLASSES} classes; for another number, use "
                f"include_top=False and add your own classifier. Received: classes={classes!r}"
            )
        return weights
    path = Path(weights)
    if not path.is_file():
        raise ValueError(f"`weights` names no file. Received: weights={str(weights)!r}")
    if not path.name.endswith((".weights.h5", ".keras")):
        raise ValueError(
            "`weights` must be a Keras weights file, saved with model.save_weights('<name>.weights.h5'). "
            f"Received: weights={str(weights)!r}"
        )
    return weights


def imagenet_twin(model, kwargs):
    """The keras.applications twin of ``model`` with its ImageNet weights, built with the same top, input shape
    and pooling (Keras refuses an input shape its checkpoint cannot serve; its message is passed on)."""
    import keras

    attribute = TWINS[model]
    options = {key: kwargs[key] for key in ("include_top", "input_shape", "pooling") if key in kwargs}
    try:
        return getattr(keras.applications, attribute)(weights=IMAGENET, **options)
    except ValueError as error:
        raise ValueError(f"{model}: the ImageNet checkpoint cannot serve these arguments: {error}") from None
    except Exception as error:  # the download: no network, a proxy, a full disk
        raise ValueError(
            f"{model}: could not fetch the ImageNet checkpoint of keras.applications.{attribute} ({error}). Keras "
            f"downloads it once into ~/.keras/models; offline, use weights=None or the path of a weights file. "
            f"Received: weights='imagenet'"
        ) from None


def load(model, built, weights, twin=None):
    """Loads ``weights`` into ``built``, the model just built: from ``twin`` (``"imagenet"``) or from a file."""
    if twin is not None:
        ours, theirs = built.weights, twin.weights
        mismatch = [(a.path, tuple(a.shape), tuple(b.shape)) for a, b in zip(ours, theirs) if a.shape != b.shape]
        if len(ours) != len(theirs) or mismatch:
            raise ValueError(
                f"{model}'s weights do not line up with its keras.applications twin's ({len(ours)} against "
                f"{len(theirs)} tensors; first differences {mismatch[:3]}). Received: weights='imagenet'"
            )
        built.set_weights(twin.get_weights())
        return built
    # Keras warns about each part of the file that matches no layer ("Affected layers will retain their
    # freshly-initialized weights") before it fails, or, where the rest matched, instead of failing: either way
    # the file is not this model's, and the answer is one ValueError, not a page of warnings or a model half
    # loaded. Its other warnings are passed on.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            built.load_weights(str(weights))
        except (ValueError, KeyError) as error:
            raise ValueError(
                f"The file does not hold weights for this {model}: {error}. Received: weights={str(weights)!r}"
            ) from None
    skipped = [str(w.message) for w in caught if _LEFT_UNLOADED in str(w.message)]
    if skipped:
        raise ValueError(
            f"The file does not hold weights for this {model}: {len(skipped)} of its parts would keep their "
            f"random initial weights (Keras: {skipped[0]}). Received: weights={str(weights)!r}"
        )
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return built
