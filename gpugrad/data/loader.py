"""Batches: a DataLoader over arrays (on either device) or over any map-style dataset.

Example::

    >>> X, y = gpugrad.randn(10, 3), gpugrad.arange(10)
    >>> loader = gpugrad.data.DataLoader(X, y, batch_size=4, shuffle=True, seed=0)
    >>> [(xb.shape, yb.shape) for xb, yb in loader]     # tensors on the arrays' device
    [((4, 3), (4,)), ((4, 3), (4,)), ((2, 3), (2,))]
"""

from __future__ import annotations

import collections.abc as abc
import math
import numbers

import numpy as np

from .. import backend, creation, random
from ..tensor import Tensor
from .datasets import TensorDataset

__all__ = ["DataLoader", "default_collate"]


def _is_array(data) -> bool:
    return isinstance(data, Tensor) or backend.is_array(data)


def _array(data, name: str):
    if isinstance(data, Tensor):
        return data._array
    if _is_array(data):
        return data
    raise TypeError(f"DataLoader: {name} must be a tensor or an array, got {type(data).__name__}")


class DataLoader:
    """Iterates over batches of ``dataset``, as tensors.

    ``dataset`` is either arrays, ``DataLoader(X, y)`` (or ``X`` alone: tensors or NumPy/CuPy
    arrays, yielding ``(X[batch], y[batch])`` or ``X[batch]`` by one indexing per batch), or
    any map-style dataset (``__len__`` and ``__getitem__``, e.g. a ``TensorDataset`` or a
    class returning ``(x, y)`` tuples), whose samples ``collate_fn`` (``default_collate``, as
    PyTorch's) stacks into a batch. ``DataLoader(dataset, 64)`` takes 64 as the batch size.

    Unlike PyTorch, ``batch_size`` defaults to 32 (PyTorch's DataLoader defaults to 1), for
    arrays and datasets alike: pass ``batch_size=1`` for PyTorch's default. ``batch_size=None``
    turns batching off, as in PyTorch: the loader yields one sample at a time, ``X[i]`` or
    ``(X[i], y[i])`` for arrays, ``collate_fn(dataset[i])`` for a dataset (by default the
    sample with NumPy arrays and scalars made tensors and tuples made lists, as PyTorch's
    ``default_convert``); it cannot be combined with ``drop_last`` or ``world_size > 1``.

    ``shuffle`` draws a new order every epoch from a NumPy generator seeded with ``seed``,
    or, when ``seed`` is None, with a number drawn from gpugrad's generator when the loader
    is made (so ``gpugrad.manual_seed`` reproduces it); ``drop_last`` skips a final short
    batch. Shapes: X (N, ...) and y (N, ...) -> batches (B, ...).

    PyTorch's worker options are accepted (``num_workers``, ``pin_memory``, ``timeout``,
    ``worker_init_fn``, ``prefetch_factor``, ``persistent_workers``) and change nothing:
    batches are made in the calling process, by one indexing of in-memory data, in the
    same order for any ``num_workers``; ``worker_init_fn`` is never called.

    For data-parallel training, ``world_size`` ranks build the loader with the same seed
    and the global ``batch_size``; rank ``rank`` gets rows ``[rank * b, (rank + 1) * b)`` of
    every global batch, b = batch_size / world_size, so the ranks together see exactly the
    batches one process would. A final short batch is split the same way, its size rounded
    down to a multiple of ``world_size`` (at most world_size - 1 rows an epoch are skipped).

    Example (rank 1 of 2, no shuffling)::

        >>> loader = gpugrad.data.DataLoader(gpugrad.arange(10), batch_size=4, rank=1,
        ...                                  world_size=2)
        >>> [xb.tolist() for xb in loader]      # global batches 0-3, 4-7, 8-9
        [[2, 3], [6, 7], [9]]

    Example (no batching, as PyTorch's ``batch_size=None``)::

        >>> [x.tolist() for x in gpugrad.data.DataLoader(gpugrad.arange(3), batch_size=None)]
        [0, 1, 2]
    """

    def __init__(self, dataset, y=None, batch_size: int | None = 32, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None, rank: int = 0,
                 world_size: int = 1, collate_fn=None, *, num_workers: int = 0,
                 pin_memory: bool = False, timeout: float = 0, worker_init_fn=None,
                 prefetch_factor=None, persistent_workers: bool = False):
        _check_worker_options(num_workers, pin_memory, timeout, worker_init_fn)
        if isinstance(y, numbers.Integral) and not isinstance(y, (bool, np.ndarray)):
            if batch_size != 32:                     # DataLoader(dataset, 64), as PyTorch's
                raise TypeError(f"DataLoader got two batch sizes: {y} (second argument) and "
                                f"batch_size={batch_size}")
            y, batch_size = None, int(y)
        unbatched = batch_size is None                 # samples one by one, as PyTorch's
        if unbatched and (drop_last or world_size != 1):
            raise ValueError("DataLoader: batch_size=None yields samples one by one, so it "
                             "cannot be combined with drop_last or world_size > 1; pass a "
                             "batch size")
        self.dataset = dataset
        self.collate_fn = collate_fn or (_default_convert if unbatched else default_collate)
        self.X = self.y = None
        self._arrays = None             # the fast path: arrays indexed once per batch
        if _is_array(dataset):
            self.X = _array(dataset, "X")
            self.y = None if y is None else _array(y, "y")
            if self.y is not None and len(self.y) != len(self.X):
                raise ValueError(f"DataLoader: X has {len(self.X)} rows but y has "
                                 f"{len(self.y)}")
            if collate_fn is None:
                self._arrays = [self.X] if self.y is None else [self.X, self.y]
            else:
                self.dataset = TensorDataset(self.X) if y is None else TensorDataset(self.X,
                                                                                     self.y)
        else:
            if y is not None:
                raise TypeError(f"DataLoader takes arrays X and y, or one dataset; got a "
                                f"{type(dataset).__name__} dataset and a y as well (put the "
                                f"labels in the dataset's samples)")
            if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
                raise TypeError(f"DataLoader: {type(dataset).__name__} is not a map-style "
                                f"dataset; it needs __len__ and __getitem__ (or pass arrays)")
            if isinstance(dataset, TensorDataset) and collate_fn is None:
                self._arrays = [t._array for t in dataset.tensors]
        if not unbatched and not _is_count(batch_size):
            raise ValueError(f"DataLoader: batch_size must be an int >= 1 (or None: no "
                             f"batching), got {batch_size!r}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"DataLoader: need 0 <= rank < world_size, got rank {rank} and "
                             f"world_size {world_size}")
        if not unbatched and batch_size % world_size:
            nearest = batch_size - batch_size % world_size or world_size
            raise ValueError(f"DataLoader: the global batch size {batch_size} does not split "
                             f"evenly over {world_size} ranks; use a multiple of {world_size} "
                             f"(e.g. {nearest})")
        self.rank, self.world_size = rank, world_size
        self.batch_size = None if unbatched else int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        if seed is None and shuffle:
            seed = _seed_from_gpugrad()
        self._rng = np.random.default_rng(seed)
        self.epoch = 0

    def __len__(self) -> int:
        return self._batches(self._samples_per_epoch())

    def _samples_per_epoch(self) -> int:
        return len(self.dataset) if self.X is None else len(self.X)

    def _batches(self, n: int) -> int:
        """Batches (or, unbatched, samples) in an epoch of ``n`` samples."""
        if self.batch_size is None:
            return n
        if self.drop_last or n % self.batch_size < self.world_size:   # no (shareable) tail
            return n // self.batch_size
        return math.ceil(n / self.batch_size)

    def state_dict(self) -> dict:
        """The generator state and epoch, so a resumed run shuffles as the original."""
        return {"epoch": self.epoch, "rng": self._rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state["epoch"])
        self._rng.bit_generator.state = state["rng"]

    def __iter__(self):
        n = self._samples_per_epoch()
        order = self._rng.permutation(n) if self.shuffle else None
        self.epoch += 1
        if self.batch_size is None:
            yield from self._samples(range(n) if order is None else order)
            return
        spans = self._spans(n)
        if self._arrays is None:
            for start, stop in spans:
                rows = range(start, stop) if order is None else order[start:stop]
                yield self.collate_fn([self.dataset[int(i)] for i in rows])
            return
        indices = None if order is None else self._on_devices(order)
        for start, stop in spans:
            if indices is None:
                batch = [Tensor._wrap(array[start:stop]) for array in self._arrays]
            else:
                batch = [Tensor._wrap(array[index[start:stop]])
                         for array, index in zip(self._arrays, indices)]
            if self.X is None:
                yield batch                         # a TensorDataset: a list, as PyTorch's
            else:
                yield batch[0] if self.y is None else tuple(batch)

    def _spans(self, n: int):
        """(start, stop) of this rank's rows of each batch of an epoch of ``n`` samples."""
        for start in range(0, self._batches(n) * self.batch_size, self.batch_size):
            stop = min(start + self.batch_size, n)
            if self.world_size > 1:
                share = (stop - start) // self.world_size
                if share == 0:
                    return
                start, stop = start + self.rank * share, start + (self.rank + 1) * share
            yield start, stop

    def _on_devices(self, order) -> list:
        """``order`` on the device of each array of the fast path (moved once per device)."""
        devices, moved = [backend.device_of(array) for array in self._arrays], {}
        for device in devices:
            if device not in moved:
                moved[device] = backend.to_device(order, device)
        return [moved[device] for device in devices]

    def _samples(self, rows):
        """One sample per row, unbatched (``batch_size=None``)."""
        if self._arrays is None or self.X is None:
            for i in rows:
                yield self.collate_fn(self.dataset[int(i)])
            return
        for i in rows:                                                  # DataLoader(X, y)
            sample = [Tensor._wrap(array[int(i), ...]) for array in self._arrays]
            yield sample[0] if self.y is None else tuple(sample)


