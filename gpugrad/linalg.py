"""``gpugrad.linalg``: linear algebra, as ``torch.linalg``. Every function takes batches of
matrices (..., m, n) and is differentiable (see gpugrad/ops/matrix_functions.py,
matrix_decompositions.py, matrix_pinv.py, matrix_qr.py, matrix_triangular.py, matrix_lu.py,
matrix_exp.py and matrix_lstsq.py for the records and their rules); this module
gathers them under PyTorch's names and adds the composites (``norm``, ``matrix_norm``,
``matrix_rank``, ``cross``, ``vecdot``, ``multi_dot``; from ops/linalg_more.py ``cond``, the
``_ex`` forms, ``tensorinv``, ``tensorsolve``, ``householder_product``).

Example::

    >>> A = gpugrad.tensor([[4.0, 1.0], [1.0, 3.0]], dtype="float64", requires_grad=True)
    >>> x = gpugrad.linalg.solve(A, gpugrad.tensor([1.0, 2.0], dtype="float64"))
    >>> [round(v, 6) for v in x.tolist()]
    [0.090909, 0.636364]
    >>> gpugrad.linalg.det(A).backward()
    >>> A.grad.numpy().round(6).tolist()   # det(A) A^-T
    [[3.0, -1.0], [-1.0, 4.0]]
"""

from __future__ import annotations

import math

import numpy as np

from .ops import compare, contractions, extremes, reduce, shape
from .ops.diagonal import diagonal as _diagonal
from .ops.elementwise import maximum
from .ops.linalg import matmul
from .ops.matrix_common import LinAlgError, checked_matrix
from .ops.matrix_decompositions import eigh, eigvalsh, svd, svdvals
from .ops.matrix_eig import eig, eigvals
from .ops.matrix_pinv import pinv as _pinv
from .ops.matrix_exp import matrix_exp
from .ops.matrix_functions import cholesky, det, inverse as inv, matrix_power, slogdet, solve
from .ops.matrix_lstsq import lstsq
from .ops.matrix_lu import lu, lu_factor, lu_solve
from .ops.shape_errors import as_dims, checked_dim
from .ops.matrix_qr import qr
from .ops.matrix_triangular import solve_triangular
from .ops.norms import vector_norm
from .ops.complex_parts import conj, imag, real
from .ops.unary import abs as _abs
from .ops.combinatorics import linalg_vander as vander
from .ops.linalg_more import (cholesky_ex, cond, householder_product, inv_ex, lu_factor_ex,
                              solve_ex, tensorinv, tensorsolve)

__all__ = ["LinAlgError", "det", "slogdet", "inv", "solve", "cholesky", "eigh", "eigvalsh",
           "svd", "svdvals", "qr", "matrix_power", "pinv", "norm", "vector_norm",
           "matrix_norm", "matrix_rank", "cross", "matmul", "diagonal", "vecdot", "multi_dot",
           "solve_triangular", "lu", "lu_factor", "lu_solve", "lstsq", "matrix_exp", "eig",
           "eigvals", "cond", "solve_ex", "inv_ex", "cholesky_ex", "lu_factor_ex", "tensorinv",
           "tensorsolve", "vander", "householder_product"]


def _matrix_dims(A, dim, name: str) -> tuple:
    if A.ndim < 2:
        raise ValueError(f"{name}: the input must have at least 2 dimensions, got shape "
                         f"{tuple(A.shape)}")
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ValueError(f"{name}: dim must be a 2-tuple of ints, got {dim!r}")
    d0, d1 = (checked_dim(A, d, name) for d in dim)
    if d0 == d1:
        raise ValueError(f"{name}: dim must name two different dimensions, got {dim!r}")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None):
    """The matrix norm of the matrices over ``dim``, as ``torch.linalg.matrix_norm``:
    ``ord`` "fro" (Frobenius), "nuc" (nuclear: the sum of the singular values), 2 / -2
    (largest / smallest singular value), 1 / -1 (largest / smallest column sum of
    absolute values) or inf / -inf (rows).

    Shapes: (..., m, n) -> (...) (the two dims kept as 1 with ``keepdim``).

    Example::

        >>> A = gpugrad.tensor([[1.0, -2.0], [3.0, 4.0]])
        >>> gpugrad.linalg.matrix_norm(A, ord=1).item(), gpugrad.linalg.matrix_norm(A, 2).shape
        (6.0, ())
    """
    d0, d1 = _matrix_dims(A, dim, "linalg.matrix_norm")
    if A.dtype.kind not in "fc":
        raise TypeError(f"linalg.matrix_norm: expected a float or complex tensor, got "
                        f"{A.dtype}; convert it first (A.float())")
    if dtype is not None:
        A = A.astype(dtype)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        others = [i for i in range(A.ndim) if i not in (d0, d1)]
        A = shape.permute(A, *others, d0, d1)
        if A.dtype.kind == "c":
            return _complex_spectral_norm(A, ord, keepdim)
        values = svdvals(A)
        out = (reduce.sum(values, axis=-1) if ord == "nuc" else
               extremes.max(values, axis=-1) if ord == 2 else extremes.min(values, axis=-1))
    elif ord in (1, -1, math.inf, -math.inf):
        summed, across = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = reduce.sum(_abs(A), axis=summed, keepdims=True)
        pick = extremes.max if ord > 0 else extremes.min
        out = shape.squeeze(pick(sums, axis=across, keepdims=True), axis=(d0, d1))
    else:
        raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', inf, -inf, 1, -1, 2 "
                         f"or -2, got {ord!r}")
    if keepdim:
        for d in sorted((d0, d1)):
            out = shape.unsqueeze(out, d)
    return out


