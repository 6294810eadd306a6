"""benchmarks/run.py: its pure pieces, its command line, and one tiny end-to-end run."""

import csv
import importlib.util
import math
import time
from pathlib import Path

import pytest

from cnn_notes.references import KERAS_APPLICATIONS

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
_spec = importlib.util.spec_from_file_location("benchmark_run", _PATH)
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)

METRICS = ["build", "fwd_b1", "fwd_b32"]


def _row(model, pair, ratios, layers_equal=True):
    side, base = pair.split("/")
    row = {"model": model, "pair": pair, "keras": "ResNet50", "params": 25_636_712, "macs": 3_858_000_000}
    row.update(params_equal=True, weight_shapes_equal=True, layers_equal=layers_equal, macs_equal=True)
    for metric, ratio in zip(METRICS, ratios):
        row[f"{metric}_{side}_s"], row[f"{metric}_{base}_s"] = ratio, 1.0
        row[f"{metric}_ratio"] = ratio
    return row


def _rows():
    return [
        _row("resnet50", "ours/keras", [1.5, 1.02, 0.90]),
        _row("resnet50", "control/keras", [0.95, 1.04, 1.01], layers_equal=None),
        _row("vgg16", "ours/keras", [1.1, 0.97, 1.0]),
        _row("vgg16", "control/keras", [1.08, 0.99, 1.02]),
    ]


# --- Timing logic ----------------------------------------------------------------------------------------------


def test_alternate_takes_turns_rotates_and_drops_the_warm_up():
    calls = []
    steps = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    times = run.alternate(steps, rounds=3)
    assert "".join(calls) == "abc" + "bca" + "cab" + "abc"
    assert {name: len(elapsed) for name, elapsed in times.items()} == {"a": 3, "b": 3, "c": 3}
    assert all(t >= 0 for elapsed in times.values() for t in elapsed)


def test_alternate_gives_cheap_steps_more_rounds():
    steps = {name: (lambda: time.sleep(0.002)) for name in "ab"}
    times = run.alternate(steps, rounds=1, min_seconds=0.02)
    assert all(len(elapsed) >= 5 and sum(elapsed) >= 0.02 for elapsed in times.values())


def test_control_band_is_symmetric_in_log_scale_and_as_wide_as_the_widest_control():
    low, high = run.control_band([1.02, 0.8, 1.1])
    assert (low, high) == pytest.approx((0.8, 1.25))
    assert run.control_band([1.0]) == (1.0, 1.0)
    assert run.control_band([1.1]) == pytest.approx(run.control_band([1 / 1.1]))


@pytest.mark.parametrize(("ratio", "inside"), [(1.0, True), (0.8, True), (1.25, True), (1.26, False), (0.79, False)])
def test_in_band(ratio, inside):
    assert run.in_band(ratio, (0.8, 1.25)) is inside


def test_mark_bands_flags_twins_against_the_widest_control_of_each_metric():
    rows = _rows()
    bands = run.mark_bands(rows, METRICS)
    assert bands["build"] == pytest.approx((1 / 1.08, 1.08))
    assert bands["fwd_b1"] == pytest.approx((1 / 1.04, 1.04))
    twins = [r for r in rows if r["pair"] == "ours/keras"]
    assert [r["build_in_band"] for r in twins] == [False, False]
    assert [r["fwd_b1_in_band"] for r in twins] == [True, True]
    assert [r["fwd_b32_in_band"] for r in twins] == [False, True]
    assert not any(key.endswith("_in_band") for r in rows if r["pair"] == "control/keras" for key in r)


# --- Output ----------------------------------------------------------------------------------------------------


def test_markdown_table_has_a_row_per_pair_and_marks_the_band():
    rows = _rows()
    bands = run.mark_bands(rows, METRICS)
    lines = run.format_table(rows, METRICS, bands).splitlines()
    assert lines[0] == (
        "| model | pair | params | GMACs | params = | shapes = | layers = | MACs = | build | fwd b1 | fwd b32 |"
    )
    assert lines[1] == "|" + "---|" * 11
    assert lines[2] == (
        "| resnet50 | ours / ResNet50 | 25,636,712 | 3.858 | yes | yes | yes | yes "
        "| 1.50 **out** | 1.02 in | 0.90 **out** |"
    )
    assert lines[3].startswith("| resnet50 | control: ResNet50 x2 |") and "| n/a |" in lines[3]
    assert lines[3].endswith("| 0.95 | 1.04 | 1.01 |")
    assert "build 0.93-1.08" in lines[-1] and "fwd b1 0.96-1.04" in lines[-1]


