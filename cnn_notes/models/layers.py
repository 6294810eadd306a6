"""Layers that Keras does not ship but the early papers use."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="cnn_notes")
class LocalResponseNormalization(keras.layers.Layer):
    """Local response normalisation across channels (Krizhevsky et al. 2012, section 3.3).

    ``b = a / (k + alpha/n * sum(a^2 over n neighbouring channels)) ** beta``. AlexNet and VGG's A-LRN use
    ``n=5, k=2, alpha=1e-4, beta=0.75``; the layer has no weights. ``alpha`` is divided by ``n`` as in
    torch's ``LocalResponseNorm`` and Caffe, which ``tf.nn.local_response_normalization`` does not do itself.
    """

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=2.0, **kwargs):
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def call(self, inputs):
        return tf.nn.local_response_normalization(
            inputs, depth_radius=self.size // 2, bias=self.k, alpha=self.alpha / self.size, beta=self.beta
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size, "alpha": self.alpha, "beta": self.beta, "k": self.k}


@keras.saving.register_keras_serializable(package="cnn_notes")
class ZeroPadShortcut(keras.layers.Layer):
    """The parameter-free shortcut of He et al. 2015's CIFAR networks (option A, section 4.2).

    Where a stage halves the map and doubles the width, the identity cannot be added as it is: this layer
    keeps every ``strides``-th pixel and appends zero channels up to ``filters``. It has no weights, so the
    residual network has exactly the parameters of its plain twin.
    """

    def __init__(self, filters, strides=2, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.strides = filters, strides

    def call(self, inputs):
        x = inputs[:, :: self.strides, :: self.strides, :]
        extra = self.filters - x.shape[-1]
        return keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape

        def reduced(size):
            return None if size is None else -(-size // self.strides)

        return (batch, reduced(height), reduced(width), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides}
