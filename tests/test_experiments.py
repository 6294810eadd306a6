"""The stored experiments are data their definitions still produce: each has a result, the result holds the
definition as it stands today, and the first training steps of every run replay to the stored figures.

Every run's model is rebuilt (unallocated: its parameter count needs only the shapes) and its count compared;
the first steps are replayed for one run of each experiment (REPLAYED), eagerly (experiments.replay).

The tolerance: on the machine that stored them, every replay agreed with the stored run to the last bit, with
oneDNN on and off (seeded weights, seeded batch order, TensorFlow's deterministic ops). What can still differ
elsewhere is the choice of kernels, which sum in another order. Measured there by tracing the step for a static
instead of an unknown batch size (a different kernel choice on the same data): the running-mean loss after
three steps moved by at most KERNEL_CHOICE_SPREAD (relative; ResNet-56 at learning rate 0.05, which amplifies
rounding fastest). On another CPU (an Intel Xeon; the runs were stored on an AMD EPYC) the replays moved by at
most 1.26e-4 traced and OTHER_CPU_EAGER_SPREAD eagerly, op by op (post_resnet_dropout). REPLAY_TOLERANCE is
about six times the latter, and still ten times below what a change to a definition does to those losses
(another seed or learning rate moves them by 1% or more), which test_a_changed_definition_does_not_replay checks.
"""

import json

import pytest
from conftest import unallocated_build
from test_errors import raise_clean

from cnn_notes import experiments
from cnn_notes.experiments import EXPERIMENTS

REPLAY_STEPS = 3
KERNEL_CHOICE_SPREAD = 1.02e-4
OTHER_CPU_EAGER_SPREAD = 1.71e-4
REPLAY_TOLERANCE = 1e-3


def close(stored, replayed):
    return len(stored) == len(replayed) == REPLAY_STEPS and all(
        abs(a - b) <= REPLAY_TOLERANCE * abs(a) for a, b in zip(stored, replayed)
    )


@pytest.mark.parametrize("experiment", sorted(EXPERIMENTS))
def test_every_experiment_has_a_stored_result_of_its_current_definition(experiment):
    result = experiments.load(experiment)
    definition = json.loads(json.dumps(EXPERIMENTS[experiment].definition()))
    assert result["definition"] == definition, "the definition changed: run make experiments EXPERIMENTS=" + experiment
    assert set(result["environment"]) >= {"device", "tensorflow", "keras", "numpy", "python"}
    assert result["command"] == f"make experiments EXPERIMENTS={experiment}" and result["wall_seconds"] > 0
    for run, stored in zip(EXPERIMENTS[experiment].runs, result["runs"], strict=True):
        assert stored["label"] == run.label
        epochs = stored["history"]["epochs"]
        assert [e["epoch"] for e in epochs] == list(range(1, run.epochs + 1))
        assert len(stored["history"]["first_steps"]) >= REPLAY_STEPS and 0 <= stored["test_accuracy"] <= 1


# The step replay runs on one run of each experiment: the one with the fewest layers (the post's VGG, not its
# Inception, whose epochs are shorter but whose graph is not), 1 to 4 s each eagerly. Every run's model is still
# rebuilt from its definition and its parameter count compared with the stored one, which catches a changed
# architecture in any run.
REPLAYED = {
    "backbones": "pretraining on digits 0-4",
    "batch_norm": "without BN, lr 0.1",
    "post_models": "custom_vgg",
    "post_resnet_dropout": "custom_resnet, identity shortcuts + pooled head, no block dropout",
    "resnet_degradation": "resnet20_cifar",
}


def test_every_experiment_has_a_replayed_run():
    assert set(REPLAYED) == set(EXPERIMENTS)
    for experiment, label in REPLAYED.items():
        assert label in {run.label for run in EXPERIMENTS[experiment].runs}


@pytest.mark.parametrize("experiment", sorted(EXPERIMENTS))
def test_the_first_steps_of_a_stored_run_replay(experiment):
    [(label, stored, replayed)] = experiments.replay(experiment, steps=REPLAY_STEPS, labels={REPLAYED[experiment]})
    assert close(stored, replayed), f"{experiment} / {label}: stored {stored}, replayed {replayed}"


@pytest.mark.parametrize("experiment", sorted(EXPERIMENTS))
def test_every_stored_run_has_its_definition_s_parameters(experiment):
    counts = {}  # runs that differ only in training (seed, method, labels) share one build
    for run, stored in zip(EXPERIMENTS[experiment].runs, experiments.load(experiment)["runs"], strict=True):
        key = json.dumps([run.model, run.options], sort_keys=True)
        if key not in counts:
            counts[key] = unallocated_build(run.model, **run.options).count_params()
        assert counts[key] == stored["params"], f"{experiment} / {run.label}"


def test_a_changed_definition_does_not_replay(monkeypatch):
    [run] = [r for r in EXPERIMENTS["batch_norm"].runs if r.label == "with BN, lr 0.01"]
    stored = next(r for r in experiments.load("batch_norm")["runs"] if r["label"] == run.label)
    data = experiments.load_data(EXPERIMENTS["batch_norm"])
    for change in ({"seed": 1}, {"learning_rate": 0.02}):
        _, history = experiments._train(
            experiments.Run(**{**run.__dict__, **change}), data, max_steps=REPLAY_STEPS, run_eagerly=True
        )
        moved = max(abs(a - b) / abs(a) for a, b in zip(stored["history"]["first_steps"], history.first_steps))
        assert moved > 10 * REPLAY_TOLERANCE, change


def test_results_table_prints_a_row_per_run(capsys):
    experiments.results_table(experiments.load("batch_norm"))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["run", "params", "train", "acc", "best", "val", "acc", "test", "acc", "s/epoch"]
    assert set(lines[1]) == {"-", " "}  # cnn_notes.format_table's rule under the header
    assert len(lines) == 3 + len(EXPERIMENTS["batch_norm"].runs) and "runs on" in lines[-1]


def test_unknown_experiments_are_refused(capsys):
    raise_clean(lambda: experiments.get("resnet"), "Unknown experiment 'resnet'", "Received: name='resnet'")
    raise_clean(lambda: experiments.load("resnet"), "Unknown experiment")
    with pytest.raises(SystemExit) as info:
        experiments.main(["resnet"])
    assert info.value.code == 2 and "unknown experiment 'resnet'" in capsys.readouterr().err


def test_a_missing_result_says_how_to_make_it(tmp_path):
    raise_clean(lambda: experiments.load("batch_norm", results=tmp_path), "make experiments EXPERIMENTS=batch_norm")
