"""Op table specs (tests/op_specs.py) for the records of this area; op_specs.py adds
them to SPECS: trigonometric.py, pointwise.py, pointwise_binary.py, nonfinite.py and the
special functions (special_gamma.py, special_erf.py, special_bessel.py, special_entropy.py)."""

import math

import numpy as np

import gpugrad
from gpugrad import special as SP
from gpugrad.ops import nonfinite as NF
from gpugrad.ops import special_bessel as SB
from gpugrad.ops import special_entropy as SX
from gpugrad.ops import special_erf as SE
from gpugrad.ops import special_gamma as SG
from gpugrad.ops import pointwise as P
from gpugrad.ops import trigonometric as T
from op_specs import away_from, nonzero, positive, real, spec

INTEGERS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)      # the steps of floor, ceil, trunc, frac
HALVES = (-2.5, -1.5, -0.5, 0.5, 1.5, 2.5)              # the steps of round


def _np_logit(eps):
    def ref(x):
        z = np.clip(x, eps, 1.0 - eps)
        return np.log(z / (1.0 - z))
    return ref


SPECS: list = [
    # ---- trigonometric and hyperbolic
    spec("sin", "Sin", T.sin, np.sin, real((2, 3), low=-4.0, high=4.0)),
    spec("sin_method_0d", "Sin", lambda x: x.sin(), np.sin, real(())),
    spec("cos", "Cos", T.cos, np.cos, real((2, 3), low=-4.0, high=4.0)),
    spec("tan", "Tan", lambda x: x.tan(), np.tan, real((2, 3), low=-1.2, high=1.2)),
    spec("asin", "Asin", T.asin, np.arcsin, real((2, 3), low=-0.8, high=0.8)),
    spec("acos", "Acos", lambda x: x.arccos(), np.arccos, real((2, 3), low=-0.8, high=0.8)),
    spec("atan", "Atan", T.arctan, np.arctan, real((2, 3), low=-3.0, high=3.0)),
    spec("sinh", "Sinh", T.sinh, np.sinh, real((2, 3))),
    spec("cosh", "Cosh", lambda x: x.cosh(), np.cosh, real((2, 3))),
    spec("asinh", "Asinh", T.asinh, np.arcsinh, real((2, 3), low=-3.0, high=3.0)),
    spec("acosh", "Acosh", T.acosh, np.arccosh, positive((2, 3), low=1.2, high=3.0)),
    spec("atanh", "Atanh", lambda x: x.atanh(), np.arctanh, real((2, 3), low=-0.8, high=0.8)),
    spec("atan2_col_row", "Atan2", T.atan2, np.arctan2, nonzero((3, 1)), real((1, 4))),
    spec("atan2_method_matrix_vector", "Atan2", lambda a, b: a.arctan2(b), np.arctan2,
         real((2, 3)), positive((3,))),
    spec("atan2_python_scalar", "Atan2", lambda x: T.atan2(x, -2.0),
         lambda x: np.arctan2(x, -2.0), nonzero((2, 3))),
    spec("hypot_col_row", "Hypot", T.hypot, np.hypot, nonzero((3, 1)), nonzero((1, 4))),
    spec("hypot_python_scalar", "Hypot", lambda x: x.hypot(1.5), lambda x: np.hypot(x, 1.5),
         real((2, 3))),
    spec("deg2rad", "MulScalar", T.deg2rad, np.deg2rad, real((2, 3), low=-200.0, high=200.0)),
    spec("rad2deg", "MulScalar", lambda x: x.rad2deg(), np.rad2deg, real((2, 3))),
    # ---- rounding: zero gradient (frac: 1), samples away from the steps
    spec("floor", "Floor", P.floor, np.floor, away_from((2, 3), *INTEGERS, low=-3, high=3)),
    spec("sign", "Sign", lambda x: x.sign(), np.sign, away_from((2, 3), 0.0)),
    spec("ceil", "Ceil", lambda x: x.ceil(), np.ceil, away_from((2, 3), *INTEGERS)),
    spec("trunc", "Trunc", P.trunc, np.trunc, away_from((2, 3), *INTEGERS)),
    spec("round", "Round", P.round, np.round, away_from((2, 3), *HALVES, low=-3, high=3)),
    spec("round_decimals", "Round", lambda x: x.round(decimals=1), lambda x: np.round(x, 1),
         real((2, 3))),
    spec("round_negative_decimals", "Round", lambda x: P.round(x * 100.0, decimals=-1),
         lambda x: np.round(x * 100.0, -1), real((2, 3))),
    spec("frac", "Frac", lambda x: x.frac(), lambda x: x - np.trunc(x),
         away_from((2, 3), *INTEGERS, low=-3, high=3)),
    # ---- powers, logarithms, sinc, logit
    spec("reciprocal", "Reciprocal", P.reciprocal, np.reciprocal, nonzero((2, 3))),
    spec("rsqrt", "Rsqrt", lambda x: x.rsqrt(), lambda x: 1.0 / np.sqrt(x),
         positive((2, 3), low=0.3, high=3.0)),
    spec("log2", "Log2", P.log2, np.log2, positive((2, 3), low=0.2, high=4.0)),
    spec("log10", "Log10", lambda x: x.log10(), np.log10, positive((2, 3), low=0.2, high=4.0)),
    spec("exp2", "Exp2", P.exp2, np.exp2, real((2, 3), low=-3.0, high=3.0)),
    spec("sinc", "Sinc", P.sinc, np.sinc, away_from((2, 3), 0.0, low=-2.5, high=2.5)),
    spec("logit", "Logit", P.logit, _np_logit(0.0), positive((2, 3), low=0.1, high=0.9)),
    spec("logit_eps", "Logit", lambda x: x.logit(eps=0.2), _np_logit(0.2),
         away_from((2, 3), 0.2, 0.8, low=0.0, high=1.0)),
    spec("nan_to_num_finite", "NanToNum", NF.nan_to_num, np.nan_to_num, real((2, 3))),
    # ---- two inputs: broadcasting, Python numbers
    spec("logaddexp_col_row", "LogAddExp", P.logaddexp, np.logaddexp,
         real((3, 1), low=-3.0, high=3.0), real((1, 4), low=-3.0, high=3.0)),
    spec("logaddexp2_matrix_0d", "LogAddExp2", lambda a, b: a.logaddexp2(b), np.logaddexp2,
         real((2, 3), low=-3.0, high=3.0), real(())),
    # a / b kept inside (2, 3) (trunc 2, floor 2) or (-3, -2) (trunc -2, floor -3): off the steps
    spec("fmod_col_row", ("Fmod", "Trunc"), P.fmod, np.fmod,
         real((3, 1), low=2.3, high=2.7), real((1, 4), low=1.0, high=1.1)),
    spec("fmod_negative_dividend", ("Fmod", "Trunc"), lambda a, b: a.fmod(b), np.fmod,
         real((2, 3), low=-2.7, high=-2.3), real((2, 3), low=1.0, high=1.1)),
    spec("fmod_python_scalar", "Fmod", lambda x: P.fmod(x, 1.5), lambda x: np.fmod(x, 1.5),
         real((2, 3), low=1.6, high=2.9)),
    spec("remainder_col_row", ("Remainder", "Floor"), P.remainder, np.remainder,
         real((3, 1), low=2.3, high=2.7), real((1, 4), low=1.0, high=1.1)),
    spec("remainder_negative_divisor", ("Remainder", "Floor"), lambda a, b: a.remainder(b),
         np.remainder, real((2, 3), low=2.3, high=2.7), real((2, 3), low=-1.1, high=-1.0)),
    spec("remainder_python_scalar_first", ("Remainder", "Floor"),
         lambda x: P.remainder(2.5, x), lambda x: np.remainder(2.5, x),
         real((2, 3), low=1.0, high=1.1)),
    spec("xlogy_col_row", "Xlogy", P.xlogy, lambda x, y: x * np.log(y),
         real((3, 1)), positive((1, 4))),
    spec("xlogy_python_scalar", "Xlogy", lambda x: x.xlogy(3.0), lambda x: x * np.log(3.0),
         real((2, 3))),
    spec("copysign_col_row", "Copysign", P.copysign, np.copysign, nonzero((3, 1)),
         nonzero((1, 4))),
    spec("copysign_python_scalar", "Copysign", lambda x: x.copysign(-1.0),
         lambda x: np.copysign(x, -1.0), nonzero((2, 3))),
    # ---- composites
    spec("lerp_tensor_weight", ("Sub", "Mul", "Where"), P.lerp,
         lambda a, b, w: np.where(np.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w)),
         real((3, 1)), real((1, 4)), away_from((3, 4), -0.5, 0.5, low=-1.0, high=1.5)),
    spec("lerp_scalar_weight_far_end", ("Sub", "MulScalar"), lambda a, b: a.lerp(b, 0.75),
         lambda a, b: a + 0.75 * (b - a), real((2, 3)), real((2, 3))),
    spec("clamp_min", "Clamp", lambda x: P.clamp_min(x, 0.25), lambda x: np.maximum(x, 0.25),
         away_from((2, 3), 0.25)),
    spec("clamp_max_method", "Clamp", lambda x: x.clamp_max(-0.25),
         lambda x: np.minimum(x, -0.25), away_from((2, 3), -0.25)),
]


