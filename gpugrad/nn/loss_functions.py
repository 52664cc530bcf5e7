"""Functional losses as PyTorch's ``torch.nn.functional``: mse_loss, l1_loss, smooth_l1_loss,
huber_loss, binary_cross_entropy, binary_cross_entropy_with_logits, nll_loss and kl_div.

Each is a composite of gpugrad ops (gradients of any order come from theirs). The arguments
are PyTorch's, in PyTorch's positional order, the deprecated ``size_average`` and ``reduce``
included (mapped to ``reduction`` as PyTorch maps them, with its UserWarning). ``reduction``
is "mean" (the default), "sum" or "none" (a loss per element, or per row for nll_loss);
kl_div takes "batchmean" too. Input and target must have the same shape (a ValueError names
both otherwise: PyTorch would broadcast them with a warning). Under autocast the inputs are
cast to float32, as mse_loss and cross_entropy do. Complex inputs are refused, as PyTorch
refuses them (NotImplementedError, a RuntimeError).

Example::

    >>> from gpugrad.nn.loss_functions import binary_cross_entropy_with_logits, l1_loss
    >>> x = gpugrad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    >>> loss = l1_loss(x, gpugrad.tensor([0.0, 0.0, 1.0]))       # (1 + 2 + 2) / 3
    >>> round(loss.item(), 6)
    1.666667
    >>> loss.backward(); x.grad                                   # sign(x - target) / 3
    tensor([ 0.33333334, -0.33333334,  0.33333334], device='cpu', dtype=float32)
    >>> binary_cross_entropy_with_logits(gpugrad.tensor([1e4, -1e4]),
    ...                                  gpugrad.tensor([0.0, 1.0]), reduction="none")
    tensor([10000., 10000.], device='cpu', dtype=float32)
"""

from __future__ import annotations

import numpy as np

from ..ops.complex_node import refuse_complex
from ..autograd.batched import innermost_array
from ..autograd.capture_mode import refuse_host_sync
from ..autograd.compile_mode import kernel, note_reads
from ..ops.autocast_casts import cast_inputs_float32
from ..ops.binary_cross_entropy import binary_cross_entropy_elements
from ..ops.elementwise import where
from ..ops.loss import mse_loss as _fused_mse_loss
from ..ops.loss import _targets
from ..ops.loss_checks import (check_label_shapes, check_label_values, check_reduction,
                               labels_checked_now)
