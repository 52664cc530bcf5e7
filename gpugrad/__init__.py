"""gpugrad: tensor automatic differentiation on NVIDIA GPUs (CuPy) and CPUs (NumPy).

Example::

    >>> import gpugrad
    >>> x = gpugrad.tensor([2.0], requires_grad=True)
    >>> y = gpugrad.tensor([3.0], requires_grad=True)
    >>> z = x**2 * y + y**3
    >>> z.backward()
    >>> z.item(), x.grad.item(), y.grad.item()
    (39.0, 12.0, 31.0)
"""

from .tensor import Tensor  # first: the ops modules import Tensor at their top
from . import autograd, backend, dtypes, ops
from . import func, pytree
from .autograd import (detect_anomaly, enable_grad, gradcheck, gradgradcheck, inference_mode,
                       is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled)
from .backend import (CudaUnavailableError, Device, DeviceError, get_default_device,
                      is_cuda_usable, set_default_device)
from .creation import (arange, as_tensor, empty, empty_like, eye, full, full_like, linspace,
                       logspace, ones, ones_like, tensor, zeros, zeros_like)
from .dtypes import (bfloat16, bool_, cdouble, cfloat, complex64, complex128, float16, float32,
                     float64, get_default_dtype, int8, int16, int32, int64, set_default_dtype,
                     uint8)
from .ops import (abs, add, all, any, argmax, argmin, astype, broadcast_to, cat, clamp, clip,
                  clone, concatenate, div, exp, expand, flatten, greater,
                  greater_equal, isfinite, isnan, less, less_equal, log, log_softmax,
                  logical_and, logical_not, logical_or, logical_xor, logsumexp, matmul, max,
                  maximum, mean, min, minimum, movedim, mul, neg, not_equal, permute, pow, relu,
                  reshape, sigmoid, sign, softmax, sqrt, squeeze, stack, std, sub, sum, tanh,
                  transpose, unsqueeze, var, view, where)
from .ops.compare import allclose
from .ops.compare import tensors_equal as equal   # torch.equal: one bool (element-wise: eq)
from .ops.cumulative import cumsum
from .ops.diagonal import diag, diag_embed, diagonal, trace
from .ops.einsum import einsum
from .ops.matrix_functions import cholesky, det, inverse, logdet, matrix_power, slogdet
from .ops.matrix_pinv import pinverse
from .ops.contractions import cdist, cross, dist, dot, ger, inner, kron, outer, tensordot, vdot
from .ops.order_statistics import median, quantile
from .ops.pointwise import (ceil, clamp_max, clamp_min, copysign, exp2, fix, floor, fmod, frac,
                            isinf, isneginf, isposinf, lerp, log10, log2, logaddexp, logaddexp2,
                            logit, nan_to_num, reciprocal, remainder, round, rsqrt, sgn, sinc,
                            trunc, xlogy)
from .ops.rearrange import (broadcast_shapes, broadcast_tensors, expand_as, flip, fliplr, flipud,
                            meshgrid, narrow, reshape_as, roll, rot90, swapaxes, swapdims, tile,
                            tril, triu, unbind)
from .ops.counting import (argwhere, bincount, count_nonzero, nonzero, unique,
                           unique_consecutive)
from .ops.matrix_exp import matrix_exp
from .ops.matrix_lu import lu_unpack
from .ops.scatter_ops import index_add, index_copy, scatter, scatter_add, take, take_along_dim
from .ops.scatter_reduce import scatter_reduce
from .ops.masked import index_fill, index_put, masked_scatter, masked_select, repeat_interleave
from .ops.splitting import (atleast_1d, atleast_2d, atleast_3d, column_stack, dsplit, dstack,
                            hsplit, hstack, narrow_copy, row_stack, select, tensor_split,
                            unflatten, vsplit, vstack)
from .ops.shape import moveaxis
from .ops.order_statistics import kthvalue
from .ops.arithmetic import divide, multiply, subtract
from .ops.elementwise import true_divide
from .ops.compare import eq, ge, gt, isclose, le, lt, ne
from .ops.unary import absolute, negative
from .ops.promotion import can_cast, is_complex, promote_types, result_type
from .ops.division import floor_divide
from .ops.bitwise import (bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or,
                          bitwise_right_shift, bitwise_xor)
