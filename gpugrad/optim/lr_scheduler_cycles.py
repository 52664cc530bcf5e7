"""Cyclic schedules, as PyTorch's: CosineAnnealingWarmRestarts (SGDR), OneCycleLR (the
1cycle policy) and CyclicLR (triangular cycles), the last two with the momentum cycled
against the lr.

Example::

    >>> opt = gpugrad.optim.SGD([gpugrad.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = gpugrad.optim.CosineAnnealingWarmRestarts(opt, T_0=2)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(sched.get_last_lr()[0])
    ...     opt.step(); sched.step()
    >>> [round(lr, 4) for lr in lrs]               # restarts at epochs 2 and 4
    [1.0, 0.5, 1.0, 0.5, 1.0]
"""

from __future__ import annotations

import math
import types

from .lr_scheduler_base import LRScheduler, check_optimizer, per_group

__all__ = ["CosineAnnealingWarmRestarts", "OneCycleLR", "CyclicLR"]


class CosineAnnealingWarmRestarts(LRScheduler):
    """lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2, where T_cur
    counts the epochs since the last restart and the i-th period lasts T_i = T_0 * T_mult ** i
    epochs. ``step(epoch)`` may be given a fractional epoch (``epoch + batch / batches``), as
    in PyTorch, to anneal within an epoch."""

    def __init__(self, optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1):
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 must be a positive integer "
                             f"(the epochs of the first period), got T_0={T_0!r}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_mult must be an integer >= 1 "
                             f"(each period's length over the last's), got T_mult={T_mult!r}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"CosineAnnealingWarmRestarts: eta_min must be a number, got a "
                             f"{type(eta_min).__name__}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_outside_step()
        return [self.eta_min + (base - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base in self.base_lrs]

    def _step(self, epoch=None) -> None:
        # no step count and no deprecation: a given epoch is this schedule's own use
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"CosineAnnealingWarmRestarts.step: epoch must be >= 0, got "
                             f"{epoch}")
        elif epoch >= self.T_0:
            if self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            else:
                # the period that epoch falls in: T_0 * (T_mult ** n - 1) / (T_mult - 1)
                # epochs precede the n-th
                n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult ** n
        else:
            self.T_i = self.T_0
            self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._get_lr_called_within_step = True
        try:
            values = self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        self._set_lrs(values)


def _annealing_cos(start, end, pct):
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _annealing_linear(start, end, pct):
    return (end - start) * pct + start


def _phases(total_steps: int, pct_start: float, three_phase: bool) -> list:
    """Each phase: the step it ends at and the group keys its lr and momentum go between."""
    def phase(end_step, start_lr, end_lr, start_momentum, end_momentum):
        return {"end_step": end_step, "start_lr": start_lr, "end_lr": end_lr,
                "start_momentum": start_momentum, "end_momentum": end_momentum}
    warmup = phase(float(pct_start * total_steps) - 1, "initial_lr", "max_lr",
                   "max_momentum", "base_momentum")
    if not three_phase:
        return [warmup, phase(total_steps - 1, "max_lr", "min_lr",
                              "base_momentum", "max_momentum")]
    return [warmup,
            phase(float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr",
                  "base_momentum", "max_momentum"),
            phase(total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]


class OneCycleLR(LRScheduler):
    """The 1cycle policy: the lr rises from max_lr / div_factor to max_lr over the first
    ``pct_start`` of ``total_steps`` (or ``epochs * steps_per_epoch``) steps, then falls to
    max_lr / (div_factor * final_div_factor) (``three_phase``: back to the start first), by
    cosine or linear annealing; with ``cycle_momentum`` the momentum (SGD) or beta1 (Adam)
    goes the other way between max_momentum and base_momentum. Step it after every batch;
    stepping past ``total_steps`` raises ValueError. Example::

        >>> w = gpugrad.zeros(1, requires_grad=True)
        >>> opt = gpugrad.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> sched = gpugrad.optim.OneCycleLR(opt, max_lr=1.0, total_steps=10,
        ...                                  anneal_strategy="linear")
        >>> [round(lr, 4) for lr in sched.get_last_lr()], opt.param_groups[0]["momentum"]
        ([0.04], 0.95)
        >>> for _ in range(2):
        ...     opt.step(); sched.step()
        >>> sched.get_last_lr(), opt.param_groups[0]["momentum"]      # the peak at step 2
        ([1.0], 0.85)
    """

    def __init__(self, optimizer, max_lr, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1):
        check_optimizer("OneCycleLR", optimizer)
        self.optimizer = optimizer
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        self._schedule_phases = _phases(self.total_steps, pct_start, three_phase)
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be a float in [0, 1] (the share of "
                             f"the steps spent rising), got pct_start={pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        max_lrs = per_group("OneCycleLR", "max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"OneCycleLR(cycle_momentum=True) cycles the optimizer's "
                                 f"momentum or beta1, and {type(optimizer).__name__} has "
                                 f"neither: pass cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            tops = per_group("OneCycleLR", "max_momentum", optimizer, max_momentum)
            bases = per_group("OneCycleLR", "base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for top, base, group in zip(tops, bases, optimizer.param_groups):
                    self._set_momentum(group, top)
                    group["max_momentum"], group["base_momentum"] = top, base
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group, value) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal_func(self, start, end, pct):
        anneal = _annealing_cos if self._anneal_func_type == "cos" else _annealing_linear
        return anneal(start, end, pct)

    def get_lr(self) -> list:
        self._warn_outside_step()
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR was stepped {step} times, past total_steps="
                             f"{self.total_steps}: give total_steps (or epochs and "
                             f"steps_per_epoch) that count every scheduler.step() call, one "
                             f"per batch")
        lrs = []
        last = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step <= end_step or i == last:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal_func(group[phase["start_lr"]],
                                                 group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal_func(
                            group[phase["start_momentum"]], group[phase["end_momentum"]], pct))
                    break
                start_step = phase["end_step"]
        return lrs


def _total_steps(total_steps, epochs, steps_per_epoch) -> int:
    if total_steps is not None:
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"OneCycleLR: total_steps must be a positive integer (the "
                             f"scheduler.step() calls of the whole run), got "
                             f"total_steps={total_steps!r}")
        return total_steps
    if epochs is not None and steps_per_epoch is not None:
        for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"OneCycleLR: {name} must be a positive integer, got "
                                 f"{name}={value!r}")
        return epochs * steps_per_epoch
    raise ValueError("OneCycleLR needs the length of the cycle: pass total_steps=N (the "
                     "scheduler.step() calls of the whole run), or epochs=E and "
                     "steps_per_epoch=S")


