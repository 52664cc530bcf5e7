"""The arguments the functional losses share, read as PyTorch reads them: ``reduction`` (and
its deprecated spellings ``size_average`` and ``reduce``), the input/target pair, and
per-element weights.

Example::

    >>> from gpugrad.nn.loss_arguments import reduced
    >>> reduced(gpugrad.tensor([1.0, 2.0, 6.0]), "mean").item()
    3.0
"""

from __future__ import annotations

import warnings

import numpy as np

from ..creation import as_tensor
from ..ops.autocast_casts import cast_inputs_float32
from ..ops.loss_checks import check_reduction
from ..ops.reduce import mean, sum
from ..ops.unary import _float
from ..tensor import Tensor

__all__ = ["legacy_reduction", "as_tensor_like", "prepared_pair", "check_broadcasts", "reduced",
           "weighted"]


def legacy_reduction(name: str, size_average, reduce, reduction: str,
                     order: str = "input, target, size_average, reduce, reduction",
                     stacklevel: int = 3) -> str:
    """``reduction``, or PyTorch's from its deprecated ``size_average`` and ``reduce``
    (either given: "mean" where both are true or None, else "sum" where ``reduce`` is, else
    "none"; with PyTorch's UserWarning). Either not a bool (a reduction string passed where
    PyTorch's positional order has them) is refused, naming the order."""
    for what, value in (("size_average", size_average), ("reduce", reduce)):
        if value is not None and not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name}: {what}={value!r} must be a bool or None (it is "
                            f"deprecated); PyTorch's positional order is ({order}): pass "
                            f"reduction= (and the arguments after it) by keyword, e.g. "
                            f"reduction='sum'")
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    legacy = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"{name}: size_average and reduce are deprecated (as in PyTorch); use "
                  f"reduction={legacy!r} instead", UserWarning, stacklevel=stacklevel)
    return legacy


def as_tensor_like(value, like):
    """``value`` as a tensor on ``like``'s device: a Tensor (or None) as it is, anything
    else (a number, a list, an array) through ``as_tensor`` with its own dtype.

    Example::

        >>> from gpugrad.nn.loss_arguments import as_tensor_like
        >>> as_tensor_like([1, 2], gpugrad.zeros(2))
        tensor([1, 2], device='cpu', dtype=int64)
    """
    return value if value is None or isinstance(value, Tensor) else \
        as_tensor(value, device=like.device)


def prepared_pair(name: str, input, target, reduction: str):
    """``input`` and ``target`` as float tensors of one shape, autocast's float32 applied,
    and ``reduction`` checked."""
    check_reduction(reduction, name)
    target = as_tensor_like(target, input)
    input, target = cast_inputs_float32(input, target)
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{name}: input shape {tuple(input.shape)} and target shape "
                         f"{tuple(target.shape)} differ; they must match")
    return _float(input), _float(target)


def check_broadcasts(name: str, what: str, value, shape) -> None:
    """``value`` (a weight) must broadcast to the loss's ``shape``."""
    try:
        fits = np.broadcast_shapes(tuple(value.shape), tuple(shape)) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name}: {what} of shape {tuple(value.shape)} does not broadcast to "
                         f"the input's shape {tuple(shape)}; give it that shape or one that "
                         f"broadcasts to it (e.g. one entry per class on the last axis)")


def reduced(losses, reduction: str):
    """``losses`` (any shape) as ``reduction`` asks: "none" as they are, "sum" their sum,
    "mean" their mean (0-d results; the mean of none is NaN, as PyTorch's).

    Example::

        >>> from gpugrad.nn.loss_arguments import reduced
        >>> reduced(gpugrad.tensor([1.0, 2.0]), "sum").item()
        3.0
    """
    if reduction == "none":
        return losses
    return sum(losses) if reduction == "sum" else mean(losses)


def weighted(name: str, losses, weight, reduction: str, mean_over_weights: bool):
    """``losses * weight`` (``weight``: the input's shape) reduced; "mean" divides by the
    summed weights (``mean_over_weights``, l1_loss's) or by the count (huber_loss's)."""
    weight = as_tensor_like(weight, losses)
    if tuple(weight.shape) != tuple(losses.shape):
        raise ValueError(f"{name}: weight of shape {tuple(weight.shape)} must have the "
                         f"input's shape {tuple(losses.shape)} (PyTorch's rule)")
    losses = losses * weight
    if reduction == "mean" and mean_over_weights:
        return sum(losses) / sum(weight)
    return reduced(losses, reduction)
