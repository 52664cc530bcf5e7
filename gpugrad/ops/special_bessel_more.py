"""Bessel functions of the first and second kind and Airy's Ai, element-wise, as PyTorch's
``torch.special``: ``bessel_j0``, ``bessel_j1``, ``bessel_y0``, ``bessel_y1``,
``spherical_bessel_j0`` (sin(x)/x) and ``airy_ai``. Float inputs keep their dtype (integers
become the default float dtype); any shape. Not differentiable, as in PyTorch (their outputs
never require grad).

The forwards are Cephes' (j0.c, j1.c, airy.c, 3-clause BSD, as PyTorch's): rational
approximations on x <= 5 and Hankel's asymptotic form with rational P, Q beyond; Ai by its
power series on |x| < 2.09 and its asymptotic forms outside. Unlike PyTorch 2.13 (whose
port drops the leading 1 of Cephes' monic denominators, about 1e-6 relative off near
x = 5), the denominators here are Cephes' own, so float64 holds about 1e-15 relative.

Example::

    >>> from gpugrad.ops.special_bessel_more import bessel_j0, bessel_y1
    >>> x = gpugrad.tensor([1.0, 10.0], dtype="float64")
    >>> [round(v, 12) for v in bessel_j0(x).tolist()]
    [0.765197686558, -0.245935764451]
    >>> [round(v, 12) for v in bessel_y1(x).tolist()]
    [-0.7812128213, 0.249015424207]
"""

from __future__ import annotations

import math

import numpy as np

from .record import BROADCAST, Op
from .special import polynomial
from .unary import _unary

__all__ = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "spherical_bessel_j0",
           "airy_ai"]

# Cephes' coefficients, highest power first; a name in _MONIC is evaluated with a leading 1.
_J0_PP = (0.0007969367292973471, 0.08283523921074408, 1.239533716464143, 5.447250030587687,
          8.74716500199817, 5.303240382353949, 1.0)
_J0_PQ = (0.0009244088105588637, 0.08562884743544745, 1.2535274390105895, 5.470977403304171,
          8.761908832370695, 5.306052882353947, 1.0)
_J0_QP = (-0.011366383889846916, -1.2825271867050931, -19.553954425773597, -93.20601521237683,
          -177.68116798048806, -147.07750515495118, -51.41053267665993, -6.050143506007285)
_J0_QQ = (64.3178256118178, 856.4300259769806, 3882.4018360540163, 7240.467741956525,
          5930.727011873169, 2062.0933166032783, 242.0057402402914)
_J0_RP = (-4794432209.782018, 1956174919465.5657, -249248344360967.72, 9708622510473064.0)
_J0_RQ = (499.563147152651, 173785.4016763747, 48440965.83399621, 11185553704.535683,
          2112775201154.892, 310518229857422.56, 3.1812195594320496e+16, 1.7108629408104315e+18)
_J1_PP = (0.0007621256162081731, 0.07313970569409176, 1.1271960812968493, 5.112079511468076,
          8.424045901417724, 5.214515986823615, 1.0)
_J1_PQ = (0.0005713231280725487, 0.06884559087544954, 1.105142326340617, 5.073863861286015,
          8.399855543276042, 5.209828486823619, 1.0)
_J1_QP = (0.05108625947501766, 4.982138729512334, 75.82382841325453, 366.7796093601508,
          710.8563049989261, 597.4896124006136, 211.68875710057213, 25.207020585802372)
_J1_QQ = (74.23732770356752, 1056.4488603826283, 4986.410583376536, 9562.318924047562,
          7997.041604473507, 2826.1927851763908, 336.0936078106983)
_J1_RP = (-899971225.7055594, 452228297998.19403, -72749424522181.83, 3682957328638529.0)
_J1_RQ = (620.8364781180543, 256987.25675774884, 83514679.14319493, 22151159547.97925,
          4749141220799.914, 784369607876235.9, 8.952223361846274e+16, 5.322786203326801e+18)
_Y0_YP = (15592.436785523574, -14663929.59039716, 5435264770.518765, -982136065717.9115,
          87590639439536.7, -3466283033847297.0, 4.4273326857256984e+16, -1.8495080043698668e+16)
