"""Re-executes the book's notebooks in place (``make notebooks``), in the environment nbval uses.

After a change to a builder, this refreshes every stored output in one command; nbval then proves them
current. Cell ids and execution counts are kept stable and per-run metadata is dropped, so a re-run that
changes no number changes no byte of the notebook.

Usage: python tools/execute_notebooks.py [NOTEBOOK_OR_FOLDER ...]   (default: book)
"""

import sys
from pathlib import Path

import nbclient
import nbformat


def notebooks(paths):
    for path in map(Path, paths or ["book"]):
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            yield path


def execute(path):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


def main(argv):
    for path in notebooks(argv):
        print(f"executing {path}", flush=True)
        execute(path)


if __name__ == "__main__":
    main(sys.argv[1:])
