"""Training experiments as reproducible data: each is a definition here and a stored result under book/.

A full run costs minutes to hours on a 2-core CPU, more than a CI run may spend, so nbval does not repeat it:
``make experiments`` (``python -m cnn_notes.experiments [NAME ...]``) runs the definitions and writes
``book/experiments/<name>.json`` with every run's per-epoch figures, the definition, the seeds, the wall time,
the device, the library versions and the command. Chapters plot and tabulate those files (``load``,
``results_table``, ``plot_experiment``), and ``tests/test_experiments.py`` replays the first steps of every
stored run and checks that the definition still produces them (``replay``).
"""

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cnn_notes
from cnn_notes import data as datasets
from cnn_notes.language import say
from cnn_notes.tables import format_table
from cnn_notes.training import History, evaluate, fit, plot_history, seed_everything

RESULTS = Path(__file__).resolve().parent.parent / "book" / "experiments"


@dataclass(frozen=True)
class Run:
    """One model trained once: a registered model with its options, and how it is trained."""

    label: str
    model: str
    options: dict = field(default_factory=dict)
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    epochs: int = 10
    batch_size: int = 32
    seed: int = 0


@dataclass(frozen=True)
class Experiment:
    """A question answered by training: the data (a ``cnn_notes.data`` loader and its arguments) and the runs."""

    name: str
    question: str
    data: dict
    runs: tuple

    def definition(self):
        """The definition as plain data, as it is stored with the result (and compared by the replay test)."""
        return {"name": self.name, "question": self.question, "data": dict(self.data),
                "runs": [asdict(run) for run in self.runs]}  # fmt: skip


def _post_run(label, model, **options):
    return Run(label, model, {"classes": 10, **options}, epochs=8, batch_size=32)


def _cifar_run(label, model):
    return Run(label, model, {"input_shape": (16, 16, 1)}, optimizer="sgd", learning_rate=0.05, epochs=20,
               batch_size=64)  # fmt: skip


def _bn_run(label, batch_norm, learning_rate):
    # Without the post's dropout, as the BN paper's BN-x5 network: dropout after BN shifts the variance that BN's
    # moving averages saw in training, which hides what BN does to the optimisation.
    return Run(label, "custom_vgg", {"batch_norm": batch_norm, "dropout": 0.0}, optimizer="sgd",
               learning_rate=learning_rate, epochs=10, batch_size=32)  # fmt: skip


EXPERIMENTS = {
    experiment.name: experiment
    for experiment in (
        Experiment(
            "post_models",
            "How do the post's five models learn at their 32x32x3 input, and what do its ResNet errata cost?",
            {"loader": "digits", "size": 32, "channels": 3, "seed": 0},
            (
                _post_run("custom_vgg", "custom_vgg"),
                _post_run("custom_inception", "custom_inception"),
                _post_run("custom_resnet", "custom_resnet"),
                _post_run("custom_resnet, identity shortcuts + pooled head", "custom_resnet",
                          identity_shortcuts=True, pooled_head=True),  # fmt: skip
                _post_run("custom_densenet", "custom_densenet"),
                _post_run("custom_xception", "custom_xception"),
            ),
        ),
        Experiment(
            "post_resnet_dropout",
            "Is the dropout before each BN what stops the post's ResNet from generalising? (Li et al. 2019)",
            {"loader": "digits", "size": 32, "channels": 3, "seed": 0},
            (
                _post_run("custom_resnet, identity shortcuts + pooled head, no block dropout", "custom_resnet",
                          identity_shortcuts=True, pooled_head=True, block_dropout=False),  # fmt: skip
            ),
        ),
        Experiment(
            "resnet_degradation",
            "Does a deeper plain network train worse than a shallower one, and do shortcuts fix it? "
            "(He et al. 2015, Figure 6)",
            {"loader": "digits", "size": 16, "channels": 1, "seed": 0},
            tuple(_cifar_run(name, name) for name in ("plain20_cifar", "plain56_cifar", "resnet20_cifar", "resnet56_cifar")),
        ),
        Experiment(
            "batch_norm",
            "Does batch normalisation let the same network train at a 10x higher learning rate? "
            "(Ioffe & Szegedy 2015)",
            {"loader": "digits", "size": 32, "channels": 3, "seed": 0},
            (
                _bn_run("without BN, lr 0.01", False, 0.01),
                _bn_run("without BN, lr 0.1", False, 0.1),
                _bn_run("with BN, lr 0.01", True, 0.01),
                _bn_run("with BN, lr 0.1", True, 0.1),
            ),
        ),
    )
}


