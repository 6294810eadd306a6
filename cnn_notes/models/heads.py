"""What every builder shares at its ends: the named input layer and the classifier heads.

``args`` is the ``CommonArgs`` that ``parse_common_args`` returned: it says whether to end with the classifier
(``include_top``), how many classes, which activation, and which global pooling to apply without the top.
"""

from keras import layers


def model_input(args):
    """The named input layer (auto-numbered names would change with build history)."""
    return layers.Input(shape=args.input_shape, name="input")


def global_pool(x, pooling):
    """Global pooling for ``include_top=False``: keeps the 4-D map for ``pooling=None``."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def pooled_classifier(x, args, dropout=0.0):
    """The modern head: global average pooling, optional dropout, one dense classifier.

    Without the top, applies ``args.pooling`` instead.
    """
    if not args.include_top:
        return global_pool(x, args.pooling)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="top_dropout")(x)
    return layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)


def flatten_classifier(x, args):
    """The early head: flatten the map into one dense softmax layer (the post's models); ``args.pooling``
    without the top."""
    if not args.include_top:
        return global_pool(x, args.pooling)
    x = layers.Flatten(name="flatten")(x)
    return layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)
