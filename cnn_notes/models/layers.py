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


@keras.saving.register_keras_serializable(package="cnn_notes")
class LayerScale(keras.layers.Layer):
    """Multiplies each channel by a learned scale, ``gamma``, initialised to ``init_values`` (Touvron et al.
    2021, "Going deeper with Image Transformers", arXiv:2103.17239).

    ConvNeXt (Liu et al. 2022) scales the residual branch of every block so, from 1e-6: each block starts
    close to the identity. The same layer as keras.applications' ConvNeXt ``LayerScale`` (which is not public
    API): one weight of ``projection_dim`` values, so keras' checkpoints load into it.
    """

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values, self.projection_dim = init_values, projection_dim

    def build(self, input_shape):
        self.gamma = self.add_weight(
            shape=(self.projection_dim,),
            initializer=keras.initializers.Constant(self.init_values),
            trainable=True,
            name="gamma",
        )

    def call(self, inputs):
        return inputs * self.gamma

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values, "projection_dim": self.projection_dim}


@keras.saving.register_keras_serializable(package="cnn_notes")
class StochasticDepth(keras.layers.Layer):
    """Drops the whole residual branch of a sample with probability ``drop_path_rate`` while training, and
    scales the kept ones by ``1 / (1 - rate)`` (Huang et al. 2016, "Deep Networks with Stochastic Depth",
    arXiv:1603.09382); the identity at inference. As keras.applications' ConvNeXt ``StochasticDepth`` (not
    public API), one draw per sample; no weights.
    """

    def __init__(self, drop_path_rate, **kwargs):
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def call(self, inputs, training=None):
        if not training or not self.drop_path_rate:
            return inputs
        keep = 1.0 - self.drop_path_rate
        shape = (keras.ops.shape(inputs)[0],) + (1,) * (len(inputs.shape) - 1)
        mask = keras.ops.floor(keep + keras.random.uniform(shape, 0, 1))
        return inputs / keep * mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}
