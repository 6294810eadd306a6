"""The unit tests' floor as issue 14 defines it: every registered model and every keras.applications twin
built once, normally (weights allocated and initialised, as ``cnn_notes.build`` and ``keras.applications`` do
for a user), the builds divided over the workers.

No suite that checks these models can do less than build each once; ``make unit`` is measured against this.
The workers are separate processes running side by side, as pytest-xdist's do, so each build is timed under
the same load as in ``make unit``. Each worker builds its share longest first (by parameter count, the cost of
initialising the weights), and the floor is the sum of all builds over the workers: TensorFlow's import and
the processes' start are not part of it.

It takes as long as the floor itself and then some (TensorFlow's import in each worker), 100 s here, so ``make
test`` does not run it: ``make floor`` does, and writes ``tools/unit_floor.json`` with the machine it ran on and
the builds it counted. ``make unit`` (``tools/pytest_timing.py``) reads it and prints the ratio to it where the
machine and the set of models are the same, and the ratio to the builds it timed itself either way.

    make floor                                  # prints the floor, rewrites tools/unit_floor.json
    python -m tools.unit_floor --workers 1
"""

import argparse
import datetime
import json
import multiprocessing
import os
import time
from pathlib import Path

from tools.test_stages import machine

REPORT = Path(__file__).with_name("unit_floor.json")


def jobs():
    """(kind, model name) of every build the floor counts: each registered model ("model"), then the
    keras.applications twin of each model that has one ("keras")."""
    import cnn_notes
    from cnn_notes.models.weights import TWINS

    return [("model", name) for name in cnn_notes.list_models()] + [("keras", name) for name in TWINS]


def build(kind, name):
    """Builds model ``name`` (``kind`` "model") or its keras.applications twin ("keras") the way a user does,
    with its weights in memory."""
    import cnn_notes
    import keras
    from cnn_notes.references import twin_attribute_and_size

    if kind == "model":
        return cnn_notes.build(name)
    attribute, size = twin_attribute_and_size(name)
    options = {} if size is None else {"input_shape": (size, size, 3)}
    return getattr(keras.applications, attribute)(weights=None, **options)


def recorded_as(kind, name):
    """The build's name as tests/conftest.py records it (``record_build``): a twin under keras' attribute."""
    from cnn_notes.references import twin_attribute_and_size

    return f"{kind}:{name if kind == 'model' else twin_attribute_and_size(name)[0]}"


def _worker(share, results):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    seconds = []
    for kind, name in share:
        start = time.perf_counter()
        model = build(kind, name)
        seconds.append([kind, name, time.perf_counter() - start])
        del model
        keras.backend.clear_session()  # a build does not pay for the ones before it
    results.put(seconds)


def _shares(items, workers):
    """Deals the builds out longest first to the least loaded worker, as --dist loadgroup does with measured
    seconds; the cost of a build is taken as its parameter count (initialising the weights), where the
    references state it (a model and its twin alike), else as a small model's."""
    from cnn_notes.references import KERAS_APPLICATIONS, KERAS_APPLICATIONS_SIZED

    stated = {name: entry[1] for name, entry in {**KERAS_APPLICATIONS, **KERAS_APPLICATIONS_SIZED}.items()}
    cost = {job: stated.get(job[1], 1_000_000) for job in items}
    shares, loads = [[] for _ in range(workers)], [0] * workers
    for job in sorted(items, key=lambda job: -cost[job]):
        least = loads.index(min(loads))
        shares[least].append(job)
        loads[least] += cost[job]
    return shares


def measure(workers=2):
    """Builds everything once over ``workers`` processes; returns the report (also written to REPORT)."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=_worker, args=(share, results)) for share in _shares(jobs(), workers)]
    for process in processes:
        process.start()
    builds = [row for _ in processes for row in results.get()]
    for process in processes:
        process.join()
    total = sum(seconds for _, _, seconds in builds)
    report = {
        "floor_s": round(total / workers, 1),
        "workers": workers,
        "machine": machine(),
        "measured": datetime.date.today().isoformat(),
        "models": sum(1 for kind, *_ in builds if kind == "model"),
        "twins": sum(1 for kind, *_ in builds if kind == "keras"),
        # Every build counted, slowest first: the set is what make unit compares with its own.
        "build_seconds": {recorded_as(kind, name): round(seconds, 2) for kind, name, seconds in sorted(
            builds, key=lambda row: -row[2])},
    }  # fmt: skip
    REPORT.write_text(json.dumps(report, indent=1) + "\n")
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    report = measure(parser.parse_args().workers)
    slowest = ", ".join(f"{job} {s:.1f} s" for job, s in list(report["build_seconds"].items())[:3])
    print(
        f"unit floor: {report['floor_s']:.0f} s ({report['models']} models and {report['twins']} "
        f"keras.applications twins built once, normally, over {report['workers']} workers; slowest: {slowest})"
    )


if __name__ == "__main__":
    main()
