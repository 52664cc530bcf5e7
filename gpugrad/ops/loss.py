"""Losses: softmax cross-entropy (one record, with its own rules) and mean squared error.

Cross-entropy is one record (shifted by the row maximum, so logits of 1e4 give finite losses
and gradients) whose rule is written with softmax. Example::

    >>> logits = gpugrad.tensor([[1e4, 0.0], [0.0, 1e4]], requires_grad=True)
    >>> loss = gpugrad.ops.loss.cross_entropy(logits, gpugrad.tensor([0, 0]))
    >>> loss.item()                          # the mean of the rows' losses (0 + 1e4) / 2
    5000.0
    >>> loss.backward(); logits.grad         # (softmax - one_hot) / 2, finite
    tensor([[ 0. ,  0. ],
            [-0.5,  0.5]], device='cpu', dtype=float32)
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .autocast_casts import cast_inputs_float32
from ..autograd.batched import BatchedTensor, innermost_array
from ..creation import as_tensor
from ..tensor import Tensor
from .activation import softmax
from .complex_node import refuse_complex
from .elementwise import maximum, where
from . import batching as _batching
from . import fused
from .record import Op, apply, recording_backward
from ..autograd.compile_mode import is_compiling, kernel
from .reduce import mean as reduce_mean
from .reduce import sum as reduce_sum
from .shape import reshape, unsqueeze
from .unary import _float
from .loss_checks import (check_label_shapes, check_label_values, check_reduction,
                          labels_checked_now)

__all__ = ["cross_entropy", "mse_loss"]

KEEP_SOFTMAX_UP_TO = 2**16      # logits elements (256 KiB in float32) for which cross-entropy
                                # keeps its softmax for the reverse rule: see SoftmaxCrossEntropy


class SoftmaxCrossEntropy(Op):
    """Softmax cross-entropy of logits (N, C) against integer labels (N,), in one record:
    per row ``logsumexp(x) - x[label]`` mixed with ``logsumexp(x) - mean(x)`` by the label
    smoothing, 0 for rows whose label is ``ignore_index`` and NaN for a label out of range;
    with ``reduction="none"`` the (N,) losses, with ``"sum"`` their sum divided by
    ``divisor`` (None for a sum; for a mean the rows counted: an int where the labels were
    read on the host, ``labels_checked``, else a 0-d array counted on their device).

    The reverse rule is ``(softmax(x) - q) * g / divisor`` with q the (smoothed) one-hot
    target: from the softmax the forward kept (``aux``: on the reference path, for logits
    of at most ``KEEP_SOFTMAX_UP_TO`` elements, where recomputing costs more in calls than
    in arithmetic and keeping costs little memory), else recomputed from x (one fused
    kernel on CUDA); when the backward is being recorded, the same built from softmax so
    that it can be differentiated again.
    """
    save = "x0 x1 aux"

    @staticmethod
    def vmap(xs, batched, reduction, **params):
        if reduction != "none":
            return None                     # cross_entropy reduces batched losses itself
        x, labels = _batching.with_batches(xs, batched)
        rows = apply(SoftmaxCrossEntropy, reshape(x, (-1, x.shape[-1])),
                     reshape(labels, (-1,)), reduction="none", **params)
        return reshape(rows, tuple(labels.shape))

    @staticmethod
    def forward(xp, x, labels, ignore_index, smoothing, reduction, divisor, labels_checked):
        keep = x.size <= KEEP_SOFTMAX_UP_TO     # larger: recomputed (memory as PyTorch's)
        out = fused.softmax_xent_forward(xp, x, labels, ignore_index, smoothing,
                                         labels_checked, divisor, keep_probs=keep)
        losses, probs = out if keep else (out, None)
        return _reduced(losses, reduction, divisor), probs

    @staticmethod
    def vjp(ctx, g):
        x, labels = ctx.xs
        if not recording_backward():
            probs = ctx.aux
            if probs is not None:
                gx = kernel(fused.softmax_xent_grad_from_probs, probs._xp(), probs._array,
                            labels._array, g._array, ctx.ignore_index, ctx.smoothing,
                            ctx.labels_checked, ctx.divisor, ctx.divisor is not None)
                return Tensor._wrap(gx), None
            g_raw = g._array
            if ctx.divisor is not None:     # rows counted on the host or on the device:
                g_raw = kernel(_per_row, g_raw, ctx.divisor)    # the same float division
            gx = kernel(fused.softmax_xent_backward, x._xp(), x._array, labels._array, g_raw,
                        ctx.ignore_index, ctx.smoothing, 1.0, ctx.labels_checked, ctx.divisor)
            return Tensor._wrap(gx), None
        target, valid = _smoothed_targets(x, labels, ctx.ignore_index, ctx.smoothing)
        weight = _divided(g * valid, _rows_or_one(ctx.divisor))
        return (softmax(x, axis=1) - target) * unsqueeze(weight, 1), None

    @staticmethod
    def jvp(ctx, t, t_labels):
        x, labels = ctx.xs
        target, valid = _smoothed_targets(x, labels, ctx.ignore_index, ctx.smoothing)
        rows = reduce_sum((softmax(x, axis=1) - target) * t, axis=1) * valid
        return _reduced_tangent(rows, ctx.reduction, _rows_or_one(ctx.divisor))


class MseLoss(Op):
    """Squared error of two tensors of one shape and float dtype: ``(x - t)**2`` per
    element (``reduction="none"``), or its sum divided by ``divisor`` (None for a sum, the
    element count for a mean). The reverse rule, ``2 (x - t) g / divisor``, is one fused
    kernel on CUDA (or, when the backward is being recorded, the same in differentiable
    ops)."""

    save = "xs"

    @staticmethod
    def vmap(xs, batched, reduction, divisor):
        x, t = _batching.with_batches(xs, batched)
        out = apply(MseLoss, x, t, reduction="none", divisor=None)
        if reduction == "none":
            return out
        out = reduce_sum(out, axis=tuple(range(1, out.ndim)))
        return out if divisor is None else out / divisor

    @staticmethod
    def forward(xp, x, t, reduction, divisor):
        d = x - t
        d *= d
        return _reduced(d, reduction, divisor)

    @staticmethod
    def vjp(ctx, g):
        x, t = ctx.xs
        if not recording_backward():
            scale = 1.0 if ctx.divisor is None else 1.0 / ctx.divisor
            gx = Tensor._wrap(kernel(fused.mse_backward, x._xp(), x._array, t._array, g._array,
                                     scale))
        else:
            gx = (x - t) * (g * (2.0 if ctx.divisor is None else 2.0 / ctx.divisor))
        return (gx if ctx.needs(0) else None), (-gx if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, tx, tt):
        x, t = ctx.xs
        td = tx if tt is None else (-tt if tx is None else tx - tt)
        return _reduced_tangent((x - t) * td * 2.0, ctx.reduction, ctx.divisor)


def _reduced(values, reduction: str, divisor):
    """The forward of a loss record: ``values`` as they are ("none"), or their sum divided
    by ``divisor`` (None: not divided; a number; or a 0-d array). A mean over nothing is
    NaN, as PyTorch's."""
    if reduction == "none":
        return values
    total = values.sum()
    if divisor is not None:
        if divisor.__class__ is np.ndarray:             # on the host: a number (the same
            divisor = divisor.item()                    # float division, without 0-d cost)
        if (divisor.__class__ is int or divisor.__class__ is float) and divisor == 0:
            total = np.asarray(np.nan)                  # 0 / 0, without NumPy's warning
        else:
            total = total / divisor
    total = total.astype(values.dtype, copy=False)
    return np.asarray(total) if isinstance(total, np.generic) else total    # 0-d, not scalar


