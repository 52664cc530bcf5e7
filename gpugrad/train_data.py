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

import os

import numpy as np

from . import backend, data
from .data import DataError

__all__ = ["load", "on_device", "recorded", "same_data"]

_BUILT_IN = ("digits", "synthetic")


def load(config):
    """``X_train, y_train, X_test, y_test`` (NumPy arrays) for ``config`` (a TrainConfig):
    its ``data`` (digits, synthetic, an .npz or a CSV path) split by ``test_fraction``."""
    if config.data == "synthetic":
        X, y = data.synthetic(n=config.synthetic_size, seed=config.seed)
    else:                       # digits, or a file (data.load sends a path to load_file)
        X, y = data.load(config.data)
    split = data.train_test_split(X, y, config.test_fraction, seed=config.seed)
    if len(split[1]) == 0:
        raise DataError(f"{config.data}: {len(X)} rows with --test-fraction "
                        f"{config.test_fraction} leave no rows to train on")
    return split


def recorded(data_option: str) -> str:
    """``--data`` as a checkpoint and metrics.json record it: a built-in name as it is, a
    file as an absolute path, so that the run can be resumed from any folder.

    Example::

        >>> import os
        >>> from gpugrad.train_data import recorded
        >>> recorded("digits"), recorded("my_data.npz") == os.path.abspath("my_data.npz")
        ('digits', True)
    """
    return data_option if data_option in _BUILT_IN else os.path.abspath(data_option)


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
    if a in _BUILT_IN or b in _BUILT_IN:
        return a == b
    try:
        return os.path.samefile(a, b)
    except OSError:                                  # one of them is gone: compare the paths
        return os.path.realpath(a) == os.path.realpath(b)


def on_device(array, dtype, device, what: str):
    """``array`` cast to ``dtype`` (checked: values too large for it become inf) on
    ``device``."""
    with np.errstate(over="ignore"):                 # reported below, in one clear line
        cast = np.ascontiguousarray(array.astype(dtype))
    if cast.dtype.kind == "f" and not np.isfinite(cast).all():
        raise DataError(f"{what}: some values are too large for {dtype} (they become "
                        f"infinite); rescale the data or use --dtype float64")
    return backend.to_device(cast, device)
