"""benchmarks/training_cost.py: its arguments, its table and one tiny timed run."""

import csv
import importlib.util
from pathlib import Path

import pytest

from cnn_notes.references import POST

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "training_cost.py"
_spec = importlib.util.spec_from_file_location("training_cost", _PATH)
cost = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cost)


def test_default_arguments_time_the_posts_five_at_32():
    args = cost.parse_args([])
    assert args.models == sorted(POST) and len(args.models) == 5
    assert (args.size, args.images, args.epoch_images, args.batch_size) == (32, 256, 1347, 64)


@pytest.mark.parametrize(
    "argv", [["--size", "0"], ["--images", "x"], ["--batch-size", "-3"], ["--models", "custom_vggg"]]
)
def test_bad_arguments_exit_with_status_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cost.parse_args(argv)
    assert info.value.code == 2
    error = capsys.readouterr().err
    assert "Received" in error or "custom_vgg" in error


def test_table_projects_the_epoch_and_sums_the_models():
    rows = [
        {"model": "custom_vgg", "size": 32, "params": 288_298, "gmacs": 0.0387, "ms_per_image": 3.3, "epoch_s": 4.4},
        {"model": "custom_densenet", "size": 32, "params": 2_041_106, "gmacs": 2.0146, "ms_per_image": 143.0,
         "epoch_s": 192.6},
    ]  # fmt: skip
    lines = cost.format_table(rows, 1347).splitlines()
    assert lines[0].endswith("s per epoch of 1,347 |")
    assert lines[3] == "| custom_densenet | 32x32 | 2,041,106 | 2.015 | 143.0 | 193 |"
    assert lines[-1] == "| all | | | | | 197 |"


def test_one_tiny_run_end_to_end(tmp_path, capsys):
    argv = ["--models", "custom_vgg", "--size", "8", "--images", "32", "--batch-size", "16", "--epoch-images", "64"]
    assert cost.main(argv + ["--out", str(tmp_path)]) == 0
    with open(tmp_path / "training_cost.csv", newline="") as file:
        (row,) = list(csv.DictReader(file))
    assert row["model"] == "custom_vgg" and row["size"] == "8"
    # At 8x8 the three 2x2 pools leave 1x1x128 for the classifier: 287,008 + 128 * 10 + 10.
    assert int(row["params"]) == 288_298
    ms = float(row["ms_per_image"])
    assert 0 < ms < 10_000 and float(row["epoch_s"]) == pytest.approx(ms * 64 / 1000)
    assert "| custom_vgg | 8x8 | 288,298 |" in capsys.readouterr().out
    assert (tmp_path / "training_cost.md").read_text().startswith("| model | input |")