from .ops.arithmetic import addcdiv, addcmul
from .ops.statistics import (amax, amin, aminmax, cummax, cummin, cumprod, logcumsumexp, nanmean,
                             nansum, std_mean, var_mean)
from .ops.trigonometric import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2,
                                arctanh, asin, asinh, atan, atan2, atanh, cos, cosh, deg2rad,
                                hypot, rad2deg, sin, sinh, tan)
from .ops.product import prod
from .ops.sorting import argsort, sort, topk
from .ops.special import erf, expm1, log1p
from .ops.special_gamma import digamma, lgamma, mvlgamma, polygamma
from .ops.special_erf import erfc, erfinv
from .ops.special_bessel import i0
from . import special, testing  # noqa: E402  (torch.special, torch.testing)
from .ops.elementwise import square
from .ops.norms import norm
from .ops.selection import bmm, chunk, gather, index_select, masked_fill, mm, split
from .creation_like import (from_numpy, is_floating_point, is_tensor, numel, rand_like,
                            randn_like)
from .random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,
                     seed, set_rng_state)
from .random_sampling import (bernoulli, multinomial, normal, rand, randint, randint_like, randn,
                              randperm)
from .type_info import Size, finfo, iinfo
from .serialization import load, save
from .func import vmap
from .interop import from_dlpack
from .ops.matrix_products import addmm, addmv, baddbmm, mv
from .ops.searching import (bucketize, histc, isin, searchsorted, tril_indices, triu_indices,
                            unravel_index)
from .ops.covariance import corrcoef, cov
from .ops.windows import diff
from .ops.spellings import asarray, concat, ravel, t
from .settings import (are_deterministic_algorithms_enabled, get_num_threads,
                       set_num_threads, set_printoptions, use_deterministic_algorithms)

from . import amp, checkpoint, cuda, data, fft, linalg, memory, nn, optim, viz  # noqa: E402
from . import distributions, utils  # noqa: E402  (torch.distributions, torch.utils)
from .cuda.precision import get_matmul_precision, set_matmul_precision  # noqa: E402
from .nn.functional import cosine_similarity, pairwise_distance  # noqa: E402
from .amp import GradScaler, autocast  # noqa: E402
get_float32_matmul_precision, set_float32_matmul_precision = (get_matmul_precision,
                                                              set_matmul_precision)
inf, nan, pi, e, newaxis = float("inf"), float("nan"), 3.141592653589793, 2.718281828459045, None
from . import graphs as _graphs  # noqa: E402
from .compiled import CompileError, compile  # noqa: E402,A004

# gpugrad.cuda's capture names: the capture sits above the optimizers (docs/ARCHITECTURE.md)
cuda.graph, cuda.CapturedStep, cuda.CaptureError = (_graphs.graph, _graphs.CapturedStep,
                                                    _graphs.CaptureError)
cuda.NeedsEagerStep = _graphs.NeedsEagerStep
cuda.is_step_capturing = cuda.is_capturing = _graphs.is_step_capturing

# torch's spellings (gpugrad.bool, gpugrad.long, gpugrad.device...), last: they shadow builtins
from .dtypes import bool, double, float, half, int, long, short  # noqa: E402,A004
device = Device

__version__ = "0.1.0"

