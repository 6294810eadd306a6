"""The overview chapter's numbers and charts: one representative model per architecture.

``overview_frame()`` builds each model of ``references.OVERVIEW`` once and returns a ``pandas.DataFrame``:
parameters and MACs counted from the model, the year and the published top-1 accuracy with its source
(cited, never measured). ``overview_table(frame)`` prints it as plain text; ``plot_accuracy_vs_cost`` and
``plot_timeline`` draw it, in the language ``cnn_notes.set_language`` chose.
"""

import numpy as np

from cnn_notes.language import say
from cnn_notes.profiling import label_points, plot_compare
from cnn_notes.references import OVERVIEW
from cnn_notes.tables import default_facts, format_table

COLUMNS = ("name", "model", "year", "params", "gmacs", "top1", "top1_source")
MARKER_AREA = 40.0  # the timeline's points, in points squared


def overview_frame():
    """Returns the overview as a ``pandas.DataFrame``, one row per architecture of ``references.OVERVIEW``.

    Columns: ``name`` (the label used in the book), ``model`` (the registered builder), ``year`` (of the paper:
    Krizhevsky et al. 2012 for AlexNet ... Tan & Le 2019 for EfficientNet), ``params`` and ``gmacs`` (counted
    from the model built with its defaults), ``top1`` (ImageNet top-1 in %, NaN where no source publishes one
    for this exact model) and ``top1_source``.
    """
    import pandas as pd

    rows = []
    for arch in OVERVIEW:
        facts = default_facts(arch.model)  # one build per model and process
        rows.append({
            "name": arch.label,
            "model": arch.model,
            "year": arch.year,
            "params": facts.counts.total,
            "gmacs": facts.gmacs,
            "top1": np.nan if arch.top1 is None else float(arch.top1),
            "top1_source": arch.top1_source,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def _check_frame(frame, columns):
    import pandas as pd

    if not isinstance(frame, pd.DataFrame) or not set(columns) <= set(frame.columns):
        raise ValueError(
            f"`frame` must be a pandas.DataFrame with the columns {', '.join(columns)}, such as "
            f"cnn_notes.overview_frame() returns. Received: frame={frame!r} of type {type(frame).__name__}"
        )
    if frame.empty:
        raise ValueError(f"`frame` has no rows. Received: frame={frame!r}")


def overview_table(frame=None):
    """Prints the overview: per architecture its year, parameters and GMACs (computed) and the published top-1
    accuracy with its source. ``frame`` is ``overview_frame()``'s result, built here when ``None``."""
    frame = overview_frame() if frame is None else frame
    _check_frame(frame, COLUMNS)
    rows = [
        (row.name, row.year, f"{row.params / 1e6:.1f}M", f"{row.gmacs:.2f}",
         "-" if np.isnan(row.top1) else f"{row.top1:.1f}%", _source_text(row.top1_source))
        for row in frame.itertuples(index=False)
    ]  # fmt: skip
    header = say(("architecture", "year", "params", "GMACs", "top-1", "top-1 source"),
                 ("结构", "年份", "参数", "GMACs", "top-1", "top-1 来源"))
    print(format_table(header, rows, right=(1, 2, 3, 4)))


def _source_text(source):
    # "Rethinking Inception, Table 3" -> "Rethinking Inception 表 3"; "paper, keras.io" -> "论文、keras.io"
    return say(source, source.replace(", Table ", " 表 ").replace("paper, ", "论文、"))


def plot_accuracy_vs_cost(frame):
    """Top-1 accuracy against GMACs, bubble area proportional to parameters, for the rows that have a top-1.
    Returns the (closed) matplotlib Figure."""
    _check_frame(frame, ("name", "params", "gmacs", "top1"))
    cited = frame[frame["top1"].notna()]
    if cited.empty:
        raise ValueError(f"`frame` has no row with a top-1 accuracy to plot. Received: frame={frame!r}")
    return plot_compare(cited, x="gmacs", y="top1", size="params")


def plot_timeline(frame):
    """Parameters (millions) and GMACs of each architecture against the year of its paper, side by side on
    logarithmic axes. Returns the (closed) matplotlib Figure."""
    import matplotlib.pyplot as plt

    _check_frame(frame, ("name", "year", "params", "gmacs"))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharex=True)
    years = frame["year"].to_numpy(float)
    panels = (
        (axes[0], frame["params"].to_numpy(float) / 1e6, say("parameters (millions)", "参数（百万）")),
        (axes[1], frame["gmacs"].to_numpy(float), say("GMACs per image", "每张图像的 GMACs")),
    )
    for ax, values, label in panels:
        ax.scatter(years, values, s=MARKER_AREA, color="#3d85c6", edgecolors="#1c4587", zorder=3)
        ax.set_yscale("log")
        ax.set_xlabel(say("year of the paper", "论文发表年份"))
        ax.set_ylabel(label)
        ax.grid(True, which="major", alpha=0.3)
        ax.set_xticks(sorted(set(int(y) for y in years)))
        ax.margins(x=0.15, y=0.15)
    fig.tight_layout()
    # Labels go in last, once the layout is final. Several architectures share a year: label_points moves a
    # label that would overlap another.
    for ax, values, _ in panels:
        label_points(ax, [str(n) for n in frame["name"]], years, values, sizes=MARKER_AREA, fontsize=7)
    plt.close(fig)
    return fig


__all__ = ["overview_frame", "overview_table", "plot_accuracy_vs_cost", "plot_timeline"]
