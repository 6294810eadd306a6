"""Transfer learning's pieces, cheaply: the class subset and the labels-per-class subsample of a Dataset, a
backbone's weights carried into a network for other classes (frozen or not), the transfer experiment's
definition checks, and the table and plot of its stored result. Tiny models, a few steps."""

import keras
import numpy as np
import pytest

import cnn_notes
from cnn_notes import data, experiments, transfer
from cnn_notes.experiments import Run, TransferExperiment, TransferRun

from test_errors import raise_clean

TINY = {"input_shape": (8, 8, 1), "classes": 5}


@pytest.fixture(scope="module")
def digits():
    return data.digits()


def test_select_classes_keeps_those_classes_relabelled_in_their_order(digits):
    target = data.select_classes(digits, (5, 6, 7, 8, 9))
    assert target.classes == 5 and repr(target).startswith("Dataset(digits 5-9: 8x8x1 images, 5 classes;")
    for split in ("train", "val", "test"):
        y, y_all, x = getattr(target, "y_" + split), getattr(digits, "y_" + split), getattr(target, "x_" + split)
        assert sorted(set(y)) == [0, 1, 2, 3, 4] and len(y) == int(np.isin(y_all, [5, 6, 7, 8, 9]).sum())
        # the images are the original ones, in their order, label 0 being the digit 5
        keep = np.isin(y_all, [5, 6, 7, 8, 9])
        np.testing.assert_array_equal(x, getattr(digits, "x_" + split)[keep])
        np.testing.assert_array_equal(y + 5, y_all[keep])
    swapped = data.select_classes(digits, [3, 1])
    assert set(swapped.y_train) == {0, 1} and (digits.y_train == 3).sum() == (swapped.y_train == 0).sum()
    assert repr(swapped).startswith("Dataset(digits 3,1:")


def test_per_class_keeps_count_images_of_each_class_and_the_whole_val_and_test(digits):
    few = data.per_class(digits, 10, seed=0)
    assert np.bincount(few.y_train).tolist() == [10] * 10
    assert few.x_val is digits.x_val and few.x_test is digits.x_test
    assert repr(few).startswith("Dataset(digits, 10 per class:")
    again, other = data.per_class(digits, 10, seed=0), data.per_class(digits, 10, seed=1)
    np.testing.assert_array_equal(again.x_train, few.x_train)
    assert not np.array_equal(other.x_train, few.x_train)
    # every kept image is one of the training images with its label
    rows = {(digits.x_train[i].tobytes(), int(digits.y_train[i])) for i in range(len(digits.y_train))}
    assert all((few.x_train[i].tobytes(), int(few.y_train[i])) in rows for i in range(len(few.y_train)))


@pytest.mark.parametrize(
    "call, patterns",
    [
        (lambda d: data.select_classes(d, ()), ("`classes`", "Received: classes=()")),
        (lambda d: data.select_classes(d, (1, 1)), ("distinct", "Received: classes=(1, 1)")),
        (lambda d: data.select_classes(d, (10,)), ("0 to 9", "Received: classes=(10,)")),
        (lambda d: data.select_classes(d, 5), ("Received: classes=5",)),
        (lambda d: data.select_classes("digits", (1,)), ("`data`", "Received: data='digits'")),
        (lambda d: data.per_class(d, 0), ("`count`", "Received: count=0")),
        (lambda d: data.per_class(d, 1000), ("the fewest training images", "Received: count=1000")),
        (lambda d: data.per_class(d, 2.5), ("Received: count=2.5",)),
        (lambda d: data.per_class(d, 5, seed=-1), ("`seed`",)),
    ],
)
def test_bad_subsets_are_refused(digits, call, patterns):
    raise_clean(lambda: call(digits), *patterns)


def test_a_backbone_carried_over_keeps_its_weights_and_gets_a_fresh_classifier():
    keras.utils.set_random_seed(0)
    source = cnn_notes.build("resnet20_cifar", **TINY)
    keras.utils.set_random_seed(1)
    target = transfer.transfer_weights(source, cnn_notes.build("resnet20_cifar", input_shape=(8, 8, 1), classes=3))
    for a, b in zip(source.layers, target.layers):
        if a.name == transfer.HEAD:
            assert a.kernel.shape[-1] == 5 and b.kernel.shape[-1] == 3
            continue
        for w, v in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_array_equal(w, v)
    x = np.random.default_rng(0).random((4, 8, 8, 1), dtype="float32")
    features = transfer.backbone(source)
    assert features.output_shape == (None, 64)  # ResNet-20's last stage, globally averaged
    np.testing.assert_allclose(transfer.backbone(target)(x), features(x), atol=1e-6)