def _check_worker_options(num_workers, pin_memory, timeout, worker_init_fn) -> None:
    """PyTorch's worker options, checked as PyTorch checks them (they change nothing)."""
    if not isinstance(num_workers, numbers.Integral) or isinstance(num_workers, bool) or \
            num_workers < 0:
        raise ValueError(f"DataLoader: num_workers must be an int >= 0, got {num_workers!r}")
    if not isinstance(pin_memory, bool):
        raise TypeError(f"DataLoader: pin_memory must be a bool, got {pin_memory!r}")
    if not isinstance(timeout, numbers.Real) or timeout < 0:
        raise ValueError(f"DataLoader: timeout must be a number >= 0, got {timeout!r}")
    if worker_init_fn is not None and not callable(worker_init_fn):
        raise TypeError(f"DataLoader: worker_init_fn must be callable or None, got "
                        f"{type(worker_init_fn).__name__}")


def _is_count(value) -> bool:
    """An int >= 1 (a bool is not one)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def _seed_from_gpugrad() -> int:
    """A 64-bit seed drawn from gpugrad's generator (``gpugrad.manual_seed`` sets it)."""
    u = random.uniform_array((2,), np.float64, backend.Device("cpu"))
    return (int(u[0] * 2.0**32) << 32) | int(u[1] * 2.0**32)