__all__ = [
    "compile", "CompileError",
    "autograd", "backend", "dtypes", "ops", "func", "pytree", "Tensor", "Device", "DeviceError",
    "CudaUnavailableError", "get_default_device", "set_default_device", "is_cuda_usable",
    "detect_anomaly", "enable_grad", "gradcheck", "gradgradcheck", "inference_mode",
    "is_grad_enabled", "is_inference_mode_enabled", "no_grad", "set_grad_enabled",
    "arange", "as_tensor", "empty", "eye", "full", "full_like", "linspace", "ones",
    "ones_like", "rand", "randint", "randn", "tensor", "zeros", "zeros_like", "from_dlpack",
    "bool", "bool_", "float16", "float32", "float64", "get_default_dtype", "int8", "int16",
    "int32", "int64", "uint8", "bfloat16", "cdouble", "cfloat", "complex64", "complex128",
    "set_default_dtype", "double", "float", "half", "int", "long", "short", "device",
    "empty_like", "logspace", "is_floating_point", "Generator", "default_generator", "seed",
    "bernoulli", "multinomial", "normal", "randint_like", "randperm", "Size", "finfo", "iinfo",
    "abs", "add", "all", "any", "argmax", "argmin", "astype", "broadcast_to", "cat", "clamp",
    "clip", "clone", "concatenate", "div", "equal", "exp", "expand", "flatten", "greater",
    "greater_equal", "isfinite", "isnan", "less", "less_equal", "log", "log_softmax",
    "logical_and", "logical_not", "logical_or", "logical_xor", "logsumexp", "matmul", "max",
    "maximum", "mean", "min", "minimum", "movedim", "mul", "neg", "not_equal", "permute", "pow",
    "relu", "reshape", "sigmoid", "sign", "softmax", "sqrt", "squeeze", "stack", "std", "sub",
    "sum", "tanh", "transpose", "unsqueeze", "var", "view", "where",
    "allclose", "argsort", "bmm", "chunk", "cumsum", "diag", "diag_embed", "diagonal",
    "einsum", "erf", "expm1", "gather", "trace",
    "special", "testing", "distributions", "utils", "lgamma", "digamma", "polygamma",
    "mvlgamma", "erfc", "erfinv", "i0",
    "index_select", "log1p", "masked_fill", "mm", "norm", "prod", "sort", "split", "square",
    "topk", "from_numpy", "is_tensor", "numel", "rand_like", "randn_like",
    "get_rng_state", "initial_seed", "manual_seed", "set_rng_state", "save", "load", "vmap",
    "amp", "checkpoint", "cuda", "data", "memory", "nn", "optim", "viz",
    "set_matmul_precision", "get_matmul_precision",
    "fft", "linalg", "cholesky", "det", "inverse", "logdet", "matrix_power", "slogdet", "pinverse",
    # sin... (trigonometric.py), floor... (pointwise.py), flip... (rearrange.py),
    # scatter... (scatter_ops.py), outer... (contractions.py), amax... (statistics.py)
    "cdist", "cross", "dist", "dot", "ger", "inner", "kron", "outer", "tensordot", "vdot",
    "median", "quantile", "ceil", "clamp_max", "clamp_min", "copysign", "exp2", "fix", "floor",
    "fmod", "frac", "isinf", "isneginf", "isposinf", "lerp", "log10", "log2", "logaddexp",
    "logaddexp2", "logit", "nan_to_num", "reciprocal", "remainder", "round", "rsqrt", "sgn",
    "sinc", "trunc", "xlogy", "broadcast_shapes", "broadcast_tensors", "expand_as", "flip",
    "fliplr", "flipud", "meshgrid", "narrow", "reshape_as", "roll", "rot90", "swapaxes",
    "swapdims", "tile", "tril", "triu", "unbind", "argwhere", "bincount", "count_nonzero",
    "index_add", "index_copy", "nonzero", "scatter", "scatter_add", "take", "take_along_dim",
    "unique", "unique_consecutive", "scatter_reduce", "matrix_exp", "lu_unpack", "index_fill",
    "index_put", "masked_scatter", "masked_select", "repeat_interleave", "atleast_1d",
    "atleast_2d", "atleast_3d", "column_stack", "dsplit", "dstack", "hsplit", "hstack",
    "narrow_copy", "row_stack", "select", "tensor_split", "unflatten", "vsplit", "vstack",
    "moveaxis", "kthvalue", "divide", "multiply", "subtract", "true_divide", "eq", "ge", "gt",
    "isclose", "le", "lt", "ne", "absolute", "negative", "can_cast", "is_complex",
    "promote_types", "result_type", "floor_divide", "bitwise_and", "bitwise_left_shift",
    "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor", "addcdiv", "addcmul",
    "amax", "amin", "aminmax", "cummax", "cummin", "cumprod", "logcumsumexp",
    "nanmean", "nansum", "std_mean", "var_mean", "acos", "acosh", "arccos", "arccosh", "arcsin",
    "arcsinh", "arctan", "arctan2", "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "cos",
    "cosh", "deg2rad", "hypot", "rad2deg", "sin", "sinh", "tan",
    # PyTorch's names (matrix_products.py, searching.py, covariance.py, windows.py,
    # spellings.py, settings.py) and aliases
    "addmm", "addmv", "baddbmm", "mv", "bucketize", "histc", "isin", "searchsorted",
    "tril_indices", "triu_indices", "unravel_index", "corrcoef", "cov", "diff", "asarray",
    "concat", "ravel", "t", "are_deterministic_algorithms_enabled", "get_num_threads",
    "set_num_threads", "set_printoptions", "use_deterministic_algorithms",
    "cosine_similarity", "pairwise_distance", "GradScaler", "autocast",
    "get_float32_matmul_precision", "set_float32_matmul_precision",
    "inf", "nan", "pi", "e", "newaxis",
]

