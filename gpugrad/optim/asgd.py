"""ASGD (averaged stochastic gradient descent), with the update PyTorch documents for
torch.optim.ASGD, its defaults, argument order and state: SGD with a decaying step size
eta, plus a running average "ax" of the iterates once t0 steps have passed.

Example (the loss sum(w ** 2) going down)::

    >>> w = gpugrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gpugrad.optim.ASGD([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     loss = (w ** 2).sum()
    ...     loss.backward()
    ...     opt.step()
    ...     print(round(loss.item(), 4))
    5.0
    3.1999
    2.0479
"""

from __future__ import annotations

from .. import backend
from ..dtypes import round_to_float32
from ..tensor import Tensor
from .hyper import check_flags, check_range, effective_grad
from .optimizer import Optimizer, _state_tensor

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ... (states "eta" from lr,
    "mu" from 1, "ax" from 0)::

        g = -g                                     (maximize=True)
        g = g + weight_decay * p
        p = p * (1 - lambd * eta) - eta * g
        ax = p  if mu == 1  else  ax + mu * (p - ax)
        eta = lr / (1 + lambd * lr * t) ^ alpha
        mu = 1 / max(1, t - t0)

    "eta" and "mu" are numbers kept in float32, as PyTorch keeps them (float32 0-d tensors
    under its default dtype), so that trajectories agree to the last bits. PyTorch's
    ``foreach``, ``capturable`` and ``differentiable`` are accepted at the values that
    change nothing (None or False); a CUDA graph capture refuses ASGD.

    Example (with t0=0, "ax" is the mean of the iterates from the second step on)::

        >>> w = gpugrad.tensor([1.0], dtype="float64", requires_grad=True)
        >>> opt = gpugrad.optim.ASGD([w], lr=0.25, lambd=0.0, t0=0)
        >>> for _ in range(3):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()               # grad 2w: w halves
        ...     opt.step()
        >>> w.item(), opt.state[w]["ax"].item()        # (0.25 + 0.125) / 2
        (0.125, 0.1875)
    """

    _scalar_state = ("step", "eta", "mu")       # 0-d float32 tensors in state_dict()

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach=None,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False):
        check_range("ASGD", lr=lr, weight_decay=weight_decay)
        check_flags("ASGD", foreach=foreach, capturable=capturable,
                    differentiable=differentiable)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=bool(maximize), differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        lr, lambd = group["lr"], group["lambd"]
        if "eta" not in state:
            state["eta"], state["mu"] = round_to_float32(lr), 1.0
        state["step"] = t = state.get("step", 0) + 1
        grad = effective_grad(xp, param, grad, group["maximize"], group["weight_decay"])
        eta, mu = state["eta"], state["mu"]
        param *= 1 - lambd * eta
        param -= eta * grad
        ax = _state_tensor(state, "ax", param)
        if mu != 1:
            ax += (param - ax) * mu
        else:
            ax[...] = param
        state["eta"] = round_to_float32(lr / ((1 + lambd * lr * t) ** group["alpha"]))
        state["mu"] = round_to_float32(1 / max(1, t - group["t0"]))

    def load_state_dict(self, state_dict: dict) -> None:
        """As ``Optimizer.load_state_dict``; "eta" and "mu" come back as numbers (PyTorch
        saves 0-d tensors)."""
        super().load_state_dict(state_dict)
        for state in self.state.values():
            for key in ("eta", "mu"):
                value = state.get(key)
                if isinstance(value, Tensor):
                    state[key] = float(value._array.item())
                elif value is not None:
                    state[key] = float(value)
