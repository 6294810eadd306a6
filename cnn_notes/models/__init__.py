"""The model zoo: one module per architecture family, and what every builder shares.

* ``registry.py``: ``register_model``, ``list_models``, ``get_builder``, ``build``;
* ``arguments.py``: the common keyword arguments and their checks, run before any layer is built;
* ``heads.py``: the named input layer and the classifier heads;
* ``layers.py``: the layers Keras does not ship (local response normalisation, the zero-padded shortcut);
* one module per family: ``alexnet``, ``vgg``, ``googlenet``, ``inception``, ``resnet``, ``densenet``,
  ``xception``, ``efficientnet``, ``mobilenet``, ``lenet``, ``senet``, ``regnet``, ``efficientnet_v2``, ``convnext``,
  and ``resnet_cifar`` (the ResNet paper's CIFAR-10 networks).

Importing this package imports every family module (the import below), which registers its builders: a new
family is added to that list. The builders themselves are reached as ``cnn_notes.build(name)`` or ``cnn_notes.<name>()``; ``cnn_notes.models.<family>`` is the module.
"""

from cnn_notes.models import (
    alexnet,
    convnext,
    densenet,
    efficientnet,
    efficientnet_v2,
    googlenet,
    inception,
    lenet,
    mobilenet,
    regnet,
    resnet,
    resnet_cifar,
    senet,
    vgg,
    xception,
)
from cnn_notes.models.registry import build, get_builder, list_models, register_model

__all__ = ["build", "get_builder", "list_models", "register_model"]
