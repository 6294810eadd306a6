"""What one training epoch of the post's five models costs on this machine, measured before anyone plans a
training chapter around it.

Usage::

    python benchmarks/training_cost.py [--models custom_vgg ... | post] [--size S] [--images N]
                                       [--epoch-images M] [--batch-size B] [--out DIR]

Each model is built at ``S x S x 3`` with 10 classes (the digits' classes), compiled as a chapter would
(Adam, sparse categorical cross-entropy, accuracy) and fitted on ``N`` random images: one warm-up epoch
(tracing, first allocations), then one timed epoch. Random pixels cost what real ones cost: the time of a
training step depends on the shapes, not the values. Reported per model: parameters, MACs of one forward pass,
milliseconds per training image and the projected seconds for one epoch of ``M`` images (default 1,347: three
quarters of scikit-learn's 1,797 digits). The table is printed and written to ``DIR/training_cost.md`` and
``DIR/training_cost.csv``.
"""

import argparse
import csv
import gc
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

import cnn_notes
from cnn_notes.references import POST

# The sibling script run.py has the argument types; found whether this file runs as a script or is loaded by path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import positive_int  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
COLUMNS = ("model", "size", "params", "gmacs", "ms_per_image", "epoch_s")


def resolve_models(names):
    """The model names to time; ``["post"]`` means the post's five. Raises ``ValueError`` for an unknown name."""
    if list(names) == ["post"]:
        return sorted(POST)
    for name in names:
        cnn_notes.get_builder(name)  # raises ValueError with close matches
    return list(dict.fromkeys(names))


def parse_args(argv=None):
    """Parses the command line; a bad value exits with status 2 and a message, as argparse does."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["post"], help="model names, or 'post' for the post's five")
    parser.add_argument("--size", type=positive_int, default=32, help="input side in pixels (default 32)")
    parser.add_argument("--images", type=positive_int, default=256, help="images in the timed epoch (default 256)")
    parser.add_argument("--epoch-images", type=positive_int, default=1347, help="images of the projected epoch")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="batch size (default 64)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the .md and .csv results")
    args = parser.parse_args(argv)
    try:
        args.models = resolve_models(args.models)
    except ValueError as error:
        parser.error(str(error))
    return args


def time_training(name, size, images, batch_size, epoch_images, seed=0):
    """Builds, compiles and fits one model as described in the module docstring; returns its table row."""
    keras.utils.set_random_seed(seed)
    model = cnn_notes.build(name, input_shape=(size, size, 3), classes=10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(seed)
    x = rng.random((images, size, size, 3), dtype=np.float32)
    y = rng.integers(0, 10, images)
    model.fit(x[: min(images, 2 * batch_size)], y[: min(images, 2 * batch_size)], batch_size=batch_size, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    row = {
        "model": name,
        "size": size,
        "params": cnn_notes.param_counts(model).total,
        "gmacs": cnn_notes.count_macs(model) / 1e9,
        "ms_per_image": 1000 * seconds / images,
        "epoch_s": seconds / images * epoch_images,
    }
    del model
    gc.collect()
    return row


def format_table(rows, epoch_images):
    lines = [
        f"| model | input | params | GMACs | ms per training image | s per epoch of {epoch_images:,} |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['model']} | {row['size']}x{row['size']} | {row['params']:,} | {row['gmacs']:.3f} "
            f"| {row['ms_per_image']:.1f} | {row['epoch_s']:.0f} |"
        )
    total = sum(row["epoch_s"] for row in rows)
    lines.append(f"| all | | | | | {total:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    rows = [time_training(name, args.size, args.images, args.batch_size, args.epoch_images) for name in args.models]
    table = format_table(rows, args.epoch_images)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "training_cost.md").write_text(table + "\n", encoding="utf-8")
    with open(args.out / "training_cost.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