from ..ops.reduce import sum
from ..ops.shape import movedim, unsqueeze
from ..ops.unary import _float, abs, exp, log
from .activation_functions import log1p_exp
from .loss_arguments import (as_tensor_like, check_broadcasts, legacy_reduction, prepared_pair,
                             reduced, weighted)

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "nll_loss", "kl_div"]


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
             weight=None):
    """Mean (or sum, or per-element) squared difference ``(input - target)^2``, with
    PyTorch's arguments (``ops.loss.mse_loss``, one fused record, does the work). With
    ``weight`` (the input's shape) each square is weighed and "mean" divides by the summed
    weights, as PyTorch's. Shapes: input and target (*) -> () or (*) for "none".

    Example::

        >>> from gpugrad.nn.loss_functions import mse_loss
        >>> x, t = gpugrad.tensor([1.0, 2.0, 3.0]), gpugrad.zeros(3)
        >>> mse_loss(x, t, weight=gpugrad.tensor([1.0, 0.0, 5.0])).item()   # 46 / 6
        7.666666507720947
    """
    reduction = legacy_reduction("mse_loss", size_average, reduce, reduction)
    _refuse_complex("mse_loss", input, target)
    if weight is None:
        return _fused_mse_loss(input, target, reduction)
    input, target = prepared_pair("mse_loss", input, target, reduction)
    return weighted("mse_loss", (input - target) ** 2, weight, reduction, True)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
            weight=None):
    """Mean (or sum, or per-element) absolute difference ``|input - target|``; the gradient
    at a zero difference is 0. With ``weight`` (the input's shape) each difference is
    weighed and "mean" divides by the summed weights, as PyTorch's. Shapes: input and
    target (*) -> () or (*) for "none".

    Example::

        >>> from gpugrad.nn.loss_functions import l1_loss
        >>> l1_loss(gpugrad.tensor([1.0, 3.0]), gpugrad.tensor([0.0, 1.0]), reduction="sum")
        tensor(3., device='cpu', dtype=float32)
    """
    reduction = legacy_reduction("l1_loss", size_average, reduce, reduction)
    input, target = prepared_pair("l1_loss", input, target, reduction)
    if weight is not None:
        return weighted("l1_loss", abs(input - target), weight, reduction, True)
    return reduced(abs(input - target), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0):
    """Per element, with d = input - target: ``0.5 d^2 / beta`` where |d| < beta, else
    ``|d| - 0.5 beta`` (beta = 0: the L1 loss). Shapes: (*) and (*) -> () or (*).

    Example::

        >>> from gpugrad.nn.loss_functions import smooth_l1_loss
        >>> smooth_l1_loss(gpugrad.tensor([0.5, 3.0]), gpugrad.zeros(2), reduction="none")
        tensor([0.125, 2.5  ], device='cpu', dtype=float32)
    """
    reduction = legacy_reduction("smooth_l1_loss", size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta} (beta=0 gives the "
                         f"L1 loss)")
    _refuse_complex("smooth_l1_loss", input, target)
    input, target = prepared_pair("smooth_l1_loss", input, target, reduction)
    d = input - target
    size = abs(d)
    if beta == 0:
        return reduced(size, reduction)
    return reduced(where(size < beta, d * d * (0.5 / beta), size - 0.5 * beta), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """Per element, with d = input - target: ``0.5 d^2`` where |d| < delta, else
    ``delta (|d| - 0.5 delta)``; ``delta`` must be positive. With ``weight`` (the input's
    shape) each element's loss is weighed ("mean": their mean, as PyTorch's). Shapes: (*)
    and (*) -> () or (*).

    Example::

        >>> from gpugrad.nn.loss_functions import huber_loss
        >>> huber_loss(gpugrad.tensor([0.5, 3.0]), gpugrad.zeros(2), reduction="none",
        ...            delta=2.0)
        tensor([0.125, 4.   ], device='cpu', dtype=float32)
    """
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    _refuse_complex("huber_loss", input, target)
    input, target = prepared_pair("huber_loss", input, target, reduction)
    d = input - target
    size = abs(d)
    losses = where(size < delta, d * d * 0.5, (size - 0.5 * delta) * delta)
    if weight is not None:
        return weighted("huber_loss", losses, weight, reduction, False)
    return reduced(losses, reduction)


def _refuse_complex(name: str, input, target) -> None:
    """Refuse complex values for a loss PyTorch defines for real ones only (its squares would
    be d * d, not |d|^2)."""
    refuse_complex(name, input, target, ordered=False,
                   hint="compute it from the real and imaginary parts, e.g. "
                        "((input - target).abs() ** 2).mean() for a squared error")


def _check_probabilities(input, target) -> None:
    """Raise ValueError naming the first element of ``input`` or ``target`` (raw arrays)
    outside [0, 1] (NaN included). Reads them on the host."""
    if input.__class__ is not np.ndarray:
        refuse_host_sync("binary_cross_entropy's value check")
    for what, values in (("input", input), ("target", target)):
        bad = ~((values >= 0) & (values <= 1))
        if bool(bad.any()):
            first = float(values[bad].ravel()[0])
            raise ValueError(
                f"binary_cross_entropy: all elements of {what} should be between 0 and 1, "
                f"found {first}; pass probabilities (for logits, use "
                f"binary_cross_entropy_with_logits)")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """``-weight (target log(input) + (1 - target) log(1 - input))`` per element, each log
    clamped at -100, with PyTorch's gradient ``(input - target) / max(input (1 - input),
    1e-12)`` (ops/binary_cross_entropy.py: finite at 0 and 1). ``weight`` broadcasts to the
    input's shape.

    Input and target must lie in [0, 1]: checked (ValueError) where reading them costs no
    device sync (NumPy arrays, and under ``detect_anomaly()``), never inside a captured
    step; on a GPU an input outside [0, 1] gives a NaN loss, and the check runs when the
    host reads that NaN. Shapes: (*) and (*) -> () or (*) for "none".

    Example::

        >>> from gpugrad.nn.loss_functions import binary_cross_entropy
        >>> p, t = gpugrad.tensor([0.5, 0.9, 0.0]), gpugrad.tensor([1.0, 0.0, 1.0])
        >>> binary_cross_entropy(p, t, reduction="none")        # log 2, log 10, 100
        tensor([  0.6931472,   2.302585 , 100.       ], device='cpu', dtype=float32)
    """
    reduction = legacy_reduction("binary_cross_entropy", size_average, reduce, reduction,
                                 "input, target, weight, size_average, reduce, reduction")
    refuse_complex("binary_cross_entropy", input, target, weight, ordered=False)
    input, target = prepared_pair("binary_cross_entropy", input, target, reduction)
    weight = as_tensor_like(weight, input)
    if weight is not None:
        check_broadcasts("binary_cross_entropy", "weight", weight, input.shape)
    raw_input, raw_target = innermost_array(input), innermost_array(target)
    checked = labels_checked_now(raw_input)
    if checked:                 # (recorded by gpugrad.compile: each replay checks again)
        note_reads(input, target)
        kernel(_check_probabilities, raw_input, raw_target)
    if target.dtype != input.dtype:
        target = target.astype(input.dtype)
    losses = binary_cross_entropy_elements(input, target)
    if weight is not None:
        losses = losses * weight
    loss = reduced(losses, reduction)
    if not checked:
        loss._explain_nan_on_read(lambda: _check_probabilities(raw_input, raw_target))
    return loss


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction: str = "mean", pos_weight=None):
    """Binary cross-entropy of ``sigmoid(input)``, computed from the logits without
    overflow: ``(1 - target) x + l log(1 + exp(-x))`` with ``l = 1 + (pos_weight - 1)
    target`` (1 without ``pos_weight``), times ``weight``. ``pos_weight`` weighs the
    positive term, one entry per class on the last axis (it broadcasts to the input's
    shape); ``weight`` too. Shapes: (*) and (*) -> () or (*) for "none".

    Example::

        >>> from gpugrad.nn.loss_functions import binary_cross_entropy_with_logits
        >>> x, t = gpugrad.tensor([[0.0, 2.0]]), gpugrad.tensor([[1.0, 1.0]])
        >>> binary_cross_entropy_with_logits(x, t, reduction="none",
        ...                                  pos_weight=gpugrad.tensor([1.0, 3.0]))
        tensor([[0.6931472, 0.380784 ]], device='cpu', dtype=float32)
    """
    name = "binary_cross_entropy_with_logits"
    reduction = legacy_reduction(name, size_average, reduce, reduction,
                                 "input, target, weight, size_average, reduce, reduction, "
                                 "pos_weight")
    refuse_complex(name, input, weight, pos_weight, ordered=False)   # (a complex target: as torch)
    input, target = prepared_pair(name, input, target, reduction)
    weight, pos_weight = as_tensor_like(weight, input), as_tensor_like(pos_weight, input)
    for what, value in (("weight", weight), ("pos_weight", pos_weight)):
        if value is not None:
            check_broadcasts(name, what, value, input.shape)
    negative_log_sigmoid = log1p_exp(-input)          # -log(sigmoid(x))
    if pos_weight is not None:
        negative_log_sigmoid = negative_log_sigmoid * ((pos_weight - 1.0) * target + 1.0)
    losses = (1.0 - target) * input + negative_log_sigmoid
    if weight is not None:
        losses = losses * weight
    return reduced(losses, reduction)


