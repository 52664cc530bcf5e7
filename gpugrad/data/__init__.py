"""Data: a DataLoader-style batch iterator and built-in datasets (digits, synthetic).

Example::

    >>> X, y = gpugrad.data.digits()                     # NumPy: (1797, 64) and (1797,)
    >>> loader = gpugrad.data.DataLoader(X, y, batch_size=64, shuffle=True, seed=0)
    >>> xb, yb = next(iter(loader))                      # tensors
    >>> len(loader), xb.shape, yb.shape                  # ceil(1797 / 64) batches
    (29, (64, 64), (64,))
"""

from .datasets import (DataError, Dataset, TensorDataset, digits, load, load_file, synthetic,
                       train_test_split)
from .loader import DataLoader, default_collate

__all__ = ["DataLoader", "Dataset", "TensorDataset", "default_collate", "DataError", "digits",
           "synthetic", "load", "load_file", "train_test_split"]
