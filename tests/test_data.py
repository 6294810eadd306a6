"""``cnn_notes.data``: the digits split as promised, CIFAR-10 read from its archive format offline, and bad
arguments answered with a ValueError that names them."""

import io
import pickle
import tarfile

import numpy as np
import pytest

from cnn_notes import data

from test_errors import raise_clean


@pytest.fixture(scope="module")
def digits():
    return data.digits()


def test_digits_are_all_1797_split_by_class(digits):
    sizes = [len(digits.y_train), len(digits.y_val), len(digits.y_test)]
    assert sum(sizes) == 1797 and sizes == [1079, 359, 359]
    assert digits.input_shape == (8, 8, 1) and digits.classes == 10
    for split in (digits.y_val, digits.y_test):
        counts = np.bincount(split, minlength=10)
        assert counts.max() - counts.min() <= 2  # each class holds 20% of its ~180 images
    assert digits.x_train.dtype == np.float32 and digits.x_train.min() == 0 and digits.x_train.max() == 1
    assert repr(digits) == "Dataset(digits: 8x8x1 images, 10 classes; train 1,079, val 359, test 359)"


def test_no_image_is_in_two_splits(digits):
    rows = [{split.tobytes() for split in x} for x in (digits.x_train, digits.x_val, digits.x_test)]
    # The data set has a few duplicate images; none of the splits shares more than those.
    assert len(rows[0] & rows[1]) + len(rows[0] & rows[2]) + len(rows[1] & rows[2]) < 5


def test_the_split_is_seeded(digits):
    again, other = data.digits(), data.digits(seed=1)
    np.testing.assert_array_equal(again.x_train, digits.x_train)
    np.testing.assert_array_equal(again.y_test, digits.y_test)
    assert not np.array_equal(other.y_train, digits.y_train)


def test_resized_for_the_post_s_models(digits):
    big = data.digits(size=32, channels=3)
    assert big.input_shape == (32, 32, 3)
    np.testing.assert_array_equal(big.x_train[..., 0], big.x_train[..., 2])  # grey, repeated
    np.testing.assert_array_equal(big.y_train, digits.y_train)  # the same split
    # Bilinear resizing keeps the image's overall brightness.
    assert abs(big.x_train.mean() - digits.x_train.mean()) < 0.01


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"size": 0}, "size"),
        ({"size": 8.0}, "size"),
        ({"channels": 2}, "channels"),
        ({"val_fraction": 0}, "val_fraction"),
        ({"test_fraction": 1.5}, "test_fraction"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, "val_fraction"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments(kwargs, argument):
    raise_clean(lambda: data.digits(**kwargs), f"`{argument}`", "Received:")


def write_cifar_archive(path, per_batch=4, drop=None):
    """A CIFAR-10 archive in the published format (pickled dicts of row-major CHW uint8 rows), small."""
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as archive:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            if name == drop:
                continue
            batch = {b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                     b"labels": list(rng.integers(0, 10, per_batch))}  # fmt: skip
            blob = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            archive.addfile(info, io.BytesIO(blob))


def test_cifar10_reads_the_archive_from_the_cache(tmp_path):
    write_cifar_archive(tmp_path / data.CIFAR10_ARCHIVE, per_batch=10)
    cifar = data.cifar10(cache_dir=tmp_path, val_fraction=0.2)
    assert (len(cifar.y_train), len(cifar.y_val), len(cifar.y_test)) == (40, 10, 10)
    assert cifar.input_shape == (32, 32, 3) and cifar.x_train.max() <= 1
    with tarfile.open(tmp_path / data.CIFAR10_ARCHIVE) as archive:
        first = pickle.load(archive.extractfile("cifar-10-batches-py/test_batch"), encoding="bytes")
    # Row 0 of the test batch: 1024 red, then 1024 green, then 1024 blue values, row-major.
    expected = first[b"data"][0].reshape(3, 32, 32).transpose(1, 2, 0) / 255.0
    np.testing.assert_allclose(cifar.x_test[0], expected, atol=1e-6)
    assert cifar.y_test[0] == first[b"labels"][0]
    assert len(data.cifar10(cache_dir=tmp_path, limit=20).y_train) == 18


def test_cifar10_names_a_broken_archive(tmp_path):
    write_cifar_archive(tmp_path / data.CIFAR10_ARCHIVE, drop="data_batch_3")
    raise_clean(lambda: data.cifar10(cache_dir=tmp_path), "lacks data_batch_3", "Received: path=")


def test_cifar10_without_a_network_says_what_to_do(tmp_path, monkeypatch):
    # Nothing listens on port 9 of this machine: the download fails at once, as it does offline.
    monkeypatch.setattr(data, "CIFAR10_URL", "http://127.0.0.1:9/cifar-10-python.tar.gz")
    with pytest.raises(ConnectionError) as info:
        data.cifar10(cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert "could not be downloaded" in message and str(tmp_path / "cache") in message and "digits()" in message


@pytest.mark.parametrize("kwargs, argument", [({"limit": 5}, "limit"), ({"val_fraction": 1}, "val_fraction")])
def test_cifar10_bad_arguments(tmp_path, kwargs, argument):
    raise_clean(lambda: data.cifar10(cache_dir=tmp_path, **kwargs), f"`{argument}`", "Received:")
