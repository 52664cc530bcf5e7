"""Orthogonal polynomials of ``torch.special``, element-wise in two broadcast inputs ``x`` and
``n`` (the degree, truncated toward zero as PyTorch casts it to int64; n < 0 gives 0):
``chebyshev_polynomial_t/u/v/w``, their ``shifted_`` forms on [0, 1] (the polynomial at
2x - 1), ``hermite_polynomial_h`` (physicists'), ``hermite_polynomial_he`` (probabilists'),
``laguerre_polynomial_l`` and ``legendre_polynomial_p``. Not differentiable, as in PyTorch.

Each is its three-term recurrence, run to the largest degree present (each element keeps the
step of its own degree), with PyTorch's choices: the Chebyshev families switch to their
trigonometric forms (cos(n theta), sin((n + 1) theta) / sin(theta)...) inside (-1, 1) above a
small degree, take exact values at +-1, and the Hermite families give NaN above degree 128
(float32) or 512 (float64), where their values overflow anyway.

Example::

    >>> from gpugrad.ops.special_polynomials import chebyshev_polynomial_t, hermite_polynomial_h
    >>> x = gpugrad.tensor([0.5, 2.0], dtype="float64")
    >>> chebyshev_polynomial_t(x, 3).tolist()                 # 4x^3 - 3x
    [-1.0, 26.0]
    >>> hermite_polynomial_h(x, gpugrad.tensor([2.0, 3.0], dtype="float64")).tolist()
    [-1.0, 40.0]
"""

from __future__ import annotations

import numpy as np

from .pointwise_binary import operands
from .record import BROADCAST, Op, apply

__all__ = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p"]


def _degree(xp, n):
    """n truncated to int64; NaN and +-inf become -1 (a zero polynomial)."""
    finite = xp.isfinite(n)
    return xp.where(finite, xp.trunc(xp.where(finite, n, 0.0)), -1.0).astype(np.int64)


def _recurrence(xp, x, n, first, step):
    """P_n(x) for each element's degree n >= 1 from P_0 = 1, P_1 = ``first`` and
    P_j = step(j, P_(j-1), P_(j-2)); entries of degree < 1 are left as P_1."""
    p, q = xp.ones_like(x), first
    top = int(n.max()) if n.size else 0
    for j in range(2, top + 1):
        r = step(j, q, p)
        more = n >= j
        p, q = xp.where(more, q, p), xp.where(more, r, q)
    return q


def _chebyshev(xp, x, n, kind: str, trig_above: int):
    """T, U, V or W (``kind``) of degree n at x."""
    two_x = x + x
    first = {"t": x, "u": two_x, "v": two_x - 1.0, "w": two_x + 1.0}[kind]
    inside = (xp.abs(x) < 1.0) & (n > trig_above)
    slow = xp.where(inside, 0, n)           # the trigonometric form needs no recurrence
    value = _recurrence(xp, x, slow, first, lambda j, q, p: two_x * q - p)
    theta = xp.arccos(xp.clip(x, -1.0, 1.0))
    m = n.astype(x.dtype)
    odd_sign = xp.where(n % 2 == 0, 1.0, -1.0)
    if kind == "t":
        trig, at_one, at_minus_one = xp.cos(m * theta), 1.0, odd_sign
    elif kind == "u":
        trig = xp.sin((m + 1.0) * theta) / xp.sin(theta)
        at_one, at_minus_one = m + 1.0, odd_sign * (m + 1.0)
    elif kind == "v":
        trig = xp.cos((m + 0.5) * theta) / xp.cos(theta * 0.5)
        at_one, at_minus_one = 1.0, odd_sign * (2.0 * m + 1.0)
    else:
        trig = xp.sin((m + 0.5) * theta) / xp.sin(theta * 0.5)
        at_one, at_minus_one = 2.0 * m + 1.0, odd_sign
    value = xp.where(inside, trig, value)
    value = xp.where(x == 1.0, at_one, xp.where(x == -1.0, at_minus_one, value))
    return value