def _complex_spectral_norm(A, ord, keepdim: bool):
    """The "nuc", 2 or -2 norm of complex matrices A (..., m, n), from the singular values of
    the real (..., 2m, 2n) matrix [[Re A, -Im A], [Im A, Re A]]: each singular value of A
    appears twice among them. A repeated pair is taken together (half of their sum), whose
    gradient does not depend on the basis the SVD picks for the pair."""
    re, im = real(A), imag(A)
    block = shape.concatenate([shape.concatenate([re, -im], -1),
                               shape.concatenate([im, re], -1)], -2)
    values = svdvals(block)                 # (..., 2k), descending, in equal pairs
    if ord == "nuc":
        out = reduce.sum(values, axis=-1) * 0.5
    else:
        k = values.shape[-1]
        pair = values[..., :2] if ord == 2 else values[..., k - 2:]
        out = reduce.sum(pair, axis=-1) * 0.5
    if keepdim:
        out = shape.unsqueeze(shape.unsqueeze(out, -1), -1)
    return out


def norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None):
    """A vector or matrix norm, as ``torch.linalg.norm``: ``dim`` an int (or None with a
    1-D input, or with ``ord`` None: all elements) gives ``vector_norm``, a 2-tuple (or None
    with a 2-D input and ``ord`` given) gives ``matrix_norm``.

    Example::

        >>> A = gpugrad.tensor([[3.0, 0.0], [0.0, 4.0]])
        >>> gpugrad.linalg.norm(A).item(), gpugrad.linalg.norm(A, ord=2).item()
        (5.0, 4.0)
    """
    dims = None if dim is None else as_dims(dim)    # (an int, NumPy int or 0-d tensor: one)
    if dims is not None and len(dims) == 1:
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dims is not None:
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise ValueError(f"linalg.norm: if dim is not given but ord is, the input must be 1-D or "
                     f"2-D, got shape {tuple(A.shape)}")


def _deprecated_tolerance(name, legacy, legacy_name, atol, rtol):
    """PyTorch's older second argument (``pinv(A, rcond)``: a relative tolerance,
    ``matrix_rank(A, tol)``: an absolute one) as ``(atol, rtol)``."""
    if legacy is None:
        return atol, rtol
    if atol is not None or rtol is not None:
        raise TypeError(f"linalg.{name}: give either {legacy_name} (PyTorch's older form) or "
                        f"atol/rtol, not both")
    if legacy_name == "rcond":          # (a number, or a tensor: one per matrix)
        return None, legacy
    return float(legacy.item() if hasattr(legacy, "item") else legacy), 0.0


def pinv(A, rcond=None, hermitian: bool = False, *, atol=None, rtol=None):
    """The Moore-Penrose pseudo-inverse, as ``torch.linalg.pinv`` (see
    ``gpugrad.ops.matrix_pinv.pinv``); PyTorch's older ``pinv(A, rcond, hermitian)`` is
    accepted too, ``rcond`` being ``rtol``. Shapes: (..., m, n) -> (..., n, m).

    Example::

        >>> A = gpugrad.tensor([[1.0, 0.0], [0.0, 1e-6]], dtype="float64")
        >>> gpugrad.linalg.pinv(A, 1e-3).tolist()          # as pinv(A, rtol=1e-3)
        [[1.0, 0.0], [0.0, 0.0]]
    """
    atol, rtol = _deprecated_tolerance("pinv", rcond, "rcond", atol, rtol)
    return _pinv(A, atol=atol, rtol=rtol, hermitian=hermitian)


