"""Negative log-likelihood losses of distributions, as PyTorch's: ``poisson_nll_loss`` and
``gaussian_nll_loss`` with their modules PoissonNLLLoss and GaussianNLLLoss. Composites of
gpugrad ops, written as PyTorch writes them (their values and gradients are PyTorch's).
``reduction`` is "mean", "sum" or "none"; poisson_nll_loss takes the deprecated
``size_average``/``reduce`` too (loss_arguments.py).

Example::

    >>> from gpugrad.nn.likelihood_losses import poisson_nll_loss
    >>> rate_log = gpugrad.tensor([0.0, float(np.log(2.0))])     # rates 1 and 2
    >>> poisson_nll_loss(rate_log, gpugrad.tensor([1.0, 2.0]), reduction="none")
    tensor([1.        , 0.61370564], device='cpu', dtype=float32)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import creation
from ..autograd.batched import innermost_array
from ..autograd.capture_mode import refuse_host_sync
from ..autograd.compile_mode import kernel, note_reads
from ..ops.elementwise import where
from ..ops.loss_checks import check_reduction, labels_checked_now
from ..ops.shape import unsqueeze
from ..ops.unary import _float, exp, log
from .loss_arguments import (as_tensor_like, check_broadcasts, legacy_reduction, prepared_pair,
                             reduced)
from .loss_layers import _Loss

__all__ = ["poisson_nll_loss", "gaussian_nll_loss", "PoissonNLLLoss", "GaussianNLLLoss"]

_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean"):
    """Poisson negative log-likelihood of counts ``target`` under rates ``input``:
    ``exp(input) - target * input`` when ``log_input`` (input is the log-rate), else
    ``input - target * log(input + eps)``. ``full`` adds Stirling's approximation of
    log(target!), ``target log(target) - target + log(2 pi target) / 2``, where target > 1.
    Shapes: (*) and (*) -> () or (*).

    Example::

        >>> from gpugrad.nn.likelihood_losses import poisson_nll_loss
        >>> x, t = gpugrad.tensor([2.0]), gpugrad.tensor([3.0])
        >>> round(poisson_nll_loss(x, t, log_input=False, eps=0.0).item(), 4)   # 2 - 3 log 2
        -0.0794
        >>> full = poisson_nll_loss(x, t, log_input=False, full=True, eps=0.0)
        >>> round(full.item(), 4)                      # + 3 log 3 - 3 + log(6 pi) / 2
        1.6846
    """
    reduction = legacy_reduction("poisson_nll_loss", size_average, reduce, reduction,
                                 "input, target, log_input, full, size_average, eps, reduce, "
                                 "reduction")
    input, target = prepared_pair("poisson_nll_loss", input, target, reduction)
    if log_input:
        losses = exp(input) - target * input
    else:
        losses = input - target * log(input + eps)
    if full:
        above_one = target > 1
        counts = where(above_one, target, 2.0)      # (no log of 0 where it is not used)
        stirling = counts * log(counts) - counts + 0.5 * log(counts * (2 * math.pi))
        losses = losses + where(above_one, stirling, 0.0)
    return reduced(losses, reduction)


def _variance(var, input):
    """``var`` (a number, or a tensor of the input's shape, or one with one axis of size 1,
    or the input's shape less its last axis) checked and shaped to broadcast, as PyTorch's;
    with whether its values were checked (>= 0) now: a number always, a tensor as
    nll_loss's labels (where reading it costs no device sync, through ``kernel``, so that a
    compiled step checks each replay)."""
    if isinstance(var, numbers.Real) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"gaussian_nll_loss: var has negative entry/entries ({var})")
        return creation.full(tuple(input.shape), float(var), dtype=input.dtype,
                             device=input.device), True
    var = _float(as_tensor_like(var, input))
    values = innermost_array(var)           # (vmap's: the whole batch)
    checked = labels_checked_now(values)
    if checked:                 # (recorded by gpugrad.compile: each replay checks again)
        note_reads(var)
        kernel(_check_variances, values)
    shape, wanted = tuple(var.shape), tuple(input.shape)
    if shape == wanted:
        return var, checked
    if shape == wanted[:-1]:                # one variance per row: (N,) for (N, D)
        return unsqueeze(var, -1), checked
    if len(shape) == len(wanted) and \
            sum(v for i, v in zip(wanted, shape) if i != v) == 1:
        return var, checked                 # one axis of size 1, broadcast along it
    raise ValueError(f"gaussian_nll_loss: var is of incorrect size {shape} for input of shape "
                     f"{wanted}: give the input's shape, the input's shape with one axis of "
                     f"size 1, or the input's shape without its last axis")


def _check_variances(values) -> None:
    """ValueError if the raw array ``values`` (NumPy or CuPy) has a negative entry."""
    if values.__class__ is not np.ndarray:
        refuse_host_sync("gaussian_nll_loss's variance check")
    if bool((values < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries; variances must "
                         "be >= 0")


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean"):
    """Gaussian negative log-likelihood of ``target`` under mean ``input`` and variance
    ``var``: ``(log(var) + (input - target)^2 / var) / 2``, plus ``log(2 pi) / 2`` when
    ``full``. ``var`` is clamped to at least ``eps`` in value only (its gradient passes as if
    unclamped, as PyTorch's); negative entries are refused (ValueError) where reading them
    costs no device sync, else (a GPU) they give NaN losses explained when the host reads
    them. ``var``: a number, the input's shape, that shape with one axis of size 1, or that
    shape without its last axis; ``target`` has the input's shape or broadcasts to it.
    Shapes: input (N, *) -> () or (N, *).

    Example::

        >>> from gpugrad.nn.likelihood_losses import gaussian_nll_loss
        >>> mu, y = gpugrad.tensor([[1.0, 2.0]]), gpugrad.tensor([[2.0, 2.0]])
        >>> gaussian_nll_loss(mu, y, gpugrad.tensor([1.0]), reduction="none")   # var (N,)
        tensor([[0.5, 0. ]], device='cpu', dtype=float32)
    """
    check_reduction(reduction, "gaussian_nll_loss")
    input = _float(input)
    target = _float(as_tensor_like(target, input))
    check_broadcasts("gaussian_nll_loss", "target", target, input.shape)
    var, checked = _variance(var, input)
    held = var.detach()
    clamped = where(held < eps, var - held + eps, var)  # value eps, gradient 1: PyTorch's
    losses = (log(clamped) + (input - target) ** 2 / clamped) * 0.5
    if full:
        losses = losses + _HALF_LOG_TWO_PI
    if checked:
        return reduced(losses, reduction)
    losses = where(held < 0, float("nan"), losses)      # explained when the host reads it
    loss = reduced(losses, reduction)
    values = innermost_array(var)
    loss._explain_nan_on_read(lambda: _check_variances(values))
    return loss


class PoissonNLLLoss(_Loss):
    """``poisson_nll_loss`` with these arguments (the rest keyword-only, as PyTorch's
    positional order has the deprecated ``size_average`` next).

    Example::

        >>> from gpugrad.nn.likelihood_losses import PoissonNLLLoss
        >>> PoissonNLLLoss(log_input=False)
        PoissonNLLLoss(reduction='mean', log_input=False, full=False, eps=1e-08)
    """

    def __init__(self, log_input: bool = True, full: bool = False, *, eps: float = 1e-8,
                 reduction: str = "mean"):
        super().__init__(reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f"{super().extra_repr()}, log_input={self.log_input}, full={self.full}, "
                f"eps={self.eps}")


class GaussianNLLLoss(_Loss):
    """``gaussian_nll_loss(input, target, var, full, eps, reduction)``.

    Example::

        >>> from gpugrad.nn.likelihood_losses import GaussianNLLLoss
        >>> loss_fn = GaussianNLLLoss(full=True)
        >>> round(loss_fn(gpugrad.zeros(3), gpugrad.zeros(3), gpugrad.ones(3)).item(), 4)
        0.9189
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, full={self.full}, eps={self.eps}"
