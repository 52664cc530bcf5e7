"""Adagrad, with the update PyTorch documents for torch.optim.Adagrad, its defaults, argument
order and state (made for every parameter when the optimizer is made, as PyTorch's is).

Example (the loss sum(w ** 2) going down)::

    >>> w = gpugrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gpugrad.optim.Adagrad([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     loss = (w ** 2).sum()
    ...     loss.backward()
    ...     opt.step()
    ...     print(round(loss.item(), 4))
    5.0
    4.42
    4.0471
"""

from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from .hyper import check_flags, check_range, effective_grad
from .optimizer import Optimizer, _state_tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ...::

        g = -g                                     (maximize=True)
        g = g + weight_decay * p
        s = s + g^2                                (state "sum", from the initial value)
        p = p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)

    As PyTorch's: the state ("step" 0 and "sum" filled with ``initial_accumulator_value``)
    is made for every parameter of the groups given to the constructor at once, and for a
    parameter added later at its first step; the accumulator always starts from the
    optimizer's ``initial_accumulator_value`` (a group's own value is kept in the group but
    not read). PyTorch's ``foreach``, ``differentiable`` and ``fused`` are accepted at the
    values that change nothing (None or False); a CUDA graph capture refuses Adagrad.

    Example (the first step with the accumulator at 0 moves each element by lr, less eps)::

        >>> w = gpugrad.tensor([1.0, -2.0], dtype="float64", requires_grad=True)
        >>> opt = gpugrad.optim.Adagrad([w], lr=0.5)
        >>> sorted(opt.state[w]), opt.state[w]["step"]
        (['step', 'sum'], 0)
        >>> (w ** 2).sum().backward()
        >>> opt.step()
        >>> w.detach().numpy().round(6)
        array([ 0.5, -1.5])
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None):
        check_range("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                    initial_accumulator_value=initial_accumulator_value, eps=eps)
        check_flags("Adagrad", foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=bool(maximize),
                                      differentiable=differentiable, fused=fused))
        for p in self._params():
            self._init_state(self.state.setdefault(p, {}), p._array)

    def _init_state(self, state: dict, param) -> None:
        if "sum" not in state:
            xp = backend.xp_of(param)
            state["step"] = 0
            state["sum"] = Tensor._wrap(
                xp.full_like(param, self.defaults["initial_accumulator_value"]))

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        self._init_state(state, param)
        state["step"] = t = state.get("step", 0) + 1
        grad = effective_grad(xp, param, grad, group["maximize"], group["weight_decay"])
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        total = _state_tensor(state, "sum", param)
        total += grad * grad
        std = xp.sqrt(total) + group["eps"]
        param -= clr * (grad / std)
