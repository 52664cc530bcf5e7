"""The process group: which rank this process is, how many there are, and the collectives.

Processes come from MPI (``mpiexec -n 4 python train.py``; the ``mpich`` wheel provides
``mpiexec``). Collectives on CPU tensors are MPI's on their NumPy buffers; on CUDA tensors
they are NCCL's (``nccl.py``), its communicator set up on first use with the unique id
sent over MPI.

Example (every rank of ``mpiexec -n 2 python script.py`` runs it; the outputs are rank 0's.
It needs mpi4py and that launch, so CI skips it; tests/test_distributed.py runs such
scripts under mpiexec)::

    >>> from gpugrad import distributed as dist
    >>> dist.init()                                              # doctest: +SKIP
    >>> dist.rank(), dist.world_size()                           # doctest: +SKIP
    (0, 2)
    >>> t = gpugrad.tensor([float(dist.rank() + 1)])             # doctest: +SKIP
    >>> dist.all_reduce(t, op="sum")    # 1 + 2, on every rank   # doctest: +SKIP
    tensor([3.], device='cpu', dtype=float32)
"""

from __future__ import annotations

import os
import stat
import sys
import time
import traceback

import numpy as np

from .. import backend
from ..autograd.compile_mode import refuse_in_compile
from ..tensor import Tensor
from . import nccl

__all__ = ["DistributedError", "init", "is_initialized", "rank", "world_size", "is_main",
           "barrier", "all_reduce", "broadcast", "abort", "mark_raised_together",
           "reporting_rank"]

OPS = ("sum", "mean", "max", "min")


class DistributedError(RuntimeError):
    """Distributed set-up or use went wrong (no MPI, wrong launch, mismatched ranks)."""


class _Group:
    def __init__(self, mpi, comm):
        self.mpi, self.comm = mpi, comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.nccl = {}              # Device -> NCCL communicator, made on first use


_group: _Group | None = None


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise DistributedError(
            f"gpugrad.distributed needs mpi4py ({exc}). Install it with an MPI library: "
            f"pip install 'gpugrad[distributed]' (mpi4py and the mpich wheel, which provides "
            f"mpiexec), then launch with: mpiexec -n 2 python your_script.py") from None
    return MPI


def init(world_size: int | None = None, abort_on_error: bool = True) -> None:
    """Join the group of processes MPI launched (call once per process, before any other
    function here). ``world_size``, if given, is checked against the launch.

    With ``abort_on_error`` (the default) an uncaught exception on any rank aborts every
    rank (``MPI_Abort``) instead of leaving the others waiting in a collective forever;
    one that every rank raised together (``mark_raised_together``) is reported once and
    ends every rank without an abort.
    """
    global _group
    MPI = _import_mpi()
    if _group is None:
        _group = _Group(MPI, MPI.COMM_WORLD)
        if abort_on_error and _group.size > 1:
            _install_abort_hook(_group)
    if world_size is not None and world_size != _group.size:
        launched = ("without a launcher (a group of 1)" if _group.size == 1
                    else f"in a group of {_group.size}")
        raise DistributedError(
            f"asked for {world_size} processes but this one was started {launched}; launch "
            f"with: mpiexec -n {world_size} <your command>")


def _install_abort_hook(group: _Group) -> None:
    previous = sys.excepthook

    def abort(kind, value, tb):
        reporter = reporting_rank(value)
        if reporter is not None:
            # Every rank raised this error together (see mark_raised_together), so none waits
            # in a collective: the reporter says it once and every rank ends normally, which,
            # unlike MPI_Abort, lets mpiexec pass on all that was written.
            if reporter == group.rank:
                _write_stderr_at_once(
                    f"gpugrad.distributed: every rank of {group.size} stopped with this "
                    f"error; rank {reporter} reports it\n"
                    + "".join(traceback.format_exception(kind, value, tb)))
            return
        # The report goes out in one write before MPI_Abort: another rank's abort can kill
        # this process at any moment, and a report split over several writes would arrive
        # cut after its first line.
        report = (f"gpugrad.distributed: rank {group.rank} of {group.size} failed; aborting "
                  f"every rank\n" + "".join(traceback.format_exception(kind, value, tb)))
        _write_stderr_at_once(report)
        _wait_until_stderr_is_read()
        group.comm.Abort(1)
        previous(kind, value, tb)

    sys.excepthook = abort


def mark_raised_together(error: BaseException, reporter: int = 0) -> BaseException:
    """Mark ``error`` as raised by every rank at the same point (after a check that every
    rank made together, such as DataParallel's model check); returns it. Uncaught, it is
    then reported once, by rank ``reporter``, and every rank ends with exit status 1
    without MPI_Abort: no rank is left waiting, and nothing written is lost.

    Example::

        >>> from gpugrad.distributed.group import mark_raised_together
        >>> error = mark_raised_together(ValueError("the ranks disagree"))
        >>> error.gpugrad_reporting_rank
        0
    """
    error.gpugrad_reporting_rank = reporter
    return error


def reporting_rank(error: BaseException) -> int | None:
    """The rank that reports ``error``: set on errors every rank raised together (see
    ``mark_raised_together``); None for an error of this rank alone (it reports it itself)."""
    return getattr(error, "gpugrad_reporting_rank", None)


def _write_stderr_at_once(text: str) -> None:
    sys.stderr.flush()
    data = text.encode("utf-8", "replace")
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):      # stderr replaced by an object
        sys.stderr.write(text)
        sys.stderr.flush()
        return
    while data:
        data = data[os.write(fd, data):]


def abort(code: int = 1) -> None:
    """End every rank now (after an error on this one), so that none waits forever in a
    collective; does nothing without a group of several ranks."""
    if _group is not None and _group.size > 1:
        sys.stderr.flush()
        _wait_until_stderr_is_read()
        _group.comm.Abort(code)


