"""Batches: a DataLoader over arrays (on either device), over any map-style dataset, or over
an iterable-style one, with PyTorch's samplers.

Example::

    >>> X, y = gpugrad.randn(10, 3), gpugrad.arange(10)
    >>> loader = gpugrad.data.DataLoader(X, y, batch_size=4, shuffle=True, seed=0)
    >>> [(xb.shape, yb.shape) for xb, yb in loader]     # tensors on the arrays' device
    [((4, 3), (4,)), ((4, 3), (4,)), ((2, 3), (2,))]
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor
from .collate import default_collate, default_convert
from .datasets import TensorDataset
from .loader_options import (bind, check_sampling, is_array as _is_array, is_iterable_style,
                             signature)
from .samplers import BatchSampler, _check_generator, permutation

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]


def _array(data, name: str):
    if isinstance(data, Tensor):
        return data._array
    if _is_array(data):
        return data
    raise TypeError(f"DataLoader: {name} must be an array: pass gpugrad.tensor({name}) (got "
                    f"a {type(data).__name__})")


class DataLoader:
    """Iterates over batches of ``dataset``, as tensors.

    ``dataset`` is one of:

    - arrays: ``DataLoader(X, y, batch_size, shuffle, ...)`` or ``X`` alone (tensors or
      NumPy/CuPy arrays), yielding ``(X[batch], y[batch])`` or ``X[batch]``, made by one
      indexing per batch;
    - a map-style dataset (``__len__`` and ``__getitem__``: a ``TensorDataset``, a
      ``Subset``, a class returning ``(x, y)`` tuples...), whose samples ``collate_fn``
      (``default_collate``, as PyTorch's) stacks into a batch;
    - an iterable-style dataset (an ``IterableDataset``, or anything with ``__iter__`` and
      no ``__getitem__``), read in order, ``batch_size`` samples a batch (an iterator,
      such as a generator, gives one epoch; a later one raises).

    Arguments after the dataset take PyTorch's order, ``DataLoader(dataset, batch_size,
    shuffle, sampler, batch_sampler, num_workers, collate_fn, pin_memory, drop_last, timeout,
    worker_init_fn, multiprocessing_context, generator)``, so ``DataLoader(ds, 64, True)``
    shuffles batches of 64, as in PyTorch. The array form inserts ``y`` after ``X``: when
    the second argument is an array or tensor, it is ``y`` and the rest follow in the same
    order (``DataLoader(X, y, 64, True)``); ``DataLoader(X, 64)`` is ``X`` alone in batches
    of 64, and ``DataLoader(X, None)`` unbatched. ``seed``, ``rank`` and ``world_size``
    (gpugrad's) are keyword-only.

    ``batch_size`` defaults to 1, as PyTorch's, for arrays and datasets alike. A batch is a
    new tensor (a copy, as PyTorch's collate), so in-place changes to it leave the data as
    it was; a data tensor that requires grad gives batches in its graph.
    ``batch_size=None`` turns batching off, as in PyTorch: the loader yields one sample at a
    time, ``X[i]`` or ``(X[i], y[i])`` for arrays, ``collate_fn(dataset[i])`` for a dataset
    (by default ``default_convert``: NumPy arrays and scalars made tensors and tuples made
    lists); it cannot be combined with ``drop_last`` or ``world_size > 1``.

    Order: ``shuffle=True`` draws a new order every epoch: from a NumPy generator seeded
    once with ``seed`` when given (``state_dict`` saves it), else from ``generator`` (a
    ``gpugrad.Generator``) or gpugrad's global stream, drawn as each epoch starts (so
    ``gpugrad.manual_seed(s)`` before an epoch reproduces that epoch, as in PyTorch).
    ``sampler`` (any iterable of indices, e.g. a ``RandomSampler``) or ``batch_sampler``
    (lists of indices) choose the samples instead, with PyTorch's rules: ``sampler`` is
    exclusive with ``shuffle``; ``batch_sampler`` with ``batch_size``, ``shuffle``,
    ``sampler`` and ``drop_last``; an iterable-style dataset takes none of the three.
    ``drop_last`` skips a final short batch. Shapes: X (N, ...) and y (N, ...) -> batches
    (B, ...).

    PyTorch's worker options are accepted (``num_workers``, ``pin_memory``, ``timeout``,
    ``worker_init_fn``, ``multiprocessing_context``, ``prefetch_factor``,
    ``persistent_workers``, ``pin_memory_device``, ``in_order``) and change nothing: batches
    are made in the calling process, in the same order for any ``num_workers``;
    ``worker_init_fn`` is never called and ``get_worker_info()`` is None.

    For data-parallel training, ``world_size`` ranks build the loader with the same seed
    and the global ``batch_size``; rank ``rank`` gets rows ``[rank * b, (rank + 1) * b)`` of
    every global batch, b = batch_size / world_size, so the ranks together see exactly the
    batches one process would. A final short batch is split the same way, its size rounded
    down to a multiple of ``world_size`` (at most world_size - 1 rows an epoch are skipped).

    Example (PyTorch's positional order; rank 1 of 2, no shuffling)::

        >>> ds = gpugrad.data.TensorDataset(gpugrad.arange(6))
        >>> [b[0].tolist() for b in gpugrad.data.DataLoader(ds, 4, False)]
        [[0, 1, 2, 3], [4, 5]]
        >>> loader = gpugrad.data.DataLoader(gpugrad.arange(10), batch_size=4, rank=1,
        ...                                  world_size=2)
        >>> [xb.tolist() for xb in loader]      # global batches 0-3, 4-7, 8-9
        [[2, 3], [6, 7], [9]]

    Example (no batching, as PyTorch's ``batch_size=None``)::

        >>> [x.tolist() for x in gpugrad.data.DataLoader(gpugrad.arange(3), batch_size=None)]
        [0, 1, 2]
    """

    def __init__(self, dataset, *args, **options):
        y, o = bind(dataset, args, options)
        batch_size, sampler, batch_sampler = o["batch_size"], o["sampler"], o["batch_sampler"]
        shuffle, drop_last, seed = bool(o["shuffle"]), o["drop_last"], o["seed"]
        rank, world_size, collate_fn = o["rank"], o["world_size"], o["collate_fn"]
        _check_generator(o["generator"], "DataLoader")
        iterable = is_iterable_style(dataset, _is_array(dataset))
        check_sampling(o, iterable)
        unbatched = batch_size is None and batch_sampler is None   # samples one by one
        self.dataset, self._iterable = dataset, iterable
        self.collate_fn = collate_fn or (default_convert if unbatched else default_collate)
        self.X = self.y = None
        self._tensor_dataset = False    # a plain TensorDataset: its tensors read each epoch
        self._arrays = None             # the fast path: arrays indexed once per batch
        self._tensors = None            # ... and their tensors (None: an array), for grad
        if _is_array(dataset):
            self.X = _array(dataset, "X")
            self.y = None if y is None else _array(y, "y")
            if self.y is not None and len(self.y) != len(self.X):
                raise ValueError(f"DataLoader: X has {len(self.X)} rows but y has "
                                 f"{len(self.y)}")
            given = [dataset] if y is None else [dataset, y]
            if collate_fn is None:
                self._arrays = [self.X] if self.y is None else [self.X, self.y]
                self._tensors = [t if isinstance(t, Tensor) else None for t in given]
            else:
                self.dataset = TensorDataset(*given)
        elif y is not None:
            raise TypeError(f"DataLoader takes arrays X and y, or one dataset; got a "
                            f"{type(dataset).__name__} dataset and a y as well (put the "
                            f"labels in the dataset's samples)")
        elif not iterable:
            if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
                raise TypeError(f"DataLoader: {type(dataset).__name__} is not a dataset; a "
                                f"map-style one needs __len__ and __getitem__, an iterable "
                                f"one __iter__ (or pass arrays)")
            self._tensor_dataset = collate_fn is None and _plain_tensor_dataset(dataset)
        self.rank, self.world_size = rank, world_size
        self.batch_size = None if batch_size is None or batch_sampler is not None else \
            int(batch_size)                         # (None with a batch_sampler, as PyTorch)
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, \
            o["generator"]
        self.shuffle, self.drop_last, self.seed = shuffle, bool(drop_last), seed
        self._unbatched = unbatched
        self._rng = None if seed is None else np.random.default_rng(seed)
        self.epoch = 0

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        if self.sampler is not None:
            return self._batches(len(self.sampler))
        if self._iterable and not hasattr(self.dataset, "__len__"):
            raise TypeError(f"DataLoader: len() of a loader over an iterable-style dataset "
                            f"needs len() of the dataset, and {type(self.dataset).__name__} "
                            f"has no __len__")
        return self._batches(self._samples_per_epoch())

    def _samples_per_epoch(self) -> int:
        return len(self.dataset) if self.X is None else len(self.X)

    def _batches(self, n: int) -> int:
        """Batches (or, unbatched, samples) in an epoch of ``n`` samples."""
        if self.batch_size is None:
            return n
        if self.drop_last or n % self.batch_size < self.world_size:   # no (shareable) tail
            return n // self.batch_size
        return -(-n // self.batch_size)

    def state_dict(self) -> dict:
        """The epoch and the state of ``seed``'s generator (None without a seed: the order
        then comes from ``generator`` or gpugrad's stream, whose states are saved apart), so
        a resumed run shuffles as the original."""
        rng = None if self._rng is None else self._rng.bit_generator.state
        return {"epoch": self.epoch, "rng": rng}

    def load_state_dict(self, state: dict) -> None:
        """Restore ``state_dict()``; a saved generator state makes this loader shuffle from
        it from now on."""
        self.epoch = int(state["epoch"])
        if state.get("rng") is not None:
            if self._rng is None:
                self._rng = np.random.default_rng()
            self._rng.bit_generator.state = state["rng"]

    def __iter__(self):
        self.epoch += 1
        if self._tensor_dataset:        # the tensors now (``ds.tensors`` may be reassigned)
            self._tensors = list(self.dataset.tensors)
            self._arrays = [t._array for t in self._tensors]
        if self._iterable:
            yield from self._from_iterable()
        elif self.batch_sampler is not None:
            for rows in self.batch_sampler:
                yield self._fetch(rows)
        elif self.sampler is not None:
            if self._unbatched:
                yield from self._samples(self.sampler)
            else:
                for rows in self._shares(BatchSampler(self.sampler, self.batch_size,
                                                      self.drop_last)):
                    yield self._fetch(rows)
        else:
            n = self._samples_per_epoch()
            order = self._order(n)
            if self._unbatched:
                yield from self._samples(range(n) if order is None else order)
            else:
                yield from self._default_batches(n, order)

    def _order(self, n: int):
        """This epoch's order of the ``n`` samples (None: in order)."""
        if not self.shuffle:
            return None
        if self._rng is not None:
            return self._rng.permutation(n)
        return permutation(n, self.generator)

    def _default_batches(self, n: int, order):
        """The batches of an epoch without a sampler: index spans, on the fast path."""
        spans = self._spans(n)
        if self._arrays is None:
            for start, stop in spans:
                yield self._collated(range(start, stop) if order is None else
                                     order[start:stop])
            return
        grads = self._grads()
        indices = None if order is None else self._on_devices(order)
        if any(grads):
            for start, stop in spans:
                batch = [self._take(k, slice(start, stop) if indices is None else
                                    indices[k][start:stop], grad)
                         for k, grad in enumerate(grads)]
                yield self._packed(batch)
            return
        arrays, wrap = self._arrays, Tensor._wrap                   # the fast path
        for start, stop in spans:
            if indices is None:                     # a copy, as PyTorch's collate makes
                batch = [wrap(array[start:stop].copy()) for array in arrays]
            else:
                batch = [wrap(array[index[start:stop]]) for array, index in zip(arrays,
                                                                                 indices)]
            if self.X is None:
                yield batch                         # a TensorDataset: a list, as PyTorch's
            else:
                yield batch[0] if self.y is None else tuple(batch)

    def _grads(self) -> list:
        """Per fast-path array: whether its tensor requires grad (its batches then index the
        tensor, in the graph, as PyTorch's collate)."""
        return [t is not None and t.requires_grad for t in self._tensors]

    def _take(self, k: int, index, grad: bool) -> Tensor:
        """Rows ``index`` (a slice, or indices on the array's device) of fast-path array
        ``k`` as a new tensor: a copy (basic slicing alone would share the data's memory)."""
        if grad:
            rows = self._tensors[k][index]
            return rows.clone() if isinstance(index, slice) else rows
        rows = self._arrays[k][index]
        return Tensor._wrap(rows.copy() if isinstance(index, slice) else rows)

    def _packed(self, batch: list):
        if self.X is None:
            return batch                            # a TensorDataset: a list, as PyTorch's
        return batch[0] if self.y is None else tuple(batch)

    def _fetch(self, rows):
        """The batch of the samples at the indices ``rows``."""
        if self._arrays is None:
            return self._collated(rows)
        index = np.asarray(rows, dtype=np.int64)
        indices = self._on_devices(index)
        return self._packed([self._take(k, indices[k], grad)
                             for k, grad in enumerate(self._grads())])

    def _collated(self, rows):
        """``collate_fn`` of the samples at ``rows`` (by ``__getitems__`` if the dataset
        has it, as PyTorch's)."""
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return self.collate_fn(getitems([_key(i) for i in rows]))
        return self.collate_fn([self.dataset[_key(i)] for i in rows])

    def _from_iterable(self):
        """The batches (or samples) of an iterable-style dataset, read in order. An iterator
        (a generator...) gives one epoch: a later epoch that finds it empty raises."""
        read = 0
        if self._unbatched:
            for sample in self.dataset:
                read += 1
                yield self.collate_fn(sample)
        else:
            batches = BatchSampler(self.dataset, self.batch_size, self.drop_last)
            for samples in self._shares(batches):
                read += 1
                yield self.collate_fn(samples)
        if not read and self.epoch > 1 and hasattr(self.dataset, "__next__"):
            raise RuntimeError(f"DataLoader: the dataset is an iterator "
                               f"({type(self.dataset).__name__}), read up in epoch 1, so epoch "
                               f"{self.epoch} has no batches; wrap it in an IterableDataset "
                               f"whose __iter__ makes a new one each epoch (or pass a list)")

    def _shares(self, batches):
        """This rank's share of each global batch (a list) in ``batches``; a final batch
        too short to share ends the epoch."""
        for rows in batches:
            if self.world_size > 1:
                share = len(rows) // self.world_size
                if share == 0:
                    return
                rows = rows[self.rank * share:(self.rank + 1) * share]
            yield rows

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
                yield self.collate_fn(self.dataset[_key(i)])
            return
        grads = self._grads()
        for i in rows:                                                  # DataLoader(X, y)
            sample = [self._tensors[k][int(i)] if grad else
                      Tensor._wrap(array[int(i), ...])
                      for k, (array, grad) in enumerate(zip(self._arrays, grads))]
            yield sample[0] if self.y is None else tuple(sample)


DataLoader.__init__.__signature__ = signature()


def _key(i):
    """A sampler's index as the dataset gets it (NumPy ints made Python ints)."""
    return int(i) if isinstance(i, np.integer) else i


def _plain_tensor_dataset(dataset) -> bool:
    """A TensorDataset whose samples are its tensors' rows: the fast path indexes the tensors
    once per batch. A subclass that overrides ``__getitem__``, ``__getitems__`` or
    ``__len__`` (a transform, noise...) goes through its own methods, as in PyTorch."""
    cls = type(dataset)
    return isinstance(dataset, TensorDataset) and all(
        getattr(cls, name, None) is getattr(TensorDataset, name, None)
        for name in ("__getitem__", "__getitems__", "__len__"))


def get_worker_info():
    """None: gpugrad's DataLoader makes every batch in the calling process (PyTorch's
    ``get_worker_info`` is None there too). Example::

        >>> gpugrad.data.get_worker_info() is None
        True
    """
    return None
