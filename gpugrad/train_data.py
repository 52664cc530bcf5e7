"""The data of a training run (``gpugrad train --data``): the built-in sets, ``.npz`` files
and CSV files (read by ``gpugrad.data.load_file``, whose errors name the line and column),
split into train and test rows and moved to the device.

Example::

    >>> _ = open("mine.csv", "w").write("height,weight,label\\n1.5,60,0\\n1.8,85,1\\n")
    >>> X, y = gpugrad.data.load_file("mine.csv")
    >>> from gpugrad.train_data import on_device
    >>> on_device(X, np.float32, gpugrad.Device("cpu"), "mine.csv").dtype
    dtype('float32')
"""

from __future__ import annotations

import hashlib
import inspect
import os

import numpy as np

from . import backend, data
from .data import DataError, datasets
from .serialization import not_an_npz

__all__ = ["BUILT_IN", "load", "on_device", "recorded", "same_data", "fingerprint",
           "check_data", "too_big", "shown_bytes"]

BUILT_IN = ("digits", "synthetic")


def load(config):
    """``X_train, y_train, X_test, y_test`` (NumPy arrays) for ``config`` (a TrainConfig):
    its ``data`` (digits, synthetic, an .npz or a CSV path) split by ``test_fraction``."""
    if config.data == "synthetic":
        X, y = data.synthetic(n=config.synthetic_size, seed=config.seed)
    else:                       # digits, or a file (data.load sends a path to load_file)
        _check_kind(config.data)
        X, y = data.load(config.data)
    if X.shape[1] == 0:
        raise DataError(f"{config.data}: X has 0 feature columns (shape {X.shape}); each row "
                        f"needs at least one feature")
    split = data.train_test_split(X, y, config.test_fraction, seed=config.seed)
    if len(split[1]) == 0:
        raise DataError(f"{config.data}: {len(X)} rows with --test-fraction "
                        f"{config.test_fraction} leave no rows to train on")
    return split


_FORMATS = ("--data takes an .npz archive with arrays X and y (numpy.savez(path, X=X, y=y)) "
            "or a CSV with the label in the last column")


def _check_kind(path: str) -> None:
    """A DataError naming the file when ``path`` (a --data file) is of a kind --data does
    not read: a NumPy .npy file, or an .npz that is not an .npz archive."""
    if not os.path.isfile(path):
        return                                       # load_file says what is wrong
    foreign = not_an_npz(path)
    if foreign and foreign.startswith("a NumPy .npy"):
        raise DataError(f"{path} is a NumPy .npy file (one array), which --data does not "
                        f"read; {_FORMATS}")
    if foreign and path.endswith(".npz"):
        raise DataError(f"{path} is {foreign.split('; ')[0]}; {_FORMATS}")


def shown_bytes(n: float) -> str:
    """A number of bytes as people read it.

    Example::

        >>> from gpugrad.train_data import shown_bytes
        >>> shown_bytes(512), shown_bytes(3 * 2**20), shown_bytes(2.5 * 2**40)
        ('512 B', '3.0 MiB', '2,560.0 GiB')
    """
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{int(n)} B"


def too_big(config) -> DataError:
    """The error for data that did not fit in memory (a MemoryError while loading
    ``config.data``): its size in bytes where known, and the option to change."""
    if config.data == "synthetic":
        features = inspect.signature(datasets.synthetic).parameters["features"].default
        needed = config.synthetic_size * (features * 4 + 8)       # float32 X, int64 y
        return DataError(f"--data synthetic: --synthetic-size {config.synthetic_size:,} rows "
                         f"need {shown_bytes(needed)} of memory (and as much again to split "
                         f"them), more than there is; use a smaller --synthetic-size")
    if os.path.isfile(config.data):
        size = shown_bytes(os.path.getsize(config.data))
        return DataError(f"--data {config.data}: its data ({size} on disk) does not fit in "
                         f"memory; use a smaller file, or a machine with more memory")
    return DataError(f"--data {config.data}: ran out of memory loading it; free memory and "
                     f"run again")


