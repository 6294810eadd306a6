"""Block diagrams drawn from the built models themselves, so a figure can never disagree with the code.

``plot_block(model, first, last)`` draws every layer on a path from layer ``first`` to layer ``last``: one box
per layer (name, type, output shape), one arrow per connection, laid out top to bottom by depth.
"""

from collections import namedtuple

from cnn_notes.analysis import _check_model, _inbound_names, _model_nodes

Graph = namedtuple("Graph", ["nodes", "edges", "positions"])

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


def block_graph(model, first, last):
    """The layers on a path from ``first`` to ``last`` with their connections and a layered layout.

    Returns ``Graph(nodes, edges, positions)``: layer names in depth order, ``(source, target)`` pairs and
    ``{name: (column, depth)}``: depth is the longest path from ``first``; branches fan out into columns.
    """
    _check_model(model, "block_graph")
    names = [layer.name for layer in model.layers]
    for argument, value in (("first", first), ("last", last)):
        if value not in names:
            raise ValueError(f"`{argument}` must name a layer of {model.name!r}. Received: {argument}={value!r}")
    nodes_of_model = _model_nodes(model)
    parents = {layer.name: _inbound_names(layer, nodes_of_model) for layer in model.layers}
    children = {name: [] for name in names}
    for name, inbound in parents.items():
        for parent in inbound:
            children[parent].append(name)

    def reach(start, step):
        seen, todo = {start}, [start]
        while todo:
            for nxt in step[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    inside = reach(first, children) & reach(last, parents)
    if not inside:
        raise ValueError(f"No path from `first` to `last` in {model.name!r}. Received: first={first!r}, last={last!r}")
    nodes = [name for name in names if name in inside]  # model.layers is in topological order
    edges = [(p, n) for n in nodes for p in parents[n] if p in inside]

    parents_in = {n: [p for p in parents[n] if p in inside] for n in nodes}
    children_in = {n: [c for c in children[n] if c in inside] for n in nodes}
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


def plot_block(model, first, last, *, title=None, ax=None):
    """Draws the layers from ``first`` to ``last`` of ``model``; returns the matplotlib Figure.

    Each box shows the layer's name, type and output shape; colours group convolutions, normalisation,
    activations, pooling and merges (Add / Concatenate). A figure this function creates is closed before it is
    returned, so a notebook shows it exactly once, as the cell's result (an open figure would also be drawn by
    the inline backend, and nbval would see two outputs where the stored notebook has one).
    """
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


__all__ = ["block_graph", "plot_block"]
