"""NumPy functions and ufuncs called on tensors: ``np.sum(t)``, ``np.exp(t)``, ``a * t``.

NumPy hands such calls to the tensor (NEP 13 for ufuncs, NEP 18 for functions). Where gpugrad
has the op, it runs: the result is a Tensor on the tensor's device, recorded for autograd,
with NumPy's argument names and defaults (``np.var(t)`` keeps ``ddof=0``, ``np.cumsum(t)``
flattens; the functions beyond reductions are in ``numpy_functions.py``). Anything else runs
in NumPy: a CPU tensor is read as a NumPy array and the result is a NumPy array, outside
autograd; a CUDA tensor gets an error that says to call ``.numpy()`` for a host copy.

NumPy's result never silently leaves the graph: while grad mode is on, a call that gpugrad
has no op for raises when a tensor in it requires grad and NumPy would return floating-point
values (or write into an array: ``out=``, ``np.copyto``...), saying to use gpugrad's op or
``t.detach()``, as PyTorch refuses there. Results with no gradient to lose (``np.isclose``,
``np.argsort``, ``np.zeros_like``...) are still NumPy's. (``np.asarray(t)`` and ``t.numpy()``
stay lenient on purpose: they read the values, as ``t.detach().numpy()``. So a NumPy call on
a *list* of tensors, ``np.mean([loss1, loss2])``, is not handed to gpugrad, since NumPy does
not dispatch on a list's elements: it reads their values and returns a NumPy float with no
graph; stack them first, ``gpugrad.stack([loss1, loss2]).mean()``.)

Example::

    >>> t = gpugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> np.cumsum(t)                    # gpugrad's cumsum: a tensor, in the graph
    tensor([1., 3., 6.], device='cpu', dtype=float32, grad_fn=<CumSumBackward>)
    >>> np.percentile(t.detach(), 50)   # no gpugrad op: NumPy's, on the values
    np.float32(2.0)
"""

from __future__ import annotations

import numpy as np

from . import (activation, arithmetic, bitwise, compare, division, elementwise, extremes,
               linalg, pointwise, product, reduce, special, statistics, trigonometric, unary)
from . import shape as _shape
from .numpy_functions import ANY_ARGUMENT, FUNCTIONS, UNSET as _UNSET
from ..pytree import tree_flatten, tree_map
from ..autograd.compile_mode import refuse_in_compile
from ..autograd.mode import is_grad_enabled
from ..tensor import Tensor

_UFUNCS = {
    "add": arithmetic.add, "subtract": arithmetic.sub, "multiply": elementwise.mul,
    "divide": arithmetic.div, "true_divide": arithmetic.div, "power": elementwise.pow,
    "maximum": elementwise.maximum, "minimum": elementwise.minimum, "matmul": linalg.matmul,
    "negative": unary.neg, "positive": lambda x: x, "absolute": unary.abs, "exp": unary.exp,
    "log": unary.log, "sqrt": unary.sqrt, "tanh": activation.tanh, "sign": compare.sign,
    "greater": compare.greater, "greater_equal": compare.greater_equal, "less": compare.less,
    "less_equal": compare.less_equal, "equal": compare.equal, "not_equal": compare.not_equal,
    "logical_and": compare.logical_and, "logical_or": compare.logical_or,
    "logical_xor": compare.logical_xor, "logical_not": compare.logical_not,
    "isnan": compare.isnan, "isfinite": compare.isfinite,
    "sin": trigonometric.sin, "cos": trigonometric.cos, "tan": trigonometric.tan,
    "arcsin": trigonometric.asin, "arccos": trigonometric.acos, "arctan": trigonometric.atan,
    "arctan2": trigonometric.atan2, "sinh": trigonometric.sinh, "cosh": trigonometric.cosh,
    "arcsinh": trigonometric.asinh, "arccosh": trigonometric.acosh,
    "arctanh": trigonometric.atanh, "hypot": trigonometric.hypot,
    "deg2rad": trigonometric.deg2rad, "radians": trigonometric.deg2rad,
    "rad2deg": trigonometric.rad2deg, "degrees": trigonometric.rad2deg,
    "floor": pointwise.floor, "ceil": pointwise.ceil, "trunc": pointwise.trunc,
    "reciprocal": pointwise.reciprocal, "log2": pointwise.log2, "log10": pointwise.log10,
    "exp2": pointwise.exp2, "logaddexp": pointwise.logaddexp,
    "logaddexp2": pointwise.logaddexp2, "fmod": pointwise.fmod,
    "remainder": pointwise.remainder, "mod": pointwise.remainder,
    "copysign": pointwise.copysign, "isinf": pointwise.isinf,
    "square": elementwise.square, "log1p": special.log1p, "expm1": special.expm1,
    "floor_divide": division.floor_divide,
    "bitwise_and": bitwise.bitwise_and, "bitwise_or": bitwise.bitwise_or,
    "bitwise_xor": bitwise.bitwise_xor, "invert": bitwise.bitwise_not,
    "left_shift": bitwise.bitwise_left_shift, "right_shift": bitwise.bitwise_right_shift,
}


