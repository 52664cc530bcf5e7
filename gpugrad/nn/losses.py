"""Cross-entropy with PyTorch's signature (``cross_entropy`` and ``CrossEntropyLoss``), and
``MSELoss``.

``cross_entropy`` takes what ``torch.nn.functional.cross_entropy`` takes: per-class
``weight``, class indices or class probabilities ("soft" targets), logits (N, C),
(N, C, d1, ...) or (C,), ``ignore_index``, ``label_smoothing``, and the deprecated
``size_average``/``reduce`` (mapped to ``reduction`` as PyTorch maps them, with its
warning). Its common case (class indices and no weight) is the fused record
``SoftmaxCrossEntropy`` of ops/loss.py, on rows; the other cases are composites of
log_softmax and the rows of ``nll_loss`` (gradients of any order come from theirs).

Example::

    >>> loss_fn = nn.CrossEntropyLoss(reduction="none")
    >>> loss_fn(gpugrad.zeros(2, 4), gpugrad.tensor([0, 3]))     # log 4 for each row
    tensor([1.3862944, 1.3862944], device='cpu', dtype=float32)
    >>> nn.MSELoss(reduction="sum")(gpugrad.tensor([1.0, 3.0]), gpugrad.tensor([0.0, 1.0]))
    tensor(5., device='cpu', dtype=float32)
"""

from __future__ import annotations

from ..creation import as_tensor
from ..ops.activation import log_softmax
from ..ops.autocast_casts import cast_inputs_float32
from ..ops.complex_node import refuse_complex
from ..ops.loss_checks import check_reduction
from ..ops.loss import cross_entropy as _fused_cross_entropy
from ..ops.reduce import mean, sum
from ..ops.shape import movedim
from ..ops.unary import _float
from ..tensor import Tensor
from .loss_functions import _nll_rows, mse_loss
from .loss_arguments import legacy_reduction as _legacy_reduction
from .module import Module

__all__ = ["cross_entropy", "MSELoss", "CrossEntropyLoss"]

_CE_ORDER = ("input, target, weight, size_average, ignore_index, reduce, reduction, "
             "label_smoothing")


def cross_entropy(input=None, target=None, weight=None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0, *, logits=None):
    """Softmax cross-entropy of logits ``input`` against ``target``, as PyTorch's (same
    arguments, same order; ``logits=`` is another name for ``input``).

    Shapes: ``input`` (N, C), (N, C, d1, ...) or (C,); ``target`` either integer class
    indices (N,), (N, d1, ...) or () (``ignore_index`` ones contribute nothing), or float
    class probabilities of the input's shape. Per position, with ``q`` the target
    distribution (one-hot, or the probabilities) mixed with the uniform by
    ``label_smoothing`` and ``w`` the per-class ``weight`` (C,) (ones by default):
    ``-sum_c w[c] q[c] log_softmax(x)[c]``. "none" gives a loss per position ((N, d1, ...)
    or ()); "sum" their sum; "mean" divides that sum by the summed ``w[label]`` of the
    positions not ignored (class indices) or by the number of positions (probabilities).

    Example::

        >>> from gpugrad.nn.losses import cross_entropy
        >>> x = gpugrad.zeros(2, 4)                                # uniform: log 4 a row
        >>> cross_entropy(x, gpugrad.tensor([1, 3]), gpugrad.tensor([1.0, 2.0, 1.0, 3.0]))
        tensor(1.3862944, device='cpu', dtype=float32)
        >>> cross_entropy(x, gpugrad.full((2, 4), 0.25), reduction="sum")    # 2 log 4
        tensor(2.7725887, device='cpu', dtype=float32)
    """
    if logits is not None:
        if input is not None:
            raise TypeError("cross_entropy: got both input and logits (the same argument); "
                            "pass one of them")
        input = logits
    if weight is not None or size_average is not None or reduce is not None:
        reduction = _torch_reduction("cross_entropy", weight, size_average, reduce, reduction)
    if weight is not None:              # (complex logits: refused by the fused record too)
        refuse_complex("cross_entropy", input, weight, ordered=False)
    target = target if isinstance(target, Tensor) else as_tensor(target, device=input.device)
    hard = target.dtype.kind in "iu"
    if hard and weight is None and input.ndim == 2 and target.ndim == 1:   # the fused record
        return _fused_cross_entropy(input, target, reduction, label_smoothing, ignore_index)
    check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    if not hard and target.dtype.kind != "f":
        raise TypeError(f"cross_entropy: target must be integer class indices or float class "
                        f"probabilities, got dtype {target.dtype}; convert it with "
                        f"astype('int64') or astype('float32')")
    rows, target, shape = _as_rows(input, target, hard)
    if hard and weight is None:
        loss = _fused_cross_entropy(rows, target, reduction, label_smoothing, ignore_index)
    elif hard:
        (rows,) = cast_inputs_float32(rows)
        loss = _nll_rows("cross_entropy", log_softmax(_float(rows), axis=1), target, weight,
                         ignore_index, reduction, float(label_smoothing))
    else:
        refuse_complex("cross_entropy", rows, ordered=False)
        if ignore_index >= 0:
            raise ValueError(f"cross_entropy: ignore_index={ignore_index} does not apply to "
                             f"class probabilities (a float target); leave it at -100, or "
                             f"give the rows to ignore probabilities of 0")
        loss = _soft_cross_entropy(rows, target, weight, reduction, float(label_smoothing))
    return loss.reshape(shape) if reduction == "none" else loss


