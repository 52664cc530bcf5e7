"""Least squares, as ``torch.linalg.lstsq``: a composite of the pseudo-inverse
(matrix_pinv.py's ``Pinv`` record) and a product, so its gradient is Pinv's
(Golub and Pereyra): the gradient of the least-squares solution where the rank of A does
not change near it, in particular for A of full column rank (m >= n, rank n), where it is
that of the normal equations' solution (A^H A)^-1 A^H B, and for full row rank. Real or
complex, as PyTorch's (complex: residuals and singular values real).

Example::

    >>> A = gpugrad.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]], dtype="float64")
    >>> B = gpugrad.tensor([[1.0], [2.0], [4.0]], dtype="float64")
    >>> gpugrad.linalg.lstsq(A, B).solution.numpy().round(6).tolist()   # fits 0.833 + 1.5 t
    [[0.833333], [1.5]]
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.capture_mode import refuse_host_sync
from .complex_parts import conj, real
from .linalg import matmul
from .matrix_common import check_batches_broadcast, check_rhs_dtype, checked_matrix, empty
from .matrix_decompositions import svdvals
from .matrix_pinv import pinv
from .reduce import sum as _sum
from .shape import unsqueeze

__all__: list = []

LstsqResult = namedtuple("LstsqResult", ["solution", "residuals", "rank", "singular_values"])

DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _checked(A, B, driver):
    name = "linalg.lstsq"
    checked_matrix(name, A, square=False, complex_ok=True)
    check_rhs_dtype(name, A, B)
    if not (B.ndim >= 1 and 0 <= A.ndim - B.ndim <= 1):
        raise ValueError(f"{name}: input.dim() must be greater or equal to other.dim() and "
                         f"(input.dim() - other.dim()) <= 1, got A {tuple(A.shape)} and B "
                         f"{tuple(B.shape)}")
    vector = A.ndim == B.ndim + 1
    rows = B.shape[-1] if vector else B.shape[-2]
    if rows != A.shape[-2]:
        raise ValueError(f"{name}: B of shape {tuple(B.shape)} does not fit A of shape "
                         f"{tuple(A.shape)}: B needs A's {A.shape[-2]} rows")
    check_batches_broadcast(name, A, B, core=1 if vector else 2)
    if driver is not None and driver not in DRIVERS:
        raise ValueError(f"{name}: parameter `driver` should be one of (gels, gelsy, gelsd, "
                         f"gelss), got {driver!r}")
    return vector


def _rank(values, rcond: float):
    """How many singular values (..., k), descending, exceed rcond times the largest."""
    if values.shape[-1] == 0:
        return _sum(values > 0.0, axis=-1)
    return _sum(values > values[..., :1] * rcond, axis=-1)


def _squared_magnitude(x):
    """|x|^2, real (x * conj(x) for a complex x, whose gradient is PyTorch's 2 x)."""
    return real(x * conj(x)) if x.dtype.kind == "c" else x ** 2


def lstsq(A, B, rcond=None, *, driver=None):
    """``(solution, residuals, rank, singular_values)``: X minimising ||A X - B||_F (the
    least-norm one when A is rank deficient), as ``torch.linalg.lstsq`` on the CPU.
    Singular values at most ``rcond`` times the largest count as zero (default: eps of the
    dtype times max(m, n)); ``driver`` (default "gelsy") picks which extras are given, as
    PyTorch's: ``rank`` (int64) unless "gels"; ``singular_values`` (not differentiable)
    for "gelsd" and "gelss"; ``residuals``, the squared residuals of each column, when
    m > n, the driver is not "gelsy" and every matrix has full rank. The others are empty.
    A complex A (and B) gives a complex solution and real residuals and singular values.
    (That rank test reads the device: with m > n, "gelsd" and "gelss" are refused inside a
    compiled step or captured graph.)
    Differentiable in A and B where the rank of A is locally constant (full column rank).

    Shapes: A (..., m, n), B (..., m, k) or (..., m) (one dimension fewer than A) ->
    solution (..., n, k) or (..., n), residuals (..., k) (k = 1 for vectors), rank
    (A's batch), singular_values (A's batch, min(m, n)).

    Example::

        >>> A = gpugrad.tensor([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype="float64")
        >>> out = gpugrad.linalg.lstsq(A, gpugrad.tensor([2.0, 3.0, 4.0], dtype="float64"),
        ...                            driver="gelsd")
        >>> out.solution.tolist(), out.residuals.tolist(), out.rank.item()
        ([1.0, 3.0], [16.0], 2)
    """
    vector = _checked(A, B, driver)
    driver = driver or "gelsy"
    m, n = A.shape[-2:]
    if rcond is None:
        rcond = float(np.finfo(A.dtype).eps * max(m, n))
    rhs = unsqueeze(B, -1) if vector else B
    solution = matmul(pinv(A, rtol=float(rcond) if driver != "gels" else 0.0), rhs)
    singular = svdvals(A.detach())
    rank = empty(A, np.int64) if driver == "gels" else _rank(singular, float(rcond))
    real_dtype = singular.dtype                 # (A's, or its real counterpart)
    values = singular if driver in ("gelsd", "gelss") else empty(A, real_dtype)
    residuals = empty(A, real_dtype)
    if m > n and driver != "gelsy":
        if driver != "gels":
            refuse_host_sync(f"linalg.lstsq(driver={driver!r}) with more rows than columns "
                             f"(for its residuals, whether every matrix has full rank is read "
                             f"on the host; driver='gelsy' and ((A @ X - B).abs() ** 2).sum(-2) "
                             f"avoid it)")
        if driver == "gels" or bool((rank.detach().numpy() == n).all()):
            residuals = _sum(_squared_magnitude(matmul(A, solution) - rhs), axis=-2)
    return LstsqResult(solution[..., 0] if vector else solution, residuals, rank, values)


METHODS: dict = {}
