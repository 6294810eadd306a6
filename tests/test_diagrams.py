"""Block diagrams (cnn_notes.diagrams): the raw layers of a block, and the papers' view that fuses a convolution
with its BatchNormalization and activation into one labelled box.

Every model is built once, small and without its top: the labels and connections of a block do not depend on
the input size."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from conftest import unallocated_build
from matplotlib.lines import Line2D
from test_errors import raise_clean

import cnn_notes


def small(name, side):
    return unallocated_build(name, include_top=False, input_shape=(side, side, 3))


@pytest.fixture(scope="module")
def densenet():
    return small("densenet121", 64)


@pytest.fixture(scope="module")
def googlenet():
    return small("googlenet", 64)


@pytest.fixture(scope="module")
def resnet50():
    return small("resnet50", 32)


@pytest.fixture(scope="module")
def inception_v3():
    return small("inception_v3", 75)


@pytest.fixture(scope="module")
def efficientnet():
    return small("efficientnet_b0", 32)



def labels(graph):
    return [graph.labels[n] for n in graph.nodes]


def inputs(graph, node):
    return [source for source, target in graph.edges if target == node]


def legend_texts(figure):
    legend = figure.axes[0].get_legend()
    return [text.get_text() for text in legend.get_texts()] if legend else []


def lanes(figure):
    """The x of each long connection's vertical run, and the boxes' right edges on the rows it passes."""
    ax = figure.axes[0]
    found = {}
    for line in ax.lines:
        gid = line.get_gid() or ""
        if gid.startswith("long:"):
            xs, ys = line.get_xdata(), line.get_ydata()
            found[gid] = (xs[1], min(ys), max(ys))
    return found


# The raw view: one node per Keras layer.


def test_dense_block_graph_has_the_concatenation_shortcut(densenet):
    graph = cnn_notes.block_graph(densenet, "pool1", "conv2_block1_concat")
    assert graph.nodes[0] == "pool1" and graph.nodes[-1] == "conv2_block1_concat"
    # The block's input reaches the concatenation directly: the dense connection.
    assert ("pool1", "conv2_block1_concat") in graph.edges
    assert len(graph.nodes) == 8  # pool1, BN, ReLU, 1x1 conv, BN, ReLU, 3x3 conv, concat
    assert graph.positions["conv2_block1_concat"][1] == 7


def test_inception_module_fans_out_into_four_columns(googlenet):
    graph = cnn_notes.block_graph(googlenet, "pool2_3x3_s2", "inception_3a_output")
    first_row = sorted(x for name, (x, depth) in graph.positions.items() if depth == 1)
    assert first_row == [-1.5, -0.5, 0.5, 1.5]
    assert graph.positions["inception_3a_output"][0] == 0.0


def test_raw_plot_block_draws_one_box_per_layer(densenet):
    figure = cnn_notes.plot_block(densenet, "pool1", "conv2_block1_concat", title="dense", raw=True)
    texts = [t.get_text() for t in figure.axes[0].texts if t.get_text()]  # arrows are empty annotations
    assert len(texts) == 8
    assert texts[-1] == "conv2_block1_concat\nConcatenate · 16x16x96"
    assert not plt.fignum_exists(figure.number)


def test_block_graph_refuses_unknown_layers(densenet):
    raise_clean(lambda: cnn_notes.block_graph(densenet, "pool1", "nope"), "Received: last='nope'")
    raise_clean(lambda: cnn_notes.block_graph(densenet, "conv2_block1_concat", "pool1"), "No path")
    raise_clean(lambda: cnn_notes.plot_block("densenet121", "a", "b"), "Received: model='densenet121'")


# The papers' view.


def test_bottleneck_is_three_fused_convolutions_and_an_addition(resnet50):
    graph = cnn_notes.block_graph(resnet50, "conv2_block1_out", "conv2_block2_out", fused=True)
    assert labels(graph) == [
        "8×8×256", "1×1 conv, 64", "3×3 conv, 64", "1×1 conv, 256, linear", "+", "relu", "8×8×256"
    ]  # fmt: skip
    assert graph.layers["conv2_block2_2_conv"] == ("conv2_block2_2_conv", "conv2_block2_2_bn", "conv2_block2_2_relu")
    # The addition is its own node; the block's input reaches it through the shortcut, drawn beside the boxes.
    assert graph.kinds["conv2_block2_add"] == "add"
    assert inputs(graph, "conv2_block2_add") == ["conv2_block1_out", "conv2_block2_3_conv"]
    assert graph.long == (("conv2_block1_out", "conv2_block2_add"),)
    assert graph.edge_kinds[("conv2_block1_out", "conv2_block2_add")] == "shortcut"
    assert graph.kinds["conv2_block2_out"] == "activation"  # the ReLU after the addition


def test_resnext_groups_its_3x3():
    model = small("resnext50_32x4d", 32)
    graph = cnn_notes.block_graph(model, "conv2_block1_out", "conv2_block2_out", fused=True)
    assert graph.labels["conv2_block2_2_conv"] == "3×3 conv, 128, g=32"


def test_xception_middle_flow_is_three_separable_boxes():
    model = small("xception", 71)
    graph = cnn_notes.block_graph(model, "block4_add", "block5_add", fused=True)
    assert labels(graph)[1:-1] == ["relu", "sep 3×3, 728", "sep 3×3, 728", "sep 3×3, 728, linear", "+"]
    assert inputs(graph, "block5_add") == ["block5_sepconv3", "block4_add"]


def test_inception_v3_factorises_7x7_in_the_concatenation_order(inception_v3):
    graph = cnn_notes.block_graph(inception_v3, "mixed3", "mixed4", fused=True)
    assert graph.kinds["mixed4"] == "concat" and graph.labels["mixed4"] == "concat"
    ends = inputs(graph, "mixed4")
    assert [graph.labels[n] for n in ends] == ["1×1 conv, 192", "7×1 conv, 192", "1×7 conv, 192", "1×1 conv, 192"]
    assert "1×7 conv, 128" in graph.labels.values() and "7×1 conv, 128" in graph.labels.values()
    columns = [graph.positions[n][0] for n in ends]
    assert columns == sorted(columns) and len(set(columns)) == 4  # left to right as concatenated
    # Branches end on the row above the concatenation, as in the paper's figures.
    assert {graph.positions[n][1] for n in ends} == {graph.positions["mixed4"][1] - 1}
    assert graph.long == ()
    figure = cnn_notes.plot_block(inception_v3, "mixed3", "mixed4")
    assert figure.get_size_inches()[0] <= 10
    assert legend_texts(figure) == []
    assert not plt.fignum_exists(figure.number)


def test_googlenet_module_has_a_max_pool_branch(googlenet):
    graph = cnn_notes.block_graph(googlenet, "pool2_3x3_s2", "inception_3a_output", fused=True)
    ends = inputs(graph, "inception_3a_output")
    assert [graph.labels[n] for n in ends] == ["1×1 conv, 64", "3×3 conv, 128", "5×5 conv, 32", "1×1 conv, 32"]
    assert inputs(graph, "inception_3a_pool_proj") == ["inception_3a_pool"]
    assert graph.labels["inception_3a_pool"] == "3×3 max"


def test_inception_v3_grid_reduction_labels_its_strides(inception_v3):
    graph = cnn_notes.block_graph(inception_v3, "mixed2", "mixed3", fused=True)
    ends = inputs(graph, "mixed3")
    assert [graph.labels[n] for n in ends] == ["3×3 conv, 384, /2", "3×3 conv, 96, /2", "3×3 max, /2"]


def test_dense_block_concatenates_each_layer_with_its_input(densenet):
    graph = cnn_notes.block_graph(densenet, "pool1", "conv2_block2_concat", fused=True)
    assert labels(graph)[1:5] == ["BN, relu", "1×1 conv, 128", "3×3 conv, 32, linear", "concat"]
    assert graph.kinds["conv2_block1_concat"] == "concat"
    assert inputs(graph, "conv2_block1_concat") == ["pool1", "conv2_block1_2_conv"]
    assert inputs(graph, "conv2_block2_concat") == ["conv2_block1_concat", "conv2_block2_2_conv"]
    assert set(graph.long) == {("pool1", "conv2_block1_concat"), ("conv2_block1_concat", "conv2_block2_concat")}
    assert {graph.edge_kinds[edge] for edge in graph.long} == {"concat_input"}
    figure = cnn_notes.plot_block(densenet, "pool1", "conv2_block2_concat")
    assert legend_texts(figure) == ["input into the concatenation"]


def test_mbconv_has_a_depthwise_box_and_the_excitation_product(efficientnet):
    graph = cnn_notes.block_graph(efficientnet, "block2a_project_bn", "block2b_add", fused=True)
    assert graph.labels["block2b_dwconv"] == "dw 3×3, swish"
    assert graph.labels["block2b_project_conv"] == "1×1 conv, 24, linear"  # the linear bottleneck
    assert graph.kinds["block2b_se_excite"] == "multiply" and graph.labels["block2b_se_excite"] == "×"
    assert inputs(graph, "block2b_se_excite") == ["block2b_dwconv", "block2b_se_expand"]
    assert graph.edge_kinds[("block2b_se_expand", "block2b_se_excite")] == "se"
    # The gate's path runs in a column of its own beside the main path.
    main = graph.positions["block2b_dwconv"][0]
    assert graph.positions["block2b_se_excite"][0] == main
    assert graph.positions["block2b_se_squeeze"][0] > main
    assert graph.long == (("block2a_project_bn", "block2b_add"),)


def test_convnext_block_draws_its_layernorm_and_its_1x1_convolutions(chinese):
    # ConvNeXt's Fig. 4: d7×7, LN, 1×1 (×4, GELU), 1×1, and the shortcut. keras writes the depthwise convolution
    # as a Conv2D with one group per channel, the 1×1 convolutions as Dense layers on the map, and a linear
    # Activation where stochastic depth would be: drawn as what they compute, the LayerNorm in a box of its own.
    model = unallocated_build("convnext_tiny", include_top=False, input_shape=(32, 32, 3), drop_path_rate=0.1)
    first, last = "convnext_tiny_stage_0_block_0_add", "convnext_tiny_stage_0_block_1_add"
    graph = cnn_notes.block_graph(model, first, last, fused=True)
    assert labels(graph)[1:-1] == [
        "逐通道 7×7, 线性", "LN", "1×1 卷积, 384, gelu", "1×1 卷积, 96, 线性", "层缩放", "随机深度 0.0059", "+",
    ]  # fmt: skip
    kinds = ["depthwise", "norm", "conv", "conv", "scale", "dropout", "add"]
    assert [graph.kinds[n] for n in graph.nodes][1:-1] == kinds
    assert graph.long == ((first, last),)
    # The first block's rate is 0: keras' linear Activation stands there, and nothing is drawn for it.
    graph = cnn_notes.block_graph(model, "convnext_tiny_stem", "convnext_tiny_stage_0_block_0_add", fused=True)
    assert "convnext_tiny_stage_0_block_0_identity" not in graph.nodes
    assert labels(graph)[-3:-1] == ["层缩放", "+"]


@pytest.mark.parametrize(
    "fixture, first, last",
    [
        ("densenet", "pool1", "conv2_block2_concat"),
        ("efficientnet", "block2a_project_bn", "block2b_add"),
        ("resnet50", "conv2_block1_out", "conv2_block3_out"),
    ],
)
def test_long_connections_never_share_a_line(request, fixture, first, last):
    model = request.getfixturevalue(fixture)
    figure = cnn_notes.plot_block(model, first, last)
    found = lanes(figure)
    graph = cnn_notes.block_graph(model, first, last, fused=True)
    assert len(found) == len(graph.long) >= 1
    xs = [x for x, _, _ in found.values()]
    assert len(set(xs)) == len(xs)
    # Each lane runs right of every box it passes.
    for x, low, high in found.values():
        for patch in figure.axes[0].patches:
            box = patch.get_extents().transformed(figure.axes[0].transData.inverted())
            if box.y1 > low and box.y0 < high:
                assert box.x1 < x


def test_legend_speaks_the_language(efficientnet, chinese):
    figure = cnn_notes.plot_block(efficientnet, "block2a_project_bn", "block2b_add")
    assert legend_texts(figure) == ["捷径（送入相加）", "压缩激励门控"]
    graph = cnn_notes.block_graph(efficientnet, "block2a_project_bn", "block2b_add", fused=True)
    assert graph.labels["block2b_dwconv"] == "逐通道 3×3, swish"


def test_legend_in_english(efficientnet):
    figure = cnn_notes.plot_block(efficientnet, "block2a_project_bn", "block2b_add")
    assert legend_texts(figure) == ["shortcut into the addition", "squeeze-and-excitation gate"]


def test_title_only_when_asked(resnet50):
    def texts(figure):
        return {t.get_text() for t in figure.axes[0].texts}

    plain = cnn_notes.plot_block(resnet50, "conv2_block1_out", "conv2_block2_out")
    titled = cnn_notes.plot_block(resnet50, "conv2_block1_out", "conv2_block2_out", title="A bottleneck")
    assert texts(titled) - texts(plain) == {"A bottleneck"}
    # One patch per box: the seven nodes of the block.
    assert len(plain.axes[0].patches) == 7


def test_bad_arguments_are_refused_before_drawing(resnet50):
    figures = plt.get_fignums()
    block = (resnet50, "conv2_block1_out", "conv2_block2_out")
    raise_clean(lambda: cnn_notes.plot_block(*block, raw="yes"), "`raw`", "Received: raw='yes'")
    raise_clean(lambda: cnn_notes.plot_block(*block, title=3), "`title`", "Received: title=3")
    raise_clean(lambda: cnn_notes.plot_block(*block, ax="left"), "`ax`", "Received: ax='left'")
    raise_clean(lambda: cnn_notes.block_graph(*block, fused=1), "`fused`", "Received: fused=1")
    raise_clean(lambda: cnn_notes.plot_block(resnet50, "conv2_block1_out", 3), "Received: last=3")
    raise_clean(lambda: cnn_notes.plot_block(resnet50, "nope", "conv2_block2_out"), "Received: first='nope'")
    assert plt.get_fignums() == figures


def test_plot_block_draws_into_a_given_axes(resnet50):
    figure, ax = plt.subplots()
    try:
        assert cnn_notes.plot_block(resnet50, "conv2_block1_out", "conv2_block2_out", ax=ax) is figure
        assert plt.fignum_exists(figure.number)  # the caller's figure stays open
    finally:
        plt.close(figure)


def test_lines_are_not_drawn_twice(resnet50):
    figure = cnn_notes.plot_block(resnet50, "conv2_block1_out", "conv2_block2_out")
    gids = [line.get_gid() for line in figure.axes[0].lines if isinstance(line, Line2D)]
    assert len(gids) == len(set(gids)) == 7  # three convolutions, the addition, relu, output, the shortcut
