"""Stochastic weight averaging and weight EMA, as PyTorch's ``torch.optim.swa_utils``:
``AveragedModel`` (a copy of a model whose parameters are the running mean, or an
exponential moving average, of the model's), ``SWALR`` (anneal each group's lr to a fixed
SWA lr) and ``update_bn`` (recompute BatchNorm statistics for the averaged weights).

Example (the average of the weights after each of three epochs)::

    >>> from gpugrad.optim.swa_utils import SWALR, AveragedModel, update_bn
    >>> model = nn.Linear(1, 1, bias=False)
    >>> swa_model = AveragedModel(model)
    >>> opt = gpugrad.optim.SGD(model.parameters(), lr=0.1)
    >>> swa_sched = SWALR(opt, swa_lr=0.05, anneal_epochs=1)
    >>> for value in (1.0, 2.0, 6.0):
    ...     with gpugrad.no_grad():
    ...         _ = model.weight.fill_(value)            # (an epoch of training)
    ...     opt.step()
    ...     swa_model.update_parameters(model)
    ...     swa_sched.step()
    >>> swa_model.module.weight.item(), int(swa_model.n_averaged), opt.param_groups[0]["lr"]
    (3.0, 3, 0.05)
"""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np

from ..autograd.mode import no_grad
from ..creation import tensor
from ..nn.batch_norm import _BatchNorm
from ..nn.module import Module
from ..tensor import Tensor
from .hyper import lerp_
from .lr_scheduler_base import LRScheduler, per_group

__all__ = ["AveragedModel", "SWALR", "update_bn", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _write(target: Tensor, array) -> None:
    """``target``'s array := ``array`` in place, cast to its dtype (integers truncated, as
    PyTorch's ``copy_``), counted on its version."""
    out = target._array
    out[...] = array.astype(out.dtype) if out.dtype.kind in "iub" else array
    target._version_counter.value += 1


def get_ema_multi_avg_fn(decay: float = 0.999):
    """An ``AveragedModel(multi_avg_fn=...)`` update: ``ema = decay ema + (1 - decay) p``
    for every tensor of the lists at once (PyTorch's ``lerp_``; integer tensors truncated).

    Example::

        >>> from gpugrad.optim.swa_utils import get_ema_multi_avg_fn
        >>> ema, p = gpugrad.tensor([1.0]), gpugrad.tensor([3.0])
        >>> get_ema_multi_avg_fn(0.75)([ema], [p], 1); ema
        tensor([1.5], device='cpu', dtype=float32)
    """
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _):
        for ema, current in zip(ema_param_list, current_param_list):
            if ema._array.dtype.kind in "fc":
                lerp_(ema._array, current._array, 1 - decay)
                ema._version_counter.value += 1
            else:
                _write(ema, ema._array * decay + current._array * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """An ``AveragedModel(multi_avg_fn=...)`` update: the running mean,
    ``avg += (p - avg) / (n + 1)`` (PyTorch's ``lerp_`` with weight 1 / (n + 1))."""

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        n = _count(num_averaged)
        for avg, current in zip(averaged_param_list, current_param_list):
            if avg._array.dtype.kind in "fc":
                lerp_(avg._array, current._array, 1 / (n + 1))
                avg._version_counter.value += 1
            else:
                _write(avg, avg._array + (current._array - avg._array) / (n + 1))
    return swa_update


def get_ema_avg_fn(decay: float = 0.999):
    """An ``AveragedModel(avg_fn=...)`` update, one tensor at a time:
    ``decay * ema + (1 - decay) * p``."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """An ``AveragedModel(avg_fn=...)`` update, one tensor at a time, the running mean:
    ``avg + (p - avg) / (n + 1)``."""

    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (_count(num_averaged) + 1)
    return swa_update


def _check_decay(decay) -> None:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         f"[0,1] range.")


def _count(n) -> int:
    return int(n.item()) if isinstance(n, Tensor) else int(n)


class AveragedModel(Module):
    """A deep copy of ``model`` (``self.module``, on ``device`` if given) whose parameters
    ``update_parameters(model)`` averages: the first call copies the model's, later ones
    apply ``multi_avg_fn(averaged_list, model_list, n_averaged)`` (per device and dtype),
    or ``avg_fn(averaged, model_tensor, n_averaged)`` (per tensor, returning the new
    value), or by default the running mean. ``n_averaged`` (an int64 buffer) counts the
    calls. With ``use_buffers`` the buffers are averaged too; without, they are copied
    from the model. Calling the averaged model calls ``self.module``.

    Example (an EMA of the weights)::

        >>> from gpugrad.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
        >>> model = nn.Linear(1, 1, bias=False)
        >>> ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.5))
        >>> for value in (4.0, 2.0, 2.0):
        ...     with gpugrad.no_grad():
        ...         _ = model.weight.fill_(value)
        ...     ema.update_parameters(model)              # 4, then 3, then 2.5
        >>> ema.module.weight.item()
        2.5
    """

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None,
                 use_buffers: bool = False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype="int64", device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Average ``model``'s parameters (and buffers, with ``use_buffers``) into this
        copy's (class docstring)."""
        with no_grad():
            self._update(model)

    def _update(self, model) -> None:
        if self.use_buffers:
            mine = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            mine, theirs = self.parameters(), model.parameters()
        pairs = [(a.detach(), p.detach().to(a.device)) for a, p in zip(mine, theirs)]
        n = int(self.n_averaged.item())
        if n == 0:
            for averaged, current in pairs:
                _write(averaged, current._array)
        elif self.avg_fn is not None:
            for averaged, current in pairs:
                _write(averaged, _array_of(self.avg_fn(averaged, current, self.n_averaged)))
        else:
            groups: dict = {}
            for averaged, current in pairs:
                key = (str(averaged.device), averaged.dtype)
                groups.setdefault(key, ([], []))
                groups[key][0].append(averaged)
                groups[key][1].append(current)
            for averaged_list, current_list in groups.values():
                if self.multi_avg_fn is not None:
                    self.multi_avg_fn(averaged_list, current_list, self.n_averaged)
                    continue
                for averaged, current in zip(averaged_list, current_list):
                    a = averaged._array     # PyTorch's CPU path: avg + (p - avg) / (n + 1)
                    # (a NumPy scalar of a's dtype: CuPy refuses 0-d NumPy arrays as operands)
                    count = a.dtype.type(n + 1) if a.dtype.kind in "fc" else n + 1
                    _write(averaged, a + (current._array - a) / count)
        if not self.use_buffers:        # keep the buffers in step with the model's
            for mine_b, theirs_b in zip(self.module.buffers(), model.buffers()):
                _write(mine_b, theirs_b.detach().to(mine_b.device)._array)
        self.n_averaged.add_(1)


