"""Inception v3/v4 and Inception-ResNet v1/v2 against the papers' grid sizes, keras.applications' layer
order and names, and the published counts of timm and OpenVINO's model zoo."""

import keras
import numpy as np
import pytest
from conftest import default_model, keras_twin

import cnn_notes
import cnn_notes.models.inception
from cnn_notes.models.inception import RESNET_V1_C, ScaledResidual, inception_resnet_block
from cnn_notes.models.memory import unallocated

# Feature maps after the named layers, (height, width, channels) at 299x299.
GRIDS = {
    # Szegedy et al. 2015, Table 1: 35x35x288 into the 17x17 stage, 17x17x768, 8x8x1280, 8x8x2048.
    "inception_v3": {
        "pool_5a": (35, 35, 192), "mixed2": (35, 35, 288), "mixed3": (17, 17, 768), "mixed7": (17, 17, 768),
        "mixed8": (8, 8, 1280), "mixed10": (8, 8, 2048),
    },
    # Szegedy et al. 2016, Figures 3 (stem: 73x73x160, 71x71x192, 35x35x384), 7 and 8, and Figure 9.
    "inception_v4": {
        "mixed_3a": (73, 73, 160), "mixed_4a": (71, 71, 192), "mixed_5a": (35, 35, 384),
        "mixed_5e": (35, 35, 384), "mixed_6a": (17, 17, 1024), "mixed_6h": (17, 17, 1024),
        "mixed_7a": (8, 8, 1536), "mixed_7d": (8, 8, 1536),
    },
    # Figures 14 (stem: 35x35x256), 7 (k, l, m, n = 192, 192, 256, 384) and 12, and Figure 15.
    "inception_resnet_v1": {
        "conv_4b_ac": (35, 35, 256), "block35_5_ac": (35, 35, 256), "mixed_6a": (17, 17, 896),
        "block17_10_ac": (17, 17, 896), "mixed_7a": (8, 8, 1792), "block8_5_ac": (8, 8, 1792),
    },
    # keras.applications' (TF-Slim's) Inception-ResNet-v2: 35x35x320, 17x17x1088, 8x8x2080, 8x8x1536.
    "inception_resnet_v2": {
        "mixed_5b": (35, 35, 320), "mixed_6a": (17, 17, 1088), "mixed_7a": (8, 8, 2080),
        "conv_7b_ac": (8, 8, 1536),
    },
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(GRIDS))
def test_grid_sizes_follow_the_papers(name):
    model = default_model(name)
    shapes = {layer: tuple(model.get_layer(layer).output.shape[1:]) for layer in GRIDS[name]}
    assert shapes == GRIDS[name]


KERAS = ["inception_v3", "inception_resnet_v2"]


@pytest.mark.parametrize("name", KERAS)
def test_mirrors_keras_layer_for_layer(name):
    ours = default_model(name)
    theirs = keras_twin(name)

    def signature(model):
        return [(len(layer.weights), [tuple(w.shape) for w in layer.weights]) for layer in model.layers]

    # Same layers in the same order with the same weights: keras' weight lists load as they are (set_weights
    # takes a list in model.weights' order and checks each shape).
    assert signature(ours) == signature(theirs)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    # Every name keras sets itself (mixed0, block35_1_conv, conv_7b_bn, ...) is kept; the rest are ours.
    auto = ("conv2d", "batch_normalization", "activation", "max_pooling2d", "average_pooling2d",
            "concatenate", "custom_scale_layer", "input_layer")  # fmt: skip
    keras_named = {layer.name for layer in theirs.layers if not layer.name.startswith(auto)}
    assert keras_named - {layer.name for layer in ours.layers} == set()


@pytest.mark.parametrize("name", ["inception_v3"])
def test_inception_v3_count_decomposes_torchvision(name):
    # torchvision's Inception_V3_Weights: num_params 27,161,264. It counts BN's scale (gamma), which
    # keras' BN has not, and builds the auxiliary classifier (InceptionAux on mixed7's 17x17x768):
    # 1x1 conv 768 -> 128 with BN, 5x5 conv 128 -> 768 with BN, dense 768 -> 1000.
    aux = (768 * 128 + 2 * 128) + (25 * 128 * 768 + 2 * 768) + (768 * 1000 + 1000)
    counts = cnn_notes.param_counts(default_model(name))
    assert counts.trainable + counts.non_trainable // 2 + aux == 27_161_264


@pytest.mark.parametrize("name", ["inception_resnet_v2"])
def test_inception_resnet_v2_scales_follow_keras(name):
    # keras.applications: 0.17, 0.1, 0.2, and 1.0 without ReLU for the last block8.
    model = default_model(name)
    scales = {layer.name: layer.scale for layer in model.layers if isinstance(layer, ScaledResidual)}
    expected = {
        **{f"block35_{i}": 0.17 for i in range(1, 11)},
        **{f"block17_{i}": 0.1 for i in range(1, 21)},
        **{f"block8_{i}": 0.2 for i in range(1, 10)},
        "block8_10": 1.0,
    }
    assert scales == expected
    names = {layer.name for layer in model.layers}
    assert "block8_9_ac" in names and "block8_10_ac" not in names


