"""Margin and soft-margin losses as PyTorch's ``torch.nn.functional``: margin_ranking_loss,
hinge_embedding_loss, cosine_embedding_loss, triplet_margin_loss, soft_margin_loss,
multilabel_soft_margin_loss, multi_margin_loss and multilabel_margin_loss.

Each is a composite of gpugrad ops written as PyTorch writes it, so values and gradients
(at the hinges too: ``clamp_min`` passes the gradient where its input is exactly 0, the
multi-class hinges ``z > 0`` do not) are PyTorch's. Arguments are PyTorch's, in its
positional order, with the deprecated ``size_average``/``reduce`` mapped to ``reduction``
("mean", "sum" or "none") as the other losses do (loss_arguments.py). Where an input and a
target are compared element by element they must have one shape (a ValueError otherwise,
as the other losses: PyTorch would broadcast). Class labels are checked as nll_loss's:
where reading them costs no device sync (a ValueError), else the row's loss is NaN and the
error comes when the host reads it.

Example::

    >>> from gpugrad.nn.margin_losses import margin_ranking_loss
    >>> x1, x2 = gpugrad.tensor([3.0, 1.0]), gpugrad.tensor([1.0, 2.0])
    >>> margin_ranking_loss(x1, x2, gpugrad.tensor([1.0, 1.0]), reduction="none")
    tensor([0., 1.], device='cpu', dtype=float32)
"""

from __future__ import annotations

import numpy as np

from .. import creation
from ..autograd.batched import innermost_array
from ..autograd.compile_mode import kernel, note_reads
from ..ops.statistics import cumprod
from ..ops.elementwise import minimum, where
from ..ops.loss_checks import check_label_values, check_reduction, labels_checked_now
from ..ops.reduce import sum
from ..ops.shape import unsqueeze
from ..ops.unary import _float, clamp, sqrt
from .activation_functions import log1p_exp, logsigmoid
from .loss_arguments import (as_tensor_like, check_broadcasts, legacy_reduction, prepared_pair,
                             reduced)
from .pairwise import pairwise_distance

__all__ = ["margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
           "triplet_margin_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
           "multi_margin_loss", "multilabel_margin_loss"]

_EPSILON = 1e-12        # cosine_embedding_loss's, added to each squared magnitude


def _reduction(name, size_average, reduce, reduction, order):
    reduction = legacy_reduction(name, size_average, reduce, reduction, order, stacklevel=4)
    check_reduction(reduction, name)
    return reduction


def margin_ranking_loss(input1, input2, target, margin: float = 0, size_average=None,
                        reduce=None, reduction: str = "mean"):
    """``max(0, -target * (input1 - input2) + margin)``: ``target`` 1 asks for input1 to
    rank above input2 by ``margin``, -1 below. All three must have the same number of
    dimensions (then broadcast, as PyTorch's). Shapes: (N,) thrice -> () or (N,).

    Example::

        >>> from gpugrad.nn.margin_losses import margin_ranking_loss
        >>> margin_ranking_loss(gpugrad.tensor([1.0]), gpugrad.tensor([2.0]),
        ...                     gpugrad.tensor([-1.0]), margin=2.0).item()      # 2 - 1
        1.0
    """
    reduction = _reduction("margin_ranking_loss", size_average, reduce, reduction,
                           "input1, input2, target, margin, size_average, reduce, reduction")
    target = as_tensor_like(target, input1)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ValueError(f"margin_ranking_loss: all input tensors should have the same "
                         f"dimension, but got shapes input1 {tuple(input1.shape)}, input2 "
                         f"{tuple(input2.shape)} and target {tuple(target.shape)}")
    losses = -_float(target) * (_float(input1) - _float(input2)) + margin
    return reduced(clamp(losses, min=0.0), reduction)


