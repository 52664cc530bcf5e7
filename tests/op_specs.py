"""The op table: one spec per way an op record is reached, driving tests/test_ops_table.py.

Each ``OpSpec`` holds a gpugrad function of tensors, an independent float64 NumPy reference
computing the same thing, and the inputs to feed both (shapes and domains: positive bases for
log/sqrt/pow, values kept away from the kinks of abs/relu/clamp/max/min so that central
differences are valid). ``records`` names the op records (``gpugrad.ops.REGISTRY`` keys) the
spec exercises, in its forward or in its reverse rule; a new record without a spec fails
``test_every_differentiable_record_has_a_spec``.

Example::

    spec("mul_broadcast", "Mul", lambda a, b: a * b, lambda a, b: a * b,
         real((3, 1)), real((1, 4)))
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import gpugrad
from gpugrad.ops.activation import HardtanhGrad, LeakyReluGrad, ReluGrad
from gpugrad.ops.scalar import PowScalarGrad
from gpugrad.ops.record import apply
from gpugrad.ops.shape import alias

KINK_MARGIN = 0.15      # inputs stay this far from kinks and from each other ("distinct")


@dataclass(frozen=True)
class Arg:
    """How to draw one float64 input: ``shape``, uniform in [low, high], at least
    KINK_MARGIN from every value in ``avoid``, with |x| >= ``min_abs``; the ``distinct``
    inputs of a spec take values that all differ pairwise by KINK_MARGIN or more (no ties
    for max/min/maximum)."""

    shape: tuple
    low: float = -2.0
    high: float = 2.0
    avoid: tuple = ()
    distinct: bool = False
    min_abs: float = 0.0


def real(shape, low=-2.0, high=2.0):
    return Arg(tuple(shape), low, high)


def positive(shape, low=0.5, high=2.0):
    return Arg(tuple(shape), low, high)


def away_from(shape, *kinks, low=-2.0, high=2.0):
    return Arg(tuple(shape), low, high, avoid=tuple(kinks))


def nonzero(shape):
    """Values with |x| in [0.5, 2] of both signs (denominators, negative powers)."""
    return Arg(tuple(shape), -2.0, 2.0, min_abs=0.5)


def distinct(shape, low=-2.0, high=2.0):
    return Arg(tuple(shape), low, high, distinct=True)


@dataclass(frozen=True)
class OpSpec:
    name: str
    records: tuple
    fn: Callable
    reference: Callable
    args: tuple
    needs_cuda: bool = False
    gradcheck_options: dict = field(default_factory=dict)


def spec(name, records, fn, reference, *args, needs_cuda=False, **gradcheck_options):
    records = (records,) if isinstance(records, str) else tuple(records)
    return OpSpec(name, records, fn, reference, tuple(args), needs_cuda, gradcheck_options)


def sample_inputs(op_spec: OpSpec) -> list:
    """The spec's inputs as float64 NumPy arrays, the same on every run (seeded by name)."""
    rng = np.random.default_rng(zlib.crc32(op_spec.name.encode()))
    arrays = [_sample_arg(rng, arg) for arg in op_spec.args]
    distinct_args = [i for i, arg in enumerate(op_spec.args) if arg.distinct]
    if distinct_args:
        sizes = [int(np.prod(op_spec.args[i].shape)) for i in distinct_args]
        values = _distinct_values(rng, sum(sizes), op_spec.args[distinct_args[0]])
        start = 0
        for i, size in zip(distinct_args, sizes):
            arrays[i] = values[start:start + size].reshape(op_spec.args[i].shape)
            start += size
    return arrays


def _sample_arg(rng, arg: Arg) -> np.ndarray:
    values = rng.uniform(arg.low, arg.high, size=arg.shape)
    for _ in range(1000):
        near = np.abs(values) < arg.min_abs
        for kink in arg.avoid:
            near |= np.abs(values - kink) < KINK_MARGIN
        if not near.any():
            return np.asarray(values, dtype=np.float64)
        values = np.where(near, rng.uniform(arg.low, arg.high, size=arg.shape), values)
    raise ValueError(f"cannot draw values in [{arg.low}, {arg.high}] away from {arg.avoid}")


def _distinct_values(rng, count: int, arg: Arg) -> np.ndarray:
    """``count`` values, one per cell of a grid over [low, high] (widened when needed),
    jittered inside the middle of its cell, so any two differ by KINK_MARGIN or more."""
    cell = max((arg.high - arg.low) / count, 2.5 * KINK_MARGIN)
    cells = rng.permutation(count)
    return arg.low + (cells + rng.uniform(0.3, 0.7, size=count)) * cell


