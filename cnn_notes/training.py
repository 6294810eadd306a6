"""Training with fixed seeds, and the record of what happened: ``fit``, ``History``, ``plot_history``.

``fit`` is Keras' own ``model.fit`` run one epoch at a time, so that the order of the training images in each
epoch is drawn by the book (``numpy``'s seeded generator), not by a data pipeline: the first steps of a run are
then the same steps whatever the number of epochs, which is what lets a test replay the start of a stored
experiment (``cnn_notes.experiments``). With ``seed_everything`` called before the model is built, the
initial weights, dropout masks and batch order are all fixed, and TensorFlow's deterministic ops make two runs
on one machine agree to the last bit.
"""

import math
import time
from dataclasses import asdict, dataclass, field

import keras
import numpy as np

from cnn_notes.data import Dataset
from cnn_notes.language import say
from cnn_notes.models.arguments import check_int

OPTIMIZERS = ("sgd", "adam")


@dataclass
class Epoch:
    """One epoch's figures: the training loss and accuracy averaged over the epoch's steps (with dropout and
    batch statistics, as Keras reports them), the validation figures at its end, and its wall time."""

    epoch: int
    loss: float
    accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float


@dataclass
class History:
    """What ``fit`` did: one ``Epoch`` per epoch, the running-mean loss after each of the first steps, and the
    configuration that produced it."""

    config: dict
    epochs: list = field(default_factory=list)
    first_steps: list = field(default_factory=list)

    def column(self, metric):
        """The values of ``metric`` (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``seconds``) per epoch."""
        if metric not in Epoch.__dataclass_fields__ or metric == "epoch":
            raise ValueError(
                f"`metric` must be one of loss, accuracy, val_loss, val_accuracy, seconds. Received: metric={metric!r}"
            )
        return [getattr(epoch, metric) for epoch in self.epochs]

    def to_dict(self):
        return {"config": self.config, "epochs": [asdict(e) for e in self.epochs], "first_steps": self.first_steps}

    @classmethod
    def from_dict(cls, record):
        return cls(record["config"], [Epoch(**e) for e in record["epochs"]], list(record["first_steps"]))


def seed_everything(seed):
    """Seeds Python, numpy and TensorFlow (``keras.utils.set_random_seed``) and turns on TensorFlow's
    deterministic ops. Call it before building the model: the initial weights come from these seeds."""
    import tensorflow as tf

    check_int(seed, "seed")
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def _check_positive_number(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"`{argument}` must be a positive number. Received: {argument}={value!r}")
    return float(value)


