"""cnn_notes: the Keras model builders behind the book *cnn-notes*.

Every architecture the book teaches is one registered builder with the same keyword arguments::

    import cnn_notes
    cnn_notes.set_language("en")  # or "zh": the language of its tables and plots
    cnn_notes.list_models("resnet*")
    model = cnn_notes.build("resnet50", input_shape=(224, 224, 3), classes=1000)
    cnn_notes.summary(model, show_layers=False)
    cnn_notes.count_macs(model)
"""

# The public names come first: the registry refuses a model whose name would be hidden by one of them.
__all__ = [
    "Latency",
    "Profile",
    "block_graph",
    "build",
    "check_models",
    "compare",
    "count_macs",
    "format_summary",
    "format_table",
    "get_builder",
    "get_language",
    "list_models",
    "overview_frame",
    "overview_table",
    "param_counts",
    "plot_accuracy_vs_cost",
    "plot_block",
    "plot_compare",
    "plot_timeline",
    "profile",
    "reference_table",
    "set_language",
    "stage_shapes",
    "stage_table",
    "summary",
]

__version__ = "0.1.0"

# Importing the zoo imports every family module, which registers its builders.
from cnn_notes import models  # noqa: E402
from cnn_notes.analysis import count_macs, format_summary, param_counts, stage_shapes, summary  # noqa: E402
from cnn_notes.diagrams import block_graph, plot_block  # noqa: E402
from cnn_notes.language import get_language, set_language  # noqa: E402
from cnn_notes.models.registry import build, get_builder, list_models  # noqa: E402
from cnn_notes.overview import overview_frame, overview_table, plot_accuracy_vs_cost, plot_timeline  # noqa: E402
from cnn_notes.profiling import Latency, Profile, compare, plot_compare, profile  # noqa: E402
from cnn_notes.tables import check_models, format_table, reference_table, stage_table  # noqa: E402


def __getattr__(name):
    # cnn_notes.resnet50(...) etc.: every registered model is also a module-level function.
    if name in list_models():
        return get_builder(name)
    raise AttributeError(f"module 'cnn_notes' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(list_models()))