def _hermite(xp, x, n, physicists: bool):
    limit = 128 if x.dtype.itemsize <= 4 else 512
    too_high = n > limit
    slow = xp.where(too_high, 0, n)
    if physicists:
        value = _recurrence(xp, x, slow, x + x, lambda j, q, p: (x + x) * q - (2 * j - 2) * p)
    else:
        value = _recurrence(xp, x, slow, x, lambda j, q, p: x * q - (j - 1) * p)
    return xp.where(too_high, xp.nan, value)


def _laguerre(xp, x, n):
    value = _recurrence(xp, x, n, 1.0 - x,
                        lambda j, q, p: ((2 * j - 1 - x) * q - (j - 1) * p) / j)
    return xp.where(x == 0, 1.0, value)


def _legendre(xp, x, n):
    value = _recurrence(xp, x, n, x, lambda j, q, p: ((2 * j - 1) * x * q - (j - 1) * p) / j)
    odd_sign = xp.where(n % 2 == 0, 1.0, -1.0)
    return xp.where(x == 1.0, 1.0, xp.where(x == -1.0, odd_sign, value))


# family -> (how to evaluate at (xp, x, n), whether x is first mapped to 2x - 1)
_FAMILIES = {
    "chebyshev_t": (lambda xp, x, n: _chebyshev(xp, x, n, "t", 6), False),
    "chebyshev_u": (lambda xp, x, n: _chebyshev(xp, x, n, "u", 8), False),
    "chebyshev_v": (lambda xp, x, n: _chebyshev(xp, x, n, "v", 8), False),
    "chebyshev_w": (lambda xp, x, n: _chebyshev(xp, x, n, "w", 8), False),
    "shifted_chebyshev_t": (lambda xp, x, n: _chebyshev(xp, x, n, "t", 6), True),
    "shifted_chebyshev_u": (lambda xp, x, n: _chebyshev(xp, x, n, "u", 6), True),
    "shifted_chebyshev_v": (lambda xp, x, n: _chebyshev(xp, x, n, "v", 6), True),
    "shifted_chebyshev_w": (lambda xp, x, n: _chebyshev(xp, x, n, "w", 4), True),
    "hermite_h": (lambda xp, x, n: _hermite(xp, x, n, True), False),
    "hermite_he": (lambda xp, x, n: _hermite(xp, x, n, False), False),
    "laguerre_l": (_laguerre, False),
    "legendre_p": (_legendre, False),
}


def _evaluate(xp, family: str, x, n):
    fn, shifted = _FAMILIES[family]
    work = x if x.dtype.itemsize >= 4 else x.astype(np.float32)
    x_b, n_b = xp.broadcast_arrays(work, n)
    degree = _degree(xp, n_b)
    with np.errstate(all="ignore"):
        value = fn(xp, (x_b + x_b - 1.0) if shifted else x_b, degree)
        value = xp.where(degree == 0, 1.0, value)
        value = xp.where(degree < 0, 0.0, value)
    return xp.asarray(value, dtype=work.dtype).astype(x.dtype, copy=False)


class OrthogonalPolynomial(Op):
    """One of the families above at (x, n), broadcast; not differentiable."""

    save = ""
    differentiable = False
    broadcasts = True
    vmap = BROADCAST

    @staticmethod
    def forward(xp, x, n, family):
        return _evaluate(xp, family, x, n)


def _polynomial(family: str, name: str, input, n):
    x, degree = operands(name, input, n)
    return apply(OrthogonalPolynomial, x, degree, family=family)


def chebyshev_polynomial_t(input, n):
    """The Chebyshev polynomial of the first kind T_n(x) (T_n(cos t) = cos(n t)), element-wise
    (``torch.special.chebyshev_polynomial_t``): ``input`` and ``n`` broadcast (either may be a
    Python number), ``n`` truncated to an integer, 0 where n < 0; float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_polynomials import chebyshev_polynomial_t
        >>> chebyshev_polynomial_t(gpugrad.tensor([0.5, 2.0], dtype="float64"), 3).tolist()
        [-1.0, 26.0]
    """
    return _polynomial("chebyshev_t", "chebyshev_polynomial_t", input, n)


