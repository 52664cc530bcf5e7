"""Matrix products: ``matmul`` (the ``@`` operator), batched and broadcasting as NumPy's,
and ``linear`` (``x @ w.T + b`` as one op, the layer every MLP is made of).

Shapes: (n,k) @ (k,m) -> (n,m); (..., n, k) @ (..., k, m) -> (..., n, m) with the batch
dimensions broadcast; a 1-D left operand is a row vector and a 1-D right operand a column
vector, their added axis removed from the result.

Example::

    >>> a = gpugrad.ones(2, 3, requires_grad=True)
    >>> (a @ gpugrad.ones(3, 4)).sum().backward()
    >>> a.grad.tolist()
    [[4.0, 4.0, 4.0], [4.0, 4.0, 4.0]]
"""

from __future__ import annotations

from . import fused
from ..autograd.autocast_mode import _state as _autocast
from .autocast_casts import cast_inputs
from .activation import ReluGrad, relu
from . import batching as _batching
from .record import Op, apply, recording_backward
from .op_class import HOLOMORPHIC
from ..autograd.compile_mode import kernel
from .promotion import as_operand, promote
from .shape import Permute, expand_to, reshape, reshape_to, transpose, unsqueeze
from .shape_errors import ShapeError
from .reduce import sum as reduce_sum
from .reduce import sum_to
from ..tensor import Tensor

__all__ = ["matmul", "linear", "linear_relu"]


