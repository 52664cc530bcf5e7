"""Op table specs (tests/op_specs.py) for the records of this area; op_specs.py adds
them to SPECS: trigonometric.py, pointwise.py, pointwise_binary.py and nonfinite.py."""

import numpy as np

from gpugrad.ops import nonfinite as NF
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