def test_a_failed_equality_stands_out():
    row = _row("resnet50", "ours/keras", [1.0, 1.0, 1.0])
    row["macs_equal"] = False
    assert "**NO**" in run.format_table([row], METRICS, {})


def test_csv_columns_and_values(tmp_path):
    rows = _rows()
    run.mark_bands(rows, METRICS)
    path = tmp_path / "benchmark.csv"
    run.write_csv(rows, METRICS, path)
    with open(path, newline="") as file:
        lines = list(csv.DictReader(file))
    assert list(lines[0]) == run.csv_columns(METRICS)
    assert run.csv_columns(["build"]) == [
        "model", "pair", "keras", "params", "macs",
        "params_equal", "weight_shapes_equal", "layers_equal", "macs_equal",
        "build_a_s", "build_b_s", "build_ratio", "build_in_band",
    ]  # fmt: skip
    assert [line["pair"] for line in lines] == ["ours/keras", "control/keras"] * 2
    assert lines[0]["build_ratio"] == "1.5000" and lines[0]["build_in_band"] == "False"
    assert lines[1]["layers_equal"] == "n/a" and lines[1]["build_in_band"] == ""
    assert float(lines[0]["fwd_b32_a_s"]) == 0.9 and float(lines[0]["fwd_b32_b_s"]) == 1.0


# --- Command line ----------------------------------------------------------------------------------------------


def test_default_arguments():
    args = run.parse_args([])
    assert args.models == list(run.DEFAULT_MODELS)
    assert set(args.models) <= set(KERAS_APPLICATIONS)
    assert (args.batch_sizes, args.rounds, args.min_seconds, args.input_size) == ([1, 32], 3, 2.0, None)
    assert args.out == _PATH.parent / "results"


def test_all_and_repeats():
    assert run.parse_args(["--models", "all"]).models == list(KERAS_APPLICATIONS)
    args = run.parse_args(["--models", "vgg16", "resnet50", "vgg16", "--batch-sizes", "8", "8", "2"])
    assert args.models == ["vgg16", "resnet50"]
    assert args.batch_sizes == [8, 2]


def test_results_are_git_ignored():
    assert "results/" in (_PATH.parent / ".gitignore").read_text().split()


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["resnet5"], "Unknown model 'resnet5'. Did you mean: resnet50"),
        (["vgg16", "alexnet"], "cnn_notes model 'alexnet' has no keras.applications twin"),
        (["all", "vgg16"], "Unknown model 'all'"),
    ],
)
def test_unknown_models_are_value_errors(names, message):
    with pytest.raises(ValueError, match=message) as info:
        run.resolve_models(names)
    assert str(info.value).endswith(f"Received: models={names}")


@pytest.mark.parametrize(
    "argv",
    [
        ["--models", "resnet5"],
        ["--models", "alexnet"],
        ["--rounds", "0"],
        ["--batch-sizes", "1", "x"],
        ["--input-size", "-3"],
    ],
)
def test_bad_arguments_exit_with_status_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        run.parse_args(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


# --- End to end --------------------------------------------------------------------------------------------------


def test_one_small_pair_end_to_end(tmp_path, capsys):
    # VGG-16 at 32x32 is the cheapest pair to build and run (16 layers; its 1x1x512 map feeds the dense layers):
    # the run builds each of the three sides twice and traces three forward steps, 5 s here against 19 s for
    # EfficientNet-B0's 237 layers. Every step of the script is the same whichever model it times.
    argv = [
        "--models",
        "vgg16",
        "--input-size",
        "32",
        "--batch-sizes",
        "1",
        "--rounds",
        "1",
        "--min-seconds",
        "0",
    ]
    rows = run.main(argv + ["--out", str(tmp_path)])
    assert [row["pair"] for row in rows] == ["ours/keras", "control/keras"]
    for row in rows:
        assert all(row[key] is True for key in run.EQUALITY)
        assert all(math.isfinite(row[f"{m}_ratio"]) and row[f"{m}_ratio"] > 0 for m in ["build", "fwd_b1"])
    assert isinstance(rows[0]["fwd_b1_in_band"], bool)
    table = (tmp_path / "benchmark.md").read_text()
    assert table in capsys.readouterr().out
    # 14,714,688 in the convolutions + 512*4096+4096 + 4096*4096+4096 + 4096*1000+1000 in the dense layers.
    assert "| vgg16 | ours / VGG16 | 37,694,248 |" in table
    with open(tmp_path / "benchmark.csv", newline="") as file:
        assert next(csv.reader(file)) == run.csv_columns(["build", "fwd_b1"])
