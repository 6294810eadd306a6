"""The data the book trains on: handwritten digits that ship with the package, CIFAR-10 where a network is at hand.

``digits()`` loads the 1,797 real 8x8 greyscale digits of the UCI optical-recognition data set (Alpaydin &
Kaynak 1998), which ship inside this package (scikit-learn's copy), so nothing is downloaded, and splits them
into a train, a validation and a test set, stratified and seeded. For the post's models, whose input is
32x32x3, it resizes them (bilinear) and repeats the grey channel. ``cifar10()`` reads Krizhevsky's CIFAR-10
from Keras' download cache, downloading it first when it is not there; CI never does.
"""

import functools
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn_notes.models.arguments import _is_int, check_int

DIGITS_FILE = Path(__file__).parent / "datasets" / "digits.csv.gz"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


@dataclass(frozen=True, repr=False)
class Dataset:
    """Images as float32 ``(n, height, width, channels)`` in [0, 1] and integer labels, in three splits."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int

    @property
    def input_shape(self):
        return tuple(self.x_train.shape[1:])

    def __repr__(self):
        sizes = ", ".join(f"{split} {len(getattr(self, 'y_' + split)):,}" for split in ("train", "val", "test"))
        shape = "x".join(map(str, self.input_shape))
        return f"Dataset({self.name}: {shape} images, {self.classes} classes; {sizes})"


def _check_channels(channels):
    if channels not in (1, 3):
        raise ValueError(f"`channels` must be 1 (grey) or 3 (grey repeated, for RGB models). Received: channels={channels!r}")
    return channels


def _check_fraction(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(f"`{argument}` must be a number in (0, 1). Received: {argument}={value!r}")


def _check_fractions(val_fraction, test_fraction):
    _check_fraction(val_fraction, "val_fraction")
    _check_fraction(test_fraction, "test_fraction")
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            "`val_fraction` + `test_fraction` must leave some data to train on (sum below 1). "
            f"Received: val_fraction={val_fraction!r}, test_fraction={test_fraction!r}"
        )


def _resize(images, size, channels):
    """``images`` as float32 ``(n, h, w, 1)`` in [0, 1], resized to ``size`` (bilinear) with ``channels``."""
    if images.shape[1] != size or images.shape[2] != size:
        import keras

        images = keras.ops.convert_to_numpy(keras.ops.image.resize(images, (size, size), interpolation="bilinear"))
    if channels == 3 and images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    return np.ascontiguousarray(images, dtype="float32")


def _split(y, val_fraction, test_fraction, seed):
    """Stratified train / validation / test split: every class in the same proportions in each."""
    rng = np.random.default_rng(seed)
    parts = {"train": [], "val": [], "test": []}
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        n_val, n_test = round(len(members) * val_fraction), round(len(members) * test_fraction)
        parts["val"].append(members[:n_val])
        parts["test"].append(members[n_val : n_val + n_test])
        parts["train"].append(members[n_val + n_test :])
    # Shuffle across classes too, so that a split's order says nothing about its labels.
    return {split: rng.permutation(np.concatenate(indices)) for split, indices in parts.items()}


def digits(*, size=8, channels=1, val_fraction=0.2, test_fraction=0.2, seed=0):
    """The 1,797 handwritten digits of Alpaydin & Kaynak (1998), 8x8 and 10 classes, as a seeded, stratified
    ``Dataset``. They ship with the package (``cnn_notes/datasets/digits.csv.gz``, scikit-learn's copy).

    Args:
        size: height and width of the images; 8 is the native size, 32 the post's models' input.
        channels: 1 (grey) or 3 (the grey channel repeated, for models with RGB input).
        val_fraction, test_fraction: the shares of each class held out for validation and for the test.
        seed: fixes the split.
    """
    size, channels, seed = check_int(size, "size", minimum=1), _check_channels(channels), check_int(seed, "seed")
    _check_fractions(val_fraction, test_fraction)
    images, y = _read_digits()
    # Pixel values are counts of set pixels in 4x4 blocks of the original 32x32 bitmaps: 0 to 16.
    x = (images.astype("float32") / 16.0)[..., np.newaxis]
    x = _resize(x, size, channels)
    index = _split(y, val_fraction, test_fraction, seed)
    return Dataset(
        name="digits",
        x_train=x[index["train"]], y_train=y[index["train"]],
        x_val=x[index["val"]], y_val=y[index["val"]],
        x_test=x[index["test"]], y_test=y[index["test"]],
        classes=10,
    )  # fmt: skip


def _check_dataset(data, argument="data"):
    if not isinstance(data, Dataset):
        raise ValueError(f"`{argument}` must be a cnn_notes.data.Dataset, e.g. cnn_notes.data.digits(). Received: {argument}={data!r}")
    return data


def select_classes(data, classes):
    """The images of ``data`` whose label is in ``classes``, in all three splits, relabelled 0, 1, ... in the
    order of ``classes``: ``select_classes(digits(), (5, 6, 7, 8, 9))`` is a 5-class task whose label 0 is the
    digit 5. For transfer: a network trained on some classes, then taught others."""
    _check_dataset(data)
    if (
        not isinstance(classes, (tuple, list))
        or not classes
        or not all(_is_int(c) and 0 <= c < data.classes for c in classes)
        or len(set(classes)) != len(classes)
    ):
        raise ValueError(
            f"`classes` must be a non-empty list of distinct labels of `data` (0 to {data.classes - 1}). "
            f"Received: classes={classes!r}"
        )
    lookup = np.full(data.classes, -1, dtype="int32")
    lookup[list(classes)] = np.arange(len(classes), dtype="int32")
    splits = {}
    for split in ("train", "val", "test"):
        x, y = getattr(data, "x_" + split), getattr(data, "y_" + split)
        keep = np.flatnonzero(lookup[y] >= 0)
        splits["x_" + split], splits["y_" + split] = x[keep], lookup[y[keep]]
    shown = "-".join(map(str, (classes[0], classes[-1]))) if list(classes) == list(range(classes[0], classes[-1] + 1)) else ",".join(map(str, classes))
    return Dataset(name=f"{data.name} {shown}", classes=len(classes), **splits)


def per_class(data, count, *, seed=0):
    """``data`` with only ``count`` training images of each class (a seeded choice, in a seeded order); the
    validation and test splits are kept whole, so that runs with fewer labels are judged on the same images."""
    _check_dataset(data)
    seed = check_int(seed, "seed")
    sizes = np.bincount(data.y_train, minlength=data.classes)
    if not _is_int(count) or not 1 <= count <= sizes.min():
        raise ValueError(
            f"`count` must be an integer from 1 to {sizes.min()} (the fewest training images of a class in `data`). "
            f"Received: count={count!r}"
        )
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(data.y_train == label))[:count] for label in range(data.classes)]
    keep = rng.permutation(np.concatenate(chosen))
    return Dataset(
        name=f"{data.name}, {count} per class", x_train=data.x_train[keep], y_train=data.y_train[keep],
        x_val=data.x_val, y_val=data.y_val, x_test=data.x_test, y_test=data.y_test, classes=data.classes,
    )  # fmt: skip


@functools.cache
def _read_digits():
    """The shipped digits as ``(1797, 8, 8)`` pixel counts and ``(1797,)`` int32 labels."""
    table = np.loadtxt(DIGITS_FILE, delimiter=",", dtype="int64")
    images, labels = table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype("int32")
    images.flags.writeable = labels.flags.writeable = False  # cached: nobody may change them
    return images, labels


def _read_cifar_archive(path):
    """The six pickled batches of ``cifar-10-python.tar.gz`` as uint8 ``(n, 32, 32, 3)`` images and labels."""
    batches = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            stem = Path(member.name).name
            if stem.startswith("data_batch_") or stem == "test_batch":
                batch = pickle.load(archive.extractfile(member), encoding="bytes")
                images = np.asarray(batch[b"data"], dtype="uint8").reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
                batches[stem] = (images, np.asarray(batch[b"labels"], dtype="int32"))
    names = [f"data_batch_{i}" for i in range(1, 6)]
    missing = [name for name in [*names, "test_batch"] if name not in batches]
    if missing:
        raise ValueError(f"{path} is not a CIFAR-10 archive: it lacks {', '.join(missing)}. Received: path={str(path)!r}")
    train = [batches[name] for name in names]
    return (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])), batches["test_batch"]


def cifar10(*, size=32, limit=None, val_fraction=0.1, seed=0, cache_dir=None):
    """CIFAR-10 (Krizhevsky 2009): 50,000 training and 10,000 test images, 32x32x3, 10 classes.

    Read from Keras' cache (``~/.keras/datasets/cifar-10-python.tar.gz``, or ``cache_dir``); downloaded there
    once when missing, which needs a network: without one this raises a ``ConnectionError`` that says where to
    put the file. ``limit`` keeps that many training images (a seeded random choice), for a CPU; the validation set
    is ``val_fraction`` of what is kept, and the test set is the official one, also cut to ``limit`` if smaller.
    """
    size, seed = check_int(size, "size", minimum=1), check_int(seed, "seed")
    if limit is not None and (not _is_int(limit) or limit < 10):
        raise ValueError(f"`limit` must be None or an integer of at least 10. Received: limit={limit!r}")
    _check_fraction(val_fraction, "val_fraction")
    directory = Path(cache_dir).expanduser() if cache_dir is not None else Path.home() / ".keras" / "datasets"
    path = directory / CIFAR10_ARCHIVE
    if not path.is_file():
        path = _download_cifar10(directory)
    (x_train, y_train), (x_test, y_test) = _read_cifar_archive(path)
    if limit is not None:
        order = np.random.default_rng(seed).permutation(len(y_train))[:limit]
        x_train, y_train = x_train[order], y_train[order]
        x_test, y_test = x_test[:limit], y_test[:limit]
    val = round(len(y_train) * val_fraction)
    index = {"val": np.arange(val), "train": np.arange(val, len(y_train))}

    def images(x):
        return _resize(x.astype("float32") / 255.0, size, 3)

    return Dataset(
        name="cifar10",
        x_train=images(x_train[index["train"]]), y_train=y_train[index["train"]],
        x_val=images(x_train[index["val"]]), y_val=y_train[index["val"]],
        x_test=images(x_test), y_test=y_test,
        classes=10,
    )  # fmt: skip


def _download_cifar10(directory):
    import keras

    directory.mkdir(parents=True, exist_ok=True)
    try:
        return Path(
            keras.utils.get_file(
                CIFAR10_ARCHIVE, origin=CIFAR10_URL, file_hash=CIFAR10_SHA256, cache_dir=str(directory.parent),
                cache_subdir=directory.name,
            )
        )  # fmt: skip
    except Exception as error:  # urllib's, requests' or Keras' own: all mean the same thing here
        raise ConnectionError(
            f"CIFAR-10 is not in {directory} and could not be downloaded from {CIFAR10_URL} ({type(error).__name__}: "
            f"{error}). Without a network, put {CIFAR10_ARCHIVE} there by hand, or use cnn_notes.data.digits(), "
            "which needs none."
        ) from None
