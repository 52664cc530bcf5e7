"""The error the data package raises for a file or array it cannot use, and its limits."""

from __future__ import annotations

__all__ = ["DataError", "MAX_CLASSES"]

MAX_CLASSES = 100_000       # a label above this is taken for a mistake, not a class index


class DataError(ValueError):
    """A data file or array that cannot be used, with what is wrong in the message (a
    ValueError). Example::

        >>> gpugrad.data.train_test_split(np.zeros((4, 2)), np.zeros(4), test_fraction=1.5)
        Traceback (most recent call last):
        ...
        gpugrad.data.DataError: test_fraction must be in (0, 1), got 1.5
    """


DataError.__module__ = "gpugrad.data"          # its public name, shown in tracebacks
