"""The conceptual figures (cnn_notes/concepts.py): each drawn from small models built for it, so the boxes, widths
and MACs it shows are what the code computes. Cheap: the only builds are GoogLeNet (to check module 3a's MACs)
and EfficientNet-B0 on 64×64 inputs."""

import re

import matplotlib

matplotlib.use("Agg")

import keras
import matplotlib.pyplot as plt
import pytest
from conftest import default_model, unallocated_build
from test_errors import raise_clean

import cnn_notes
from cnn_notes import concepts



@pytest.fixture(scope="module")
def efficientnet():
    return unallocated_build("efficientnet_b0", include_top=False, input_shape=(64, 64, 3))


def box_labels(ax):
    return [t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("label:")]


def captions(figure):
    return [t.get_text() for t in figure.texts if t.get_gid() == "caption"]


def legend_texts(ax):
    legend = ax.get_legend()
    return [text.get_text() for text in legend.get_texts()] if legend else []


def macs_millions(caption):
    return float(re.search(r"([\d.]+)M MACs", caption).group(1))


def check_closed_and_narrow(figure):
    assert not plt.fignum_exists(figure.number)
    assert figure.get_size_inches()[0] <= 10


@pytest.mark.parametrize("name", ["googlenet"])  # grouped with the other GoogLeNet tests: one build
def test_inception_reductions_cut_the_macs_to_those_of_googlenets_3a(name):
    figure = concepts.plot_inception_naive_vs_reduced()
    check_closed_and_narrow(figure)
    naive, reduced = figure.axes
    assert box_labels(naive) == [
        "28×28×192", "1×1 conv, 64", "3×3 conv, 128", "5×5 conv, 32", "3×3 max", "concat", "28×28×416"
    ]  # fmt: skip
    assert {"1×1 conv, 96", "1×1 conv, 16", "1×1 conv, 32", "28×28×256"} <= set(box_labels(reduced))
    naive_caption, reduced_caption = captions(figure)
    assert naive_caption.startswith("(a) naive") and reduced_caption.startswith("(b) with 1×1 reductions")
    # The naive module's MACs, by hand: 28×28 positions, 192 input channels, 1×1×64 + 3×3×128 + 5×5×32 kernels.
    assert macs_millions(naive_caption) == round(28 * 28 * 192 * (64 + 9 * 128 + 25 * 32) / 1e6)
    # The reduced module is GoogLeNet's own 3a: the same MACs as that module in the full model.
    googlenet = default_model(name)
    module = keras.Model(googlenet.get_layer("pool2_3x3_s2").output, googlenet.get_layer("inception_3a_output").output)
    assert macs_millions(reduced_caption) == round(cnn_notes.count_macs(module) / 1e6)
    assert macs_millions(reduced_caption) < macs_millions(naive_caption) / 2


def test_plain_and_residual_blocks_differ_by_the_identity_shortcut():
    figure = concepts.plot_plain_vs_residual()
    check_closed_and_narrow(figure)
    plain, residual = figure.axes
    assert box_labels(plain) == ["56×56×64", "3×3 conv, 64", "3×3 conv, 64", "56×56×64"]
    assert box_labels(residual) == ["56×56×64", "3×3 conv, 64", "3×3 conv, 64, linear", "+", "relu", "56×56×64"]
    assert legend_texts(plain) == [] and legend_texts(residual) == ["shortcut into the addition"]
    assert "H(x)" in captions(figure)[0] and "F(x) = H(x) − x" in captions(figure)[1]


