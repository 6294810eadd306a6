"""Reading a built model: a plain-text summary, parameter counts, multiply-accumulates and stage shapes.

Keras 3's ``model.summary()`` draws a rich table whose width follows the terminal; the book needs output
that is the same on every machine, so ``summary`` prints fixed-width plain text in the familiar layout.
"""

import math
from collections import namedtuple

import keras
from keras import layers

Stage = namedtuple("Stage", ["layer", "shape"])
ParamCounts = namedtuple("ParamCounts", ["total", "trainable", "non_trainable"])


def _check_model(model, function):
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"{function}() needs a keras.Model (e.g. cnn_notes.build('resnet50')). "
            f"Received: model={model!r} of type {type(model).__name__}"
        )


def _count(weights):
    unique = {id(w): w for w in weights}.values()
    return sum(math.prod(w.shape) for w in unique)


def param_counts(model):
    """Returns ``ParamCounts(total, trainable, non_trainable)`` as Keras counts them.

    Keras counts BatchNormalization's moving mean and variance as non-trainable parameters; torchvision's
    ``num_params`` does not count them, so it equals ``trainable`` here.
    """
    _check_model(model, "param_counts")
    trainable = _count(model.trainable_weights)
    non_trainable = _count(model.non_trainable_weights)
    return ParamCounts(trainable + non_trainable, trainable, non_trainable)


def _shape_text(layer):
    out = layer.output
    tensors = out if isinstance(out, (list, tuple)) else [out]
    shapes = [str(tuple(t.shape)) for t in tensors]
    return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"


def _model_nodes(model):
    # A layer keeps a node for every graph it was called in (a sub-model built from it adds more); only the
    # nodes of this model describe its connections.
    return {id(node) for nodes in model._nodes_by_depth.values() for node in nodes}


def _inbound_names(layer, nodes):
    names = []
    for node in layer._inbound_nodes:
        if id(node) in nodes:
            names += [tensor._keras_history.operation.name for tensor in node.input_tensors]
    return names


def _is_chain(model):
    consumers = {}
    nodes = _model_nodes(model)
    for layer in model.layers:
        inbound = _inbound_names(layer, nodes)
        if len(inbound) > 1:
            return False
        for name in inbound:
            consumers[name] = consumers.get(name, 0) + 1
    return all(count == 1 for count in consumers.values())


def format_summary(model, *, show_layers=True):
    """Returns the plain-text summary that ``summary`` prints."""
    _check_model(model, "format_summary")
    counts = param_counts(model)
    lines = [f'Model: "{model.name}"']
    if show_layers:
        chain = _is_chain(model)
        header = ["Layer (type)", "Output Shape", "Param #"] + ([] if chain else ["Connected to"])
        rows = []
        nodes = _model_nodes(model)
        for layer in model.layers:
            row = [f"{layer.name} ({type(layer).__name__})", _shape_text(layer), f"{layer.count_params():,}"]
            if not chain:
                row.append(", ".join(_inbound_names(layer, nodes)) or "-")
            rows.append(row)
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]

        def render(row):
            cells = [
                cell.rjust(width) if i == 2 else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths))
            ]
            return "  ".join(cells).rstrip()

        rule_width = sum(widths) + 2 * (len(widths) - 1)
        lines += ["_" * rule_width, render(header), "=" * rule_width]
        lines += [render(row) for row in rows]
        lines.append("=" * rule_width)
    else:
        rule_width = 40
    lines += [
        f"Total params: {counts.total:,}",
        f"Trainable params: {counts.trainable:,}",
        f"Non-trainable params: {counts.non_trainable:,}",
        "_" * rule_width,
    ]
    return "\n".join(lines)


def summary(model, *, show_layers=True):
    """Prints a fixed-width, plain-text summary of ``model``: one row per layer, then the parameter totals.

    Columns are as wide as their longest cell, so the text depends only on the model, never on the terminal.
    Models that are not a simple chain get a "Connected to" column naming each layer's inputs.
    ``show_layers=False`` prints only the totals (handy for models of hundreds of layers).
    """
    print(format_summary(model, show_layers=show_layers))


def _spatial_size(tensor, layer):
    if any(d is None for d in tensor.shape[1:-1]):
        raise ValueError(
            "count_macs() needs a model with a known input size; layer "
            f"{layer.name!r} has output shape {tuple(tensor.shape)}. Build it with an input_shape of integers."
        )
    return math.prod(tensor.shape[1:-1])


def _layer_macs(layer):
    if isinstance(layer, keras.Model):
        return count_macs(layer)
    if isinstance(layer, layers.SeparableConv2D):
        out = _spatial_size(layer.output, layer)
        return out * (math.prod(layer.depthwise_kernel.shape) + math.prod(layer.pointwise_kernel.shape))
    if isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D)):
        # Each output position applies the whole kernel once: kh*kw*(in/groups)*out MACs. A depthwise
        # kernel has shape (kh, kw, in, multiplier), so the same product counts it.
        return _spatial_size(layer.output, layer) * math.prod(layer.kernel.shape)
    if isinstance(layer, layers.Dense):
        return _spatial_size(layer.output, layer) * math.prod(layer.kernel.shape)
    return 0


def count_macs(model):
    """Counts the multiply-accumulates of one forward pass of one image, analytically, layer by layer.

    Counts what dominates and what torchvision's GFLOPS column counts (multiply-accumulates of
    convolutions and fully-connected layers): Conv2D (grouped too), DepthwiseConv2D, SeparableConv2D and
    Dense. Normalisation, activations, pooling and additions are not counted. Needs a known input size.
    """
    _check_model(model, "count_macs")
    return sum(_layer_macs(layer) for layer in model.layers)


def stage_shapes(model):
    """Lists the feature map after each stage: the last layer at each spatial resolution, in order.

    Returns a list of ``Stage(layer, shape)`` with ``shape = (height, width, channels)``, starting with the
    input. A stage ends where the next layer changes the resolution, so the list reads like the
    architecture tables of the papers: 224x224x3 -> 112x112x64 -> 56x56x256 -> ... Side branches that return
    to the main resolution (squeeze-and-excitation's 1x1 maps) and padding layers are not stages. Blocks that
    widen before they stride (EfficientNet's MBConv) end a stage after that widening, inside the next block.
    """
    _check_model(model, "stage_shapes")
    inputs, stages = [], []  # stages: [(height, width), Stage] along the main path
    for layer in model.layers:
        out = layer.output
        # Padding only prepares the next layer; it ends no stage.
        if isinstance(out, (list, tuple)) or len(out.shape) != 4 or isinstance(layer, layers.ZeroPadding2D):
            continue
        shape = tuple(out.shape[1:])
        if isinstance(layer, layers.InputLayer):
            inputs.append(Stage(layer.name, shape))
            continue
        seen = [size for size, _ in stages]
        if shape[:2] in seen:
            # Back at a resolution seen before: what came in between was a side branch (e.g. the 1x1 map of
            # a squeeze-and-excitation block), not a stage.
            del stages[seen.index(shape[:2]) + 1 :]
            stages[-1] = (shape[:2], Stage(layer.name, shape))
        else:
            stages.append((shape[:2], Stage(layer.name, shape)))
    return inputs + [stage for _, stage in stages]
