"""Losses: softmax cross-entropy (one record, with its own rules) and mean squared error.

Cross-entropy is one record (shifted by the row maximum, so logits of 1e4 give finite losses
and gradients) whose rule is written with softmax. Example::

    >>> logits = gpugrad.tensor([[1e4, 0.0], [0.0, 1e4]], requires_grad=True)
    >>> cross_entropy(logits, gpugrad.tensor([0, 0])).item()     # (0 + 1e4) / 2
    5000.0
"""

from __future__ import annotations

from .. import backend
from ..creation import as_tensor
from ..tensor import Tensor
from .activation import softmax
from .record import Op, apply, zeros_with
from .reduce import mean as reduce_mean
from .reduce import sum as reduce_sum
from .shape import unsqueeze
from .unary import _float

__all__ = ["cross_entropy", "mse_loss"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, name: str):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_labels(logits, target, ignore_index: int) -> int:
    """Integer labels, one per row, each a class index or ``ignore_index``; returns how
    many rows count (are not ``ignore_index``)."""
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy expects logits of shape (N, C), got "
                         f"{tuple(logits.shape)}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels must be integer class indices (int32 or int64), "
                        f"got {target.dtype}; convert with labels.astype('int64')")
    if target.ndim != 1 or target.shape[0] != logits.shape[0]:
        raise ValueError(f"cross_entropy: {logits.shape[0]} rows of logits but labels of shape "
                         f"{tuple(target.shape)}; pass one label per row")
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
    """Per-row loss of logits (N, C) against integer labels (N,) -> (N,), in one record:
    ``logsumexp(x) - x[label]`` mixed with ``logsumexp(x) - mean(x)`` by the label
    smoothing, and 0 for rows whose label is ``ignore_index``.

    The reverse rule is ``(softmax(x) - q) * g`` with q the (smoothed) one-hot target, built
    from softmax, so it can be differentiated again.
    """
    save = "x0 x1"

    def forward(xp, x, labels, ignore_index, smoothing):
        shifted = x - x.max(axis=1, keepdims=True)
        lse = xp.log(xp.exp(shifted).sum(axis=1))
        valid = labels != ignore_index
        rows = xp.arange(x.shape[0])
        loss = lse - shifted[rows, xp.where(valid, labels, 0)]
        if smoothing:
            loss = loss * (1.0 - smoothing) + (lse - shifted.mean(axis=1)) * smoothing
        return xp.where(valid, loss, 0).astype(x.dtype, copy=False)

    def vjp(ctx, g):
        x, labels = ctx.xs
        target, valid = _smoothed_targets(x, labels, ctx.ignore_index, ctx.smoothing)
        return (softmax(x, axis=1) - target) * unsqueeze(g * valid, 1), None

    def jvp(ctx, t, t_labels):
        x, labels = ctx.xs
        target, valid = _smoothed_targets(x, labels, ctx.ignore_index, ctx.smoothing)
        return reduce_sum((softmax(x, axis=1) - target) * t, axis=1) * valid


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
    _check_reduction(reduction, "cross_entropy")
    target = target if isinstance(target, Tensor) else as_tensor(target, device=logits.device)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    counted = _check_labels(logits, target, ignore_index)
    losses = apply(SoftmaxCrossEntropy, _float(logits), target, ignore_index=ignore_index,
                   smoothing=float(label_smoothing))
    if reduction == "none":
        return losses
    total = reduce_sum(losses)
    if reduction == "sum":
        return total
    if counted == 0:                    # nothing to average: 0/0, as PyTorch's NaN
        return total / zeros_with(total, (), total.dtype)
    return total / counted


def mse_loss(input, target, reduction: str = "mean"):
    """Mean (or sum, or per-element) squared difference of two tensors of one shape."""
    _check_reduction(reduction, "mse_loss")
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"mse_loss: input shape {tuple(input.shape)} and target shape "
                         f"{tuple(target.shape)} differ; they must match")
    squared = (input - target) ** 2
    if reduction == "none":
        return squared
    return reduce_sum(squared) if reduction == "sum" else reduce_mean(squared)