_Y0_YQ = (1041.2835366425984, 626107.330137135, 268919633.39381415, 86400248710.3935,
          20297961275010.555, 3171577528429750.5, 2.5059625617265306e+17)
_Y1_YP = (1263204747.9017804, -647355876379.1603, 114509511541823.73, -8127702555013251.0,
          2.024394757135949e+17, -7.788771962659501e+17)
_Y1_YQ = (594.3015923461282, 235564.09294306856, 73481194.44597217, 18760131610.870617,
          3882312774962.3857, 620557727146953.8, 6.871410873553005e+16, 3.9727060811656064e+18)
_AIRY_AN = (0.346538101525629, 12.007595273964581, 76.27960536152345, 168.08922493463058,
            159.75639135016442, 70.53609068404442, 14.026469116338967, 1.0)
_AIRY_AD = (0.5675945326387702, 14.75625625848472, 84.51389701414746, 177.31808814540045,
            164.2346928715297, 71.47784008255756, 14.095913560783403, 1.0)
_AIRY_AFN = (-0.1316963234183318, -0.6264565444319123, -0.6931580360369335, -0.2797799815451191,
             -0.04919001326095003, -0.004062659235948854, -0.0001592764962392621,
             -2.776491081552329e-06, -1.6778769848911465e-08)
_AIRY_AFD = (13.356042070655324, 32.682503279522464, 26.736704094149957, 9.187074029072596,
             1.4752914677166642, 0.11568717379518804, 0.004402916416152112, 7.547203482874142e-05,
             4.5185009297058035e-07)
_AIRY_AGN = (0.01973399320916857, 0.39110302961568827, 1.0657989759959559, 0.9391692298166502,
             0.35146565610554764, 0.06338889196289255, 0.005858041130483885, 0.000282851600836737,
             6.98793669997261e-06, 8.117892395543892e-08, 3.415517847659236e-10)
_AIRY_AGD = (9.30892908077442, 19.835292871831214, 15.564662893286462, 5.476860694229755,
             0.9542936116189619, 0.08645808263523921, 0.004126565238242226, 0.00010125908511650914,
             1.1716673321441352e-06, 4.9183457006293e-09)

_J0_ZEROS_SQUARED = (5.78318596294678452118, 30.4712623436620863991)
_J1_ZEROS_SQUARED = (14.6819706421238932572, 49.2184563216946036703)
_TWO_OVER_PI = 0.636619772367581343075535053490057448
_SQRT_TWO_OVER_PI = 0.797884560802865355879892119868763737
_ONE_OVER_SQRT_PI = 0.564189583547756286948
_AI_0, _AI_PRIME_0 = 0.355028053887817239260, 0.258819403792806798405


def _monic(coefficients, z):
    """Horner's rule for z^n + coefficients[0] z^(n-1) + ... (Cephes' p1evl)."""
    return polynomial((1.0,) + tuple(coefficients), z)


def _working(x):
    return x if x.dtype.itemsize >= 4 else x.astype(np.float32)


def _hankel(xp, x, order: int):
    """(P, Q) of the large-x forms J = sqrt(2/(pi x)) (P cos(xn) - Q sin(xn)) and
    Y = sqrt(2/(pi x)) (P sin(xn) + Q cos(xn)), xn = x - (2 order + 1) pi/4, for x >= 5."""
    pp, pq, qp, qq = ((_J0_PP, _J0_PQ, _J0_QP, _J0_QQ) if order == 0
                      else (_J1_PP, _J1_PQ, _J1_QP, _J1_QQ))
    w = 5.0 / x
    z = w * w
    return polynomial(pp, z) / polynomial(pq, z), w * polynomial(qp, z) / _monic(qq, z)


