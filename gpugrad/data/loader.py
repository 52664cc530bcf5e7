"""Batches: a DataLoader-style iterator over arrays on either device.

Example::

    >>> loader = DataLoader(X, y, batch_size=32, shuffle=True, seed=0)
    >>> for xb, yb in loader:            # tensors on the arrays' device
    ...     ...
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..tensor import Tensor

__all__ = ["DataLoader"]


def _array(data, name: str):
    if isinstance(data, Tensor):
        return data._array
    if isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        return data
    raise TypeError(f"DataLoader: {name} must be a tensor or an array, got {type(data).__name__}")


class DataLoader:
    """Iterates over ``(X[batch], y[batch])`` (or ``X[batch]`` alone) as tensors.

    ``shuffle`` draws a new order every epoch from a NumPy generator seeded with ``seed``
    (so a seed reproduces every epoch's order); ``drop_last`` skips a final short batch.
    Shapes: X (N, ...) and y (N, ...) -> batches (B, ...).

    For data-parallel training, ``world_size`` ranks build the loader with the same seed
    and the global ``batch_size``; rank ``rank`` gets rows ``[rank * b, (rank + 1) * b)`` of
    every global batch, b = batch_size / world_size, so the ranks together see exactly the
    batches one process would. A final short batch is split the same way, its size rounded
    down to a multiple of ``world_size`` (at most world_size - 1 rows an epoch are skipped).
    """

    def __init__(self, X, y=None, batch_size: int = 32, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None, rank: int = 0,
                 world_size: int = 1):
        self.X = _array(X, "X")
        self.y = None if y is None else _array(y, "y")
        if self.y is not None and len(self.y) != len(self.X):
            raise ValueError(f"DataLoader: X has {len(self.X)} rows but y has {len(self.y)}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"DataLoader: need 0 <= rank < world_size, got rank {rank} and "
                             f"world_size {world_size}")
        if batch_size % world_size:
            nearest = batch_size - batch_size % world_size or world_size
            raise ValueError(f"DataLoader: the global batch size {batch_size} does not split "
                             f"evenly over {world_size} ranks; use a multiple of {world_size} "
                             f"(e.g. {nearest})")
        self.rank, self.world_size = rank, world_size
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self._rng = np.random.default_rng(seed)
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.X)
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
        n = len(self.X)
        order = self._rng.permutation(n) if self.shuffle else None
        self.epoch += 1
        device = backend.device_of(self.X)
        if order is not None:
            order = backend.to_device(order, device)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            stop = min(start + self.batch_size, n)
            if self.world_size > 1:
                share = (stop - start) // self.world_size
                if share == 0:
                    break
                start, stop = start + self.rank * share, start + (self.rank + 1) * share
            index = slice(start, stop) if order is None else order[start:stop]
            xb = Tensor._wrap(self.X[index])
            if self.y is None:
                yield xb
            else:
                yield xb, Tensor._wrap(self.y[index])
