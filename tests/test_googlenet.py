"""GoogLeNet, BN-Inception and the post's Inception Net against their papers' tables."""

import functools
import math

import pytest
from conftest import unallocated_build
from keras import layers

import cnn_notes
import cnn_notes.models.googlenet as googlenet
from cnn_notes.models.layers import LocalResponseNormalization
from cnn_notes.references import PAPERS


@functools.cache
def model(name, **options):
    """Each configuration is built once for this file, unallocated: the tests read its structure."""
    return unallocated_build(name, **options)


@pytest.fixture(autouse=True, scope="module")
def _release_models():
    yield
    model.cache_clear()


def _size(weight):
    return math.prod(weight.shape)


def _kernels_and_biases(m):
    kernels = sum(_size(w) for w in m.trainable_weights if "kernel" in w.path)
    biases = sum(_size(w) for w in m.trainable_weights if "bias" in w.path)
    return kernels, biases


def _shape(m, layer):
    return tuple(m.get_layer(layer).output.shape[1:])


def _conv_filters(m):
    return sum(layer.filters for layer in m.layers if isinstance(layer, layers.Conv2D))


def _conv_macs(m, prefix):
    """Multiply-accumulates of the convolutions whose names start with ``prefix``."""
    convs = [layer for layer in m.layers if isinstance(layer, layers.Conv2D) and layer.name.startswith(prefix)]
    return sum(math.prod(conv.output.shape[1:3]) * _size(conv.kernel) for conv in convs)


# Szegedy et al. 2014, Table 1: output size, and "ops" (millions of multiply-adds) of each module.
TABLE1 = {
    "3a": ((28, 28, 256), 128),
    "3b": ((28, 28, 480), 304),
    "4a": ((14, 14, 512), 73),
    "4b": ((14, 14, 512), 88),
    "4c": ((14, 14, 512), 100),
    "4d": ((14, 14, 528), 119),
    "4e": ((14, 14, 832), 170),
    "5a": ((7, 7, 832), 54),
    "5b": ((7, 7, 1024), 71),
}


def test_googlenet_follows_table1_sizes():
    m = model("googlenet")
    assert _shape(m, "conv1_7x7_s2") == (112, 112, 64)
    assert _shape(m, "pool1_3x3_s2") == (56, 56, 64)
    assert _shape(m, "conv2_3x3") == (56, 56, 192)
    assert _shape(m, "pool2_3x3_s2") == (28, 28, 192)
    assert _shape(m, "pool3_3x3_s2") == (14, 14, 480)
    assert _shape(m, "pool4_3x3_s2") == (7, 7, 832)
    for module, (size, _) in TABLE1.items():
        assert _shape(m, f"inception_{module}_output") == size, module
    assert [type(m.get_layer(n)) for n in ("pool1_norm1", "conv2_norm2")] == [LocalResponseNormalization] * 2


def test_googlenet_ops_column():
    m = model("googlenet")
    for module, (_, ops) in TABLE1.items():
        macs = _conv_macs(m, f"inception_{module}_")
        if module == "5a":
            # Table 1 prints 54M for 5a, whose filter columns give 49 * 1,042,432 = 51.1M.
            assert round(macs / 1e6, 1) == 51.1
        else:
            assert abs(macs / 1e6 - ops) < 1, module
    # The paper's 1.5 billion multiply-adds include a separable 7x7 (34M, not 118M) as the first layer.
    assert round(cnn_notes.count_macs(m) / 1e9, 3) == 1.583
    separable = model("googlenet", separable_stem=True)
    assert cnn_notes.count_macs(m) - cnn_notes.count_macs(separable) == 112 * 112 * (9_408 - 2_712)
    assert round(cnn_notes.count_macs(separable) / 1e9, 1) == 1.5


def test_googlenet_parameters_in_table1_units():
    m = model("googlenet")
    kernels, biases = _kernels_and_biases(m)
    assert (kernels, biases) == (6_990_272, 8_280)
    assert cnn_notes.param_counts(m).total == kernels + biases == 6_998_552
    # In plain millions that is 7.0M, not the 6.8M quoted from Table 1: the table counts in K = 1024 ...
    assert round(cnn_notes.param_counts(m).total / 1e6, 1) == 7.0
    assert _size(m.get_layer("conv2_3x3_reduce").kernel) + _size(m.get_layer("conv2_3x3").kernel) == 112 * 1024
    assert _size(m.get_layer("predictions").kernel) == 1000 * 1024
    # ... and in its units the weights are 6826.4K, i.e. the paper's 6.8 (thousand K).
    assert round(kernels / 1024 / 1000, 1) == PAPERS["googlenet"].params_millions
    # Table 1's 2.7K for the 7x7 convolution is a separable one: 7*7*3*8 + 3*8*64 weights.
    conv1 = model("googlenet", separable_stem=True).get_layer("conv1_7x7_s2")
    assert _size(conv1.depthwise_kernel) + _size(conv1.pointwise_kernel) == 2_712
    assert round(112 * 112 * 2_712 / 1e6) == 34