@pytest.mark.parametrize("name", ["inception_v4"])
def test_inception_v4_counts_equal_timm(name):
    # timm's results/results-imagenet.csv: inception_v4.tf_in1k, param_count 42.68 (millions); its model
    # card: 12.3 GMACs at 299x299. timm's BatchNorm2d has a scale (gamma) per channel that Keras' BN here
    # (scale=False, as TF-Slim) lacks; the two moving statistics per channel make non_trainable / 2 = channels.
    model = default_model(name)
    counts = cnn_notes.param_counts(model)
    assert counts.trainable + counts.non_trainable // 2 == 42_679_816
    assert round((counts.trainable + counts.non_trainable // 2) / 1e6, 2) == 42.68
    assert round(cnn_notes.count_macs(model) / 1e9, 1) == 12.3


@pytest.mark.parametrize("name", ["inception_resnet_v2"])
def test_inception_resnet_v2_count_equals_timm(name):
    # timm's results-imagenet.csv: inception_resnet_v2.tf_in1k, param_count 55.84 (BN with scale, as above).
    counts = cnn_notes.param_counts(default_model(name))
    assert round((counts.trainable + counts.non_trainable // 2) / 1e6, 2) == 55.84


@pytest.mark.parametrize("name", ["inception_v4"])
def test_inception_v4_inception_a_by_hand(name):
    # Figure 4 on a 35x35x384 map: 1x1 96 | 1x1 64 -> 3x3 96 | 1x1 64 -> 3x3 96 -> 3x3 96 | pool -> 1x1 96.
    kernels = 384 * 96 + (384 * 64 + 9 * 64 * 96) + (384 * 64 + 9 * 64 * 96 + 9 * 96 * 96) + 384 * 96
    shifts = 96 + (64 + 96) + (64 + 96 + 96) + 96  # one BN beta per output channel
    model = default_model(name)
    block = [layer for layer in model.layers if layer.name.startswith("mixed_5b_")]
    assert sum(w.numpy().size for layer in block for w in layer.trainable_weights) == kernels + shifts == 317_024


@pytest.mark.parametrize("name", ["inception_resnet_v1"])
def test_inception_resnet_v1_block_a_by_hand(name):
    # Figure 10 on 35x35x256: 1x1 32 | 1x1 32 -> 3x3 32 | 1x1 32 -> 3x3 32 -> 3x3 32, then a linear 1x1
    # back to 256 channels with a bias and no BN.
    kernels = 256 * 32 + (256 * 32 + 9 * 32 * 32) + (256 * 32 + 9 * 32 * 32 + 9 * 32 * 32)
    shifts = 6 * 32
    up = 96 * 256 + 256
    model = default_model(name)
    block = [layer for layer in model.layers if layer.name.startswith("block35_1_")]
    assert sum(w.numpy().size for layer in block for w in layer.trainable_weights) == kernels + shifts + up


def test_inception_resnet_v1_matches_facenet_as_published():
    # OpenVINO's model zoo, facenet-20180408-102900 (D. Sandberg's TF-Slim Inception-ResNet-v1, 160x160):
    # 23.469 MParams, 2.846 GFlops. facenet = this trunk + a sixth Inception-ResNet-C block (unscaled,
    # linear) + a 1792 -> 512 bottleneck without bias, with BN. A frozen graph folds each BN into one bias
    # per channel, which is Keras' trainable count here (kernel + beta); the last 1,176 parameters (0.005%)
    # are not accounted for (the bottleneck BN's statistics, 1,024, if left unfolded).
    with unallocated():  # counted, never run
        trunk = cnn_notes.build("inception_resnet_v1", include_top=False, input_shape=(160, 160, 3))
        inputs = keras.Input(trunk.output.shape[1:])
        x = inception_resnet_block(inputs, RESNET_V1_C, 1.0, None, name="block8_6")
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = keras.layers.Dense(512, use_bias=False, name="bottleneck")(x)
        x = keras.layers.BatchNormalization(scale=False, name="bottleneck_bn")(x)
        head = keras.Model(inputs, x)
    params = cnn_notes.param_counts(trunk).trainable + cnn_notes.param_counts(head).trainable
    assert params == 23_467_824
    assert params / 1e6 == pytest.approx(23.469, rel=1e-4)
    gflops = 2 * (cnn_notes.count_macs(trunk) + cnn_notes.count_macs(head)) / 1e9
    assert gflops == pytest.approx(2.846, rel=0.01)


def test_scaled_residual_adds_the_scaled_branch_and_round_trips():
    layer = ScaledResidual(0.17, name="block35_1")
    shortcut = np.arange(6, dtype="float32").reshape(1, 1, 2, 3)
    residual = np.full((1, 1, 2, 3), 2.0, dtype="float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer([shortcut, residual])), shortcut + 0.34, rtol=1e-6)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert (type(clone), clone.name, clone.scale) == (ScaledResidual, "block35_1", pytest.approx(0.17))
