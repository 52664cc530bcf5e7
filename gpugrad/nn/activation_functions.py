"""Functional activations as PyTorch's ``torch.nn.functional``: gelu, silu, softplus,
leaky_relu, elu, hardtanh, relu6, and the smooth ones logsigmoid, mish, selu, celu,
softsign, tanhshrink, glu and softmin (the piecewise ones: piecewise_activations.py).
Each is a composite of gpugrad ops (its gradients, of any order, come from theirs); any
shape in, the same shape and float dtype out (hardtanh and relu6 keep an integer dtype).

At a kink the gradient is PyTorch's: leaky_relu and elu take the left side's at 0,
hardtanh (and relu6) give 0 at both bounds, and softplus is linear only where
``input * beta > threshold``. Branches that are not selected are computed on clamped inputs,
so that no overflow there becomes an inf or a NaN in a gradient. ``inplace=True`` (where
PyTorch has it) writes the result into the input and returns it, as PyTorch's does; the
result is computed from a copy, so it saves no memory here.

Second derivatives exactly at a kink (elu, selu and celu at 0, softplus where ``beta * x
== threshold``) are the left piece's curvature; PyTorch's double backward gives 0 there
(its first derivative takes the other side). leaky_relu, hardtanh and relu6 are records
(ops/activation.py) whose reverse rules read their output: their gradient taken with
``create_graph=True`` requires grad and a second ``autograd.grad`` of it gives zeros, as
PyTorch's.

Example::

    >>> from gpugrad.nn.activation_functions import gelu, leaky_relu
    >>> x = gpugrad.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> leaky_relu(x, 0.1).sum().backward(); x.grad      # slope 0.1 at 0, as PyTorch's
    tensor([0.1, 0.1, 1. ], device='cpu', dtype=float32)
    >>> gelu(x)                                          # x * Phi(x)
    tensor([-0.15865526,  0.        ,  1.9544997 ], device='cpu', dtype=float32, grad_fn=...)
"""

from __future__ import annotations

import math

import warnings

from ..ops.complex_node import refuse_complex
from ..autograd.mode import is_grad_enabled
from ..ops.activation import hardtanh as _hardtanh
from ..ops.activation import leaky_relu as _leaky_relu
from ..ops.activation import relu as _relu
from ..ops.activation import sigmoid, softmax, tanh
from ..ops.elementwise import where
from ..ops.inplace import written_back
from ..ops.rearrange import narrow
from ..ops.special import erf, expm1, log1p
from ..ops.unary import _float, abs, clamp, exp

__all__ = ["gelu", "silu", "softplus", "leaky_relu", "elu", "hardtanh", "relu6", "logsigmoid",
           "mish", "selu", "celu", "softsign", "tanhshrink", "glu", "softmin"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

GELU_APPROXIMATIONS = ("none", "tanh")
_SQRT_HALF = math.sqrt(0.5)
_SQRT_TWO_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(input, approximate: str = "none"):
    """Gaussian error linear unit: ``x * Phi(x)`` with Phi the standard normal CDF,
    ``x * 0.5 * (1 + erf(x / sqrt(2)))``; with ``approximate="tanh"``,
    ``0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``. Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.activation_functions import gelu
        >>> gelu(gpugrad.tensor([-3.0, 0.0, 1.0, 1e4]))
        tensor([-4.0496886e-03,  0.0000000e+00,  8.4134471e-01,  1.0000000e+04],
               device='cpu', dtype=float32)
        >>> gelu(gpugrad.tensor([1.0]), approximate="tanh")
        tensor([0.841192], device='cpu', dtype=float32)
    """
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be one of {GELU_APPROXIMATIONS}, got "
                         f"{approximate!r}")
    x = _float(input)
    if approximate == "none":
        return x * 0.5 * (erf(x * _SQRT_HALF) + 1.0)
    inner = (x + x * x * x * 0.044715) * _SQRT_TWO_OVER_PI
    return x * 0.5 * (tanh(inner) + 1.0)


