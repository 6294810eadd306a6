"""A trained network as a backbone for another task: its weights carried over, frozen or fine-tuned.

Every builder ends in a dense classifier called ``predictions``; everything before it is the backbone, whose
output (after global pooling, for the ResNets) is the feature vector. A new task gets a model of the same
architecture built for its number of classes: ``transfer_weights`` copies the backbone's weights into it layer by
layer, leaving the new classifier as it was initialised, and ``freeze_backbone`` makes every layer but that
classifier untrainable, so that training it is a linear classifier on frozen features (and BatchNormalization
runs in inference mode, with the source task's statistics). Without ``freeze_backbone`` the same model is
fine-tuned as a whole. ``backbone`` is the model cut before its classifier, whose outputs are the features.
"""

import keras
import numpy as np

HEAD = "predictions"


def _check_model(model, argument):
    if not isinstance(model, keras.Model):
        raise ValueError(f"`{argument}` must be a keras.Model, e.g. cnn_notes.build('resnet20_cifar'). Received: {argument}={model!r}")
    names = [layer.name for layer in model.layers]
    if HEAD not in names:
        raise ValueError(
            f"`{argument}` has no classifier layer named {HEAD!r} (built with include_top=False?). "
            f"Received: {argument}={model.name!r}"
        )
    return model


def backbone(model):
    """``model`` without its classifier: a ``keras.Model`` from the same input to the classifier's input (the
    features), sharing ``model``'s layers and weights."""
    _check_model(model, "model")
    return keras.Model(model.input, model.get_layer(HEAD).input, name=f"{model.name}_backbone")


def transfer_weights(source, target):
    """Copies the weights of every layer of ``source`` but its classifier into the layer of the same name in
    ``target`` (the same architecture, built for another number of classes); returns ``target``.

    The classifier of ``target`` keeps its own (fresh) weights. Raises a ValueError where the two models do not
    have the same layers with the same weight shapes before the classifier.
    """
    _check_model(source, "source")
    _check_model(target, "target")
    mine = [layer for layer in source.layers if layer.name != HEAD]
    theirs = [layer for layer in target.layers if layer.name != HEAD]
    if [layer.name for layer in mine] != [layer.name for layer in theirs]:
        raise ValueError(
            "`target` must have the layers of `source` before the classifier (the same architecture). "
            f"Received: source={source.name!r}, target={target.name!r}"
        )
    for a, b in zip(mine, theirs):
        weights = a.get_weights()
        if [w.shape for w in weights] != [tuple(w.shape) for w in b.weights]:
            raise ValueError(
                f"Layer {a.name!r} has weights {[w.shape for w in weights]} in `source` but "
                f"{[tuple(w.shape) for w in b.weights]} in `target` (another input shape or width?). "
                f"Received: source={source.name!r}, target={target.name!r}"
            )
        b.set_weights(weights)
    return target


def freeze_backbone(model):
    """Makes every layer of ``model`` but its classifier untrainable; returns ``model``. Training it then fits a
    linear (softmax) classifier on the frozen features; BatchNormalization layers run in inference mode."""
    _check_model(model, "model")
    for layer in model.layers:
        layer.trainable = layer.name == HEAD
    return model


def trainable_count(model):
    """The number of trainable parameters of ``model`` (after ``freeze_backbone``: the classifier's)."""
    _check_model(model, "model")
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)
