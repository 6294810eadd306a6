"""A pytest plugin for nbval: one Jupyter kernel per worker, reset between notebooks, instead of one per notebook.

Every kernel spends 6 s here importing TensorFlow before its first cell does anything; over the book's 28
notebooks that was a quarter of nbval. ``make nbval`` loads this plugin (``-p tools.nbval_shared_kernel``): the
first notebook on a worker starts a kernel and imports TensorFlow, each later one finds the same kernel with
its variables deleted (``%reset -f``), Keras' global state cleared (and the garbage collected), no figure open
and the working directory moved to the notebook's folder.

That makes nbval the stricter test, not the looser one: the stored outputs come from ``make notebooks``, which
runs each notebook alone in a fresh kernel, and nbval must reproduce them after other notebooks ran in the same
process. A notebook that used an earlier one's variable fails (its name is gone), and one whose output depends
on what was built before it in the process (an auto-numbered layer name, a global setting) fails its comparison.
What stays is what a fresh kernel would import anyway: the modules.

A cell that times out makes nbval stop the kernel; the next notebook then starts a fresh one.
"""

import json
import time
from pathlib import Path

import pytest
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, RunningKernel
from nbval.plugin import IPyNbFile

from tools.pytest_timing import record_notebook_setup

# Run before a notebook's first cell in a kernel that already ran another notebook.
# (clear_session also runs the garbage collector.)
RESET = """\
%reset -f
import os as _os
import keras as _keras
import matplotlib.pyplot as _plt
_plt.close("all")
_keras.backend.clear_session()
_os.chdir({folder!r})
del _keras, _plt, _os
"""

# Run once in a fresh kernel, so its start-up cost is measured in one place.
WARM_UP = "import tensorflow as _tf\ndel _tf\n"

SECONDS = Path(__file__).with_name("notebook_seconds.json")

_kernel = None


def _run_silently(kernel, code, timeout):
    """Runs code and waits for it; its messages never reach a cell (nbval skips other parents' messages)."""
    msg_id = kernel.execute_cell_input(code, allow_stdin=False)
    kernel.await_reply(msg_id, timeout=timeout)
    kernel.await_idle(msg_id, timeout=timeout)


def _setup(self):
    global _kernel
    config = self.parent.config
    folder = str(self.fspath.dirname)
    start = time.perf_counter()
    fresh = _kernel is None or not _kernel.is_alive()
    if fresh:
        # pytest_configure made sure of --nbval-current-env: the kernel runs this environment's python.
        timeout = config.option.nbval_kernel_startup_timeout
        _kernel = RunningKernel(CURRENT_ENV_KERNEL_NAME, cwd=folder, startup_timeout=timeout)
        _run_silently(_kernel, WARM_UP, timeout=120)
    else:
        _run_silently(_kernel, RESET.format(folder=folder), timeout=120)
    self.kernel = _kernel
    self.setup_sanitize_files()
    record_notebook_setup(self.nodeid.split("::")[0], time.perf_counter() - start, fresh)


def _teardown(self):
    # The kernel outlives the notebook; pytest_unconfigure stops it.
    self.kernel = None


def pytest_configure(config):
    if not config.getoption("nbval", False) or not config.option.nbval_current_env:
        raise pytest.UsageError("tools.nbval_shared_kernel needs --nbval --nbval-current-env")
    IPyNbFile.setup, IPyNbFile.teardown = _setup, _teardown


def pytest_unconfigure(config):
    global _kernel
    if _kernel is not None and _kernel.is_alive():
        _kernel.stop()
    _kernel = None


@pytest.hookimpl(tryfirst=True)  # before xdist's, which turns the xdist_group marks into the groups
def pytest_collection_modifyitems(config, items):
    # The two languages of a chapter run one after the other on one worker (--dist loadgroup), so the second
    # finds in the kernel what the first built (cnn_notes.tables.default_facts). Longest chapter first, so the
    # last ones to finish are short and the workers end together: the seconds are measured
    # (tools/notebook_seconds.json; `python -m tools.nbval_shared_kernel` rewrites it from the last make nbval);
    # a chapter not in it yet counts as the longest.
    seconds = json.loads(SECONDS.read_text()) if SECONDS.exists() else {}

    def chapter(item):
        return item.path.stem

    if config.pluginmanager.hasplugin("xdist"):
        for item in items:
            item.add_marker(pytest.mark.xdist_group(chapter(item)))
    items.sort(key=lambda item: (-seconds.get(chapter(item), float("inf")), chapter(item), item.path.parent.name))


def write_seconds(report="_build/test-report/nbval.json"):
    """Rewrites tools/notebook_seconds.json from the last ``make nbval``: seconds per chapter, both languages."""
    per_chapter = {}
    for path, seconds in json.loads(Path(report).read_text())["seconds_per_file"].items():
        stem = Path(path).stem
        per_chapter[stem] = round(per_chapter.get(stem, 0.0) + seconds, 1)
    ordered = dict(sorted(per_chapter.items(), key=lambda item: -item[1]))
    SECONDS.write_text(json.dumps(ordered, indent=1) + "\n")


if __name__ == "__main__":
    write_seconds()