def matrix_rank(A, tol=None, hermitian: bool = False, *, atol=None, rtol=None):
    """The number of singular values above ``max(atol, rtol * largest)`` (defaults as
    ``pinv``'s), as ``torch.linalg.matrix_rank``: int64, not differentiable; real or
    complex (``hermitian``: from the eigenvalues of a Hermitian A). PyTorch's
    older ``matrix_rank(A, tol, hermitian)`` is accepted too, ``tol`` being ``atol`` (with
    ``rtol`` 0).

    Shapes: (..., m, n) -> (...).

    Example::

        >>> gpugrad.linalg.matrix_rank(gpugrad.tensor([[1.0, 2.0], [2.0, 4.0]])).item()
        1
    """
    atol, rtol = _deprecated_tolerance("matrix_rank", tol, "tol", atol, rtol)
    checked_matrix("linalg.matrix_rank", A, square=hermitian, complex_ok=True)
    A = A.detach()
    values = _abs(eigvalsh(A)) if hermitian else svdvals(A)
    if rtol is None:
        rtol = np.finfo(A.dtype).eps * max(A.shape[-2:]) if not atol else 0.0
    if values.shape[-1] == 0:
        return reduce.sum(compare.greater(values, 0.0), axis=-1)
    largest = extremes.max(values, axis=-1, keepdims=True)
    cutoff = maximum(largest * float(rtol), float(atol or 0.0))
    return reduce.sum(compare.greater(values, cutoff), axis=-1)


def cross(input, other, *, dim: int = -1):
    """The cross product of 3-vectors along ``dim``, as ``torch.linalg.cross``; the other
    dimensions (the same number in both) broadcast.

    Shapes: (..., 3, ...) and (..., 3, ...) -> their broadcast shape.

    Example::

        >>> x, y = gpugrad.tensor([1.0, 0.0, 0.0]), gpugrad.tensor([0.0, 1.0, 0.0])
        >>> gpugrad.linalg.cross(x, y).tolist()
        [0.0, 0.0, 1.0]
    """
    if input.ndim != other.ndim:
        raise ValueError(f"linalg.cross: inputs must have the same number of dimensions, got "
                         f"shapes {tuple(input.shape)} and {tuple(other.shape)}")
    return contractions.cross(input, other, dim)


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """The diagonals of the matrices over ``dim1`` and ``dim2``, as
    ``torch.linalg.diagonal`` (``gpugrad.diagonal`` with matrix defaults).

    Example::

        >>> gpugrad.linalg.diagonal(gpugrad.ones(4, 2, 2)).shape
        (4, 2)
    """
    return _diagonal(A, offset, dim1, dim2)


def vecdot(x, y, *, dim: int = -1):
    """The dot products of vectors along ``dim``, the other dimensions broadcast, as
    ``torch.linalg.vecdot``: sum(conj(x) * y), the first argument conjugated when complex
    (as ``torch.vdot``).

    Shapes: (..., n, ...) and (..., n, ...) -> their broadcast shape without ``dim``.

    Example::

        >>> gpugrad.linalg.vecdot(gpugrad.ones(2, 3), gpugrad.tensor([1.0, 2.0, 3.0])).tolist()
        [6.0, 6.0]
        >>> gpugrad.linalg.vecdot(gpugrad.tensor([1j]), gpugrad.tensor([1j])).item()   # -i i
        (1+0j)
    """
    return reduce.sum(conj(x) * y, axis=dim)


def multi_dot(tensors):
    """The product of a chain of matrices, left to right, as ``torch.linalg.multi_dot``
    (the first may be a row vector and the last a column vector, 1-D).

    Example::

        >>> chain = [gpugrad.ones(2, 3), gpugrad.ones(3, 4), gpugrad.ones(4)]
        >>> gpugrad.linalg.multi_dot(chain).tolist()
        [12.0, 12.0]
    """
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors, got {len(tensors)}")
    for i, t in enumerate(tensors):
        allowed = (1, 2) if i in (0, len(tensors) - 1) else (2,)
        if t.ndim not in allowed:
            raise ValueError(f"linalg.multi_dot: tensor {i} must be "
                             f"{' or '.join(map(str, allowed))}-D, got shape {tuple(t.shape)}")
    out = tensors[0]
    for t in tensors[1:]:
        out = matmul(out, t)
    return out
