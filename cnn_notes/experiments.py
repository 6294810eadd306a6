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
from cnn_notes import transfer
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


TRANSFER_METHODS = ("linear probe", "fine-tuning", "from scratch")


@dataclass(frozen=True)
class TransferRun(Run):
    """A run on the target task of a ``TransferExperiment``: ``method`` says what it starts from. ``"linear
    probe"``: the pretrained backbone, frozen, under a new classifier (only the classifier learns); ``"fine-tuning"``:
    the same start, every layer trained; ``"from scratch"``: the same network freshly initialised.
    ``labels_per_class`` training images of each target class (``None``: all of them)."""

    method: str = "from scratch"
    labels_per_class: object = None


@dataclass(frozen=True)
class TransferExperiment(Experiment):
    """A backbone pretrained on ``source_classes`` of the data (the first run, a plain ``Run``), then the
    ``TransferRun``s on ``target_classes``: each tested on the target classes' test images."""

    source_classes: tuple = ()
    target_classes: tuple = ()

    def __post_init__(self):
        pretraining, *runs = self.runs
        if type(pretraining) is not Run or not runs or not all(isinstance(r, TransferRun) for r in runs):
            raise ValueError(f"`runs` must be a pretraining Run followed by TransferRuns. Received: runs={self.runs!r:.200}")
        for run in runs:
            if run.method not in TRANSFER_METHODS:
                raise ValueError(f"`method` must be one of {', '.join(TRANSFER_METHODS)}. Received: method={run.method!r}")
            if run.labels_per_class is not None and (isinstance(run.labels_per_class, bool) or not isinstance(run.labels_per_class, int) or run.labels_per_class < 1):
                raise ValueError(f"`labels_per_class` must be None (all) or a positive integer. Received: labels_per_class={run.labels_per_class!r}")
        if not self.source_classes or not self.target_classes or set(self.source_classes) & set(self.target_classes):
            raise ValueError(
                "`source_classes` and `target_classes` must be two non-empty, disjoint lists of labels. "
                f"Received: source_classes={self.source_classes!r}, target_classes={self.target_classes!r}"
            )

    def definition(self):
        return {**super().definition(), "kind": "transfer", "source_classes": list(self.source_classes),
                "target_classes": list(self.target_classes)}  # fmt: skip


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


# The backbones experiment: ResNet-20 at the 16x16x1 digits (0.27M parameters, under a second an epoch here),
# pretrained on 0-4, then taught 5-9. Every target run takes about 160 steps of 16 images, whatever its number
# of labels, so that fewer labels are not also less training; three seeds (each also draws other labelled
# images), since a few labels make one run a lottery.
_BACKBONE = {"input_shape": (16, 16, 1), "classes": 5}
_TRANSFER_EPOCHS = {10: 40, 50: 10, None: 5}
_TRANSFER_LEARNING_RATES = {"linear probe": 0.01, "fine-tuning": 0.005, "from scratch": 0.01}
_TRANSFER_SEEDS = (0, 1, 2)