def _jn(xp, x, order: int, second_kind: bool):
    """J_order(x) or Y_order(x) on a float array of working precision."""
    y = xp.abs(x)
    near = xp.minimum(y, 5.0)
    far = xp.maximum(y, 5.0)
    z = near * near
    if order == 0:
        small = ((z - _J0_ZEROS_SQUARED[0]) * (z - _J0_ZEROS_SQUARED[1])
                 * polynomial(_J0_RP, z) / _monic(_J0_RQ, z))
    else:
        small = (polynomial(_J1_RP, z) / _monic(_J1_RQ, z) * near
                 * (z - _J1_ZEROS_SQUARED[0]) * (z - _J1_ZEROS_SQUARED[1]))
    p, q = _hankel(xp, far, order)
    xn = far - (0.25 if order == 0 else 0.75) * math.pi
    scale = _SQRT_TWO_OVER_PI / xp.sqrt(far)
    if not second_kind:
        value = xp.where(y <= 5.0, small, (p * xp.cos(xn) - q * xp.sin(xn)) * scale)
        return xp.where(x < 0, -value, value) if order == 1 else value
    if order == 0:
        small = polynomial(_Y0_YP, z) / _monic(_Y0_YQ, z) + _TWO_OVER_PI * xp.log(near) * small
    else:
        small = (near * (polynomial(_Y1_YP, z) / _monic(_Y1_YQ, z))
                 + _TWO_OVER_PI * (small * xp.log(near) - 1.0 / near))
    value = xp.where(x <= 5.0, small, (p * xp.sin(xn) + q * xp.cos(xn)) * scale)
    value = xp.where(x == 0, -xp.inf, value)
    return xp.where(x < 0, xp.nan, value)


def _airy_ai(xp, x):
    """Ai(x): the power series f(x) c1 - g(x) c2 on |x| < 2.09, the oscillating asymptotic
    form below, the decaying one above (0 beyond 103.892, NaN at +-inf, as PyTorch's)."""
    with np.errstate(all="ignore"):
        t = xp.clip(x, -2.09, 2.09)
        z, f, g, uf, ug, k = t * t * t, 1.0, t, 1.0, t, 1.0
        for _ in range(20):             # |z| < 9.2: the 20th term is below 1e-40
            uf = uf * z / ((k + 1.0) * (k + 2.0))
            ug = ug * z / ((k + 2.0) * (k + 3.0))
            k += 3.0
            f, g = f + uf, g + ug
        series = _AI_0 * f - _AI_PRIME_0 * g
        left = xp.minimum(x, -2.09)
        root = xp.sqrt(-left)
        zeta = -2.0 * left * root / 3.0
        w = 1.0 / zeta
        ww = w * w
        uf = 1.0 + ww * polynomial(_AIRY_AFN, ww) / _monic(_AIRY_AFD, ww)
        ug = w * polynomial(_AIRY_AGN, ww) / _monic(_AIRY_AGD, ww)
        theta = zeta + 0.25 * math.pi
        oscillating = (_ONE_OVER_SQRT_PI / xp.sqrt(root)
                       * (xp.sin(theta) * uf - xp.cos(theta) * ug))
        right = xp.clip(x, 2.09, 103.892)
        root = xp.sqrt(right)
        zeta = 2.0 * right * root / 3.0
        ratio = polynomial(_AIRY_AN, 1.0 / zeta) / polynomial(_AIRY_AD, 1.0 / zeta)
        decaying = _ONE_OVER_SQRT_PI * ratio / (2.0 * xp.sqrt(root) * xp.exp(zeta))
        value = xp.where(x < -2.09, oscillating, xp.where(x >= 2.09, decaying, series))
        value = xp.where(x > 103.892, 0.0, value)
        return xp.where(xp.isinf(x), xp.nan, value)


class _Bessel(Op):
    """Settings of the records here (a mixin): element-wise, not differentiable."""

    save = ""
    differentiable = False
    vmap = BROADCAST


class BesselJ0(_Bessel, Op):
    """J_0(x)."""

    @staticmethod
    def forward(xp, x):
        with np.errstate(all="ignore"):
            return _jn(xp, _working(x), 0, False).astype(x.dtype, copy=False)


class BesselJ1(_Bessel, Op):
    """J_1(x), odd."""

    @staticmethod
    def forward(xp, x):
        with np.errstate(all="ignore"):
            return _jn(xp, _working(x), 1, False).astype(x.dtype, copy=False)


class BesselY0(_Bessel, Op):
    """Y_0(x): -inf at 0, NaN below."""

    @staticmethod
    def forward(xp, x):
        with np.errstate(all="ignore"):
            return _jn(xp, _working(x), 0, True).astype(x.dtype, copy=False)


