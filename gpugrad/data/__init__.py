"""Data: a DataLoader-style batch iterator, PyTorch's datasets and samplers
(``torch.utils.data``; also importable as ``gpugrad.utils.data``), and built-in datasets
(digits, synthetic).

Example::

    >>> X, y = gpugrad.data.digits()                     # NumPy: (1797, 64) and (1797,)
    >>> loader = gpugrad.data.DataLoader(X, y, batch_size=64, shuffle=True, seed=0)
    >>> xb, yb = next(iter(loader))                      # tensors
    >>> len(loader), xb.shape, yb.shape                  # ceil(1797 / 64) batches
    (29, (64, 64), (64,))
"""

from .collate import default_collate, default_convert
from .dataset_utils import ConcatDataset, IterableDataset, StackDataset, Subset, random_split
from .datasets import (DataError, Dataset, TensorDataset, digits, load, load_file, synthetic,
                       train_test_split)
from .loader import DataLoader, get_worker_info
from .samplers import (BatchSampler, DistributedSampler, RandomSampler, Sampler,
                       SequentialSampler, SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["DataLoader", "Dataset", "TensorDataset", "IterableDataset", "Subset",
           "ConcatDataset", "StackDataset", "random_split", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "DistributedSampler", "default_collate", "default_convert", "get_worker_info",
           "DataError", "digits",
           "synthetic", "load", "load_file", "train_test_split"]