def default_collate(batch):
    """Stack a list of samples into a batch, as PyTorch's ``default_collate``: tensors and
    arrays are stacked along a new first dimension (tensors stay on their device, NumPy
    goes to the default device); Python floats become a float64 tensor, ints int64, bools
    bool; strings stay a list; dicts, tuples, lists and namedtuples are collated field by
    field (a tuple becomes a list, as in PyTorch). Shapes: B samples of (...) -> (B, ...).

    Example::

        >>> batch = gpugrad.data.default_collate([(np.zeros(3), 1), (np.ones(3), 0)])
        >>> [(t.shape, str(t.dtype)) for t in batch]
        [((2, 3), 'float64'), ((2,), 'int64')]
    """
    elem = batch[0]
    if isinstance(elem, Tensor) or _is_array(elem):
        return _stack(batch)
    if isinstance(elem, np.generic):
        if elem.dtype.kind not in "biufc":
            raise TypeError(_not_collatable(f"NumPy {elem.dtype}"))
        return creation.as_tensor(np.array(batch))
    if isinstance(elem, bool):
        return creation.tensor(batch, dtype=np.bool_)
    if isinstance(elem, numbers.Integral):
        return creation.tensor(batch, dtype=np.int64)
    if isinstance(elem, numbers.Real):
        return creation.tensor(batch, dtype=np.float64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, abc.Mapping):
        fields = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):            # a namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, abc.Sequence):
        sizes = {len(sample) for sample in batch}
        if len(sizes) > 1:
            raise RuntimeError(f"default_collate: the samples are sequences of different "
                               f"lengths {sorted(sizes)}; each must have the same fields")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(_not_collatable(type(elem).__name__))


def _default_convert(sample):
    """One sample with NumPy arrays and scalars made tensors, as PyTorch's
    ``default_convert`` (what ``batch_size=None`` applies): tuples become lists, dicts,
    lists and namedtuples keep their type, anything else is left as it is."""
    if isinstance(sample, (np.ndarray, np.generic)) and sample.dtype.kind in "biufc":
        return creation.as_tensor(sample)
    if isinstance(sample, abc.Mapping):
        fields = {key: _default_convert(sample[key]) for key in sample}
        try:
            return type(sample)(fields)
        except TypeError:
            return fields
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):        # a namedtuple
        return type(sample)(*(_default_convert(field) for field in sample))
    if isinstance(sample, tuple):
        return [_default_convert(field) for field in sample]
    if isinstance(sample, abc.Sequence) and not isinstance(sample, (str, bytes)):
        try:
            return type(sample)([_default_convert(field) for field in sample])
        except TypeError:
            return [_default_convert(field) for field in sample]
    return sample


def _not_collatable(what: str) -> str:
    return (f"default_collate: a sample holds a {what}; samples must hold tensors, arrays, "
            f"numbers, strings, dicts, tuples or lists (or pass collate_fn=...)")


def _stack(batch) -> Tensor:
    """Tensors or arrays of one shape, stacked along a new first dimension."""
    shapes = [tuple(s.shape) for s in batch]
    for i, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise RuntimeError(f"default_collate: sample {i} has shape {shape} but sample 0 "
                               f"has {shapes[0]}; stacking needs equal shapes (pad or crop "
                               f"them in the dataset, or pass collate_fn=...)")
    if any(isinstance(s, Tensor) and s.requires_grad for s in batch):
        from ..ops.shape import stack
        return stack(list(batch))               # keeps the graph, as torch.stack
    arrays = [s._array if isinstance(s, Tensor) else s for s in batch]
    if arrays[0].dtype.kind not in "biufc":
        raise TypeError(_not_collatable(f"array of dtype {arrays[0].dtype}"))
    backend.check_same_device("default_collate", arrays)
    stacked = backend.xp_of(arrays[0]).stack(arrays)
    return Tensor._wrap(stacked) if isinstance(batch[0], Tensor) else \
        creation.as_tensor(stacked)
