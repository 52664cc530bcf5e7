"""Modified Bessel functions under ``torch.special``'s names, element-wise:
``modified_bessel_i0``, ``modified_bessel_i1`` (the values of ``i0``/``i1``),
``modified_bessel_k0``, ``modified_bessel_k1`` and the scaled ``scaled_modified_bessel_k0`` =
exp(x) K_0(x), ``scaled_modified_bessel_k1`` = exp(x) K_1(x). Float inputs keep their dtype
(integers become the default float dtype); any shape. Not differentiable, as in PyTorch
(their outputs never require grad; ``gpugrad.special.i0``/``i1`` are).

K_nu is Cephes' (k0.c, k1.c, 3-clause BSD, as PyTorch's): Chebyshev series in x^2 - 2 plus
the log(x/2) I_nu(x) term on 0 < x <= 2, and in 8/x - 2 times exp(-x)/sqrt(x) beyond; inf at
0, NaN for x < 0. About 1e-15 relative in float64.

Example::

    >>> from gpugrad.ops.special_bessel_k import modified_bessel_k0
    >>> x = gpugrad.tensor([1.0, 10.0], dtype="float64")
    >>> [round(v, 15) for v in modified_bessel_k0(x).tolist()]
    [0.421024438240708, 1.7780062316e-05]
"""

from __future__ import annotations

import numpy as np

from .record import BROADCAST, Op
from .special_bessel import _scaled as _bessel_i
from .unary import _unary

__all__ = ["modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
           "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1"]

# Cephes' Chebyshev coefficients (A: 0 < x <= 2, in x^2 - 2; B: x > 2, in 8/x - 2)
_K0_A = (1.374465435613523e-16, 4.25981614279661e-14, 1.0349695257633842e-11, 1.904516377220209e-09,
         2.5347910790261494e-07, 2.286212103119452e-05, 0.001264615411446926, 0.0359799365153615,
         0.3442898999246285, -0.5353273932339028)
_K0_B = (5.300433772686263e-18, -1.6475804301524212e-17, 5.2103915050390274e-17,
         -1.678231096805412e-16, 5.512055978524319e-16, -1.848593377343779e-15,
         6.3400764774050706e-15, -2.2275133269916698e-14, 8.032890775363575e-14,
         -2.9800969231727303e-13, 1.140340588208475e-12, -4.514597883373944e-12,
         1.8559491149547177e-11, -7.957489244477107e-11, 3.577397281400301e-10,
         -1.69753450938906e-09, 8.574034017414225e-09, -4.660489897687948e-08,
         2.766813639445015e-07, -1.8317555227191195e-06, 1.39498137188765e-05,
         -0.00012849549581627802, 0.0015698838857300533, -0.0314481013119645, 2.4403030820659555)
_K1_A = (-7.023863479386288e-18, -2.427449850519366e-15, -6.666901694199329e-13,
         -1.4114883926335278e-10, -2.213387630734726e-08, -2.4334061415659684e-06,
         -0.0001730288957513052, -0.006975723859639864, -0.12261118082265715, -0.3531559607765449,
         1.5253002273389478)
_K1_B = (-5.756744483665017e-18, 1.7940508731475592e-17, -5.689462558442859e-17,
         1.838093544366639e-16, -6.057047248373319e-16, 2.038703165624334e-15,
         -7.019837090418314e-15, 2.4771544244813043e-14, -8.976705182324994e-14,
         3.3484196660784293e-13, -1.2891739609510289e-12, 5.13963967348173e-12,
         -2.1299678384275683e-11, 9.218315187605006e-11, -4.1903547593418965e-10,
         2.015049755197033e-09, -1.0345762465678097e-08, 5.7410841254500495e-08,
         -3.5019606030878126e-07, 2.406484947837217e-06, -1.936197974166083e-05,
         0.00019521551847135162, -0.002857816859622779, 0.10392373657681724, 2.7206261904844427)


def _chebyshev(coefficients, y):
    """Clenshaw's sum of a Chebyshev series at y (Cephes' chbevl)."""
    b0, b1, b2 = coefficients[0] + 0.0 * y, 0.0, 0.0
    for c in coefficients[1:]:
        b2, b1 = b1, b0
        b0 = y * b1 - b2 + c
    return 0.5 * (b0 - b2)


def _k(xp, x, order: int, scaled: bool):
    """K_order(x) (``scaled``: exp(x) K_order(x)) on a raw float array, in x's dtype."""
    w = x if x.dtype.itemsize >= 4 else x.astype(np.float32)
    with np.errstate(all="ignore"):
        near = xp.clip(w, 0.0, 2.0)
        far = xp.maximum(w, 2.0)
        log_half = xp.log(0.5 * near)
        if order == 0:
            small = _chebyshev(_K0_A, near * near - 2.0) - log_half * _bessel_i(xp, near, 0, False)
        else:
            small = (log_half * _bessel_i(xp, near, 1, False)
                     + _chebyshev(_K1_A, near * near - 2.0) / near)
        large = _chebyshev(_K0_B if order == 0 else _K1_B, 8.0 / far - 2.0) / xp.sqrt(far)
        if scaled:
            small = small * xp.exp(near)
        else:
            large = large * xp.exp(-far)
        value = xp.where(w <= 2.0, small, large)
        value = xp.where(w == 0, xp.inf, value)
        value = xp.where(w < 0, xp.nan, value)
    return value.astype(x.dtype, copy=False)