def _reduction(op, axis_keyword: bool = False):
    """NumPy's ``f(a, axis=None, dtype=None, out=None, keepdims=False)`` as gpugrad's op
    (``axis_keyword``: passed as ``axis=``, where the op's first parameter is PyTorch's
    ``dim``, for which an empty tuple means every axis; NumPy's means none)."""
    def call(a, axis=None, dtype=None, out=None, keepdims=False):
        if dtype is not None or out is not None:
            return _UNSET
        return op(a, axis=axis, keepdims=keepdims) if axis_keyword else op(a, axis, keepdims)
    return call


def _index_reduction(op):
    def call(a, axis=None, out=None, *, keepdims=False):
        return _UNSET if out is not None else op(a, axis, keepdims)
    return call


def _values_reduction(op):
    """np.max/np.min: gpugrad's values over NumPy's ``axis`` (a positional int would be
    PyTorch's dim, giving (values, indices))."""
    def call(a, axis=None, out=None, keepdims=False, initial=_UNSET, where=_UNSET):
        if out is not None or initial is not _UNSET or where is not _UNSET:
            return _UNSET
        return op(a, axis=axis, keepdims=keepdims)
    return call


def _variance(op):
    def call(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=_UNSET):
        if dtype is not None or out is not None:
            return _UNSET
        return op(a, axis=axis, ddof=ddof if correction is _UNSET else correction,
                  keepdims=keepdims)
    return call


def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C" or copy:
        return _UNSET
    return a.reshape(shape if shape is not None else newshape)


def _transpose(a, axes=None):
    return a.T if axes is None else a.permute(tuple(axes))


def _clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None):
    low, high = (a_min if a_min is not None else min), (a_max if a_max is not None else max)
    if out is not None or (low is None and high is None):
        return _UNSET
    return unary.clamp(a, low, high)


def _where(condition, x=_UNSET, y=_UNSET):
    return _UNSET if x is _UNSET or y is _UNSET else elementwise.where(condition, x, y)


def _size(a, axis=None):
    return a.numel() if axis is None else a.shape[axis]


_FUNCTIONS = {
    np.sum: _reduction(reduce.sum, True), np.mean: _reduction(reduce.mean, True),
    np.max: _values_reduction(extremes.max), np.min: _values_reduction(extremes.min),
    np.any: _index_reduction(compare.any), np.all: _index_reduction(compare.all),
    np.argmax: _index_reduction(compare.argmax), np.argmin: _index_reduction(compare.argmin),
    np.var: _variance(reduce.var), np.std: _variance(reduce.std),
    np.reshape: _reshape, np.transpose: _transpose, np.clip: _clip, np.where: _where,
    np.squeeze: lambda a, axis=None: _shape.squeeze(a, axis),
    np.broadcast_to: lambda array, shape, subok=False: array.broadcast_to(shape),
    np.moveaxis: lambda a, source, destination: _shape.movedim(a, source, destination),
    np.shape: lambda a: tuple(a.shape), np.ndim: lambda a: a.ndim, np.size: _size,
    np.prod: _reduction(product.prod), np.nansum: _reduction(statistics.nansum),
    np.nanmean: _reduction(statistics.nanmean), **FUNCTIONS,
}
for _alias, _name in (("amax", np.max), ("amin", np.min)):
    if hasattr(np, _alias):
        _FUNCTIONS[getattr(np, _alias)] = _FUNCTIONS[_name]


