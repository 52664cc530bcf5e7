"""NAdam (Adam with Nesterov momentum; weight decay in the gradient or decoupled), with the
update PyTorch documents for torch.optim.NAdam, its defaults, argument order and state.

Example (the loss sum(w ** 2) going down)::

    >>> w = gpugrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gpugrad.optim.NAdam([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     loss = (w ** 2).sum()
    ...     loss.backward()
    ...     opt.step()
    ...     print(round(loss.item(), 4))
    5.0
    4.3885
    3.9771
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor
from .hyper import check_betas, check_flags, check_range, effective_grad, lerp_
from .optimizer import Optimizer, _state_tensor

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ... (states "exp_avg" m and
    "exp_avg_sq" v from 0, "mu_product" P from 1)::

        g = -g                                     (maximize=True)
        p = p * (1 - lr weight_decay)              (decoupled_weight_decay=True)
        g = g + weight_decay * p                   (otherwise)
        mu_t = beta1 (1 - 0.5 * 0.96^(t momentum_decay)),  mu_t+1 likewise
        P = P mu_t
        m = beta1 m + (1 - beta1) g
        v = beta2 v + (1 - beta2) g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr (1 - mu_t) / (1 - P) * g / d - lr mu_t+1 / (1 - P mu_t+1) * m / d

    "mu_product" is a number kept in float32, as PyTorch keeps it (a float32 0-d tensor
    under its default dtype), so that trajectories agree to the last bits. PyTorch's
    ``foreach``, ``capturable`` and ``differentiable`` are accepted at the values that
    change nothing (None or False); a CUDA graph capture refuses NAdam.

    Example (the state after one step)::

        >>> w = gpugrad.tensor([1.0, -2.0], dtype="float64", requires_grad=True)
        >>> opt = gpugrad.optim.NAdam([w], lr=0.1)
        >>> (w ** 2).sum().backward()
        >>> opt.step()
        >>> sorted(opt.state[w]), opt.state[w]["step"]
        (['exp_avg', 'exp_avg_sq', 'mu_product', 'step'], 1)
        >>> round(opt.state[w]["mu_product"], 6)       # 0.9 * (1 - 0.5 * 0.96 ** 0.004)
        0.450073
    """

    _scalar_state = ("step", "mu_product")      # 0-d float32 tensors in state_dict()

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        check_range("NAdam", lr=lr, eps=eps)
        betas = check_betas("NAdam", betas)
        check_range("NAdam", weight_decay=weight_decay, momentum_decay=momentum_decay)
        check_flags("NAdam", foreach=foreach, capturable=capturable,
                    differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=bool(decoupled_weight_decay),
                                      maximize=bool(maximize), foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        beta1, beta2 = group["betas"]
        lr, decay, momentum_decay = group["lr"], group["weight_decay"], group["momentum_decay"]
        state["step"] = t = state.get("step", 0) + 1
        if decay != 0 and group["decoupled_weight_decay"]:
            param *= 1 - lr * decay
            decay = 0
        grad = effective_grad(xp, param, grad, group["maximize"], decay)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))
        # PyTorch's float32 product: both factors rounded to float32, then the product
        mu_product = float(np.float32(state.get("mu_product", 1.0)) * np.float32(mu))
        state["mu_product"] = mu_product
        exp_avg = _state_tensor(state, "exp_avg", param)
        exp_avg_sq = _state_tensor(state, "exp_avg_sq", param)
        lerp_(exp_avg, grad, 1.0 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * (grad * grad)
        denom = xp.sqrt(exp_avg_sq / (1.0 - beta2 ** t)) + group["eps"]
        param += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (grad / denom)
        param += ((-lr * mu_next) / (1.0 - mu_product * mu_next)) * (exp_avg / denom)

    def load_state_dict(self, state_dict: dict) -> None:
        """As ``Optimizer.load_state_dict``; "mu_product" comes back as a number (PyTorch
        saves a 0-d tensor)."""
        super().load_state_dict(state_dict)
        for state in self.state.values():
            value = state.get("mu_product")
            if isinstance(value, Tensor):
                state["mu_product"] = float(value._array.item())
            elif value is not None:
                state["mu_product"] = float(value)