def _reduced_tangent(values, reduction: str, divisor):
    """``_reduced`` in gpugrad ops, for the records' forward rules."""
    if reduction == "none":
        return values
    return _divided(reduce_sum(values), divisor)


def _divided(t, divisor):
    """Tensor ``t`` divided by a loss record's ``divisor`` (None, a number, a 0-d array)."""
    if divisor is None:
        return t
    return t / (divisor if isinstance(divisor, (int, float)) else Tensor._wrap(divisor))


def _smoothed_targets(x, labels, ignore_index: int, smoothing: float):
    """Constants of the rules: the target distribution q (N, C), one-hot mixed with uniform
    by ``smoothing``, and the row mask (N,) (0 where the label is ``ignore_index``)."""
    return _targets(labels, x.shape[-1], x.dtype, ignore_index, smoothing)


def _targets(labels, classes: int, dtype, ignore_index: int, smoothing: float):
    if labels._batched:                     # per-example labels (vmap): per-example targets
        target, valid = _targets(labels._value, classes, dtype, ignore_index, smoothing)
        return (BatchedTensor._make(target, labels._level),
                BatchedTensor._make(valid, labels._level))
    one_hot, valid = kernel(_targets_raw, labels._xp(), labels._array, classes, dtype,
                            ignore_index, smoothing)
    return Tensor._wrap(one_hot), Tensor._wrap(valid)


