"""Operator sugar and methods of ``Tensor``, each a one-line call of an op.

Kept apart from tensor.py so that file stays about what a tensor is (and the tensor, a
floor below the ops, imports none of them): importing this module installs them, once,
when gpugrad is imported (gpugrad/ops/__init__.py imports it).

Example::

    >>> x = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> (1 - x).tolist(), x.mT.tolist()
    ([[0.0, -1.0], [-2.0, -3.0]], [[1.0, 3.0], [2.0, 4.0]])
"""

from __future__ import annotations

from .. import backend, creation, creation_like, random_sampling
from ..autograd.batched import innermost_array
from ..tensor import Tensor
from .promotion import reflected
from .record import apply
from . import (activation, arithmetic, bitwise, compare, contractions, cumulative, diagonal,
               division, elementwise, extremes, indexing, counting, inplace, linalg,
               matrix_exp, matrix_functions, matrix_pinv, norms, numpy_protocol,
               order_statistics, pointwise, product, rearrange, reduce, scatter_ops,
               scatter_reduce, selection, shape, sorting, special, statistics, tensor_info,
               trigonometric, unary)
from . import covariance, dtype_view, inplace_shape, matrix_products, searching, spellings
from . import windows
from . import combinatorics, float_parts, frequencies, legacy_linalg, scatter_views
from . import special_bessel, special_erf, special_gamma


def _compare(fn):
    def method(self, other):
        if other is None or other.__class__ is str or other.__class__ is bytes:
            return NotImplemented           # (so t == "auto" is False, as PyTorch's)
        return fn(self, other)
    return method


def _iop(fn):
    def method(self, other):
        fn(self, other)
        return self
    return method


def _getitem(self, index):
    return indexing.getitem(self, index)


def _setitem(self, index, value):
    inplace.setitem(self, index, value)


def _cast(name: str, dtype: str):
    def method(self):
        return unary.astype(self, dtype)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = (f"This tensor as {dtype}, as PyTorch's ``t.{name}()`` "
                      f"(``t.astype('{dtype}')``; the tensor itself if it already is).")
    return method


def _matrix_transpose(self):
    """The last two dimensions swapped, as PyTorch's ``t.mT``: (..., m, n) -> (..., n, m).

    Example::

        >>> gpugrad.zeros(5, 2, 3).mT.shape
        (5, 3, 2)
    """
    if self.ndim < 2:
        raise ValueError(f"t.mT transposes the last two dimensions of matrices or batches of "
                         f"matrices; this tensor has shape {tuple(self.shape)}")
    return shape.transpose(self, -2, -1)


def _t(self):
    """The transpose of a matrix (a tensor of at most 2 dimensions, as PyTorch's ``t.t()``;
    0-d and 1-d tensors are their own transpose, returned as a new view): (m, n) -> (n, m)."""
    if self.ndim > 2:
        raise ValueError(f"t.t() transposes tensors of at most 2 dimensions; this one has "
                         f"shape {tuple(self.shape)}: use t.mT, t.transpose(d0, d1) or "
                         f"t.permute(...)")
    return shape.transpose(self, 0, 1)            # alias(self) for 0-d and 1-d


def _reversed_axes(self):
    """The tensor with its axes reversed (the transpose of a matrix), as ``t.T``."""
    ndim = self.ndim                    # (a valid permutation: permute()'s checks skipped)
    axes = (1, 0) if ndim == 2 else tuple(range(ndim - 1, -1, -1))
    return apply(shape.Permute, self, axes=axes)


def _to(self, device=None, dtype=None):
    """This tensor on ``device`` and/or as ``dtype``; differentiable; ``self`` if nothing
    changes. ``x.to("cuda")``, ``x.to(gpugrad.float64)``, ``x.to("cpu", "float64")``.

    Example::

        >>> gpugrad.tensor([1.5]).to(gpugrad.float64)
        tensor([1.5], device='cpu', dtype=float64)
    """
    if dtype is None and device is not None and not backend.names_a_device(device):
        device, dtype = None, device
    out = self
    if dtype is not None:
        out = out.astype(dtype)
    if device is not None:
        out = unary.to_device(out, backend.Device(device))
    return out


_in_place = inplace.in_place_method


def _uniform(self, a=0.0, b=1.0):
    if not a <= b:
        raise ValueError(f"uniform_ expects a <= b, got a={a}, b={b}")
    return creation.rand(*self.shape, dtype=self.dtype, device=self.device) * (b - a) + a


def _normal(self, mean=0.0, std=1.0):
    if not std >= 0:
        raise ValueError(f"normal_ expects std >= 0, got {std}")
    return creation.randn(*self.shape, dtype=self.dtype, device=self.device) * std + mean


_uniform.__name__, _normal.__name__ = "uniform", "normal"


def _is_contiguous(self) -> bool:
    """Whether the elements are laid out in C order (inside vmap: the batch's)."""
    return bool(innermost_array(self).flags.c_contiguous)


def _contiguous(self):
    """This tensor if its elements are laid out in C order, else a C-ordered copy (in the
    graph), as PyTorch's ``t.contiguous()``."""
    return self if _is_contiguous(self) else unary.clone(self)


