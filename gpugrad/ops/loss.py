"""Losses: softmax cross-entropy (one record, with its own rules) and mean squared error.

Cross-entropy is one record (shifted by the row maximum, so logits of 1e4 give finite losses
and gradients) whose rule is written with softmax. Example::

    >>> logits = gpugrad.tensor([[1e4, 0.0], [0.0, 1e4]], requires_grad=True)
    >>> cross_entropy(logits, gpugrad.tensor([0, 0])).item()     # (0 + 1e4) / 2
    5000.0
"""

from __future__ import annotations

from .. import amp, backend
from ..cuda import graphs
from ..creation import as_tensor
from ..tensor import Tensor
from .activation import softmax
from . import fused
from .record import Op, apply, recording_backward, zeros_with
from .reduce import mean as reduce_mean
from .reduce import sum as reduce_sum
from .shape import unsqueeze
from .unary import _float

__all__ = ["cross_entropy", "mse_loss"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, name: str):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_labels(logits, target, ignore_index: int, check_values: bool = True) -> int:
    """Integer labels, one per row, each a class index or ``ignore_index``; returns how
    many rows count (are not ``ignore_index``). ``check_values=False`` checks shapes and
    dtypes only (no host sync) and returns -1."""
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy expects logits of shape (N, C), got "
                         f"{tuple(logits.shape)}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels must be integer class indices (int32 or int64), "
                        f"got {target.dtype}; convert with labels.astype('int64')")
    if target.ndim != 1 or target.shape[0] != logits.shape[0]:
        raise ValueError(f"cross_entropy: {logits.shape[0]} rows of logits but labels of shape "
                         f"{tuple(target.shape)}; pass one label per row")
    if not check_values:
        return -1
    classes = logits.shape[1]
    labels = target._array
    if labels.size == 0:
        return 0
    if int(labels.min()) >= 0 and int(labels.max()) < classes and not 0 <= ignore_index < classes:
        return labels.size              # the common case, in two reductions
    bad = ((labels < 0) | (labels >= classes)) & (labels != ignore_index)
    if bool(bad.any()):
        first = int(labels[bad.nonzero()[0][0]])
        raise ValueError(f"cross_entropy: label {first} is out of range for {classes} classes "
                         f"(valid: 0 to {classes - 1}, or ignore_index={ignore_index})")
    return int((labels != ignore_index).sum())


class SoftmaxCrossEntropy(Op):
    """Softmax cross-entropy of logits (N, C) against integer labels (N,), in one record:
    per row ``logsumexp(x) - x[label]`` mixed with ``logsumexp(x) - mean(x)`` by the label
    smoothing, and 0 for rows whose label is ``ignore_index``; with ``reduction="none"``
    the (N,) losses, with ``"sum"`` their sum divided by ``divisor`` (1 for a sum, the
    rows counted for a mean).

    The reverse rule is ``(softmax(x) - q) * g / divisor`` with q the (smoothed) one-hot
    target: one fused kernel on CUDA, or, when the backward is being recorded, the same
    built from softmax so that it can be differentiated again.
    """
    save = "x0 x1"

    def forward(xp, x, labels, ignore_index, smoothing, reduction, divisor):
        losses = fused.softmax_xent_forward(xp, x, labels, ignore_index, smoothing)
        return _reduced(losses, reduction, divisor)

    def vjp(ctx, g):
        x, labels = ctx.xs
        if not recording_backward():
            gx = fused.softmax_xent_backward(x._xp(), x._array, labels._array, g._array,
                                             ctx.ignore_index, ctx.smoothing, 1.0 / ctx.divisor)
            return Tensor._wrap(gx), None
        target, valid = _smoothed_targets(x, labels, ctx.ignore_index, ctx.smoothing)
        weight = g * valid
        if ctx.divisor != 1:
            weight = weight / ctx.divisor
        return (softmax(x, axis=1) - target) * unsqueeze(weight, 1), None

    def jvp(ctx, t, t_labels):
        x, labels = ctx.xs
        target, valid = _smoothed_targets(x, labels, ctx.ignore_index, ctx.smoothing)
        rows = reduce_sum((softmax(x, axis=1) - target) * t, axis=1) * valid
        return _reduced_tangent(rows, ctx.reduction, ctx.divisor)


class MseLoss(Op):
    """Squared error of two tensors of one shape and float dtype: ``(x - t)**2`` per
    element (``reduction="none"``), or its sum divided by ``divisor`` (1, or the element
    count for a mean). The reverse rule, ``2 (x - t) g / divisor``, is one fused kernel on
    CUDA (or, when the backward is being recorded, the same in differentiable ops)."""

    save = "xs"

    def forward(xp, x, t, reduction, divisor):
        d = x - t
        d *= d
        return _reduced(d, reduction, divisor)

    def vjp(ctx, g):
        x, t = ctx.xs
        if not recording_backward():
            gx = Tensor._wrap(fused.mse_backward(x._xp(), x._array, t._array, g._array,
                                                 1.0 / ctx.divisor))
        else:
            gx = (x - t) * (g * (2.0 / ctx.divisor))
        return (gx if ctx.needs(0) else None), (-gx if ctx.needs(1) else None)

    def jvp(ctx, tx, tt):
        x, t = ctx.xs
        td = tx if tt is None else (-tt if tx is None else tx - tt)
        return _reduced_tangent((x - t) * td * 2.0, ctx.reduction, ctx.divisor)


