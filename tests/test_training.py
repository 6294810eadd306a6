"""``cnn_notes.training``: a seeded fit that really learns, is reproduced to the bit, replays its first steps,
and refuses bad input before anything is compiled."""

import keras
import matplotlib
import pytest
from conftest import unallocated_build
from test_errors import raise_clean

from cnn_notes import data, training

matplotlib.use("Agg")


def tiny_model():
    """A LeNet-sized network on the native 8x8 digits: seconds to train."""
    inputs = keras.Input((8, 8, 1), name="input")
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = keras.layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name="tiny")


@pytest.fixture(scope="module")
def digits():
    return data.digits()


def train(digits, **kwargs):
    training.seed_everything(0)
    model = tiny_model()
    return model, training.fit(model, digits, **{"epochs": 4, "batch_size": 32, "learning_rate": 0.01, **kwargs})


@pytest.fixture(scope="module")
def trained(digits):
    return train(digits)


def test_a_fit_learns(trained, digits):
    model, history = trained
    losses = history.column("loss")
    assert len(history.epochs) == 4 and losses[-1] < losses[0] / 2
    # Ten classes: chance is 10%.
    assert history.epochs[-1].val_accuracy > 0.8
    loss, accuracy = training.evaluate(model, digits)
    assert accuracy > 0.8 and loss < 1
    assert history.config == {"epochs": 4, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.01,
                              "momentum": None, "seed": 0}  # fmt: skip
    assert len(history.first_steps) == 3 and all(e.seconds > 0 for e in history.epochs)


def test_the_same_seed_gives_the_same_run_to_the_bit(trained, digits):
    _, again = train(digits)
    assert again.first_steps == trained[1].first_steps
    assert [e.loss for e in again.epochs] == [e.loss for e in trained[1].epochs]
    assert [e.val_accuracy for e in again.epochs] == [e.val_accuracy for e in trained[1].epochs]


def test_max_steps_replays_the_start_of_a_run(trained, digits):
    _, start = train(digits, max_steps=3)
    assert start.epochs == [] and start.first_steps == trained[1].first_steps
    # Eagerly, op by op (what experiments.replay does, to save tracing the step), the same losses but for
    # rounding: the ops are the same, some are fused differently in a graph.
    _, eager = train(digits, max_steps=3, run_eagerly=True)
    assert eager.first_steps == pytest.approx(trained[1].first_steps, rel=1e-5)
    _, other_seed = train(digits, max_steps=3, seed=1, run_eagerly=True)
    assert other_seed.first_steps != pytest.approx(trained[1].first_steps, rel=1e-3)


def test_history_round_trips_through_a_dict(trained):
    history = trained[1]
    assert training.History.from_dict(history.to_dict()) == history


def test_plot_history(trained):
    figure = training.plot_history({"tiny": trained[1]}, "error", title="tiny")
    [ax] = figure.axes
    assert len(ax.lines) == 2 and ax.get_title() == "tiny" and ax.get_ylabel().startswith("error")
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"learning_rate": -1}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"momentum": 1.0}, "momentum"),
        ({"seed": -3}, "seed"),
        ({"verbose": 3}, "verbose"),
        ({"max_steps": 0}, "max_steps"),
        ({"record_steps": -1}, "record_steps"),
        ({"run_eagerly": "yes"}, "run_eagerly"),
    ],
)
def test_bad_training_arguments(digits, kwargs, argument):
    model = tiny_model()
    raise_clean(lambda: training.fit(model, digits, **{"epochs": 1, **kwargs}), f"`{argument}`", "Received:")
    assert not model.compiled  # refused before compiling


def test_data_must_fit_the_model(digits):
    # Unallocated builds: what fit checks is the models' input and output shapes.
    big = unallocated_build("custom_vgg")
    raise_clean(lambda: training.fit(big, digits, epochs=1), "digits(size=32, channels=3)", "Received: data=")
    ten_way = unallocated_build("custom_inception", input_shape=(32, 32, 3))  # 100 classes by default
    raise_clean(lambda: training.fit(ten_way, data.digits(size=32, channels=3), epochs=1), "classes=10", "Received: model=")
    raise_clean(lambda: training.fit("custom_vgg", digits, epochs=1), "`model` must be a keras.Model")
    raise_clean(lambda: training.fit(tiny_model(), (digits.x_train, digits.y_train), epochs=1), "`data` must be")


def test_bad_plot_and_column_arguments(trained):
    raise_clean(lambda: training.plot_history([trained[1]]), "`histories`", "Received:")
    raise_clean(lambda: training.plot_history({"a": trained[1]}, "f1"), "`metric`", "Received: metric='f1'")
    raise_clean(lambda: trained[1].column("epoch"), "`metric`", "Received: metric='epoch'")
