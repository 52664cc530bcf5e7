"""What ops hand to saved-tensor hooks, and the checkpoint's graph-free recomputation.

``saved_tensors_hooks(pack, unpack)`` intercepts every value an op saves for backward (as
PyTorch's ``torch.autograd.graph.saved_tensors_hooks``; gradient checkpointing is built on
it); ``no_saved_tensors_hooks`` turns them off inside. While a checkpoint recomputes its
segment, ``is_checkpoint_recomputing()`` is true: ops save values through the hooks and
build no nodes. (Unrelated to CUDA graph capture: that is ``capture_mode.py``.)

Example::

    >>> from gpugrad.autograd.saved_hooks import saved_tensors_hooks
    >>> packed = []
    >>> with saved_tensors_hooks(lambda t: packed.append(t.shape) or t, lambda t: t):
    ...     y = gpugrad.ones(3, requires_grad=True).exp()
    >>> packed                             # exp saves its output
    [(3,)]
"""

from __future__ import annotations

import contextlib
import threading

__all__ = ["saved_tensors_hooks", "no_saved_tensors_hooks", "is_checkpoint_recomputing",
           "checkpoint_recomputing"]


class _HookState(threading.local):
    def __init__(self):
        self.stack = []         # (pack, unpack) pairs, innermost last
        self.recomputing = False  # recomputing for a checkpoint: save values, build no graph


_hooks = _HookState()


def is_checkpoint_recomputing() -> bool:
    """True while recording is graph-free (a checkpoint's recomputation): with grad mode on,
    ops hand what they would save to the active hooks and build no nodes; ``no_grad``
    inside still turns recording off, as in the first run."""
    return _hooks.recomputing


@contextlib.contextmanager
def checkpoint_recomputing():
    """Inside, recording is graph-free: what ``is_checkpoint_recomputing`` says (the
    checkpoint's recomputation, ``gpugrad/checkpoint/recompute.py``, turns it on)."""
    previous, _hooks.recomputing = _hooks.recomputing, True
    try:
        yield
    finally:
        _hooks.recomputing = previous


@contextlib.contextmanager
def saved_tensors_hooks(pack_hook, unpack_hook):
    """Inside, every value an op saves for backward goes through ``pack_hook(tensor)`` and
    what it returns is kept instead; ``unpack_hook(packed)`` gives the tensor back when a
    backward rule needs it. If the packed object has a ``release()`` method, it is called
    when the graph frees its saved values. (As PyTorch's torch.autograd.graph hooks; this is
    what gradient checkpointing is built on.)

    Example::

        >>> from gpugrad.autograd.graph import saved_tensors_hooks
        >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        >>> with saved_tensors_hooks(lambda t: t.numpy().copy(), gpugrad.tensor):
        ...     y = (x * x).sum()      # the saved x is kept as a NumPy copy
        >>> y.backward(); x.grad       # 2 x, from the unpacked copies
        tensor([2., 4.], device='cpu', dtype=float32)
    """
    _hooks.stack.append((pack_hook, unpack_hook))
    try:
        yield
    finally:
        _hooks.stack.pop()


@contextlib.contextmanager
def no_saved_tensors_hooks():
    """Save values normally inside, whatever hooks are active outside."""
    saved, _hooks.stack = _hooks.stack, []
    try:
        yield
    finally:
        _hooks.stack = saved
