"""A pytest plugin that measures a test stage against its floor and says how far above it the stage ran.

``make unit`` and ``make nbval`` load it (``-p tools.pytest_timing --timing-report=unit``). At the end it prints
one line and writes ``_build/test-report/<stage>.json``, which ``tools/test_stages.py`` (``make test``) reads
for its breakdown.

The floors, measured in the same run, on the same machine and under the same load:

- **unit**: building every registered model and every keras.applications twin once is work no test suite of
  these models can skip. As issue 14 defines it, each is built normally, its weights in memory: that floor
  takes as long to measure as it is, so ``make floor`` (``tools/unit_floor.py``) measures it apart and stores
  it, and it is used where it was measured on this machine for the models this run built. The tests
  themselves build unallocated (shapes, no weights' memory: 2 to 4 times faster); ``tests/conftest.py`` times
  each first build (:func:`record_build`), and the ratio to their sum over the workers is printed too.
- **nbval**: each notebook must start a kernel, import TensorFlow and run its cells once. A notebook's share
  is its cells' time plus one kernel start with TensorFlow's import (timed where ``tools/nbval_shared_kernel.py``
  starts a kernel); the floor is the larger of the longest notebook and their total over the workers, which
  is what a perfect scheduler of one kernel per notebook would reach. Sharing a kernel between notebooks
  saves starts the floor counts, so nbval can run below it.
"""

import json
import time
from collections import defaultdict
from pathlib import Path

import pytest

REPORT_DIR = Path("_build/test-report")

# First builds timed in this process: (kind, name) -> seconds. Filled by tests/conftest.py.
_builds = {}
# Builds of a model this process had built before (its cache had let it go): (kind, name) -> how many.
_rebuilds = defaultdict(int)


# Notebook path -> (seconds before its first cell, whether a kernel was started for it). Filled by
# tools/nbval_shared_kernel.py.
_setups = {}


def record_build(kind, name, seconds):
    """Counts the first build of a model (``kind`` "model" or "keras") towards the unit floor, and any
    later one as a rebuild: the report names them, since each is time above the floor."""
    if (kind, name) in _builds:
        _rebuilds[kind, name] += 1
    _builds.setdefault((kind, name), seconds)


def record_notebook_setup(path, seconds, fresh):
    """Notes what a notebook cost before its first cell: a kernel start (``fresh``) or a reset."""
    _setups[path] = (seconds, fresh)


def pytest_addoption(parser):
    parser.addoption("--timing-report", default=None, help="stage name: measure it against its floor")


def pytest_configure(config):
    stage = config.getoption("timing_report")
    if stage and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Report(config, stage), "timing-report")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    # On an xdist worker: hand the builds it timed to the controller.
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["timed_builds"] = json.dumps([[k, n, s] for (k, n), s in _builds.items()])
        session.config.workeroutput["rebuilds"] = json.dumps([[k, n, c] for (k, n), c in _rebuilds.items()])
        session.config.workeroutput["timed_setups"] = json.dumps(_setups)