def make_optimizer(optimizer, learning_rate, momentum=0.9):
    """``"sgd"`` (with momentum, as the ResNet and Inception papers train) or ``"adam"``."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"`optimizer` must be one of {', '.join(OPTIMIZERS)}. Received: optimizer={optimizer!r}")
    learning_rate = _check_positive_number(learning_rate, "learning_rate")
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
        raise ValueError(f"`momentum` must be a number in [0, 1). Received: momentum={momentum!r}")
    if optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum)
    return keras.optimizers.Adam(learning_rate=learning_rate)


def _epoch_order(seed, epoch, n):
    """The order of the ``n`` training images in ``epoch`` (1-based): the same for every run with this seed."""
    return np.random.default_rng([seed, epoch]).permutation(n)


class _FirstSteps(keras.callbacks.Callback):
    """Records the running-mean loss after each of the first ``count`` steps into ``record``."""

    def __init__(self, count, record):
        super().__init__()
        self.count, self.record = count, record

    def on_train_batch_end(self, batch, logs=None):
        if batch < self.count:
            self.record.append(float(logs["loss"]))


def _check_fit_args(model, data, epochs, batch_size, record_steps, verbose):
    if not isinstance(model, keras.Model):
        raise ValueError(f"`model` must be a keras.Model, e.g. cnn_notes.build('custom_vgg'). Received: model={model!r}")
    if not isinstance(data, Dataset):
        raise ValueError(f"`data` must be a cnn_notes.data.Dataset, e.g. cnn_notes.data.digits(). Received: data={data!r}")
    expected = tuple(model.input_shape[1:])
    if expected != data.input_shape:
        raise ValueError(
            f"`data` holds {data.input_shape} images but the model takes {expected}: load the data at the model's "
            f"size, e.g. digits(size={expected[0]}, channels={expected[-1]}). Received: data={data!r}"
        )
    outputs = model.output_shape[-1]
    if outputs != data.classes:
        raise ValueError(
            f"`model` ends in {outputs} outputs but `data` has {data.classes} classes: build it with "
            f"classes={data.classes}. Received: model={model.name!r}"
        )
    check_int(epochs, "epochs", minimum=1)
    check_int(batch_size, "batch_size", minimum=1)
    check_int(record_steps, "record_steps")
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 0 (silent), 1 (progress bar) or 2 (a line per epoch). Received: verbose={verbose!r}")


def fit(
    model,
    data,
    *,
    epochs,
    batch_size=64,
    optimizer="adam",
    learning_rate=1e-3,
    momentum=0.9,
    seed=0,
    record_steps=3,
    max_steps=None,
    run_eagerly=False,
    verbose=0,
):
    """Trains ``model`` on ``data.x_train`` and validates on ``data.x_val`` after every epoch; returns a ``History``.

    The model is compiled here with sparse categorical cross-entropy and accuracy; it must end in a softmax of
    ``data.classes`` outputs (every builder's default). Each epoch visits the training images in an order drawn
    from ``seed`` and the epoch's number. ``max_steps`` stops after that many steps of the first epoch, without
    validation: the replay of a stored run's start. ``run_eagerly=True`` runs each step op by op, as Keras'
    option of that name, instead of tracing it into a graph first: for a replay's few steps tracing costs far
    more than the steps (ResNet-56: 9.0 s traced, 2.9 s eager here). ``verbose=1`` shows Keras' progress bar and a line per
    epoch, for long runs in a terminal; ``verbose=2`` only the line (for logs); notebooks keep the default 0,
    since a progress bar is not a stable output.
    """
    _check_fit_args(model, data, epochs, batch_size, record_steps, verbose)
    seed = check_int(seed, "seed")
    if max_steps is not None:
        max_steps = check_int(max_steps, "max_steps", minimum=1)
    if not isinstance(run_eagerly, bool):
        raise ValueError(f"`run_eagerly` must be True or False. Received: run_eagerly={run_eagerly!r}")
    model.compile(
        run_eagerly=run_eagerly,
        optimizer=make_optimizer(optimizer, learning_rate, momentum),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    config = {
        "epochs": epochs, "batch_size": batch_size, "optimizer": optimizer, "learning_rate": learning_rate,
        "momentum": momentum if optimizer == "sgd" else None, "seed": seed,
    }  # fmt: skip
    history = History(config)
    for epoch in range(1, epochs + 1):
        order = _epoch_order(seed, epoch, len(data.y_train))
        if max_steps is not None:
            # Keep a last, partial batch (of one image) where the full epoch has one: Keras then traces the
            # step for an unknown batch size, as in the full run. With whole batches only it traces a static
            # size, TensorFlow may pick other kernels, and the losses differ in their last bits.
            keep = max_steps * batch_size
            order = order[: keep + 1] if len(order) % batch_size and keep < len(order) else order[:keep]
        callbacks = [_FirstSteps(record_steps, history.first_steps)] if epoch == 1 else []
        start = time.perf_counter()
        logs = model.fit(
            data.x_train[order], data.y_train[order], batch_size=batch_size, epochs=1, shuffle=False,
            callbacks=callbacks, verbose=1 if verbose == 1 else 0,
        ).history  # fmt: skip
        if max_steps is not None:
            return history
        val_loss, val_accuracy = model.evaluate(data.x_val, data.y_val, batch_size=256, verbose=0)
        history.epochs.append(
            Epoch(
                epoch, float(logs["loss"][0]), float(logs["accuracy"][0]), float(val_loss), float(val_accuracy),
                round(time.perf_counter() - start, 2),
            )
        )  # fmt: skip
        if verbose:
            e = history.epochs[-1]
            print(f"epoch {epoch}/{epochs}: loss {e.loss:.4f}, accuracy {e.accuracy:.3f}, "
                  f"val_accuracy {e.val_accuracy:.3f}, {e.seconds:.1f} s", flush=True)  # fmt: skip
    return history


def evaluate(model, data):
    """``(loss, accuracy)`` of a fitted model on ``data``'s test split."""
    if not isinstance(data, Dataset):
        raise ValueError(f"`data` must be a cnn_notes.data.Dataset. Received: data={data!r}")
    loss, accuracy = model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0)
    return float(loss), float(accuracy)


def plot_history(histories, metric="accuracy", *, title=None, ax=None):
    """Plots ``metric`` per epoch for each ``History`` of ``histories`` (a dict label -> History), training as
    solid lines and validation dashed; ``metric`` is ``accuracy``, ``loss`` or ``error`` (1 - accuracy).
    Returns the closed figure, which a notebook displays once."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not isinstance(histories, dict) or not histories or not all(isinstance(h, History) for h in histories.values()):
        raise ValueError(
            "`histories` must be a non-empty dict of label -> History (what cnn_notes.training.fit returns). "
            f"Received: histories={histories!r}"
        )
    if metric not in ("accuracy", "loss", "error"):
        raise ValueError(f"`metric` must be 'accuracy', 'loss' or 'error'. Received: metric={metric!r}")
    figure = None
    if ax is None:
        figure, ax = plt.subplots(figsize=(8.0, 4.0))
    for index, (label, history) in enumerate(histories.items()):
        colour = f"C{index % 10}"
        epochs = [e.epoch for e in history.epochs]
        for split, style in (("", "-"), ("val_", "--")):
            values = history.column(split + ("loss" if metric == "loss" else "accuracy"))
            if metric == "error":
                values = [1 - v for v in values]
            name = say(f"{label} ({'validation' if split else 'training'})", f"{label}（{'验证' if split else '训练'}）")
            ax.plot(epochs, values, style, color=colour, label=name)
    ax.set_xlabel("epoch")  # the Chinese chapters say "epoch" too
    ax.set_ylabel({
        "accuracy": say("accuracy", "准确率"),
        "loss": say("cross-entropy loss", "交叉熵损失"),
        "error": say("error (1 - accuracy)", "误差（1 - 准确率）"),
    }[metric])  # fmt: skip
    if title:
        ax.set_title(title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    # Beside the axes: with several runs, a legend inside would cover the curves.
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    if figure is not None:
        figure.tight_layout()
        plt.close(figure)
    return figure if figure is not None else ax.figure
