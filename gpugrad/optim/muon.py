"""Muon (momentum orthogonalized by Newton-Schulz), with the update, defaults, argument
order and state of PyTorch's torch.optim.Muon: for 2-D parameters (the hidden layers'
weight matrices; biases and embeddings go to another optimizer, e.g. AdamW).

Example (one step of a 2 x 2 weight; its update is close to an orthogonal matrix)::

    >>> w = gpugrad.tensor([[1.0, 0.0], [0.0, 2.0]], requires_grad=True)
    >>> opt = gpugrad.optim.Muon([w], lr=0.1, weight_decay=0.0)
    >>> (w ** 2).sum().backward()
    >>> opt.step()
    >>> w.detach().numpy().round(3)
    array([[0.888, 0.   ],
           [0.   , 1.931]], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from .hyper import check_range
from .optimizer import Optimizer, _state_tensor

__all__ = ["Muon"]

DEFAULT_NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def _bfloat16(xp, a):
    """float64 ``a`` rounded to bfloat16 (to nearest, ties to even), as float64: NumPy has
    no bfloat16, so PyTorch's bfloat16 arithmetic is emulated value by value."""
    single = xp.ascontiguousarray(a, dtype=np.float32)
    bits = single.view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
    rounded &= np.uint32(0xFFFF0000)
    out = rounded.view(np.float32).astype(np.float64)
    return xp.where(xp.isnan(single), single.astype(np.float64), out)


def zeropower_via_newtonschulz(xp, grad, ns_coefficients, ns_steps: int, eps: float):
    """The orthogonalized ``grad`` (m, n) (about U V^T of its SVD U S V^T): ``ns_steps`` of
    the quintic Newton-Schulz map X <- a X + (b A + c A^2) X, A = X X^T, from X = grad /
    |grad|_F, on the wide orientation, in bfloat16 as PyTorch's (each product summed in
    float64 and rounded to bfloat16). Returns a float64 array of grad's shape."""
    if ns_steps >= 100:
        raise ValueError(f"Muon: ns_steps={ns_steps} is too many: it must be below 100 "
                         f"(5 is the default and enough)")
    if len(ns_coefficients) != 3:
        raise ValueError(f"Muon: ns_coefficients must be three numbers (a, b, c), got "
                         f"{ns_coefficients!r}")
    a, b, c = ns_coefficients
    x = _bfloat16(xp, grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = _bfloat16(xp, xp.sqrt(xp.sum(x * x)))
    x = _bfloat16(xp, x / xp.maximum(norm, _bfloat16(xp, xp.asarray(eps))))
    for _ in range(ns_steps):
        gram = _bfloat16(xp, x @ x.T)
        gram_update = _bfloat16(xp, b * gram + c * (gram @ gram))
        x = _bfloat16(xp, a * x + gram_update @ x)
    return x.T if tall else x


def _adjusted_lr(lr: float, adjust_lr_fn, shape) -> float:
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1.0, rows / cols))
    return lr * 0.2 * math.sqrt(max(rows, cols))            # "match_rms_adamw"


def _lerp(start, end, weight: float):
    """start + weight (end - start), rounded as PyTorch's lerp (from the end for
    weight >= 1/2)."""
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


class Muon(Optimizer):
    """For each 2-D parameter p (m, n) with gradient g::

        B = momentum B + (1 - momentum) g                   (state "momentum_buffer")
        U = (1 - momentum) g + momentum B                   (nesterov=True, the default)
          = B                                               (nesterov=False)
        O = NS(U): ns_steps Newton-Schulz steps with ns_coefficients (a, b, c), in bfloat16
        p = p (1 - lr weight_decay) - lr' O,  lr' = lr sqrt(max(1, m / n))   ("original")
                                                 or lr 0.2 sqrt(max(m, n))   ("match_rms_adamw")

    Every parameter must be 2-D (a ValueError at construction, as PyTorch's). The
    bfloat16 iteration of PyTorch is emulated on float32/float64 arrays, rounding each
    product to bfloat16, so steps agree with PyTorch's to about one bfloat16 rounding.

    Example::

        >>> w = gpugrad.tensor([[3.0, 4.0]], requires_grad=True)
        >>> opt = gpugrad.optim.Muon([w], lr=0.1, weight_decay=0.0, nesterov=False)
        >>> w.grad = gpugrad.tensor([[3.0, 4.0]])
        >>> opt.step()          # NS maps the row towards its direction (0.6, 0.8), S' ~ 0.7
        >>> [round(v, 2) for v in w.detach().numpy().ravel().tolist()]
        [2.96, 3.95]
    """

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients=DEFAULT_NS_COEFFICIENTS, eps: float = 1e-7,
                 ns_steps: int = 5, adjust_lr_fn=None):
        check_range("Muon", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if adjust_lr_fn not in (None, "original", "match_rms_adamw"):
            raise ValueError(f"Muon: adjust_lr_fn={adjust_lr_fn!r} is not supported: use None, "
                             f"'original' or 'match_rms_adamw'")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=ns_coefficients,
                                      eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))
        for p in self._params():
            if p.ndim != 2:
                raise ValueError(
                    f"Muon only supports 2-D parameters (weight matrices), got one of shape "
                    f"{tuple(p.shape)}; give biases, embeddings and other parameters to "
                    f"another optimizer, e.g. AdamW")

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        if grad.ndim != 2:
            raise ValueError(f"Muon: a parameter's gradient must be a 2-D matrix, got shape "
                             f"{tuple(grad.shape)}")
        lr, momentum = float(group["lr"]), group["momentum"]   # (lr may be a 0-d tensor)
        buf = _state_tensor(state, "momentum_buffer", grad)
        buf[...] = _lerp(buf, grad, 1.0 - momentum)
        update = _lerp(grad, buf, momentum) if group["nesterov"] else buf
        ortho = zeropower_via_newtonschulz(xp, update, group["ns_coefficients"],
                                           group["ns_steps"], group["eps"])
        param *= 1.0 - lr * group["weight_decay"]
        param -= (_adjusted_lr(lr, group["adjust_lr_fn"], param.shape)
                  * ortho).astype(param.dtype, copy=False)