def _check_labels(labels, classes: int, ignore_index: int, name: str) -> None:
    check_label_values(labels, classes, ignore_index, name=name)


_NLL_ORDER = "input, target, weight, size_average, ignore_index, reduce, reduction"


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C) (from log_softmax) at
    integer class labels ``target`` (N,): ``-weight[t_i] * input[i, t_i]`` per row, 0 for
    rows whose label is ``ignore_index``; "mean" divides the sum by the summed weights of
    the rows not ignored (NaN where that is 0, as PyTorch's). ``weight``: (C,) or None.
    As PyTorch's, ``input`` may also be (C,) with a 0-d label, or (N, C, d1, ...) with
    labels (N, d1, ...) (a row per position).

    Labels out of range raise ValueError where reading them costs no device sync (as
    cross_entropy's); on a GPU such a row's loss is NaN, explained when the host reads it.
    The arguments are PyTorch's, in its order (the deprecated ``size_average`` and
    ``reduce`` before ``ignore_index`` and ``reduction``: pass those by keyword).
    Shapes: (N, C) and (N,) -> () or (N,) for "none".

    Example::

        >>> from gpugrad.nn.loss_functions import nll_loss
        >>> logp = gpugrad.log(gpugrad.tensor([[0.25, 0.75], [0.5, 0.5]]))
        >>> round(nll_loss(logp, gpugrad.tensor([1, -100])).item(), 6)     # -log(3/4)
        0.287682
        >>> nll_loss(logp, gpugrad.tensor([1, 0]), weight=gpugrad.tensor([3.0, 1.0]),
        ...          reduction="none")                                    # -w[t] logp
        tensor([0.2876821, 2.0794415], device='cpu', dtype=float32)
    """
    if isinstance(weight, str) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"nll_loss: got weight={weight!r}, ignore_index={ignore_index!r}; "
                        f"PyTorch's positional order is ({_NLL_ORDER}): pass ignore_index= "
                        f"and reduction= by keyword")
    reduction = legacy_reduction("nll_loss", size_average, reduce, reduction, _NLL_ORDER)
    check_reduction(reduction, "nll_loss")
    refuse_complex("nll_loss", input, weight, ordered=False)
    (input,) = cast_inputs_float32(input)
    target = as_tensor_like(target, input)
    if input.ndim == 1 and target.ndim == 0:        # (C,) and one label: a single row
        out = nll_loss(input.unsqueeze(0), target.reshape(1), weight,
                       ignore_index=ignore_index, reduction=reduction)
        return out.reshape(()) if reduction == "none" else out
    if input.ndim > 2:                              # (N, C, d1, ...): one row per position
        n, c, rest = input.shape[0], input.shape[1], tuple(input.shape[2:])
        if tuple(target.shape) != (n,) + rest:
            raise ValueError(f"nll_loss: input of shape {tuple(input.shape)} needs labels of "
                             f"shape {(n,) + rest}, got {tuple(target.shape)}")
        rows = movedim(input, 1, -1).reshape(-1, c)
        out = nll_loss(rows, target.reshape(-1), weight, ignore_index=ignore_index,
                       reduction=reduction)
        return out.reshape(n, *rest) if reduction == "none" else out
    return _nll_rows("nll_loss", _float(input), target, weight, ignore_index, reduction)


def _nll_rows(name: str, input, target, weight, ignore_index: int, reduction: str,
              smoothing: float = 0.0):
    """nll_loss of (N, C) ``input`` at labels (N,), its errors naming the loss ``name``;
    with ``smoothing`` (cross_entropy's label smoothing, ``input`` from log_softmax) each
    row's loss is ``(1 - smoothing) * nll + smoothing / C * sum_c -weight[c] input[c]``,
    "mean" dividing by the weights of the labels as without it (as PyTorch's)."""
    check_label_shapes(input, target, name=name, what="input")
    classes = input.shape[1]
    weight = as_tensor_like(weight, input)
    if weight is not None and tuple(weight.shape) != (classes,):
        raise ValueError(f"{name}: weight must have one entry per class, shape "
                         f"({classes},), got {tuple(weight.shape)}")
    labels = innermost_array(target)
    checked = labels_checked_now(labels)
    if checked:                 # (recorded by gpugrad.compile: each replay checks again)
        kernel(_check_labels, labels, classes, ignore_index, name)
    one_hot, valid = _targets(target, classes, input.dtype, ignore_index, 0.0)
    one_hot = one_hot * unsqueeze(valid, -1)        # (its ignored rows pick class 0)
    picked = sum(where(one_hot > 0, input, 0.0), axis=-1)          # input[i, t_i] or 0
    row_weight = valid if weight is None else sum(one_hot * weight, axis=-1)
    losses = 0.0 - picked if weight is None else (0.0 - picked) * row_weight
    if smoothing:
        spread = sum(input if weight is None else input * weight, axis=-1) * valid
        losses = losses * (1.0 - smoothing) - spread * (smoothing / classes)
    if not checked:             # a label out of range picked nothing: NaN, explained later
        losses = where((valid > 0) & (sum(one_hot, axis=-1) == 0), float("nan"), losses)
    if reduction == "none":
        loss = losses
    elif reduction == "sum":
        loss = sum(losses)
    else:
        total = sum(row_weight)
        counted = total != 0
        loss = where(counted, sum(losses) / where(counted, total, 1.0), float("nan"))
    if not checked:
        loss._explain_nan_on_read(lambda: _check_labels(labels, classes, ignore_index, name))
    return loss


_KL_REDUCTIONS = ("none", "batchmean", "sum", "mean")


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False):
    """Kullback-Leibler divergence with ``input`` log-probabilities: per element
    ``target (log(target) - input)`` (0 where target is 0), or with ``log_target``
    ``exp(target) (target - input)``. "batchmean" divides the sum by the batch size
    ``input.shape[0]`` (the KL divergence per example); "mean", as PyTorch's, by the number
    of elements. Shapes: (N, *) and (N, *) -> () or (N, *) for "none".

    Example::

        >>> from gpugrad.nn.loss_functions import kl_div
        >>> p = gpugrad.tensor([[0.5, 0.5, 0.0]])
        >>> q = gpugrad.tensor([[0.25, 0.5, 0.25]])
        >>> round(kl_div(q.log(), p, reduction="batchmean").item(), 6)   # 0.5 log 2
        0.346574
    """
    reduction = legacy_reduction("kl_div", size_average, reduce, reduction,
                                 "input, target, size_average, reduce, reduction, log_target")
    if reduction not in _KL_REDUCTIONS:
        raise ValueError(f"kl_div: reduction must be one of {_KL_REDUCTIONS}, got "
                         f"{reduction!r}")
    refuse_complex("kl_div", input, target, ordered=False)
    input, target = prepared_pair("kl_div", input, target, "none")
    if log_target:
        losses = exp(target) * (target - input)
    else:
        zero = target == 0
        losses = where(zero, 0.0, target * log(where(zero, 1.0, target))) - target * input
    if reduction == "batchmean":
        total = sum(losses)
        return total / input.shape[0] if input.ndim else total
    return reduced(losses, reduction)
