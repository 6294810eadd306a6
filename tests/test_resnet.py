"""ResNet-family checks: the ``use_bias`` and ``stride_in_3x3`` options, v1 against v1.5, v2's layout,
ResNeXt's groups and the post's ResNet as it is written.

The checks every model gets (counts against keras.applications and torchvision, MACs of the defaults and
of torchvision's v1.5, shapes, pooling, arguments, summaries) live in the shared tests; these cover what
only this family has. Only the smaller models are built here, each once.
"""

import functools
import math

import keras
import numpy as np
import pytest
from conftest import unallocated_build
from keras import layers

import cnn_notes
import cnn_notes.models.resnet
from cnn_notes.models.layers import ZeroPadShortcut
from cnn_notes.references import POST, TORCHVISION

# The reference file's analytic count of keras.applications.ResNet50V2.
RESNET50_V2_GMACS = 3.482


@functools.cache
def build(name, **kwargs):
    return unallocated_build(name, **kwargs)


def convs(model):
    return [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]


def layer_macs(layer):
    return math.prod(layer.output.shape[1:-1]) * math.prod(layer.kernel.shape)


def gmacs(model):
    return cnn_notes.count_macs(model) / 1e9


def inbound(model, name):
    return [t._keras_history.operation.name for t in model.get_layer(name)._inbound_nodes[0].input_tensors]


# --- use_bias ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, option", [("resnet18", True), ("resnet50", False)])
def test_use_bias_adds_one_bias_per_conv_filter(name, option):
    default, other = build(name), build(name, use_bias=option)
    with_bias, without = (other, default) if option else (default, other)
    assert all(conv.use_bias for conv in convs(with_bias))
    assert not any(conv.use_bias for conv in convs(without))
    filters = sum(conv.filters for conv in convs(without))
    assert cnn_notes.param_counts(with_bias).trainable - cnn_notes.param_counts(without).trainable == filters
    assert cnn_notes.param_counts(with_bias).non_trainable == cnn_notes.param_counts(without).non_trainable


def test_resnet50_without_bias_is_torchvisions():
    model = build("resnet50", use_bias=False)
    assert cnn_notes.param_counts(model).trainable == TORCHVISION["resnet50"].num_params == 25_557_032
    # 53 convolutions: the stem, 16 blocks of three, four projections.
    assert len(convs(model)) == 1 + 16 * 3 + 4


# --- stride_in_3x3: v1 (paper, keras) against v1.5 (torchvision) ------------------------------------------


def test_stride_in_3x3_moves_the_stride_from_the_first_1x1():
    v1, v15 = build("resnet50"), build("resnet50", stride_in_3x3=True)
    for stage in (3, 4, 5):
        block = f"conv{stage}_block1"
        assert v1.get_layer(f"{block}_1_conv").strides == (2, 2)
        assert v1.get_layer(f"{block}_2_conv").strides == (1, 1)
        assert v15.get_layer(f"{block}_1_conv").strides == (1, 1)
        assert v15.get_layer(f"{block}_2_conv").strides == (2, 2)
        # The 1x1 now runs at the input resolution: twice the side, four times the positions.
        side_v1 = v1.get_layer(f"{block}_1_conv").output.shape[1]
        assert v15.get_layer(f"{block}_1_conv").output.shape[1] == 2 * side_v1
        assert v15.get_layer(f"{block}_2_conv").output.shape[1] == side_v1
    # keras' own layer list has no padding layer in v1; v1.5 pads the strided 3x3 symmetrically.
    assert "conv3_block1_2_pad" not in [layer.name for layer in v1.layers]
    assert v15.get_layer("conv3_block1_2_pad").padding == ((1, 1), (1, 1))
    assert v15.get_layer("conv3_block1_2_conv").padding == "valid"