def test_inception_becomes_a_grouped_then_a_depthwise_convolution():
    figure = concepts.plot_inception_to_xception()
    check_closed_and_narrow(figure)
    simplified, grouped, extreme = figure.axes
    assert box_labels(simplified).count("1×1 conv, 16") == 3 and box_labels(simplified).count("3×3 conv, 16") == 3
    assert box_labels(grouped) == ["12×12×48", "1×1 conv, 48", "3×3 conv, 48, g=3", "12×12×48"]
    assert box_labels(extreme) == ["12×12×48", "1×1 conv, 48", "dw 3×3", "12×12×48"]
    macs = [macs_millions(caption) for caption in captions(figure)]
    # The reformulation is strictly equivalent (the same MACs); the depthwise 3×3 is far cheaper.
    assert macs[0] == macs[1] > 3 * macs[2]


def test_mbconv_is_narrow_wide_narrow(efficientnet):
    widths = concepts.mbconv_widths(efficientnet, "block2b")
    # 24 in, expansion ratio 6, squeeze-and-excitation to a quarter of the input, projection back to 24.
    assert [c for _, c in widths] == [24, 144, 144, 6, 144, 24]
    figure = concepts.plot_mbconv_widths(efficientnet)
    check_closed_and_narrow(figure)
    (ax,) = figure.axes
    assert [round(bar.get_height()) for bar in ax.patches] == [24, 144, 144, 6, 144, 24]
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["input", "expand 1×1", "depthwise 3×3"]
    assert ax.get_ylabel() == "channels"
    # Another block of the same stage has the same widths; the default model is EfficientNet-B0.
    assert [c for _, c in concepts.mbconv_widths(efficientnet, "block3b")] == [40, 240, 240, 10, 240, 40]
    default = concepts.plot_mbconv_widths()
    assert [round(bar.get_height()) for bar in default.axes[0].patches] == [24, 144, 144, 6, 144, 24]


def test_mbconv_widths_refuses_bad_arguments(efficientnet):
    raise_clean(lambda: concepts.plot_mbconv_widths(efficientnet, "block1a"), "Received: block='block1a'")
    raise_clean(lambda: concepts.plot_mbconv_widths(efficientnet, 2), "Received: block=2")
    raise_clean(lambda: concepts.plot_mbconv_widths("efficientnet_b0"), "Received: model='efficientnet_b0'")


def test_receptive_field_grows_by_two_per_layer():
    figure = concepts.plot_receptive_field()
    check_closed_and_narrow(figure)
    assert [ax.get_title() for ax in figure.axes] == ["1 layer of 3×3: 3×3", "2 layers of 3×3: 5×5",
                                                      "3 layers of 3×3: 7×7"]  # fmt: skip
    deep = concepts.plot_receptive_field(6)
    check_closed_and_narrow(deep)
    assert deep.axes[-1].get_title() == "6 layers of 3×3: 13×13"


@pytest.mark.parametrize("layers", [0, 7, 2.0, True, "3", None])
def test_receptive_field_refuses_bad_depths(layers):
    raise_clean(lambda: concepts.plot_receptive_field(layers), f"Received: layers={layers!r}", "`layers`")


def test_chinese_figures(chinese, efficientnet):
    naive, reduced = concepts.plot_inception_naive_vs_reduced().axes
    assert "3×3 卷积, 128" in box_labels(naive) and "拼接" in box_labels(naive)
    figure = concepts.plot_inception_to_xception()
    assert "逐通道 3×3" in box_labels(figure.axes[2])
    assert captions(figure)[0].startswith("(a) 简化的 Inception 模块") and "万次乘加" in captions(figure)[0]
    assert "亿次乘加" in captions(concepts.plot_inception_naive_vs_reduced())[1]
    residual = concepts.plot_plain_vs_residual()
    assert captions(residual)[0] == "(a) 普通块：学习 H(x)"
    assert legend_texts(residual.axes[1]) == ["捷径（送入相加）"]
    (ax,) = concepts.plot_mbconv_widths(efficientnet).axes
    assert ax.get_ylabel() == "通道数" and ax.get_xticklabels()[1].get_text() == "扩张 1×1"
    assert concepts.plot_receptive_field().axes[-1].get_title() == "3 层 3×3 卷积：7×7"
