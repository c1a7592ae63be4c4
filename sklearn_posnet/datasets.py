"""Read the MNIST digits from the four original IDX files, gzipped or not.

Nothing is downloaded: point :func:`load_mnist` at a folder that holds the files.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["MNIST_FILES", "IDXFormatError", "load_mnist", "read_idx"]

#: Base names of the four MNIST files; each may also be present with a ``.gz`` suffix.
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
_IMAGE_SHAPE = (28, 28)
_N_CLASSES = 10


class IDXFormatError(ValueError):
    """Raised when an IDX file does not hold what MNIST's format promises.

    The message names the file and says what was expected and what was found.
    """


def _find_file(folder: Path, base_name: str) -> Path:
    """Return ``folder / base_name`` or its ``.gz`` twin, whichever exists (plain first)."""
    for candidate in (folder / base_name, folder / f"{base_name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"MNIST file {base_name!r} (or {base_name + '.gz'!r}) not found in {str(folder)!r}; "
        "expected the four original IDX files "
        f"{', '.join(MNIST_FILES.values())}, gzipped or not. Nothing is downloaded."
    )


def _read_bytes(path: Path) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            return handle.read()
    except (OSError, EOFError, zlib.error) as error:
        raise IDXFormatError(f"{str(path)!r} could not be read as a gzip file: {error}") from error


def _shape_matches(shape: tuple[int, ...], expected: tuple[int | None, ...]) -> bool:
    if len(shape) != len(expected):
        return False
    return all(want is None or want == got for want, got in zip(expected, shape, strict=True))


def read_idx(
    path: str | os.PathLike,
    *,
    expected_magic: int | None = None,
    expected_shape: tuple[int | None, ...] | None = None,
) -> np.ndarray:
    """Read one IDX file of unsigned bytes into an array.

    Parameters
    ----------
    path : str or path-like
        The file; gzip-compressed when its name ends in ``.gz``.
    expected_magic : int, default=None
        The big-endian int32 magic number the file must start with (2051 for MNIST images,
        2049 for labels). ``None`` accepts any unsigned-byte IDX file.
    expected_shape : tuple of int or None, default=None
        The dimension sizes the header must declare; ``None`` entries match any size. The
        number of entries is the number of dimensions required.

    Returns
    -------
    data : ndarray of dtype uint8
        The data, shaped as the header says.

    Raises
    ------
    IDXFormatError
        If the header, the dimensions or the data length do not match, naming the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from sklearn_posnet.datasets import read_idx
    >>> header = np.array([2049, 3], dtype=">i4").tobytes()
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "labels-idx1-ubyte"
    ...     _ = path.write_bytes(header + bytes([7, 2, 1]))
    ...     read_idx(path, expected_magic=2049)
    array([7, 2, 1], dtype=uint8)
    """
    path = Path(path)
    raw = _read_bytes(path)
    name = str(path)
    if len(raw) < 4:
        raise IDXFormatError(
            f"{name!r} is truncated: expected a 4-byte IDX magic number, found {len(raw)} bytes."
        )
    magic = int.from_bytes(raw[:4], "big")
    zero_bytes, type_code, n_dims = raw[:2], raw[2], raw[3]
    if zero_bytes != b"\x00\x00" or type_code != 0x08:
        raise IDXFormatError(
            f"{name!r} is not an IDX file of unsigned bytes: bad magic number {magic} "
            f"(0x{magic:08x}); expected 0x000008NN"
            + (f", namely {expected_magic}." if expected_magic is not None else ".")
        )
    if expected_magic is not None and magic != expected_magic:
        raise IDXFormatError(
            f"{name!r} has magic number {magic} ({n_dims} dimensions); expected "
            f"{expected_magic} ({expected_magic & 0xFF} dimensions)."
        )
    header_size = 4 + 4 * n_dims
    if len(raw) < header_size:
        raise IDXFormatError(
            f"{name!r} is truncated: its header declares {n_dims} dimensions, which needs "
            f"{header_size} bytes, but the file has {len(raw)}."
        )
    shape = tuple(int(size) for size in np.frombuffer(raw, dtype=">i4", count=n_dims, offset=4))
    if expected_shape is not None and not _shape_matches(shape, expected_shape):
        wanted = tuple("any" if size is None else size for size in expected_shape)
        raise IDXFormatError(f"{name!r} has dimensions {shape}; expected {wanted}.")
    n_values = int(np.prod(shape))
    n_data = len(raw) - header_size
    if n_data != n_values:
        problem = "is truncated" if n_data < n_values else "has trailing bytes"
        raise IDXFormatError(
            f"{name!r} {problem}: its header declares dimensions {shape}, i.e. {n_values} "
            f"data bytes, but {n_data} follow the header."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def _load_split(folder: Path, split: str, scale: bool) -> tuple[np.ndarray, np.ndarray]:
    images_path = _find_file(folder, MNIST_FILES[f"{split}_images"])
    labels_path = _find_file(folder, MNIST_FILES[f"{split}_labels"])
    images = read_idx(
        images_path, expected_magic=_IMAGES_MAGIC, expected_shape=(None, *_IMAGE_SHAPE)
    )
    labels = read_idx(labels_path, expected_magic=_LABELS_MAGIC, expected_shape=(None,))
    if len(images) != len(labels):
        raise IDXFormatError(
            f"{str(images_path)!r} holds {len(images)} images but {str(labels_path)!r} holds "
            f"{len(labels)} labels; expected the same number."
        )
    if labels.size and labels.max() >= _N_CLASSES:
        raise IDXFormatError(
            f"{str(labels_path)!r} holds the label {int(labels.max())}; expected digits 0..9."
        )
    X = images.reshape(len(images), -1)
    X = X.astype(np.float32) / np.float32(255.0) if scale else X.copy()
    return X, labels.astype(np.int64)


def load_mnist(
    path: str | os.PathLike,
    *,
    subset: str = "all",
    scale: bool = True,
) -> tuple[np.ndarray, ...]:
    """Load MNIST from the four original IDX files in a folder.

    The folder must hold ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each plain or gzipped
    (``.gz``; the plain file wins when both exist). Nothing is downloaded.

    Parameters
    ----------
    path : str or path-like
        The folder that holds the files.
    subset : {"all", "train", "test"}, default="all"
        Which split to read: both (four arrays) or one (two arrays). Reading one split does
        not open the other split's files.
    scale : bool, default=True
        If True, the images are float32 in [0, 1] (pixel / 255); if False, the raw uint8 pixels.

    Returns
    -------
    X_train : ndarray of shape (60000, 784)
        Training images, one flattened 28x28 image per row (absent when ``subset="test"``).
    y_train : ndarray of shape (60000,), dtype int64
        Training labels, digits 0..9 (absent when ``subset="test"``).
    X_test : ndarray of shape (10000, 784)
        Test images (absent when ``subset="train"``).
    y_test : ndarray of shape (10000,), dtype int64
        Test labels (absent when ``subset="train"``).

    Raises
    ------
    FileNotFoundError
        If a file is missing, naming it.
    IDXFormatError
        If a file is malformed: bad magic number, wrong dimensions, truncated or trailing
        data, a label outside 0..9, or images and labels of different counts. The message
        names the file and what was expected.

    Examples
    --------
    >>> from sklearn_posnet.datasets import load_mnist
    >>> X_train, y_train, X_test, y_test = load_mnist("../shared/data/mnist")  # doctest: +SKIP
    >>> X_train.shape, X_train.dtype, X_test.shape  # doctest: +SKIP
    ((60000, 784), dtype('float32'), (10000, 784))
    """
    if subset not in ("all", "train", "test"):
        raise ValueError(f"subset must be 'all', 'train' or 'test'; got {subset!r}.")
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"MNIST folder {str(folder)!r} does not exist or is not a directory; expected a "
            f"folder holding {', '.join(MNIST_FILES.values())} (gzipped or not)."
        )
    splits = ("train", "test") if subset == "all" else (subset,)
    arrays: list[np.ndarray] = []
    for split in splits:
        arrays.extend(_load_split(folder, split, scale))
    return tuple(arrays)
