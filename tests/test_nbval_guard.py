"""nbval really guards the stored outputs: a chapter whose printed parameter total is changed by one must fail."""

import json
import os
import subprocess
import sys
from pathlib import Path

CHAPTER = Path(__file__).resolve().parent.parent / "book" / "en" / "alexnet.ipynb"


def run_nbval(notebook):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "--nbval", "--nbval-current-env", str(notebook)],
        cwd=notebook.parent, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_changed_printed_number_fails_nbval(tmp_path):
    notebook = json.loads(CHAPTER.read_text(encoding="utf-8"))
    changed = 0
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", []))
            if "Total params: 61,100,840" in text:
                output["text"] = text.replace("Total params: 61,100,840", "Total params: 61,100,841")
                changed += 1
    assert changed == 1
    mutated = tmp_path / "alexnet.ipynb"
    mutated.write_text(json.dumps(notebook), encoding="utf-8")
    result = run_nbval(mutated)
    assert result.returncode != 0, result.stdout[-2000:]
    assert "61,100,841" in result.stdout and "61,100,840" in result.stdout