def _detach_(self):
    """Cut this tensor from the graph in place, as PyTorch's ``t.detach_()``: it becomes a
    leaf that does not require grad (a view of a tensor that requires grad is refused, as
    there: its base would still be in the graph; use ``t = t.detach()``).

    Example::

        >>> y = gpugrad.ones(2, requires_grad=True) * 2
        >>> y.detach_().requires_grad, y.grad_fn is None
        (False, True)
    """
    if self._base is not None and self._requires_grad:
        raise RuntimeError(f"detach_(): this tensor (shape {tuple(self.shape)}) is a view of "
                           f"another that requires grad (from indexing, reshape, "
                           f"transpose...), which cannot be cut in place; use t = t.detach()")
    self.grad_fn = None
    self.output_nr = 0
    self._requires_grad = False
    return self


def _view_as(self, other):
    """This tensor in ``other``'s shape, as PyTorch's ``t.view_as(other)``."""
    return shape.reshape(self, tuple(other.shape))


def _type_as(self, other):
    """This tensor as ``other``'s dtype, as PyTorch's ``t.type_as(other)``."""
    return unary.astype(self, other.dtype)


def _ndimension(self) -> int:
    """The number of dimensions, as PyTorch's ``t.ndimension()`` (``t.ndim``)."""
    return self.ndim


def _split(self, split_size, dim=0):
    """``torch.Tensor.split``: pieces of ``split_size`` (an int or a list of sizes) along
    ``dim``."""
    return selection.split(self, split_size, dim)


def _where(self, condition, other):
    """``where(condition, self, other)``, as PyTorch's ``t.where(condition, other)``."""
    return elementwise.where(condition, self, other)


def _div_(self, other, *, rounding_mode=None):
    """``self /= other`` in place (with ``rounding_mode``: rounded, as ``div``)."""
    if rounding_mode is None:
        return inplace.div_(self, other)
    return inplace.written_back(self, arithmetic.div, other, rounding_mode=rounding_mode)