# ---- special functions (gpugrad/ops/special_*.py): float64 references of their own,
# from the math module, NumPy and the defining series or integrals

def _np_vectorized(f):
    return np.vectorize(f, otypes=[np.float64])


_EULER_GAMMA = 0.5772156649015329


def _np_digamma(x):
    """-gamma + sum over k < K of (1/(k+1) - 1/(k+x)), plus psi(x+K) - psi(K+1) from the
    asymptotic series of each (K = 1000)."""
    k = np.arange(1000.0)
    x = np.asarray(x, np.float64)[..., None]
    head = np.sum(1.0 / (k + 1.0) - 1.0 / (k + x), axis=-1)
    a, b = x[..., 0] + 1000.0, 1001.0
    tail = np.log(a / b) - 0.5 / a + 0.5 / b - 1.0 / (12 * a * a) + 1.0 / (12 * b * b)
    return -_EULER_GAMMA + head + tail


def _np_polygamma(n):
    """(-1)^(n+1) n! sum over k of (x + k)^-(n+1): 1000 terms, then Euler-Maclaurin."""
    def ref(x):
        k = np.arange(1000.0)
        x = np.asarray(x, np.float64)
        head = np.sum((x[..., None] + k) ** -(n + 1.0), axis=-1)
        a = x + 1000.0
        tail = (a ** -n / n + 0.5 * a ** -(n + 1.0) + (n + 1) / 12 * a ** -(n + 2.0)
                - (n + 1) * (n + 2) * (n + 3) / 720 * a ** -(n + 4.0))
        return (-1.0) ** (n + 1) * math.factorial(n) * (head + tail)
    return ref


