"""nbval really guards the stored outputs, as `make nbval` runs it (one kernel per worker, reset between notebooks):
a chapter whose printed parameter total is changed by one fails, a notebook that uses an earlier notebook's
variable fails, and Keras' automatic names start afresh in every notebook."""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "en" / "alexnet.ipynb"


def run_nbval(notebooks, cwd):
    # As the Makefile's nbval target, without xdist: one worker, so all the notebooks share one kernel.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:xdist", "-p", "no:cacheprovider",
               "-p", "tools.nbval_shared_kernel", "--nbval", "--nbval-current-env", *map(str, notebooks)]  # fmt: skip
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def notebook(path, *cells):
    """A notebook of code cells, each given as (source, the text it printed when run alone)."""
    nb = nbformat.v4.new_notebook()
    for source, printed in cells:
        cell = nbformat.v4.new_code_cell(source, execution_count=1)
        if printed is not None:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def test_nbval_fails_a_changed_number_and_a_notebook_that_leans_on_another(tmp_path):
    chapter = json.loads(CHAPTER.read_text(encoding="utf-8"))
    changed = 0
    for cell in chapter["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", []))
            if "Total params: 61,100,840" in text:
                output["text"] = text.replace("Total params: 61,100,840", "Total params: 61,100,841")
                changed += 1
    assert changed == 1
    mutated = tmp_path / "alexnet.ipynb"
    mutated.write_text(json.dumps(chapter), encoding="utf-8")
    # Run in this order (none is in tools/notebook_seconds.json, so the plugin keeps it) in one kernel.
    first = notebook(tmp_path / "a_first.ipynb", ("import keras\nanswer = 41\nlayer = keras.layers.Dense(1)", None))
    leaning = notebook(tmp_path / "b_leaning.ipynb", ("print(answer + 1)", "42\n"))
    named = notebook(tmp_path / "c_named.ipynb", ("import keras\nprint(keras.layers.Dense(1).name)", "dense\n"))

    result = run_nbval([mutated, first, leaning, named], cwd=tmp_path)
    # -rA ends with a line per cell: "FAILED alexnet.ipynb::Cell 3".
    outcomes = {}
    for line in result.stdout.splitlines():
        state, _, cell = line.partition(" ")
        if state in ("PASSED", "FAILED") and "::Cell" in cell:
            outcomes.setdefault(cell.split("::")[0], set()).add(state)
    assert result.returncode != 0, result.stdout[-2000:]
    assert "61,100,841" in result.stdout and "61,100,840" in result.stdout
    assert "FAILED" in outcomes["alexnet.ipynb"], outcomes
    # The variable is gone in the next notebook: NameError, not the 42 it would print in a leaky kernel.
    assert outcomes["b_leaning.ipynb"] == {"FAILED"} and "NameError" in result.stdout, outcomes
    # The Dense layer of a_first would make this one dense_1 in a kernel whose Keras state was kept.
    assert outcomes["a_first.ipynb"] == outcomes["c_named.ipynb"] == {"PASSED"}, outcomes
