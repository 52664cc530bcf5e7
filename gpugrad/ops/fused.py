"""The raw-array functions that have fused CUDA kernels, each with its reference path.

Every function takes ``xp`` (numpy or cupy) and raw arrays. On CuPy arrays, with the kernels
on (``gpugrad.cuda.fused_enabled()``) and float32/float64 operands of one dtype, it launches
the kernel from ``kernels/``; otherwise it runs the reference: the same function in array
code (docs/ARCHITECTURE.md, 'Kernels'). Tests hold the two together on a GPU.

Example::

    >>> from gpugrad.ops.fused import relu_backward
    >>> relu_backward(np, np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.0, np.nan]))
    array([1., 0., 3.])
"""

from __future__ import annotations

import functools

import numpy as np

from .. import cuda
from ..cuda import captured_blas

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _kernels(xp, *arrays):
    """``gpugrad.cuda.launch`` when these arrays can take the fused kernels, else None."""
    if xp is np or not cuda.fused_enabled():
        return None
    dtype = arrays[0].dtype
    if dtype not in _FLOATS or any(a.dtype != dtype for a in arrays):
        return None
    from ..cuda import launch
    return launch


def _contiguous(xp, *arrays):
    """The arrays, copied where they are not C-contiguous (0-d arrays keep their shape)."""
    return [a if a.flags.c_contiguous else xp.ascontiguousarray(a) for a in arrays]


def matmul(xp, a, b):
    """a @ b on raw arrays (NumPy's matmul semantics). While a CUDA graph records, through
    cuBLAS directly (``cuda/captured_blas.py``: CuPy refuses cuBLAS during a capture)."""
    if xp is np:
        return np.matmul(a, b)
    if captured_blas.active() is None:
        return xp.matmul(a, b)
    return captured_blas.matmul(a, b)


def relu_forward(xp, x):
    """max(x, 0), NaN kept."""
    launch = _kernels(xp, x)
    if launch is not None:
        return launch.relu_forward(*_contiguous(xp, x))
    return xp.maximum(x, 0)


def relu_backward(xp, g, y):
    """``g * (not y <= 0)``: relu's backward from its output y: g where y is NaN (a NaN
    input's gradient is g), as PyTorch's threshold_backward. An inf or NaN g where y <= 0
    gives NaN (PyTorch's where gives 0; so do the CUDA kernels): a masked select costs ~7x
    the multiply here."""
    launch = _kernels(xp, g, y)
    if launch is not None and g.shape == y.shape:
        return launch.relu_backward(*_contiguous(xp, g, y))
    return xp.asarray(g * _kept(xp, y), dtype=g.dtype)      # float times bool: no float mask


def _kept(xp, y):
    """Where relu's gradient passes, as one bool array: not ``y <= 0``, so a NaN output
    passes it (PyTorch's threshold_backward). A multiply by it allocates one bool array and
    the result, no casting buffers: what the checkpoint planner's memory profile measures."""
    keep = y <= 0
    return ~keep if keep.ndim == 0 else xp.logical_not(keep, out=keep)    # (NumPy: a scalar)


def linear_relu_forward(xp, x, w, b):
    """relu(x @ w.T + b): x (rows, in), w (out, in), b (out,) -> (rows, out)."""
    if xp is np:            # (no dispatch calls on NumPy: a small model's step pays each)
        out, launch = np.matmul(x, w.T), None
    else:
        out = matmul(xp, x, w.T)
        launch = _kernels(xp, out, b)
    if launch is not None and out.ndim == 2:
        return launch.bias_relu_forward_(out, *_contiguous(xp, b))
    out += b
    return xp.maximum(out, 0, out=out)


def linear_backward(xp, g, x, w, needs):
    """The gradients (gx, gw, gb) of x @ w.T + b from the cotangent g, all 2-D: g (rows,
    out), x (rows, in), w (out, in); ``needs`` says which to compute (None for the others).
    Three BLAS-backed calls on either device (no kernel of its own)."""
    if xp is np:            # NumPy's own calls: no dispatch between them (small models)
        return (np.matmul(g, w) if needs[0] else None, np.matmul(g.T, x) if needs[1] else None,
                np.add.reduce(g, 0) if needs[2] else None)
    gx = matmul(xp, g, w) if needs[0] else None
    gw = matmul(xp, g.T, x) if needs[1] else None
    gb = g.sum(axis=0) if needs[2] else None
    return gx, gw, gb


