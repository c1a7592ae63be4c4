"""Tests for sklearn_posnet.datasets: small IDX files written here, never the real MNIST."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from sklearn_posnet.datasets import MNIST_FILES, IDXFormatError, load_mnist, read_idx


def _idx_bytes(data: np.ndarray, magic: int | None = None) -> bytes:
    data = np.asarray(data, dtype=np.uint8)
    magic = (0x0800 | data.ndim) if magic is None else magic
    header = np.array([magic, *data.shape], dtype=">i4").tobytes()
    return header + data.tobytes()


def _write(path: Path, payload: bytes, gzipped: bool) -> Path:
    if gzipped:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as handle:
            handle.write(payload)
    else:
        path.write_bytes(payload)
    return path


def _make_split(rng, n):
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # both ends of the range appear
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


@pytest.fixture
def mnist_arrays():
    rng = np.random.default_rng(0)
    return {"train": _make_split(rng, 6), "test": _make_split(rng, 4)}


def _write_mnist(folder: Path, arrays, gzipped) -> dict[str, Path]:
    """Write the four files; ``gzipped`` is a bool or a dict of file key -> bool."""
    paths = {}
    for split, (images, labels) in arrays.items():
        for kind, data in (("images", images), ("labels", labels)):
            key = f"{split}_{kind}"
            gz = gzipped[key] if isinstance(gzipped, dict) else gzipped
            paths[key] = _write(folder / MNIST_FILES[key], _idx_bytes(data), gz)
    return paths


@pytest.mark.parametrize("gzipped", [False, True, "mixed"])
def test_load_mnist_returns_scaled_images_and_labels(tmp_path, mnist_arrays, gzipped):
    if gzipped == "mixed":
        gzipped = {"train_images": True, "train_labels": False}
        gzipped |= {"test_images": False, "test_labels": True}
    _write_mnist(tmp_path, mnist_arrays, gzipped)

    X_train, y_train, X_test, y_test = load_mnist(tmp_path)

    for X, y, (images, labels) in (
        (X_train, y_train, mnist_arrays["train"]),
        (X_test, y_test, mnist_arrays["test"]),
    ):
        assert X.dtype == np.float32 and X.shape == (len(images), 784)
        np.testing.assert_allclose(X, images.reshape(len(images), 784) / 255.0, rtol=1e-6)
        assert X.min() == 0.0 and X.max() == 1.0
        assert y.dtype == np.int64
        np.testing.assert_array_equal(y, labels)
    # row-major flattening: pixel (row 1, col 2) of image 3 is feature 28 + 2
    assert X_train[3, 30] == np.float32(mnist_arrays["train"][0][3, 1, 2]) / np.float32(255)


def test_load_mnist_raw_uint8_and_str_path(tmp_path, mnist_arrays):
    _write_mnist(tmp_path, mnist_arrays, gzipped=True)
    X_train, _, X_test, y_test = load_mnist(str(tmp_path), scale=False)
    assert X_train.dtype == np.uint8 and X_test.dtype == np.uint8
    np.testing.assert_array_equal(X_train, mnist_arrays["train"][0].reshape(6, 784))
    np.testing.assert_array_equal(X_test, mnist_arrays["test"][0].reshape(4, 784))
    X_train[0, 0] = 7  # the result is writable and owns its data
    np.testing.assert_array_equal(y_test, mnist_arrays["test"][1])


def test_load_mnist_one_subset_reads_only_its_files(tmp_path, mnist_arrays):
    paths = _write_mnist(tmp_path, mnist_arrays, gzipped=False)
    paths["test_images"].unlink()
    X_train, y_train = load_mnist(tmp_path, subset="train")
    assert X_train.shape == (6, 784) and y_train.shape == (6,)
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, subset="test")
    with pytest.raises(ValueError, match="subset"):
        load_mnist(tmp_path, subset="validation")


def test_plain_file_wins_over_gz(tmp_path, mnist_arrays):
    paths = _write_mnist(tmp_path, mnist_arrays, gzipped=False)
    other_labels = (mnist_arrays["train"][1] + 1) % 10
    _write(paths["train_labels"], _idx_bytes(other_labels), gzipped=True)
    _, y_train, _, _ = load_mnist(tmp_path)
    np.testing.assert_array_equal(y_train, mnist_arrays["train"][1])


def test_missing_folder_and_missing_file(tmp_path, mnist_arrays):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    paths = _write_mnist(tmp_path, mnist_arrays, gzipped=True)
    paths["train_labels"].unlink()
    with pytest.raises(FileNotFoundError, match=r"train-labels-idx1-ubyte.*not found"):
        load_mnist(tmp_path)


def _corrupt(tmp_path, mnist_arrays, key, payload, gzipped=False):
    paths = _write_mnist(tmp_path, mnist_arrays, gzipped=gzipped)
    paths[key].unlink()
    return _write(tmp_path / MNIST_FILES[key], payload, gzipped)


@pytest.mark.parametrize("gzipped", [False, True])
def test_bad_magic_is_named(tmp_path, mnist_arrays, gzipped):
    images = mnist_arrays["train"][0]
    payload = _idx_bytes(images, magic=0x12345678)
    path = _corrupt(tmp_path, mnist_arrays, "train_images", payload, gzipped)
    with pytest.raises(IDXFormatError, match="bad magic number") as info:
        load_mnist(tmp_path)
    assert str(path) in str(info.value)


def test_labels_file_in_place_of_images(tmp_path, mnist_arrays):
    labels = mnist_arrays["test"][1]
    _corrupt(tmp_path, mnist_arrays, "test_images", _idx_bytes(labels))
    with pytest.raises(IDXFormatError, match=r"t10k-images.*magic number 2049.*expected 2051"):
        load_mnist(tmp_path)


def test_wrong_image_dimensions(tmp_path, mnist_arrays):
    small = np.zeros((6, 14, 14), dtype=np.uint8)
    _corrupt(tmp_path, mnist_arrays, "train_images", _idx_bytes(small))
    with pytest.raises(
        IDXFormatError, match=r"dimensions \(6, 14, 14\); expected \('any', 28, 28\)"
    ):
        load_mnist(tmp_path)


@pytest.mark.parametrize("gzipped", [False, True])
def test_truncated_data(tmp_path, mnist_arrays, gzipped):
    payload = _idx_bytes(mnist_arrays["train"][0])[:-10]
    _corrupt(tmp_path, mnist_arrays, "train_images", payload, gzipped)
    with pytest.raises(IDXFormatError, match=r"train-images.*truncated.*4704 data bytes.*4694"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("n_bytes", [0, 3, 9])
def test_truncated_header(tmp_path, mnist_arrays, n_bytes):
    payload = _idx_bytes(mnist_arrays["train"][0])[:n_bytes]
    _corrupt(tmp_path, mnist_arrays, "train_images", payload)
    with pytest.raises(IDXFormatError, match=r"train-images.*truncated"):
        load_mnist(tmp_path)


def test_trailing_bytes(tmp_path, mnist_arrays):
    payload = _idx_bytes(mnist_arrays["test"][1]) + b"\x00"
    _corrupt(tmp_path, mnist_arrays, "test_labels", payload)
    with pytest.raises(IDXFormatError, match=r"t10k-labels.*trailing bytes"):
        load_mnist(tmp_path)


def test_count_mismatch_names_both_files(tmp_path, mnist_arrays):
    _corrupt(tmp_path, mnist_arrays, "train_labels", _idx_bytes(mnist_arrays["train"][1][:5]))
    with pytest.raises(IDXFormatError, match=r"train-images.*6 images.*train-labels.*5 labels"):
        load_mnist(tmp_path)


def test_label_out_of_range(tmp_path, mnist_arrays):
    labels = mnist_arrays["test"][1].copy()
    labels[2] = 10
    _corrupt(tmp_path, mnist_arrays, "test_labels", _idx_bytes(labels))
    with pytest.raises(IDXFormatError, match=r"t10k-labels.*label 10.*0\.\.9"):
        load_mnist(tmp_path)


def test_corrupt_gzip(tmp_path, mnist_arrays):
    paths = _write_mnist(tmp_path, mnist_arrays, gzipped=True)
    paths["train_labels"].write_bytes(b"this is not gzip")
    with pytest.raises(IDXFormatError, match=r"train-labels-idx1-ubyte\.gz.*gzip"):
        load_mnist(tmp_path)


def test_read_idx_any_shape_and_type_byte(tmp_path):
    data = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "cube-idx3-ubyte"
    path.write_bytes(_idx_bytes(data))
    np.testing.assert_array_equal(read_idx(path), data)
    with pytest.raises(IDXFormatError, match=r"expected \(2, 'any'\)"):
        read_idx(path, expected_shape=(2, None))
    # type byte 0x0D (float32) is valid IDX but not what MNIST uses
    header = np.array([0x0D01, 1], dtype=">i4").tobytes()
    path.write_bytes(header + np.float32(1.0).tobytes())
    with pytest.raises(IDXFormatError, match="not an IDX file of unsigned bytes"):
        read_idx(path)
