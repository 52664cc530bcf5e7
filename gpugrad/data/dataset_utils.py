"""PyTorch's dataset classes (``torch.utils.data``): ``Dataset`` and ``TensorDataset``;
datasets made of datasets, ``Subset``, ``ConcatDataset``, ``StackDataset`` and
``random_split``; and ``IterableDataset``, a stream of samples that a DataLoader batches as
it reads them.

Example::

    >>> ds = gpugrad.data.TensorDataset(gpugrad.arange(10))
    >>> g = gpugrad.Generator().manual_seed(0)
    >>> train, val = gpugrad.data.random_split(ds, [0.8, 0.2], generator=g)
    >>> len(train), len(val), sorted(int(train[i][0]) for i in range(8)) != list(range(8))
    (8, 2, True)
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings

from .. import backend
from ..tensor import Tensor
from .samplers import _check_generator, permutation

__all__ = ["Dataset", "TensorDataset", "IterableDataset", "Subset", "ConcatDataset",
           "StackDataset", "random_split"]


class Dataset:
    """Base class of map-style datasets, as ``torch.utils.data.Dataset``: define
    ``__getitem__(i)`` (one sample, e.g. an ``(x, y)`` tuple) and ``__len__``. A
    ``DataLoader`` batches any object with those two methods; subclassing is optional.

    Example::

        >>> class Squares(gpugrad.data.Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return float(i), i * i
        >>> x, y = next(iter(gpugrad.data.DataLoader(Squares(), batch_size=4)))
        >>> x                                   # Python floats collate to float64
        tensor([0., 1., 2., 3.], device='cpu', dtype=float64)
        >>> y
        tensor([0, 1, 4, 9], device='cpu', dtype=int64)
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        """``ds1 + ds2``: a ``ConcatDataset`` of the two, as PyTorch's."""
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows of the given tensors: ``ds[i] == (t1[i], t2[i], ...)``, as PyTorch's
    TensorDataset. The tensors (or NumPy/CuPy arrays, wrapped without a copy) must have the
    same size in their first dimension. Shapes: (N, ...) each -> samples of (...) each.

    Example::

        >>> ds = gpugrad.data.TensorDataset(gpugrad.zeros(5, 3), gpugrad.arange(5))
        >>> len(ds), [t.shape for t in ds[2]]
        (5, [(3,), ()])
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, e.g. "
                             "TensorDataset(X, y)")
        wrapped = []
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                if not backend.is_array(t):
                    raise TypeError(f"TensorDataset takes tensors or arrays; argument {i} is a "
                                    f"{type(t).__name__} (convert it with gpugrad.tensor)")
                t = Tensor._wrap(t)
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is 0-d; each tensor needs a "
                                 f"first dimension that indexes the samples")
            wrapped.append(t)
        sizes = [t.shape[0] for t in wrapped]
        if len(set(sizes)) > 1:
            raise ValueError(f"TensorDataset: the tensors' first dimensions differ "
                             f"(sizes {sizes}, shapes {[tuple(t.shape) for t in wrapped]}); "
                             f"each must have one row per sample")
        self.tensors = tuple(wrapped)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class IterableDataset(Dataset):
    """Base class of iterable-style datasets, as ``torch.utils.data.IterableDataset``:
    define ``__iter__`` (yielding samples). A DataLoader reads it in order, ``batch_size``
    samples a batch (collated by ``collate_fn``); it takes no ``shuffle``, ``sampler`` or
    ``batch_sampler``, and ``len(loader)`` needs ``len(dataset)``. Any object with
    ``__iter__`` and no ``__getitem__`` is read the same way.

    Example::

        >>> class Count(gpugrad.data.IterableDataset):
        ...     def __iter__(self):
        ...         return iter(range(5))
        >>> [b.tolist() for b in gpugrad.data.DataLoader(Count(), batch_size=2)]
        [[0, 1], [2, 3], [4]]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it "
                        f"(it has no samples by index)")


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(ds, idx)[i] ==
    ds[idx[i]]``. Example::

        >>> sub = gpugrad.data.Subset(["a", "b", "c", "d"], [3, 1])
        >>> len(sub), sub[0], sub[1]
        (2, 'd', 'b')
    """

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        """The samples at ``indices`` (what a DataLoader asks for, one batch at a time)."""
        inner = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(inner)
        return [self.dataset[i] for i in inner]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The samples of ``datasets`` one after the other (map-style datasets);
    ``cumulative_sizes[k]`` is the number of samples in the first k + 1. ``ds1 + ds2`` of two
    ``Dataset``s makes one. Example::

        >>> both = gpugrad.data.ConcatDataset([["a", "b"], ["c"]])
        >>> len(both), both[2], both[-3], both.cumulative_sizes
        (3, 'c', 'a', [2, 3])
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for i, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset) or not hasattr(d, "__len__"):
                raise TypeError(f"ConcatDataset does not support IterableDataset: dataset "
                                f"{i} ({type(d).__name__}) has no length; chain iterables "
                                f"with itertools.chain instead")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError(f"ConcatDataset: absolute value of index should not exceed "
                                 f"dataset length ({idx} for {len(self)} samples)")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        if which == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} is out of range for {len(self)} "
                             f"samples")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class StackDataset(Dataset):
    """Datasets of equal length side by side: ``StackDataset(a, b)[i] == (a[i], b[i])``, or
    with names ``StackDataset(x=a, y=b)[i] == {"x": a[i], "y": b[i]}``. Example::

        >>> ds = gpugrad.data.StackDataset(image=[10, 11], label=[0, 1])
        >>> len(ds), ds[1]
        (2, {'image': 11, 'label': 1})
    """

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: supported either tuple- (via args) or dict- (via "
                             "kwargs) like input/output, but both types are given")
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset should be passed")
        parts = list(args or kwargs.values())
        lengths = [len(d) for d in parts]
        if len(set(lengths)) > 1:
            raise ValueError(f"StackDataset: size mismatch between datasets (lengths "
                             f"{lengths}); each must have one sample per index")
        self.datasets = args or kwargs
        self._length = lengths[0]

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {key: d[index] for key, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


def random_split(dataset, lengths, generator=None) -> list:
    """``dataset`` split at random into non-overlapping ``Subset``s of the given
    ``lengths``, or of the given fractions (summing to 1) of ``len(dataset)``: each gets
    ``floor(len * fraction)`` and the samples left over go one each to the first, second...
    split in turn (as PyTorch's). ``generator``: a ``gpugrad.Generator`` for the
    permutation (None: gpugrad's global stream).

    Example::

        >>> parts = gpugrad.data.random_split(range(10), [0.5, 0.3, 0.2])
        >>> [len(p) for p in parts], sorted(i for p in parts for i in p)
        ([5, 3, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        >>> [len(p) for p in gpugrad.data.random_split(range(11), [0.25, 0.25, 0.5])]
        [3, 3, 5]
    """
    _check_generator(generator, "random_split")
    lengths = list(lengths)
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1 "
                                 f"(got {fraction})")
            sizes.append(math.floor(n * fraction))
        for i in range(n - sum(sizes)):              # the rest, round-robin
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              f"empty dataset.", stacklevel=2)
        lengths = sizes
    if any(not float(k).is_integer() or k < 0 for k in lengths):
        raise ValueError(f"random_split: lengths must be counts (ints >= 0) or fractions "
                         f"summing to 1, got {lengths}")
    lengths = [int(k) for k in lengths]
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal "
                         f"the length of the input dataset ({n})")
    order = permutation(n, generator).tolist()
    return [Subset(dataset, order[stop - k:stop])
            for stop, k in zip(itertools.accumulate(lengths), lengths)]
