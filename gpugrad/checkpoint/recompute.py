"""Gradient checkpointing: run a function without keeping what its ops save for backward,
and recompute it when the backward pass first needs one of those values.

It is built on ``saved_tensors_hooks`` (as PyTorch's non-reentrant checkpoint): the graph
is recorded as usual, only the saved values are dropped. So parameters used inside get
gradients even when no input requires grad, ``backward()``, ``autograd.grad`` and
``create_graph=True`` all work, and checkpoints nest.

Example::

    >>> from gpugrad.checkpoint import checkpoint
    >>> layer = nn.Linear(3, 3)
    >>> x = gpugrad.randn(2, 3, requires_grad=True)
    >>> y = checkpoint(lambda t: layer(t).relu(), x)    # keeps nothing for backward...
    >>> y.sum().backward()                              # ...and runs again here instead
    >>> x.grad.shape, layer.weight.grad.shape
    ((2, 3), (3, 3))
"""

from __future__ import annotations

import contextlib
import threading

from .. import amp
from ..autograd.graph import SavedTensor
from ..autograd.saved_hooks import checkpoint_recomputing, saved_tensors_hooks
from ..autograd.mode import enable_grad, is_grad_enabled
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "is_recomputing", "CheckpointError",
           "segment_bounds"]


class CheckpointError(RuntimeError):
    """The recomputation of a checkpointed function differed from its first run."""


class _State(threading.local):
    depth = 0


_state = _State()


@contextlib.contextmanager
def _recomputing():
    """Inside, ``is_recomputing()`` is true (the planner's profiling runs use it too)."""
    _state.depth += 1
    try:
        yield
    finally:
        _state.depth -= 1


def is_recomputing() -> bool:
    """True while a checkpointed function is being run again for the backward pass; layers
    with side effects (a counter, running statistics) can skip them then."""
    return _state.depth > 0


class _Handle:
    """What the graph keeps for one dropped value: where to find it after recomputation."""

    __slots__ = ("frame", "index")

    def __init__(self, frame, index: int):
        self.frame, self.index = frame, index

    def release(self):
        self.frame.release(self.index)


def _saved(value):
    """Tensors are kept as any op keeps its inputs (an enclosing checkpoint drops them too,
    and in-place changes are detected); anything else as is."""
    return SavedTensor(value, is_output=False) if isinstance(value, Tensor) else value


def _restored(value, owner):
    return value.unpack(owner, what="input") if isinstance(value, SavedTensor) else value


