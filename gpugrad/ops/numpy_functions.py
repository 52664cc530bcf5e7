"""NumPy's array functions as gpugrad ops, with NumPy's signatures: ``np.concatenate``,
``np.dot``, ``np.cumsum``, ``np.linalg.norm``... called on tensors (NEP 18) run these, so the
result is a tensor in the graph (``numpy_protocol.py`` dispatches to them).

Each adapter takes NumPy's arguments and defaults (``np.cumsum(t)`` flattens, as NumPy's
``axis=None`` does; ``np.dot`` of N-d arrays contracts as NumPy's, not as ``matmul``) and
returns ``UNSET`` where an argument needs NumPy itself (``out=``, ``dtype=``, an ``order``...);
NumPy then computes it from the values, or refuses when a tensor requires grad.

Example::

    >>> w = gpugrad.tensor([3.0, 4.0], requires_grad=True)
    >>> np.linalg.norm(w)
    tensor(5., device='cpu', dtype=float32, grad_fn=<...>)
    >>> np.concatenate([w, w]).shape
    (4,)
"""

from __future__ import annotations

import numpy as np

from . import (contractions, cumulative, diagonal, elementwise, linalg, nonfinite, pointwise,
               rearrange, shape, sorting, splitting, statistics, unary)
from .einsum import einsum as _einsum_op
from .. import linalg as _linalg
from ..tensor import Tensor

UNSET = object()        # "NumPy's own function must run": the adapter cannot do this call


def _operands(values):
    """``values`` as tensors (NumPy arrays on the CPU are wrapped, no copy), or None when one
    is anything else (a list, a CuPy array...), which NumPy then handles."""
    out = []
    for value in values:
        if isinstance(value, Tensor):
            out.append(value)
        elif isinstance(value, (np.ndarray, np.generic)):
            out.append(Tensor._wrap(np.asarray(value)))
        else:
            return None
    return out


