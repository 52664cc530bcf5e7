"""Adamax (Adam with the infinity norm), with the update PyTorch documents for
torch.optim.Adamax, its defaults, argument order and state.

Example (the loss sum(w ** 2) going down)::

    >>> w = gpugrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gpugrad.optim.Adamax([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     loss = (w ** 2).sum()
    ...     loss.backward()
    ...     opt.step()
    ...     print(round(loss.item(), 4))
    5.0
    4.42
    3.8974
"""

from __future__ import annotations

from .. import backend
from .hyper import check_betas, check_flags, check_range, effective_grad, lerp_
from .optimizer import Optimizer, _state_tensor

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ... (states "exp_avg" m and
    "exp_inf" u, both from 0)::

        g = -g                                     (maximize=True)
        g = g + weight_decay * p
        m = beta1 m + (1 - beta1) g
        u = max(beta2 u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u

    PyTorch's ``foreach``, ``capturable`` and ``differentiable`` are accepted at the values
    that change nothing (None or False); a CUDA graph capture refuses Adamax.

    Example (the first step moves each element by lr * |g| / (|g| + eps))::

        >>> w = gpugrad.tensor([1.0, -2.0], dtype="float64", requires_grad=True)
        >>> opt = gpugrad.optim.Adamax([w], lr=0.5)
        >>> (w ** 2).sum().backward()
        >>> opt.step()
        >>> w.detach().numpy().round(6)
        array([ 0.5, -1.5])
    """

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        check_range("Adamax", lr=lr, eps=eps)
        betas = check_betas("Adamax", betas)
        check_range("Adamax", weight_decay=weight_decay)
        check_flags("Adamax", foreach=foreach, capturable=capturable,
                    differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=bool(maximize),
                                      differentiable=differentiable, capturable=capturable))

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        beta1, beta2 = group["betas"]
        state["step"] = t = state.get("step", 0) + 1
        grad = effective_grad(xp, param, grad, group["maximize"], group["weight_decay"])
        exp_avg = _state_tensor(state, "exp_avg", param)
        exp_inf = _state_tensor(state, "exp_inf", param)
        lerp_(exp_avg, grad, 1.0 - beta1)
        exp_inf *= beta2
        xp.maximum(exp_inf, xp.abs(grad) + group["eps"], out=exp_inf)
        clr = group["lr"] / (1.0 - beta1 ** t)
        param -= clr * (exp_avg / exp_inf)