def silu(input, inplace: bool = False):
    """Sigmoid linear unit (swish): ``x * sigmoid(x)``. Shapes: any -> the same. A complex
    ``x`` gives PyTorch's values, and is refused (as PyTorch's) when it needs a gradient.

    Example::

        >>> from gpugrad.nn.activation_functions import silu
        >>> silu(gpugrad.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.2689414,  0.       ,  0.7310586], device='cpu', dtype=float32)
    """
    if inplace:
        return written_back(input, silu)
    x = _float(input)
    if x.dtype.kind == "c" and x.requires_grad and is_grad_enabled():
        raise RuntimeError("silu does not support automatic differentiation for outputs "
                           "with complex dtype (as PyTorch's); detach the input, or write "
                           "x * gpugrad.sigmoid(x) to differentiate it")
    return x * sigmoid(x)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``
    (as PyTorch's). The log is computed without overflow, so a threshold above about 88
    (float32) or 709 (float64) gives finite values where PyTorch's give inf. Shapes: any ->
    the same.

    Example::

        >>> from gpugrad.nn.activation_functions import softplus
        >>> softplus(gpugrad.tensor([-30.0, 0.0, 1.0, 1e4]))
        tensor([9.3576229e-14, 6.9314718e-01, 1.3132616e+00, 1.0000000e+04],
               device='cpu', dtype=float32)
        >>> softplus(gpugrad.tensor([0.0]), beta=2.0)             # log(2) / 2
        tensor([0.3465736], device='cpu', dtype=float32)
    """
    x = _float(input)
    scaled = x if beta == 1 else x * beta
    smooth = log1p_exp(scaled)
    if beta != 1:
        smooth = smooth / beta
    return where(scaled > threshold, x, smooth)


def log1p_exp(z):
    """log(1 + exp(z)) without overflow for any z: ``z + log1p(exp(-z))`` for z > 0,
    ``log1p(exp(z))`` otherwise, each branch on clamped inputs (so neither overflows where
    it is not selected); its gradient is sigmoid(z) everywhere, 0.5 at 0. (Not in
    ``__all__``: the losses use it; PyTorch's F has no such name.) Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.activation_functions import log1p_exp
        >>> log1p_exp(gpugrad.tensor([0.0, 1000.0, -1000.0]))       # log 2, 1000, 0
        tensor([6.931472e-01, 1.000000e+03, 0.000000e+00], device='cpu', dtype=float32)
    """
    above = clamp(z, min=0.0)
    below = clamp(z, max=0.0)
    return where(z > 0, above + log1p(exp(-above)), log1p(exp(below)))


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """``x`` where x > 0, else ``negative_slope * x``; the gradient at 0 is
    ``negative_slope``, as PyTorch's. Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.activation_functions import leaky_relu
        >>> leaky_relu(gpugrad.tensor([-2.0, 0.0, 3.0]), negative_slope=0.1)
        tensor([-0.2,  0. ,  3. ], device='cpu', dtype=float32)
    """
    if inplace:
        return written_back(input, leaky_relu, negative_slope)
    if negative_slope >= 0:
        return _leaky_relu(input, negative_slope)
    x = _float(input)       # (a negative slope: the output's sign no longer tells the side)
    return where(x > 0, _relu(x), x * negative_slope)   # (relu keeps x in the gradient)


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """Exponential linear unit: ``x`` where x > 0, else ``alpha * (exp(x) - 1)`` (from
    expm1, exact near 0); the gradient at 0 is ``alpha``, as PyTorch's. Shapes: any -> the
    same.

    Example::

        >>> from gpugrad.nn.activation_functions import elu
        >>> elu(gpugrad.tensor([-1.0, 0.0, 2.0]), alpha=2.0)     # 2 (1/e - 1)
        tensor([-1.2642411,  0.       ,  2.       ], device='cpu', dtype=float32)
    """
    if inplace:
        return written_back(input, elu, alpha)
    x = _float(input)
    below = x <= 0                  # (a NaN is not: it takes x's side, as PyTorch's)
    negative = expm1(where(below, x, 0.0))      # (no overflow, nor NaN, from the other side)
    return where(below, negative * alpha if alpha != 1 else negative, x)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """``x`` clamped to [min_val, max_val]; the gradient is 1 strictly inside and 0 at
    and beyond both bounds, as PyTorch's; an integer input gives its own dtype (the bounds
    truncated to it). Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.activation_functions import hardtanh
        >>> x = gpugrad.tensor([-2.0, -1.0, 0.5, 1.0], requires_grad=True)
        >>> hardtanh(x).sum().backward(); x.grad
        tensor([0., 0., 1., 0.], device='cpu', dtype=float32)
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val}); swap them")
    if inplace:
        return written_back(input, hardtanh, min_val, max_val)
    if input.dtype.kind in "iu":            # integers stay integers, as PyTorch's
        out = where(input <= min_val, min_val, where(input >= max_val, max_val, input))
        return out if out.dtype == input.dtype else out.astype(input.dtype)
    return _hardtanh(input, min_val, max_val)


