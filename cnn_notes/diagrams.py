"""Block diagrams drawn from the built models themselves, so a figure can never disagree with the code.

``plot_block(model, first, last)`` draws the part of ``model`` from layer ``first`` (the block's input) to layer
``last`` the way the papers draw their blocks: one box per *operation*, not per Keras layer. It imitates the
figures of He et al. 2016 (ResNet, Fig. 5: basic and bottleneck blocks), Szegedy et al. 2015 (GoogLeNet,
Fig. 2b), Szegedy et al. 2016 (Inception v3, Figs. 5-7 and 10), Szegedy et al. 2017 (Inception-v4 and
Inception-ResNet, Figs. 4 and 16), Huang et al. 2017 (DenseNet, Fig. 1), Chollet 2017 (Xception, Fig. 5) and
Sandler et al. 2018 / Tan & Le 2019 (MobileNetV2's inverted residual, EfficientNet's MBConv with
squeeze-and-excitation, Hu et al. 2018) and Liu et al. 2022 (ConvNeXt, Fig. 4).

The conventions of the drawing:

- A convolution and the BatchNormalization and activation that directly follow it (a chain without
  branching) are one box, labelled as the papers label them: ``3×3 conv, 64, /2`` (kernel, filters, stride
  when it is above 1), ``1×7 conv, 192`` (an asymmetric kernel), ``3×3 conv, 128, g=32`` (32 groups),
  ``dw 3×3, /2`` (depthwise), ``sep 3×3, 728`` (SeparableConv2D), ``fc, 1000`` (Dense).
- ReLU is the default and is not written. Any other activation fused into the box is named after the label
  (``swish``, ``sigmoid``); a box with no activation after it, a linear projection such as ResNet's last 1×1
  before the addition or MBConv's linear bottleneck, ends in ``linear`` (Inception-v4's figures write
  "Linear" the same way).
- A BatchNormalization or an activation that no convolution absorbs (pre-activation designs such as DenseNet
  and Xception, the ReLU after a residual addition) is a small box of its own: ``BN, relu``, ``relu``.
- Only BatchNormalization is absorbed into a convolution's box. A LayerNormalization (or GroupNormalization)
  is a box of its own, ``LN`` (``GN``), as ConvNeXt's Fig. 4 draws it; so is ConvNeXt's per-channel scale,
  ``layer scale``, and stochastic depth, ``drop path 0.1``. A ``Conv2D`` with one group per input channel is
  drawn as the depthwise convolution it is (``dw 7×7``), and a ``Dense`` layer applied to a feature map (to
  every pixel's channels, as ConvNeXt writes its 1×1 convolutions) as ``1×1 conv, 384``. A linear
  ``Activation`` (keras' placeholder for stochastic depth at rate 0) computes nothing and is not drawn.
- Pools are ``3×3 max, /2``, ``3×3 avg``, ``global avg``; Dropout is ``dropout 0.3``; LRN is ``LRN``;
  Inception-ResNet's residual scaling is a ``×0.17`` box on the residual path. Layers that only change the
  layout of a tensor (ZeroPadding2D, Reshape, Flatten) are not drawn.
- An addition is a circle ``+``, squeeze-and-excitation's multiplication a circle ``×``, a concatenation a
  ``concat`` box spanning the branches it joins, whose inputs run left to right in the concatenation's order.
- The block's input (layer ``first``, which the previous block computes) and its output are small grey boxes
  with their shapes, e.g. ``56×56×256``.
- Long connections run in lanes beside the boxes, each at its own x, coloured by what they carry: a shortcut
  into an addition, the input into a concatenation (DenseNet), squeeze-and-excitation's gate. A legend names
  the colours a figure uses, in the language of :func:`cnn_notes.set_language`; so do the words in the boxes.

``plot_block(..., raw=True)`` draws the Keras layers instead: one box per layer (name, type, output shape).
"""

import math
from collections import namedtuple

from cnn_notes.analysis import _check_model, _inbound_names, _model_nodes
from cnn_notes.language import say

Graph = namedtuple("Graph", ["nodes", "edges", "positions"])
Graph.__doc__ = """The raw layers of a block: ``nodes`` (layer names in depth order), ``edges`` (``(source, target)``
pairs) and ``positions`` (``{name: (column, depth)}``)."""

FusedGraph = namedtuple(
    "FusedGraph", ["nodes", "edges", "positions", "labels", "kinds", "layers", "edge_kinds", "long"]
)
FusedGraph.__doc__ = """A block as the papers draw it (see the module docstring).

``nodes``: ids in drawing order (the input is ``first``; a fused box is named after its first layer; the output
is ``"<last>/output"``; Inception-ResNet's scaling is ``"<layer>/scale"``). ``edges``: ``(source, target)``
pairs, a merge's inputs in the merge's own order. ``positions``: ``{id: (column, row)}``, rows counted from the
top, branches aligned on the row above the merge that ends them. ``labels``: the text of each box. ``kinds``:
``"input"``, ``"output"``, ``"conv"``, ``"depthwise"`` (depthwise or separable), ``"pool"``, ``"norm"``,
``"activation"``, ``"dense"``, ``"dropout"``, ``"add"``, ``"multiply"``, ``"concat"``, ``"scale"`` or
``"other"``. ``layers``: the Keras layers in each box. ``edge_kinds``: ``{edge: "main" | "shortcut" |
"concat_input" | "se" | "long"}``. ``long``: the edges drawn in a lane beside the boxes."""