def test_freeze_backbone_leaves_only_the_linear_classifier_to_train(digits):
    tiny = data.per_class(data.select_classes(digits, (0, 1, 2, 3, 4)), 4)
    cnn_notes.training.seed_everything(0)
    model = transfer.freeze_backbone(cnn_notes.build("resnet20_cifar", **TINY))
    assert transfer.trainable_count(model) == 64 * 5 + 5
    before = [w.copy() for w in transfer.backbone(model).get_weights()]
    cnn_notes.training.fit(model, tiny, epochs=1, batch_size=8, max_steps=2)
    after = transfer.backbone(model).get_weights()  # BN's moving statistics too: inference mode
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    # unfrozen, everything trains but BatchNormalization's moving statistics (a mean and a variance per channel)
    fresh = cnn_notes.build("resnet20_cifar", **TINY)
    moving = sum(2 * layer.moving_mean.shape[0] for layer in fresh.layers if isinstance(layer, keras.layers.BatchNormalization))
    assert transfer.trainable_count(fresh) == fresh.count_params() - moving


def test_mismatched_models_are_refused():
    small = cnn_notes.build("resnet20_cifar", **TINY)
    raise_clean(lambda: transfer.transfer_weights(small, cnn_notes.build("plain20_cifar", **TINY)),
                "the same architecture")  # fmt: skip
    raise_clean(lambda: transfer.transfer_weights(small, cnn_notes.build("resnet20_cifar", input_shape=(8, 8, 3), classes=5)),
                "Layer 'conv1_conv'")  # fmt: skip
    headless = cnn_notes.build("resnet20_cifar", input_shape=(8, 8, 1), include_top=False, pooling="avg")
    raise_clean(lambda: transfer.backbone(headless), "no classifier layer named 'predictions'")
    raise_clean(lambda: transfer.freeze_backbone("resnet"), "`model` must be a keras.Model", "Received: model='resnet'")


def _experiment(**changes):
    fields = {
        "name": "t", "question": "?", "data": {"loader": "digits"},
        "runs": (Run("pre", "resnet20_cifar", TINY), TransferRun("probe", "resnet20_cifar", TINY, method="linear probe")),
        "source_classes": (0, 1), "target_classes": (2, 3),
    }  # fmt: skip
    return TransferExperiment(**{**fields, **changes})


def test_transfer_experiments_check_their_definition():
    assert _experiment().definition()["kind"] == "transfer"
    raise_clean(lambda: _experiment(runs=(TransferRun("probe", "resnet20_cifar"),)), "a pretraining Run followed")
    raise_clean(lambda: _experiment(runs=(Run("pre", "m"), TransferRun("x", "m", method="freeze"))),
                "`method`", "Received: method='freeze'")  # fmt: skip
    raise_clean(lambda: _experiment(runs=(Run("pre", "m"), TransferRun("x", "m", labels_per_class=0))),
                "`labels_per_class`", "Received: labels_per_class=0")  # fmt: skip
    raise_clean(lambda: _experiment(target_classes=(1, 2)), "disjoint", "Received: source_classes=(0, 1)")


def test_the_backbones_experiment_compares_three_methods_at_each_label_count():
    experiment = experiments.get("backbones")
    pretraining, *runs = experiment.runs
    assert pretraining.options == runs[0].options and all(r.model == pretraining.model for r in runs)
    cells = {(r.method, r.labels_per_class, r.seed) for r in runs}
    assert len(cells) == len(runs) == 3 * 3 * len(experiments._TRANSFER_SEEDS)
    # the same training budget (steps) for every labels count, within a batch or so per epoch
    steps = {r.labels_per_class: r.epochs * -(-(r.labels_per_class or 108) * 5 // r.batch_size) for r in runs}
    assert max(steps.values()) / min(steps.values()) < 1.1, steps


def test_the_stored_result_tabulates_and_plots(capsys):
    result = experiments.load("backbones")
    accuracies = experiments.transfer_accuracies(result)
    assert list(accuracies) == list(experiments.TRANSFER_METHODS)
    assert all(len(points) == 3 and all(len(v) == 3 for v in points.values()) for points in accuracies.values())
    experiments.transfer_table(result)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["method", "trained", "params"] and len(lines) == 2 + 3 + 2
    assert "linear probe" in lines[2] and "325" in lines[2]
    figure = experiments.plot_transfer(result)
    assert len(figure.axes[0].get_legend().get_texts()) == 3
    raise_clean(lambda: experiments.transfer_table(experiments.load("batch_norm")), "a transfer experiment")
    raise_clean(lambda: experiments.plot_transfer({"runs": []}), "a transfer experiment")
