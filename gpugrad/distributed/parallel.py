"""Data parallelism: every rank holds the whole model, runs its shard of the batch, and the
gradients are averaged across ranks before the optimizer step.

Example (every rank of ``mpiexec -n 2 python train.py`` runs it; the outputs are rank 0's.
It needs mpi4py and that launch, so CI skips it). The model gets rank 0's parameters on
every rank; each rank runs its shard of the batch, ``[[1, 0]]`` on rank 0 and ``[[2, 0]]`` on
rank 1; backward averages the gradients as they are ready::

    >>> from gpugrad import distributed as dist
    >>> dist.init()                                                  # doctest: +SKIP
    >>> model = dist.DataParallel(nn.Linear(2, 1))                   # doctest: +SKIP
    >>> xb = gpugrad.tensor([[dist.rank() + 1.0, 0.0]])              # doctest: +SKIP
    >>> model(xb).sum().backward()                                   # doctest: +SKIP
    >>> model.module.weight.grad        # the mean of the shards     # doctest: +SKIP
    tensor([[1.5, 0. ]], device='cpu', dtype=float32)
"""

from __future__ import annotations

import contextlib
import hashlib
import json

import numpy as np

from .. import backend
from ..nn.module import Module
from ..tensor import Tensor
from . import group as _group

__all__ = ["DataParallel"]


class _Bucket:
    """Parameters whose gradients are averaged together through one flat buffer, in the
    order backward produces them (the model's last layers first)."""

    def __init__(self, params: list):
        self.params = params
        self.sizes = [p._array.size for p in params]
        self.nbytes = sum(p._array.nbytes for p in params)
        self.buffer = None          # kept from step to step
        self.reset()

    def reset(self):
        self.ready = set()
        self.handle = None

    def start(self):
        """Copy the gradients into the flat buffer and start its all-reduce (mean)."""
        first = self.params[0]._array
        if (self.buffer is None or self.buffer.dtype != first.dtype
                or backend.device_of(self.buffer) != backend.device_of(first)):
            self.buffer = backend.xp_of(first).empty(sum(self.sizes), first.dtype)
        offset = 0
        for p, n in zip(self.params, self.sizes):
            if p.grad is None:
                self.buffer[offset:offset + n] = 0
            else:
                self.buffer[offset:offset + n] = p.grad._array.reshape(-1)
            offset += n
        self.handle = _group.reduce_array(self.buffer, "mean", start_only=True)

    def finish(self):
        """Wait for the all-reduce and write the averages back into each ``.grad``."""
        self.handle.wait()
        offset = 0
        for p, n in zip(self.params, self.sizes):
            average = self.buffer[offset:offset + n].reshape(p._array.shape)
            if p.grad is None:
                p.grad = Tensor._wrap(average.copy())
            else:
                p.grad._array[...] = average
                p.grad._version_counter.value += 1
            offset += n
        self.reset()


def _buckets(params: list, bucket_bytes: int) -> list:
    """Consecutive parameters of one device and dtype, about ``bucket_bytes`` each."""
    buckets, current, size = [], [], 0
    for p in params:
        if current and (size + p._array.nbytes > bucket_bytes
                        or p._array.dtype != current[0]._array.dtype
                        or backend.device_of(p._array) != backend.device_of(current[0]._array)):
            buckets.append(_Bucket(current))
            current, size = [], 0
        current.append(p)
        size += p._array.nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets


def _signature(named: list) -> list:
    return [[name, list(p.shape), str(p.dtype)] for name, p in named]


def _check_same_parameters(named: list) -> None:
    """Every rank must hold the same parameters (names, shapes, dtypes): compare a digest,
    and on a mismatch every rank raises the same error, naming the first parameter where a
    rank differs from rank 0; rank 0 reports it (``mark_raised_together``)."""
    mine = json.dumps(_signature(named)).encode()
    digest = np.frombuffer(hashlib.sha256(mine).digest(), np.uint8)
    digests = _group.all_gather_array(digest)
    if (digests == digests[0]).all():
        return
    lengths = _group.all_gather_array(np.array([len(mine)], np.int64))[:, 0]
    padded = np.zeros(int(lengths.max()), np.uint8)
    padded[:len(mine)] = np.frombuffer(mine, np.uint8)
    everyone = _group.all_gather_array(padded)
    signatures = [json.loads(row[:n].tobytes().decode()) for row, n in zip(everyone, lengths)]
    other = next(r for r in range(len(signatures)) if signatures[r] != signatures[0])
    theirs, ours = signatures[0], signatures[other]
    i = next(i for i in range(max(len(theirs), len(ours)))
             if i >= len(theirs) or i >= len(ours) or theirs[i] != ours[i])
    a = theirs[i] if i < len(theirs) else None
    b = ours[i] if i < len(ours) else None
    raise _group.mark_raised_together(_group.DistributedError(
        f"DataParallel: the model differs across ranks: parameter {i} is {_shown(a)} on "
        f"rank 0 but {_shown(b)} on rank {other}. Every rank must build the same model "
        f"(same sizes, dtypes and parameter order)."))