_BOX_COLOURS = {
    "Conv2D": "#cfe2f3",
    "DepthwiseConv2D": "#d9d2e9",
    "SeparableConv2D": "#d9d2e9",
    "BatchNormalization": "#fff2cc",
    "Activation": "#fce5cd",
    "MaxPooling2D": "#d9ead3",
    "AveragePooling2D": "#d9ead3",
    "Add": "#f4cccc",
    "Concatenate": "#f4cccc",
}

# The fused view: box colours by kind, and the colours (with their legend texts) of the long connections.
_KIND_COLOURS = {
    "input": "#eeeeee",
    "output": "#eeeeee",
    "conv": "#cfe2f3",
    "depthwise": "#d9d2e9",
    "pool": "#d9ead3",
    "norm": "#fff2cc",
    "activation": "#fce5cd",
    "dense": "#ead1dc",
    "dropout": "#f3f3f3",
    "concat": "#f4cccc",
    "scale": "#fde9d9",
    "other": "#eeeeee",
}
_EDGE_COLOURS = {
    "main": "#444444",
    "shortcut": "#c0392b",
    "concat_input": "#1f77b4",
    "se": "#7d3c98",
    "long": "#888888",
}


def _legend_text(kind):
    return {
        "shortcut": say("shortcut into the addition", "捷径（送入相加）"),
        "concat_input": say("input into the concatenation", "输入直接送入拼接"),
        "se": say("squeeze-and-excitation gate", "压缩激励门控"),
        "long": say("long connection", "长连接"),
    }[kind]


_CONVS = ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose")
_NORMS = ("BatchNormalization", "LayerNormalization", "GroupNormalization")
_ACTIVATIONS = ("Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax")
_TRANSPARENT = ("ZeroPadding1D", "ZeroPadding2D", "Reshape", "Flatten", "Cropping2D")
_MERGES = {"Add": "add", "Multiply": "multiply", "Concatenate": "concat", "ScaledResidual": "add"}


def block_graph(model, first, last, *, fused=False):
    """The part of ``model`` on the paths from layer ``first`` to layer ``last``, with a layered layout.

    With ``fused=False`` (the default) it returns ``Graph(nodes, edges, positions)`` for the Keras layers: layer
    names in depth order, ``(source, target)`` pairs and ``{name: (column, depth)}``, depth being the longest
    path from ``first``; branches fan out into columns.

    With ``fused=True`` it returns the :class:`FusedGraph` that :func:`plot_block` draws: one node per operation
    as the papers draw their blocks (ResNet Fig. 5, GoogLeNet Fig. 2b, Inception v3 Figs. 5-7, Inception-v4
    Figs. 4 and 16, DenseNet Fig. 1, Xception Fig. 5, MBConv), with the labels described in the module
    docstring of ``cnn_notes.diagrams``.
    """
    _check_model(model, "block_graph")
    if not isinstance(fused, bool):
        raise ValueError(f"`fused` must be True or False. Received: fused={fused!r}")
    names = [layer.name for layer in model.layers]
    for argument, value in (("first", first), ("last", last)):
        if not isinstance(value, str) or value not in names:
            raise ValueError(f"`{argument}` must name a layer of {model.name!r}. Received: {argument}={value!r}")
    nodes_of_model = _model_nodes(model)
    parents = {layer.name: _inbound_names(layer, nodes_of_model) for layer in model.layers}
    children = {name: [] for name in names}
    for name, inbound in parents.items():
        for parent in inbound:
            children[parent].append(name)

    inside = _reach(first, children) & _reach(last, parents)
    if not inside:
        raise ValueError(f"No path from `first` to `last` in {model.name!r}. Received: first={first!r}, last={last!r}")
    nodes = [name for name in names if name in inside]  # model.layers is in topological order
    edges = [(p, n) for n in nodes for p in parents[n] if p in inside]
    parents_in = {n: [p for p in parents[n] if p in inside] for n in nodes}
    children_in = {n: [c for c in children[n] if c in inside] for n in nodes}
    if fused:
        layers_by_name = {layer.name: layer for layer in model.layers}
        return _fused_graph(nodes, parents_in, children_in, layers_by_name, first, last, parents)

    depth, column = {}, {}
    for name in nodes:
        ps = parents_in[name]
        depth[name] = max((depth[p] + 1 for p in ps), default=0)
        if not ps:
            column[name] = 0.0
        elif len(ps) > 1:
            # A merge (Add, Concatenate) sits centred under the branches it joins.
            column[name] = sum(column[p] for p in ps) / len(ps)
        else:
            # Branches fan out side by side under their common parent; a merge child does not take a column.
            branches = [c for c in children_in[ps[0]] if len(parents_in[c]) == 1]
            column[name] = column[ps[0]] + branches.index(name) - (len(branches) - 1) / 2
    positions = {name: (column[name], depth[name]) for name in nodes}
    return Graph(nodes, edges, positions)


