"""Adafactor, with the update, defaults, argument order and state PyTorch's
torch.optim.Adafactor has (its "relative step" form: the step size scales with the
parameter's RMS, and a matrix keeps only row and column second-moment factors).

Example (the loss sum(w ** 2) going down)::

    >>> w = gpugrad.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    >>> opt = gpugrad.optim.Adafactor([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     loss = (w ** 2).sum()
    ...     loss.backward()
    ...     opt.step()
    ...     print(round(loss.item(), 4))
    14.25
    11.9955
    10.1549
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from .hyper import check_flags, check_range
from .optimizer import Optimizer, _state_tensor

__all__ = ["Adafactor"]


def _lerp(xp, start, end, weight: float) -> None:
    """start <- start + weight (end - start), in place, rounded as PyTorch's lerp_ (from the
    end for weight >= 1/2)."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1.0 - weight)


class Adafactor(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ...::

        g = -g                                            (maximize=True)
        beta2_t = 1 - t ** beta2_decay ; rho = min(lr, 1 / sqrt(t))
        alpha = max(eps2, RMS(p)) * rho
        p = p * (1 - lr * weight_decay)
        p a matrix (..., R, C):  r = beta2_t r + (1 - beta2_t) mean(g^2, -1)   ("row_var")
                                 c = beta2_t c + (1 - beta2_t) mean(g^2, -2)   ("col_var")
                                 v = r c / max(mean(r, -2), eps1)
        else:                    v = beta2_t v + (1 - beta2_t) g^2              ("variance")
        u = g / sqrt(max(v, eps1^2))
        p = p - alpha / max(1, RMS(u) / d) * u

    ``eps=(eps1, eps2)``: eps1 None is the parameter dtype's machine epsilon. The state
    ("step", then "row_var" and "col_var" of shapes (..., R, 1) and (..., 1, C), or
    "variance") is made at a parameter's first step, as PyTorch's. ``foreach`` is accepted
    (and kept in the groups, as PyTorch's) and changes nothing.

    Example (the first step of a vector moves it by lr RMS(p) g / |g|_rms)::

        >>> w = gpugrad.tensor([3.0, -4.0], dtype="float64", requires_grad=True)
        >>> opt = gpugrad.optim.Adafactor([w], lr=0.1)
        >>> (w ** 2).sum().backward()
        >>> opt.step()
        >>> w.detach().numpy().round(6), sorted(opt.state[w])
        (array([ 2.646447, -3.646447]), ['step', 'variance'])
    """

    def __init__(self, params, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps=(None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach=None, maximize: bool = False):
        check_flags("Adafactor", foreach=foreach)
        check_range("Adafactor", lr=lr, weight_decay=weight_decay)
        if not beta2_decay <= 0.0:
            raise ValueError(f"Adafactor: invalid beta2_decay={beta2_decay!r}: it must be <= 0")
        try:
            eps1, eps2 = eps
        except (TypeError, ValueError):
            raise ValueError(f"Adafactor: eps must be a pair (eps1 or None, eps2), "
                             f"got {eps!r}") from None
        if eps1 is not None:
            check_range("Adafactor", **{"eps[0]": eps1})
        check_range("Adafactor", **{"eps[1]": eps2})
        if not d >= 1.0:
            raise ValueError(f"Adafactor: invalid d={d!r}: the clipping threshold must be >= 1")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=(eps1, eps2), d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=bool(maximize)))

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        lr, decay = group["lr"], group["weight_decay"]
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = float(np.finfo(param.dtype).eps)
        if group["maximize"]:
            grad = -grad
        state["step"] = t = state.get("step", 0) + 1
        weight = float(t) ** group["beta2_decay"]           # 1 - beta2_t
        rho = min(lr, 1.0 / math.sqrt(t))
        size = max(param.size, 1)
        alpha = max(eps2, float(xp.linalg.norm(param.ravel())) / math.sqrt(size)) * rho
        if decay:
            param *= 1.0 - lr * decay
        if grad.ndim > 1:
            row = _state_tensor(state, "row_var", grad[..., :1])
            col = _state_tensor(state, "col_var", grad[..., :1, :])
            square = grad * grad
            _lerp(xp, row, square.sum(axis=-1, keepdims=True) / grad.shape[-1], weight)
            _lerp(xp, col, square.sum(axis=-2, keepdims=True) / grad.shape[-2], weight)
            estimate = row * col
            estimate /= xp.maximum(row.mean(axis=-2, keepdims=True), eps1)
        else:
            variance = _state_tensor(state, "variance", grad)
            _lerp(xp, variance, grad * grad, weight)
            estimate = variance.copy()
        update = (1.0 / xp.sqrt(xp.maximum(estimate, eps1 * eps1))) * grad    # (as PyTorch's)
        denom = max(1.0, float(xp.linalg.norm(update.ravel())) / (math.sqrt(size) * group["d"]))
        param -= (alpha / denom) * update
