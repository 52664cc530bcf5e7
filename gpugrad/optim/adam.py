"""Adam and AdamW, with the updates PyTorch documents for torch.optim.Adam and AdamW.

Example::

    >>> opt = AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
"""

from __future__ import annotations

from .. import backend
from . import multi_tensor
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


    # ------------------------------------------------------------------ fused (CUDA)
    _fused_kind = "adam"

    def _fused_key(self, state):
        return state.get("step", 0)                 # one launch per step count

    def _fused_update(self, params, group, slot, capturing):
        from ..cuda import launch_optim
        states = [self.state[id(p)] for p in params]
        t = states[0].get("step", 0)
        for state in states:
            state["step"] = t + 1
        roles = {"params": [p._array for p in params],
                 "grads": [p.grad._array for p in params],
                 "exp_avg": [_state_tensor(s, "exp_avg", p._array)
                             for s, p in zip(states, params)],
                 "exp_avg_sq": [_state_tensor(s, "exp_avg_sq", p._array)
                                for s, p in zip(states, params)]}
        like = params[0]._array
        slot.pack = _adam_hyper
        hyper = multi_tensor.upload(slot, _adam_hyper(group), like, capturing)
        steps = multi_tensor.step_counter(slot, t, like, capturing)
        launch_optim.adam_prepare(hyper, steps)           # steps += 1, bias corrections
        launch_optim.adam_multi(multi_tensor.table_for(slot, roles), hyper, self.decoupled)


def _adam_hyper(group) -> list:
    beta1, beta2 = group["betas"]
    return [group["lr"], beta1, beta2, group["eps"], group["weight_decay"], 0.0, 0.0]


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p = p * (1 - lr * weight_decay)`` before the Adam
    step, instead of adding the decay to the gradient. Default weight_decay 1e-2."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)
