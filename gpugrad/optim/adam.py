"""Adam and AdamW, with the updates PyTorch documents for torch.optim.Adam and AdamW.

Example (the loss sum(w ** 2) going down)::

    >>> w = gpugrad.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = gpugrad.optim.Adam([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     loss = (w ** 2).sum()
    ...     loss.backward()
    ...     opt.step()
    ...     print(round(loss.item(), 4))
    5.0
    4.42
    3.8813
"""

from __future__ import annotations

from .. import backend
from ..autograd.capture_mode import NeedsEagerStep
from ..cuda import launch_optim
from .hyper import check_betas, check_flags, check_range, effective_grad
from .optimizer import Optimizer, _state_tensor

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ...::

        g = -g                                       (maximize=True)
        g = g + weight_decay * p                     (Adam: L2 penalty in the gradient)
        m = beta1 m + (1 - beta1) g
        v = beta2 v + (1 - beta2) g^2
        v = v_max = max(v_max, v)                    (amsgrad=True; v_max starts at 0)
        p = p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)

    ``decoupled_weight_decay=True`` (a group option, as PyTorch's) makes Adam AdamW. The
    fused CUDA kernels do neither amsgrad nor maximize: groups with them take the
    reference update.

    So the first step moves each element by lr (less eps), against its gradient's sign::

        >>> w = gpugrad.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = gpugrad.optim.Adam([w], lr=0.1)
        >>> (w ** 2).sum().backward()                   # grad [2, -4]
        >>> opt.step()
        >>> w
        tensor([ 0.9, -1.9], device='cpu', dtype=float32, requires_grad=True)
    """

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused=None, decoupled_weight_decay=None):
        name = type(self).__name__
        check_flags(name, foreach=foreach, capturable=capturable,
                    differentiable=differentiable, fused=fused)
        check_range(name, lr=lr, eps=eps, weight_decay=weight_decay)
        beta1, beta2 = check_betas(name, betas)
        super().__init__(params, dict(lr=lr, betas=(beta1, beta2), eps=eps,
                                      weight_decay=weight_decay, amsgrad=bool(amsgrad),
                                      maximize=bool(maximize), foreach=foreach,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused, decoupled_weight_decay=self.decoupled
                                      if decoupled_weight_decay is None
                                      else bool(decoupled_weight_decay)))

    def _update(self, param, grad, state, group):
        beta1, beta2 = group["betas"]
        lr, decay = group["lr"], group["weight_decay"]
        xp = backend.xp_of(param)
        state["step"] = t = state.get("step", 0) + 1
        decoupled = group.get("decoupled_weight_decay", self.decoupled)
        if decay and decoupled:
            param *= 1.0 - lr * decay
        grad = effective_grad(xp, param, grad, group.get("maximize"),
                              0.0 if decoupled else decay)
        m = _state_tensor(state, "exp_avg", grad)
        v = _state_tensor(state, "exp_avg_sq", grad)
        m *= beta1
        m += (1.0 - beta1) * grad
        v *= beta2
        v += (1.0 - beta2) * (grad * grad)
        if group.get("amsgrad"):        # the largest second moment so far
            v_max = _state_tensor(state, "max_exp_avg_sq", grad)
            xp.maximum(v_max, v, out=v_max)
            v = v_max
        # (out=: v * c of a 0-d array would be a NumPy scalar, which sqrt cannot write into)
        denom = xp.multiply(v, 1.0 / (1.0 - beta2**t), out=xp.empty_like(v))
        xp.sqrt(denom, out=denom)
        denom += group["eps"]
        step = m / denom
        step *= lr / (1.0 - beta1**t)
        param -= step

    def _fusable_group(self, group) -> bool:
        return not (group.get("amsgrad") or group.get("maximize"))

    # ------------------------------------------------------------------ fused (CUDA)
    _fused_kind = "adam"

    def _fused_hyper(self, group) -> list:
        beta1, beta2 = group["betas"]
        return [group["lr"], beta1, beta2, group["eps"], group["weight_decay"]]

    def _fused_update(self, bucket, recording):
        """One launch for the bucket: each tensor's step counter (on the GPU) advances, then
        the update with its own bias corrections."""
        params, slot = bucket.params, bucket.slot
        states = [self.state.setdefault(p, {}) for p in params]
        if recording and any("exp_avg" not in state for state in states):
            raise NeedsEagerStep(
                f"{type(self).__name__} creates a parameter's moment buffers at its first "
                f"step, which a captured graph cannot replay; run an eager step first "
                f"(graph()'s warm-up does, for parameters that have gradients then)")
        counts = tuple(state.get("step", 0) for state in states)
        roles = {"params": [p._array for p in params],
                 "grads": [p._grad._array for p in params],
                 "exp_avg": [_state_tensor(s, "exp_avg", p._array)
                             for s, p in zip(states, params)],
                 "exp_avg_sq": [_state_tensor(s, "exp_avg_sq", p._array)
                                for s, p in zip(states, params)]}
        like = params[0]._array
        table = slot.table(roles, recording)
        hyper = slot.hyper_array(self._fused_hyper(bucket.group), like, recording)
        steps = slot.step_counters(counts, like, recording)
        launch_optim.adam_count(steps)
        launch_optim.adam_multi(table, steps, hyper,
                                bool(bucket.group.get("decoupled_weight_decay", self.decoupled)))
        if not recording:                   # a captured step counts when it runs
            self._fused_counted(bucket)

    def _fused_counted(self, bucket) -> None:
        """The bucket's step ran on the GPU: count it in the host-side state."""
        bucket.slot.counted()
        for p in bucket.params:
            state = self.state[p]
            state["step"] = state.get("step", 0) + 1


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p = p * (1 - lr * weight_decay)`` before the Adam
    step, instead of adding the decay to the gradient. Default weight_decay 1e-2.

    Example (where the loss is flat, only the decay acts)::

        >>> a = gpugrad.tensor([1.0], requires_grad=True)
        >>> b = gpugrad.tensor([1.0], requires_grad=True)
        >>> adam = gpugrad.optim.Adam([a], lr=0.1, weight_decay=0.5)
        >>> adamw = gpugrad.optim.AdamW([b], lr=0.1, weight_decay=0.5)
        >>> a.grad, b.grad = gpugrad.zeros(1), gpugrad.zeros(1)
        >>> adam.step(); adamw.step()      # Adam: grad 0.5 a, first step lr; AdamW: b * 0.95
        >>> round(a.item(), 6), round(b.item(), 6)
        (0.9, 0.95)
    """

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach=None, capturable: bool = False, differentiable: bool = False,
                 fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused)
