"""Non-differentiable ops: comparisons (< <= > >= == !=, and PyTorch's names eq, ne, lt, le,
gt, ge), isclose, logical and/or/xor/not, sign, argmax/argmin, any/all, isfinite; and
allclose (a Python bool). Their results never require grad.

Example::

    >>> x = gpugrad.tensor([-1.0, 2.0])
    >>> (x > 0).tolist(), gpugrad.argmax(x).item()
    ([False, True], 1)
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.mode import _state as _grad_mode
from ..creation import zeros_like
from ..autograd.capture_mode import refuse_host_sync
from ..autograd.compile_mode import _state as _compiling
from ..autograd.compile_mode import kernel, note_reads
from . import batching as _batching
from .complex_node import refuse_complex
from .record import BROADCAST, ELEMENTWISE, Op, apply, broadcast_error
from .reduce import normalize_axis
from ..scalar_casts import NUMPY_INTS, wrapped_int
from ..tensor import Tensor

__all__ = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
           "logical_and", "logical_or", "logical_xor", "logical_not", "sign", "argmax",
           "argmin", "any", "all", "isfinite", "isnan", "allclose", "isclose",
           "eq", "ne", "lt", "le", "gt", "ge"]


def _any_batched(*values) -> bool:
    for v in values:
        if isinstance(v, Tensor) and v._batched:
            return True
    return False


def _unary(name: str, x):
    if x._batched:
        return _batching.raw_elementwise(lambda v: _unary(name, v), x)
    note_reads(x)
    return _wrap(kernel(getattr(x._xp(), name), x._array))


def _wrap(array):
    if array.__class__ is not np.ndarray and isinstance(array, np.generic):
        array = np.asarray(array)
    return Tensor._wrap(array)


def _operand(value):
    return value._array if isinstance(value, Tensor) else value


_NUMBERS = (float, int, bool)


def _binary(name: str, a, b, ordered: str = ""):
    """``xp.<name>(a, b)`` as a tensor that does not require grad; tensors or numbers,
    broadcast (an int meeting an integer tensor wraps into its dtype first, as PyTorch's:
    ``uint8_tensor > -1`` compares with 255). ``ordered``: the short name of a comparison
    that needs an order, which refuses complex operands (as PyTorch's)."""
    x = a._array if a.__class__ is Tensor else None
    y = b._array if b.__class__ is Tensor else b
    if ordered and (x is None or x.dtype.kind == "c" or y.__class__ not in _NUMBERS and
                    getattr(y, "dtype", None) is not None and y.dtype.kind == "c" or
                    y.__class__ is complex):
        refuse_complex(ordered, a, b)
    if x.__class__ is np.ndarray and (y.__class__ is np.ndarray or y.__class__ in _NUMBERS) \
            and _compiling.recorder is None:    # (all NumPy, nothing to write down: call it)
        if y.__class__ is int and not 0 <= y <= 127 and x.dtype.kind in "iu":
            y = wrapped_int(y, x.dtype, name)
        try:
            return _wrap(getattr(np, name)(x, y))
        except ValueError as exc:
            raise broadcast_error(name, [np.shape(x), np.shape(y)], exc) from None
    return binary_with(name, None, a, b)


def binary_with(name: str, function, a, b):
    """``function(a, b)`` on the arrays of ``a`` and ``b`` (``xp.<name>`` when None; ``name``
    for errors) as a tensor that does not require grad: inside vmap, on any device, and in
    a compiled step (``function`` is what its replays call)."""
    if _any_batched(a, b):
        return _batching.raw_elementwise(lambda x, y: binary_with(name, function, x, y), a, b)
    x, y = _operand(a), _operand(b)
    if y.__class__ in NUMPY_INTS:           # (np.int64(-1): a Python int, as PyTorch's)
        y = int(y)
    elif x.__class__ in NUMPY_INTS:
        x = int(x)
    if y.__class__ is int and isinstance(a, Tensor):
        y = wrapped_int(y, a.dtype, name)
    elif x.__class__ is int and isinstance(b, Tensor):
        x = wrapped_int(x, b.dtype, name)
    arrays = [v for v in (x, y) if hasattr(v, "shape") and not isinstance(v, np.generic)]
    if len(arrays) == 2:
        backend.check_same_device(name, arrays)
    function = function or getattr(backend.xp_of(arrays[0]), name)
    try:
        if _compiling.recorder is None:
            return _wrap(function(x, y))
        note_reads(a, b)
        return _wrap(kernel(function, x, y))
    except ValueError as exc:
        raise broadcast_error(name, [np.shape(x), np.shape(y)], exc) from None


def equal(a, b):
    """``a == b`` element-wise with broadcasting, as ``torch.eq`` (also ``t.eq(b)`` and the
    ``==`` operator; ``gpugrad.equal`` is ``torch.equal``: one bool); either may be a
    number. A bool tensor.

    Example::

        >>> gpugrad.ops.compare.eq(gpugrad.tensor([1, 2, 3]), 2).tolist()
        [False, True, False]
    """
    return _binary("equal", a, b)


def not_equal(a, b):
    """``a != b`` element-wise with broadcasting, as ``torch.ne`` (also ``not_equal``,
    ``t.ne(b)`` and the ``!=`` operator); either may be a number. A bool tensor.

    Example::

        >>> gpugrad.ops.compare.ne(gpugrad.tensor([1, 2, 3]), 2).tolist()
        [True, False, True]
    """
    return _binary("not_equal", a, b)


def less(a, b):
    """``a < b`` element-wise with broadcasting, as ``torch.lt`` (also ``less``,
    ``t.lt(b)`` and the ``<`` operator); either may be a number. A bool tensor.

    Example::

        >>> gpugrad.ops.compare.lt(gpugrad.tensor([1, 2, 3]), 2).tolist()
        [True, False, False]
    """
    return _binary("less", a, b, "lt")


def less_equal(a, b):
    """``a <= b`` element-wise with broadcasting, as ``torch.le`` (also ``less_equal``,
    ``t.le(b)`` and the ``<=`` operator); either may be a number. A bool tensor.

    Example::

        >>> gpugrad.ops.compare.le(gpugrad.tensor([1, 2, 3]), 2).tolist()
        [True, True, False]
    """
    return _binary("less_equal", a, b, "le")


def greater(a, b):
    """``a > b`` element-wise with broadcasting, as ``torch.gt`` (also ``greater``,
    ``t.gt(b)`` and the ``>`` operator); either may be a number. A bool tensor.

    Example::

        >>> gpugrad.ops.compare.gt(gpugrad.tensor([1, 2, 3]), 2).tolist()
        [False, False, True]
    """
    return _binary("greater", a, b, "gt")


def greater_equal(a, b):
    """``a >= b`` element-wise with broadcasting, as ``torch.ge`` (also ``greater_equal``,
    ``t.ge(b)`` and the ``>=`` operator); either may be a number. A bool tensor.

    Example::

        >>> gpugrad.ops.compare.ge(gpugrad.tensor([1, 2, 3]), 2).tolist()
        [False, True, True]
    """
    return _binary("greater_equal", a, b, "ge")


eq, ne, lt, le, gt, ge = equal, not_equal, less, less_equal, greater, greater_equal


def logical_and(a, b):
    return _binary("logical_and", a, b)


def logical_or(a, b):
    return _binary("logical_or", a, b)


def logical_xor(a, b):
    return _binary("logical_xor", a, b)


def logical_not(x):
    return _unary("logical_not", x)


class Sign(Op):
    """-1, 0 or 1 by the sign of each element: piecewise constant, so its gradient is zero
    (PyTorch's convention, the jump at 0 included). A record only where ``x`` requires grad,
    so that what a rule computes from it (``abs``'s ``g * sign(x)``) stays in the graph and a
    second derivative through it is zero, as PyTorch's, not missing."""

    save = ""
    vmap = BROADCAST
    jvp = ELEMENTWISE

    @staticmethod
    def forward(xp, x):
        return _sign(xp, x)

    @staticmethod
    def vjp(ctx, g):
        return zeros_like(g)


def _sign(xp, x):
    """``sign(x)`` as ``torch.sign``: (x > 0) - (x < 0), so 0 at NaN (NumPy's is NaN) and
    ``abs``'s gradient ``g * sign(x)`` is 0 there, as PyTorch's. For floats, subtracted as
    int8 and then cast: no slower than ``xp.sign``."""
    if x.dtype.kind != "f":
        return xp.sign(x)
    return xp.subtract((x > 0).view(np.int8), (x < 0).view(np.int8)).astype(x.dtype)


def sign(x):
    """-1, 0 or 1 by the sign of each element (same dtype as ``x``; 0 at NaN, as PyTorch's);
    zero gradient.

    Example::

        >>> x = gpugrad.tensor([-2.0, 0.0, 3.0], requires_grad=True)
        >>> s = gpugrad.sign(x)
        >>> s.tolist(), s.requires_grad           # (as torch.sign's)
        ([-1.0, 0.0, 1.0], True)
    """
    refuse_complex("sign", x, hint="For z / |z| (0 at 0) use gpugrad.sgn, as in PyTorch")
    if x._batched or (x._requires_grad and _grad_mode.grad_enabled):
        return apply(Sign, x)       # (vmap: the record's batching rule, whose output may
                                    # require grad through the batch's own graph)
    note_reads(x)
    return _wrap(kernel(_sign, x._xp(), x._array))


def isfinite(x):
    return _unary("isfinite", x)


def isnan(x):
    return _unary("isnan", x)


def _reduce_index(name, x, axis, keepdims, dim, keepdim):
    refuse_complex(name, x)
    axis = dim if dim is not None else axis
    if axis is not None:
        (axis,) = normalize_axis(axis, x.ndim)
    keep = bool(keepdim) if keepdim is not None else bool(keepdims)
    if x._batched:
        if axis is None:        # the flat index of each example, shaped as without vmap
            flat = _reduce_index(name, x.reshape(-1), 0, False, None, None)
            return flat.reshape((1,) * x.ndim) if keep else flat
        return _batching.raw_over_axis(
            lambda v, a: _reduce_index(name, v, a, keep, None, None), x, axis)
    note_reads(x)
    return _wrap(kernel(getattr(x._xp(), name), x._array, axis=axis, keepdims=keep))


def argmax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the largest value (over the flattened tensor when ``axis`` is None)."""
    return _reduce_index("argmax", x, axis, keepdims, dim, keepdim)


def argmin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the smallest value (over the flattened tensor when ``axis`` is None)."""
    return _reduce_index("argmin", x, axis, keepdims, dim, keepdim)


def _truth_reduce(name: str, x, dim, keepdim, axis=None, keepdims=None):
    """``xp.any``/``xp.all`` over ``dim`` (PyTorch's ``dim``/``keepdim``, or NumPy's
    ``axis``/``keepdims``: not both)."""
    axes = normalize_axis(axis, x.ndim, dim=dim)
    keepdim = keepdim if keepdims is None else keepdims
    if x._batched:
        return _batching.raw_over_axis(lambda v, a: _truth_reduce(name, v, a, keepdim), x, axes)
    note_reads(x)
    out = _wrap(kernel(getattr(x._xp(), name), x._array, axis=axes, keepdims=bool(keepdim)))
    return out.astype(x.dtype) if x.dtype == np.uint8 else out     # (as PyTorch's)


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Whether any element (along ``dim``: an int or a tuple; all when None) is nonzero, as
    ``torch.any``: a bool tensor (uint8 for uint8 input).

    Example::

        >>> m = gpugrad.tensor([[True, False], [False, False]])
        >>> m.any(), m.any(dim=1).tolist(), m.any(0, keepdim=True).tolist()
        (tensor(True, device='cpu', dtype=bool), [True, False], [[True, False]])
    """
    return _truth_reduce("any", input, dim, keepdim, axis, keepdims)


def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Whether every element (along ``dim``: an int or a tuple; all when None) is nonzero,
    as ``torch.all``: a bool tensor (uint8 for uint8 input).

    Example::

        >>> m = gpugrad.tensor([[True, False], [True, True]])
        >>> m.all().item(), m.all(dim=1).tolist(), gpugrad.all(m, dim=(0, 1)).item()
        (False, [False, True], False)
    """
    return _truth_reduce("all", input, dim, keepdim, axis, keepdims)


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether ``|input - other| <= atol + rtol * |other|`` everywhere (broadcast), as
    ``torch.allclose``. A Python bool, so a host read: refused inside a captured or
    compiled step and inside vmap, as ``.item()`` is.

    Example::

        >>> gpugrad.allclose(gpugrad.tensor([1.0, 2.0]), gpugrad.tensor([1.0, 2.0 + 1e-7]))
        True
    """
    if _any_batched(input, other):
        raise RuntimeError("allclose gives a Python bool, which differs per example inside "
                           "vmap; compare with (a - b).abs() <= tolerance instead")
    refuse_host_sync("gpugrad.allclose (a Python bool)")
    a = input._array if isinstance(input, Tensor) else input
    b = other._array if isinstance(other, Tensor) else other
    xp = backend.xp_of(a if isinstance(input, Tensor) else b)
    return bool(xp.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False):
    """Element-wise ``|input - other| <= atol + rtol * |other|`` (broadcast), as
    ``torch.isclose``: a bool tensor; infinities are close to themselves, NaNs only with
    ``equal_nan``.

    Example::

        >>> from gpugrad.ops.compare import isclose
        >>> isclose(gpugrad.tensor([1.0, 2.0]), gpugrad.tensor([1.0, 2.1])).tolist()
        [True, False]
    """
    if _any_batched(input, other):
        return _batching.raw_elementwise(
            lambda x, y: isclose(x, y, rtol, atol, equal_nan), input, other)
    x, y = _operand(input), _operand(other)
    arrays = [v for v in (x, y) if hasattr(v, "shape") and not isinstance(v, np.generic)]
    if len(arrays) == 2:
        backend.check_same_device("isclose", arrays)
    note_reads(input, other)
    return _wrap(kernel(backend.xp_of(arrays[0]).isclose, x, y, rtol=rtol, atol=atol,
                        equal_nan=equal_nan))


def tensors_equal(input, other) -> bool:
    """Whether ``input`` and ``other`` have the same shape and elements, as ``torch.equal``
    (``gpugrad.equal(a, b)`` and ``a.equal(b)``; element-wise ``==`` is ``eq``): a Python
    bool, so a host read; False for different shapes, and where either holds a NaN.

    Example::

        >>> gpugrad.equal(gpugrad.tensor([1, 2]), gpugrad.tensor([1, 2]))
        True
        >>> gpugrad.equal(gpugrad.ones(2), gpugrad.ones(3))
        False
    """
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"equal(): {name} must be a tensor, not {type(value).__name__}; "
                            f"for element-wise comparison with a number use gpugrad.eq")
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(all(equal(input, other)).item())