METHODS = {
    # arithmetic operators
    "__add__": elementwise.plus, "__radd__": reflected(elementwise.plus),
    "__sub__": elementwise.minus, "__rsub__": reflected(elementwise.minus),
    "__mul__": elementwise.mul, "__rmul__": reflected(elementwise.mul),
    "__truediv__": elementwise.true_divide, "__rtruediv__": reflected(elementwise.true_divide),
    "__pow__": elementwise.pow, "__rpow__": reflected(elementwise.pow),
    "__matmul__": linalg.matmul, "__rmatmul__": reflected(linalg.matmul),
    "__neg__": unary.neg, "__pos__": lambda self: self, "__abs__": unary.abs,
    # comparisons and logic (not differentiable)
    "__lt__": _compare(compare.less), "__le__": _compare(compare.less_equal),
    "__gt__": _compare(compare.greater), "__ge__": _compare(compare.greater_equal),
    "__eq__": _compare(compare.equal), "__ne__": _compare(compare.not_equal),
    # (& | ^ ~ << >> and their in-place forms: bitwise.py; // and %: division.py)
    # NumPy functions and ufuncs called on tensors (np.sum(t), ndarray * t)
    "__array_function__": numpy_protocol.array_function,
    "__array_ufunc__": numpy_protocol.array_ufunc,
    # indexing and in-place operators
    "__getitem__": _getitem, "__setitem__": _setitem,
    "__iadd__": _iop(inplace.add_), "__isub__": _iop(inplace.sub_),
    "__imul__": _iop(inplace.mul_), "__itruediv__": _iop(inplace.div_),
    # element-wise
    "add": arithmetic.add, "sub": arithmetic.sub, "mul": elementwise.mul,
    "div": arithmetic.div, "pow": elementwise.pow, "neg": unary.neg,
    "true_divide": elementwise.true_divide, "divide": arithmetic.divide,
    "multiply": elementwise.mul, "subtract": arithmetic.sub,
    "absolute": unary.absolute, "negative": unary.negative, "where": _where,
    "exp": unary.exp, "log": unary.log, "sqrt": unary.sqrt,
    "erf": special.erf, "log1p": special.log1p, "expm1": special.expm1,
    "erfc": special_erf.erfc, "erfinv": special_erf.erfinv, "lgamma": special_gamma.lgamma,
    "digamma": special_gamma.digamma, "mvlgamma": special_gamma.mvlgamma, "i0": special_bessel.i0,
    "polygamma": lambda self, n: special_gamma.polygamma(n, self),
    "abs": unary.abs, "maximum": elementwise.maximum, "minimum": elementwise.minimum,
    "clamp": unary.clamp, "clip": unary.clip, "clone": unary.clone,
    "astype": unary.astype, "sign": compare.sign,
    # PyTorch's dtype shorthands
    "float": _cast("float", "float32"), "double": _cast("double", "float64"),
    "half": _cast("half", "float16"), "long": _cast("long", "int64"),
    "int": _cast("int", "int32"), "bool": _cast("bool", "bool"),
    "tanh": activation.tanh, "sigmoid": activation.sigmoid, "relu": activation.relu,
    "softmax": activation.softmax, "log_softmax": activation.log_softmax,
    # reductions
    "sum": reduce.sum, "mean": reduce.mean, "max": extremes.max, "min": extremes.min,
    "var": reduce.var, "std": reduce.std,
    "logsumexp": reduce.logsumexp, "argmax": compare.argmax, "argmin": compare.argmin,
    "any": compare.any, "all": compare.all,
    # comparisons and logic by name
    "eq": compare.equal, "ne": compare.not_equal, "lt": compare.less, "le": compare.less_equal,
    "gt": compare.greater, "ge": compare.greater_equal, "greater": compare.greater,
    "less": compare.less, "greater_equal": compare.greater_equal,
    "less_equal": compare.less_equal, "not_equal": compare.not_equal,
    "isclose": compare.isclose, "equal": compare.tensors_equal,
    "logical_and": compare.logical_and, "logical_or": compare.logical_or,
    "logical_xor": compare.logical_xor, "logical_not": compare.logical_not,
    # shapes
    "reshape": shape.reshape, "view": dtype_view.view,
    "permute": shape.permute, "transpose": shape.transpose,
    "squeeze": shape.squeeze, "unsqueeze": shape.unsqueeze, "flatten": shape.flatten,
    "broadcast_to": shape.broadcast_to, "expand": shape.broadcast_to, "matmul": linalg.matmul,
    "mT": property(_matrix_transpose), "t": _t, "T": property(_reversed_axes),
    # devices and dtypes
    "to": _to,
    # in place
    "add_": inplace.add_, "sub_": inplace.sub_, "mul_": inplace.mul_, "div_": _div_,
    "zero_": inplace.zero_, "fill_": inplace.fill_, "copy_": inplace.copy_,
    # PyTorch's spellings (selection.py, norms.py, cumulative.py, sorting.py, creation_like.py)
    "gather": selection.gather, "index_select": selection.index_select,
    "masked_fill": selection.masked_fill, "chunk": selection.chunk, "split": _split,
    "allclose": compare.allclose,
    "repeat": selection.repeat, "norm": norms.norm, "square": elementwise.square,
    "diagonal": diagonal.diagonal, "diag": diagonal.diag, "diag_embed": diagonal.diag_embed,
    "trace": diagonal.trace, "cumsum": cumulative.cumsum, "prod": product.prod,
    "sort": sorting.sort, "argsort": sorting.argsort,
    "topk": sorting.topk,
    "detach_": _detach_, "view_as": _view_as, "type_as": _type_as, "contiguous": _contiguous,
    "is_contiguous": _is_contiguous, "ndimension": _ndimension,
    "new_zeros": creation_like.new_zeros, "new_ones": creation_like.new_ones,
    "new_full": creation_like.new_full, "new_empty": creation_like.new_empty,
    "new_tensor": creation_like.new_tensor,
    "masked_fill_": _in_place(selection.masked_fill), "clamp_": _in_place(unary.clamp),
    "uniform_": _in_place(_uniform, reads=False), "normal_": _in_place(_normal, reads=False),
    "bernoulli": random_sampling.bernoulli, "multinomial": random_sampling.multinomial,
    "bernoulli_": _in_place(random_sampling.bernoulli_fill, name="bernoulli", reads=False),
    "is_floating_point": creation_like.is_floating_point,
    "abs_": _in_place(unary.abs), "absolute_": _in_place(unary.absolute),
    "neg_": _in_place(unary.neg), "negative_": _in_place(unary.negative),
    "exp_": _in_place(unary.exp), "log_": _in_place(unary.log), "sqrt_": _in_place(unary.sqrt),
    "pow_": _in_place(elementwise.pow), "square_": _in_place(elementwise.square),
    "sigmoid_": _in_place(activation.sigmoid), "tanh_": _in_place(activation.tanh),
    "relu_": _in_place(activation.relu), "sign_": _in_place(compare.sign),
    "clip_": _in_place(unary.clip, "clip"), "true_divide_": _in_place(elementwise.true_divide),
    "subtract_": inplace.sub_, "multiply_": inplace.mul_, "divide_": _div_,
}


for _module in (trigonometric, pointwise, rearrange, scatter_ops, scatter_reduce, counting,
                contractions, statistics, order_statistics, matrix_functions,
                matrix_pinv, matrix_exp, bitwise, division, arithmetic, tensor_info,
                matrix_products, searching, covariance, windows, spellings, inplace_shape,
                combinatorics, float_parts, frequencies, legacy_linalg, scatter_views,
                cumulative):
    METHODS.update(_module.METHODS)         # (each module lists the Tensor methods it adds)


def install(cls) -> None:
    """Attach every entry of ``METHODS`` to the Tensor class."""
    for name, fn in METHODS.items():
        setattr(cls, name, fn)
    cls.__hash__ = object.__hash__      # defining __eq__ would otherwise make tensors unhashable


install(Tensor)