def chebyshev_polynomial_u(input, n):
    """The Chebyshev polynomial of the second kind U_n(x) (U_n(cos t) = sin((n+1) t) / sin t),
    element-wise (``torch.special.chebyshev_polynomial_u``): ``input`` and ``n`` broadcast
    (either may be a Python number), ``n`` truncated to an integer, 0 where n < 0; float dtype
    kept; not differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_polynomials import chebyshev_polynomial_u
        >>> chebyshev_polynomial_u(gpugrad.tensor([0.5, 2.0], dtype="float64"), 2).tolist()
        [0.0, 15.0]
    """
    return _polynomial("chebyshev_u", "chebyshev_polynomial_u", input, n)


def chebyshev_polynomial_v(input, n):
    """The Chebyshev polynomial of the third kind V_n(x) (V_0 = 1, V_1 = 2x - 1, V_(n+1) = 2x V_n -
    V_(n-1)), element-wise (``torch.special.chebyshev_polynomial_v``): ``input`` and ``n``
    broadcast (either may be a Python number), ``n`` truncated to an integer, 0 where n < 0;
    float dtype kept; not differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_polynomials import chebyshev_polynomial_v
        >>> chebyshev_polynomial_v(gpugrad.tensor([0.5, 2.0], dtype="float64"), 2).tolist()
        [-1.0, 11.0]
    """
    return _polynomial("chebyshev_v", "chebyshev_polynomial_v", input, n)


def chebyshev_polynomial_w(input, n):
    """The Chebyshev polynomial of the fourth kind W_n(x) (W_0 = 1, W_1 = 2x + 1, W_(n+1) = 2x W_n
    - W_(n-1)), element-wise (``torch.special.chebyshev_polynomial_w``): ``input`` and ``n``
    broadcast (either may be a Python number), ``n`` truncated to an integer, 0 where n < 0;
    float dtype kept; not differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_polynomials import chebyshev_polynomial_w
        >>> chebyshev_polynomial_w(gpugrad.tensor([0.5, 2.0], dtype="float64"), 2).tolist()
        [1.0, 19.0]
    """
    return _polynomial("chebyshev_w", "chebyshev_polynomial_w", input, n)


def shifted_chebyshev_polynomial_t(input, n):
    """T_n(2x - 1), the Chebyshev polynomial of the first kind shifted to [0, 1], element-wise
    (``torch.special.shifted_chebyshev_polynomial_t``): ``input`` and ``n`` broadcast (either
    may be a Python number), ``n`` truncated to an integer, 0 where n < 0; float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_polynomials import shifted_chebyshev_polynomial_t
        >>> shifted_chebyshev_polynomial_t(gpugrad.tensor([0.75, 1.5], dtype="float64"), 3).tolist()
        [-1.0, 26.0]
    """
    return _polynomial("shifted_chebyshev_t", "shifted_chebyshev_polynomial_t", input, n)


def shifted_chebyshev_polynomial_u(input, n):
    """U_n(2x - 1), the Chebyshev polynomial of the second kind shifted to [0, 1], element-wise
    (``torch.special.shifted_chebyshev_polynomial_u``): ``input`` and ``n`` broadcast (either
    may be a Python number), ``n`` truncated to an integer, 0 where n < 0; float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_polynomials import shifted_chebyshev_polynomial_u
        >>> shifted_chebyshev_polynomial_u(gpugrad.tensor([0.75, 1.5], dtype="float64"), 2).tolist()
        [0.0, 15.0]
    """
    return _polynomial("shifted_chebyshev_u", "shifted_chebyshev_polynomial_u", input, n)


