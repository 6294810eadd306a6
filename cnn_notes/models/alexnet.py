"""AlexNet: Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep Convolutional Neural
Networks", NIPS 2012."""

import keras
from keras import layers

from cnn_notes.models.arguments import check_rate, parse_common_args
from cnn_notes.models.heads import global_pool, model_input
from cnn_notes.models.registry import register_model


@register_model
def alexnet(*, dropout=0.5, **kwargs):
    """AlexNet as torchvision builds it (Krizhevsky et al. 2012; Krizhevsky 2014, arXiv:1404.5997).

    Five convolutions (64, 192, 384, 256, 256 filters) and three fully-connected layers (4096, 4096,
    classes). This is the single-tower "one weird trick" variant that torchvision ships: the 2012 paper
    split 96/256/384/384/256 filters over two GPUs and used local response normalisation; both
    versions have about 60 million parameters. At 224x224 the trainable count equals torchvision's
    61,100,840: convolutions 2,469,696 + dense 9216*4096+4096 + 4096*4096+4096 + 4096*1000+1000.

    torchvision adds an adaptive 6x6 average pooling before the classifier; at 224x224 the map is already
    6x6, so it is the identity there and is left out. ``dropout`` is the rate before each hidden dense layer.
    """
    dropout = check_rate(dropout, "dropout")
    args = parse_common_args("alexnet", kwargs, default_size=224, min_size=63)
    inputs = model_input(args)
    # padding=2 then a valid 11x11/4 conv gives 55x55 from 224, as in torchvision ("same" would give 56).
    x = layers.ZeroPadding2D(2, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 11, strides=4, activation="relu", name="conv1")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = layers.Conv2D(192, 5, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)
    x = layers.Conv2D(384, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="conv4")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="conv5")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)
    if args.include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dropout(dropout, name="fc6_dropout")(x)
        x = layers.Dense(4096, activation="relu", name="fc6")(x)
        x = layers.Dropout(dropout, name="fc7_dropout")(x)
        x = layers.Dense(4096, activation="relu", name="fc7")(x)
        x = layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)
    else:
        x = global_pool(x, args.pooling)
    return keras.Model(inputs, x, name=args.name)
