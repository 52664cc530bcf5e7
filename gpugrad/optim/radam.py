"""RAdam (Adam with the variance of its adaptive step rectified), with the update PyTorch
documents for torch.optim.RAdam, its defaults, argument order and state.

Example (the loss sum(w ** 2) going down)::

    >>> w = gpugrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gpugrad.optim.RAdam([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     loss = (w ** 2).sum()
    ...     loss.backward()
    ...     opt.step()
    ...     print(round(loss.item(), 4))
    5.0
    3.2
    1.9285
"""

from __future__ import annotations

from .. import backend
from .hyper import check_betas, check_flags, check_range, effective_grad, lerp_
from .optimizer import Optimizer, _state_tensor

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ... (states "exp_avg" m and
    "exp_avg_sq" v, both from 0)::

        g = -g                                     (maximize=True)
        p = p * (1 - lr weight_decay)              (decoupled_weight_decay=True)
        g = g + weight_decay * p                   (otherwise)
        m = beta1 m + (1 - beta1) g
        v = beta2 v + (1 - beta2) g^2
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        r = sqrt((rho_t - 4) (rho_t - 2) rho_inf / ((rho_inf - 4) (rho_inf - 2) rho_t))
        p = p - lr m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r  (rho_t > 5)
        p = p - lr m / (1 - beta1^t)                                           (otherwise)

    PyTorch's ``foreach``, ``capturable`` and ``differentiable`` are accepted at the values
    that change nothing (None or False); a CUDA graph capture refuses RAdam.

    Example (while rho_t <= 5, the first steps of the default betas: momentum SGD with
    bias correction, so the first step moves by lr * g)::

        >>> w = gpugrad.tensor([1.0, -2.0], dtype="float64", requires_grad=True)
        >>> opt = gpugrad.optim.RAdam([w], lr=0.1)
        >>> (w ** 2).sum().backward()
        >>> opt.step()
        >>> w.detach().numpy().round(6)
        array([ 0.8, -1.6])
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        check_range("RAdam", lr=lr, eps=eps)
        betas = check_betas("RAdam", betas)
        check_range("RAdam", weight_decay=weight_decay)
        check_flags("RAdam", foreach=foreach, capturable=capturable,
                    differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=bool(maximize), foreach=foreach,
                                      capturable=capturable,
                                      decoupled_weight_decay=bool(decoupled_weight_decay),
                                      differentiable=differentiable))

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        beta1, beta2 = group["betas"]
        lr, decay = group["lr"], group["weight_decay"]
        state["step"] = t = state.get("step", 0) + 1
        if decay != 0 and group["decoupled_weight_decay"]:
            param *= 1 - lr * decay
            decay = 0
        grad = effective_grad(xp, param, grad, group["maximize"], decay)
        exp_avg = _state_tensor(state, "exp_avg", param)
        exp_avg_sq = _state_tensor(state, "exp_avg_sq", param)
        lerp_(exp_avg, grad, 1.0 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * (grad * grad)
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        corrected = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = (bias_correction2 ** 0.5) / (xp.sqrt(exp_avg_sq) + group["eps"])
            param -= corrected * lr * adaptive * rect
        else:
            param -= corrected * lr