def shifted_chebyshev_polynomial_v(input, n):
    """V_n(2x - 1), the Chebyshev polynomial of the third kind shifted to [0, 1], element-wise
    (``torch.special.shifted_chebyshev_polynomial_v``): ``input`` and ``n`` broadcast (either
    may be a Python number), ``n`` truncated to an integer, 0 where n < 0; float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_polynomials import shifted_chebyshev_polynomial_v
        >>> shifted_chebyshev_polynomial_v(gpugrad.tensor([0.75, 1.5], dtype="float64"), 2).tolist()
        [-1.0, 11.0]
    """
    return _polynomial("shifted_chebyshev_v", "shifted_chebyshev_polynomial_v", input, n)


def shifted_chebyshev_polynomial_w(input, n):
    """W_n(2x - 1), the Chebyshev polynomial of the fourth kind shifted to [0, 1], element-wise
    (``torch.special.shifted_chebyshev_polynomial_w``): ``input`` and ``n`` broadcast (either
    may be a Python number), ``n`` truncated to an integer, 0 where n < 0; float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_polynomials import shifted_chebyshev_polynomial_w
        >>> shifted_chebyshev_polynomial_w(gpugrad.tensor([0.75, 1.5], dtype="float64"), 2).tolist()
        [1.0, 19.0]
    """
    return _polynomial("shifted_chebyshev_w", "shifted_chebyshev_polynomial_w", input, n)


def hermite_polynomial_h(input, n):
    """The physicists' Hermite polynomial H_n(x) (H_(n+1) = 2x H_n - 2n H_(n-1)); NaN above degree
    128 (float32) or 512 (float64), as PyTorch's, element-wise
    (``torch.special.hermite_polynomial_h``): ``input`` and ``n`` broadcast (either may be a
    Python number), ``n`` truncated to an integer, 0 where n < 0; float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_polynomials import hermite_polynomial_h
        >>> hermite_polynomial_h(gpugrad.tensor([0.5, 2.0], dtype="float64"), 3).tolist()
        [-5.0, 40.0]
    """
    return _polynomial("hermite_h", "hermite_polynomial_h", input, n)


def hermite_polynomial_he(input, n):
    """The probabilists' Hermite polynomial He_n(x) (He_(n+1) = x He_n - n He_(n-1)); NaN above
    degree 128 (float32) or 512 (float64), as PyTorch's, element-wise
    (``torch.special.hermite_polynomial_he``): ``input`` and ``n`` broadcast (either may be a
    Python number), ``n`` truncated to an integer, 0 where n < 0; float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_polynomials import hermite_polynomial_he
        >>> hermite_polynomial_he(gpugrad.tensor([0.5, 2.0], dtype="float64"), 3).tolist()
        [-1.375, 2.0]
    """
    return _polynomial("hermite_he", "hermite_polynomial_he", input, n)


def laguerre_polynomial_l(input, n):
    """The Laguerre polynomial L_n(x) ((n+1) L_(n+1) = (2n + 1 - x) L_n - n L_(n-1)), element-wise
    (``torch.special.laguerre_polynomial_l``): ``input`` and ``n`` broadcast (either may be a
    Python number), ``n`` truncated to an integer, 0 where n < 0; float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_polynomials import laguerre_polynomial_l
        >>> laguerre_polynomial_l(gpugrad.tensor([0.5, 2.0], dtype="float64"), 2).tolist()
        [0.125, -1.0]
    """
    return _polynomial("laguerre_l", "laguerre_polynomial_l", input, n)


def legendre_polynomial_p(input, n):
    """The Legendre polynomial P_n(x) ((n+1) P_(n+1) = (2n + 1) x P_n - n P_(n-1)), element-wise
    (``torch.special.legendre_polynomial_p``): ``input`` and ``n`` broadcast (either may be a
    Python number), ``n`` truncated to an integer, 0 where n < 0; float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_polynomials import legendre_polynomial_p
        >>> legendre_polynomial_p(gpugrad.tensor([0.5, 2.0], dtype="float64"), 2).tolist()
        [-0.125, 5.5]
    """
    return _polynomial("legendre_p", "legendre_polynomial_p", input, n)