def _reach(start, step):
    seen, todo = {start}, [start]
    while todo:
        for nxt in step[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# ---------------------------------------------------------------------------------------------------------
# The fused view: which layers make one box, and what the box says.


def _pair(value):
    if isinstance(value, int):
        return (value, value)
    return tuple(value)


def _size_text(size):
    return "×".join(str(s) for s in size)


def _stride_text(strides):
    strides = _pair(strides)
    if all(s == 1 for s in strides):
        return ""
    if len(set(strides)) == 1:
        return f", /{strides[0]}"
    return f", /{_size_text(strides)}"


def _is_depthwise_conv(layer):
    """A Conv2D with one group per input channel (ConvNeXt's 7×7): a depthwise convolution, written as a grouped
    one."""
    groups = layer.get_config().get("groups", 1)
    return type(layer).__name__ == "Conv2D" and groups > 1 and groups == layer.input.shape[-1]


def _on_a_map(layer):
    """A Dense layer applied to a feature map (each pixel's channels): a 1×1 convolution."""
    return len(layer.input.shape) > 2


def _is_linear_activation(layer):
    return type(layer).__name__ == "Activation" and _activation_name(layer) == "linear"


def _activation_name(layer):
    kind = type(layer).__name__
    if kind in ("ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"):
        return {"ReLU": "relu", "LeakyReLU": "leaky relu", "PReLU": "prelu", "ELU": "elu", "Softmax": "softmax"}[kind]
    activation = layer.get_config().get("activation", "linear")
    if isinstance(activation, dict):
        activation = activation.get("config", {}).get("name") or activation.get("class_name", "linear")
    activation = str(activation)
    return {"silu": "swish", "swish": "swish", "hard_silu": "hard swish", "hard_swish": "hard swish"}.get(
        activation, activation
    )


def _activation_suffix(activation):
    if activation is None or activation == "linear":
        return say(", linear", ", 线性")
    if activation == "relu":
        return ""
    return f", {activation}"


def _operation_label(layer, activation):
    """The label of a box whose first layer is ``layer``; ``activation`` is what follows it (None: nothing)."""
    kind = type(layer).__name__
    config = layer.get_config()
    if kind in _CONVS:
        kernel = _size_text(_pair(config["kernel_size"]))
        extra = _stride_text(config.get("strides", 1))
        dilation = _pair(config.get("dilation_rate", 1))
        if any(d != 1 for d in dilation):
            extra += f", d={dilation[0] if len(set(dilation)) == 1 else _size_text(dilation)}"
        if kind == "DepthwiseConv2D":
            multiplier = config.get("depth_multiplier", 1)
            text = say("dw ", "逐通道 ") + kernel + (f", ×{multiplier}" if multiplier != 1 else "") + extra
        elif kind == "SeparableConv2D":
            text = say("sep ", "可分离 ") + f"{kernel}, {config['filters']}" + extra
        elif _is_depthwise_conv(layer):
            multiplier = config["filters"] // config["groups"]
            text = say("dw ", "逐通道 ") + kernel + (f", ×{multiplier}" if multiplier != 1 else "") + extra
        else:
            groups = config.get("groups", 1)
            extra += f", g={groups}" if groups > 1 else ""
            text = f"{kernel} {say('conv', '卷积')}, {config['filters']}" + extra
        return text + _activation_suffix(activation)
    if kind == "Dense" and _on_a_map(layer):
        return f"1×1 {say('conv', '卷积')}, {config['units']}" + _activation_suffix(activation)
    if kind == "Dense":
        return f"{say('fc', '全连接')}, {config['units']}" + _activation_suffix(activation)
    if kind in ("MaxPooling2D", "AveragePooling2D", "MaxPooling1D", "AveragePooling1D"):
        size = _pair(config["pool_size"])
        strides = config.get("strides") or size
        name = say("max", "最大池化") if kind.startswith("Max") else say("avg", "平均池化")
        return f"{_size_text(size)} {name}" + _stride_text(strides)
    if kind in ("GlobalAveragePooling2D", "GlobalAveragePooling1D"):
        return say("global avg", "全局平均池化")
    if kind in ("GlobalMaxPooling2D", "GlobalMaxPooling1D"):
        return say("global max", "全局最大池化")
    if kind in ("Dropout", "SpatialDropout2D"):
        return f"dropout {config.get('rate', 0):g}"
    if kind == "LocalResponseNormalization":
        return "LRN"
    if kind == "Rescaling":
        offset = config.get("offset", 0.0)
        return f"×{config.get('scale', 1.0):.3g}" + (f", +{offset:g}" if offset else "")
    if kind == "Normalization":
        return say("normalize", "标准化")
    if kind == "LayerScale":
        return say("layer scale", "层缩放")
    if kind == "StochasticDepth":
        return say("drop path", "随机深度") + f" {config.get('drop_path_rate', 0):.2g}"
    if kind == "ZeroPadShortcut":
        return say("zero-pad", "补零") + _stride_text(config.get("strides", 2))
    if kind == "Lambda":
        return layer.name
    return kind


def _fused_graph(nodes, parents, children, layers, first, last, all_parents):
    group_of = {first: first}
    members = {first: [first]}
    order = [first]
    activation_of = {}

    def single_next(name):
        kids = children[name]
        if name == last or len(kids) != 1 or len(parents[kids[0]]) != 1 or kids[0] in group_of:
            return None
        return kids[0]

    for name in nodes:
        if name in group_of:
            continue
        layer = layers[name]
        kind = type(layer).__name__
        transparent = kind in _TRANSPARENT or _is_linear_activation(layer)
        if transparent and name != last and len(parents[name]) == 1 and len(children[name]) == 1:
            group = group_of[parents[name][0]]
            group_of[name] = group
            members[group].append(name)
            continue
        group_of[name] = name
        members[name] = [name]
        order.append(name)
        if kind in _CONVS or kind == "Dense":
            tail, activation = name, _activation_name(layer)
            activation = None if activation == "linear" else activation
            seen_norm = False
            while (nxt := single_next(tail)) is not None:
                nxt_kind = type(layers[nxt]).__name__
                if nxt_kind == "BatchNormalization" and not seen_norm and activation is None:
                    seen_norm = True
                elif nxt_kind in _ACTIVATIONS and activation is None:
                    activation = _activation_name(layers[nxt])
                else:
                    break
                group_of[nxt] = name
                members[name].append(nxt)
                tail = nxt
            activation_of[name] = activation
        elif kind in _NORMS:
            nxt = single_next(name)
            if nxt is not None and type(layers[nxt]).__name__ in _ACTIVATIONS:
                group_of[nxt] = name
                members[name].append(nxt)

    labels, kinds, inputs = {}, {}, {}
    scales = {}
    for group in order:
        head = layers[group]
        kind = type(head).__name__
        if group == first:
            kinds[group], labels[group], inputs[group] = "input", _size_text(head.output.shape[1:]), []
            continue
        inputs[group] = []
        for parent in parents[group]:
            if group_of[parent] not in inputs[group]:
                inputs[group].append(group_of[parent])
        if kind in _CONVS:
            depthwise = kind in ("DepthwiseConv2D", "SeparableConv2D") or _is_depthwise_conv(head)
            kinds[group] = "depthwise" if depthwise else "conv"
            labels[group] = _operation_label(head, activation_of[group])
        elif kind == "Dense":
            kinds[group] = "conv" if _on_a_map(head) else "dense"
            labels[group] = _operation_label(head, activation_of[group])
        elif kind in _NORMS:
            kinds[group] = "norm"
            norm = "BN" if kind == "BatchNormalization" else {"LayerNormalization": "LN"}.get(kind, "GN")
            after = [m for m in members[group][1:] if type(layers[m]).__name__ in _ACTIVATIONS]
            fused = [_activation_name(layers[m]) for m in after]
            labels[group] = ", ".join([norm, *fused])
        elif kind in _ACTIVATIONS:
            kinds[group], labels[group] = "activation", _activation_name(head)
        elif kind in _MERGES:
            kinds[group] = _MERGES[kind]
            labels[group] = {"add": "+", "multiply": "×", "concat": say("concat", "拼接")}[kinds[group]]
            if kind == "ScaledResidual":
                # inputs[0] + scale * inputs[1]: the scaling is a box of its own on the residual path.
                shortcut, residual = all_parents[group][:2]
                if residual in group_of:
                    scale = f"{group}/scale"
                    scales[group] = (scale, group_of[residual])
                    kinds[scale], labels[scale], inputs[scale] = "scale", f"×{head.scale:g}", [group_of[residual]]
                    inputs[group] = [group_of[p] for p in (shortcut,) if p in group_of] + [scale]
        elif kind in ("MaxPooling2D", "AveragePooling2D", "MaxPooling1D", "AveragePooling1D"):
            kinds[group], labels[group] = "pool", _operation_label(head, None)
        elif kind.startswith("Global"):
            kinds[group], labels[group] = "pool", _operation_label(head, None)
        elif kind in ("Dropout", "SpatialDropout2D", "StochasticDepth"):
            kinds[group], labels[group] = "dropout", _operation_label(head, None)
        elif kind == "LayerScale":
            kinds[group], labels[group] = "scale", _operation_label(head, None)
        else:
            kinds[group], labels[group] = "other", _operation_label(head, None)
    # The drawing order: the scaling box comes just before its addition.
    ids = []
    for group in order:
        if group in scales:
            ids.append(scales[group][0])
        ids.append(group)
    output = f"{last}/output"
    ids.append(output)
    kinds[output], labels[output] = "output", _size_text(layers[last].output.shape[1:])
    inputs[output] = [group_of[last]]
    member_layers = {i: tuple(members.get(i, ())) for i in ids}

    edges = [(p, n) for n in ids for p in inputs[n]]
    outputs = {n: [] for n in ids}
    for p, n in edges:
        outputs[p].append(n)

    # Long connections: an edge into a merge that the merge also reaches through other nodes.
    def reaches(source, target, skip_edge):
        seen, todo = {source}, [source]
        while todo:
            node = todo.pop()
            for nxt in outputs[node]:
                if (node, nxt) == skip_edge:
                    continue
                if nxt == target:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    def spatial(node):
        shape = layers[member_layers[node][-1]].output.shape if member_layers[node] else ()
        return math.prod(s for s in shape[1:-1] if s) if len(shape) > 2 else 1

    edge_kinds = {edge: "main" for edge in edges}
    main_parent = {}
    depth = {}
    for n in ids:
        depth[n] = max((depth[p] + 1 for p in inputs[n]), default=0)
    long_edges = []
    for n in ids:
        if len(inputs[n]) < 2:
            continue
        gate = min(inputs[n], key=spatial)
        if kinds[n] == "multiply" and len(inputs[n]) == 2 and spatial(gate) < max(spatial(p) for p in inputs[n]):
            # Squeeze-and-excitation: the gate is the input with the smaller map (1×1×C), computed beside the
            # main path from the same tensor.
            main = next(p for p in inputs[n] if p != gate)
            main_parent[n] = main
            path = [gate]
            while len(inputs[path[-1]]) == 1 and inputs[path[-1]][0] != main:
                path.append(inputs[path[-1]][0])
            for p, t in edges:
                if t in path or (t == n and p == gate):
                    edge_kinds[(p, t)] = "se"
            continue
        skips = [p for p in inputs[n] if reaches(p, n, (p, n))]
        for p in skips:
            long_edges.append((p, n))
            edge_kinds[(p, n)] = {"add": "shortcut", "concat": "concat_input"}.get(kinds[n], "long")
        rest = [p for p in inputs[n] if p not in skips]
        if kinds[n] == "add" and rest:
            if n in scales:
                main = scales[n][0]
            else:
                main = max(rest, key=lambda p: depth[p])  # the longer branch; a projection is the other
            main_parent[n] = main
            for p in rest:
                if p == main:
                    continue
                # A projection shortcut: the chain of boxes from the fork to the addition.
                path = [p]
                while len(inputs[path[-1]]) == 1 and len(outputs[inputs[path[-1]][0]]) == 1:
                    path.append(inputs[path[-1]][0])
                for a, t in edges:
                    if t in path or (a, t) == (p, n):
                        edge_kinds[(a, t)] = "shortcut"
        elif len(rest) == 1:
            main_parent[n] = rest[0]

    positions = _layout(ids, inputs, outputs, kinds, main_parent, set(long_edges))
    return FusedGraph(ids, edges, positions, labels, kinds, member_layers, edge_kinds, tuple(long_edges))


def _layout(ids, inputs, outputs, kinds, main_parent, long_edges):
    """Rows: each node as late as its paths allow (branches end on the row above their merge); columns: each
    node under its layout parent, branches side by side, a merge under the branches it joins."""
    short_outputs = {n: [c for c in outputs[n] if (n, c) not in long_edges] for n in ids}
    short_inputs = {n: [p for p in inputs[n] if (p, n) not in long_edges] for n in ids}
    to_end = {}
    for n in reversed(ids):
        to_end[n] = max((to_end[c] + 1 for c in outputs[n]), default=0)
    height = to_end[ids[0]]
    row = {n: height - to_end[n] for n in ids}

    layout_parent = {}
    for n in ids[1:]:
        if n in main_parent:
            layout_parent[n] = main_parent[n]
        elif len(short_inputs[n]) == 1:
            layout_parent[n] = short_inputs[n][0]
    kids = {n: [c for c in short_outputs[n] if layout_parent.get(c) == n] for n in ids}
    index = {n: i for i, n in enumerate(ids)}
    descendants = {}
    for n in reversed(ids):
        descendants[n] = {n}.union(*(descendants[c] for c in outputs[n]))

    def arrange(n):
        """Orders the branches that start at ``n``: ``(main, sides)`` where they rejoin at an addition or a
        product (the main path goes straight on, the others to its right), ``(None, branches)`` otherwise
        (centred under ``n``, in the order of the merge's inputs: a concatenation's, left to right)."""
        branches = kids[n]
        join = min(set.intersection(*(descendants[c] for c in branches)), key=index.get)

        def key(c):
            slots = [i for i, p in enumerate(inputs[join]) if p in descendants[c]]
            return (min(slots) if slots else len(inputs[join]), index[c])

        if kinds[join] in ("add", "multiply") and join in main_parent:
            trunk = main_parent[join]
            main = next((c for c in branches if c == join or (trunk != n and trunk in descendants[c])), branches[0])
            return main, sorted((c for c in branches if c != main), key=key)
        return None, sorted(branches, key=key)

    width = {}
    for n in reversed(ids):
        width[n] = max(1.0, sum(width[c] for c in kids[n]))
    column = {ids[0]: 0.0}
    for n in ids:
        if n not in column:
            placed = [column[p] for p in short_inputs[n] if p in column]
            placed = placed or [column[p] for p in inputs[n] if p in column]
            column[n] = (min(placed) + max(placed)) / 2 if placed else 0.0
        if len(kids[n]) == 1:
            column[kids[n][0]] = column[n]
        elif kids[n]:
            main, branches = arrange(n)
            if main is not None:
                column[main] = column[n]
                offset = width[main] / 2
                for c in branches:
                    column[c] = column[n] + offset + width[c] / 2
                    offset += width[c]
            else:
                left = column[n] - sum(width[c] for c in branches) / 2
                for c in branches:
                    column[c] = left + width[c] / 2
                    left += width[c]
    return {n: (column[n], row[n]) for n in ids}


# ---------------------------------------------------------------------------------------------------------
# Drawing.

_FONT = 8.0
_SMALL_FONT = 7.0
_BOX_HEIGHT = 0.27
_SMALL_HEIGHT = 0.22
_RADIUS = 0.105
_ROW = 0.46
_GAP = 0.2
_LANE = 0.16
_PAD = 0.09


def _text_width(text, size):
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    return TextPath((0, 0), text, size=size, prop=FontProperties()).get_extents().width / 72


def _check_plot_arguments(raw, title, ax):
    from matplotlib.axes import Axes

    if not isinstance(raw, bool):
        raise ValueError(f"`raw` must be True or False. Received: raw={raw!r}")
    if title is not None and not isinstance(title, str):
        raise ValueError(f"`title` must be a string or None. Received: title={title!r}")
    if ax is not None and not isinstance(ax, Axes):
        raise ValueError(f"`ax` must be a matplotlib Axes or None. Received: ax={ax!r}")


def plot_block(model, first, last, *, title=None, ax=None, raw=False):
    """Draws the block of ``model`` from layer ``first`` (its input) to layer ``last``; returns the Figure.

    By default the drawing is the papers' view (see the module docstring of ``cnn_notes.diagrams``): one box
    per operation (``3×3 conv, 64, /2``, ``1×7 conv, 192``, ``3×3 conv, 128, g=32``, ``dw 3×3``,
    ``sep 3×3, 728``, ``3×3 max, /2``), additions as ``+`` and squeeze-and-excitation's product as ``×``
    circles, concatenations as a ``concat`` box with the branches side by side in the concatenation's order,
    long connections in coloured lanes beside the boxes with a legend, the way He et al. 2016 (ResNet,
    Fig. 5), Szegedy et al. 2015-2017 (GoogLeNet Fig. 2b, Inception v3 Figs. 5-7 and 10, Inception-v4 Figs. 4
    and 16), Huang et al. 2017 (DenseNet, Fig. 1), Chollet 2017 (Xception, Fig. 5) and Sandler et al. 2018 /
    Tan & Le 2019 (MBConv) draw their blocks. Words in the figure follow :func:`cnn_notes.set_language`.

    ``raw=True`` draws the Keras layers instead: one box per layer with its name, type and output shape.
    ``title`` (a string) is drawn above the block; by default there is none. ``ax`` (a matplotlib Axes) is
    drawn into instead of a new figure. A figure this function creates is closed before it is returned, so a
    notebook shows it exactly once, as the cell's result (an open figure would also be drawn by the inline
    backend, and nbval would see two outputs where the stored notebook has one).
    """
    _check_model(model, "plot_block")
    _check_plot_arguments(raw, title, ax)
    if raw:
        return _plot_raw(model, first, last, title, ax)
    graph = block_graph(model, first, last, fused=True)
    return _plot_fused(graph, title, ax)


def _plot_raw(model, first, last, title, ax):
    import matplotlib.pyplot as plt

    graph = block_graph(model, first, last)
    owns_figure = ax is None
    xs = [x for x, _ in graph.positions.values()]
    left, right = min(xs), max(xs)
    width = right - left + 1
    height = max(d for _, d in graph.positions.values()) + 1
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 2.6 * width), 0.75 * height + 0.6))
    layers_by_name = {layer.name: layer for layer in model.layers}
    for name in graph.nodes:
        x, d = graph.positions[name]
        layer = layers_by_name[name]
        kind = type(layer).__name__
        shape = "x".join(str(s) for s in layer.output.shape[1:])
        ax.text(
            x, -d, f"{name}\n{kind} · {shape}", ha="center", va="center", fontsize=7, family="monospace",
            bbox=dict(boxstyle="round,pad=0.3", fc=_BOX_COLOURS.get(kind, "#eeeeee"), ec="#555555", lw=0.6),
        )  # fmt: skip
    for source, target in graph.edges:
        (x0, d0), (x1, d1) = graph.positions[source], graph.positions[target]
        arrow = dict(arrowstyle="->", lw=0.7, color="#333333")
        if d1 - d0 > 1 and x0 == x1:
            # A connection that skips rows runs beside the column, not through its boxes; red marks a residual
            # shortcut (into an addition), grey any other long connection (e.g. into a concatenation).
            merge = type(layers_by_name[target]).__name__
            colour = "#c0392b" if merge == "Add" or "Residual" in merge else "#777777"
            side = x0 + 0.55
            ax.plot([x0 + 0.3, side, side], [-d0, -d0, -d1], lw=0.7, color=colour)
            ax.annotate("", xy=(x1 + 0.3, -d1), xytext=(side, -d1), arrowprops={**arrow, "color": colour})
        else:
            ax.annotate("", xy=(x1, -d1 + 0.28), xytext=(x0, -d0 - 0.28), arrowprops=arrow)
    ax.set_xlim(left - 0.7, right + 0.9)
    ax.set_ylim(-height + 0.4, 0.6)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    ax.figure.tight_layout()
    if owns_figure:
        plt.close(ax.figure)
    return ax.figure


