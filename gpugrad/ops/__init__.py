"""Every differentiable op, one record each (see record.py), grouped by family."""

from .activation import log_softmax, relu, sigmoid, softmax, tanh
from .compare import (all, any, argmax, argmin, equal, greater, greater_equal, isfinite,
                      isnan, less, less_equal, logical_and, logical_not, logical_or,
                      logical_xor, not_equal, sign)
from .arithmetic import add, div, sub
from .elementwise import maximum, minimum, mul, pow, where
from .unary import abs, astype, clamp, clip, clone, exp, log, neg, sqrt, to_device
from .special import erf, expm1, log1p
from .einsum import einsum
from . import binary_cross_entropy as _binary_cross_entropy  # noqa: F401  (its record)
from .linalg import linear, matmul
from .record import REGISTRY, Op, apply
from .extremes import max, min
from .reduce import logsumexp, mean, std, sum, sum_to, var
from .indexing import getitem
from .shape import (broadcast_to, cat, concatenate, expand, flatten, movedim,
                    permute, reshape, squeeze, stack, transpose, unsqueeze, view)

__all__ = [
    "log_softmax", "relu", "sigmoid", "softmax", "tanh",
    "all", "any", "argmax", "argmin", "equal", "greater", "greater_equal", "isfinite", "isnan",
    "less", "less_equal", "logical_and", "logical_not", "logical_or", "logical_xor",
    "not_equal", "sign",
    "abs", "add", "astype", "clamp", "clip", "clone", "div", "exp", "log", "maximum", "minimum",
    "erf", "expm1", "log1p", "einsum",
    "mul", "neg", "pow", "sqrt", "sub", "to_device", "where",
    "linear", "matmul", "REGISTRY", "Op", "apply",
    "logsumexp", "max", "mean", "min", "std", "sum", "sum_to", "var",
    "broadcast_to", "cat", "concatenate", "expand", "flatten", "getitem", "movedim", "permute",
    "reshape", "squeeze", "stack", "transpose", "unsqueeze", "view",
]

from . import methods  # noqa: E402,F401  (importing it gives Tensor its operators)
from . import complex_parts  # noqa: E402,F401  (real, imag, conj...; t.real and t.imag)
