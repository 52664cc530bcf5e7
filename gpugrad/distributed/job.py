"""What a training run (``gpugrad train --distributed``) needs to share its work across
ranks; with one process and no ``--distributed`` every method is the single-process case.

Errors: where every rank runs the same code (loading data, building the model), the ranks
meet in ``stop_together`` and stop together, and the error is reported once, by one rank
(rank 0 when every rank hit it), instead of once per rank.

Example::

    job = Job(distributed=True)            # joins the MPI group
    loader = DataLoader(X, y, shuffle=True, seed=0, **job.shard_of_batches(64))
    model = job.wrap(model)                # DataParallel when there are ranks to average over
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import group
from .parallel import DataParallel

__all__ = ["Job", "ElsewhereError", "launcher_rank"]

# where launchers put the rank of a process (MPICH/Hydra and Intel MPI, Open MPI, PMIx, Slurm)
_RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID")


class ElsewhereError(RuntimeError):
    """This rank stops because another rank failed; that rank reports why."""


def launcher_rank() -> int:
    """This process's rank: the group's once it is initialized, else what the launcher
    (mpiexec, srun) put in the environment, else 0. Needs no MPI: it works before ``init``
    and when ``init`` itself fails.

    Example::

        >>> from gpugrad.distributed.job import launcher_rank
        >>> launcher_rank()                  # a plain process (no launcher): rank 0
        0
    """
    if group.is_initialized():
        return group.rank()
    for name in _RANK_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 0


class Job:
    """The ranks of one training run: which one this is and how they combine results."""

    def __init__(self, distributed: bool):
        self.distributed = distributed
        if distributed:
            try:
                group.init()
            except group.DistributedError as exc:    # no MPI, or a wrong launch: the same
                group.mark_raised_together(exc)      # on every rank, so said once
                raise
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

    def shard_of_batches(self, batch_size: int) -> dict:
        """DataLoader arguments giving this rank its share of every global batch of
        ``batch_size`` rows (``--batch-size``), which must split evenly over the ranks.

        Example::

            >>> from gpugrad.distributed.job import Job
            >>> Job(distributed=False).shard_of_batches(64)
            {'batch_size': 64, 'rank': 0, 'world_size': 1}
        """
        if batch_size % self.size:
            nearest = batch_size - batch_size % self.size or self.size
            raise ValueError(f"--batch-size {batch_size} (the global batch, shared by the "
                             f"ranks) does not split evenly over {self.size} ranks; use a "
                             f"multiple of {self.size} (e.g. --batch-size {nearest})")
        return {"batch_size": batch_size, "rank": self.rank, "world_size": self.size}

    def wrap(self, model):
        return DataParallel(model) if self.distributed else model

    def rows(self, n: int) -> slice:
        """This rank's contiguous share of ``n`` evaluation rows."""
        per = -(-n // self.size)
        return slice(self.rank * per, min(n, (self.rank + 1) * per))

    @contextlib.contextmanager
    def stop_together(self):
        """Every rank runs the block and then meets the others: if any rank failed in it,
        every rank raises, the lowest failing rank its own error and the others an
        ``ElsewhereError``; all of them carry the rank that reports (``group.reporting_rank``).
        Without ``distributed`` it is a plain block.

        Use it only around code that every rank runs and in which no rank can fail alone
        while the others wait in a collective (DataParallel's model check, a collective,
        fails on every rank together).
        """
        try:
            yield
        except Exception as exc:
            self._meet(exc)
            raise
        self._meet(None)

    def _meet(self, error: Exception | None) -> None:
        if not self.distributed:
            return
        failed = [0.0] * self.size
        failed[self.rank] = 1.0 if error is not None else 0.0
        failed = self.total(failed, op="max")
        if not any(failed):
            return
        reporter = failed.index(1.0)
        if reporter != self.rank:
            error = ElsewhereError(f"rank {reporter} failed; it reports why")
        raise group.mark_raised_together(error, reporter)

    def total(self, values: list, op: str = "sum") -> list:
        """``values`` (numbers) combined over the ranks with ``op`` ("sum", "max" or
        "min")."""
        if not self.distributed:
            return list(values)
        t = Tensor._wrap(np.asarray(values, dtype=np.float64))
        group.all_reduce(t, op=op)
        return t._array.tolist()