# complex numbers in parts (ops/complex_parts.py); complex shadows the builtin, as torch's
from .ops.complex_parts import (angle, complex, conj, conj_physical, imag,  # noqa: E402,A004
                                is_conj, polar, real, resolve_conj, view_as_complex,
                                view_as_real)
__all__ += ["angle", "complex", "conj", "conj_physical", "imag", "is_conj", "polar", "real",
            "resolve_conj", "view_as_complex", "view_as_real"]

# NaN-aware statistics (ops/nan_statistics.py, order_statistics.py)
from .ops.nan_statistics import fmax, fmin, msort, nanmedian  # noqa: E402
from .ops.order_statistics import nanquantile  # noqa: E402
__all__ += ["fmax", "fmin", "msort", "nanmedian", "nanquantile"]

# draws whose law depends on tensor values (ops/random_draws.py, ops/standard_gamma.py)
from .ops.random_draws import binomial, poisson  # noqa: E402
from .ops.standard_gamma import standard_gamma as _standard_gamma  # noqa: E402,F401
from .ops.standard_gamma import standard_gamma_grad as _standard_gamma_grad  # noqa: E402,F401
__all__ += ["binomial", "poisson"]

# torch.igamma / torch.igammac: the regularised incomplete gammas (gpugrad.special.gammainc)
igamma, igammac = special.gammainc, special.gammaincc
__all__ += ["igamma", "igammac"]

# more of torch's functions (ops/combinatorics.py, float_parts.py, scatter_views.py,
# frequencies.py, finite_differences.py, legacy_linalg.py); range shadows the builtin, as torch's
from .ops.combinatorics import (addbmm, addr, block_diag, cartesian_prod,  # noqa: E402
                                chain_matmul, combinations, diagflat, vander)
from .ops.float_parts import (float_power, frexp, gcd, heaviside, isreal, lcm,  # noqa: E402
                              ldexp, nextafter, positive, renorm, signbit)
from .ops.scatter_views import (as_strided, diagonal_scatter, index_reduce,  # noqa: E402
                                select_scatter, slice_scatter)
from .ops.frequencies import histogram, mode  # noqa: E402
from .ops.finite_differences import gradient, range  # noqa: E402,A004
from .ops.legacy_linalg import (cholesky_inverse, cholesky_solve, lu, lu_solve,  # noqa: E402
                                 orgqr, qr, svd, triangular_solve)
from .ops.integration import cumulative_trapezoid, trapezoid, trapz  # noqa: E402
__all__ += ["addbmm", "addr", "block_diag", "cartesian_prod", "chain_matmul", "combinations",
            "diagflat", "vander", "float_power", "frexp", "gcd", "heaviside", "isreal", "lcm",
            "ldexp", "nextafter", "positive", "renorm", "signbit", "as_strided",
            "diagonal_scatter", "index_reduce", "select_scatter", "slice_scatter", "histogram",
            "mode", "gradient", "range", "lu", "lu_solve", "qr", "svd", "triangular_solve",
            "cumulative_trapezoid", "trapezoid", "trapz", "cholesky_inverse", "cholesky_solve",
            "orgqr"]
