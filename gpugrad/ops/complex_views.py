"""Complex tensors as real pairs and back, as PyTorch's ``view_as_real`` and
``view_as_complex``: views of the same memory, whose rules give PyTorch's complex gradients
themselves (``complex_grad = OWN_RULES``; see complex_node.py). (Split from complex_parts.py,
which re-exports both.)

Example::

    >>> pairs = gpugrad.view_as_real(gpugrad.tensor([1 + 2j]))
    >>> pairs.tolist(), gpugrad.view_as_complex(pairs).tolist()
    ([[1.0, 2.0]], [(1+2j)])
"""

from __future__ import annotations

import numpy as np

from .complex_parts import _complex_of, _viewed
from .op_class import OWN_RULES
from .record import Op, apply

__all__ = ["view_as_real", "view_as_complex"]


class ViewAsReal(Op):
    """A complex (...) tensor as a real (..., 2) one: [..., 0] real, [..., 1] imaginary
    parts. Gradient: view_as_complex(g)."""

    view = True
    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, x):
        return _viewed(xp, x[..., None], x.real.dtype)

    @staticmethod
    def vjp(ctx, g):
        return view_as_complex(g)

    @staticmethod
    def jvp(ctx, t):
        return view_as_real(t)

    @staticmethod
    def vmap(xs, batched):
        return apply(ViewAsReal, xs[0])


class ViewAsComplex(Op):
    """A real (..., 2) tensor as a complex (...) one. Gradient: view_as_real(g)."""

    view = True
    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, x):
        return _viewed(xp, x, _complex_of(xp, x.dtype))[..., 0]

    @staticmethod
    def vjp(ctx, g):
        return view_as_real(g)

    @staticmethod
    def jvp(ctx, t):
        return view_as_complex(t)

    @staticmethod
    def vmap(xs, batched):
        return apply(ViewAsComplex, xs[0])


def view_as_real(input):
    """A complex tensor as a real one with a last dimension of 2 (real, imaginary), as
    ``torch.view_as_real``: (...) complex -> (..., 2) real.

    Example::

        >>> gpugrad.view_as_real(gpugrad.tensor([1 + 2j])).tolist()
        [[1.0, 2.0]]
    """
    if input.dtype.kind != "c":
        raise RuntimeError(f"view_as_real is only supported for complex tensors, got "
                           f"{input.dtype}; use gpugrad.stack([x, gpugrad.zeros_like(x)], -1)")
    return apply(ViewAsReal, input)


def view_as_complex(input):
    """A real tensor whose last dimension is 2 (real, imaginary) as a complex one, as
    ``torch.view_as_complex``: (..., 2) float -> (...) complex.

    Example::

        >>> gpugrad.view_as_complex(gpugrad.tensor([[1.0, 2.0]])).tolist()
        [(1+2j)]
    """
    if input.dtype.kind != "f" or input.dtype == np.float16:
        raise RuntimeError(f"view_as_complex is only supported for float32 and float64 "
                           f"tensors, got {input.dtype}")
    if input.ndim == 0 or input.shape[-1] != 2:
        raise RuntimeError(f"view_as_complex: the tensor must have a last dimension of size "
                           f"2 (real, imaginary), got shape {tuple(input.shape)}")
    return apply(ViewAsComplex, input)
