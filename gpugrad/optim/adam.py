"""Adam and AdamW, with the updates PyTorch documents for torch.optim.Adam and AdamW.

Example::

    >>> opt = AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
"""

from __future__ import annotations

from .. import backend
from .optimizer import Optimizer, _state_tensor

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ...::

        g = g + weight_decay * p                     (Adam: L2 penalty in the gradient)
        m = beta1 m + (1 - beta1) g
        v = beta2 v + (1 - beta2) g^2
        p = p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
    """

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        beta1, beta2 = betas
        if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"{type(self).__name__}: need lr, eps, weight_decay >= 0 and "
                             f"betas in [0, 1); got lr={lr}, betas={betas}, eps={eps}, "
                             f"weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, betas=(beta1, beta2), eps=eps,
                                      weight_decay=weight_decay))

    def _update(self, param, grad, state, group):
        beta1, beta2 = group["betas"]
        lr, decay = group["lr"], group["weight_decay"]
        state["step"] = t = state.get("step", 0) + 1
        if decay and self.decoupled:
            param *= 1.0 - lr * decay
        elif decay:
            grad = grad + decay * param
        m = _state_tensor(state, "exp_avg", grad)
        v = _state_tensor(state, "exp_avg_sq", grad)
        m *= beta1
        m += (1.0 - beta1) * grad
        v *= beta2
        v += (1.0 - beta2) * (grad * grad)
        denom = v * (1.0 / (1.0 - beta2**t))
        backend.xp_of(denom).sqrt(denom, out=denom)
        denom += group["eps"]
        step = m / denom
        step *= lr / (1.0 - beta1**t)
        param -= step


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p = p * (1 - lr * weight_decay)`` before the Adam
    step, instead of adding the decay to the gradient. Default weight_decay 1e-2."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)