def recorded(data_option: str) -> str:
    """``--data`` as a checkpoint and metrics.json record it: a built-in name as it is, a
    file as an absolute path, so that the run can be resumed from any folder.

    Example::

        >>> import os
        >>> from gpugrad.train_data import recorded
        >>> recorded("digits"), recorded("my_data.npz") == os.path.abspath("my_data.npz")
        ('digits', True)
    """
    return data_option if data_option in BUILT_IN else os.path.abspath(data_option)


_FINGERPRINTS = {}              # (path, size, mtime, inode) -> fingerprint: a file is read once


def fingerprint(data_option: str) -> dict | None:
    """What identifies the content of a ``--data`` file: its absolute path, size in bytes
    and SHA-256 (a checkpoint records it, so ``--resume`` accepts the same data at another
    path and refuses other data at the same one); None for a built-in data set.

    Example::

        >>> from gpugrad.train_data import fingerprint
        >>> _ = open("tiny.csv", "w").write("1,0\\n2,1\\n")
        >>> seen = fingerprint("tiny.csv")
        >>> seen["bytes"], seen["sha256"][:12], fingerprint("digits")
        (8, '025589945457', None)
    """
    if data_option in BUILT_IN:
        return None
    path = os.path.abspath(data_option)
    status = os.stat(path)
    key = (path, status.st_size, status.st_mtime_ns, status.st_ino)
    if key not in _FINGERPRINTS:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _FINGERPRINTS[key] = {"path": path, "bytes": status.st_size,
                              "sha256": digest.hexdigest()}
    return dict(_FINGERPRINTS[key])


def same_data(a: str, b: str) -> bool:
    """Whether two ``--data`` values name the same data: built-in names by name, files by
    what they point to (``my_data.npz``, ``./my_data.npz`` and its absolute path are one).

    Example::

        >>> import os
        >>> from gpugrad.train_data import same_data
        >>> same_data("./mine.csv", os.path.abspath("mine.csv"))
        True
        >>> same_data("digits", "mine.csv")
        False
    """
    a, b = str(a), str(b)
    if a in BUILT_IN or b in BUILT_IN:
        return a == b
    try:
        return os.path.samefile(a, b)
    except OSError:                                  # one of them is gone: compare the paths
        return os.path.realpath(a) == os.path.realpath(b)


def check_data(state: dict, data: str, path: str) -> None:
    """A DataError unless ``data`` (a --data value) holds the data the checkpoint ``state``
    (read from ``path``) was trained on, by content: the file may have moved (then --data
    names it), not changed. Checkpoints that record no content pass (their path is
    compared, as options are)."""
    saved = state.get("data_file")
    if saved is None:
        return
    if data in BUILT_IN:
        raise DataError(f"--resume {path}: the run was trained on the file {saved['path']}, "
                        f"not --data {data}; leave --data out")
    if not os.path.isfile(data):
        raise DataError(f"--resume {path}: the run's data file {data} is not there any more; "
                        f"if it moved, pass its new path with --data (its content is checked "
                        f"against the checkpoint's)")
    now = fingerprint(data)
    if (now["bytes"], now["sha256"]) != (saved["bytes"], saved["sha256"]):
        raise DataError(f"--resume {path}: the data file changed since the run started: "
                        f"{data} holds {now['bytes']:,} bytes with SHA-256 "
                        f"{now['sha256'][:12]}..., the run was trained on {saved['bytes']:,} "
                        f"bytes with SHA-256 {saved['sha256'][:12]}... ({saved['path']}); pass "
                        f"that data with --data, or start a new run with another --out")


def on_device(array, dtype, device, what: str):
    """``array`` cast to ``dtype`` (checked: values too large for it become inf) on
    ``device``."""
    with np.errstate(over="ignore"):                 # reported below, in one clear line
        cast = np.ascontiguousarray(array.astype(dtype))
    if cast.dtype.kind == "f" and not np.isfinite(cast).all():
        raise DataError(f"{what}: some values are too large for {dtype} (they become "
                        f"infinite); rescale the data or use --dtype float64")
    return backend.to_device(cast, device)
