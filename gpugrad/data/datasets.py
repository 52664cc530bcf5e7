"""Datasets that need no network: ``digits`` (shipped), ``synthetic`` (any size), and the
user's own ``.npz`` (arrays X, y) or CSV (label in the last column) through ``load_file``;
and (from dataset_utils) PyTorch's ``Dataset`` and ``TensorDataset``.

The loaders return NumPy arrays: X float32 of shape (N, features) (``load_file`` keeps
float64, which a CSV always is), y int64 of shape (N,).

Example::

    >>> X, y = gpugrad.data.digits()                     # in [0, 1], labels 0..9
    >>> X_train, y_train, X_test, y_test = gpugrad.data.train_test_split(X, y, 0.2)
    >>> X.shape, X_train.shape, X_test.shape             # 1797 * 0.2 = 359.4 test rows
    ((1797, 64), (1438, 64), (359, 64))
"""

from __future__ import annotations

import os
from importlib import resources

import numpy as np

from ..serialization import not_an_npz
from .csv_reader import read_csv
from .dataset_utils import Dataset, TensorDataset
from .errors import MAX_CLASSES as _MAX_CLASSES, DataError

__all__ = ["digits", "synthetic", "load_file", "load", "train_test_split", "DataError",
           "Dataset", "TensorDataset"]