def _shown(entry) -> str:
    return "nothing" if entry is None else f"'{entry[0]}' of shape {tuple(entry[1])}, {entry[2]}"


class DataParallel(Module):
    """Wraps ``module`` for data-parallel training over the ranks of gpugrad.distributed.

    - At construction it checks that every rank holds the same parameters (names, shapes,
      dtypes: the first mismatch is named) and copies rank 0's values to every rank.
    - During backward, gradients are averaged across ranks in flat buckets of about
      ``bucket_mib`` MiB (one collective per bucket, not per parameter); with ``overlap``
      each bucket starts as soon as all its gradients exist, while backward goes on.
      When every bucket has finished, ``.grad`` holds the averages.
    - ``sync_gradients()`` finishes whatever backward did not (parameters without gradient
      count as zeros; without ``overlap`` it does all the work); it is cheap to call always.
    - Inside ``no_sync()``, backward only accumulates locally (gradient accumulation: wrap
      all but the last micro-batch).

    ``communication`` holds the last step's collective count and the bytes each rank
    all-reduced (the size of its buckets).
    """

    def __init__(self, module: Module, bucket_mib: float = 25.0, overlap: bool = True):
        super().__init__()
        self.module = module
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise ValueError("DataParallel: the module has no parameters that require grad")
        _check_same_parameters(named)
        params = [p for _, p in named]
        for p in params:
            _group.broadcast_array(_contiguous(p), 0)
            p._version_counter.value += 1
        object.__setattr__(self, "_buckets", _buckets(params[::-1], int(bucket_mib * 2**20)))
        object.__setattr__(self, "_bucket_of", {id(p): b for b in self._buckets
                                                for p in b.params})
        object.__setattr__(self, "_syncing", True)
        object.__setattr__(self, "_averaged", False)
        object.__setattr__(self, "overlap", overlap)
        object.__setattr__(self, "communication", {"collectives": 0, "bytes": 0})
        if overlap:
            for p in params:
                p.register_post_accumulate_grad_hook(self._on_gradient)

    def forward(self, *args, **kwargs):
        if any(b.handle is not None for b in self._buckets):
            raise _group.DistributedError(
                "DataParallel: the previous backward started averaging gradients but did not "
                "finish (some parameters got no gradient); call model.sync_gradients() after "
                "backward and before the optimizer step")
        object.__setattr__(self, "_averaged", False)
        return self.module(*args, **kwargs)

    def _on_gradient(self, param) -> None:
        if not self._syncing:
            return
        object.__setattr__(self, "_averaged", False)
        bucket = self._bucket_of[id(param)]
        if bucket.handle is not None:
            raise _group.DistributedError(
                "DataParallel: a gradient arrived for a bucket whose averaging is under way "
                "(two backward passes without sync_gradients() between them); call "
                "model.sync_gradients() after each backward, or use model.no_sync()")
        bucket.ready.add(id(param))
        if len(bucket.ready) == len(bucket.params):
            self._start(bucket)
            if all(b.handle is not None for b in self._buckets):
                self.sync_gradients()

    def _start(self, bucket: _Bucket) -> None:
        if not any(b.handle is not None for b in self._buckets):
            self.communication.update(collectives=0, bytes=0)
        bucket.start()
        self.communication["collectives"] += 1
        self.communication["bytes"] += bucket.nbytes

    def sync_gradients(self) -> None:
        """Finish averaging the gradients across ranks: a no-op when backward already did
        (``overlap`` with every parameter given a gradient), otherwise the rest of it.
        Averaging twice is harmless (every rank then holds the same values)."""
        if self._averaged:
            return
        for bucket in self._buckets:
            if bucket.handle is None:
                self._start(bucket)
        for bucket in self._buckets:
            bucket.finish()
        object.__setattr__(self, "_averaged", True)

    @contextlib.contextmanager
    def no_sync(self):
        """Backward inside only accumulates gradients locally; the next backward outside
        averages the accumulated sums."""
        previous = self._syncing
        object.__setattr__(self, "_syncing", False)
        try:
            yield
        finally:
            object.__setattr__(self, "_syncing", previous)


def _contiguous(p):
    """A parameter's array, made contiguous in place if it was not (collectives need it)."""
    array = p._array
    if not array.flags.c_contiguous:
        p._array = array = backend.xp_of(array).ascontiguousarray(array)
    return array
