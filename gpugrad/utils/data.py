"""``torch.utils.data``'s import path: the public names of ``gpugrad.data``, so
``from torch.utils.data import DataLoader, random_split`` becomes
``from gpugrad.utils.data import DataLoader, random_split``.

Example::

    >>> from gpugrad.utils.data import DataLoader, TensorDataset
    >>> [b[0].tolist() for b in DataLoader(TensorDataset(gpugrad.arange(3)), 2)]
    [[0, 1], [2]]
"""

from ..data import (BatchSampler, ConcatDataset, DataError, DataLoader, Dataset,
                    DistributedSampler,
                    IterableDataset, RandomSampler, Sampler, SequentialSampler, StackDataset,
                    Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                    default_collate, default_convert, digits, get_worker_info, load,
                    load_file, random_split, synthetic, train_test_split)

__all__ = ["DataLoader", "Dataset", "TensorDataset", "IterableDataset", "Subset",
           "ConcatDataset", "StackDataset", "random_split", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "DistributedSampler", "default_collate", "default_convert", "get_worker_info",
           "DataError", "digits",
           "synthetic", "load", "load_file", "train_test_split"]