def test_v1_and_v15_share_weights_but_not_macs():
    v1, v15 = build("resnet50"), build("resnet50", stride_in_3x3=True)
    assert cnn_notes.param_counts(v1) == cnn_notes.param_counts(v15)
    weights = lambda m: sorted((w.path, tuple(w.shape)) for w in m.weights)
    assert weights(v1) == weights(v15)
    assert gmacs(v1) == pytest.approx(3.858, rel=0.01)
    assert TORCHVISION["resnet50"].gmacs == 4.089
    assert gmacs(v15) == pytest.approx(TORCHVISION["resnet50"].gmacs, rel=0.01)
    # The only change: each stage's first 1x1 sees four times the positions, so it costs three more
    # copies of its v1 count (77M MACs in each of stages 3-5).
    extra = sum(3 * layer_macs(v1.get_layer(f"conv{s}_block1_1_conv")) for s in (3, 4, 5))
    assert cnn_notes.count_macs(v15) - cnn_notes.count_macs(v1) == extra


# --- basic blocks (torchvision's ResNet-18/34) -------------------------------------------------------------


def test_basic_block_projects_only_where_the_shape_changes():
    model = build("resnet18")
    names = {layer.name for layer in model.layers}
    assert "conv2_block1_0_conv" not in names  # 64 -> 64 at 56x56: identity
    assert inbound(model, "conv2_block1_add")[0] == "pool1_pool"
    for stage, (c_in, c_out) in zip((3, 4, 5), ((64, 128), (128, 256), (256, 512))):
        block = f"conv{stage}_block1"
        assert tuple(model.get_layer(f"{block}_0_conv").kernel.shape) == (1, 1, c_in, c_out)
        assert model.get_layer(f"{block}_0_conv").strides == (2, 2)
        assert tuple(model.get_layer(f"{block}_1_conv").kernel.shape) == (3, 3, c_in, c_out)
        assert f"conv{stage}_block2_0_conv" not in names
    assert cnn_notes.stage_shapes(model)[-1].shape == (7, 7, 512)


def test_strided_3x3_is_aligned_as_torchvision():
    # A 3x3/2 on a 4x4 map of ones: torchvision pads one pixel all round, so output (0, 0) sums a 2x2
    # corner (4); Keras' padding="same" would pad only bottom/right and sum a full 3x3 (9).
    inputs = keras.Input((4, 4, 1))
    outputs = cnn_notes.models.resnet.conv_bn(inputs, 1, 3, strides=2, use_bias=False, name="t")
    model = keras.Model(inputs, outputs)
    model.get_layer("t_conv").set_weights([np.ones((3, 3, 1, 1), "float32")])
    out = model(np.ones((1, 4, 4, 1), "float32"), training=False)[0, :, :, 0]
    scale = 1 / math.sqrt(1 + cnn_notes.models.resnet.BN_EPSILON)
    np.testing.assert_allclose(np.asarray(out), np.array([[4, 6], [6, 9]]) * scale, rtol=1e-6)


# --- v2 ----------------------------------------------------------------------------------------------------


def test_v2_strides_in_the_last_block_and_pre_activates():
    model = build("resnet50_v2")
    for stage, blocks in zip((2, 3, 4), (3, 4, 6)):
        last = f"conv{stage}_block{blocks}"
        assert model.get_layer(f"{last}_2_conv").strides == (2, 2)
        assert model.get_layer(f"conv{stage}_block1_2_conv").strides == (1, 1)
        assert inbound(model, f"{last}_0_pool") == [f"conv{stage}_block{blocks - 1}_out"]
    assert all(layer.strides == (1, 1) for layer in convs(model) if layer.name.startswith("conv5"))
    # The projection reads the pre-activated input; only convolutions not followed by BN have a bias.
    assert inbound(model, "conv3_block1_0_conv") == ["conv3_block1_preact_relu"]
    biased = {conv.name.rsplit("_", 2)[-2] for conv in convs(model) if conv.use_bias and conv.name != "conv1_conv"}
    assert biased == {"0", "3"}
    assert inbound(model, "post_bn") == ["conv5_block3_out"]
    assert cnn_notes.stage_shapes(model)[-1].shape == (7, 7, 2048)
    assert round(gmacs(model), 3) == RESNET50_V2_GMACS