def get(name):
    """The ``Experiment`` called ``name``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"Unknown experiment {name!r}; there are {', '.join(EXPERIMENTS)}. Received: name={name!r}")
    return EXPERIMENTS[name]


def load_data(experiment):
    spec = dict(experiment.data)
    loader = getattr(datasets, spec.pop("loader"))
    return loader(**spec)


def _train(run, data, **overrides):
    """Seeds, builds and fits one run; ``overrides`` go to ``fit`` (the replay's ``max_steps``)."""
    seed_everything(run.seed)
    model = cnn_notes.build(run.model, **run.options)
    history = fit(
        model, data, epochs=run.epochs, batch_size=run.batch_size, optimizer=run.optimizer,
        learning_rate=run.learning_rate, momentum=run.momentum, seed=run.seed, **overrides,
    )  # fmt: skip
    return model, history


def device():
    """What the runs ran on: the GPU's name where TensorFlow sees one, else the CPU's model and core count."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU: {model}, {os.cpu_count()} cores"


def environment():
    import keras
    import numpy
    import tensorflow as tf

    return {
        "device": device(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
    }


def run_experiment(name, *, results=RESULTS, verbose=1):
    """Runs every run of experiment ``name`` and writes ``results/<name>.json``; returns the result."""
    experiment = get(name)
    data = load_data(experiment)
    started = time.perf_counter()
    runs = []
    for run in experiment.runs:
        if verbose:
            print(f"[{name}] {run.label}: {run.model}, {run.epochs} epochs", flush=True)
        run_start = time.perf_counter()
        model, history = _train(run, data, verbose=verbose and (1 if sys.stdout.isatty() else 2))
        test_loss, test_accuracy = evaluate(model, data)
        runs.append({
            "label": run.label,
            "params": model.count_params(),
            "history": history.to_dict(),
            "test_loss": test_loss,
            "test_accuracy": test_accuracy,
            "wall_seconds": round(time.perf_counter() - run_start, 1),
        })  # fmt: skip
        if verbose:
            print(f"[{name}] {run.label}: test accuracy {test_accuracy:.3f}", flush=True)
    result = {
        "definition": experiment.definition(),
        "data": repr(data),
        "environment": environment(),
        "command": f"make experiments EXPERIMENTS={name}",
        "wall_seconds": round(time.perf_counter() - started, 1),
        "runs": runs,
    }
    results = Path(results)
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{name}.json"
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if verbose:
        print(f"[{name}] wrote {path.name} after {result['wall_seconds']:.0f} s", flush=True)
    return result


def load(name, *, results=RESULTS):
    """The stored result of experiment ``name``: the dict that ``run_experiment`` wrote."""
    get(name)
    path = Path(results) / f"{name}.json"
    if not path.is_file():
        raise ValueError(f"No stored result for {name!r}: run `make experiments EXPERIMENTS={name}`. Received: name={name!r}")
    return json.loads(path.read_text(encoding="utf-8"))


def histories(result):
    """``{label: History}`` of a stored result, in the order of its runs."""
    return {run["label"]: History.from_dict(run["history"]) for run in result["runs"]}


def replay(name, *, steps=3, labels=None, results=RESULTS):
    """Re-runs the first ``steps`` training steps of the runs ``labels`` (default: all) of a stored experiment.

    Returns ``[(label, stored, replayed)]``: the running-mean training loss after each step, as stored and as
    the current definition produces it. A test compares the two.
    """
    result = load(name, results=results)
    experiment = get(name)
    data = load_data(experiment)
    out = []
    for run, stored in zip(experiment.runs, result["runs"], strict=True):
        if labels is not None and run.label not in labels:
            continue
        _, history = _train(run, data, max_steps=steps, record_steps=steps)
        out.append((run.label, stored["history"]["first_steps"][:steps], history.first_steps))
    return out


# What the plots and tables show for the runs and experiments, in Chinese; the stored results keep the English
# labels of the definitions above (the definitions are part of each result, and a test replays them).
_LABELS_ZH = {
    "custom_resnet, identity shortcuts + pooled head": "custom_resnet，恒等捷径 + 池化分类头",
    "custom_resnet, identity shortcuts + pooled head, no block dropout": "custom_resnet，恒等捷径 + 池化分类头，块内无 dropout",
    "without BN, lr 0.01": "不带 BN，学习率 0.01",
    "without BN, lr 0.1": "不带 BN，学习率 0.1",
    "with BN, lr 0.01": "带 BN，学习率 0.01",
    "with BN, lr 0.1": "带 BN，学习率 0.1",
}
TITLES = {
    "post_models": ("The post's models on the digits, 32x32x3", "原文的模型在手写数字上（32x32x3）"),
    "post_resnet_dropout": ("The post's ResNet without the dropout before each BN", "去掉每个 BN 之前 dropout 的原文 ResNet"),
    "resnet_degradation": ("Plain vs residual on the digits (cf. He et al., Figure 6)",
                           "手写数字上的普通网络与残差网络（参见 He 等人论文的图 6）"),
    "batch_norm": ("The post's VGG with and without BN, two learning rates", "原文的 VGG 带与不带 BN，两种学习率"),
}  # fmt: skip


def label(run_label):
    """A run's label as plots and tables show it, in the language ``cnn_notes.set_language`` chose."""
    return say(run_label, _LABELS_ZH.get(run_label, run_label))


def plot_experiment(result, metric="accuracy", *, title=None):
    """Plots ``metric`` (``accuracy``, ``loss`` or ``error``) per epoch for every run of a stored result,
    training solid and validation dashed; returns the closed figure. The title is the experiment's own
    (``TITLES``) unless ``title`` is given; labels and title follow ``cnn_notes.set_language``."""
    if not isinstance(result, dict) or "runs" not in result:
        raise ValueError(f"`result` must be a stored result, as cnn_notes.experiments.load returns. Received: result={result!r:.80}")
    name = result.get("definition", {}).get("name")
    if title is None and name in TITLES:
        title = say(*TITLES[name])
    shown = {label(run): history for run, history in histories(result).items()}
    return plot_history(shown, metric, title=title)


def results_table(result):
    """Prints one row per run: parameters, accuracy at the end of training and on the test split, seconds per
    epoch (the mean over the epochs after the first, which also compiles)."""
    rows = []
    for run in result["runs"]:
        epochs = run["history"]["epochs"]
        timed = [e["seconds"] for e in epochs[1:]] or [epochs[0]["seconds"]]
        best = max(e["val_accuracy"] for e in epochs)
        rows.append((label(run["label"]), f"{run['params']:,}", f"{epochs[-1]['accuracy']:.3f}", f"{best:.3f}",
                     f"{run['test_accuracy']:.3f}", f"{sum(timed) / len(timed):.1f}"))  # fmt: skip
    header = say(("run", "params", "train acc", "best val acc", "test acc", "s/epoch"),
                 ("运行", "参数", "训练准确率", "最佳验证准确率", "测试准确率", "秒/epoch"))
    print(format_table(header, rows, right=(1, 2, 3, 4, 5)))
    env, minutes = result["environment"], result["wall_seconds"] / 60
    print(say(f"{len(rows)} runs on {env['device']}, TensorFlow {env['tensorflow']}; {minutes:.0f} min in all",
              f"{len(rows)} 次运行，设备 {env['device']}，TensorFlow {env['tensorflow']}；共 {minutes:.0f} 分钟"))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cnn_notes.experiments", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"experiments to run (default: all of {', '.join(EXPERIMENTS)})")
    parser.add_argument("--results", default=str(RESULTS), help="folder of the stored results")
    args = parser.parse_args(argv)
    for name in args.names or list(EXPERIMENTS):
        if name not in EXPERIMENTS:
            parser.error(f"unknown experiment {name!r}; there are {', '.join(EXPERIMENTS)}")
    for name in args.names or list(EXPERIMENTS):
        run_experiment(name, results=args.results)


if __name__ == "__main__":
    main(sys.argv[1:])
