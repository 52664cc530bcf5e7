"""Data: a DataLoader-style batch iterator and built-in datasets (digits, synthetic).

Example::

    >>> X, y = gpugrad.data.digits()
    >>> for xb, yb in gpugrad.data.DataLoader(X, y, batch_size=64, shuffle=True, seed=0):
    ...     ...
"""

from .datasets import (DataError, digits, load, load_file, synthetic,
                       train_test_split)
from .loader import DataLoader

__all__ = ["DataLoader", "DataError", "digits", "synthetic", "load", "load_file",
           "train_test_split"]
