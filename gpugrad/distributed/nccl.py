"""NCCL, the GPU collectives of ``gpugrad.distributed``, through CuPy's binding.

``group.py`` uses these for CUDA tensors (MPI does the CPU ones): rank 0 makes a
``unique_id()``, sends it to the others over MPI, and each rank makes its ``communicator``;
``all_reduce`` and ``broadcast`` then work in place on contiguous CuPy arrays, on the current
CUDA stream. All of it needs CuPy with NCCL and a GPU per rank.

Example (a group of one rank: it needs a GPU and CuPy with NCCL, so CI skips it)::

    >>> import cupy                                                   # doctest: +SKIP
    >>> from gpugrad.distributed import nccl
    >>> comm = nccl.communicator(1, nccl.unique_id(), 0, gpugrad.Device("cuda:0"))  # doctest: +SKIP
    >>> x = cupy.ones(3, dtype=cupy.float32)                          # doctest: +SKIP
    >>> nccl.all_reduce(comm, x, "sum")       # the sum over one rank  # doctest: +SKIP
    >>> x                                                             # doctest: +SKIP
    array([1., 1., 1.], dtype=float32)
"""

from __future__ import annotations

from .. import backend, cupy_import

__all__ = ["unique_id", "communicator", "all_reduce", "broadcast"]

_OPS = {"sum": "NCCL_SUM", "max": "NCCL_MAX", "min": "NCCL_MIN"}
_DTYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
           "int32": "NCCL_INT32", "int64": "NCCL_INT64", "uint8": "NCCL_UINT8"}


def _library():
    """CuPy's NCCL bindings (after ``require_cupy``: a clear error when no GPU is usable)."""
    cupy_import.require_cupy()
    from cupy.cuda import nccl
    return nccl


def unique_id() -> tuple:
    """A new NCCL unique id (rank 0 makes it; the others receive it over MPI)."""
    return _library().get_unique_id()


def communicator(world_size: int, unique_id: tuple, rank: int, device: backend.Device):
    """This rank's NCCL communicator for the group, on ``device``."""
    with backend.use_device(device):
        return _library().NcclCommunicator(world_size, unique_id, rank)


def _dtype(array):
    if array.dtype.name not in _DTYPES:
        raise TypeError(f"NCCL cannot reduce {array.dtype} arrays; use one of {sorted(_DTYPES)}")
    return getattr(_library(), _DTYPES[array.dtype.name])


def all_reduce(comm, array, op: str) -> None:
    """Reduce the contiguous CuPy ``array`` in place over the group, on the current stream."""
    stream = cupy_import.require_cupy().cuda.get_current_stream().ptr
    comm.allReduce(array.data.ptr, array.data.ptr, array.size, _dtype(array),
                   getattr(_library(), _OPS[op]), stream)


def broadcast(comm, array, root: int) -> None:
    """Overwrite the contiguous CuPy ``array`` with rank ``root``'s, on the current stream."""
    stream = cupy_import.require_cupy().cuda.get_current_stream().ptr
    comm.bcast(array.data.ptr, array.size, _dtype(array), root, stream)