class _Report:
    def __init__(self, config, stage):
        self.config, self.stage = config, stage
        self.start = time.perf_counter()
        self.per_file = defaultdict(float)
        self.per_group = defaultdict(float)  # --dist loadgroup's groups, from the "@group" ending of the ids
        self.builds = {}
        self.rebuilds = defaultdict(int)
        self.setups = {}

    def pytest_runtest_logreport(self, report):
        # setup + call + teardown of every item; nbval starts a notebook's kernel in its first item's setup.
        self.per_file[report.nodeid.split("::")[0]] += report.duration
        if "@" in report.nodeid:
            self.per_group[report.nodeid.rsplit("@", 1)[1]] += report.duration

    def pytest_testnodedown(self, node, error):
        output = getattr(node, "workeroutput", {})
        for kind, name, seconds in json.loads(output.get("timed_builds", "[]")):
            # A model built on both workers counts once, at its faster build, and once as a rebuild.
            if (kind, name) in self.builds:
                self.rebuilds[kind, name] += 1
            self.builds[kind, name] = min(seconds, self.builds.get((kind, name), seconds))
        for kind, name, count in json.loads(output.get("rebuilds", "[]")):
            self.rebuilds[kind, name] += count
        self.setups.update(json.loads(getattr(node, "workeroutput", {}).get("timed_setups", "{}")))

    def pytest_terminal_summary(self, terminalreporter):
        wall = time.perf_counter() - self.start
        workers = self.config.getoption("numprocesses", None) or 1
        # Without xdist, the builds and setups were timed in this process.
        if not self.builds:
            self.builds, self.rebuilds = dict(_builds), dict(_rebuilds)
        self.setups = self.setups or dict(_setups)
        if self.stage == "nbval":
            starts = [seconds for seconds, fresh in self.setups.values() if fresh]
            start = sum(starts) / len(starts) if starts else 0.0
            files = [total - self.setups.get(path, (0.0, True))[0] + start for path, total in self.per_file.items()]
            floor = max(max(files, default=0.0), sum(files) / workers)
            basis = (
                f"{len(files)} notebooks, each a kernel start with TensorFlow's import ({start:.1f} s, "
                f"{len(starts)} started) and its cells once, over {workers} workers"
            )
            extra = {}
        else:
            floor, basis, extra = self._unit_floor(wall, workers)
        ratio = wall / floor if floor else float("nan")
        terminalreporter.write_line(f"{self.stage}: {wall:.0f} s, floor {floor:.0f} s ({basis}): {ratio:.2f}x")
        if extra:
            terminalreporter.write_line(f"{self.stage}: {extra['note']}")
        REPORT_DIR.mkdir(parents=True, exist_ok=True)
        slowest = sorted(self.per_file.items(), key=lambda item: -item[1])
        report = {
            "stage": self.stage, "wall_s": round(wall, 1), "floor_s": round(floor, 1), "ratio": round(ratio, 2),
            "basis": basis, **extra, "seconds_per_file": {path: round(seconds, 1) for path, seconds in slowest},
            "seconds_per_group": {group: round(seconds, 2) for group, seconds in sorted(self.per_group.items())},
        }  # fmt: skip
        (REPORT_DIR / f"{self.stage}.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")

    def _unit_floor(self, wall, workers):
        """The unit floor, its basis, and the ratio to the builds this run timed: (floor, basis, extra)."""
        models = sum(1 for kind, _ in self.builds if kind == "model")
        twins = len(self.builds) - models
        timed = sum(self.builds.values()) / workers
        rebuilt = ", ".join(f"{name} {count}x" for (_, name), count in sorted(self.rebuilds.items()))
        counted = f"{models} models and {twins} keras.applications twins built once"
        in_run = f"{counted}, unallocated, timed in this run, over {workers} workers; built again: {rebuilt or 'none'}"
        stored, why_not = stored_unit_floor(self.builds, workers)
        if stored is None:
            note = f"no floor of normal builds to compare with ({why_not}): make floor measures it"
            return timed, in_run, {"note": note}
        basis = f"{counted}, normally, over {workers} workers: make floor, {stored['measured']}, this machine"
        ratio = wall / timed if timed else float("nan")
        note = f"against its own builds ({in_run}): floor {timed:.0f} s, {ratio:.2f}x"
        extra = {"note": note, "in_run_floor_s": round(timed, 1), "in_run_ratio": round(ratio, 2)}
        return stored["floor_s"], basis, extra


# The floor of normal builds, as ``make floor`` (tools/unit_floor.py) last measured it.
UNIT_FLOOR = Path(__file__).with_name("unit_floor.json")


def stored_unit_floor(builds, workers, path=UNIT_FLOOR):
    """``make floor``'s measurement, if it counts the builds of this run ((kind, name) -> seconds), on this
    machine, over as many workers: (its report, None); else (None, why not)."""
    from tools.test_stages import machine

    if not path.exists():
        return None, f"{path.name} is missing"
    stored = json.loads(path.read_text())
    counted = {tuple(job.split(":", 1)) for job in stored["build_seconds"]}
    if stored["machine"] != machine():
        return None, f"{path.name} was measured on {stored['machine']}, not on {machine()}"
    if stored["workers"] != workers:
        return None, f"{path.name} was measured over {stored['workers']} workers, this run has {workers}"
    if counted != set(builds):
        return None, f"{path.name} counts other builds than this run's ({len(counted ^ set(builds))} differ)"
    return stored, None


# The unit tests' groups (a model's tests, or a file's), in seconds, as the last ``make unit`` measured them:
# tests/conftest.py runs the longest first, so that the workers end together.
GROUP_SECONDS = Path(__file__).with_name("unit_seconds.json")


def group_seconds():
    """Seconds per group of the unit tests, as last written by ``write_group_seconds``; {} before that."""
    return json.loads(GROUP_SECONDS.read_text()) if GROUP_SECONDS.exists() else {}


def write_group_seconds(report=REPORT_DIR / "unit.json"):
    """Rewrites tools/unit_seconds.json from the last ``make unit``."""
    groups = json.loads(Path(report).read_text())["seconds_per_group"]
    ordered = dict(sorted(((group, round(seconds, 1)) for group, seconds in groups.items()), key=lambda g: -g[1]))
    GROUP_SECONDS.write_text(json.dumps(ordered, indent=1) + "\n")


if __name__ == "__main__":
    write_group_seconds()