class BesselY1(_Bessel, Op):
    """Y_1(x): -inf at 0, NaN below."""

    @staticmethod
    def forward(xp, x):
        with np.errstate(all="ignore"):
            return _jn(xp, _working(x), 1, True).astype(x.dtype, copy=False)


class SphericalBesselJ0(_Bessel, Op):
    """j_0(x) = sin(x) / x: its Taylor polynomial on |x| < 0.5, 0 at +-inf."""

    @staticmethod
    def forward(xp, x):
        w = _working(x)
        z = w * w
        taylor = polynomial(tuple((-1.0) ** k / math.factorial(2 * k + 1)
                                  for k in reversed(range(8))), z)
        with np.errstate(all="ignore"):
            value = xp.where(xp.abs(w) < 0.5, taylor, xp.sin(w) / w)
        return xp.where(xp.isinf(w), 0.0, value).astype(x.dtype, copy=False)


class AiryAi(_Bessel, Op):
    """Airy's Ai(x)."""

    @staticmethod
    def forward(xp, x):
        return _airy_ai(xp, _working(x)).astype(x.dtype, copy=False)


def bessel_j0(input):
    """The Bessel function of the first kind of order 0, J_0(x), element-wise
    (``torch.special.bessel_j0``): any shape, float dtype kept;
    not differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_bessel_more import bessel_j0
        >>> x = gpugrad.tensor([0.0, 1.0], dtype="float64")
        >>> [round(v, 12) for v in bessel_j0(x).tolist()]
        [1.0, 0.765197686558]
    """
    return _unary(BesselJ0, input)


def bessel_j1(input):
    """The Bessel function of the first kind of order 1, J_1(x) (odd), element-wise
    (``torch.special.bessel_j1``): any shape, float dtype kept;
    not differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_bessel_more import bessel_j1
        >>> x = gpugrad.tensor([-1.0, 0.0], dtype="float64")
        >>> [round(v, 12) for v in bessel_j1(x).tolist()]
        [-0.440050585745, 0.0]
    """
    return _unary(BesselJ1, input)


def bessel_y0(input):
    """The Bessel function of the second kind of order 0, Y_0(x) (-inf at 0, NaN for x < 0),
    element-wise (``torch.special.bessel_y0``): any shape, float dtype kept;
    not differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_bessel_more import bessel_y0
        >>> x = gpugrad.tensor([0.0, 1.0], dtype="float64")
        >>> [round(v, 12) for v in bessel_y0(x).tolist()]
        [-inf, 0.088256964216]
    """
    return _unary(BesselY0, input)


def bessel_y1(input):
    """The Bessel function of the second kind of order 1, Y_1(x) (-inf at 0, NaN for x < 0),
    element-wise (``torch.special.bessel_y1``): any shape, float dtype kept;
    not differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_bessel_more import bessel_y1
        >>> x = gpugrad.tensor([1.0, 2.0], dtype="float64")
        >>> [round(v, 12) for v in bessel_y1(x).tolist()]
        [-0.7812128213, -0.107032431541]
    """
    return _unary(BesselY1, input)


def spherical_bessel_j0(input):
    """The spherical Bessel function of the first kind of order 0, sin(x) / x (1 at 0), element-wise
    (``torch.special.spherical_bessel_j0``): any shape, float dtype kept;
    not differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_bessel_more import spherical_bessel_j0
        >>> x = gpugrad.tensor([0.0, 1.0], dtype="float64")
        >>> [round(v, 12) for v in spherical_bessel_j0(x).tolist()]
        [1.0, 0.841470984808]
    """
    return _unary(SphericalBesselJ0, input)


def airy_ai(input):
    """Airy's function Ai(x), the solution of y'' = x y that decays as x -> inf, element-wise
    (``torch.special.airy_ai``): any shape, float dtype kept;
    not differentiable (as PyTorch's).

    Example::

        >>> from gpugrad.ops.special_bessel_more import airy_ai
        >>> x = gpugrad.tensor([0.0, 1.0], dtype="float64")
        >>> [round(v, 12) for v in airy_ai(x).tolist()]
        [0.355028053888, 0.135292416313]
    """
    return _unary(AiryAi, input)
