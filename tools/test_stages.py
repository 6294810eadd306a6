"""``make test``: runs the test stages one after another and prints how long each took.

Usage: python3 tools/test_stages.py STAGE [STAGE ...]   (each a make target: setup unit nbval book site)

Stops at the first stage that fails, and prints the breakdown either way: the stage, its wall time, and for
the stages measured against a floor (``tools/pytest_timing.py``) the floor and the ratio. Standard library only:
it runs before the virtual environment exists.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPORT_DIR = Path("_build/test-report")
# The unit tests build every default model once and keep its numbers here; nbval's tables read them
# (cnn_notes.tables.default_facts), under a fingerprint of the package's sources. Emptied at every run.
FACTS_MEMO = Path("_build/facts")


def run(stages):
    make = os.environ.get("MAKE", "make")
    for stale in REPORT_DIR.glob("*.json"):
        stale.unlink()
    shutil.rmtree(FACTS_MEMO, ignore_errors=True)
    # Absolute: the notebooks' kernels run in the chapters' folders.
    os.environ["CNN_NOTES_FACTS_MEMO"] = str(FACTS_MEMO.resolve())
    rows, status = [], 0
    for stage in stages:
        start = time.perf_counter()
        status = subprocess.call([make, "--no-print-directory", stage])
        rows.append((stage, time.perf_counter() - start, status))
        if status:
            break
    print(breakdown(rows), flush=True)
    return status


def breakdown(rows):
    lines = ["", "make test, stage by stage:", f"  {'stage':<7}{'seconds':>9}{'floor':>8}{'ratio':>7}"]
    notes = []
    for stage, seconds, status in rows:
        report = REPORT_DIR / f"{stage}.json"
        floor = ratio = ""
        if report.exists():
            measured = json.loads(report.read_text())
            floor, ratio = f"{measured['floor_s']:.0f}", f"{measured['ratio']:.2f}x"
            if "basis" in measured:
                notes.append(f"  {stage}: floor of {measured['basis']}")
            if "note" in measured:
                notes.append(f"  {stage}: {measured['note']}")
        failed = "  FAILED" if status else ""
        lines.append(f"  {stage:<7}{seconds:>9.0f}{floor:>8}{ratio:>7}{failed}")
    lines.append(f"  {'total':<7}{sum(seconds for _, seconds, _ in rows):>9.0f}")
    lines += notes
    # Seconds depend on the machine (the same training epoch: 1.4 s on one 2-core machine, 3.4 s on another).
    lines.append(f"  on {machine()}")
    return "\n".join(lines)


def machine():
    """The CPU's model and the number of cores, as /proc/cpuinfo and os.cpu_count tell them.

    The same reading as cnn_notes.experiments.device, which this file cannot call: it runs before the virtual
    environment exists, and importing cnn_notes imports TensorFlow."""
    model = "an unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
