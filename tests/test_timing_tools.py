"""The tools behind make test's report and its scheduling: the stage-by-stage breakdown (tools/test_stages.py)
and the measured seconds per group that put the longest unit-test groups first (tools/pytest_timing.py)."""

import json
import types

from tools import pytest_timing, test_stages


def test_the_breakdown_has_each_stage_its_floor_and_ratio_the_total_and_the_machine(tmp_path, monkeypatch):
    monkeypatch.setattr(test_stages, "REPORT_DIR", tmp_path)
    unit = {"floor_s": 90.4, "ratio": 1.93, "basis": "every model built once", "note": "in-run floor 30 s, 5.82x"}
    (tmp_path / "unit.json").write_text(json.dumps(unit))
    lines = test_stages.breakdown([("setup", 30.2, 0), ("unit", 174.6, 0), ("nbval", 12.0, 1)]).splitlines()
    assert lines[1] == "make test, stage by stage:"
    assert lines[3].split() == ["setup", "30"]
    assert lines[4].split() == ["unit", "175", "90", "1.93x"]
    assert lines[5].split() == ["nbval", "12", "FAILED"]
    assert lines[6].split() == ["total", "217"]
    # What each floor counts, and the unit stage's second ratio, under the table.
    assert lines[7:9] == ["  unit: floor of every model built once", "  unit: in-run floor 30 s, 5.82x"]
    assert lines[9] == f"  on {test_stages.machine()}" and "cores" in lines[9]


def stored_floor(path, **changes):
    floor = {"floor_s": 84.0, "workers": 2, "machine": test_stages.machine(), "measured": "2026-12-03",
             "build_seconds": {"model:vgg16": 2.3, "keras:VGG16": 2.2}, **changes}  # fmt: skip
    path.write_text(json.dumps(floor))
    return path


def test_the_floor_of_normal_builds_is_used_only_where_it_counts_this_run_s_builds_on_this_machine(tmp_path):
    builds = {("model", "vgg16"): 0.4, ("keras", "VGG16"): 0.4}
    stored, why_not = pytest_timing.stored_unit_floor(builds, 2, stored_floor(tmp_path / "floor.json"))
    assert stored["floor_s"] == 84.0 and why_not is None
    refusals = [
        (builds, 2, stored_floor(tmp_path / "other.json", machine="a faster CPU, 64 cores"), "measured on a faster"),
        (builds, 4, stored_floor(tmp_path / "workers.json"), "over 2 workers, this run has 4"),
        ({**builds, ("model", "vgg19"): 0.4}, 2, stored_floor(tmp_path / "more.json"), "(1 differ)"),
        (builds, 2, tmp_path / "absent.json", "absent.json is missing"),
    ]  # fmt: skip
    for run_builds, workers, path, reason in refusals:
        stored, why_not = pytest_timing.stored_unit_floor(run_builds, workers, path)
        assert stored is None and reason in why_not


def test_the_floor_script_counts_every_model_and_twin_and_deals_the_largest_first():
    import cnn_notes
    from cnn_notes.references import KERAS_APPLICATIONS, KERAS_APPLICATIONS_SIZED
    from tools import unit_floor

    jobs = unit_floor.jobs()
    assert [name for kind, name in jobs if kind == "model"] == cnn_notes.list_models()
    assert len([job for job in jobs if job[0] == "keras"]) == len(KERAS_APPLICATIONS) + len(KERAS_APPLICATIONS_SIZED)
    first, second = unit_floor._shares(jobs, 2)
    assert sorted(first + second) == sorted(jobs)
    # ConvNeXt-XLarge (350M parameters) and its twin go first, one to each worker.
    assert {first[0], second[0]} == {("model", "convnext_xlarge"), ("keras", "convnext_xlarge")}
    # Recorded under the names tests/conftest.py records its own builds by, which make unit compares.
    assert unit_floor.recorded_as("keras", "convnext_xlarge") == "keras:ConvNeXtXLarge"
    assert unit_floor.recorded_as("keras", "mobilenet_v3_small") == "keras:MobileNetV3Small"
    assert unit_floor.recorded_as("model", "convnext_xlarge") == "model:convnext_xlarge"


def test_group_seconds_are_written_longest_first_and_read_back(tmp_path, monkeypatch):
    report = tmp_path / "unit.json"
    report.write_text(json.dumps({"seconds_per_group": {"alexnet": 1.04, "test_new_chapter": 16.66, "vgg16": 3.2}}))
    monkeypatch.setattr(pytest_timing, "GROUP_SECONDS", tmp_path / "unit_seconds.json")
    pytest_timing.write_group_seconds(report)
    assert list(json.loads((tmp_path / "unit_seconds.json").read_text()).items()) == [
        ("test_new_chapter", 16.7), ("vgg16", 3.2), ("alexnet", 1.0),
    ]  # fmt: skip
    assert pytest_timing.group_seconds() == {"test_new_chapter": 16.7, "vgg16": 3.2, "alexnet": 1.0}
    monkeypatch.setattr(pytest_timing, "GROUP_SECONDS", tmp_path / "absent.json")
    assert pytest_timing.group_seconds() == {}


def test_the_report_adds_up_seconds_by_group_from_the_test_ids():
    report = pytest_timing._Report(types.SimpleNamespace(), "unit")
    for nodeid, seconds in [("tests/test_models.py::test_a[vgg16]@vgg16", 2.0),
                            ("tests/test_vgg.py::test_b[vgg16]@vgg16", 0.5),
                            ("tests/test_book.py::test_c@test_book", 0.25),
                            ("tests/test_book.py::test_d", 1.0)]:  # fmt: skip
        report.pytest_runtest_logreport(types.SimpleNamespace(nodeid=nodeid, duration=seconds))
    assert dict(report.per_group) == {"vgg16": 2.5, "test_book": 0.25}
    assert report.per_file["tests/test_book.py"] == 1.25