class _Frame:
    """One checkpointed call: its function, inputs and RNG state, the (shape, dtype) of each
    value it dropped, and after recomputation the recomputed values."""

    def __init__(self, fn, args, kwargs, preserve_rng_state: bool):
        self.fn = fn
        self.args = [_saved(a) for a in args]
        self.kwargs = {k: _saved(v) for k, v in kwargs.items()}
        self.rng = get_rng_state() if preserve_rng_state else None
        self.autocast = (amp.get_autocast_dtype(), amp.is_autocast_enabled())  # as it ran
        self.meta: list = []
        self.values: dict = {}
        self.released: set = set()
        self.recomputed = False
        self.with_graph = False

    def name(self) -> str:
        """How errors about this call's saved inputs name it."""
        return f"checkpoint({_name(self.fn)})"

    def pack(self, tensor) -> _Handle:
        self.meta.append((tuple(tensor.shape), tensor.dtype))
        return _Handle(self, len(self.meta) - 1)

    def release(self, index: int):
        """The graph is done with value ``index``; once it is done with all of them, the
        inputs go too (an enclosing checkpoint frees its copy of them then)."""
        self.values.pop(index, None)
        self.released.add(index)
        if len(self.released) == len(self.meta) and self.args is not None:
            for value in (*self.args, *self.kwargs.values()):
                if isinstance(value, SavedTensor):
                    value.release()
            self.args = self.kwargs = None

    def unpack(self, handle: _Handle):
        # create_graph needs the recomputed values to carry their graph; a plain backward
        # only their values (and then no graph is built)
        if not self.recomputed or (is_grad_enabled() and not self.with_graph):
            self._recompute(with_graph=is_grad_enabled())
        try:
            return self.values[handle.index]
        except KeyError:
            raise CheckpointError(
                f"checkpoint: the recomputation of {_name(self.fn)} saved fewer values "
                f"({len(self.values)}) than its first run ({len(self.meta)}); the function "
                f"must compute the same thing both times (no data-dependent branches on "
                f"state that changed in between)") from None

    def _recompute(self, with_graph: bool):
        if self.args is None:
            raise CheckpointError(f"checkpoint: {_name(self.fn)} was already released; pass "
                                  f"retain_graph=True to go through it again")
        args = [_restored(a, self) for a in self.args]
        kwargs = {k: _restored(v, self) for k, v in self.kwargs.items()}
        captured = []

        def capture(tensor):
            i = len(captured)
            if i >= len(self.meta):
                raise CheckpointError(f"checkpoint: the recomputation of {_name(self.fn)} "
                                      f"saved more values than its first run "
                                      f"({len(self.meta)})")
            shape, dtype = self.meta[i]
            if (tuple(tensor.shape), tensor.dtype) != (shape, dtype):
                raise CheckpointError(
                    f"checkpoint: the recomputation of {_name(self.fn)} differs from its "
                    f"first run: saved value {i} has shape {tuple(tensor.shape)} and dtype "
                    f"{tensor.dtype}, but shape {shape} and dtype {dtype} the first time")
            captured.append((tensor, tensor._version_counter.value))
            if not with_graph:
                return None
            # an op's own output (no graph yet) is kept as a graph-free alias: keeping the
            # tensor itself would close a reference cycle through its node
            fresh = tensor.grad_fn is None and not tensor._requires_grad
            return _cut(tensor) if fresh else tensor

        outer_rng = get_rng_state()
        try:
            if self.rng is not None:
                set_rng_state(self.rng)
            graph_free = contextlib.nullcontext() if with_graph else checkpoint_recomputing()
            with _recomputing(), enable_grad(), amp.autocast(*self.autocast), graph_free, \
                    saved_tensors_hooks(capture, lambda t: t):
                self.fn(*args, **kwargs)
        finally:
            set_rng_state(outer_rng)
        if len(captured) != len(self.meta):
            raise CheckpointError(f"checkpoint: the recomputation of {_name(self.fn)} saved "
                                  f"{len(captured)} values, its first run {len(self.meta)}")
        for i, (tensor, version) in enumerate(captured):
            if tensor._version_counter.value != version:
                raise RuntimeError(
                    f"checkpoint: a value {_name(self.fn)} saves for backward (shape "
                    f"{tuple(tensor.shape)}, {tensor.dtype}) is modified by an in-place "
                    f"operation later in the function; compute it out of place (y = x + 1 "
                    f"rather than x += 1)")
        self.values = {i: (t if with_graph else _cut(t)) for i, (t, _) in enumerate(captured)
                       if i not in self.released}
        self.recomputed, self.with_graph = True, with_graph


def _cut(t):
    """``t`` without its (recomputed) graph, still marked as depending on something that
    requires grad: a nested checkpoint recomputing from it must save what the first run
    saved."""
    out = t.detach()
    out._tangents = t._tangents
    out._requires_grad = t._requires_grad
    return out


def _name(fn) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__


def checkpoint(fn, *args, preserve_rng_state: bool = True, use_reentrant=None,
               context_fn=None, determinism_check: str = "default", debug: bool = False,
               **kwargs):
    """``fn(*args, **kwargs)``, keeping none of the values its ops save for backward; they
    are recomputed (by running ``fn`` again) when backward first needs one.

    With ``preserve_rng_state``, the recomputation sees the random state of the first run,
    so Dropout masks are the same. Under ``no_grad`` it is a plain call. It works as
    PyTorch's non-reentrant checkpoint (``use_reentrant=False``, through saved-tensor
    hooks), whatever ``use_reentrant`` says: the gradients are the same, and it also
    works with ``autograd.grad`` and inputs that do not require grad. PyTorch's
    ``determinism_check`` and ``debug`` are accepted (nothing is checked or traced);
    ``context_fn`` (selective checkpointing) is not supported.

    Example::

        >>> from gpugrad.checkpoint import checkpoint
        >>> calls = []
        >>> def block(t):
        ...     calls.append(1)
        ...     return (t * t).sum()
        >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        >>> checkpoint(block, x).backward()
        >>> len(calls), x.grad.tolist()        # run twice: forward, then again in backward
        (2, [2.0, 4.0])
    """
    _check_torch_options(use_reentrant, context_fn, determinism_check, debug)
    if not is_grad_enabled():
        return fn(*args, **kwargs)
    frame = _Frame(fn, args, kwargs, preserve_rng_state)
    with saved_tensors_hooks(frame.pack, frame.unpack):
        return fn(*args, **kwargs)