def test_googlenet_auxiliary_heads():
    m = model("googlenet", aux_logits=True)
    assert [t.shape[1:] for t in m.outputs] == [(1000,)] * 3
    assert [name.split("/")[0] for name in m.output_names] == ["predictions", "loss1_classifier", "loss2_classifier"]
    # Section 5: 5x5/3 average pooling gives 4x4x512 on 4a and 4x4x528 on 4d.
    assert _shape(m, "loss1_ave_pool") == (4, 4, 512)
    assert _shape(m, "loss2_ave_pool") == (4, 4, 528)
    assert m.get_layer("loss1_drop_fc").rate == 0.7
    heads = {
        head: sum(layer.count_params() for layer in m.layers if layer.name.startswith(head))
        for head in ("loss1", "loss2")
    }
    assert heads == {"loss1": 65_664 + 2_098_176 + 1_025_000, "loss2": 67_712 + 2_098_176 + 1_025_000}
    assert cnn_notes.param_counts(m).total == 6_998_552 + heads["loss1"] + heads["loss2"]


def test_googlenet_auxiliary_heads_need_the_top_and_65_pixels():
    with pytest.raises(ValueError, match="aux_logits"):
        cnn_notes.build("googlenet", aux_logits=True, include_top=False)
    unallocated_build("googlenet", aux_logits=True, input_shape=(65, 65, 3))
    with pytest.raises(ValueError, match="at least 65x65"):
        cnn_notes.build("googlenet", aux_logits=True, input_shape=(64, 64, 3))


# Ioffe & Szegedy 2015, Figure 5: output size of each module (3c and 4e after their stride 2).
FIGURE5 = {
    "3a": (28, 28, 256),
    "3b": (28, 28, 320),
    "3c": (14, 14, 576),
    "4a": (14, 14, 576),
    "4b": (14, 14, 576),
    "4c": (14, 14, 576),
    "4d": (14, 14, 576),
    "4e": (7, 7, 1024),
    "5a": (7, 7, 1024),
    "5b": (7, 7, 1024),
}
# Where Figure 5's filter columns, which the builder follows, disagree with its depth column:
# 4c = 160 + 160 + 160 + 128, 4d = 96 + 192 + 192 + 128, 4e = 192 + 256 + 608 (the pass-through).
FILTER_COLUMNS = {"4c": 608, "4d": 608, "4e": 1056}


def test_inception_v2_follows_figure5():
    m = model("inception_v2")
    for module, (height, width, depth) in FIGURE5.items():
        assert _shape(m, f"inception_{module}_output") == (height, width, FILTER_COLUMNS.get(module, depth)), module
    # 5b and the stride-2 modules pool with max, the others with avg; 3c and 4e pass the pool through.
    pools = {module: type(m.get_layer(f"inception_{module}_pool")).__name__ for module in FIGURE5}
    assert {module for module, pool in pools.items() if pool == "MaxPooling2D"} == {"3c", "4e", "5b"}
    names = {layer.name for layer in m.layers}
    for module in ("3c", "4e"):
        assert f"inception_{module}_1x1" not in names and f"inception_{module}_pool_proj" not in names
    # BN before every ReLU, no bias, no LRN.
    convs = [layer for layer in m.layers if isinstance(layer, layers.Conv2D)]
    assert len(convs) == sum(isinstance(layer, layers.BatchNormalization) for layer in m.layers) == 69
    assert not any(conv.use_bias for conv in convs)
    assert not any(isinstance(layer, LocalResponseNormalization) for layer in m.layers)


def test_inception_v2_parameters_equal_the_caffe_port():
    m = model("inception_v2")
    counts = cnn_notes.param_counts(m)
    filters = _conv_filters(m)
    assert counts.non_trainable == 2 * filters  # BN's moving mean and variance
    # pretrainedmodels' bninception (a Caffe port) has the same layers plus a bias in every convolution;
    # its published count (torch, learnable parameters only) is 11,295,240.
    assert counts.trainable + filters == 11_295_240


def test_inception_v2_costs_about_30_percent_more_than_googlenet():
    # The paper's appendix: the double 3x3 "increases ... the computational cost by about 30%" (both
    # networks with the separable first layer the paper describes).
    ratio = cnn_notes.count_macs(model("inception_v2", separable_stem=True)) / cnn_notes.count_macs(
        model("googlenet", separable_stem=True)
    )
    assert round(ratio, 2) == 1.30


def test_custom_inception_quirks():
    m = model("custom_inception")
    assert _shape(m, "pool2_3x3_s2") == (4, 4, 192)
    assert _shape(m, "inception_4a_output") == (2, 2, 512)
    # The "auxiliary" 2x2/3 pool averages 4a's whole 2x2 map.
    assert _shape(m, "loss1_ave_pool") == (1, 1, 512)
    assert m.get_layer("loss1_drop_fc").rate == 0.7
    assert m.layers[-1].name == "predictions"


def test_custom_inception_with_the_papers_3b_has_20000_fewer_parameters(monkeypatch):
    monkeypatch.setitem(googlenet.CUSTOM_INCEPTION_MODULES, "3b", googlenet.GOOGLENET_STAGES[0]["3b"])
    total = cnn_notes.param_counts(cnn_notes.build("custom_inception")).total
    assert total == 1_353_284 == 1_373_284 - 32 * (256 + 1) - 32 * (192 + 96 + 16 + 64)


def test_custom_inception_minimum_size_comes_from_its_head():
    assert cnn_notes.build("custom_inception", input_shape=(17, 17, 3)).output.shape[1:] == (100,)
    with pytest.raises(ValueError, match="at least 17x17"):
        cnn_notes.build("custom_inception", input_shape=(16, 16, 3))
