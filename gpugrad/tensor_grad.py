"""Around a tensor's ``.grad`` and its hooks: PyTorch's warning on reading the ``.grad`` of a
non-leaf, the check of an assigned ``.grad``, the handle ``register_hook`` returns, the
version counters (an inference tensor's refuses in-place writes outside the mode) and the
errors that are both PyTorch's class and gpugrad's former one.

Example::

    >>> handle = gpugrad.zeros(2, requires_grad=True).register_hook(lambda g: g * 2)
    >>> handle.remove()
"""

from __future__ import annotations

import warnings

from .autograd.compile_mode import structure_changed
from .autograd.mode import _inference_made, _state as _mode_state

__all__ = ["warn_non_leaf_grad", "HookHandle", "GradShapeError", "GradDtypeError",
           "check_assigned_grad", "INFERENCE_INPLACE", "INFERENCE_SAVED", "VersionCounter",
           "InferenceVersionCounter", "counter_for_mode"]

INFERENCE_INPLACE = ("Inplace update to inference tensor outside InferenceMode is not allowed."
                     "You can make a clone to get a normal tensor before doing inplace update."
                     "See https://github.com/pytorch/rfcs/pull/17 for more details.")
INFERENCE_SAVED = ("Inference tensors cannot be saved for backward. Please do not use Tensors "
                   "created in inference mode in computation tracked by autograd. To work "
                   "around this, you can make a clone to get a normal tensor and use it in "
                   "autograd, or use `gpugrad.no_grad()` instead of `gpugrad.inference_mode()`.")


class VersionCounter:
    """Counts in-place writes to a buffer (``value``) and recorded in-place ops that gave it a
    new graph (``rebased``); views and ``detach()`` share their base's counter."""

    # (a misspelt attribute raises, not appears; ``grew_at``, the ``rebased`` count at which
    # the tensor took a graph in place, is set only then: see ops/view_replay.py)
    __slots__ = ("value", "rebased", "grew_at")

    def __init__(self):
        self.value = 0
        self.rebased = 0


class InferenceVersionCounter(VersionCounter):
    """The counter of an inference tensor (made inside ``inference_mode()``, as PyTorch's):
    its views and ``detach()`` share it, so they are inference tensors too; an in-place
    write counted outside the mode is refused."""

    __slots__ = ("_count",)
    value = property(lambda self: self._count)

    @value.setter
    def value(self, count):
        if not _mode_state.inference:
            raise RuntimeError(INFERENCE_INPLACE)
        self._count = count

    def __init__(self):
        self._count = self.rebased = 0
        _inference_made[0] = InferenceVersionCounter    # (saved tensors are checked from now)


def counter_for_mode():
    """A new tensor's version counter while some thread is inside ``inference_mode()``
    (tensor.py's ``_wrap`` asks only then)."""
    if _mode_state.inference and not _mode_state.grad_enabled:
        return InferenceVersionCounter()
    return VersionCounter()


class GradShapeError(RuntimeError, ValueError):
    """A gradient or cotangent of the wrong shape, dtype or count. A RuntimeError, as PyTorch
    raises, and a ValueError, as gpugrad raised before: either ``except`` catches it.

    Example::

        >>> x = gpugrad.ones(2, requires_grad=True)
        >>> (x * 2).backward(gpugrad.ones(3))
        Traceback (most recent call last):
        gpugrad.tensor_grad.GradShapeError: backward: gradient 0 has shape (3,) ...
    """


class GradDtypeError(RuntimeError, TypeError):
    """``requires_grad`` asked of a tensor whose dtype cannot have gradients (integers,
    bool): a RuntimeError as PyTorch's, and the TypeError gpugrad raised before.

    Example::

        >>> gpugrad.tensor([1, 2]).requires_grad_()
        Traceback (most recent call last):
        gpugrad.tensor_grad.GradDtypeError: only floating-point tensors can require ...
    """


def check_assigned_grad(tensor, grad, Tensor) -> None:
    """Refuse a ``.grad`` an optimizer could not use, naming the mismatch (as PyTorch does:
    a RuntimeError, here also the ValueError gpugrad raised before)."""
    if grad is tensor or not isinstance(grad, Tensor):
        got = "the tensor itself" if grad is tensor else type(grad).__name__
        raise TypeError(f"t.grad must be None or another tensor, not {got}; "
                        f"assign gpugrad.tensor(values, dtype=t.dtype, device=t.device)")
    for what, fix in (("shape", "reshape or sum it"), ("dtype", f"use .to({tensor.dtype})"),
                      ("device", f"use .to('{tensor.device}')")):
        want, got = getattr(tensor, what), getattr(grad, what)
        if want != got:
            raise GradShapeError(f"the assigned .grad has {what} {got} but its tensor has "
                                 f"{what} {want}; a gradient must match its tensor: {fix}")


def warn_non_leaf_grad(tensor) -> None:
    """PyTorch's warning on reading the ``.grad`` of a non-leaf that does not retain it."""
    warnings.warn(f"The .grad attribute of a Tensor that is not a leaf Tensor (made by "
                  f"{tensor.grad_fn!r}) is being accessed. Its .grad attribute won't be "
                  f"populated during autograd.backward(). If you indeed want the .grad field to "
                  f"be populated for a non-leaf Tensor, use .retain_grad() on it before "
                  f"backward(). If you access the non-leaf Tensor by mistake, make sure you "
                  f"access the leaf Tensor instead (or a leaf made from it: "
                  f"t.detach().requires_grad_()).", UserWarning, stacklevel=3)


class HookHandle:
    """What ``register_hook`` returns: ``remove()`` takes the hook off again; as a context
    manager (as PyTorch's ``RemovableHandle``), the hook is removed at the block's end.

    Example::

        >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        >>> with x.register_hook(lambda g: g * 10):
        ...     x.sum().backward()
        >>> x.sum().backward(); x.grad.tolist()        # 10 + 1
        [11.0, 11.0]
    """

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        structure_changed()
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False
