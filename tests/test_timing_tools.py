"""The tools behind make test's report and its scheduling: the stage-by-stage breakdown (tools/test_stages.py)
and the measured seconds per group that put the longest unit-test groups first (tools/pytest_timing.py)."""

import json
import types

from tools import pytest_timing, test_stages


def test_the_breakdown_has_each_stage_its_floor_and_ratio_the_total_and_the_machine(tmp_path, monkeypatch):
    monkeypatch.setattr(test_stages, "REPORT_DIR", tmp_path)
    (tmp_path / "unit.json").write_text(json.dumps({"floor_s": 90.4, "ratio": 1.93}))
    lines = test_stages.breakdown([("setup", 30.2, 0), ("unit", 174.6, 0), ("nbval", 12.0, 1)]).splitlines()
    assert lines[1] == "make test, stage by stage:"
    assert lines[3].split() == ["setup", "30"]
    assert lines[4].split() == ["unit", "175", "90", "1.93x"]
    assert lines[5].split() == ["nbval", "12", "FAILED"]
    assert lines[6].split() == ["total", "217"]
    assert lines[7] == f"  on {test_stages.machine()}" and "cores" in lines[7]


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
