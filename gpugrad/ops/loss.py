"""Losses: softmax cross-entropy and mean squared error, composed from stable ops.

Cross-entropy goes through ``log_softmax`` (shifted by the row maximum), so logits of 1e4
give finite losses and gradients. Example::

    >>> logits = gpugrad.tensor([[1e4, 0.0], [0.0, 1e4]], requires_grad=True)
    >>> cross_entropy(logits, gpugrad.tensor([0, 0])).item()     # (0 + 1e4) / 2
    5000.0
"""

from __future__ import annotations

from .activation import log_softmax
from .compare import not_equal
from .elementwise import where
from .reduce import mean as reduce_mean
from .reduce import sum as reduce_sum

__all__ = ["cross_entropy", "mse_loss"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, name: str):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_labels(logits, target, ignore_index: int):
    """Integer labels, one per row, each a class index or ``ignore_index``."""
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
    bad = ((labels < 0) | (labels >= classes)) & (labels != ignore_index)
    if bool(bad.any()):
        first = int(labels[bad.nonzero()[0][0]])
        raise ValueError(f"cross_entropy: label {first} is out of range for {classes} classes "
                         f"(valid: 0 to {classes - 1}, or ignore_index={ignore_index})")


def cross_entropy(logits, target, reduction: str = "mean", label_smoothing: float = 0.0,
                  ignore_index: int = -100):
    """Softmax cross-entropy of ``logits`` (N, C) against integer class labels (N,).

    ``label_smoothing`` mixes the one-hot target with the uniform distribution;
    ``ignore_index`` labels contribute nothing (and "mean" averages over the other rows);
    ``reduction`` is "mean", "sum" or "none" (a loss per row). As PyTorch's.
    """
    from ..creation import arange, as_tensor
    from ..tensor import Tensor
    _check_reduction(reduction, "cross_entropy")
    target = target if isinstance(target, Tensor) else as_tensor(target, device=logits.device)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    _check_labels(logits, target, ignore_index)
    logp = log_softmax(logits, axis=1)
    valid = not_equal(target, ignore_index)
    safe = where(valid, target, 0)
    rows = arange(target.shape[0], device=target.device)
    losses = -logp[rows, safe]
    if label_smoothing > 0:
        losses = losses * (1.0 - label_smoothing) - reduce_mean(logp, axis=1) * label_smoothing
    losses = where(valid, losses, 0.0)
    if reduction == "none":
        return losses
    total = reduce_sum(losses)
    if reduction == "sum":
        return total
    return total / valid.astype(total.dtype).sum()


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
