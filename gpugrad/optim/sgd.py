"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay, with the
update PyTorch documents for torch.optim.SGD.

Example::

    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
"""

from __future__ import annotations

from .optimizer import Optimizer, _state_tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    """For each parameter p with gradient g (t counts steps from 1)::

        g = g + weight_decay * p
        b = g                                  if t == 1
        b = momentum * b + (1 - dampening) g   otherwise
        g = g + momentum * b  (nesterov)  or  g = b  (momentum > 0)
        p = p - lr * g
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: lr, momentum and weight_decay must be >= 0, got lr={lr}, "
                             f"momentum={momentum}, weight_decay={weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, param, grad, state, group):
        lr, momentum, decay = group["lr"], group["momentum"], group["weight_decay"]
        if decay:
            grad = grad + decay * param
        if momentum:
            first = "momentum_buffer" not in state
            buf = _state_tensor(state, "momentum_buffer", grad)
            if first:
                buf[...] = grad
            else:
                buf *= momentum
                buf += (1.0 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= lr * grad
