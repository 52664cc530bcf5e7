"""Adadelta, with the update PyTorch documents for torch.optim.Adadelta, its defaults,
argument order and state.

Example (the loss sum(w ** 2) going down, with lr 10 against Adadelta's slow start)::

    >>> w = gpugrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gpugrad.optim.Adadelta([w], lr=10.0)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     loss = (w ** 2).sum()
    ...     loss.backward()
    ...     opt.step()
    ...     print(round(loss.item(), 4))
    5.0
    4.8123
    4.6257
"""

from __future__ import annotations

from .. import backend
from .hyper import check_flags, check_range, effective_grad
from .optimizer import Optimizer, _state_tensor

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """For each parameter p with gradient g (states "square_avg" v and "acc_delta" u, both
    from 0; "step" counts the steps)::

        g = -g                                     (maximize=True)
        g = g + weight_decay * p
        v = rho v + (1 - rho) g^2
        d = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho u + (1 - rho) d^2
        p = p - lr d

    PyTorch's ``foreach``, ``capturable`` and ``differentiable`` are accepted at the values
    that change nothing (None or False); a CUDA graph capture refuses Adadelta.

    Example (a first step: v = 0.1 g^2, so d = sqrt(eps) / sqrt(0.1 g^2 + eps) g)::

        >>> w = gpugrad.tensor([3.0], dtype="float64", requires_grad=True)
        >>> opt = gpugrad.optim.Adadelta([w], eps=1e-6)
        >>> (w * 10.0).sum().backward()                 # g = 10, v = 10, d = 1e-3 * 10 / ...
        >>> opt.step()
        >>> round(3.0 - w.item(), 12), round(1e-3 * 10 / (10 + 1e-6) ** 0.5, 12)
        (0.003162277502, 0.003162277502)
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False):
        check_range("Adadelta", lr=lr)
        check_range("Adadelta", 1.0, rho=rho)
        check_range("Adadelta", eps=eps, weight_decay=weight_decay)
        check_flags("Adadelta", foreach=foreach, capturable=capturable,
                    differentiable=differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=bool(maximize), capturable=capturable,
                                      foreach=foreach, differentiable=differentiable))

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        rho, eps = group["rho"], group["eps"]
        state["step"] = state.get("step", 0) + 1
        grad = effective_grad(xp, param, grad, group["maximize"], group["weight_decay"])
        square_avg = _state_tensor(state, "square_avg", param)
        acc_delta = _state_tensor(state, "acc_delta", param)
        square_avg *= rho
        square_avg += (1.0 - rho) * (grad * grad)
        std = xp.sqrt(square_avg + eps)
        delta = xp.sqrt(acc_delta + eps) / std * grad
        acc_delta *= rho
        acc_delta += (1.0 - rho) * (delta * delta)
        param -= group["lr"] * delta
