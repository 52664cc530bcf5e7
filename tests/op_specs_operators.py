"""Op table specs (tests/op_specs.py) for the records of this area; op_specs.py adds
them to SPECS: division.py (``//``, ``div``'s rounding modes) and the composites of
arithmetic.py and unary.clamp's tensor bounds."""

import numpy as np

from gpugrad.ops import arithmetic as A
from gpugrad.ops import division as D
from op_specs import distinct, positive, real, spec

SPECS: list = [
    # quotients kept away from integers (the steps), so finite differences see the zero slope
    spec("floor_divide_col_row", "RoundedDiv", lambda a, b: a // b, np.floor_divide,
         real((3, 1), low=2.3, high=2.7), real((1, 4), low=1.0, high=1.1)),
    spec("floor_divide_negative_divisor", "RoundedDiv", lambda a, b: a.floor_divide(b),
         np.floor_divide, real((2, 3), low=2.3, high=2.7), real((2, 3), low=-1.1, high=-1.0)),
    spec("floor_divide_python_scalar_first", "RoundedDiv", lambda x: 2.5 // x,
         lambda x: np.floor_divide(2.5, x), real((2, 3), low=1.0, high=1.1)),
    spec("floor_divide_function_scalar", "RoundedDiv", lambda x: D.floor_divide(x, 0.7),
         lambda x: np.floor_divide(x, 0.7), real((2, 3), low=1.5, high=2.0)),
    spec("div_trunc_negative", "RoundedDiv",
         lambda a, b: A.div(a, b, rounding_mode="trunc"), lambda a, b: np.trunc(a / b),
         real((2, 3), low=-2.7, high=-2.3), real((3,), low=1.0, high=1.1)),
    spec("div_floor_method", "RoundedDiv", lambda a, b: a.div(b, rounding_mode="floor"),
         np.floor_divide, real((2, 3), low=-2.7, high=-2.3), real((2, 3), low=1.0, high=1.1)),
    # composites
    spec("clamp_tensor_bounds", "Where", lambda x, lo, hi: x.clamp(lo, hi), np.clip,
         distinct((2, 3)), distinct((2, 3)), distinct((3,))),
    spec("clamp_tensor_min_only", "Where", lambda x, lo: x.clamp(min=lo),
         lambda x, lo: np.maximum(x, lo), distinct((2, 3)), distinct((1, 3))),
    spec("addcmul_value", ("Mul", "MulScalar", "Add"),
         lambda x, a, b: A.addcmul(x, a, b, value=0.5), lambda x, a, b: x + 0.5 * a * b,
         real((2, 3)), real((2, 3)), real((3,))),
    spec("addcdiv_method", ("Div", "Add"), lambda x, a, b: x.addcdiv(a, b),
         lambda x, a, b: x + a / b, real((2, 3)), real((2, 3)), positive((2, 1))),
    spec("add_alpha", ("MulScalar", "Add"), lambda a, b: A.add(a, b, alpha=-2.0),
         lambda a, b: a - 2.0 * b, real((2, 3)), real((3,))),
]
