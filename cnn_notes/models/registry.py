"""The model registry: one name per builder, after torchvision's ``register_model`` and timm's ``list_models``."""

import difflib
import fnmatch
import functools
import pkgutil
import sys
from pathlib import Path

from cnn_notes.models import weights as pretrained
from cnn_notes.models.arguments import COMMON_ARGS_DOC
from cnn_notes.models.memory import answering_out_of_memory
from cnn_notes.models.weights import WEIGHTS_DOC

_BUILDERS = {}
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def reserved_names():
    """The names a model may not take: ``cnn_notes.<name>`` already means something else.

    A model is also reached as ``cnn_notes.<name>()``, through the package's ``__getattr__``, which Python
    consults only for names the package does not have. A top-level module (``cnn_notes/analysis.py``, the
    ``models`` package) or a public function (``summary``) of the same name would hide the model, so both are
    refused. The modules are listed from disk, so one not yet imported counts too.
    """
    modules = {info.name for info in pkgutil.iter_modules([str(_PACKAGE_DIR)])}
    public = getattr(sys.modules.get("cnn_notes"), "__all__", ())
    return modules | set(public)


def register_model(fn):
    """Registers ``fn`` under its own name; a name may be registered only once.

    Refuses a name that ``cnn_notes.<name>`` already uses (see ``reserved_names``). Appends the shared
    documentation of the common arguments to the builder's docstring, so that it is written once and every
    ``help(cnn_notes.<model>)`` shows it.
    """
    name = fn.__name__
    if name in _BUILDERS:
        raise ValueError(f"A model named {name!r} is already registered. Received: name={name!r}")
    if name in reserved_names():
        raise ValueError(
            f"A model may not be named {name!r}: cnn_notes.{name} is a module or function of the package and "
            f"would hide cnn_notes.{name}(). Rename the builder. Received: name={name!r}"
        )
    fn.__doc__ = (fn.__doc__ or "").rstrip() + "\n" + COMMON_ARGS_DOC.rstrip("\n") + WEIGHTS_DOC
    builder = _with_weights(answering_out_of_memory(fn))
    _BUILDERS[name] = builder
    return builder


def _with_weights(fn):
    """``fn``, taking ``weights`` as keras.applications' builders do (cnn_notes/models/weights.py): checked
    before anything is built, the ImageNet checkpoint fetched before our model is built, then loaded into it."""

    @functools.wraps(fn)
    def builder(**kwargs):
        weights = pretrained.check_weights(fn.__name__, kwargs.pop("weights", None), kwargs)
        twin = pretrained.imagenet_twin(fn.__name__, kwargs) if weights == pretrained.IMAGENET else None
        model = fn(**kwargs)
        return model if weights is None else pretrained.load(fn.__name__, model, weights, twin)

    return builder


def list_models(pattern=None):
    """Returns the sorted names of all registered models, optionally filtered by a shell-style pattern.

    Example: ``list_models("resnet*")``.
    """
    if pattern is not None and not isinstance(pattern, str):
        raise ValueError(f"`pattern` must be a string such as 'resnet*' or None. Received: pattern={pattern!r}")
    names = sorted(_BUILDERS)
    if pattern is None:
        return names
    return fnmatch.filter(names, pattern)


def get_builder(model_name, /):
    """Returns the builder function registered as ``model_name``."""
    if not isinstance(model_name, str):
        raise ValueError(f"`model_name` must be a string. Received: model_name={model_name!r}")
    if model_name not in _BUILDERS:
        close = difflib.get_close_matches(model_name, list(_BUILDERS), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else " See cnn_notes.list_models()."
        raise ValueError(f"Unknown model {model_name!r}.{hint} Received: model_name={model_name!r}")
    return _BUILDERS[model_name]


def build(model_name, /, **kwargs):
    """Builds the registered model ``model_name`` and returns a ``keras.Model``.

    ``kwargs`` are the builder's keyword arguments, e.g. ``build("resnet50", classes=10, name="my_resnet")``.
    """
    return get_builder(model_name)(**kwargs)