# NumPy functions that write into an array given to them (refused up front when a tensor in
# the call requires grad), and those that read only the shape and dtype of their first one
_WRITERS = {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis}
_SHAPE_ONLY = {np.zeros_like, np.ones_like, np.empty_like, np.full_like}


def array_function(self, func, types, args, kwargs):
    """``Tensor.__array_function__``: gpugrad's op for the NumPy functions it has (the
    array argument a tensor; for ``np.where``, ``np.dot``... any of them), NumPy's on the
    arrays otherwise, also where gpugrad's op refuses the arguments (``np.mean`` of a bool
    tensor, ``np.clip`` with array bounds, ``dtype=``, ``out=``...), unless that would cut
    a tensor that requires grad from the graph (an error then: see the module docstring).

    Example::

        >>> np.var(gpugrad.tensor([1.0, 3.0])).item()     # NumPy's default ddof=0 kept
        1.0
    """
    adapter = _FUNCTIONS.get(func)
    if adapter is not None and args and _dispatches(func, args):
        try:
            result = adapter(*args, **kwargs)
        except TypeError:
            result = _UNSET
        if result is not _UNSET:
            return result
    name = _name(func)
    tracked = _tracked(args[1:] if func in _SHAPE_ONLY else args, kwargs)
    why = None if adapter is None else _unsupported(name, kwargs)
    if tracked and (func in _WRITERS or kwargs.get("out") is not None):
        raise _graph_cut(name, why)
    result = func(*_as_arrays(args, name), **_as_arrays(kwargs, name))
    if tracked and _has_values(result):
        raise _graph_cut(name, why)
    return result


def _dispatches(func, args) -> bool:
    """Whether gpugrad's version of ``func`` takes these arguments: the array argument (or
    one in the sequence of arrays) is a tensor, or for ``np.where``, ``np.dot``... any."""
    first = args[0]
    if isinstance(first, Tensor) or (isinstance(first, (list, tuple)) and any(
            isinstance(a, Tensor) for a in first)):
        return True
    return (func is np.where or func in ANY_ARGUMENT) and any(
        isinstance(a, Tensor) for a in args)


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """``Tensor.__array_ufunc__``: gpugrad's op for ufuncs it has (so ``ndarray * tensor``
    is a tensor in the graph, as ``tensor * ndarray`` is), NumPy's otherwise (refused where
    that would cut a tensor that requires grad from the graph).

    Example::

        >>> a = np.array([1.0, 2.0], dtype=np.float32)
        >>> a * gpugrad.tensor([3.0, 4.0], requires_grad=True)
        tensor([3., 8.], device='cpu', dtype=float32, grad_fn=<MulBackward>)
    """
    op = _UFUNCS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
    if op is not None:
        if len(inputs) == 2:
            inputs = (_scalar(inputs[0]), _scalar(inputs[1]))
        return op(*inputs)
    out = kwargs.get("out", ())
    if any(isinstance(o, Tensor) for o in (out if isinstance(out, tuple) else (out,))):
        raise TypeError(f"np.{ufunc.__name__}(..., out=tensor): NumPy cannot write into a "
                        f"gpugrad tensor; use the op and assign, e.g. t.copy_(result), or "
                        f"the in-place operator (t += x)")
    name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
    tracked = _tracked(inputs, kwargs)
    why = _ufunc_hint(ufunc.__name__, method, kwargs) if tracked else None
    if tracked and (method == "at" or kwargs.get("out") is not None):
        raise _graph_cut(name, why)
    result = getattr(ufunc, method)(*_as_arrays(inputs, name), **_as_arrays(kwargs, name))
    if tracked and _has_values(result):
        raise _graph_cut(name, why)
    return result


def _scalar(value):
    """A NumPy number beside a tensor as the Python number PyTorch reads it as (NumPy hands
    ``np.int64(-1) == t`` over as ``np.equal(array(-1), t)``: a 0-d array), so that it meets
    the tensor as ``t == -1`` does: -1 wraps to 255 beside a uint8 tensor, and the tensor's
    dtype wins (a 0-d array, as a 0-d tensor in PyTorch, would not promote it either). Bool
    and complex values, and arrays with dimensions, stay as they are."""
    if value.__class__ is np.ndarray and value.ndim == 0 and value.dtype.kind in "iuf":
        return value.item()
    return value


