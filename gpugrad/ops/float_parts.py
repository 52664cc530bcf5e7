"""Element-wise functions of PyTorch's that look at how a number is stored or treat it in
parts: ``float_power``, ``ldexp``, ``frexp``, ``renorm`` and ``positive`` (composites of
differentiable ops, differentiable where PyTorch's are), and ``gcd``, ``lcm``,
``heaviside``, ``signbit``, ``nextafter`` and ``isreal`` (computed on the raw arrays, not
differentiable, as PyTorch's; refused inside vmap).

Example::

    >>> gpugrad.float_power(gpugrad.tensor([2, 3]), 2).tolist()
    [4.0, 9.0]
    >>> gpugrad.gcd(gpugrad.tensor([12, -8]), gpugrad.tensor([18, 6])).tolist()
    [6, 2]
    >>> m, e = gpugrad.frexp(gpugrad.tensor([3.0, 0.1]))
    >>> m.tolist(), e.tolist()
    ([0.75, 0.800000011920929], [2, -3])
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import backend
from ..autograd.compile_mode import kernel, note_reads
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from . import unary
from .division import floor_divide
from .elementwise import mul, pow, where
from .inplace import in_place_method
from .norms import vector_norm
from .pointwise import exp2
from .shape_errors import checked_dim

__all__ = ["float_power", "gcd", "lcm", "heaviside", "signbit", "frexp", "ldexp",
           "nextafter", "positive", "isreal", "renorm"]

FrexpResult = namedtuple("frexp", ["mantissa", "exponent"])


def raw_arrays(op: str, *tensors):
    """The arrays of ``tensors`` (tensors only), refused inside vmap, on one device; noted
    as read for a compiled step."""
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected tensors, got {type(t).__name__}; wrap a number "
                            f"with gpugrad.tensor(...)")
        if t._batched:
            raise RuntimeError(f"{op} is not supported inside vmap; call it on each example "
                               f"(or on the whole batch outside vmap)")
    note_reads(*tensors)
    arrays = [t._array for t in tensors]
    if len(arrays) > 1:
        backend.check_same_device(op, arrays)
    return arrays


def _integers(op: str, *tensors) -> None:
    for t in tensors:
        if t.dtype.kind not in "iu":
            raise NotImplementedError(f'"{op}" is implemented for integer tensors only, got '
                                      f"{t.dtype}; round and convert first (t.long())")


def _floats(op: str, *tensors) -> None:
    for t in tensors:
        if t.dtype.kind != "f":
            raise NotImplementedError(f'"{op}" is implemented for float tensors only, got '
                                      f"{t.dtype}; convert first (t.double() or t.float())")


def _elementwise_raw(op: str, fn, a, b):
    x, y = raw_arrays(op, a, b)
    return Tensor._wrap(kernel(lambda x, y: backend.xp_of(x).asarray(fn(x, y)), x, y))


def float_power(input, exponent):
    """``input ** exponent`` computed in double precision, as ``torch.float_power``: the
    result is float64 (complex128 if either is complex) whatever the inputs' dtypes; one of
    the two may be a number. Differentiable in both.

    Example::

        >>> gpugrad.float_power(gpugrad.tensor([4.0]), 0.5).dtype
        dtype('float64')
    """
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("float_power: input or exponent must be a tensor")
    complex_result = any(isinstance(v, complex) or
                         (isinstance(v, Tensor) and v.dtype.kind == "c")
                         for v in (input, exponent))
    wide = "complex128" if complex_result else "float64"
    input, exponent = ((unary.astype(v, wide) if isinstance(v, Tensor)
                        else (complex(v) if complex_result else float(v)))
                       for v in (input, exponent))
    return pow(input, exponent)


def _float_power_(self, exponent):
    wanted = "complex128" if self.dtype.kind == "c" else "float64"
    if self.dtype != wanted:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype} but the "
                           f"operation's result requires dtype {wanted}; use "
                           f"t = t.float_power(...) or t.double() first")
    return in_place_method(float_power)(self, exponent)


def gcd(input, other):
    """The greatest common divisor of each pair of integers (non-negative; gcd(0, 0) = 0),
    as ``torch.gcd``. Integer tensors, broadcast. Not differentiable.

    Example::

        >>> gpugrad.gcd(gpugrad.tensor([0, 7]), gpugrad.tensor([0, 21])).tolist()
        [0, 7]
    """
    raw_arrays("gcd", input, other)
    _integers("gcd", input, other)
    return _elementwise_raw("gcd", lambda x, y: backend.xp_of(x).gcd(x, y), input, other)


def lcm(input, other):
    """The least common multiple of each pair of integers (non-negative; 0 if either is
    0), as ``torch.lcm``. Integer tensors, broadcast. Not differentiable.

    Example::

        >>> gpugrad.lcm(gpugrad.tensor([-4, 0]), gpugrad.tensor([6, 5])).tolist()
        [12, 0]
    """
    raw_arrays("lcm", input, other)
    _integers("lcm", input, other)
    return _elementwise_raw("lcm", lambda x, y: backend.xp_of(x).lcm(x, y), input, other)


def heaviside(input, values):
    """The Heaviside step: 0 where ``input`` < 0 (and NaN), 1 where > 0 and ``values``
    (broadcast) where it is 0, as ``torch.heaviside``. Both of one dtype. Not
    differentiable (PyTorch has no derivative for it either).

    Example::

        >>> gpugrad.heaviside(gpugrad.tensor([-1.0, 0.0, 2.0]), gpugrad.tensor([0.5])).tolist()
        [0.0, 0.5, 1.0]
    """
    raw_arrays("heaviside", input, values)
    if input.dtype != values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different "
                           f"dtypes ({input.dtype} and {values.dtype}); convert one first")
    if input.dtype.kind == "c":
        raise TypeError("heaviside is not implemented for complex tensors")

    def step(x, v):
        xp = backend.xp_of(x)
        return xp.where(x == 0, v, (x > 0).astype(x.dtype)).astype(x.dtype)
    if input.requires_grad or values.requires_grad:
        input, values = input.detach(), values.detach()
    return _elementwise_raw("heaviside", step, input, values)


def signbit(input):
    """Whether each element's sign bit is set (True for -0.0 and negatives), as
    ``torch.signbit``: a bool tensor.

    Example::

        >>> gpugrad.signbit(gpugrad.tensor([-0.0, 0.0, -2.0])).tolist()
        [True, False, True]
    """
    (x,) = raw_arrays("signbit", input)
    if input.dtype.kind == "c":
        raise TypeError("signbit is not implemented for complex tensors")
    if input.dtype.kind == "b":
        return Tensor._wrap(kernel(lambda a: backend.xp_of(a).zeros(a.shape, bool), x))
    return Tensor._wrap(kernel(lambda a: backend.xp_of(a).asarray(
        backend.xp_of(a).signbit(a)), x))


def _times_power_of_two(x, k):
    """``x * 2 ** k`` for an integer tensor ``k``, exact wherever the result is (a normal
    number), as ``np.ldexp``: ``2 ** k`` itself may not be representable (float16 from
    k = 16, a subnormal's frexp scale), so x is scaled by three powers of two, each in
    range, in turn (k clipped to where any x overflows or underflows anyway). The
    gradient in x, ``g * 2 ** k``, comes the same way, through ``mul``."""
    bound = 3 * (np.finfo(np.dtype(x.dtype.name)).maxexp - 1)
    k = unary.clamp(k, -bound, bound)
    first = floor_divide(k, 3)
    second = floor_divide(k - first, 2)
    for part in (first, second, k - first - second):
        x = mul(x, exp2(unary.astype(part, x.dtype)))
    return x


def frexp(input):
    """``(mantissa, exponent)`` with ``input = mantissa * 2 ** exponent`` and
    0.5 <= |mantissa| < 1 (0, inf and NaN kept, exponent 0), as ``torch.frexp``; exponent
    int32. Float tensors; differentiable in the mantissa (d mantissa = d input / 2^e).

    Shapes: (...) -> (...), (...).

    Example::

        >>> gpugrad.frexp(gpugrad.tensor([-8.0])).exponent.tolist()
        [4]
    """
    (x,) = raw_arrays("frexp", input)
    if input.dtype.kind != "f":
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes, got "
                           f"{input.dtype}")

    def exponent_of(a):
        xp = backend.xp_of(a)
        return xp.asarray(xp.frexp(a)[1]).astype(np.int32)
    exponent = Tensor._wrap(kernel(exponent_of, x))
    return FrexpResult(_times_power_of_two(input, -exponent), exponent)


def ldexp(input, other):
    """``input * 2 ** other``, as ``torch.ldexp``: integer inputs give the default float
    dtype. Differentiable in both (through ``2 ** other``).

    Example::

        >>> gpugrad.ldexp(gpugrad.tensor([1.0, 3.0]), gpugrad.tensor([3, -1])).tolist()
        [8.0, 1.5]
    """
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError("ldexp: input and other must be tensors")
    if input.dtype.kind in "biu":
        input = unary.astype(input, get_default_dtype())
    if other.dtype.kind in "biu":
        return _times_power_of_two(input, other)
    return mul(input, exp2(other))


def nextafter(input, other):
    """The next float after each element of ``input`` towards ``other``, as
    ``torch.nextafter``. Float tensors of one dtype, broadcast. Not differentiable.

    Example::

        >>> x = gpugrad.tensor([1.0], dtype="float64")
        >>> (gpugrad.nextafter(x, x + 1) - 1).item() == 2.0 ** -52
        True
    """
    raw_arrays("nextafter", input, other)
    _floats("nextafter", input, other)
    if input.dtype != other.dtype:
        raise RuntimeError(f"nextafter: expected both tensors of one dtype, got {input.dtype} "
                           f"and {other.dtype}")
    return _elementwise_raw("nextafter", lambda x, y: backend.xp_of(x).nextafter(x, y),
                            input.detach(), other.detach())


def positive(input):
    """``input`` itself, as ``torch.positive`` (``+input``); bool tensors are refused.

    Example::

        >>> x = gpugrad.tensor([-1.0]); gpugrad.positive(x) is x
        True
    """
    if input.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def isreal(input):
    """Whether each element is real (its imaginary part is 0; always for real dtypes), as
    ``torch.isreal``: a bool tensor.

    Example::

        >>> gpugrad.isreal(gpugrad.tensor([1 + 0j, 1j])).tolist()
        [True, False]
    """
    (x,) = raw_arrays("isreal", input)
    if input.dtype.kind != "c":
        return Tensor._wrap(kernel(lambda a: backend.xp_of(a).ones(a.shape, bool), x))
    return Tensor._wrap(kernel(lambda a: backend.xp_of(a).asarray(a.imag == 0), x))


def renorm(input, p, dim: int, maxnorm):
    """Each slice of ``input`` along ``dim`` (``input.select(dim, i)``) whose ``p``-norm
    exceeds ``maxnorm`` scaled to norm ``maxnorm`` (by ``maxnorm / (norm + 1e-7)``), the
    others kept, as ``torch.renorm``. Differentiable (through the norm too, as PyTorch's).

    Shapes: (..., n, ...) -> the same (at least 2 dimensions).

    Example::

        >>> x = gpugrad.tensor([[3.0, 4.0], [0.3, 0.4]])
        >>> [[round(v, 4) for v in r] for r in gpugrad.renorm(x, 2, 0, 1.0).tolist()]
        [[0.6, 0.8], [0.3, 0.4]]
    """
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} "
                           f"dimensions")
    if not p > 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (p={p})")
    if not maxnorm >= 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.dtype.kind not in "fc":
        raise TypeError(f"renorm: expected a float tensor, got {input.dtype}")
    axis = checked_dim(input, dim, "renorm")
    others = tuple(d for d in range(input.ndim) if d != axis)
    norms = vector_norm(input, p, others, keepdim=True)
    factor = where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return mul(input, unary.astype(factor, input.dtype))


METHODS = {
    "float_power": float_power, "float_power_": _float_power_, "gcd": gcd, "lcm": lcm,
    "gcd_": in_place_method(gcd), "lcm_": in_place_method(lcm), "heaviside": heaviside,
    "heaviside_": in_place_method(heaviside), "signbit": signbit, "frexp": frexp,
    "ldexp": ldexp, "ldexp_": in_place_method(ldexp), "nextafter": nextafter,
    "nextafter_": in_place_method(nextafter), "positive": positive, "isreal": isreal,
    "renorm": renorm, "renorm_": in_place_method(renorm),
}