def _transfer_run(method, labels_per_class, seed):
    labels = f"{labels_per_class} per class" if labels_per_class else "all labels"
    return TransferRun(f"{method}, {labels}, seed {seed}", "resnet20_cifar", _BACKBONE, optimizer="sgd",
                       learning_rate=_TRANSFER_LEARNING_RATES[method], epochs=_TRANSFER_EPOCHS[labels_per_class],
                       batch_size=16, seed=seed, method=method, labels_per_class=labels_per_class)  # fmt: skip


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
        TransferExperiment(
            "backbones",
            "Do features learnt on digits 0-4 help to learn 5-9 from few labels: a linear classifier on the frozen "
            "backbone, fine-tuning it, or the same network from scratch? (Yosinski et al. 2014)",
            {"loader": "digits", "size": 16, "channels": 1, "seed": 0},
            (
                Run("pretraining on digits 0-4", "resnet20_cifar", _BACKBONE, optimizer="sgd", learning_rate=0.05,
                    epochs=15, batch_size=32),  # fmt: skip
                *(_transfer_run(method, labels, seed) for labels in (10, 50, None) for method in TRANSFER_METHODS
                  for seed in _TRANSFER_SEEDS),  # fmt: skip
            ),
            source_classes=(0, 1, 2, 3, 4),
            target_classes=(5, 6, 7, 8, 9),
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


def _train(run, data, prepare=None, **overrides):
    """Seeds, builds and fits one run; ``prepare(model)``, if given, runs between the build and the fit (a
    transfer run's start from the backbone); ``overrides`` go to ``fit`` (the replay's ``max_steps``)."""
    seed_everything(run.seed)
    model = cnn_notes.build(run.model, **run.options)
    if prepare is not None:
        prepare(model)
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


def _transfer_data(experiment, data):
    """The source and the target task of a ``TransferExperiment``: ``data`` cut to each set of classes."""
    return (datasets.select_classes(data, experiment.source_classes),
            datasets.select_classes(data, experiment.target_classes))  # fmt: skip


def _target_data(run, target):
    return target if run.labels_per_class is None else datasets.per_class(target, run.labels_per_class, seed=run.seed)


def _train_transfer(run, target, pretrained, **overrides):
    """Seeds and builds the run's network for the target classes, starts it from the ``pretrained`` backbone
    (``"linear probe"`` frozen, ``"fine-tuning"`` not) or leaves it fresh (``"from scratch"``), and fits it on
    ``run.labels_per_class`` images per class. The same seed gives every method the same new classifier."""
    def start(model):
        if run.method != "from scratch":
            transfer.transfer_weights(pretrained, model)
        if run.method == "linear probe":
            transfer.freeze_backbone(model)

    data = _target_data(run, target)
    model, history = _train(run, data, prepare=start, **overrides)
    return model, history, data


def _trained(experiment, data, *, labels=None, before=None, **overrides):
    """Trains the runs ``labels`` (default: all) of ``experiment`` in order, yielding ``(run, model, history,
    the Dataset it was trained and is tested on)``; ``before(run)`` is called before each. A transfer run that
    needs the backbone gets it pretrained in full first, even where ``overrides`` cut the runs short (a replay)."""
    if not isinstance(experiment, TransferExperiment):
        for run in experiment.runs:
            if labels is None or run.label in labels:
                before and before(run)
                model, history = _train(run, data, **overrides)
                yield run, model, history, data
        return
    source, target = _transfer_data(experiment, data)
    pretraining, *runs = experiment.runs
    wanted = [run for run in runs if labels is None or run.label in labels]
    pretrained = None
    if labels is None or pretraining.label in labels or any(run.method != "from scratch" for run in wanted):
        full = labels is None or any(run.method != "from scratch" for run in wanted)
        before and before(pretraining)
        kept = {k: v for k, v in overrides.items() if k in ("verbose", "record_steps")} if full else overrides
        pretrained, history = _train(pretraining, source, **kept)
        if labels is None or pretraining.label in labels:
            yield pretraining, pretrained, history, source
    for run in wanted:
        before and before(run)
        model, history, run_data = _train_transfer(run, target, pretrained, **overrides)
        yield run, model, history, run_data


def run_experiment(name, *, results=RESULTS, verbose=1):
    """Runs every run of experiment ``name`` and writes ``results/<name>.json``; returns the result."""
    experiment = get(name)
    data = load_data(experiment)
    started = time.perf_counter()
    runs = []

    def announce(run):
        if verbose:
            print(f"[{name}] {run.label}: {run.model}, {run.epochs} epochs", flush=True)

    run_start = time.perf_counter()
    trained = _trained(experiment, data, before=announce, verbose=verbose and (1 if sys.stdout.isatty() else 2))
    for run, model, history, run_data in trained:
        test_loss, test_accuracy = evaluate(model, run_data)
        record = {
            "label": run.label,
            "params": model.count_params(),
            "history": history.to_dict(),
            "test_loss": test_loss,
            "test_accuracy": test_accuracy,
            "wall_seconds": round(time.perf_counter() - run_start, 1),
        }  # fmt: skip
        if isinstance(experiment, TransferExperiment):
            record.update(data=repr(run_data), train_images=len(run_data.y_train), test_images=len(run_data.y_test),
                          trainable_params=transfer.trainable_count(model))  # fmt: skip
        runs.append(record)
        if verbose:
            print(f"[{name}] {run.label}: test accuracy {test_accuracy:.3f}", flush=True)
        run_start = time.perf_counter()
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
    the current definition produces it. A test compares the two. The steps run eagerly (``fit``'s
    ``run_eagerly``): tracing a training step costs 3 to 15 s per model here, more than the steps themselves.
    """
    result = load(name, results=results)
    experiment = get(name)
    if len(result["runs"]) != len(experiment.runs):
        raise ValueError(f"The stored result of {name!r} has {len(result['runs'])} runs, the definition {len(experiment.runs)}: "
                         f"run `make experiments EXPERIMENTS={name}`. Received: name={name!r}")  # fmt: skip
    stored = {run["label"]: run for run in result["runs"]}
    data = load_data(experiment)
    out = []
    for run, _, history, _ in _trained(experiment, data, labels=labels, max_steps=steps, record_steps=steps, run_eagerly=True):
        out.append((run.label, stored[run.label]["history"]["first_steps"][:steps], history.first_steps))
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


_METHODS_ZH = {"linear probe": "线性分类器（冻结特征）", "fine-tuning": "微调", "from scratch": "从头训练"}
_LABELS_ZH["pretraining on digits 0-4"] = "在数字 0–4 上预训练"
for _method in TRANSFER_METHODS:
    for _seed in _TRANSFER_SEEDS:
        for _count in (10, 50):
            _LABELS_ZH[f"{_method}, {_count} per class, seed {_seed}"] = f"{_METHODS_ZH[_method]}，每类 {_count} 个标签，种子 {_seed}"
        _LABELS_ZH[f"{_method}, all labels, seed {_seed}"] = f"{_METHODS_ZH[_method]}，全部标签，种子 {_seed}"
TITLES["backbones"] = ("Digits 5-9 from a backbone pretrained on 0-4", "在 0–4 上预训练的骨干网络学习数字 5–9")


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


def _transfer_result(result):
    definition = result.get("definition", {}) if isinstance(result, dict) else {}
    if definition.get("kind") != "transfer" or "runs" not in result:
        raise ValueError(
            "`result` must be the stored result of a transfer experiment, e.g. cnn_notes.experiments.load('backbones'). "
            f"Received: result={result!r:.80}"
        )
    pretraining, *runs = result["runs"]
    return definition, pretraining, runs


def transfer_accuracies(result):
    """``{method: {labels per class: [test accuracy per seed]}}`` of a stored transfer result, in the order of
    its runs; "all labels" counts as the mean number of training images per class."""
    definition, _, runs = _transfer_result(result)
    classes = len(definition["target_classes"])
    out = {}
    for spec, run in zip(definition["runs"][1:], runs, strict=True):
        count = spec["labels_per_class"] or run["train_images"] / classes
        out.setdefault(spec["method"], {}).setdefault(count, []).append(run["test_accuracy"])
    return out


def transfer_table(result):
    """Prints the test accuracy on the target classes per method (rows) and labels per class (columns): the
    mean over the seeds and, in brackets, the lowest and the highest; then the pretraining's own test accuracy
    on the source classes."""
    definition, pretraining, runs = _transfer_result(result)
    specs = definition["runs"][1:]
    counts = list(dict.fromkeys(spec["labels_per_class"] for spec in specs))
    all_images = next(run["train_images"] for spec, run in zip(specs, runs) if spec["labels_per_class"] is None)
    heading = [say(f"{c} per class", f"每类 {c} 个") if c else say(f"all ({all_images:,} images)", f"全部（{all_images:,} 张）")
               for c in counts]  # fmt: skip
    cells, trainable = {}, {}
    for spec, run in zip(specs, runs, strict=True):
        cells.setdefault((spec["method"], spec["labels_per_class"]), []).append(run["test_accuracy"])
        trainable[spec["method"]] = run["trainable_params"]

    def cell(values):
        return f"{sum(values) / len(values):.3f} ({min(values):.2f}–{max(values):.2f})"

    rows = [
        (say(method, _METHODS_ZH.get(method, method)), f"{trainable[method]:,}", *(cell(cells[method, c]) for c in counts))
        for method in dict.fromkeys(spec["method"] for spec in specs)
    ]  # fmt: skip
    header = (say("method", "方法"), say("trained params", "训练的参数"), *heading)
    print(format_table(header, rows, right=tuple(range(1, len(header)))))
    env, minutes = result["environment"], result["wall_seconds"] / 60
    seeds = len({spec["seed"] for spec in specs})
    source = "-".join(map(str, (definition["source_classes"][0], definition["source_classes"][-1])))
    target = "-".join(map(str, (definition["target_classes"][0], definition["target_classes"][-1])))
    tests = runs[0]["test_images"]
    print(say(f"test accuracy on digits {target} ({tests:,} test images), mean (lowest–highest) of {seeds} seeds; "
              f"the backbone's own on {source}: {pretraining['test_accuracy']:.3f}",
              f"数字 {target} 上的测试准确率（{tests:,} 张测试图像），{seeds} 个种子的均值（最低–最高）；"
              f"骨干网络在 {source} 上自己的测试准确率：{pretraining['test_accuracy']:.3f}"))  # fmt: skip
    print(say(f"{len(result['runs'])} runs on {env['device']}, TensorFlow {env['tensorflow']}; {minutes:.0f} min in all",
              f"{len(result['runs'])} 次运行，设备 {env['device']}，TensorFlow {env['tensorflow']}；共 {minutes:.0f} 分钟"))


def plot_transfer(result, *, title=None):
    """Plots the test accuracy on the target classes against the labels per class (log scale), one line per
    method through the means over the seeds, bars from the lowest to the highest; returns the closed figure.
    Labels and title follow ``cnn_notes.set_language``."""
    import matplotlib.pyplot as plt

    accuracies = transfer_accuracies(result)
    if title is None:
        title = say(*TITLES.get(result["definition"]["name"], (result["definition"]["name"],) * 2))
    figure, ax = plt.subplots(figsize=(7.0, 4.0))
    for index, (method, points) in enumerate(accuracies.items()):
        counts = list(points)
        means = [sum(v) / len(v) for v in points.values()]
        low = [m - min(v) for m, v in zip(means, points.values())]
        high = [max(v) - m for m, v in zip(means, points.values())]
        ax.errorbar(counts, means, yerr=[low, high], fmt="o-", capsize=4, color=f"C{index}",
                    label=say(method, _METHODS_ZH.get(method, method)))  # fmt: skip
    counts = sorted({c for points in accuracies.values() for c in points})
    ax.set_xscale("log")
    ax.set_xticks(counts)
    ax.set_xticklabels([f"{c:.0f}" for c in counts])
    ax.minorticks_off()
    ax.set_xlabel(say("labelled training images per class (log scale)", "每类带标签的训练图像（对数刻度）"))
    ax.set_ylabel(say("test accuracy", "测试准确率"))
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    figure.tight_layout()
    plt.close(figure)
    return figure


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