def _wait_until_stderr_is_read(limit_s: float = 2.0) -> None:
    """Wait, at most ``limit_s``, until the reader of this process's stderr pipe (mpiexec's
    proxy) has taken everything written to it: MPI_Abort ends that reader too, and what it
    had not read yet was lost (about 1 run in 30 on a busy machine)."""
    try:
        import fcntl
        import struct
        import termios
        fd = sys.stderr.fileno()
        mode = os.fstat(fd).st_mode
    except (ImportError, AttributeError, OSError, ValueError):     # no pipe to wait for
        return
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        try:
            unread = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]
        except OSError:
            return
        if unread <= 0:
            return
        time.sleep(0.001)


def is_initialized() -> bool:
    return _group is not None


def _require() -> _Group:
    if _group is None:
        raise DistributedError("gpugrad.distributed is not initialized: call "
                               "gpugrad.distributed.init() first")
    return _group


def rank() -> int:
    """This process's index in the group, 0 to world_size() - 1."""
    return _require().rank


def world_size() -> int:
    """The number of processes in the group."""
    return _require().size


def is_main() -> bool:
    """True on rank 0, the rank that prints and writes files."""
    return _require().rank == 0


def barrier() -> None:
    """Wait until every rank has reached this call."""
    _require().comm.Barrier()


# ---------------------------------------------------------------------------------------------
# Collectives on tensors (in place, as torch.distributed's)
# ---------------------------------------------------------------------------------------------

def _check(tensor, what: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what} takes a gpugrad Tensor, got {type(tensor).__name__}")


def all_reduce(tensor, op: str = "sum"):
    """Replace ``tensor`` on every rank with the element-wise ``op`` ("sum", "mean", "max"
    or "min") of its values on all ranks; returns it. Shapes must agree across ranks."""
    _check(tensor, "all_reduce")
    if op not in OPS:
        raise ValueError(f"all_reduce: op must be one of {OPS}, got {op!r}")
    if op == "mean" and tensor.dtype.kind not in "fc":
        raise TypeError(f"all_reduce(op='mean') of a {tensor.dtype} tensor: convert it to a "
                        f"float type first, or use op='sum'")
    _require()
    _write(tensor, lambda a: reduce_array(a, op).wait())
    return tensor


def broadcast(tensor, src: int = 0):
    """Replace ``tensor`` on every rank with rank ``src``'s; returns it."""
    _check(tensor, "broadcast")
    group = _require()
    if not 0 <= src < group.size:
        raise ValueError(f"broadcast: src must be a rank in 0..{group.size - 1}, got {src}")
    _write(tensor, lambda a: broadcast_array(a, src))
    return tensor


def _write(tensor, collective) -> None:
    """Run ``collective`` on a contiguous buffer holding ``tensor``'s values, then put them
    back and count the write on the tensor's version."""
    array = tensor._array
    xp = backend.xp_of(array)
    buffer = array if array.flags.c_contiguous else xp.ascontiguousarray(array)
    collective(buffer)
    if buffer is not array:
        array[...] = buffer
    tensor._version_counter.value += 1


class _Done:
    def wait(self):
        pass


class _MpiRequest:
    def __init__(self, request, array, op: str, size: int):
        self.request, self.array, self.op, self.size = request, array, op, size

    def wait(self):
        self.request.Wait()
        if self.op == "mean":
            self.array /= self.size


def reduce_array(array, op: str, start_only: bool = False):
    """Reduce the contiguous NumPy or CuPy ``array`` in place over the group; returns a
    handle whose ``wait()`` finishes it. On CPU with ``start_only`` the MPI reduction runs
    in the background until ``wait()``; NCCL always runs on the current CUDA stream."""
    _refuse_in_compile()
    group = _require()
    if isinstance(array, np.ndarray):
        mpi_op = {"sum": group.mpi.SUM, "mean": group.mpi.SUM, "max": group.mpi.MAX,
                  "min": group.mpi.MIN}[op]
        request = group.comm.Iallreduce(group.mpi.IN_PLACE, array, op=mpi_op)
        handle = _MpiRequest(request, array, op, group.size)
        if not start_only:
            handle.wait()
            return _Done()
        return handle
    nccl.all_reduce(_nccl(group, array), array, "sum" if op == "mean" else op)
    if op == "mean":
        array /= group.size
    return _Done()


def _refuse_in_compile() -> None:
    refuse_in_compile("a collective across ranks (all-reduce, broadcast; DataParallel's "
                      "gradient averaging)", "run distributed steps eagerly")


def broadcast_array(array, src: int) -> None:
    """Overwrite the contiguous NumPy or CuPy ``array`` with rank ``src``'s."""
    _refuse_in_compile()
    group = _require()
    if isinstance(array, np.ndarray):
        group.comm.Bcast(array, root=src)
    else:
        nccl.broadcast(_nccl(group, array), array, src)


def all_gather_array(array: np.ndarray) -> np.ndarray:
    """Every rank's copy of the NumPy ``array`` (same shape everywhere), stacked: (P, ...)."""
    group = _require()
    out = np.empty((group.size,) + array.shape, array.dtype)
    group.comm.Allgather(np.ascontiguousarray(array), out)
    return out


def _nccl(group: _Group, array):
    device = backend.device_of(array)
    if device not in group.nccl:
        unique_id = np.zeros(128, np.int64)
        if group.rank == 0:
            unique_id[:] = nccl.unique_id()
        group.comm.Bcast(unique_id, root=0)
        group.nccl[device] = nccl.communicator(group.size, tuple(unique_id.tolist()),
                                               group.rank, device)
    return group.nccl[device]
