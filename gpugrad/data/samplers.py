"""Samplers: the order (and choice) of dataset indices a DataLoader reads, as
``torch.utils.data``'s ``Sampler``, ``SequentialSampler``, ``RandomSampler``,
``SubsetRandomSampler``, ``WeightedRandomSampler`` and ``BatchSampler``.

Random samplers draw from gpugrad's random streams: the global one (``gpugrad.manual_seed``
before an epoch reproduces that epoch) or the ``generator=`` given (a ``gpugrad.Generator``).
The draws are gpugrad's, so a seed gives other orders than the same seed in PyTorch; the
distributions and the rules (what is drawn, how many, with or without replacement) are
PyTorch's.

Example::

    >>> sampler = gpugrad.data.RandomSampler(range(5), generator=gpugrad.Generator().manual_seed(0))
    >>> sorted(sampler)                                 # each index once, in a random order
    [0, 1, 2, 3, 4]
    >>> list(gpugrad.data.BatchSampler(range(5), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import creation
from ..random import Generator
from ..random_sampling import multinomial, randint, randperm
from ..tensor import Tensor

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "DistributedSampler"]


def _check_generator(generator, who: str) -> None:
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{who}: generator= takes a gpugrad.Generator (or None: gpugrad's "
                        f"global stream), got {type(generator).__name__}")


def is_count(value) -> bool:
    """An int >= 1 (a bool is not one)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def _positive_int(value, name: str, who: str) -> int:
    if not is_count(value):
        raise ValueError(f"{who}: {name} should be a positive integer value, but got "
                         f"{name}={value!r}")
    return int(value)