class MatMul(Op):
    save = "xs"
    complex_grad = HOLOMORPHIC

    @staticmethod
    def forward(xp, a, b):
        return fused.matmul(xp, a, b)

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.xs
        return (_grad_left(g, b, ctx.shapes[0]) if ctx.needs(0) else None,
                _grad_right(g, a, ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.xs
        left = None if ta is None else matmul(ta, b)
        right = None if tb is None else matmul(a, tb)
        return right if left is None else left if right is None else left + right

    @staticmethod
    def vmap(xs, batched):
        return _batched_matmul(xs[0], batched[0], xs[1], batched[1])


def _as_matrix_cotangent(g, a_ndim: int, b_ndim: int):
    """``g`` with the axes that 1-D operands dropped put back, so both rules see matrices."""
    if a_ndim == 1:
        g = unsqueeze(g, -2 if b_ndim > 1 else 0)
    if b_ndim == 1:
        g = unsqueeze(g, -1)
    return g


def _grad_left(g, b, a_shape):
    """d(a @ b)/da applied to g: g @ b^T, summed over broadcast batch axes."""
    a_ndim = len(a_shape)
    if a_ndim == 1 and b.ndim == 2:                 # (k,) @ (k, m): b @ g
        return matmul(b, g)
    g = _as_matrix_cotangent(g, a_ndim, b.ndim)
    bm = unsqueeze(b, -1) if b.ndim == 1 else b
    ga = matmul(g, transpose(bm))
    if a_ndim == 1:
        return reshape(sum_to(ga, (1, a_shape[0]) if ga.ndim >= 2 else a_shape), a_shape)
    return sum_to(ga, a_shape)


def _grad_right(g, a, b_shape):
    """d(a @ b)/db applied to g: a^T @ g, summed over broadcast batch axes."""
    b_ndim = len(b_shape)
    if b_ndim == 1 and a.ndim == 2:                 # (n, k) @ (k,): a^T @ g
        return matmul(transpose(a), g)
    g = _as_matrix_cotangent(g, a.ndim, b_ndim)
    am = unsqueeze(a, 0) if a.ndim == 1 else a
    gb = matmul(transpose(am), g)
    if b_ndim == 1:
        return reshape(sum_to(gb, (b_shape[0], 1)), b_shape)
    return sum_to(gb, b_shape)


def _batched_matmul(a, a_batched: bool, b, b_batched: bool):
    """MatMul's batching rule on batch values (batch at 0 where batched): one GEMM where the
    shapes allow (a batch of vectors or matrices against one matrix), else a broadcast
    batched product with the 1-D operands made matrices and their axes removed after."""
    a_nd = a.ndim - a_batched
    b_nd = b.ndim - b_batched
    if b_nd == 2 and not b_batched:                     # (B, ..., k) @ (k, m): one GEMM
        rows = a if a.ndim == 2 else reshape(a, (-1, a.shape[-1]))
        return reshape_to(matmul(rows, b), tuple(a.shape[:-1]) + (b.shape[-1],))
    if a_nd == 2 and not a_batched and b_nd == 1:       # (n, k) @ (B, k): (B, k) @ (k, n)
        return matmul(b, transpose(a))
    if a_nd == 2 and not a_batched and b_nd == 2:       # (n, k) @ (B, k, m): one GEMM
        size, k, m = b.shape                            # over the columns of every example
        columns = reshape(apply(Permute, b, axes=(1, 0, 2)), (k, size * m))
        out = reshape(matmul(a, columns), (a.shape[0], size, m))
        return apply(Permute, out, axes=(1, 0, 2))
    size = (a if a_batched else b).shape[0]
    if a_nd == 1:
        a = reshape(a, (size, 1, a.shape[-1])) if a_batched else reshape(a, (1, a.shape[0]))
    if b_nd == 1:
        b = reshape(b, (size, b.shape[-1], 1)) if b_batched else reshape(b, (b.shape[0], 1))
    stacked = max(a_nd, b_nd, 2) - 2
    a = _batching.lift(a, stacked + 2) if a_batched else a
    b = _batching.lift(b, stacked + 2) if b_batched else b
    if a.shape[-1] == 1:            # outer products (per-example weight gradients): a
        out = a * b                 # broadcast product writes them at memory speed
    else:
        out = apply(MatMul, a, b)
    rows, cols = out.shape[-2:]
    return reshape_to(out, tuple(out.shape[:-2]) + ((rows,) if a_nd > 1 else ()) +
                      ((cols,) if b_nd > 1 else ()))


def _batched_linear(xs, batched):
    """``x @ w.T + b`` on batch values, for Linear's and LinearRelu's batching rules."""
    (x, w, b), (bx, bw, bb) = xs, batched
    if not (bw or bb):
        return apply(Linear, x, w, b)
    wt = apply(Permute, w, axes=(0, 2, 1)) if bw else transpose(w)
    out = _batched_matmul(x, bx, wt, bw)
    if bb:
        b = _batching.lift(b, out.ndim - 1 if (bx or bw) else out.ndim)
    return out + b


def matmul(a, b):
    """The matrix product ``a @ b`` (see the module docstring for shapes).

    Example::

        >>> (gpugrad.ones(5, 2, 3) @ gpugrad.ones(3)).shape     # 5 matrix-vector products
        (5, 2)
    """
    if isinstance(a, Tensor) and isinstance(b, Tensor) and not (a._batched or b._batched) \
            and _autocast.active is None:       # (the common case first: two matrices of
        x, y = a._array, b._array                # one dtype, no autocast)
        if x.ndim == 2 == y.ndim and x.dtype == y.dtype and x.shape[1] == y.shape[0]:
            return apply(MatMul, a, b)
    if not isinstance(a, Tensor):
        a = as_operand(a, b)
    if not isinstance(b, Tensor):
        b = as_operand(b, a)
    a, b = cast_inputs(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both operands need at least 1 dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}; use * for scalars")
    k_left = a.shape[-1]
    k_right = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_left != k_right:
        raise ShapeError(f"matmul: cannot multiply shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)}: the inner dimensions {k_left} and {k_right} differ")
    if a.ndim > 2 or b.ndim > 2:
        _check_batch_dims(a.shape[:-2], b.shape[:-2], a.shape, b.shape)
    a, b = promote(a, b)
    return apply(MatMul, a, b)


def _check_batch_dims(left: tuple, right: tuple, a_shape, b_shape) -> None:
    for n, m in zip(reversed(left), reversed(right)):
        if n != m and n != 1 and m != 1:
            raise ShapeError(f"matmul: the batch dimensions of shapes {tuple(a_shape)} and "
                             f"{tuple(b_shape)} do not broadcast ({tuple(left)} against "
                             f"{tuple(right)}); the dimensions before the last two must be "
                             f"equal or 1")


class Linear(Op):
    """``x @ w.T + b`` in one record: x (..., in), w (out, in), b (out,) -> (..., out).

    One op instead of three (transpose, matmul, add): the transpose stays a BLAS flag, the
    bias is added into the product's buffer (no temporary), and the graph has one node.
    """
    save = "x0 x1"

    @staticmethod
    def vmap(xs, batched):
        return _batched_linear(xs, batched)

    @staticmethod
    def forward(xp, x, w, b):
        out = fused.matmul(xp, x, w.T)
        out += b
        return out

    @staticmethod
    def vjp(ctx, g):
        return _linear_vjp(ctx, g)

    @staticmethod
    def jvp(ctx, tx, tw, tb):
        return _linear_jvp(ctx, tx, tw, tb)


def _linear_vjp(ctx, g):
    x, w = ctx.xs[0], ctx.xs[1]
    needs = (ctx.needs(0), ctx.needs(1), ctx.needs(2))
    if not recording_backward() and g.ndim == 2 and x.ndim == 2:     # raw arrays: one call
        grads = kernel(fused.linear_backward, w._xp(), g._array, x._array, w._array, needs)
        return tuple(None if a is None else Tensor._wrap(a) for a in grads)
    gx = apply(MatMul, g, w) if needs[0] else None     # shapes and dtypes checked
    g2 = g if g.ndim == 2 else reshape(g, (-1, g.shape[-1]))
    gw = None
    if needs[1]:
        x2 = x if x.ndim == 2 else reshape(x, (-1, x.shape[-1]))
        gw = apply(MatMul, transpose(g2), x2)
    gb = reduce_sum(g2, axis=0) if needs[2] else None
    return gx, gw, gb


def _linear_jvp(ctx, tx, tw, tb):
    x, w = ctx.xs[0], ctx.xs[1]
    parts = [matmul(tx, transpose(w)) if tx is not None else None,
             matmul(x, transpose(tw)) if tw is not None else None, tb]
    total = None
    for part in parts:
        if part is not None:
            total = part if total is None else total + part
    # a bias tangent alone is (out,): it moves every row of the (..., out) output alike
    return None if total is None else expand_to(total, ctx.out_shape)


class LinearRelu(Op):
    """The MLP block ``relu(x @ w.T + b)`` as one record: x (rows, in), w (out, in),
    b (out,) -> (rows, out). It saves x, w and the output (what Linear and Relu would save
    together), and on CUDA its backward is the fused kernels of ``kernels/linear.cu``.

    Its reverse rule is two rules in one: when the backward itself is being recorded
    (``create_graph``, or a forward-mode level open) it is the composite of differentiable
    ops (ReluGrad, then the linear rule), so higher derivatives work; otherwise it is
    one raw-array call that computes the three gradients with as few passes as possible,
    adding the weight and bias gradients straight into their ``.grad`` buffers when the
    engine hands them in (``vjp_accumulate``, ops/record.py).
    """
    save = "x0 x1 ans"

    @staticmethod
    def vmap(xs, batched):
        x, w, b = xs
        if batched == (True, False, False) and x.ndim == 3:       # keep the fused kernels
            rows = apply(LinearRelu, reshape(x, (-1, x.shape[-1])), w, b)
            return reshape(rows, tuple(x.shape[:2]) + (w.shape[0],))
        return relu(_batched_linear(xs, batched))

    @staticmethod
    def forward(xp, x, w, b):
        return fused.linear_relu_forward(xp, x, w, b)

    @staticmethod
    def vjp(ctx, g):
        return LinearRelu.vjp_accumulate(ctx, g, (None, None, None), g_is_scratch=False)

    @staticmethod
    def vjp_accumulate(ctx, g, into, g_is_scratch):
        """``into``: per input, its existing ``.grad`` to add the gradient into in place (or
        None); the weight's and bias's are used, and returned as their gradients.
        ``g_is_scratch``: g's buffer is the engine's own, to overwrite."""
        y = ctx.ans
        if recording_backward():
            return _linear_vjp(ctx, apply(ReluGrad, g, y))
        x, w = ctx.xs[0], ctx.xs[1]
        gw_into, gb_into = into[1], into[2]     # W.grad, b.grad to add into (None if unneeded)
        gx, gw, gb = kernel(
            fused.linear_relu_backward, w._xp(), g._array, y._array, x._array, w._array,
            (ctx.needs(0), ctx.needs(1), ctx.needs(2)), g_is_scratch=g_is_scratch,
            gw_into=None if gw_into is None else gw_into._array,
            gb_into=None if gb_into is None else gb_into._array)
        return (None if gx is None else Tensor._wrap(gx),
                gw_into if gw_into is not None else _wrap_or_none(gw),
                gb_into if gb_into is not None else _wrap_or_none(gb))

    @staticmethod
    def jvp(ctx, tx, tw, tb):
        tz = _linear_jvp(ctx, tx, tw, tb)
        return None if tz is None else apply(ReluGrad, tz, ctx.ans)


def _wrap_or_none(array):
    return None if array is None else Tensor._wrap(array)


def _layer_shaped(x, w, b) -> bool:
    """Tensors x (..., in), w (out, in), b (out,) of one floating dtype."""
    return (w.ndim == 2 and b.ndim == 1 and x.ndim >= 1 and x.shape[-1] == w.shape[1]
            and b.shape[0] == w.shape[0] and x.dtype == w.dtype == b.dtype
            and x.dtype.kind == "f")


def linear(x, weight, bias=None):
    """``x @ weight.T + bias``: x (..., in), weight (out, in), bias (out,) -> (..., out).

    Recorded as one op when the shapes and dtypes line up as in a layer; otherwise (no bias,
    mixed dtypes, broadcasting bias) it is the same composite of matmul and add.

    Example::

        >>> x, w, b = gpugrad.ones(2, 3), gpugrad.ones(2, 3), gpugrad.tensor([0.0, 1.0])
        >>> F.linear(x, w, b)                      # each row: [1+1+1 + 0, 1+1+1 + 1]
        tensor([[3., 4.],
                [3., 4.]], device='cpu', dtype=float32)
    """
    x, weight, bias = cast_inputs(x, weight, bias)
    if bias is not None and isinstance(x, Tensor) and isinstance(weight, Tensor) and \
            isinstance(bias, Tensor) and _layer_shaped(x, weight, bias):
        return apply(Linear, x, weight, bias)
    out = matmul(x, transpose(weight))
    return out if bias is None else out + bias


def linear_relu(x, weight, bias):
    """``relu(x @ weight.T + bias)``: x (rows, in), weight (out, in), bias (out,) ->
    (rows, out), recorded as one op (fused kernels on CUDA) when the shapes and dtypes line
    up as in a layer, otherwise as linear then relu.

    Example::

        >>> x, w, b = gpugrad.ones(2, 3), gpugrad.ones(2, 3), gpugrad.tensor([-4.0, 1.0])
        >>> F.linear_relu(x, w, b).tolist()        # each row: relu([3 - 4, 3 + 1])
        [[0.0, 4.0], [0.0, 4.0]]
    """
    x, weight, bias = cast_inputs(x, weight, bias)
    if isinstance(x, Tensor) and isinstance(weight, Tensor) and isinstance(bias, Tensor) \
            and x.ndim == 2 and _layer_shaped(x, weight, bias):
        return apply(LinearRelu, x, weight, bias)
    return relu(linear(x, weight, bias))
