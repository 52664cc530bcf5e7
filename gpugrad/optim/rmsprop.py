"""RMSprop, with the update PyTorch documents for torch.optim.RMSprop (plain, centered, with
momentum), its defaults, argument order and state.

Example (the loss sum(w ** 2) going down)::

    >>> w = gpugrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gpugrad.optim.RMSprop([w], lr=0.01)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     loss = (w ** 2).sum()
    ...     loss.backward()
    ...     opt.step()
    ...     print(round(loss.item(), 4))
    5.0
    4.42
    4.0461
"""

from __future__ import annotations

from .. import backend
from .hyper import check_flags, check_range, effective_grad, lerp_
from .optimizer import Optimizer, _state_tensor

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ...::

        g = -g                                     (maximize=True)
        g = g + weight_decay * p
        v = alpha v + (1 - alpha) g^2              (state "square_avg", from 0)
        a = alpha a + (1 - alpha) g                (centered: state "grad_avg", from 0)
        d = sqrt(v - a^2) + eps   (centered)   or  d = sqrt(v) + eps
        b = momentum b + g / d;  p = p - lr b      (momentum > 0: "momentum_buffer")
        p = p - lr g / d                           (momentum = 0)

    State per parameter, as PyTorch's: "step", "square_avg", and "momentum_buffer" /
    "grad_avg" when momentum > 0 / centered. PyTorch's ``foreach``, ``capturable`` and
    ``differentiable`` are accepted at the values that change nothing (None or False);
    there is no fused kernel, so a CUDA graph capture refuses this optimizer.

    Example (the first plain step moves each element by lr / sqrt(1 - alpha), less eps)::

        >>> w = gpugrad.tensor([1.0, -2.0], dtype="float64", requires_grad=True)
        >>> opt = gpugrad.optim.RMSprop([w], lr=0.01, alpha=0.75)
        >>> (w ** 2).sum().backward()
        >>> opt.step()
        >>> w.detach().numpy().round(6)                # 0.01 / 0.5 = 0.02
        array([ 0.98, -1.98])
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        check_range("RMSprop", lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay,
                    alpha=alpha)
        check_flags("RMSprop", foreach=foreach, capturable=capturable,
                    differentiable=differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=bool(centered), weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach,
                                      maximize=bool(maximize), differentiable=differentiable))

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        alpha, lr, momentum = group["alpha"], group["lr"], group["momentum"]
        state["step"] = state.get("step", 0) + 1
        grad = effective_grad(xp, param, grad, group["maximize"], group["weight_decay"])
        square_avg = _state_tensor(state, "square_avg", param)
        square_avg *= alpha
        square_avg += (1.0 - alpha) * (grad * grad)
        if group["centered"]:
            grad_avg = _state_tensor(state, "grad_avg", param)
            lerp_(grad_avg, grad, 1.0 - alpha)
            avg = xp.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = xp.sqrt(square_avg)
        avg = avg + group["eps"]
        if momentum > 0:
            buf = _state_tensor(state, "momentum_buffer", param)
            buf *= momentum
            buf += grad / avg
            param -= lr * buf
        else:
            param -= lr * (grad / avg)
