"""What a training run (``gpugrad train --distributed``) needs to share its work across
ranks; with one process and no ``--distributed`` every method is the single-process case.

Example::

    job = Job(distributed=True)            # joins the MPI group
    loader = DataLoader(X, y, 64, shuffle=True, seed=0, **job.shard_of_batches())
    model = job.wrap(model)                # DataParallel when there are ranks to average over
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import group
from .parallel import DataParallel

__all__ = ["Job"]


class Job:
    """The ranks of one training run: which one this is and how they combine results."""

    def __init__(self, distributed: bool):
        self.distributed = distributed
        if distributed:
            group.init()
        self.rank = group.rank() if distributed else 0
        self.size = group.world_size() if distributed else 1

    @property
    def is_main(self) -> bool:
        """Only the main rank prints and writes files."""
        return self.rank == 0

    def device(self, device: backend.Device) -> backend.Device:
        """One GPU per rank: ``cuda`` becomes ``cuda:<rank modulo the GPU count>``."""
        if not self.distributed or device.type != "cuda" or self.size == 1:
            return device
        return backend.Device(f"cuda:{self.rank % backend.cuda_device_count()}")

    def shard_of_batches(self) -> dict:
        """DataLoader arguments giving this rank its share of every global batch."""
        return {"rank": self.rank, "world_size": self.size}

    def wrap(self, model):
        return DataParallel(model) if self.distributed else model

    def rows(self, n: int) -> slice:
        """This rank's contiguous share of ``n`` evaluation rows."""
        per = -(-n // self.size)
        return slice(self.rank * per, min(n, (self.rank + 1) * per))

    def total(self, values: list, op: str = "sum") -> list:
        """``values`` (numbers) combined over the ranks with ``op`` ("sum" or "max")."""
        if not self.distributed:
            return list(values)
        t = Tensor._wrap(np.asarray(values, dtype=np.float64))
        group.all_reduce(t, op=op)
        return t._array.tolist()