def digits():
    """The 8x8 handwritten digits (1,797 images, 10 classes), pixels scaled to [0, 1].

    The copy scikit-learn ships of the test set of the UCI "Optical Recognition of
    Handwritten Digits" data (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0); see
    gpugrad/data/DIGITS.md. Shapes: X (1797, 64) float32, y (1797,) int64. Example::

        >>> X, y = gpugrad.data.digits()
        >>> float(X.min()), float(X.max()), np.bincount(y)     # about 180 of each digit
        (0.0, 1.0, array([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]))
    """
    with resources.files("gpugrad.data").joinpath("digits.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as archive:
            X, y = archive["X"], archive["y"]
    return X.astype(np.float32) / 16.0, y.astype(np.int64)


def synthetic(n: int = 10_000, features: int = 32, classes: int = 10, hidden: int = 64,
              seed: int = 0, chunk: int = 1 << 16):
    """``n`` Gaussian inputs labelled by a fixed random "teacher" MLP (tanh hidden layer):
    learnable by construction, and any size (generated in chunks, float32). Shapes: X (n,
    features), y (n,) in 0..classes-1. The same arguments give the same data. Example::

        >>> X, y = gpugrad.data.synthetic(n=100, features=8, classes=3)
        >>> X.shape, X.dtype, np.bincount(y)
        ((100, 8), dtype('float32'), array([42, 29, 29]))
    """
    if min(n, features, classes, hidden) < 1:
        raise DataError("synthetic: n, features, classes and hidden must be >= 1")
    teacher = np.random.default_rng(seed)
    w1 = teacher.standard_normal((features, hidden)).astype(np.float32) / np.sqrt(features)
    w2 = teacher.standard_normal((hidden, classes)).astype(np.float32) / np.sqrt(hidden)
    inputs = np.random.default_rng(seed + 1)
    X = np.empty((n, features), dtype=np.float32)
    y = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        X[start:stop] = inputs.standard_normal((stop - start, features), dtype=np.float32)
        y[start:stop] = np.argmax(np.tanh(X[start:stop] @ w1) @ w2, axis=1)
    return X, y


def _validated(X, y, source: str):
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2:
        raise DataError(f"{source}: X must be 2-D (rows, features), got shape {X.shape}")
    if X.shape[1] == 0:
        raise DataError(f"{source}: X has 0 feature columns (shape {X.shape}); each row "
                        f"needs at least one feature")
    if y.ndim != 1:
        raise DataError(f"{source}: y must be 1-D (one label per row), got shape {y.shape}")
    if len(X) != len(y):
        raise DataError(f"{source}: X has {len(X)} rows but y has {len(y)} labels")
    if X.dtype.kind not in "biuf":
        raise DataError(f"{source}: X must be numeric, got dtype {X.dtype}")
    bad = ~np.isfinite(X.astype(np.float64, copy=False))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(f"{source}: X contains NaN or infinity (first at row {row}, column "
                        f"{col})")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or (y != np.round(y)).any():
            raise DataError(f"{source}: labels must be whole numbers (class indices)")
    elif y.dtype.kind not in "biu":
        raise DataError(f"{source}: labels must be integers, got dtype {y.dtype}")
    if len(y) and y.min() < 0:
        raise DataError(f"{source}: labels must be >= 0, found {int(y.min())}")
    if len(y) and y.max() > _MAX_CLASSES:
        raise DataError(f"{source}: a label is {int(y.max())}; labels are class indices "
                        f"0..C-1 (at most {_MAX_CLASSES:,} classes)")
    return _converted(X, y)


def _converted(X, y):
    """Checked X and y as ``load_file`` returns them: X float64 if it is, else float32; y
    int64 (new arrays either way)."""
    return X.astype(np.float64 if X.dtype == np.float64 else np.float32), y.astype(np.int64)


def load_file(path):
    """X and y from ``path``: an ``.npz`` with arrays ``X`` and ``y``, or a CSV of numbers
    with the label in the last column (one header line is skipped if present). Shapes:
    X (N, features), float32 or float64 as stored (a CSV: float64); y (N,) int64. Example::

        >>> with open("tiny.csv", "w") as f:                   # a header and two rows
        ...     _ = f.write("a,b,label\\n0.5,1,0\\n2,3,1\\n")
        >>> gpugrad.data.load_file("tiny.csv")
        (array([[0.5, 1. ], [2. , 3. ]]), array([0, 1]))
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"data file not found: {path}")
    if os.path.isdir(path):
        raise DataError(f"{path} is a folder; --data takes a .npz or .csv file")
    foreign = not_an_npz(path)
    if foreign and (path.endswith(".npz") or foreign.startswith("a NumPy .npy")):
        raise DataError(f"{path} is {foreign.split('; ')[0]}; load_file reads an .npz "
                        f"archive with arrays X and y, or a CSV with the label last")
    if path.endswith(".npz"):
        try:
            with np.load(path, allow_pickle=False) as archive:
                missing = [k for k in ("X", "y") if k not in archive.files]
                if missing:
                    raise DataError(f"{path}: missing array(s) {missing}; the file needs "
                                    f"arrays named X and y (it has {archive.files})")
                X, y = archive["X"], archive["y"]
        except DataError:
            raise
        except Exception as exc:
            raise DataError(f"{path}: not a readable .npz file ({type(exc).__name__}: "
                            f"{exc})") from None
        return _validated(X, y, path)
    return _converted(*read_csv(path))     # read_csv has made _validated's checks, and more


def load(name: str, **options):
    """``digits``, ``synthetic`` (options: n, features, classes, hidden, seed) or a path.

    Example::

        >>> X, y = gpugrad.data.load("synthetic", n=10, features=4)
        >>> X.shape, y.shape
        ((10, 4), (10,))
    """
    if name == "digits":
        return digits()
    if name == "synthetic":
        return synthetic(**options)
    return load_file(name)


def train_test_split(X, y, test_fraction: float = 0.2, seed: int = 0):
    """A seeded random split: ``X_train, y_train, X_test, y_test``; ``round(N *
    test_fraction)`` rows (at least one) go to the test set. Example::

        >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
        >>> X_train, y_train, X_test, y_test = gpugrad.data.train_test_split(X, y, 0.4)
        >>> y_train, X_test                                  # rows keep their labels
        (array([3, 0, 1]), array([[4, 5], [8, 9]]))
    """
    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"test_fraction must be in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = max(1, int(round(len(X) * test_fraction)))
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]