# ---------------------------------------------------------------------------------------------
# Helpers for specs that need more than one line
# ---------------------------------------------------------------------------------------------

def _other_device_round_trip(x):
    """x moved to the other device (cpu <-> cuda), scaled there, and moved back."""
    other = "cuda" if x.device.type == "cpu" else "cpu"
    return (x.to(other) * 3.0).to(x.device)


def _cast_round_trip(x):
    """float64 -> float32 -> float64 (both directions of Cast); float32 stays float32."""
    return (x.astype("float32") * 2.0).astype(x.dtype)


def _cast_round_trip_ref(x):
    return (x.astype(np.float32) * np.float32(2.0)).astype(np.float64)


def _with_item_set(index, value=None):
    """fn(x[, v]) cloning x (a non-leaf while recording) and setting ``index`` to v or value."""
    def fn(x, v=None):
        y = x.clone()
        y[index] = value if v is None else v
        return y
    return fn


def _with_item_set_ref(index, value=None):
    def ref(x, v=None):
        y = x.copy()
        y[index] = value if v is None else v
        return y
    return ref


def _set_after_select_ref(x, v):
    """``y[1, :, [0, 3]] = v`` as PyTorch does it: the int selects first."""
    y = x.copy()
    y[1][:, [0, 3]] = v
    return y


def _copy_column_doubled(x):
    y = x.clone()
    y[..., 0] = y[..., 1] * 2.0
    return y


def _copy_column_doubled_ref(x):
    y = x.copy()
    y[..., 0] = y[..., 1] * 2.0
    return y


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_log_softmax(x, axis):
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def _bce_elements(p, t):
    from gpugrad.ops.binary_cross_entropy import binary_cross_entropy_elements
    return binary_cross_entropy_elements(p, t)


def _np_erf(x):
    """erf in float64 NumPy, from Python's math.erf one element at a time."""
    import math
    return np.vectorize(math.erf, otypes=[np.float64])(x)


_LABELS = np.array([1, 0, 4, 1])
_RELU_OFFSETS = np.array([6.0, -6.0, 6.0])
_LABELS_IGNORED = np.array([3, -100, 0, 2])


def _offsets_like(b):
    """_RELU_OFFSETS as a tensor of b's dtype on b's device (gpugrad never moves an array
    between devices silently)."""
    return G.tensor(_RELU_OFFSETS.astype(b.dtype), device=b.device)


def _np_cross_entropy(x, labels, reduction, smoothing=0.0):
    """Softmax cross-entropy in float64 NumPy, label -100 ignored (as PyTorch's)."""
    logp = _np_log_softmax(x, -1)
    valid = labels != -100
    picked = -logp[np.arange(len(labels)), np.where(valid, labels, 0)]
    losses = np.where(valid, (1 - smoothing) * picked - smoothing * logp.mean(axis=1), 0.0)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / valid.sum()


def _np_logsumexp(x, axis=None, keepdims=False):
    return np.log(np.exp(x).sum(axis=axis, keepdims=keepdims))


MASK_3x4 = np.array([[True, False, True, True], [False, False, True, False],
                     [True, True, False, False]])
ROW_MASK_3 = np.array([True, False, True])
REPEATED_ROWS = np.array([0, 2, 0, 1, 2])

G = gpugrad