def linear_relu_backward(xp, g, y, x, w, needs, g_is_scratch: bool = False, gw_into=None,
                         gb_into=None):
    """The gradients (gx, gw, gb) of relu(x @ w.T + b) from the cotangent g and the output y,
    all 2-D: g, y (rows, out), x (rows, in), w (out, in); ``needs`` says which to compute
    (None for the others). ``g_is_scratch``: g's buffer is nobody else's, and the reference
    path masks it in place instead of allocating another of its size. ``gw_into`` /
    ``gb_into``: existing gradient buffers to add gw / gb into in place (then returned)."""
    launch = None if xp is np else _kernels(xp, g, y, x, w)      # (as the forward)
    if launch is not None:
        g, y, x, w = _contiguous(xp, g, y, x, w)
        rows, outs = y.shape
        if cuda.linear_backward_route(rows, outs, x.shape[1], y.dtype) == "rawkernel" and \
                launch.masked_gemm_fits(rows, outs, x.shape[1]):
            gx = launch.masked_gemm_input(g, y, w) if needs[0] else None
            gw = launch.masked_gemm_weight(g, y, x, out=gw_into,
                                           accumulate=gw_into is not None) if needs[1] else None
            gb = launch.relu_bias_backward(g, y, want_gz=False, db=gb_into,
                                           accumulate=gb_into is not None)[1] \
                if needs[2] else None
            return gx, gw, gb
        gz, gb = launch.relu_bias_backward(g, y, want_gz=needs[0] or needs[1], db=gb_into,
                                           accumulate=gb_into is not None)
        if needs[1] and gw_into is not None:
            gw = launch.gemm_accumulate(gz, x, gw_into, transpose_a=True)
        else:
            gw = matmul(xp, gz.T, x) if needs[1] else None
    else:
        if g_is_scratch:
            gz = xp.multiply(g, _kept(xp, y), out=g)
        else:
            gz = relu_backward(xp, g, y)
        gx, gw, gb = linear_backward(xp, gz, x, w, needs)
        if gb is not None and gb_into is not None:
            gb = xp.add(gb_into, gb, out=gb_into)
        if gw is not None and gw_into is not None:
            gw = xp.add(gw_into, gw, out=gw_into)
        return gx, gw, gb
    gx = matmul(xp, gz, w) if needs[0] else None
    return gx, gw, (gb if needs[2] else None)


def softmax_xent_forward(xp, x, labels, ignore_index: int, smoothing: float,
                         labels_checked: bool = False, counted=None, keep_probs: bool = False):
    """Per-row loss (rows,) of logits x (rows, cols) against integer labels (rows,):
    ``lse - x[label]`` mixed with ``lse - mean(x)`` by ``smoothing``, 0 where ignored, NaN
    where a label is out of range (as the kernel: never an index out of bounds).
    ``labels_checked``: every label is known to be in range (the reference path skips
    looking for ones that are not); ``counted``: how many rows count, when the check
    counted them (an int, or a 0-d float array): all of them means none is ignored.
    ``keep_probs``: return ``(loss, softmax(x))`` for ``softmax_xent_grad_from_probs``,
    the softmax None where the fused kernel ran (its backward reads x again, in one pass).
    """
    launch = _kernels(xp, x)
    if launch is not None and labels.dtype.name in ("int32", "int64") and x.shape[1] > 0:
        loss = launch.softmax_xent_forward(*_contiguous(xp, x, labels), ignore_index,
                                           smoothing)
        return (loss, None) if keep_probs else loss
    shifted = x - x.max(axis=1, keepdims=True)
    exp = xp.exp(shifted)
    total = exp.sum(axis=1)
    lse = xp.log(total)
    valid, picked, out_of_range = _label_rows(xp, labels, ignore_index, x.shape[1],
                                              labels_checked, counted)
    loss = lse - shifted[_rows(xp, x.shape[0]), picked]
    if smoothing:
        loss = loss * (1.0 - smoothing) + (lse - shifted.mean(axis=1)) * smoothing
    if valid is not None:
        loss = xp.where(valid, loss, 0)
    loss = loss.astype(x.dtype, copy=False)
    if out_of_range is not None:
        loss = xp.where(out_of_range, xp.nan, loss).astype(x.dtype, copy=False)
    if not keep_probs:
        return loss
    exp /= total[:, None]
    return loss, exp


def _label_rows(xp, labels, ignore_index: int, classes: int, labels_checked: bool,
                counted=None):
    """The rows that count (label not ``ignore_index``; None when all do and the labels
    were checked), the column each picks (0 where none), and the rows whose label is out of
    range (they give NaN; None when the labels were checked). Checked labels are read on
    the host, so counting them here costs no device sync; where the check's count says
    every row counts, nothing is looked at again."""
    if labels_checked:
        if _counts_every_row(counted, labels.shape[0]):
            return None, labels, None
        valid = labels != ignore_index
        if valid.all():
            return None, labels, None
        return valid, xp.where(valid, labels, 0), None
    valid = labels != ignore_index
    in_range = (labels >= 0) & (labels < classes)
    return valid, xp.where(valid & in_range, labels, 0), valid & ~in_range