def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """``input`` where target is 1, ``max(0, margin - input)`` where it is -1 (``input`` is
    usually a distance); as PyTorch's, a target neither 1 nor -1 gets the sum of both.
    Shapes: (*) and (*) -> () or (*).

    Example::

        >>> from gpugrad.nn.margin_losses import hinge_embedding_loss
        >>> hinge_embedding_loss(gpugrad.tensor([0.3, 0.3]), gpugrad.tensor([1.0, -1.0]),
        ...                      reduction="none")
        tensor([0.3, 0.7], device='cpu', dtype=float32)
    """
    reduction = _reduction("hinge_embedding_loss", size_average, reduce, reduction,
                           "input, target, margin, size_average, reduce, reduction")
    input, target = prepared_pair("hinge_embedding_loss", input, target, reduction)
    below_margin = clamp(margin - input, min=0.0)
    losses = where(target != 1, below_margin, 0.0) + where(target != -1, input, 0.0)
    return reduced(losses, reduction)


def cosine_embedding_loss(input1, input2, target, margin: float = 0, size_average=None,
                          reduce=None, reduction: str = "mean"):
    """With ``cos`` the cosine of input1 and input2 along the last axis (each squared
    magnitude plus 1e-12, as PyTorch's): ``1 - cos`` where target is 1, ``max(0, cos -
    margin)`` where it is -1, 0 for other targets. Shapes: (N, D), (N, D), (N,) -> () or
    (N,); (D,), (D,), () -> ().

    Example::

        >>> from gpugrad.nn.margin_losses import cosine_embedding_loss
        >>> a, b = gpugrad.tensor([[1.0, 0.0]]), gpugrad.tensor([[1.0, 1.0]])
        >>> round(cosine_embedding_loss(a, b, gpugrad.tensor([1.0])).item(), 4)   # 1 - cos 45
        0.2929
    """
    reduction = _reduction("cosine_embedding_loss", size_average, reduce, reduction,
                           "input1, input2, target, margin, size_average, reduce, reduction")
    target = as_tensor_like(target, input1)
    if target.ndim not in (0, 1) or input1.ndim != target.ndim + 1 or \
            input2.ndim != target.ndim + 1:
        raise ValueError(f"cosine_embedding_loss: expects inputs (N, D) with a target (N,), "
                         f"or inputs (D,) with a 0-d target; got input1 {tuple(input1.shape)}, "
                         f"input2 {tuple(input2.shape)} and target {tuple(target.shape)}")
    x1, x2, axis = _float(input1), _float(input2), target.ndim
    products = sum(x1 * x2, axis=axis)
    denominator = sqrt((sum(x1 * x1, axis=axis) + _EPSILON) * (sum(x2 * x2, axis=axis) +
                                                               _EPSILON))
    cos = products / denominator
    losses = where(target == 1, 1.0 - cos, 0.0) + \
        where(target == -1, clamp(cos - margin, min=0.0), 0.0)
    return reduced(losses, reduction)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean"):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with ``d`` the
    ``pairwise_distance(., ., p, eps)``; ``swap``: d(anchor, negative) becomes the smaller
    of it and d(positive, negative). Shapes: (N, D) thrice -> () or (N,).

    Example::

        >>> from gpugrad.nn.margin_losses import triplet_margin_loss
        >>> a, pos, neg = gpugrad.zeros(1, 2), gpugrad.tensor([[3.0, 4.0]]), gpugrad.ones(1, 2)
        >>> round(triplet_margin_loss(a, pos, neg, eps=0.0).item(), 4)     # 1 + 5 - sqrt(2)
        4.5858
    """
    reduction = _reduction("triplet_margin_loss", size_average, reduce, reduction,
                           "anchor, positive, negative, margin, p, eps, swap, size_average, "
                           "reduce, reduction")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"triplet_margin_loss: the anchor, positive, and negative tensors are "
                         f"expected to have the same number of dimensions, but got: anchor "
                         f"{anchor.ndim}D, positive {positive.ndim}D, and negative "
                         f"{negative.ndim}D inputs")
    to_positive = pairwise_distance(anchor, positive, p, eps)
    to_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        to_negative = minimum(to_negative, pairwise_distance(positive, negative, p, eps))
    return reduced(clamp(to_positive - to_negative + margin, min=0.0), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """``log(1 + exp(-target * input))`` (targets 1 or -1), computed without overflow (where
    PyTorch's overflows, it gives inf). Shapes: (*) and (*) -> () or (*).

    Example::

        >>> from gpugrad.nn.margin_losses import soft_margin_loss
        >>> round(soft_margin_loss(gpugrad.tensor([0.0]), gpugrad.tensor([1.0])).item(), 6)
        0.693147
    """
    reduction = _reduction("soft_margin_loss", size_average, reduce, reduction,
                           "input, target, size_average, reduce, reduction")
    input, target = prepared_pair("soft_margin_loss", input, target, reduction)
    return reduced(log1p_exp(-target * input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean"):
    """Binary cross-entropy of the logits ``input`` against 0/1 ``target`` per class, times
    ``weight`` (one per class, broadcast), averaged over the classes (the last axis).
    Shapes: (N, C) and (N, C), weight (C,) -> () or (N,).

    Example::

        >>> from gpugrad.nn.margin_losses import multilabel_soft_margin_loss
        >>> x, t = gpugrad.zeros(1, 2), gpugrad.tensor([[1.0, 0.0]])
        >>> round(multilabel_soft_margin_loss(x, t).item(), 6)              # log 2
        0.693147
    """
    reduction = _reduction("multilabel_soft_margin_loss", size_average, reduce, reduction,
                           "input, target, weight, size_average, reduce, reduction")
    input, target = prepared_pair("multilabel_soft_margin_loss", input, target, reduction)
    if input.ndim == 0:
        raise ValueError("multilabel_soft_margin_loss: input is 0-d; give (C,) or (N, C)")
    losses = -(target * logsigmoid(input) + (1.0 - target) * logsigmoid(-input))
    if weight is not None:
        weight = as_tensor_like(weight, input)
        check_broadcasts("multilabel_soft_margin_loss", "weight", weight, input.shape)
        losses = losses * weight
    classes = input.shape[-1]
    return reduced(sum(losses, axis=-1) / classes, reduction)


def _labels(name: str, input, target, low: int):
    """``input`` (C,) or (N, C) as float, integer ``target`` and the number of classes C,
    the labels' raw array and whether their values in [low, C) were checked now (as
    nll_loss's: where reading them costs no device sync, through ``kernel`` so that a
    compiled step checks each replay; else a bad label's row is made NaN by the caller,
    and ``_explain`` attaches the error to the loss)."""
    if input.ndim not in (1, 2) or input.shape[-1] == 0:
        raise ValueError(f"{name}: expected a non-empty vector (C,) or matrix (N, C) input, "
                         f"got shape {tuple(input.shape)}")
    target = as_tensor_like(target, input)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got {target.dtype}; "
                        f"convert with target.astype('int64')")
    classes = input.shape[-1]
    labels = innermost_array(target)        # (vmap's: the whole batch)
    checked = labels_checked_now(labels)
    if checked:                 # (recorded by gpugrad.compile: each replay checks again)
        note_reads(target)
        kernel(_check_labels, labels, classes, low, name)
    return _float(input), target, classes, labels, checked


def _check_labels(labels, classes: int, low: int, name: str) -> None:
    """ValueError naming the first raw label outside [low, classes) (low is 0 or -1)."""
    check_label_values(labels, classes, None if low == 0 else low, name)


def _explain(loss, name: str, labels, classes: int, low: int):
    """``loss`` that raises, when the host reads a NaN in it, the error naming a label out
    of range (the check ``_labels`` did not run, on a GPU)."""
    loss._explain_nan_on_read(lambda: _check_labels(labels, classes, low, name))
    return loss


def _one_hot(labels, classes: int, dtype):
    """(...,) integer labels -> (..., C) of 0 and 1 in ``dtype`` (no gradient)."""
    columns = creation.arange(classes, device=labels.device)
    return (unsqueeze(labels, -1) == columns).astype(dtype)


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None,
                      size_average=None, reduce=None, reduction: str = "mean"):
    """Multi-class hinge: for each row, ``sum over i != y of max(0, margin - x[y] +
    x[i])^p * weight[y] / C`` with ``y`` the row's label; ``p`` is 1 or 2. Shapes: (N, C)
    and (N,) labels, weight (C,) -> () or (N,); (C,) and a 0-d label -> ().

    Example::

        >>> from gpugrad.nn.margin_losses import multi_margin_loss
        >>> x = gpugrad.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> round(multi_margin_loss(x, gpugrad.tensor([3])).item(), 4)  # (0.3 + 0.4 + 0.6) / 4
        0.325
    """
    reduction = _reduction("multi_margin_loss", size_average, reduce, reduction,
                           "input, target, p, margin, weight, size_average, reduce, reduction")
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, got {p}")
    x, target, classes, labels, checked = _labels("multi_margin_loss", input, target, 0)
    rows = x.shape[0] if x.ndim == 2 else 1
    if target.ndim > 1 or int(np.prod(target.shape)) != rows:
        raise ValueError(f"multi_margin_loss: inconsistent target size: expected {rows} "
                         f"label(s) for input of shape {tuple(x.shape)}, got target of shape "
                         f"{tuple(target.shape)}")
    if x.ndim == 2 and target.ndim == 0:
        target = unsqueeze(target, 0)
    chosen = _one_hot(target, classes, x.dtype)
    own = sum(x * chosen, axis=-1, keepdims=True)          # x[y], per row
    z = x - own + margin
    hinge = where(z > 0, z if p == 1 else z * z, 0.0) * (1.0 - chosen)
    if weight is not None:
        weight = as_tensor_like(weight, x)
        if weight.ndim > 1 or int(np.prod(weight.shape)) != classes:
            raise ValueError(f"multi_margin_loss: inconsistent weight size: expected "
                             f"({classes},), got {tuple(weight.shape)}")
        hinge = hinge * sum(_float(weight) * chosen, axis=-1, keepdims=True)
    losses = sum(hinge, axis=-1) / classes
    if not checked:             # a label out of range chose no class: NaN, explained on read
        losses = where(sum(chosen, axis=-1) == 0, float("nan"), losses)
    if x.ndim == 1 and losses.ndim:
        losses = losses.reshape(())
    loss = reduced(losses, reduction)
    return loss if checked else _explain(loss, "multi_margin_loss", labels, classes, 0)


def multilabel_margin_loss(input, target, size_average=None, reduce=None,
                           reduction: str = "mean"):
    """Multi-label hinge: per row, the labels are ``target``'s leading entries up to the
    first -1; the loss is ``sum over labels j and non-labels i of max(0, 1 - (x[j] - x[i]))
    / C`` (a repeated label counts again, as PyTorch's). Shapes: (N, C) and (N, C) integer
    targets -> () or (N,); (C,) and (C,) -> ().

    Example::

        >>> from gpugrad.nn.margin_losses import multilabel_margin_loss
        >>> x = gpugrad.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> round(multilabel_margin_loss(x, gpugrad.tensor([[3, 0, -1, 1]])).item(), 4)
        0.85
    """
    reduction = _reduction("multilabel_margin_loss", size_average, reduce, reduction,
                           "input, target, size_average, reduce, reduction")
    x, target, classes, labels, checked = _labels("multilabel_margin_loss", input, target,
                                                  -1)
    if tuple(target.shape) != tuple(x.shape):
        raise ValueError(f"multilabel_margin_loss: target of shape {tuple(target.shape)} must "
                         f"have the input's shape {tuple(x.shape)}")
    one_row = x.ndim == 1
    if one_row:
        x, target = unsqueeze(x, 0), unsqueeze(target, 0)
    listed = cumprod((target >= 0).astype("int64"), 1)        # 1 up to the first -1
    counts = sum(_one_hot(target, classes, x.dtype) * unsqueeze(listed.astype(x.dtype), -1),
                 axis=1)                                        # (N, C): times each is listed
    others = (counts == 0).astype(x.dtype)
    z = unsqueeze(x, 1) - unsqueeze(x, 2) + 1.0                # [n, j, i]: 1 - x[j] + x[i]
    hinge = where(z > 0, z, 0.0) * unsqueeze(counts, 2) * unsqueeze(others, 1)
    losses = sum(hinge, axis=(1, 2)) / classes
    if not checked:             # a row with a label out of range: NaN, explained on read
        bad = ((target < -1) | (target >= classes)).astype(x.dtype)
        losses = where(sum(bad, axis=1) > 0, float("nan"), losses)
    loss = reduced(losses[0] if one_row else losses, reduction)
    return loss if checked else _explain(loss, "multilabel_margin_loss", labels, classes, -1)