# --- ResNeXt -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, paths, width", [("resnext50_32x4d", 32, 4), ("resnext101_32x8d", 32, 8)])
def test_resnext_grouped_3x3(name, paths, width):
    model = build(name)
    for stage, planes in zip((2, 3, 4, 5), (64, 128, 256, 512)):
        conv = model.get_layer(f"conv{stage}_block1_2_conv")
        bottleneck = planes * width // 64 * paths
        assert conv.groups == paths
        # Each of the 32 paths maps its own bottleneck/32 channels: the kernel's input axis is per group.
        assert tuple(conv.kernel.shape) == (3, 3, bottleneck // paths, bottleneck)
        assert model.get_layer(f"conv{stage}_block1_3_conv").filters == 4 * planes
        # Stride in the 3x3, as the ResNeXt paper and torchvision.
        if stage > 2:
            assert conv.strides == (2, 2) and model.get_layer(f"conv{stage}_block1_1_conv").strides == (1, 1)
    assert not any(conv.use_bias for conv in convs(model))
    assert cnn_notes.param_counts(model).trainable == TORCHVISION[name].num_params
    assert gmacs(model) == pytest.approx(TORCHVISION[name].gmacs, rel=0.01)


def test_resnext50_is_resnet50_v15_with_grouped_wider_3x3s():
    resnext, resnet = build("resnext50_32x4d"), build("resnet50", use_bias=False, stride_in_3x3=True)
    # The same layers; only the widths inside the bottleneck change. The 3x3 is twice as wide but
    # split in 32 groups: 9 * (2c)^2 / 32 = 9 * c^2 / 8 weights against ResNet-50's 9 * c^2.
    names = lambda m: [layer.name for layer in m.layers]
    assert names(resnext) == names(resnet)
    for stage in (2, 3, 4, 5):
        a = resnext.get_layer(f"conv{stage}_block2_2_conv").count_params()
        b = resnet.get_layer(f"conv{stage}_block2_2_conv").count_params()
        assert a * 8 == b
    diff = cnn_notes.param_counts(resnet).trainable - cnn_notes.param_counts(resnext).trainable
    assert diff == TORCHVISION["resnet50"].num_params - TORCHVISION["resnext50_32x4d"].num_params


# --- the post's ResNet -------------------------------------------------------------------------------------


def test_custom_resnet_shortcut_is_a_3x3_convolution():
    model = build("custom_resnet")
    widths = (16, 32, 32, 32, 64, 64, 256)
    for i in range(1, 7):
        shortcut = model.get_layer(f"block{i}_0_conv")
        # A 3x3 even where the width is unchanged (blocks 2, 3, 5): never an identity.
        assert tuple(shortcut.kernel.shape) == (3, 3, widths[i - 1], widths[i])
        assert shortcut.strides == (1, 1) and shortcut.padding == "same"
        assert inbound(model, f"block{i}_0_conv") == inbound(model, f"block{i}_1_conv")
        assert sorted(inbound(model, f"block{i}_add")) == [f"block{i}_0_conv", f"block{i}_2_conv"]


def test_custom_resnet_order_after_the_sum():
    model = build("custom_resnet")
    # add -> [max-pool] -> dropout -> BN -> ReLU; the residual's second conv has no BN before the sum.
    assert inbound(model, "block3_pool") == ["block3_add"]
    assert inbound(model, "block3_dropout") == ["block3_pool"]
    assert inbound(model, "block3_bn") == ["block3_dropout"]
    assert inbound(model, "block1_dropout") == ["block1_add"]
    assert [model.get_layer(f"block{i}_dropout").rate for i in range(1, 7)] == [0.2, 0.3, 0.4, 0.2, 0.2, 0.4]
    assert all(conv.strides == (1, 1) for conv in convs(model))


def test_custom_resnet_counts_come_from_the_flatten_head():
    model = build("custom_resnet")
    counts = cnn_notes.param_counts(model)
    assert (counts.total, counts.non_trainable) == POST["custom_resnet"] == (68_671_236, 1_952)
    assert model.get_layer("flatten").output.shape[-1] == 8 * 8 * 256
    fc1 = model.get_layer("fc1").count_params()
    assert fc1 == 8 * 8 * 256 * 4096 + 4096
    assert fc1 / counts.total > 0.97
    # Every BN's moving mean and variance are the non-trainable weights.
    bns = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    bn_channels = sum(layer.gamma.shape[0] for layer in bns)
    assert 2 * bn_channels == counts.non_trainable


def test_custom_resnet_with_the_errata_mended():
    model = build("custom_resnet", identity_shortcuts=True, pooled_head=True, classes=10)
    # Identity where the width is unchanged (blocks 2, 3, 5), a 1x1 projection where it changes.
    assert sorted(inbound(model, "block2_add")) == ["block1_out", "block2_2_conv"]
    projections = {i: tuple(model.get_layer(f"block{i}_0_conv").kernel.shape) for i in (1, 4, 6)}
    assert projections == {1: (1, 1, 16, 32), 4: (1, 1, 32, 64), 6: (1, 1, 64, 256)}
    assert not any(layer.name.startswith(("block2_0", "block3_0", "block5_0")) for layer in model.layers)
    # Global average pooling replaces Flatten + Dense(4096): 256 * 10 + 10 classifier weights.
    assert inbound(model, "predictions") == ["avg_pool"]
    assert model.get_layer("predictions").count_params() == 256 * 10 + 10
    plain = cnn_notes.param_counts(build("custom_resnet", classes=10)).total
    assert cnn_notes.param_counts(model).total < plain / 70
    # Without the blocks' dropout: the same weights, no dropout before any BN.
    bare = build("custom_resnet", identity_shortcuts=True, pooled_head=True, classes=10, block_dropout=False)
    assert [tuple(w.shape) for w in bare.weights] == [tuple(w.shape) for w in model.weights]
    assert not any(isinstance(layer, layers.Dropout) for layer in bare.layers)


# --- the paper's CIFAR-10 networks ------------------------------------------------------------------------------


@pytest.mark.parametrize("depth, n", [(20, 3), (56, 9)])
def test_cifar_networks_have_6n_plus_2_layers_and_the_paper_s_stages(depth, n):
    for kind in ("resnet", "plain"):
        model = build(f"{kind}{depth}_cifar")
        weighted = [layer for layer in model.layers if isinstance(layer, (layers.Conv2D, layers.Dense))]
        assert len(weighted) == 6 * n + 2
        shapes = [tuple(model.get_layer(f"stage{s}_block{n}_out").output.shape[1:]) for s in (1, 2, 3)]
        assert shapes == [(32, 32, 16), (16, 16, 32), (8, 8, 64)]
    residual, plain = build(f"resnet{depth}_cifar"), build(f"plain{depth}_cifar")
    assert [tuple(w.shape) for w in residual.weights] == [tuple(w.shape) for w in plain.weights]
    assert not any(isinstance(layer, layers.Add) for layer in plain.layers)
    assert sum(isinstance(layer, layers.Add) for layer in residual.layers) == 3 * n


def test_option_a_shortcut_subsamples_and_pads_with_zeros():
    model = build("resnet20_cifar")
    pad = model.get_layer("stage2_block1_0_pad")
    assert pad.count_params() == 0 and inbound(model, "stage2_block1_0_pad") == ["stage1_block3_out"]
    x = np.arange(2 * 4 * 4 * 3, dtype="float32").reshape(2, 4, 4, 3)
    y = keras.ops.convert_to_numpy(ZeroPadShortcut(5, 2)(x))
    assert y.shape == (2, 2, 2, 5)
    np.testing.assert_array_equal(y[..., :3], x[:, ::2, ::2, :])
    np.testing.assert_array_equal(y[..., 3:], 0)


# --- option checks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("resnet50", {"use_bias": 1}, "`use_bias` must be True or False"),
        ("resnet50", {"stride_in_3x3": "yes"}, "`stride_in_3x3` must be True or False"),
        ("resnext50_32x4d", {"stride_in_3x3": None}, "`stride_in_3x3` must be True or False"),
        ("resnet18", {"stride_in_3x3": True}, "Unknown argument"),
        ("resnet50_v2", {"use_bias": False}, "Unknown argument"),
        ("custom_resnet", {"use_bias": False}, "Unknown argument"),
        ("custom_resnet", {"identity_shortcuts": 1}, "`identity_shortcuts` must be True or False"),
        ("custom_resnet", {"pooled_head": "yes"}, "`pooled_head` must be True or False"),
        ("custom_resnet", {"block_dropout": 0}, "`block_dropout` must be True or False"),
        ("resnet20_cifar", {"use_bias": False}, "Unknown argument"),
    ],
)
def test_family_options_are_checked(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cnn_notes.build(name, **kwargs)