_METHOD_HINTS = {
    "at": "For np.add.at(a, i, x) use t.index_add_(0, i, x) or t.scatter_add(dim, index, x)",
    "reduce": "For np.add.reduce / np.multiply.reduce / np.maximum.reduce use t.sum(dim), "
              "t.prod(dim) or t.amax(dim)",
    "accumulate": "For np.add.accumulate / np.multiply.accumulate use t.cumsum(dim) or "
                  "t.cumprod(dim)",
}


def _ufunc_hint(name: str, method: str, kwargs: dict) -> str | None:
    """What to write instead of a ufunc call gpugrad refuses (None: no better advice than
    the general one)."""
    if method != "__call__":
        return _METHOD_HINTS.get(method, f"gpugrad has no op for np.{name}.{method}")
    if name not in _UFUNCS:
        return None
    if kwargs.get("out") is not None:
        return (f"NumPy would write the values into the out= array (as `a += t` does for a "
                f"NumPy array a), cut from the graph; assign the result instead: "
                f"out = np.{name}(...) without out=, e.g. a = a + t (a tensor, in the graph)")
    return _unsupported(name, kwargs)


def _unsupported(name: str, kwargs: dict) -> str:
    """Why gpugrad's op for ``np.name`` did not take this call: NumPy's extra arguments."""
    given = [key for key, value in kwargs.items() if value is not None]
    which = (f"NumPy's {', '.join(k + '=' for k in given)} argument"
             f"{'s' if len(given) > 1 else ''}" if given else "these arguments")
    short = name.rsplit(".", 1)[-1]
    dtype = " (for dtype=, convert with .to(dtype))" if "dtype" in given else ""
    return (f"gpugrad has np.{name} (t.{short}(...)) but not with {which}{dtype}; call "
            f"gpugrad's op without them, with PyTorch's argument names")


def _name(func) -> str:
    module = getattr(func, "__module__", "") or ""
    return f"linalg.{func.__name__}" if module.startswith("numpy.linalg") else func.__name__


def _tracked(args, kwargs) -> bool:
    """Whether a tensor in ``args`` or ``kwargs`` requires grad while grad mode is on."""
    if not is_grad_enabled():
        return False
    leaves, _ = tree_flatten((args, kwargs))
    return any(isinstance(leaf, Tensor) and leaf._requires_grad for leaf in leaves)


def _has_values(result) -> bool:
    """Whether NumPy's ``result`` holds floating-point values a gradient would flow through
    (or is None: the call wrote into an array instead)."""
    if result is None or isinstance(result, (float, complex)):
        return True
    if isinstance(result, (list, tuple)):
        return any(_has_values(r) for r in result)
    if isinstance(result, dict):
        return any(_has_values(r) for r in result.values())
    return getattr(getattr(result, "dtype", None), "kind", "") in ("f", "c")


def _graph_cut(name: str, why: str | None = None) -> RuntimeError:
    """The error for a NumPy call that would cut a tensor from the graph; ``why``: what
    gpugrad has instead (None: it has no op for the call)."""
    advice = why or (f"gpugrad has no op for this call; use gpugrad's op (gpugrad.{name}(t) "
                     f"or t.{name.rsplit('.', 1)[-1]}(...), with PyTorch's argument names, "
                     f"where it exists)")
    return RuntimeError(
        f"np.{name}() of a tensor that requires grad: NumPy's result would be cut from the "
        f"graph (no gradient would reach the tensor). {advice}. Or pass t.detach() for the "
        f"values alone (as PyTorch, which refuses: \"Can't call numpy() on Tensor that "
        f"requires grad\")")


def _as_arrays(value, name: str):
    """``value`` with every tensor in it (through lists, tuples and dicts) read as a NumPy
    array; a CUDA tensor raises, saying what to do."""
    return tree_map(lambda leaf: _as_array(leaf, name), value)


def _as_array(value, name: str):
    if isinstance(value, Tensor):
        refuse_in_compile(f"np.{name}() of a tensor, which gpugrad has no op for (NumPy "
                          f"computes it from the tensor's values)",
                          "use gpugrad's ops, or compute it outside the step")
        if not isinstance(value._array, np.ndarray):
            raise TypeError(f"np.{name}() has no gpugrad version for these arguments, and "
                            f"NumPy cannot read a {value.device} tensor: use gpugrad's ops, "
                            f"or call .numpy() for a host copy (np.{name}(t.numpy()))")
        return value._array
    return value