def _targets_raw(xp, raw, classes: int, dtype, ignore_index: int, smoothing: float) -> tuple:
    """``_targets`` on raw labels ``raw`` (..., ): the target rows and the row mask."""
    valid = raw != ignore_index
    one_hot = (xp.arange(classes) == xp.where(valid, raw, 0)[..., None]).astype(dtype)
    if smoothing:
        one_hot = one_hot * (1.0 - smoothing) + smoothing / classes
    return one_hot, valid.astype(dtype)


def cross_entropy(logits, target, reduction: str = "mean", label_smoothing: float = 0.0,
                  ignore_index: int = -100):
    """Softmax cross-entropy of ``logits`` (N, C) against integer class labels (N,).

    ``label_smoothing`` mixes the one-hot target with the uniform distribution;
    ``ignore_index`` labels contribute nothing (and "mean" averages over the other rows);
    ``reduction`` is "mean", "sum" or "none" (a loss per row). As PyTorch's. This is the
    fused common case; ``gpugrad.nn.losses.cross_entropy`` has PyTorch's whole signature
    (per-class weights, class probabilities, (N, C, d1, ...) and (C,) logits) and calls it.

    Example::

        >>> from gpugrad.ops.loss import cross_entropy
        >>> cross_entropy(gpugrad.zeros(2, 4), gpugrad.tensor([1, 3])).item()   # log 4
        1.3862943649291992
    """
    if logits.dtype.kind == "c":
        refuse_complex("cross_entropy", logits, ordered=False)
    (logits,) = cast_inputs_float32(logits)
    check_reduction(reduction, "cross_entropy")
    target = target if isinstance(target, Tensor) else as_tensor(target, device=logits.device)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    logits = _float(logits)
    check_label_shapes(logits, target)
    if logits._batched or target._batched:
        return _batched_cross_entropy(logits, target, reduction, float(label_smoothing),
                                      ignore_index)
    labels, classes = target._array, logits.shape[1]
    checked = labels_checked_now(labels)
    if checked and is_compiling():     # checked and counted again by every replay
        counted = kernel(_checked_count, labels, classes, ignore_index, logits.dtype)
    else:
        counted = check_label_values(labels, classes, ignore_index) if checked else None
    if reduction == "mean" and not checked:
        counted = kernel(_rows_counted_on_device, labels, ignore_index, logits.dtype)
    loss = apply(SoftmaxCrossEntropy, logits, target, ignore_index=ignore_index,
                 smoothing=float(label_smoothing),
                 reduction="none" if reduction == "none" else "sum",
                 divisor=counted if reduction == "mean" else None, labels_checked=checked)
    if not checked:
        loss._explain_nan_on_read(lambda: check_label_values(labels, classes, ignore_index))
    return loss