def _bisect(f, y, low, high):
    """The x in [low, high] with f(x) = y for an increasing f, by bisection."""
    for _ in range(200):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        low, high = (middle, high) if f(middle) < y else (low, middle)
    return 0.5 * (low + high)


_np_erfinv = _np_vectorized(lambda y: _bisect(math.erf, y, -6.0, 6.0))
_np_ndtri = _np_vectorized(
    lambda p: _bisect(lambda x: 0.5 * math.erfc(-x / math.sqrt(2.0)), p, -40.0, 40.0))
_np_ndtr = _np_vectorized(lambda x: 0.5 * math.erfc(-x / math.sqrt(2.0)))


def _np_bessel_i(nu, scaled):
    """(1/pi) integral over [0, pi] of exp(x cos t) cos(nu t) dt (times exp(-|x|)): the
    trapezoidal rule, exact to rounding for a periodic integrand with 400 points."""
    t = np.linspace(0.0, np.pi, 401)
    w = np.full(401, 1.0 / 400)
    w[[0, -1]] = 0.5 / 400

    def ref(x):
        x = np.asarray(x, np.float64)[..., None]
        shift = np.abs(x) if scaled else 0.0
        return np.sum(w * np.exp(x * np.cos(t) - shift) * np.cos(nu * t), axis=-1)
    return ref


def _np_mvlgamma(p):
    return lambda x: sum(_np_vectorized(math.lgamma)(x - 0.5 * i) for i in range(p)) + (
        p * (p - 1) / 4 * math.log(math.pi))