def _check_bool(value, name: str, who: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{who}: {name} should be a boolean value, but got {name}={value!r}")
    return value


def permutation(n: int, generator=None) -> np.ndarray:
    """A random order of 0 .. n-1 (a NumPy int64 array), drawn on the cpu from ``generator``
    (a ``gpugrad.Generator``; None: gpugrad's global stream). The one draw of the samplers,
    DataLoader's ``shuffle=True`` and ``random_split``."""
    return randperm(n, generator=generator, device="cpu")._array


class Sampler:
    """Base class of samplers, as ``torch.utils.data.Sampler``: define ``__iter__`` (the
    indices, or for a batch sampler lists of indices) and, where it is known, ``__len__``.
    Any iterable of indices may be passed as ``sampler=``; subclassing is optional.

    Example::

        >>> class Evens(gpugrad.data.Sampler):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         return iter(range(0, self.n, 2))
        >>> [b.tolist() for b in gpugrad.data.DataLoader(gpugrad.arange(10) * 10, 2,
        ...                                              sampler=Evens(10))]
        [[0, 20], [40, 60], [80]]
    """

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """Indices 0 .. len(data_source)-1 in order. Example::

        >>> list(gpugrad.data.SequentialSampler("abc"))
        [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices into ``data_source``: a fresh permutation each epoch, or with
    ``replacement=True`` ``num_samples`` independent uniform draws. Without replacement,
    ``num_samples`` (default ``len(data_source)``) may exceed the length: whole
    permutations follow one another, and the last is cut. ``generator``: a
    ``gpugrad.Generator`` (None: gpugrad's global stream, drawn when iterated).

    Example::

        >>> g = gpugrad.Generator().manual_seed(1)
        >>> draws = list(gpugrad.data.RandomSampler(range(3), num_samples=7, generator=g))
        >>> len(draws), sorted(draws[:3]), sorted(draws[3:6])
        (7, [0, 1, 2], [0, 1, 2])
    """

    def __init__(self, data_source, replacement: bool = False, num_samples=None,
                 generator=None):
        self.data_source = data_source
        self.replacement = _check_bool(replacement, "replacement", "RandomSampler")
        self._num_samples = num_samples
        self.generator = generator
        _check_generator(generator, "RandomSampler")
        if num_samples is not None:
            _positive_int(num_samples, "num_samples", "RandomSampler")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def __iter__(self):
        n, k = len(self.data_source), self.num_samples
        if n == 0:
            return iter(())
        if self.replacement:
            draws = randint(0, n, (k,), generator=self.generator, device="cpu")
            return iter(draws._array.tolist())
        order = []
        for _ in range(k // n):
            order += permutation(n, self.generator).tolist()
        if k % n:
            order += permutation(n, self.generator)[:k % n].tolist()
        return iter(order)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order, a fresh one each epoch. Example::

        >>> sorted(gpugrad.data.SubsetRandomSampler([7, 3, 9]))
        [3, 7, 9]
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator
        _check_generator(generator, "SubsetRandomSampler")

    def __iter__(self):
        indices = self.indices
        return iter([indices[i] for i in permutation(len(indices), self.generator).tolist()])

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in 0 .. len(weights)-1, index i drawn with probability
    ``weights[i] / sum(weights)`` (weights need not sum to 1), with replacement by
    default; without it, no index repeats (so ``num_samples <= len(weights)``). Used to
    balance classes: weight each sample by 1 / (its class's count). Shapes: weights (N,).

    Example::

        >>> g = gpugrad.Generator().manual_seed(0)
        >>> draws = list(gpugrad.data.WeightedRandomSampler([0.0, 1.0, 3.0], 8, generator=g))
        >>> len(draws), 0 in draws                     # index 0 has weight 0
        (8, False)
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        self.num_samples = _positive_int(num_samples, "num_samples", "WeightedRandomSampler")
        self.replacement = _check_bool(replacement, "replacement", "WeightedRandomSampler")
        _check_generator(generator, "WeightedRandomSampler")
        if isinstance(weights, Tensor):
            weights = weights.detach()
        weights = creation.as_tensor(weights, dtype=np.float64, device="cpu")
        if weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but "
                             f"given weights have shape {tuple(weights.shape)}")
        self.weights, self.generator = weights, generator

    def __iter__(self):
        draws = multinomial(self.weights, self.num_samples, self.replacement,
                            generator=self.generator)
        return iter(draws._array.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (any iterable of indices); the last
    list is shorter, or dropped with ``drop_last=True``. Pass it as a DataLoader's
    ``batch_sampler=``.

    Example::

        >>> list(gpugrad.data.BatchSampler(range(7), 3, drop_last=True))
        [[0, 1, 2], [3, 4, 5]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        self.batch_size = _positive_int(batch_size, "batch_size", "BatchSampler")
        self.drop_last = _check_bool(drop_last, "drop_last", "BatchSampler")
        self.sampler = sampler

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class DistributedSampler(Sampler):
    """Each of ``num_replicas`` processes reads its own 1/``num_replicas`` of the dataset,
    as ``torch.utils.data.distributed.DistributedSampler``: one order for all (shuffled from
    ``seed + epoch``, the same on every rank; call ``set_epoch(e)`` at each epoch's start
    for a new one), padded by wrapping around to a multiple of ``num_replicas`` (or cut
    short, ``drop_last=True``), and rank r takes positions r, r + num_replicas, ...
    ``num_replicas`` and ``rank`` default to ``gpugrad.distributed``'s group.

    Example::

        >>> [list(gpugrad.data.DistributedSampler(range(5), 2, r, shuffle=False))
        ...  for r in (0, 1)]
        [[0, 2, 4], [1, 3, 0]]
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            from .. import distributed             # (the group, when one was started)
            if not distributed.is_initialized():
                raise RuntimeError("DistributedSampler: pass num_replicas= and rank=, or "
                                   "call gpugrad.distributed.init() first to take them "
                                   "from the process group")
            num_replicas = distributed.world_size() if num_replicas is None else num_replicas
            rank = distributed.rank() if rank is None else rank
        self.num_replicas = _positive_int(num_replicas, "num_replicas", "DistributedSampler")
        if not isinstance(rank, numbers.Integral) or not 0 <= rank < self.num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {self.num_replicas - 1}]")
        self.dataset, self.rank, self.epoch = dataset, int(rank), 0
        self.shuffle, self.seed = shuffle, int(seed)
        self.drop_last = _check_bool(drop_last, "drop_last", "DistributedSampler")
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = -(-(n - self.num_replicas) // self.num_replicas)
        else:
            self.num_samples = -(-n // self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = permutation(n, Generator().manual_seed(self.seed + self.epoch)).tolist()
        else:
            order = list(range(n))
        if self.drop_last:
            order = order[:self.total_size]
        elif self.total_size > n:
            order = (order * -(-self.total_size // n))[:self.total_size]    # wrap around
        return iter(order[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``__iter__`` draw epoch ``epoch``'s order (the same on every rank)."""
        self.epoch = epoch