class _Modified(Op):
    """Settings of the records here (a mixin): element-wise, not differentiable."""

    save = ""
    differentiable = False
    vmap = BROADCAST


class ModifiedBesselI0(_Modified, Op):
    """I_0(x), as ``i0`` but without a gradient."""

    @staticmethod
    def forward(xp, x):
        return _bessel_i(xp, x, 0, False)


class ModifiedBesselI1(_Modified, Op):
    """I_1(x), as ``i1`` but without a gradient."""

    @staticmethod
    def forward(xp, x):
        return _bessel_i(xp, x, 1, False)


class ModifiedBesselK0(_Modified, Op):
    """K_0(x)."""

    @staticmethod
    def forward(xp, x):
        return _k(xp, x, 0, False)


class ModifiedBesselK1(_Modified, Op):
    """K_1(x)."""

    @staticmethod
    def forward(xp, x):
        return _k(xp, x, 1, False)


class ScaledModifiedBesselK0(_Modified, Op):
    """exp(x) K_0(x)."""

    @staticmethod
    def forward(xp, x):
        return _k(xp, x, 0, True)


class ScaledModifiedBesselK1(_Modified, Op):
    """exp(x) K_1(x)."""

    @staticmethod
    def forward(xp, x):
        return _k(xp, x, 1, True)


def modified_bessel_i0(input):
    """The modified Bessel function of the first kind of order 0, I_0(x) (the value of ``i0``),
    element-wise (``torch.special.modified_bessel_i0``): any shape, float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_bessel_k import modified_bessel_i0
        >>> x = gpugrad.tensor([0.0, 1.0], dtype="float64")
        >>> [round(v, 12) for v in modified_bessel_i0(x).tolist()]
        [1.0, 1.266065877752]
    """
    return _unary(ModifiedBesselI0, input)


def modified_bessel_i1(input):
    """The modified Bessel function of the first kind of order 1, I_1(x) (the value of ``i1``),
    element-wise (``torch.special.modified_bessel_i1``): any shape, float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_bessel_k import modified_bessel_i1
        >>> x = gpugrad.tensor([-1.0, 0.0], dtype="float64")
        >>> [round(v, 12) for v in modified_bessel_i1(x).tolist()]
        [-0.565159103992, 0.0]
    """
    return _unary(ModifiedBesselI1, input)


def modified_bessel_k0(input):
    """The modified Bessel function of the second kind of order 0, K_0(x) (inf at 0, NaN for x < 0),
    element-wise (``torch.special.modified_bessel_k0``): any shape, float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_bessel_k import modified_bessel_k0
        >>> x = gpugrad.tensor([1.0, 2.0], dtype="float64")
        >>> [round(v, 12) for v in modified_bessel_k0(x).tolist()]
        [0.421024438241, 0.11389387275]
    """
    return _unary(ModifiedBesselK0, input)


def modified_bessel_k1(input):
    """The modified Bessel function of the second kind of order 1, K_1(x) (inf at 0, NaN for x < 0),
    element-wise (``torch.special.modified_bessel_k1``): any shape, float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_bessel_k import modified_bessel_k1
        >>> x = gpugrad.tensor([1.0, 2.0], dtype="float64")
        >>> [round(v, 12) for v in modified_bessel_k1(x).tolist()]
        [0.601907230197, 0.139865881817]
    """
    return _unary(ModifiedBesselK1, input)


def scaled_modified_bessel_k0(input):
    """exp(x) K_0(x), finite for large x (inf at 0, NaN for x < 0), element-wise
    (``torch.special.scaled_modified_bessel_k0``): any shape, float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_bessel_k import scaled_modified_bessel_k0
        >>> x = gpugrad.tensor([1.0, 2.0], dtype="float64")
        >>> [round(v, 12) for v in scaled_modified_bessel_k0(x).tolist()]
        [1.144463079807, 0.841568215071]
    """
    return _unary(ScaledModifiedBesselK0, input)


def scaled_modified_bessel_k1(input):
    """exp(x) K_1(x), finite for large x (inf at 0, NaN for x < 0), element-wise
    (``torch.special.scaled_modified_bessel_k1``): any shape, float dtype kept; not
    differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_bessel_k import scaled_modified_bessel_k1
        >>> x = gpugrad.tensor([1.0, 2.0], dtype="float64")
        >>> [round(v, 12) for v in scaled_modified_bessel_k1(x).tolist()]
        [1.636153486263, 1.033476847069]
    """
    return _unary(ScaledModifiedBesselK1, input)
