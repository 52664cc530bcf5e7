"""Binary cross-entropy of probabilities, element by element, as one record whose rules are
PyTorch's: each log clamped at -100, and the gradient in the input
``(p - t) / max(p (1 - p), 1e-12)``, finite even where p is 0, 1 or a float32 denormal
(the exact derivative of the clamped loss would overflow there). ``F.binary_cross_entropy``
(nn/loss_functions.py) weights and reduces it.

Example::

    >>> from gpugrad.ops.binary_cross_entropy import binary_cross_entropy_elements
    >>> p = gpugrad.tensor([0.5, 0.0], dtype="float64", requires_grad=True)
    >>> loss = binary_cross_entropy_elements(p, gpugrad.tensor([1.0, 1.0]))
    >>> loss.tolist()                     # log 2, and the floor 100 for log 0
    [0.6931471805599453, 100.0]
    >>> loss.sum().backward()
    >>> p.grad.tolist()                   # (p - t) / max(p (1 - p), 1e-12)
    [-2.0, -1000000000000.0]
"""

from __future__ import annotations

from .elementwise import where
from .record import BROADCAST, Op, apply
from .special import log1p
from .unary import clamp, log

__all__ = ["binary_cross_entropy_elements"]

LOG_FLOOR = -100.0          # each log is clamped here, as PyTorch's
GRADIENT_FLOOR = 1e-12      # PyTorch's floor for p (1 - p) in the gradient


def _floored_logs(xp, p):
    """``max(log p, -100)`` and ``max(log(1 - p), -100)`` of a raw array, without taking
    log 0 (p outside [0, 1] gives NaN, which the loss explains when it is read)."""
    log_p = xp.where(p == 0, LOG_FLOOR, xp.log(xp.where(p == 0, 1, p)))
    log_q = xp.where(p == 1, LOG_FLOOR, xp.log1p(-xp.where(p == 1, 0, p)))
    return (xp.maximum(log_p, LOG_FLOOR).astype(p.dtype),
            xp.maximum(log_q, LOG_FLOOR).astype(p.dtype))


def _floored_logs_of(p):
    """The same in gpugrad ops (for the rules: differentiable again)."""
    log_p = where(p == 0, LOG_FLOOR, clamp(log(where(p == 0, 1.0, p)), min=LOG_FLOOR))
    log_q = where(p == 1, LOG_FLOOR, clamp(log1p(-where(p == 1, 0.0, p)), min=LOG_FLOOR))
    return log_p, log_q


class BinaryCrossEntropy(Op):
    """``-(t max(log p, -100) + (1 - t) max(log(1 - p), -100))`` of probabilities ``p`` and
    targets ``t`` of one shape. (*), (*) -> (*)."""

    save = "xs"
    vmap = BROADCAST
    broadcasts = False

    @staticmethod
    def forward(xp, p, target):
        log_p, log_q = _floored_logs(xp, p)
        return -(target * log_p + (1 - target) * log_q)

    @staticmethod
    def vjp(ctx, g):
        p, target = ctx.xs
        grad_p = g * (p - target) / clamp(p * (1.0 - p), min=GRADIENT_FLOOR) \
            if ctx.needs(0) else None
        grad_target = None
        if ctx.needs(1):
            log_p, log_q = _floored_logs_of(p)
            grad_target = g * (log_q - log_p)
        return grad_p, grad_target

    @staticmethod
    def jvp(ctx, t_p, t_target):
        p, target = ctx.xs
        out = None if t_p is None else \
            t_p * (p - target) / clamp(p * (1.0 - p), min=GRADIENT_FLOOR)
        if t_target is not None:
            log_p, log_q = _floored_logs_of(p)
            term = t_target * (log_q - log_p)
            out = term if out is None else out + term
        return out


def binary_cross_entropy_elements(p, t):
    """Per-element binary cross-entropy of probabilities ``p`` and targets ``t`` (one shape,
    one float dtype); see the module docstring."""
    return apply(BinaryCrossEntropy, p, t)