SPECS += [
    spec("lgamma", "Lgamma", SG.lgamma, _np_vectorized(math.lgamma),
         positive((2, 3), low=0.2, high=6.0)),
    spec("lgamma_method_negative", "Lgamma", lambda x: x.lgamma(),
         _np_vectorized(math.lgamma), away_from((2, 3), -3.0, -2.0, low=-2.9, high=-2.1)),
    spec("digamma", ("Digamma", "Polygamma"), SG.digamma, _np_digamma,
         positive((2, 3), low=0.3, high=6.0)),
    spec("digamma_method_negative", ("Digamma", "Polygamma"), lambda x: x.digamma(),
         _np_digamma, away_from((2, 3), -2.0, -1.0, low=-1.9, high=-1.1)),
    spec("polygamma_1", "Polygamma", lambda x: SG.polygamma(1, x), _np_polygamma(1),
         positive((2, 3), low=0.3, high=6.0)),
    spec("polygamma_2_method", "Polygamma", lambda x: x.polygamma(2), _np_polygamma(2),
         positive((2, 3), low=0.5, high=4.0)),
    spec("polygamma_3_negative", "Polygamma", lambda x: SG.polygamma(3, x), _np_polygamma(3),
         away_from((2, 3), -1.0, -2.0, low=-1.8, high=-1.2)),
    spec("mvlgamma_3", "Lgamma", lambda x: SG.mvlgamma(x, 3), _np_mvlgamma(3),
         positive((2, 3), low=1.2, high=4.0)),
    # (a fixed: its derivative is not implemented, as PyTorch's; x on both expansions' sides)
    spec("gammainc_3_series_and_fraction", "RegularizedGamma",
         lambda x: SP.gammainc(gpugrad.full_like(x, 3.0), x),
         lambda x: 1.0 - np.exp(-x) * (1.0 + x + x * x / 2), positive((2, 3), 0.2, 8.0)),
    spec("gammaincc_half_is_erfc_of_the_root", "RegularizedGamma",
         lambda x: SP.gammaincc(gpugrad.full_like(x, 0.5), x),
         lambda x: _np_vectorized(math.erfc)(np.sqrt(x)), positive((2, 3), 0.2, 6.0)),
    # (x fixed: zeta's derivative in x is not implemented, as PyTorch's; zeta(3, q) is
    # -polygamma(2, q) / 2)
    spec("zeta_in_q", "Zeta", lambda q: SP.zeta(gpugrad.full_like(q, 3.0), q),
         lambda q: -_np_polygamma(2)(q) / 2, positive((2, 3), low=0.3, high=4.0)),
    spec("erfc", "Erfc", SE.erfc, _np_vectorized(math.erfc), real((2, 3), low=-3.0, high=5.0)),
    spec("erfc_method_0d", "Erfc", lambda x: x.erfc(), _np_vectorized(math.erfc), real(())),
    spec("erfcx", "Erfcx", SE.erfcx,
         _np_vectorized(lambda x: math.exp(x * x) * math.erfc(x)),
         real((2, 3), low=-2.0, high=6.0)),
    spec("erfinv", "Erfinv", SE.erfinv, _np_erfinv, real((2, 3), low=-0.95, high=0.95)),
    spec("erfinv_method_tails", "Erfinv", lambda x: x.erfinv(), _np_erfinv,
         away_from((2, 3), 0.0, low=-0.999, high=0.999)),
    spec("ndtri", "Ndtri", SE.ndtri, _np_ndtri, positive((2, 3), low=0.02, high=0.98)),
    spec("ndtr", ("Erfc", "MulScalar"), SE.ndtr, _np_ndtr, real((2, 3), low=-4.0, high=4.0)),
    spec("log_ndtr_both_branches", ("Erfc", "Erfcx", "Where"), SE.log_ndtr,
         lambda x: np.log(_np_ndtr(x)), away_from((2, 3), -1.0, low=-4.0, high=3.0)),
    spec("i0", "I0", SB.i0, np.i0, real((2, 3), low=-4.0, high=4.0)),
    spec("i0_method_far", "I0", lambda x: x.i0(), np.i0, real((2, 3), low=15.0, high=30.0)),
    spec("i0e", "I0e", SB.i0e, _np_bessel_i(0, True), nonzero((2, 3))),
    spec("i1", "I1", SB.i1, _np_bessel_i(1, False), real((2, 3), low=-4.0, high=4.0)),
    spec("i1e", "I1e", SB.i1e, _np_bessel_i(1, True), nonzero((2, 3))),
    spec("i1e_far", "I1e", SB.i1e, _np_bessel_i(1, True), real((2, 3), low=18.0, high=40.0)),
    spec("entr", "Entr", SX.entr, lambda x: -x * np.log(x), positive((2, 3), low=0.1, high=3.0)),
    spec("xlog1py_col_row", "Xlog1py", SX.xlog1py, lambda x, y: x * np.log1p(y),
         real((3, 1)), positive((1, 4), low=-0.5, high=2.0)),
    spec("xlog1py_python_scalar", "Xlog1py", lambda y: SX.xlog1py(2.0, y),
         lambda y: 2.0 * np.log1p(y), positive((2, 3), low=-0.5, high=2.0)),
]