def _reduced(values, reduction: str, divisor):
    """The forward of a loss record: ``values`` as they are ("none"), or their sum divided
    by ``divisor`` (a 0-d array of their dtype)."""
    if reduction == "none":
        return values
    total = values.sum()
    return (total / divisor if divisor != 1 else total).astype(values.dtype, copy=False)


def _reduced_tangent(values, reduction: str, divisor):
    """``_reduced`` in gpugrad ops, for the records' forward rules."""
    if reduction == "none":
        return values
    total = reduce_sum(values)
    return total / divisor if divisor != 1 else total


def _smoothed_targets(x, labels, ignore_index: int, smoothing: float):
    """Constants of the rules: the target distribution q (N, C), one-hot mixed with uniform
    by ``smoothing``, and the row mask (N,) (0 where the label is ``ignore_index``)."""
    xp = backend.xp_of(x._array)
    raw = labels._array
    valid = raw != ignore_index
    classes = xp.arange(x.shape[1])
    one_hot = (classes[None, :] == xp.where(valid, raw, 0)[:, None]).astype(x.dtype)
    if smoothing:
        one_hot = one_hot * (1.0 - smoothing) + smoothing / x.shape[1]
    return Tensor._wrap(one_hot), Tensor._wrap(valid.astype(x.dtype))


def cross_entropy(logits, target, reduction: str = "mean", label_smoothing: float = 0.0,
                  ignore_index: int = -100):
    """Softmax cross-entropy of ``logits`` (N, C) against integer class labels (N,).

    ``label_smoothing`` mixes the one-hot target with the uniform distribution;
    ``ignore_index`` labels contribute nothing (and "mean" averages over the other rows);
    ``reduction`` is "mean", "sum" or "none" (a loss per row). As PyTorch's.

    Example::

        >>> cross_entropy(gpugrad.zeros(2, 4), gpugrad.tensor([1, 3])).item()   # log 4
        1.3862943649291992
    """
    (logits,) = amp.cast_inputs_float32(logits)
    _check_reduction(reduction, "cross_entropy")
    target = target if isinstance(target, Tensor) else as_tensor(target, device=logits.device)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    logits = _float(logits)
    if graphs.is_capturing():           # no host sync: labels unchecked, the count on device
        return _captured_cross_entropy(logits, target, reduction, label_smoothing,
                                       ignore_index)
    counted = _check_labels(logits, target, ignore_index)
    if reduction == "mean" and counted == 0:     # nothing to average: 0/0, as PyTorch's NaN
        total = apply(SoftmaxCrossEntropy, logits, target, ignore_index=ignore_index,
                      smoothing=float(label_smoothing), reduction="sum", divisor=1)
        return total / zeros_with(total, (), total.dtype)
    return apply(SoftmaxCrossEntropy, logits, target, ignore_index=ignore_index,
                 smoothing=float(label_smoothing),
                 reduction="none" if reduction == "none" else "sum",
                 divisor=counted if reduction == "mean" else 1)


def _captured_cross_entropy(logits, target, reduction, label_smoothing, ignore_index):
    """cross_entropy under the capture rules: the shapes and dtypes are checked, the label
    values cannot be (that needs the host). With the fused kernel a label out of range gives
    a NaN loss (it never reads out of bounds); the reference path raises IndexError on NumPy
    and wraps around on CuPy. A mean divides by the rows counted on the device."""
    _check_labels(logits, target, ignore_index, check_values=False)
    summed = apply(SoftmaxCrossEntropy, logits, target, ignore_index=ignore_index,
                   smoothing=float(label_smoothing),
                   reduction="none" if reduction == "none" else "sum", divisor=1)
    if reduction != "mean":
        return summed
    counts = (target._array != ignore_index).sum()          # on the device: no sync
    counted = Tensor._wrap(backend.xp_of(target._array).asarray(counts, dtype=summed.dtype))
    return summed / counted


def mse_loss(input, target, reduction: str = "mean"):
    """Mean (or sum, or per-element) squared difference of two tensors of one shape."""
    input, target = amp.cast_inputs_float32(input, target)
    _check_reduction(reduction, "mse_loss")
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"mse_loss: input shape {tuple(input.shape)} and target shape "
                         f"{tuple(target.shape)} differ; they must match")
    if isinstance(input, Tensor) and isinstance(target, Tensor) and input.size and \
            input.dtype == target.dtype and input.dtype.kind == "f":
        return apply(MseLoss, input, target, reduction="sum" if reduction != "none" else "none",
                     divisor=input.size if reduction == "mean" else 1)
    squared = (input - target) ** 2           # mixed dtypes, empty: promoted by the ops
    if reduction == "none":
        return squared
    return reduce_sum(squared) if reduction == "sum" else reduce_mean(squared)
