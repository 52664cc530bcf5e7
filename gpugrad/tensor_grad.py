"""Around a tensor's ``.grad`` and its hooks: PyTorch's warning on reading the ``.grad`` of a
non-leaf, and the handle ``register_hook`` returns.

Example::

    >>> handle = gpugrad.zeros(2, requires_grad=True).register_hook(lambda g: g * 2)
    >>> handle.remove()
"""

from __future__ import annotations

import warnings

from .autograd.compile_mode import structure_changed

__all__ = ["warn_non_leaf_grad", "HookHandle"]


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
    """What ``register_hook`` returns: ``remove()`` takes the hook off again."""

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        structure_changed()
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