def _torch_reduction(name: str, weight, size_average, reduce, reduction: str) -> str:
    """``reduction``, or PyTorch's from its deprecated ``size_average`` and ``reduce``
    (loss_functions._torch_reduction). A str ``weight`` is a reduction passed where
    PyTorch takes the weight: refused."""
    if isinstance(weight, str):
        raise TypeError(f"{name}(input, target, {weight!r}): the third positional argument "
                        f"is weight (per-class weights), as PyTorch's; pass "
                        f"reduction={weight!r} by keyword")
    if size_average is None and reduce is None:
        return reduction
    order = _CE_ORDER if name == "cross_entropy" else _CE_ORDER[len("input, target, "):]
    return _legacy_reduction(name, size_average, reduce, reduction, order, stacklevel=4)


def _as_rows(input, target, hard: bool):
    """``input`` (C,), (N, C) or (N, C, d1, ...) as rows (R, C), one per position, with
    ``target`` as rows too ((R,) class indices, or (R, C) probabilities), and the shape of
    the losses per position."""
    shape = tuple(input.shape)
    if input.ndim == 0:
        raise ValueError("cross_entropy expects logits of shape (C,), (N, C) or "
                         "(N, C, d1, ...), got a 0-d tensor")
    positions = shape[:1] + shape[2:] if input.ndim > 1 else ()
    if tuple(target.shape) == (shape if hard else positions):      # the right shape for the
        raise TypeError(                                            # other kind of target
            f"cross_entropy: a target of shape {tuple(target.shape)} for logits of shape "
            f"{shape} holds " + (f"class probabilities and must be float, got {target.dtype}; "
                                 f"convert it with astype('float32')" if hard else
                                 f"integer class indices, got {target.dtype}; convert it "
                                 f"with astype('int64')"))
    if tuple(target.shape) != (positions if hard else shape):
        raise ValueError(
            f"cross_entropy: logits of shape {shape} need class indices of shape "
            f"{positions} (integers) or class probabilities of shape {shape} (floats); got "
            f"a {target.dtype} target of shape {tuple(target.shape)}")
    if input.ndim == 1:
        return input.reshape(1, -1), target.reshape((1,) + tuple(target.shape)), ()
    if input.ndim == 2:
        return input, target, positions
    rows = movedim(input, 1, -1).reshape(-1, shape[1])
    target = target.reshape(-1) if hard else movedim(target, 1, -1).reshape(-1, shape[1])
    return rows, target, positions


def _soft_cross_entropy(rows, probs, weight, reduction: str, smoothing: float):
    """Cross-entropy of logits (R, C) against probabilities (R, C): per row
    ``-sum_c weight[c] q[c] log_softmax(x)[c]``, q the probabilities mixed with the uniform
    by ``smoothing``; "mean" divides by R (not by the weights), as PyTorch's."""
    rows, probs = cast_inputs_float32(rows, probs)
    rows, classes = _float(rows), rows.shape[1]
    if weight is not None:
        weight = weight if isinstance(weight, Tensor) else as_tensor(weight, device=rows.device)
        if tuple(weight.shape) != (classes,):
            raise ValueError(f"cross_entropy: weight must have one entry per class, shape "
                             f"({classes},), got {tuple(weight.shape)}")
    if probs.dtype != rows.dtype:
        probs = probs.astype(rows.dtype)
    if smoothing:
        probs = probs * (1.0 - smoothing) + smoothing / classes
    terms = log_softmax(rows, axis=1) * probs
    losses = 0.0 - sum(terms if weight is None else terms * weight, axis=1)
    if reduction == "none":
        return losses
    if reduction == "sum" or rows.shape[0] == 0:     # a mean over nothing: NaN, as PyTorch's
        return sum(losses) if reduction == "sum" else sum(losses) * float("nan")
    return mean(losses)


class MSELoss(Module):
    """Mean squared error; ``reduction`` "mean", "sum" or "none"."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return mse_loss(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(Module):
    """Softmax cross-entropy (see ``cross_entropy``), with PyTorch's arguments in PyTorch's
    order: ``weight`` (C,) (a buffer: ``to()`` moves it, ``state_dict`` saves it), the
    deprecated ``size_average``/``reduce``, ``ignore_index``, ``reduction`` and
    ``label_smoothing``.

    Example::

        >>> loss_fn = nn.CrossEntropyLoss(gpugrad.tensor([1.0, 3.0]), reduction="sum")
        >>> loss_fn(gpugrad.zeros(2, 2), gpugrad.tensor([0, 1]))      # (1 + 3) log 2
        tensor(2.7725887, device='cpu', dtype=float32)
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__()
        if isinstance(weight, str):
            raise TypeError(f"CrossEntropyLoss({weight!r}): the first positional argument is "
                            f"weight (per-class weights), as PyTorch's; pass "
                            f"reduction={weight!r} by keyword")
        reduction = _torch_reduction("CrossEntropyLoss", None, size_average, reduce, reduction)
        check_reduction(reduction, "CrossEntropyLoss")
        if weight is not None and not isinstance(weight, Tensor):
            weight = as_tensor(weight)
        self.register_buffer("weight", weight)
        self.reduction, self.label_smoothing = reduction, label_smoothing
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)

    def extra_repr(self) -> str:
        return (f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}, "
                f"ignore_index={self.ignore_index}")