def _rows(xp, n: int):
    """``xp.arange(n)``, the row of each label (NumPy's kept, read-only, for small n)."""
    return _numpy_rows(n) if xp is np and n <= 4096 else xp.arange(n)


@functools.lru_cache(maxsize=16)
def _numpy_rows(n: int):
    rows = np.arange(n)
    rows.flags.writeable = False
    return rows


def _counts_every_row(counted, rows: int) -> bool:
    """Whether ``counted`` (None, an int, or a 0-d float array) says all ``rows`` count; a
    float count is trusted only where its dtype holds every integer up to ``rows``."""
    if counted is None:
        return False
    if counted.__class__ is int:
        return counted == rows
    exact = _EXACT_INTEGERS.get(counted.dtype)
    return exact is not None and rows <= exact and counted.item() == rows


_EXACT_INTEGERS = {np.dtype(np.float16): 2**11, np.dtype(np.float32): 2**24,
                   np.dtype(np.float64): 2**53}


def softmax_xent_backward(xp, x, labels, g, ignore_index: int, smoothing: float,
                          scale: float, labels_checked: bool = False, counted=None):
    """d loss / d x (rows, cols) = g * scale * (softmax(x) - q), q the one-hot target mixed
    with uniform by ``smoothing``, 0 in ignored rows, NaN in rows whose label is out of
    range; g one value or one per row. ``labels_checked`` and ``counted`` as for the
    forward."""
    launch = _kernels(xp, x, g)
    if launch is not None and labels.dtype.name in ("int32", "int64") and x.shape[1] > 0:
        return launch.softmax_xent_backward(*_contiguous(xp, x, labels, g), ignore_index,
                                            smoothing, scale)
    exp = x - x.max(axis=1, keepdims=True)
    xp.exp(exp, out=exp)
    return softmax_xent_grad_from_probs(xp, exp, labels, g if scale == 1.0 else g * scale,
                                        ignore_index, smoothing, labels_checked, counted,
                                        row_sums=exp.sum(axis=1, keepdims=True))


def softmax_xent_grad_from_probs(xp, probs, labels, g, ignore_index: int, smoothing: float,
                                 labels_checked: bool = False, counted=None,
                                 mean: bool = False, row_sums=None):
    """``softmax_xent_backward`` from the softmax ``probs`` (rows, cols), as the forward
    kept it: ``g * (probs - q)``, g one value or one per row. ``labels_checked`` and
    ``counted`` as for the forward; ``mean``: g is divided by ``counted`` (the rows of a
    mean; fewer than 1 divides by 1, as the gradient of a mean over no rows is 0).
    ``row_sums``: ``probs`` are exponentials not yet divided by these sums (rows, 1), in
    the caller's scratch buffer, which becomes the gradient (the recomputing backward's)."""
    rows = labels.shape[0]
    every_row = labels_checked and _counts_every_row(counted, rows)
    if mean:
        if counted.__class__ is int:
            g = g / max(counted, 1)
        elif every_row and rows:
            g = g / counted             # the rows themselves: at least 1
        else:
            g = g / xp.maximum(counted, 1)
    valid, picked, out_of_range = _label_rows(xp, labels, ignore_index, probs.shape[1],
                                              labels_checked, rows if every_row else None)
    coef = g if valid is None else xp.where(valid, g, 0)        # per row, or one
    if out_of_range is not None:
        coef = xp.where(out_of_range, xp.nan, coef)
    coef = xp.asarray(coef, dtype=probs.dtype)
    per_row = coef[:, None] if coef.ndim else coef
    if row_sums is None:
        grad = probs * per_row
    else:                               # coef * softmax in one pass over the scratch buffer
        grad = probs
        grad *= per_row / row_sums
    grad[_rows(xp, probs.shape[0]), picked] -= coef * (1.0 - smoothing) if smoothing else coef
    if smoothing:
        grad -= per_row * (smoothing / probs.shape[1])
    return grad


def mse_backward(xp, x, t, g, scale: float):
    """d/dx of scale * sum(g * (x - t)**2) = 2 * scale * g * (x - t); g one value or x's
    shape."""
    launch = _kernels(xp, x, t, g)
    if launch is not None and x.shape == t.shape and (g.size == 1 or g.shape == x.shape):
        return launch.mse_backward(*_contiguous(xp, x, t, g), scale)
    return xp.asarray((x - t) * (g * (2.0 * scale)), dtype=x.dtype)     # 0-d stays an array
