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