def _joined(op, flattens: bool):
    """np.concatenate / np.stack: ``(arrays, axis=0, out=None, *, dtype=None, casting)``."""
    def call(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
        tensors = _operands(arrays) if isinstance(arrays, (list, tuple)) else None
        if tensors is None or out is not None or dtype is not None or casting != "same_kind":
            return UNSET
        if axis is None:
            if not flattens:
                return UNSET
            tensors, axis = [t.reshape(-1) for t in tensors], 0
        return op(tensors, axis)
    return call


def _sequence(op):
    """np.hstack, np.vstack...: ``(tup, *, dtype=None, casting)``."""
    def call(tup, *, dtype=None, casting="same_kind"):
        tensors = _operands(tup) if isinstance(tup, (list, tuple)) else None
        if tensors is None or dtype is not None or casting != "same_kind":
            return UNSET
        return op(tensors)
    return call


def _cumulative(op):
    """np.cumsum / np.cumprod: ``axis=None`` runs over the flattened values."""
    def call(a, axis=None, dtype=None, out=None):
        if dtype is not None or out is not None:
            return UNSET
        return op(a.reshape(-1), 0) if axis is None else op(a, axis)
    return call


def _binary(op):
    """A two-operand function (either may be a NumPy array)."""
    def call(a, b):
        pair = _operands((a, b))
        return UNSET if pair is None else op(*pair)
    return call


def _dot(a, b, out=None):
    """NumPy's dot: a product for 0-d operands, ``matmul`` up to a 2-d right operand, and
    for N-d ones a sum over the last axis of ``a`` and the second-to-last of ``b``."""
    if out is not None:
        return UNSET
    if isinstance(a, (int, float)) or isinstance(b, (int, float)):
        return elementwise.mul(a, b)            # (a Python number: a product, as NumPy's)
    pair = _operands((a, b))
    if pair is None:
        return UNSET
    a, b = pair
    if a.ndim == 0 or b.ndim == 0:
        return elementwise.mul(a, b)
    if a.ndim >= 2 and b.ndim > 2:
        return contractions.tensordot(a, b, ([a.ndim - 1], [b.ndim - 2]))
    return linalg.matmul(a, b)


def _flattened(op):
    """np.vdot / np.outer: NumPy flattens both operands first."""
    def call(a, b, out=None):
        pair = _operands((a, b))
        if pair is None or out is not None:
            return UNSET
        return op(pair[0].reshape(-1), pair[1].reshape(-1))
    return call


def _tensordot(a, b, axes=2):
    pair = _operands((a, b))
    return UNSET if pair is None else contractions.tensordot(pair[0], pair[1], axes)


def _einsum(*operands, out=None, optimize=False, **kwargs):
    if not operands or not isinstance(operands[0], str) or out is not None or kwargs:
        return UNSET
    tensors = _operands(operands[1:])
    return UNSET if tensors is None else _einsum_op(operands[0], *tensors)


def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    if dtype is not None or out is not None:
        return UNSET
    return diagonal.diagonal(a, offset, axis1, axis2).sum(-1)


def _flip(m, axis=None):
    dims = tuple(range(m.ndim)) if axis is None else (
        (axis,) if isinstance(axis, int) else tuple(axis))
    return rearrange.flip(m, dims)


def _expand_dims(a, axis):
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    n = a.ndim + len(axes)
    if not all(isinstance(ax, int) and -n <= ax < n for ax in axes) or \
            len({ax % n for ax in axes}) != len(axes):
        return UNSET                    # (NumPy's AxisError)
    for ax in sorted(ax % n for ax in axes):
        a = shape.unsqueeze(a, ax)
    return a


def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    if order is not None:
        return UNSET
    if axis is None:
        a, axis = a.reshape(-1), 0
    return sorting.sort(a, axis, stable=bool(stable) or kind == "stable")[0]


def _round(a, decimals=0, out=None):
    return UNSET if out is not None else pointwise.round(a, decimals=decimals)


def _nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    return UNSET if not copy else nonfinite.nan_to_num(x, nan, posinf, neginf)


def _split(ary, indices_or_sections, axis=0):
    if isinstance(indices_or_sections, int) and ary.shape[axis] % indices_or_sections:
        return UNSET                    # (NumPy's error: "does not result in an equal division")
    return list(splitting.tensor_split(ary, indices_or_sections, axis))


def _norm(x, ord=None, axis=None, keepdims=False):
    return _linalg.norm(x, ord, axis, keepdims)


def _solve(a, b):
    pair = _operands((a, b))
    if pair is None or not (pair[1].ndim == 1 or pair[1].ndim == pair[0].ndim):
        return UNSET                    # (NumPy 2 and PyTorch read a batched b differently)
    return _linalg.solve(*pair)


def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    if hermitian:
        return UNSET
    return _linalg.svd(a, full_matrices) if compute_uv else _linalg.svdvals(a)


def _qr(a, mode="reduced"):
    return _linalg.qr(a, mode) if mode in ("reduced", "complete") else UNSET


def _multi_dot(arrays, *, out=None):
    tensors = _operands(arrays) if isinstance(arrays, (list, tuple)) else None
    return UNSET if tensors is None or out is not None else _linalg.multi_dot(tensors)


FUNCTIONS = {
    np.concatenate: _joined(shape.concatenate, True), np.stack: _joined(shape.stack, False),
    np.hstack: _sequence(splitting.hstack), np.vstack: _sequence(splitting.vstack),
    np.dstack: _sequence(splitting.dstack), np.column_stack: _sequence(splitting.column_stack),
    np.cumsum: _cumulative(cumulative.cumsum), np.cumprod: _cumulative(statistics.cumprod),
    np.dot: _dot, np.vdot: _flattened(contractions.vdot), np.outer: _flattened(
        contractions.outer), np.inner: _binary(contractions.inner),
    np.kron: _binary(contractions.kron), np.tensordot: _tensordot, np.einsum: _einsum,
    np.trace: _trace, np.diagonal: lambda a, offset=0, axis1=0, axis2=1: diagonal.diagonal(
        a, offset, axis1, axis2), np.diag: lambda v, k=0: diagonal.diag(v, k),
    np.flip: _flip, np.fliplr: rearrange.fliplr, np.flipud: rearrange.flipud,
    np.roll: lambda a, shift, axis=None: rearrange.roll(a, shift, axis),
    np.rot90: lambda m, k=1, axes=(0, 1): rearrange.rot90(m, k, tuple(axes)),
    np.tile: lambda A, reps: rearrange.tile(A, (reps,) if isinstance(reps, int) else reps),
    np.tril: lambda m, k=0: rearrange.tril(m, k), np.triu: lambda m, k=0: rearrange.triu(m, k),
    np.swapaxes: lambda a, axis1, axis2: rearrange.swapaxes(a, axis1, axis2),
    np.expand_dims: _expand_dims, np.sort: _sort, np.round: _round,
    np.ravel: lambda a, order="C": a.reshape(-1) if order == "C" else UNSET,
    np.copy: lambda a, order="K", subok=False: unary.clone(a),
    np.nan_to_num: _nan_to_num, np.split: _split,
    np.linalg.norm: _norm, np.linalg.det: lambda a: _linalg.det(a),
    np.linalg.inv: lambda a: _linalg.inv(a), np.linalg.slogdet: lambda a: _linalg.slogdet(a),
    np.linalg.solve: _solve, np.linalg.matrix_power: lambda a, n: _linalg.matrix_power(a, n),
    np.linalg.cholesky: lambda a, /, *, upper=False: _linalg.cholesky(a, upper),
    np.linalg.eigh: lambda a, UPLO="L": _linalg.eigh(a, UPLO),
    np.linalg.eigvalsh: lambda a, UPLO="L": _linalg.eigvalsh(a, UPLO),
    np.linalg.svd: _svd, np.linalg.qr: _qr, np.linalg.multi_dot: _multi_dot,
}
if hasattr(np, "around"):
    FUNCTIONS[np.around] = _round

# the functions whose first argument may be an array while a later one is the tensor
ANY_ARGUMENT = {np.dot, np.vdot, np.outer, np.inner, np.kron, np.tensordot, np.einsum,
                np.linalg.solve}