class CyclicLR(LRScheduler):
    """The cyclical learning-rate policy (Smith, 2017): the lr goes from base_lr up to max_lr
    in ``step_size_up`` steps and back down in ``step_size_down`` (default: the same), the
    cycle's height scaled by ``mode``: "triangular" (1), "triangular2" (halved each cycle)
    or "exp_range" (gamma ** step); or by ``scale_fn(cycle)`` / ``scale_fn(step)``
    (``scale_mode`` "cycle" / "iterations"), which then overrides ``mode``. With
    ``cycle_momentum`` the momentum (SGD) or beta1 (Adam) goes the other way, from
    max_momentum down to base_momentum. Step it after every batch.

    For step n (``last_epoch``), cycle c = floor(1 + n / (up + down)) and x = 1 + n / (up +
    down) - c, the height h = x / r while x <= r = up / (up + down), else (x - 1) / (r - 1)::

        lr = base_lr + (max_lr - base_lr) * h * scale
        momentum = max_momentum - (max_momentum - base_momentum) * h * scale

    The constructor sets each group's lr to base_lr (a schedule resumed with ``last_epoch``
    leaves it). ``state_dict()`` keeps a ``scale_fn``'s attributes if it is a callable
    object, nothing of a function or lambda, as PyTorch's. Example::

        >>> w = gpugrad.zeros(1, requires_grad=True)
        >>> opt = gpugrad.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> sched = gpugrad.optim.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2,
        ...                                mode="triangular2")
        >>> lrs = []
        >>> for _ in range(8):
        ...     lrs.append(sched.get_last_lr()[0])
        ...     opt.step(); sched.step()
        >>> [round(lr, 4) for lr in lrs]               # the second cycle half as high
        [0.1, 0.3, 0.5, 0.3, 0.1, 0.2, 0.3, 0.2]
        >>> opt.param_groups[0]["momentum"]            # step 8 starts a cycle: max_momentum
        0.9
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn=None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float = 0.8,
                 max_momentum: float = 0.9, last_epoch: int = -1):
        check_optimizer("CyclicLR", optimizer)
        self.optimizer = optimizer
        base_lrs = per_group("CyclicLR", "base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = per_group("CyclicLR", "max_lr", optimizer, max_lr)
        if not step_size_up > 0 or (step_size_down is not None and not step_size_down >= 0):
            raise ValueError(f"CyclicLR: step_size_up must be > 0 and step_size_down >= 0 "
                             f"(steps of the rising and the falling half of a cycle), got "
                             f"{step_size_up!r} and {step_size_down!r}")
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"CyclicLR: mode must be 'triangular', 'triangular2' or "
                             f"'exp_range' (or pass scale_fn), got mode={mode!r}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations' (what "
                             f"scale_fn is called with), got {scale_mode!r}")
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"CyclicLR(cycle_momentum=True) cycles the optimizer's "
                                 f"momentum or beta1, and {type(optimizer).__name__} has "
                                 f"neither: pass cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = per_group("CyclicLR", "base_momentum", optimizer,
                                            base_momentum)
            self.max_momentums = per_group("CyclicLR", "max_momentum", optimizer,
                                           max_momentum)
            if last_epoch == -1:
                for top, base, group in zip(self.max_momentums, self.base_momentums,
                                            optimizer.param_groups):
                    self._set_momentum(group, top)
                    group["max_momentum"], group["base_momentum"] = top, base
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        """The built-in modes fix what their scale is a function of."""
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x) -> float:
        """The cycle's height scale at ``x`` (the cycle number or the step, per
        ``scale_mode``)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def _set_momentum(self, group, value) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def get_lr(self) -> list:
        self._warn_outside_step()
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        at = cycle if self.scale_mode == "cycle" else self.last_epoch
        lrs = [base + (top - base) * scale_factor * self.scale_fn(at)
               for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            momentums = [top - (top - base) * scale_factor * self.scale_fn(at)
                         for base, top in zip(self.base_momentums, self.max_momentums)]
            for group, momentum in zip(self.optimizer.param_groups, momentums):
                self._set_momentum(group, momentum)
        return lrs

    def state_dict(self) -> dict:
        """As ``LRScheduler.state_dict``, with ``_scale_fn_custom``: the attributes of a
        ``scale_fn`` that is a callable object, None for a function or lambda."""
        state = super().state_dict()
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = None
        if fn is not None and not isinstance(fn, types.FunctionType):
            state["_scale_fn_custom"] = fn.__dict__.copy()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Take the attributes of ``state_dict``; a saved callable object's attributes go
        back into this scheduler's ``scale_fn``."""
        state = dict(state_dict)
        fn = state.pop("_scale_fn_custom", None)
        state.pop("_scale_fn_ref", None)           # (in PyTorch's, if one was pickled)
        super().load_state_dict(state)
        if fn is not None:
            self._scale_fn_custom.__dict__.update(fn)
        self._init_scale_fn()
