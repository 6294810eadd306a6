"""The common arguments every builder takes, and the checks that run before any layer is built.

All builders take the same keyword-only arguments, after keras.applications (see ``COMMON_ARGS_DOC``).
They are checked here, before any layer is built, so that bad input gives a short ``ValueError`` that names
the argument and what was received, never a Keras traceback from deep inside a graph.
"""

from collections import namedtuple
from dataclasses import dataclass
from numbers import Integral

import keras

POOLING_MODES = (None, "avg", "max")

COMMON_ARGS_DOC = """
    Common arguments (keyword-only, the same for every model, after keras.applications):
        input_shape: ``(height, width, channels)``; ``None`` takes the model's default size and channels
            (3, RGB, unless the family states otherwise, e.g. 1 for a grayscale network).
            Height and width may be ``None`` only when ``include_top=False``.
        classes: number of classes of the classifier (``include_top=True``).
        include_top: whether to end with the classifier; ``False`` returns the feature extractor.
        pooling: with ``include_top=False``: ``None`` (the 4-D feature map), ``"avg"`` or ``"max"``
            (global pooling to a vector).
        classifier_activation: activation of the last layer (a name, a callable or ``None`` for logits).
        name: the model's name; defaults to the registered name.
"""


@dataclass(frozen=True)
class CommonArgs:
    """The common arguments of a builder, checked and with defaults filled in."""

    input_shape: tuple
    classes: int
    include_top: bool
    pooling: str | None
    classifier_activation: object
    name: str


# What each builder last stated to ``parse_common_args``, by registered model name: its defaults, read by the
# tests (tests/test_models.py checks the default build against them) so that no test repeats a model's
# defaults by hand. Recorded at every call, before any check, so a refused call records them too.
Defaults = namedtuple("Defaults", ["size", "channels", "classes", "min_size"])
_STATED = {}


def stated_defaults(model):
    """The defaults that ``model``'s builder stated to ``parse_common_args`` at its last call in this process
    (``Defaults(size, channels, classes, min_size)``), or ``None`` if it has not been called yet."""
    return _STATED.get(model)


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, bool)


def parse_common_args(
    model,
    kwargs,
    *,
    default_size,
    min_size,
    default_classes=1000,
    default_channels=3,
):
    """Checks a builder's common keyword arguments and returns them as ``CommonArgs``.

    Args:
        model: the registered model name, used in messages and as the default ``name``.
        kwargs: the keyword arguments the caller passed (only the common ones may be left).
        default_size: the input height and width used when ``input_shape`` is ``None``.
        min_size: the smallest height and width for which the architecture's feature map stays non-empty.
        default_classes: the default ``classes`` (1000 for ImageNet models; the post's models differ).
        default_channels: the input channels used when ``input_shape`` is ``None`` (3 for RGB; 1 for a
            grayscale network such as LeNet-5, whose 32x32x1 input its parameter count depends on).
    """
    if not _is_int(default_channels) or default_channels < 1:
        raise ValueError(
            f"`default_channels` must be a positive integer. Received: default_channels={default_channels!r}"
        )
    _STATED[model] = Defaults(default_size, default_channels, default_classes, min_size)
    kwargs = dict(kwargs)
    input_shape = kwargs.pop("input_shape", None)
    classes = kwargs.pop("classes", default_classes)
    include_top = kwargs.pop("include_top", True)
    pooling = kwargs.pop("pooling", None)
    classifier_activation = kwargs.pop("classifier_activation", "softmax")
    name = kwargs.pop("name", None)
    if kwargs:
        unknown = ", ".join(sorted(kwargs))
        raise ValueError(
            f"Unknown argument(s) for {model}: {unknown}. Expected input_shape, classes, include_top, "
            f"pooling, classifier_activation, name, or the model's own options. Received: {kwargs}"
        )

    if not isinstance(include_top, bool):
        raise ValueError(f"`include_top` must be True or False. Received: include_top={include_top!r}")
    if not _is_int(classes) or classes < 1:
        raise ValueError(f"`classes` must be an integer of at least 1. Received: classes={classes!r}")
    if pooling not in POOLING_MODES:
        raise ValueError(f'`pooling` must be None, "avg" or "max". Received: pooling={pooling!r}')
    _check_activation(classifier_activation)
    if name is None:
        name = model
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a non-empty string. Received: name={name!r}")

    input_shape = _check_input_shape(model, input_shape, include_top, default_size, min_size, default_channels)
    return CommonArgs(input_shape, classes, include_top, pooling, classifier_activation, name)


def _check_activation(activation):
    if activation is None or callable(activation):
        return
    if isinstance(activation, str):
        try:
            keras.activations.get(activation)
            return
        except ValueError:
            pass
    raise ValueError(
        "`classifier_activation` must be None, a callable or the name of a Keras activation "
        f"(e.g. 'softmax'). Received: classifier_activation={activation!r}"
    )


def _check_input_shape(model, input_shape, include_top, default_size, min_size, default_channels=3):
    if input_shape is None:
        return (default_size, default_size, default_channels)
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(
            "`input_shape` must be a tuple (height, width, channels) of rank 3. "
            f"Received: input_shape={input_shape!r}"
        )
    height, width, channels = input_shape
    if not _is_int(channels) or channels < 1:
        raise ValueError(
            f"`input_shape` must end with a positive integer number of channels. Received: input_shape={input_shape!r}"
        )
    for size in (height, width):
        if size is None:
            if include_top:
                raise ValueError(
                    "With include_top=True the spatial size must be known: give height and width as integers "
                    f"or set include_top=False. Received: input_shape={input_shape!r}"
                )
            continue
        if not _is_int(size):
            raise ValueError(
                f"`input_shape` sizes must be integers (or None). Received: input_shape={input_shape!r}"
            )
        if size < min_size:
            raise ValueError(
                f"`input_shape` must be at least {min_size}x{min_size} for {model}. "
                f"Received: input_shape={input_shape!r}"
            )
    return tuple(int(s) if s is not None else None for s in input_shape)


def check_rate(value, argument):
    """Checks a dropout-like rate in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"`{argument}` must be a number in [0, 1). Received: {argument}={value!r}")
    return float(value)


def check_int(value, argument, minimum=0):
    """Checks an integer option of at least ``minimum`` (a size, a seed, a count of epochs)."""
    if not _is_int(value) or value < minimum:
        raise ValueError(f"`{argument}` must be an integer of at least {minimum}. Received: {argument}={value!r}")
    return int(value)


def check_bool(value, argument):
    """Checks a True/False option."""
    if not isinstance(value, bool):
        raise ValueError(f"`{argument}` must be True or False. Received: {argument}={value!r}")
    return value