def relu6(input, inplace: bool = False):
    """``min(max(x, 0), 6)``: hardtanh on [0, 6], with its gradient (0 at 0 and at 6).
    Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.activation_functions import relu6
        >>> relu6(gpugrad.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.], device='cpu', dtype=float32)
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def logsigmoid(input):
    """``log(sigmoid(x)) = -log(1 + exp(-x))``, without overflow for any x (its gradient is
    ``sigmoid(-x)``). Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.activation_functions import logsigmoid
        >>> logsigmoid(gpugrad.tensor([-1e4, 0.0, 1e4]))          # -1e4, -log 2, 0
        tensor([-1.000000e+04, -6.931472e-01, -0.000000e+00], device='cpu', dtype=float32)
    """
    return -log1p_exp(-_float(input))


def mish(input, inplace: bool = False):
    """``x * tanh(softplus(x))`` (softplus without PyTorch's threshold, and without overflow).
    Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.activation_functions import mish
        >>> mish(gpugrad.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.3034014,  0.       ,  0.8650984], device='cpu', dtype=float32)
    """
    if inplace:
        return written_back(input, mish)
    x = _float(input)
    return x * tanh(log1p_exp(x))


def selu(input, inplace: bool = False):
    """Scaled ELU: ``scale * elu(x, alpha)`` with PyTorch's constants alpha = 1.6732632...
    and scale = 1.0507009...; the gradient at 0 is ``scale * alpha`` (the left side's, as
    PyTorch's). Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.activation_functions import selu
        >>> selu(gpugrad.tensor([-1.0, 0.0, 1.0]))
        tensor([-1.1113307,  0.       ,  1.050701 ], device='cpu', dtype=float32)
    """
    if inplace:
        return written_back(input, selu)
    return elu(input, SELU_ALPHA) * SELU_SCALE


def celu(input, alpha: float = 1.0, inplace: bool = False):
    """``x`` where x > 0, else ``alpha * (exp(x / alpha) - 1)``; the gradient at 0 is 1
    (the left side's, as PyTorch's). ``alpha`` must not be 0. Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.activation_functions import celu
        >>> celu(gpugrad.tensor([-2.0, 0.0, 2.0]), alpha=2.0)       # 2 (1/e - 1)
        tensor([-1.2642411,  0.       ,  2.       ], device='cpu', dtype=float32)
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (the input is divided by it); use relu "
                         "for the limit alpha -> 0+")
    if inplace:
        return written_back(input, celu, alpha)
    x = _float(input)
    below = x <= 0                  # (a NaN is not: it takes x's side, as PyTorch's)
    negative = expm1(where(below, x, 0.0) * (1.0 / alpha)) * alpha
    return where(below, negative, x)


def softsign(input):
    """``x / (1 + |x|)``. Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.activation_functions import softsign
        >>> softsign(gpugrad.tensor([-3.0, 0.0, 1.0]))
        tensor([-0.75,  0.  ,  0.5 ], device='cpu', dtype=float32)
    """
    x = _float(input)
    return x / (abs(x) + 1.0)


def tanhshrink(input):
    """``x - tanh(x)``. Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.activation_functions import tanhshrink
        >>> tanhshrink(gpugrad.tensor([0.0, 1.0]))
        tensor([0.        , 0.23840582], device='cpu', dtype=float32)
    """
    x = _float(input)
    return x - tanh(x)


def glu(input, dim: int = -1):
    """Gated linear unit: ``a * sigmoid(b)`` with ``a`` and ``b`` the first and second half
    of ``input`` along ``dim`` (whose size must be even). Shapes: (..., 2 H, ...) ->
    (..., H, ...).

    Example::

        >>> from gpugrad.nn.activation_functions import glu
        >>> glu(gpugrad.tensor([[2.0, 4.0, 0.0, 1e4]]))             # [2 / 2, 4 * 1]
        tensor([[1., 4.]], device='cpu', dtype=float32)
    """
    refuse_complex("glu", input, ordered=False, hint="gate the real and imaginary parts apart")
    if input.ndim == 0:
        raise ValueError("glu: a 0-d tensor cannot be halved; give it at least one "
                         "dimension of even size")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"glu: dim {dim} is out of range for a tensor with {input.ndim} "
                         f"dimensions")
    size = input.shape[dim]
    if size % 2:
        raise ValueError(f"glu: halving dimension must be even, but dimension {dim} of shape "
                         f"{tuple(input.shape)} has size {size}")
    x = _float(input)
    return narrow(x, dim, 0, size // 2) * sigmoid(narrow(x, dim, size // 2, size // 2))


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``softmax(-x)`` along ``dim``: each slice sums to 1, the smallest value weighs most.
    ``dim`` None picks PyTorch's old implicit axis (0 for 0-, 1- and 3-d inputs, else 1),
    with its warning; ``dtype``: the input is cast to it first. Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.activation_functions import softmin
        >>> softmin(gpugrad.tensor([[0.0, float(np.log(3.0))]]), dim=1)     # [3/4, 1/4]
        tensor([[0.75, 0.25]], device='cpu', dtype=float32)
    """
    if dim is None:
        warnings.warn("Implicit dimension choice for softmin has been deprecated. Change the "
                      "call to include dim=X as an argument.", stacklevel=_stacklevel)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    if dtype is not None:
        input = input.astype(dtype)
    return softmax(-_float(input), dim=dim)