def _batched_cross_entropy(logits, target, reduction, smoothing, ignore_index):
    """cross_entropy inside vmap: the per-row losses of every example in one record, then
    each example's sum or mean over its own rows."""
    labels = innermost_array(target)
    checked = labels_checked_now(labels)
    if checked:                         # (a compiled step checks again at every replay)
        kernel(check_label_values, labels, logits.shape[1], ignore_index)
    losses = apply(SoftmaxCrossEntropy, logits, target, ignore_index=ignore_index,
                   smoothing=smoothing, reduction="none", divisor=None, labels_checked=checked)
    if reduction == "none":
        return losses
    total = reduce_sum(losses)
    if reduction == "sum":
        return total
    rows = reduce_sum(target != ignore_index).astype(total.dtype)
    # an example with no rows: NaN mean, as PyTorch's, but a zero gradient (not 0/0)
    return where(rows > 0, total / maximum(rows, 1.0), float("nan"))


def _rows_or_one(divisor):
    """The divisor of the rules: the rows counted, or 1 where none counts (every row's
    gradient is 0 then, as PyTorch's, while the mean itself is NaN)."""
    if divisor is None:
        return None
    if isinstance(divisor, int):
        return max(divisor, 1)
    return kernel(_at_least_one, divisor)


def _at_least_one(divisor):
    xp = backend.xp_of(divisor)
    return xp.asarray(xp.maximum(divisor, 1))


def _checked_count(labels, classes: int, ignore_index: int, dtype):
    """``check_label_values`` (a ValueError for a label out of range) of NumPy labels, the
    count as a 0-d array of ``dtype``: a float division by it rounds as one by the int does."""
    return np.asarray(check_label_values(labels, classes, ignore_index), dtype=dtype)


def _per_row(g, divisor):
    """Raw ``g`` divided by the rows counted, or by 1 where none counts (``_rows_or_one``):
    an int or a 0-d array of g's dtype, which round alike."""
    rows = max(divisor, 1) if isinstance(divisor, int) else _at_least_one(divisor)
    return backend.xp_of(g).asarray(g / rows)


def _rows_counted_on_device(labels, ignore_index: int, dtype):
    """How many labels are not ``ignore_index``: a 0-d array of ``dtype`` counted on their
    device (not read on the host)."""
    return backend.xp_of(labels).asarray((labels != ignore_index).sum(), dtype=dtype)


def mse_loss(input, target, reduction: str = "mean"):
    """Mean (or sum, or per-element) squared difference of two tensors of one shape.

    Example::

        >>> from gpugrad.ops.loss import mse_loss
        >>> x = gpugrad.tensor([1.0, 3.0], requires_grad=True)
        >>> loss = mse_loss(x, gpugrad.tensor([0.0, 1.0]))     # (1^2 + 2^2) / 2
        >>> loss.item()
        2.5
        >>> loss.backward(); x.grad                            # 2 (x - target) / 2
        tensor([1., 2.], device='cpu', dtype=float32)
    """
    input, target = cast_inputs_float32(input, target)
    check_reduction(reduction, "mse_loss")
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"mse_loss: input shape {tuple(input.shape)} and target shape "
                         f"{tuple(target.shape)} differ; they must match")
    if isinstance(input, Tensor) and isinstance(target, Tensor) and input.numel() and \
            input.dtype == target.dtype and input.dtype.kind == "f":
        return apply(MseLoss, input, target, reduction="sum" if reduction != "none" else "none",
                     divisor=input.numel() if reduction == "mean" else None)
    squared = (input - target) ** 2           # mixed dtypes, empty: promoted by the ops
    if reduction == "none":
        return squared
    return reduce_sum(squared) if reduction == "sum" else reduce_mean(squared)
