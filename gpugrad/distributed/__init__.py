"""Data-parallel training over processes (MPI) and GPUs (NCCL).

Launch one process per rank with MPI; every rank runs the same script::

    mpiexec -n 2 gpugrad train --distributed --data digits
    mpiexec -n 4 python train.py        # with dist.init() and DataParallel inside

``init()`` joins the group; ``rank()``, ``world_size()``, ``is_main()``, ``barrier()``;
``all_reduce(t, op)`` and ``broadcast(t, src)`` work in place on tensors (MPI on CPU, NCCL
on CUDA); ``DataParallel(model)`` averages gradients across ranks in buckets during
backward; ``DataLoader(..., rank=dist.rank(), world_size=dist.world_size())`` gives each
rank its shard of every global batch.
"""

from .group import (DistributedError, abort, all_reduce, barrier, broadcast, init,
                    is_initialized, is_main, rank, world_size)
from .parallel import DataParallel

__all__ = ["DistributedError", "init", "is_initialized", "rank", "world_size", "is_main",
           "barrier", "all_reduce", "broadcast", "abort", "DataParallel"]