def _array_of(value):
    return value._array if isinstance(value, Tensor) else np.asarray(value)


def update_bn(loader, model: Module, device=None) -> None:
    """Recompute the running statistics of every BatchNorm layer of ``model`` in one pass
    over ``loader`` (batches, or tuples whose first entry is the input), as a cumulative
    average (momentum None), for weights that ``AveragedModel`` averaged. Does nothing
    when the model has no BatchNorm. ``device``: where each input is moved first.

    Example::

        >>> from gpugrad.optim.swa_utils import update_bn
        >>> model = nn.BatchNorm1d(1)
        >>> batches = [gpugrad.tensor([[1.0], [3.0]]), gpugrad.tensor([[5.0], [7.0]])]
        >>> update_bn(batches, model)
        >>> model.running_mean.item()                         # the mean of 2 and 6
        4.0
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to ``swa_lr`` (one value, or one per group) over
    ``anneal_epochs`` steps, along a cosine (``anneal_strategy="cos"``) or a line
    ("linear"), then hold it, as PyTorch's: at step s, with alpha = anneal(min(1, s /
    anneal_epochs)), lr = swa_lr * alpha + lr_0 * (1 - alpha).

    Example::

        >>> from gpugrad.optim.swa_utils import SWALR
        >>> opt = gpugrad.optim.SGD([gpugrad.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = SWALR(opt, swa_lr=0.2, anneal_epochs=2, anneal_strategy="linear")
        >>> lrs = []
        >>> for _ in range(3):
        ...     opt.step(); sched.step(); lrs.append(round(sched.get_last_lr()[0], 6))
        >>> lrs
        [0.6, 0.2, 0.2]
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1):
        swa_lrs = per_group("SWALR", "swa_lr", optimizer, swa_lr)
        for value, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = value
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        self._warn_outside_step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        groups = self.optimizer.param_groups
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" \
            else self._linear_anneal

    def state_dict(self) -> dict:
        """As ``LRScheduler.state_dict``, without the anneal function (PyTorch's keys)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
