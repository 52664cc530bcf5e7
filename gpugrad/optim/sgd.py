"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay, with the
update PyTorch documents for torch.optim.SGD.

Example (the loss sum(w ** 2) going down)::

    >>> w = gpugrad.tensor([1.0], requires_grad=True)
    >>> opt = gpugrad.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     loss = (w ** 2).sum()
    ...     loss.backward()
    ...     opt.step()                          # w: 1 -> 0.62 -> 0.2224 -> ...
    ...     print(round(loss.item(), 4))
    1.0
    0.3844
    0.0495
"""

from __future__ import annotations

from .. import backend
from ..autograd.capture_mode import NeedsEagerStep
from ..cuda import launch_optim
from .hyper import check_flags, effective_grad
from .optimizer import Optimizer, _state_tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    """For each parameter p with gradient g (t counts steps from 1)::

        g = -g                                 (maximize=True)
        g = g + weight_decay * p
        b = g                                  if t == 1
        b = momentum * b + (1 - dampening) g   otherwise
        g = g + momentum * b  (nesterov)  or  g = b  (momentum > 0)
        p = p - lr * g

    The default lr is PyTorch's, 1e-3. The fused CUDA kernel does not do maximize: groups
    with it take the reference update.

    Example (one plain step on the loss sum(w ** 2) / 2, whose gradient is w)::

        >>> w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = gpugrad.optim.SGD([w], lr=0.5)
        >>> ((w * w).sum() / 2).backward()
        >>> opt.step()
        >>> w
        tensor([0.5, 1. ], device='cpu', dtype=float32, requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach=None, differentiable: bool = False,
                 fused=None):
        check_flags("SGD", foreach=foreach, differentiable=differentiable, fused=fused)
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: lr, momentum and weight_decay must be >= 0, got lr={lr}, "
                             f"momentum={momentum}, weight_decay={weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=bool(maximize), foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _update(self, param, grad, state, group):
        lr, momentum = group["lr"], group["momentum"]
        grad = effective_grad(backend.xp_of(param), param, grad, group.get("maximize"),
                              group["weight_decay"])
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

    def _fusable_group(self, group) -> bool:
        return not group.get("maximize")

    # ------------------------------------------------------------------ fused (CUDA)
    _fused_kind = "sgd"

    def _fused_hyper(self, group) -> list:
        return [group["lr"], group["momentum"], group["dampening"], group["weight_decay"]]

    def _fused_update(self, bucket, recording):
        """One launch for the bucket; parameters whose momentum buffer is new (their first
        step: buf = grad) take one more launch of their own, eager only. After such a step
        the bucket's steady-state table is built at once, so that a graph captured after a
        single warm-up step finds it (a recording cannot build one)."""
        group, slot = bucket.group, bucket.slot
        like = bucket.params[0]._array
        hyper = slot.hyper_array(self._fused_hyper(group), like, recording)
        momentum = group["momentum"]
        fresh = [p for p in bucket.params
                 if momentum and "momentum_buffer" not in self.state.setdefault(p, {})]
        if fresh and recording:
            raise NeedsEagerStep(
                "SGD creates a parameter's momentum buffer at its first step, which a "
                "captured graph cannot replay; run an eager step first (graph()'s warm-up "
                "does, for parameters that have gradients then)")
        if len(fresh) == len(bucket.params):        # all new: the next step's table serves
            table = slot.table(self._fused_roles(bucket.params, momentum), recording)
            launch_optim.sgd_multi(table, hyper, group["nesterov"], True)
            return
        if fresh:
            table = launch_optim.Table(self._fused_roles(fresh, momentum))
            launch_optim.sgd_multi(table, hyper, group["nesterov"], True)
        new = {id(p) for p in fresh}
        settled = [p for p in bucket.params if id(p) not in new] if new else bucket.params
        table = slot.table(self._fused_roles(settled, momentum), recording)
        launch_optim.sgd_multi(table, hyper, group["nesterov"], False)
        if fresh:                                   # the next step's table: every parameter
            slot.table(self._fused_roles(bucket.params, momentum), recording)

    def _fused_roles(self, params, momentum) -> dict:
        roles = {"params": [p._array for p in params], "grads": [p._grad._array for p in params]}
        if momentum:
            roles["bufs"] = [_state_tensor(self.state[p], "momentum_buffer", p._array)
                             for p in params]
        return roles

    def _fused_counted(self, bucket) -> None:
        pass                                        # SGD keeps no step count
