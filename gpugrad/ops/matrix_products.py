"""PyTorch's BLAS-style products, composites of ``matmul`` (so differentiable to any order
and under vmap): ``mv`` (matrix @ vector), ``addmm`` (beta input + alpha mat1 @ mat2),
``addmv`` and ``baddbmm`` (the same for a vector and for batches), and their Tensor
methods (also ``t.mm``, ``t.bmm`` and the in-place ``t.addmm_(...)``...).

Example::

    >>> from gpugrad.ops.matrix_products import addmm, mv
    >>> mv(gpugrad.ones(2, 3), gpugrad.tensor([1.0, 2.0, 3.0])).tolist()
    [6.0, 6.0]
    >>> addmm(gpugrad.ones(2), gpugrad.ones(1, 3), gpugrad.ones(3, 2), beta=2, alpha=0.5).tolist()
    [[3.5, 3.5]]
"""

from __future__ import annotations

from ..creation import zeros
from .elementwise import where
from .inplace import in_place_method
from .linalg import matmul
from .selection import bmm, mm
from .shape import broadcast_to
from .shape_errors import ShapeError

__all__ = ["mv", "addmm", "addmv", "baddbmm"]


def mv(input, vec):
    """The product of a matrix and a vector, as ``torch.mv``: (n, m) @ (m,) -> (n,).

    Example::

        >>> gpugrad.mv(gpugrad.eye(2) * 3, gpugrad.tensor([1.0, 2.0])).tolist()
        [3.0, 6.0]
    """
    if input.ndim != 2 or vec.ndim != 1 or input.shape[1] != vec.shape[0]:
        raise ShapeError(f"mv: expected a matrix (n, m) and a vector (m,), got shapes "
                         f"{tuple(input.shape)} and {tuple(vec.shape)}")
    return matmul(input, vec)


def _ignored(x):
    """Zeros of ``x``'s shape that pass ``x`` a zero gradient (``x * 0`` would keep NaNs)."""
    return where(zeros(tuple(x.shape), dtype="bool", device=x.device), x, 0.0)


def _added(name, input, product, beta, alpha):
    """``beta * input + alpha * product``, ``input`` broadcast to the product's shape (and
    not read when beta is 0, nor the product when alpha is 0: their NaNs do not show, as
    PyTorch's; the one not read gets a zero gradient there, as there)."""
    if alpha == 0:
        product = _ignored(product)
    elif alpha != 1:
        product = product * alpha
    try:
        input = broadcast_to(input, tuple(product.shape))
    except (ValueError, RuntimeError):
        raise ShapeError(f"{name}: input of shape {tuple(input.shape)} does not broadcast to "
                         f"the product's shape {tuple(product.shape)}") from None
    if beta == 0:
        return product + _ignored(input) if input.requires_grad else product
    return (input if beta == 1 else input * beta) + product


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``, as ``torch.addmm``: mat1 (n, m), mat2
    (m, p), input broadcast to (n, p); with beta=0 input is not read (NaN there is
    ignored). Differentiable in all three.

    Example::

        >>> gpugrad.addmm(gpugrad.zeros(2), gpugrad.eye(2), gpugrad.ones(2, 2), alpha=3).tolist()
        [[3.0, 3.0], [3.0, 3.0]]
    """
    return _added("addmm", input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``, as ``torch.addmv``: mat (n, m), vec (m,),
    input broadcast to (n,).

    Example::

        >>> gpugrad.addmv(gpugrad.ones(2), gpugrad.eye(2), gpugrad.tensor([1.0, 2.0])).tolist()
        [2.0, 3.0]
    """
    return _added("addmv", input, mv(mat, vec), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)``, as ``torch.baddbmm``: batch1
    (b, n, m), batch2 (b, m, p), input broadcast to (b, n, p).

    Example::

        >>> gpugrad.baddbmm(gpugrad.ones(1), gpugrad.ones(4, 2, 3), gpugrad.ones(4, 3, 5)).shape
        (4, 2, 5)
    """
    return _added("baddbmm", input, bmm(batch1, batch2), beta, alpha)


METHODS = {"mm": mm, "bmm": bmm, "mv": mv, "addmm": addmm, "addmv": addmv,
           "baddbmm": baddbmm, "addmm_": in_place_method(addmm),
           "addmv_": in_place_method(addmv), "baddbmm_": in_place_method(baddbmm)}
