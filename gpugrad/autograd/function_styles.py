"""The two ways PyTorch lets a custom ``Function`` write its forward: ``forward(ctx,
*args)``, or ``forward(*args)`` with a ``setup_context(ctx, inputs, output)`` staticmethod
(the style torch.func transforms need). Used by function.py and function_vmap.py.

Example::

    >>> from gpugrad.autograd import Function
    >>> class Cube(Function):
    ...     @staticmethod
    ...     def forward(x):
    ...         return x ** 3
    ...     @staticmethod
    ...     def setup_context(ctx, inputs, output):
    ...         ctx.save_for_backward(inputs[0])
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x ** 2 * g
    >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    >>> Cube.apply(x).sum().backward(); x.grad.tolist()
    [3.0, 12.0]
"""

from __future__ import annotations

import inspect
import weakref

__all__ = ["run_forward"]


def run_forward(cls, ctx, args, kwargs):
    """``cls.forward`` in either of PyTorch's styles: ``forward(ctx, *args)``, or, when the
    Function defines ``setup_context`` and its forward's first parameter is not named
    ``ctx``, ``forward(*args)`` followed by ``setup_context(ctx, inputs, output)`` (the
    style torch.func transforms need)."""
    setup = getattr(cls, "setup_context", None)
    if setup is None or _forward_takes_ctx(cls):
        return cls.forward(ctx, *args, **kwargs)
    output = cls.forward(*args, **kwargs)
    setup(ctx, args, output)
    return output


_TAKES_CTX = weakref.WeakKeyDictionary()    # Function class -> forward's first param is ctx


def _forward_takes_ctx(cls) -> bool:
    takes = _TAKES_CTX.get(cls)
    if takes is None:
        try:
            first = next(iter(inspect.signature(cls.forward).parameters), None)
        except (TypeError, ValueError):
            first = None
        takes = _TAKES_CTX[cls] = first == "ctx"
    return takes