SPECS = [
    # ---- tensor-tensor arithmetic, with broadcasting and 0-d operands
    spec("add_same_shape", "Add", lambda a, b: a + b, np.add, real((2, 3)), real((2, 3))),
    spec("add_col_row", "Add", lambda a, b: a + b, np.add, real((3, 1)), real((1, 4))),
    spec("add_matrix_vector", "Add", G.add, np.add, real((2, 3)), real((3,))),
    spec("add_0d_matrix", "Add", lambda a, b: a + b, np.add, real(()), real((2, 3))),
    spec("add_0d_0d", "Add", lambda a, b: a + b, np.add, real(()), real(())),
    spec("sub_col_row", "Sub", lambda a, b: a - b, np.subtract, real((3, 1)), real((1, 4))),
    spec("sub_vector_matrix", "Sub", G.sub, np.subtract, real((3,)), real((2, 3))),
    spec("mul_col_row", "Mul", lambda a, b: a * b, np.multiply, real((3, 1)), real((1, 4))),
    spec("mul_matrix_0d", "Mul", G.mul, np.multiply, real((2, 3)), real(())),
    spec("mul_batch_broadcast", "Mul", lambda a, b: a * b, np.multiply,
         real((2, 1, 3)), real((2, 1))),
    spec("div_positive_denominator", "Div", lambda a, b: a / b, np.divide,
         real((2, 3)), positive((3,))),
    spec("div_signed_denominator", "Div", G.div, np.divide, real((3, 1)), nonzero((1, 4))),
    spec("div_0d_numerator", "Div", lambda a, b: a / b, np.divide, real(()), nonzero((2, 3))),
    spec("pow_tensor_exponent", "Pow", lambda a, b: a ** b, np.power,
         positive((2, 3)), real((3,))),
    spec("pow_col_row", "Pow", G.pow, np.power, positive((3, 1)), real((1, 4))),
    spec("maximum_matrix_vector", "Maximum", G.maximum, np.maximum,
         distinct((2, 3)), distinct((3,))),
    spec("maximum_col_row", "Maximum", G.maximum, np.maximum, distinct((3, 1)), distinct((1, 4))),
    spec("maximum_python_scalar", "Maximum", lambda x: G.maximum(x, 0.25),
         lambda x: np.maximum(x, 0.25), away_from((2, 3), 0.25)),
    spec("minimum_matrix_vector", "Minimum", G.minimum, np.minimum,
         distinct((2, 3)), distinct((3,))),
    spec("minimum_scalar_first", "Minimum", lambda x: G.minimum(-0.5, x),
         lambda x: np.minimum(-0.5, x), away_from((4,), -0.5)),
    spec("where_broadcast", "Where", lambda c, a, b: G.where(c > 0, a, b),
         lambda c, a, b: np.where(c > 0, a, b), away_from((3, 1), 0.0), real((1, 4)), real((4,))),
    spec("where_python_scalar", "Where", lambda c, a: G.where(c > 0, a, 0.5),
         lambda c, a: np.where(c > 0, a, 0.5), away_from((2, 3), 0.0), real((2, 3))),
    # ---- tensor-scalar arithmetic (the scalar is a parameter of the record)
    spec("add_python_scalar", "AddScalar", lambda x: x + 2.5, lambda x: x + 2.5, real((2, 3))),
    spec("radd_python_scalar", "AddScalar", lambda x: 2.5 + x, lambda x: 2.5 + x, real((4,))),
    spec("sub_python_scalar", "AddScalar", lambda x: x - 1.5, lambda x: x - 1.5, real((2, 3))),
    spec("rsub_python_scalar", ("AddScalar", "Neg"), lambda x: 2.5 - x, lambda x: 2.5 - x,
         real((2, 3))),
    spec("mul_python_scalar", "MulScalar", lambda x: x * 2.5, lambda x: x * 2.5, real((2, 3))),
    spec("rmul_python_int", "MulScalar", lambda x: 3 * x, lambda x: 3 * x, real(())),
    spec("rmul_numpy_float64_scalar", "MulScalar", lambda x: np.float64(2.5) * x,
         lambda x: 2.5 * x, real((2, 3))),
    spec("div_python_scalar", "DivScalar", lambda x: x / 4.0, lambda x: x / 4.0, real((2, 3))),
    spec("rdiv_python_int", "RDivScalar", lambda x: 1 / x, lambda x: 1 / x, nonzero((2, 3))),
    spec("rdiv_python_scalar", "RDivScalar", lambda x: -2.5 / x, lambda x: -2.5 / x,
         positive((5,))),
    spec("pow_int_exponent", "PowScalar", lambda x: x ** 3, lambda x: x ** 3, real((2, 3))),
    spec("pow_sqrt_exponent", "PowScalar", lambda x: x ** 0.5, np.sqrt, positive((2, 3))),
    spec("pow_negative_exponent", "PowScalar", lambda x: x ** -2.0, lambda x: x ** -2.0,
         nonzero((4,))),
    spec("pow_numpy_float64_exponent", "PowScalar", lambda x: x ** np.float64(2.0),
         lambda x: x ** 2.0, real((4,))),
    spec("pow_zero_exponent", "PowScalar", lambda x: x ** 0, lambda x: x ** 0.0, real((3,))),
    spec("pow_backward_cube", "PowScalarGrad", lambda g, x: apply(PowScalarGrad, g, x, c=3),
         lambda g, x: g * 3 * x ** 2, real((2, 3)), real((2, 3))),
    spec("pow_backward_square", "PowScalarGrad", lambda g, x: apply(PowScalarGrad, g, x, c=2),
         lambda g, x: g * 2 * x, real((3,)), real((3,))),
    spec("pow_backward_linear", "PowScalarGrad", lambda g, x: apply(PowScalarGrad, g, x, c=1),
         lambda g, x: g + 0 * x, real((3,)), real((3,))),
    spec("pow_backward_half", "PowScalarGrad",
         lambda g, x: apply(PowScalarGrad, g, x, c=0.5), lambda g, x: g * 0.5 * x ** -0.5,
         real((2, 2)), positive((2, 2))),
    spec("rpow_base_two", "RPowScalar", lambda x: 2.0 ** x, lambda x: 2.0 ** x, real((2, 3))),
    spec("rpow_base_half", "RPowScalar", lambda x: 0.5 ** x, lambda x: 0.5 ** x, real(())),
    # ---- unary element-wise
    spec("neg", "Neg", lambda x: -x, np.negative, real((2, 3))),
    spec("exp", "Exp", G.exp, np.exp, real((2, 3))),
    spec("exp_method_0d", "Exp", lambda x: x.exp(), np.exp, real(())),
    spec("log", "Log", G.log, np.log, positive((2, 3), low=0.2, high=3.0)),
    spec("sqrt", "Sqrt", G.sqrt, np.sqrt, positive((2, 3), low=0.2, high=3.0)),
    spec("erf", "Erf", G.ops.erf, _np_erf, real((2, 3), low=-3.0, high=3.0)),
    spec("erf_0d", "Erf", G.ops.erf, _np_erf, real(())),
    spec("log1p", "Log1p", G.ops.log1p, np.log1p, real((2, 3), low=-0.5, high=3.0)),
    spec("expm1", "Expm1", G.ops.expm1, np.expm1, real((2, 3), low=-3.0, high=3.0)),
    spec("cumsum_dim1", "CumSum", lambda x: G.cumsum(x, 1), lambda x: np.cumsum(x, 1),
         real((2, 3, 4))),
    spec("cumsum_last_method", "CumSum", lambda x: x.cumsum(-1), lambda x: np.cumsum(x, -1),
         real((5,))),
    spec("binary_cross_entropy_elements", "BinaryCrossEntropy", _bce_elements,
         lambda p, t: -(t * np.log(p) + (1 - t) * np.log1p(-p)),
         positive((2, 3), low=0.1, high=0.9), positive((2, 3), low=0.0, high=1.0)),
    spec("einsum_matmul", "Einsum", lambda a, b: G.einsum("ij,jk->ik", a, b),
         lambda a, b: a @ b, real((2, 3)), real((3, 4))),
    spec("einsum_broadcast_ellipsis", "Einsum", lambda a, b: G.einsum("...i,...i", a, b),
         lambda a, b: (a * b).sum(-1), real((2, 5, 3)), real((1, 3))),
    spec("einsum_outer_and_sum", "Einsum", lambda a, b, c: G.einsum("i,j,ij->j", a, b, c),
         lambda a, b, c: b * (a[:, None] * c).sum(0), real((3,)), real((4,)), real((3, 4))),
    spec("diagonal_offset", "Diagonal", lambda x: G.diagonal(x, 1),
         lambda x: np.diagonal(x, 1), real((3, 4))),
    spec("diagonal_batch_dims", "Diagonal", lambda x: x.diagonal(0, -1, 0),
         lambda x: np.diagonal(x, 0, 2, 0), real((3, 2, 3))),
    spec("trace", "Diagonal", G.trace, np.trace, real((3, 3))),
    spec("diag_embed_offset", ("DiagonalEmbed",), lambda x: G.diag_embed(x, -1),
         lambda x: np.stack([np.diag(r, -1) for r in x]), real((2, 3))),
    spec("einsum_diagonal", ("Einsum", "Diagonal"), lambda x: G.einsum("iij->ji", x),
         lambda x: np.einsum("iij->ji", x), real((3, 3, 2))),
    spec("prod_all", "Prod", lambda x: G.prod(x), np.prod, real((2, 3))),
    spec("prod_dim_method", "Prod", lambda x: x.prod(1, keepdim=True),
         lambda x: np.prod(x, 1, keepdims=True), real((2, 3, 2))),
    spec("abs", "Abs", abs, np.abs, away_from((2, 3), 0.0)),
    spec("clamp_both_bounds", "Clamp", lambda x: G.clamp(x, min=-0.5, max=0.5),
         lambda x: np.clip(x, -0.5, 0.5), away_from((2, 3), -0.5, 0.5)),
    spec("clamp_min_only", "Clamp", lambda x: x.clamp(min=0.0),
         lambda x: np.maximum(x, 0.0), away_from((2, 3), 0.0)),
    spec("clip_max_only", "Clamp", lambda x: G.clip(x, max=1.0),
         lambda x: np.minimum(x, 1.0), away_from((5,), 1.0)),
    spec("alias", "Alias", alias, np.copy, real((2, 3))),
    spec("clone", "Clone", lambda x: x.clone(), np.copy, real((2, 3))),
    spec("cast_float32_round_trip", "Cast", _cast_round_trip, _cast_round_trip_ref,
         real((2, 3)), eps=1e-2, atol=1e-4),   # linear, but float32 rounds at ~1e-7
    spec("to_other_device_and_back", "ToDevice", _other_device_round_trip, lambda x: x * 3.0,
         real((2, 3)), needs_cuda=True),
    # ---- reductions
    spec("sum_all", "Sum", G.sum, np.sum, real((2, 3, 4))),
    spec("sum_axis_int", "Sum", lambda x: x.sum(axis=1), lambda x: x.sum(axis=1),
         real((2, 3, 4))),
    spec("sum_axis_tuple_keepdims", "Sum", lambda x: G.sum(x, axis=(0, 2), keepdims=True),
         lambda x: x.sum(axis=(0, 2), keepdims=True), real((2, 3, 4))),
    spec("sum_negative_axis_dim_keepdim", "Sum", lambda x: x.sum(dim=-1, keepdim=True),
         lambda x: x.sum(axis=-1, keepdims=True), real((3, 4))),
    spec("sum_0d", "Sum", G.sum, np.sum, real(())),
    spec("sum_0d_axis_0", "Sum", lambda x: x.sum(axis=0), lambda x: x.sum(axis=0), real(())),
    spec("mean_all_keepdims", "Mean", lambda x: G.mean(x, keepdims=True),
         lambda x: x.mean(keepdims=True), real((2, 3, 4))),
    spec("mean_negative_axis", "Mean", lambda x: x.mean(axis=-2), lambda x: x.mean(axis=-2),
         real((2, 3, 4))),
    spec("mean_axis_tuple", "Mean", lambda x: G.mean(x, axis=(-1, 0)),
         lambda x: x.mean(axis=(-1, 0)), real((2, 3, 4))),
    spec("max_all", "Max", G.max, np.max, distinct((3, 4))),
    spec("max_axis_keepdims", "Max", lambda x: x.max(axis=0, keepdims=True),
         lambda x: x.max(axis=0, keepdims=True), distinct((3, 4))),
    spec("max_axis_tuple", "Max", lambda x: G.max(x, axis=(0, 2)),
         lambda x: x.max(axis=(0, 2)), distinct((2, 3, 4))),
    spec("max_0d_negative_axis", "Max", lambda x: x.max(axis=-1), lambda x: x.max(axis=-1),
         real(())),
    spec("min_negative_axis", "Min", lambda x: x.min(axis=-1), lambda x: x.min(axis=-1),
         distinct((3, 4))),
    spec("min_all_keepdims", "Min", lambda x: G.min(x, keepdims=True),
         lambda x: x.min(keepdims=True), distinct((2, 3))),
    spec("logsumexp_all", "LogSumExp", G.logsumexp, _np_logsumexp, real((3, 4))),
    spec("logsumexp_axis", "LogSumExp", lambda x: x.logsumexp(axis=1),
         lambda x: _np_logsumexp(x, axis=1), real((2, 3, 4))),
    spec("logsumexp_tuple_keepdims", "LogSumExp",
         lambda x: G.logsumexp(x, axis=(0, -1), keepdims=True),
         lambda x: _np_logsumexp(x, axis=(0, -1), keepdims=True), real((2, 3, 4))),
    # ---- shapes
    spec("reshape", "Reshape", lambda x: x.reshape(6, 4), lambda x: x.reshape(6, 4),
         real((2, 3, 4))),
    spec("reshape_inferred", "Reshape", lambda x: G.reshape(x, (4, -1, 3)),
         lambda x: x.reshape(4, -1, 3), real((2, 3, 4))),
    spec("view_flatten", "Reshape", lambda x: x.view(-1), lambda x: x.reshape(-1),
         real((3, 4))),
    spec("flatten_inner", "Reshape", lambda x: G.flatten(x, 1), lambda x: x.reshape(2, 12),
         real((2, 3, 4))),
    spec("squeeze_unsqueeze", "Reshape", lambda x: G.unsqueeze(G.squeeze(x), -1),
         lambda x: x.squeeze()[..., None], real((3, 1, 4))),
    spec("permute", "Permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1),
         real((2, 3, 4))),
    spec("transpose_last_two", "Permute", G.transpose, lambda x: x.swapaxes(-1, -2),
         real((2, 3, 4))),
    spec("transpose_T", "Permute", lambda x: x.T, lambda x: x.T, real((3, 4))),
    spec("broadcast_to_batch", "BroadcastTo", lambda x: G.broadcast_to(x, (2, 3, 4)),
         lambda x: np.broadcast_to(x, (2, 3, 4)), real((3, 1))),
    spec("expand_inferred", "BroadcastTo", lambda x: x.expand(2, -1, 4),
         lambda x: np.broadcast_to(x, (2, 3, 4)), real((3, 1))),
    spec("broadcast_0d", "BroadcastTo", lambda x: G.broadcast_to(x, (2, 3)),
         lambda x: np.broadcast_to(x, (2, 3)), real(())),
    # ---- indexing (the reverse rule of GetItem is ScatterAdd, whose own is GetItem)
    spec("getitem_int", ("GetItem", "ScatterAdd"), lambda x: x[1], lambda x: x[1],
         real((3, 4))),
    spec("getitem_ints_to_0d", ("GetItem", "ScatterAdd"), lambda x: x[-1, 2],
         lambda x: x[-1, 2], real((3, 4))),
    spec("getitem_step_slices", ("GetItem", "ScatterAdd"), lambda x: x[::2, 1:],
         lambda x: x[::2, 1:], real((5, 4))),
    spec("getitem_negative_step", ("GetItem", "ScatterAdd"), lambda x: x[::-2],
         lambda x: x[::-2], real((7,))),
    spec("getitem_none_slice_int", ("GetItem", "ScatterAdd"), lambda x: x[None, :, 1],
         lambda x: x[None, :, 1], real((3, 4))),
    spec("getitem_ellipsis", ("GetItem", "ScatterAdd"), lambda x: x[..., 1:3],
         lambda x: x[..., 1:3], real((2, 3, 4))),
    spec("getitem_empty_slice", ("GetItem", "ScatterAdd"), lambda x: x[2:1],
         lambda x: x[2:1], real((3,))),
    spec("getitem_int_ellipsis_none", ("GetItem", "ScatterAdd"), lambda x: x[1, ..., None],
         lambda x: x[1, ..., None], real((2, 3, 4))),
    spec("getitem_repeated_rows", ("GetItem", "ScatterAdd"), lambda x: x[REPEATED_ROWS],
         lambda x: x[REPEATED_ROWS], real((3, 4))),
    spec("getitem_list_repeated", ("GetItem", "ScatterAdd"), lambda x: x[[0, 2, 0]],
         lambda x: x[[0, 2, 0]], real((4,))),
    spec("getitem_slice_and_array", ("GetItem", "ScatterAdd"), lambda x: x[:, [2, 0, 2]],
         lambda x: x[:, [2, 0, 2]], real((3, 4))),
    spec("getitem_paired_arrays", ("GetItem", "ScatterAdd"), lambda x: x[[0, 0, 2], [1, 1, 3]],
         lambda x: x[[0, 0, 2], [1, 1, 3]], real((3, 4))),
    spec("getitem_2d_index_array", ("GetItem", "ScatterAdd"),
         lambda x: x[np.array([[0, 1], [1, 1]])], lambda x: x[np.array([[0, 1], [1, 1]])],
         real((3, 2))),
    spec("getitem_bool_mask", ("GetItem", "ScatterAdd"), lambda x: x[MASK_3x4],
         lambda x: x[MASK_3x4], real((3, 4))),
    spec("getitem_row_mask", ("GetItem", "ScatterAdd"), lambda x: x[ROW_MASK_3],
         lambda x: x[ROW_MASK_3], real((3, 4))),
    spec("getitem_int_and_array_apart", ("GetItem", "ScatterAdd"), lambda x: x[0, :, [0, 3]],
         lambda x: x[0][:, [0, 3]], real((2, 3, 4))),      # PyTorch: the int selects first
    spec("getitem_mask_from_tensor", ("GetItem", "ScatterAdd"), lambda x: x[x > 0],
         lambda x: x[x > 0], away_from((3, 4), 0.0)),
    # ---- writing into a non-leaf: SetItem, whose reverse rule zeroes with ZeroAt
    spec("setitem_row_number", ("Clone", "SetItem", "ZeroAt"), _with_item_set(1, 0.5),
         _with_item_set_ref(1, 0.5), real((3, 4))),
    spec("setitem_step_slice_broadcast_tensor", ("SetItem", "ZeroAt"),
         _with_item_set(slice(None, None, 2)), _with_item_set_ref(slice(None, None, 2)),
         real((3, 4)), real((4,))),
    spec("setitem_int_array", ("SetItem", "ZeroAt"), _with_item_set(([0, 2], slice(1, None))),
         _with_item_set_ref(([0, 2], slice(1, None))), real((3, 4)), real((2, 3))),
    spec("setitem_bool_mask", ("SetItem", "ZeroAt"), _with_item_set(MASK_3x4),
         _with_item_set_ref(MASK_3x4), real((3, 4)), real((int(MASK_3x4.sum()),))),
    spec("setitem_int_and_array_apart", ("SetItem", "ZeroAt"),
         _with_item_set((1, slice(None), [0, 3])), _set_after_select_ref,
         real((2, 3, 4)), real((3, 2))),
    spec("setitem_from_own_column", ("SetItem", "ZeroAt"), _copy_column_doubled,
         _copy_column_doubled_ref, real((3, 4))),
    # ---- joining
    spec("concatenate_three_axis0", "Concatenate", lambda a, b, c: G.concatenate([a, b, c]),
         lambda a, b, c: np.concatenate([a, b, c]), real((1, 3)), real((2, 3)), real((3, 3))),
    spec("cat_negative_axis", "Concatenate", lambda a, b: G.cat([a, b], axis=-1),
         lambda a, b: np.concatenate([a, b], axis=-1), real((2, 2, 1)), real((2, 2, 3))),
    spec("concatenate_single", "Concatenate", lambda a: G.concatenate([a], axis=1),
         lambda a: np.concatenate([a], axis=1), real((2, 3))),
    spec("stack_three", ("Concatenate", "Reshape"), lambda a, b, c: G.stack([a, b, c]),
         lambda a, b, c: np.stack([a, b, c]), real((2, 3)), real((2, 3)), real((2, 3))),
    spec("stack_last_axis", ("Concatenate", "Reshape"), lambda a, b: G.stack([a, b], axis=-1),
         lambda a, b: np.stack([a, b], axis=-1), real((2, 3)), real((2, 3))),
    spec("stack_0d", ("Concatenate", "Reshape"), lambda a, b, c: G.stack([a, b, c]),
         lambda a, b, c: np.stack([a, b, c]), real(()), real(()), real(())),
    # ---- matrix products
    spec("matmul_matrices", "MatMul", lambda a, b: a @ b, np.matmul, real((2, 3)), real((3, 4))),
    spec("matmul_vector_left", "MatMul", lambda a, b: a @ b, np.matmul, real((3,)), real((3, 4))),
    spec("matmul_vector_right", "MatMul", G.matmul, np.matmul, real((2, 3)), real((3,))),
    spec("matmul_vector_vector", "MatMul", lambda a, b: a @ b, np.matmul, real((4,)), real((4,))),
    spec("matmul_batched_matrix", "MatMul", lambda a, b: a @ b, np.matmul,
         real((2, 3, 4)), real((4, 5))),
    spec("matmul_vector_batched", "MatMul", lambda a, b: a @ b, np.matmul,
         real((3,)), real((2, 3, 4))),
    spec("matmul_batched_vector", "MatMul", lambda a, b: a.matmul(b), np.matmul,
         real((2, 3, 4)), real((4,))),
    spec("matmul_batch_broadcast", "MatMul", lambda a, b: a @ b, np.matmul,
         real((2, 1, 3, 4)), real((5, 4, 2))),
    # ---- activations
    spec("tanh", "Tanh", G.tanh, np.tanh, real((2, 3), low=-3.0, high=3.0)),
    spec("sigmoid", "Sigmoid", lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x)),
         real((2, 4), low=-8.0, high=8.0)),
    spec("relu", ("Relu", "ReluGrad"), G.relu, lambda x: np.maximum(x, 0.0),
         away_from((2, 3), 0.0)),
    spec("relu_backward", "ReluGrad", lambda g, y: apply(ReluGrad, g, y),
         lambda g, y: np.where(y > 0, g, 0.0), real((3, 4)), away_from((3, 4), 0.0)),
    spec("leaky_relu", ("LeakyRelu", "LeakyReluGrad"),
         lambda x: G.nn.functional.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
         away_from((2, 3), 0.0)),
    spec("leaky_relu_backward", "LeakyReluGrad",
         lambda g, y: apply(LeakyReluGrad, g, y, slope=0.2),
         lambda g, y: np.where(y > 0, g, 0.2 * g), real((3, 4)), away_from((3, 4), 0.0)),
    spec("hardtanh", ("Hardtanh", "HardtanhGrad"), G.nn.functional.hardtanh,
         lambda x: np.clip(x, -1.0, 1.0), away_from((2, 3), -1.0, 1.0)),
    spec("hardtanh_backward", "HardtanhGrad",
         lambda g, y: apply(HardtanhGrad, g, y, low=-1.0, high=1.0),
         lambda g, y: np.where((y > -1.0) & (y < 1.0), g, 0.0), real((3, 4)),
         away_from((3, 4), -1.0, 1.0)),
    spec("softmax_last_axis", "Softmax", G.softmax, lambda x: _np_softmax(x, -1),
         real((2, 3, 4))),
    spec("softmax_middle_axis", "Softmax", lambda x: x.softmax(axis=1),
         lambda x: _np_softmax(x, 1), real((2, 3, 4))),
    spec("softmax_vector_dim", "Softmax", lambda x: G.softmax(x, dim=0),
         lambda x: _np_softmax(x, 0), real((5,))),
    spec("softmax_0d_default_axis", "Softmax", G.softmax, lambda x: _np_softmax(x, -1),
         real(())),
    spec("log_softmax_last_axis", "LogSoftmax", G.log_softmax, lambda x: _np_log_softmax(x, -1),
         real((3, 4))),
    spec("log_softmax_first_axis", "LogSoftmax", lambda x: x.log_softmax(axis=0),
         lambda x: _np_log_softmax(x, 0), real((3, 2, 2))),
    # ---- fused layer and loss records
    spec("linear_2d", "Linear", G.nn.functional.linear, lambda x, w, b: x @ w.T + b,
         real((4, 3)), real((2, 3)), real((2,))),
    spec("linear_batched_input", "Linear", G.nn.functional.linear,
         lambda x, w, b: x @ w.T + b, real((2, 4, 3)), real((5, 3)), real((5,))),
    spec("linear_vector_input", "Linear", G.nn.functional.linear,
         lambda x, w, b: x @ w.T + b, real((3,)), real((2, 3)), real((2,))),
    # pre-activations kept in [3, 9] or [-9, -3] by the offsets: both sides, no kink
    spec("linear_relu", ("LinearRelu", "ReluGrad"),
         lambda x, w, b: G.nn.functional.linear_relu(x, w, b + _offsets_like(b)),
         lambda x, w, b: np.maximum(x @ w.T + b + _RELU_OFFSETS, 0.0),
         real((4, 3), -1.0, 1.0), real((3, 3), -0.6, 0.6), real((3,), -1.0, 1.0)),
    spec("mse_mean", "MseLoss", G.nn.functional.mse_loss, lambda a, b: ((a - b) ** 2).mean(),
         real((3, 4)), real((3, 4))),
    spec("mse_sum", "MseLoss", lambda a, b: G.nn.functional.mse_loss(a, b, reduction="sum"),
         lambda a, b: ((a - b) ** 2).sum(), real((5,)), real((5,))),
    spec("mse_none", "MseLoss", lambda a, b: G.nn.functional.mse_loss(a, b, reduction="none"),
         lambda a, b: (a - b) ** 2, real((2, 3)), real((2, 3))),
    spec("cross_entropy_mean", "SoftmaxCrossEntropy",
         lambda x: G.nn.functional.cross_entropy(x, _LABELS),
         lambda x: _np_cross_entropy(x, _LABELS, "mean"), real((4, 5), low=-3.0, high=3.0)),
    spec("cross_entropy_smoothed_ignored_sum", "SoftmaxCrossEntropy",
         lambda x: G.nn.functional.cross_entropy(x, _LABELS_IGNORED, reduction="sum",
                                                 label_smoothing=0.2),
         lambda x: _np_cross_entropy(x, _LABELS_IGNORED, "sum", 0.2), real((4, 5))),
    spec("cross_entropy_none_ignored_mean", "SoftmaxCrossEntropy",
         lambda x: G.nn.functional.cross_entropy(x, _LABELS_IGNORED, reduction="none"),
         lambda x: _np_cross_entropy(x, _LABELS_IGNORED, "none"), real((4, 5))),
]

# the areas with specs of their own (each imports spec, real... from this module)
from op_specs_arrays import SPECS as _ARRAY_SPECS  # noqa: E402
from op_specs_complex import SPECS as _COMPLEX_SPECS  # noqa: E402
from op_specs_fft import FFT_SPECS as _FFT_SPECS  # noqa: E402
from op_specs_linalg import SPECS as _LINALG_SPECS  # noqa: E402
from op_specs_pointwise import SPECS as _POINTWISE_SPECS  # noqa: E402
from op_specs_operators import SPECS as _OPERATOR_SPECS  # noqa: E402

SPECS += (_POINTWISE_SPECS + _ARRAY_SPECS + _LINALG_SPECS + _OPERATOR_SPECS + _COMPLEX_SPECS
          + _FFT_SPECS)

SPECS_BY_NAME = {s.name: s for s in SPECS}
assert len(SPECS_BY_NAME) == len(SPECS), "two specs share a name"
