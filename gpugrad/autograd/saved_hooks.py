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
           "checkpoint_recomputing", "save_on_cpu", "disable_saved_tensors_hooks"]


class _HookState(threading.local):
    def __init__(self):
        self.stack = []         # (pack, unpack) pairs, innermost last
        self.recomputing = False  # recomputing for a checkpoint: save values, build no graph
        self.disabled = None    # disable_saved_tensors_hooks' message, while it is active


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


class saved_tensors_hooks:
    """Inside, every value an op saves for backward goes through ``pack_hook(tensor)`` and
    what it returns is kept instead; ``unpack_hook(packed)`` gives the tensor back when a
    backward rule needs it. If the packed object has a ``release()`` method, it is called
    when the graph frees its saved values. (As PyTorch's torch.autograd.graph hooks, a class
    that can be subclassed, as ``save_on_cpu`` is; gradient checkpointing is built on it.)

    Example::

        >>> from gpugrad.autograd.graph import saved_tensors_hooks
        >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        >>> with saved_tensors_hooks(lambda t: t.numpy().copy(), gpugrad.tensor):
        ...     y = (x * x).sum()      # the saved x is kept as a NumPy copy
        >>> y.backward(); x.grad       # 2 x, from the unpacked copies
        tensor([2., 4.], device='cpu', dtype=float32)
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        if _hooks.disabled is not None:
            raise RuntimeError(_hooks.disabled)
        _hooks.stack.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        _hooks.stack.pop()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Inside, values saved for backward on a GPU are kept in host memory and copied back
    when backward needs them (PyTorch's activation offloading). Values on the CPU are kept
    as they are, or copied with ``pin_memory=True``, as PyTorch's: an in-place write after
    saving is not checked (hooks), and backward reads the written value unless it was
    copied. ``device_type`` is accepted as PyTorch's.

    Example::

        >>> from gpugrad.autograd.graph import save_on_cpu
        >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        >>> with save_on_cpu(pin_memory=False):
        ...     y = (x * x).sum()
        >>> y.backward(); x.grad
        tensor([2., 4.], device='cpu', dtype=float32)
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda"):
        def pack(tensor):
            device = tensor.device
            if device.type != "cpu":
                return device, tensor.to("cpu")
            return device, tensor.clone() if pin_memory else tensor

        def unpack(packed):
            return packed[1] if packed[0].type == "cpu" else packed[1].to(packed[0])
        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Inside, entering ``saved_tensors_hooks`` raises ``RuntimeError(error_message)`` (as
    PyTorch's: for code whose saved values must stay where they are). Hooks already active
    stay active.

    Example::

        >>> from gpugrad.autograd.graph import disable_saved_tensors_hooks, save_on_cpu
        >>> with disable_saved_tensors_hooks("no offloading here"):
        ...     with save_on_cpu():
        ...         pass
        Traceback (most recent call last):
        RuntimeError: no offloading here
    """

    def __init__(self, error_message: str):
        self.error_message = error_message

    def __enter__(self):
        self._previous, _hooks.disabled = _hooks.disabled, self.error_message
        return self

    def __exit__(self, *exc):
        _hooks.disabled = self._previous
        return False


@contextlib.contextmanager
def no_saved_tensors_hooks():
    """Save values normally inside, whatever hooks are active outside."""
    saved, _hooks.stack = _hooks.stack, []
    try:
        yield
    finally:
        _hooks.stack = saved
