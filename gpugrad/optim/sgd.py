"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay, with the
update PyTorch documents for torch.optim.SGD.

Example::

    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
"""

from __future__ import annotations

from .optimizer import Optimizer

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

    def _update(self, p, g, state, group):
        if group["weight_decay"]:
            g = g + p * group["weight_decay"]
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.clone()
            else:
                buf.mul_(momentum).add_(g, alpha=1.0 - group["dampening"])
            g = g + buf * momentum if group["nesterov"] else buf
        p.sub_(g * group["lr"])