def _plot_fused(graph, title, ax):
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, FancyBboxPatch

    nodes, kinds, labels = graph.nodes, graph.kinds, graph.labels
    long_edges = set(graph.long)

    def is_circle(n):
        return kinds[n] in ("add", "multiply")

    def is_small(n):
        return kinds[n] in ("input", "output", "activation", "norm", "dropout", "scale")

    font = {n: _SMALL_FONT if is_small(n) else _FONT for n in nodes}
    text_width = {n: _text_width(labels[n], font[n]) for n in nodes}
    half_height = {n: (_SMALL_HEIGHT if is_small(n) else _BOX_HEIGHT) / 2 for n in nodes}
    half_height.update({n: _RADIUS for n in nodes if is_circle(n)})
    half_width = {n: _RADIUS if is_circle(n) else text_width[n] / 2 + _PAD for n in nodes}
    pitch = max(2 * half_width[n] for n in nodes if kinds[n] != "concat") + _GAP
    x = {n: graph.positions[n][0] * pitch for n in nodes}
    y = {n: -graph.positions[n][1] * _ROW for n in nodes}
    row = {n: graph.positions[n][1] for n in nodes}
    # A concatenation spans the branches it joins.
    for n in nodes:
        if kinds[n] == "concat":
            joined = [x[p] for p, t in graph.edges if t == n and (p, t) not in long_edges]
            if len(joined) > 1:
                x[n] = (max(joined) + min(joined)) / 2
                half_width[n] = max(half_width[n], (max(joined) - min(joined)) / 2 + 0.3 * pitch)

    def side_x(n, dy):
        # Where a horizontal line at height y[n] + dy meets the right side of node n.
        if is_circle(n):
            return x[n] + math.sqrt(max(_RADIUS**2 - dy**2, 0.0))
        return x[n] + half_width[n]

    # Lanes for the long connections: the shortest span nearest the boxes, each at its own x.
    lanes = {}
    taken = []
    for edge in sorted(long_edges, key=lambda e: (row[e[1]] - row[e[0]], row[e[0]], nodes.index(e[1]))):
        source, target = edge
        rows = range(row[source], row[target] + 1)
        right = max(x[n] + half_width[n] for n in nodes if row[n] in rows)
        lane = right + 0.22
        for other in taken:
            if abs(other - lane) < _LANE - 1e-9 or other > lane:
                lane = max(lane, other + _LANE)
        lanes[edge] = lane
        taken.append(lane)

    left_edge = min(x[n] - half_width[n] for n in nodes) - 0.15
    right_edge = max([x[n] + half_width[n] for n in nodes] + list(lanes.values())) + 0.15
    top_edge = max(y[n] + half_height[n] for n in nodes) + 0.12
    bottom_edge = min(y[n] - half_height[n] for n in nodes) - 0.12
    used = [kind for kind in ("shortcut", "concat_input", "se", "long") if kind in graph.edge_kinds.values()]
    legend_height = 0.32 if used else 0.0
    title_height = 0.35 if title else 0.0
    legend_width = sum(_text_width(_legend_text(kind), _SMALL_FONT) + 0.55 for kind in used)
    width = right_edge - left_edge
    if legend_width > width:
        left_edge -= (legend_width - width) / 2
        right_edge += (legend_width - width) / 2
        width = legend_width
    height = top_edge - bottom_edge + legend_height + title_height

    owns_figure = ax is None
    if ax is None:
        figure = plt.figure(figsize=(width, height))
        ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(left_edge, right_edge)
    ax.set_ylim(bottom_edge - legend_height, top_edge + title_height)
    ax.set_aspect("equal")
    ax.axis("off")

    for n in nodes:
        if is_circle(n):
            ax.add_patch(Circle((x[n], y[n]), _RADIUS, fc="white", ec="#333333", lw=0.8, zorder=3, gid=f"node:{n}"))
            ax.text(x[n], y[n], labels[n], ha="center", va="center_baseline", fontsize=9, zorder=4, gid=f"label:{n}")
            continue
        w, h = 2 * half_width[n], 2 * half_height[n]
        colour = _KIND_COLOURS.get(kinds[n], "#eeeeee")
        edge_colour = "#999999" if kinds[n] in ("input", "output") else "#555555"
        ax.add_patch(
            FancyBboxPatch(
                (x[n] - w / 2, y[n] - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.04", fc=colour,
                ec=edge_colour, lw=0.6, zorder=3, gid=f"node:{n}",
            )
        )  # fmt: skip
        ax.text(
            x[n], y[n], labels[n], ha="center", va="center_baseline", fontsize=font[n], zorder=4, gid=f"label:{n}",
            color="#555555" if kinds[n] in ("input", "output") else "black",
        )  # fmt: skip

    def draw(points, colour, gid):
        xs, ys = zip(*points)
        ax.add_line(Line2D(xs, ys, lw=0.8, color=colour, zorder=2, gid=gid, solid_capstyle="butt"))
        ax.annotate(
            "", xy=points[-1], xytext=points[-2], zorder=2,
            arrowprops=dict(arrowstyle="-|>", lw=0.8, color=colour, shrinkA=0, shrinkB=0, mutation_scale=7),
        )  # fmt: skip

    short_children = {n: [t for s, t in graph.edges if s == n and (s, t) not in long_edges] for n in nodes}
    for edge in graph.edges:
        source, target = edge
        colour = _EDGE_COLOURS[graph.edge_kinds[edge]]
        gid = f"edge:{source}->{target}"
        if edge in long_edges:
            lane, out_dy, in_dy = lanes[edge], -0.045, 0.045
            start = (side_x(source, out_dy), y[source] + out_dy)
            end = (side_x(target, in_dy), y[target] + in_dy)
            draw([start, (lane, start[1]), (lane, end[1]), end], colour, f"long:{source}->{target}")
            continue
        bottom = (x[source], y[source] - half_height[source])
        if kinds[target] == "concat" and abs(x[source] - x[target]) <= half_width[target] + 1e-9:
            draw([bottom, (x[source], y[target] + half_height[target])], colour, gid)
        elif abs(x[source] - x[target]) < 1e-9:
            draw([bottom, (x[target], y[target] + half_height[target])], colour, gid)
        elif graph.edge_kinds[edge] in ("shortcut", "se") and any(
            abs(x[c] - x[source]) < 1e-9 for c in short_children[source]
        ):
            # A side branch (a projection shortcut, the excitation's gate) leaves the main path from its side.
            start = (side_x(source, 0.0), y[source])
            draw([start, (x[target], y[source]), (x[target], y[target] + half_height[target])], colour, gid)
        elif len(short_children[source]) > 1:
            bus = y[source] - _ROW / 2
            top = (x[target], y[target] + half_height[target])
            draw([bottom, (x[source], bus), (x[target], bus), top], colour, gid)
        else:
            # Into a merge from a column beside it: down to the merge's height, then across into its side.
            sign = 1 if x[source] > x[target] else -1
            end = (side_x(target, 0.0) if sign > 0 else 2 * x[target] - side_x(target, 0.0), y[target])
            draw([bottom, (x[source], y[target]), end], colour, gid)

    if used:
        handles = [Line2D([], [], color=_EDGE_COLOURS[kind], lw=1.2) for kind in used]
        ax.legend(
            handles, [_legend_text(kind) for kind in used], loc="lower center", bbox_to_anchor=(0.5, 0.0),
            ncol=len(used), fontsize=_SMALL_FONT, frameon=False, handlelength=1.8, columnspacing=1.2,
            borderaxespad=0.1,
        )  # fmt: skip
    if title:
        middle = (left_edge + right_edge) / 2
        ax.text(middle, top_edge + title_height / 2, title, ha="center", va="center", fontsize=10)
    if owns_figure:
        plt.close(ax.figure)
    return ax.figure


__all__ = ["FusedGraph", "Graph", "block_graph", "plot_block"]
