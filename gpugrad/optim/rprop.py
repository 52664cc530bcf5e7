"""Rprop (resilient backpropagation), with the update PyTorch documents for torch.optim.Rprop,
its defaults, argument order and state: each element moves by its own step size, by the
sign of its gradient only.

Example (the loss sum(w ** 2) going down)::

    >>> w = gpugrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gpugrad.optim.Rprop([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     loss = (w ** 2).sum()
    ...     loss.backward()
    ...     opt.step()                             # steps 0.1, 0.12, 0.144
    ...     print(round(loss.item(), 4))
    5.0
    4.42
    3.7768
"""

from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from .hyper import check_flags, check_range
from .optimizer import Optimizer, _state_tensor

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """For each parameter p with gradient g, elementwise, at step t = 1, 2, ... (states
    "prev", the last gradient used, from 0 and "step_size" from lr)::

        g = -g                                     (maximize=True)
        f = etaplus    where g * prev > 0          (same sign: speed up)
            etaminus   where g * prev < 0          (the sign flipped: slow down ...)
            1          where g * prev = 0
        step_size = clip(step_size * f, step_sizes[0], step_sizes[1])
        g = 0          where g * prev < 0          (... and skip this step)
        p = p - sign(g) * step_size
        prev = g

    with ``etas = (etaminus, etaplus)``, 0 < etaminus < 1 < etaplus. PyTorch's ``foreach``,
    ``capturable`` and ``differentiable`` are accepted at the values that change nothing
    (None or False); a CUDA graph capture refuses Rprop.

    Example (a sign flip halves the step and skips the move)::

        >>> w = gpugrad.tensor([1.0], dtype="float64", requires_grad=True)
        >>> opt = gpugrad.optim.Rprop([w], lr=0.5)
        >>> for _ in range(3):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()               # grad 2w
        ...     opt.step()
        ...     print(round(w.item(), 6), round(opt.state[w]["step_size"].item(), 6))
        0.5 0.5
        -0.1 0.6
        -0.1 0.3
    """

    def __init__(self, params, lr: float = 1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        check_range("Rprop", lr=lr)
        try:
            etaminus, etaplus = etas
            low, high = step_sizes
        except (TypeError, ValueError):
            raise ValueError(f"Rprop: etas and step_sizes must be pairs (etaminus, etaplus) "
                             f"and (min, max), got etas={etas!r}, "
                             f"step_sizes={step_sizes!r}") from None
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError(f"Rprop: invalid etas={etas!r}: they must be (etaminus, etaplus) "
                             f"with 0 < etaminus < 1 < etaplus")
        check_flags("Rprop", foreach=foreach, capturable=capturable,
                    differentiable=differentiable)
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes,
                                      foreach=foreach, maximize=bool(maximize),
                                      differentiable=differentiable, capturable=capturable))

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        etaminus, etaplus = group["etas"]
        low, high = group["step_sizes"]
        if "step_size" not in state:
            state["step_size"] = Tensor._wrap(xp.full_like(param, group["lr"]))
        state["step"] = state.get("step", 0) + 1
        if group["maximize"]:
            grad = xp.negative(grad)
        prev = _state_tensor(state, "prev", param)
        step_size = _state_tensor(state, "step_size", param)
        sign = xp.sign(grad * prev)
        flipped = sign < 0
        # (NaN stays NaN, as PyTorch's masked writes leave it)
        factor = xp.where(sign > 0, etaplus, xp.where(flipped, etaminus,
                                                      xp.where(sign == 0, 1.0, sign)))
        step_size *= factor.astype(param.dtype, copy=False)
        xp.clip(step_size, low, high, out=step_size)
        grad = xp.where(flipped, 0.0, grad).astype(param.dtype, copy=False)
        param -= xp.sign(grad) * step_size
        prev[...] = grad