def _check_torch_options(use_reentrant, context_fn, determinism_check, debug) -> None:
    """Refuse PyTorch checkpoint options this checkpoint cannot honour, by name."""
    if use_reentrant not in (None, True, False):
        raise TypeError(f"checkpoint: use_reentrant must be True, False or None, got "
                        f"{use_reentrant!r}")
    if context_fn is not None:
        raise NotImplementedError("checkpoint: context_fn (PyTorch's selective activation "
                                  "checkpointing) is not supported; leave it out")
    if determinism_check not in ("default", "none"):
        raise ValueError(f"checkpoint: determinism_check must be 'default' or 'none', got "
                         f"{determinism_check!r}")
    if not isinstance(debug, bool):
        raise TypeError(f"checkpoint: debug must be a bool, got {type(debug).__name__}")


def checkpoint_sequential(functions, segments: int, input, use_reentrant=None,
                          preserve_rng_state: bool = True):
    """Run ``functions`` (a Sequential, or a list of modules or callables) on ``input`` one
    after another, split as PyTorch's ``torch.utils.checkpoint.checkpoint_sequential``
    splits them: ``segments - 1`` chunks of ``len(functions) // segments`` run under
    ``checkpoint`` (only their inputs stay in memory), and the rest, the last chunk (it
    may be the longest), runs outside any checkpoint (see ``segment_bounds``). PyTorch
    refuses more segments than functions; here there is then one function per segment.

    A Sequential's chunks run as Sequentials, so a Linear followed by its ReLU inside one
    chunk is one ``linear_relu`` record; a chunk boundary between them separates them. For
    an ``nn.MLP`` pass ``model.blocks()`` (one item per Linear and its activation), so the
    segments hold whole blocks.

    Shapes: ``input`` (N, ...) -> what the last function returns. Example::

        >>> from gpugrad.checkpoint import checkpoint_sequential
        >>> model = nn.MLP([4, 8, 8, 8, 2])               # 4 blocks: Linear + ReLU x 3, Linear
        >>> out = checkpoint_sequential(model.blocks(), 3, gpugrad.randn(16, 4))
        >>> out.shape                       # 3 segments: blocks 0 and 1 checkpointed, 2-3 not
        (16, 2)
    """
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be >= 1, got {segments}")
    _check_torch_options(use_reentrant, None, "default", False)
    # a Sequential (a sliceable module) runs its chunks as Sequentials: pairs stay fused
    sliced = callable(functions) and hasattr(functions, "__getitem__")
    items = functions if sliced else list(functions)
    bounds = segment_bounds(len(items), segments)
    for i, (start, stop) in enumerate(bounds):
        fn, args = (items[start:stop], ()) if sliced else (_run_chunk, (items[start:stop],))
        if i == len(bounds) - 1:
            input = fn(*args, input)
        else:
            input = checkpoint(fn, *args, input, preserve_rng_state=preserve_rng_state)
    return input


def segment_bounds(n: int, segments: int) -> list:
    """PyTorch's split of ``n`` functions into ``segments``, as (start, stop) ranges: the
    first ``segments - 1`` hold ``n // segments`` each (the ones ``checkpoint_sequential``
    checkpoints), the last holds the rest, ``n // segments + n % segments`` (run outside
    any checkpoint). ``segments`` is capped at ``n``; no ranges for n = 0.

    Example::

        >>> from gpugrad.checkpoint import segment_bounds
        >>> segment_bounds(32, 6)      # 5 checkpointed chunks of 32 // 6 = 5, then 7
        [(0, 5), (5, 10), (10, 15), (15, 20), (20, 25), (25, 32)]
    """
    if n == 0:
        return []
    segments = max(1, min(segments, n))
    size, extra = divmod(n, segments)
    bounds = []
    for i in range(segments):
        start = i * size
        stop = start + size + (extra if i == segments - 1 else 0)
        bounds.append((start, stop))
    return bounds


def _run_chunk(chunk, x):
    for layer in chunk:
        x = layer(x)
    return x
