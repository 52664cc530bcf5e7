"""``GradScaler``: dynamic loss scaling, as PyTorch's ``torch.amp.GradScaler``. See
gpugrad/amp/__init__.py for the whole picture.

Example (the class docstring shows a skipped step)::

    >>> from gpugrad.amp import GradScaler
    >>> w = gpugrad.tensor([1.0], requires_grad=True)
    >>> opt = gpugrad.optim.SGD([w], lr=0.1)
    >>> scaler = GradScaler(init_scale=8.0)
    >>> scaler.scale((3 * w).sum()).backward(); scaler.step(opt); scaler.update()
    >>> w                                    # 1 - 0.1 * 3: the step used the unscaled gradient
    tensor([0.7], device='cpu', dtype=float32, requires_grad=True)
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backend
from ..autograd.capture_mode import refuse_host_sync
from ..dtypes import round_to_float32
from ..tensor import Tensor

__all__ = ["GradScaler"]

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"
_DEFAULT_SCALE = 2.0**16


class GradScaler:
    """Dynamic loss scaling (PyTorch's ``torch.amp.GradScaler``, on any device).

    Per iteration: ``scaler.scale(loss).backward()``, optionally ``scaler.unscale_(opt)``
    (to clip or inspect true gradients), ``scaler.step(opt)`` (unscales if not done, skips
    the step when a gradient has inf/NaN), ``scaler.update()``:

    - a gradient had inf/NaN: ``scale *= backoff_factor``, the growth count restarts;
    - else the count grows; at ``growth_interval``: ``scale *= growth_factor`` (unless that
      overflows float32) and the count restarts.

    ``enabled=False`` makes every method a no-op (``step`` is ``optimizer.step()``).
    Parameters must be float32 (master weights): float16 gradients raise, as in PyTorch.

    ``device`` ("cpu" or "cuda", PyTorch's first argument): the scaler works on the
    gradients' own devices whatever it says; left out, the scaler is on everywhere. Given as
    "cuda" where no GPU is usable, the scaler warns and disables itself, as PyTorch's. A
    number first is read as ``init_scale`` (gpugrad's older order).

    Example::

        >>> from gpugrad.amp import GradScaler
        >>> w = gpugrad.tensor([1.0], requires_grad=True)
        >>> opt = gpugrad.optim.SGD([w], lr=0.1)
        >>> scaler = GradScaler(init_scale=8.0, growth_interval=1)
        >>> scaler.scale((3 * w).sum()).backward()
        >>> w.grad                               # scaled: 3 * 8
        tensor([24.], device='cpu', dtype=float32)
        >>> scaler.step(opt); scaler.update()    # w = 1 - 0.1 * 3; one good step: scale * 2
        >>> w, scaler.get_scale()
        (tensor([0.7], device='cpu', dtype=float32, requires_grad=True), 16.0)
        >>> opt.zero_grad()
        >>> scaler.scale((w * float("inf")).sum()).backward()     # an inf gradient
        >>> scaler.step(opt); scaler.update()    # the step is skipped and the scale halved
        >>> w, scaler.get_scale()
        (tensor([0.7], device='cpu', dtype=float32, requires_grad=True), 8.0)
    """

    def __init__(self, device: str | None = None, init_scale: float = _DEFAULT_SCALE,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True):
        if device is not None and not isinstance(device, str):
            if init_scale is not _DEFAULT_SCALE:
                raise TypeError(f"GradScaler: the first argument is the device ('cpu' or "
                                f"'cuda'), as PyTorch's, got {device!r}; pass init_scale "
                                f"and the rest by keyword")
            device, init_scale = None, device       # gpugrad's older GradScaler(init_scale)
        if device is not None and device.split(":")[0] not in ("cpu", "cuda"):
            raise ValueError(f"GradScaler: device must be 'cpu' or 'cuda', got {device!r}")
        self._device = "cuda" if device is None else device.split(":")[0]
        if enabled and device is not None and self._device == "cuda" \
                and not backend.is_cuda_usable():
            warnings.warn("GradScaler('cuda') is enabled, but CUDA is not usable here; "
                          "disabling it (as PyTorch does). Use GradScaler('cpu') to scale "
                          "on the CPU", UserWarning, stacklevel=2)
            enabled = False
        if not (init_scale > 0 and math.isfinite(init_scale)):
            raise ValueError(f"GradScaler: init_scale must be a positive finite number, got "
                             f"{init_scale}")
        if not growth_factor > 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1.0, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be in (0, 1), got "
                             f"{backoff_factor}")
        if int(growth_interval) != growth_interval or growth_interval < 1:
            raise ValueError(f"GradScaler: growth_interval must be a positive int, got "
                             f"{growth_interval}")
        self._enabled = bool(enabled)
        self._init_scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._init_growth_tracker = 0
        self._scale = None              # float32 value, set by the first scale()
        self._growth_tracker = None
        self._per_optimizer = {}        # id(optimizer) -> {"stage", "found_inf"}

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_factor(self, new_factor: float) -> None:
        """Use ``new_factor`` as the growth factor from now on (as PyTorch's)."""
        self._growth_factor = float(new_factor)

    def set_backoff_factor(self, new_factor: float) -> None:
        """Use ``new_factor`` as the backoff factor from now on (as PyTorch's)."""
        self._backoff_factor = float(new_factor)

    def set_growth_interval(self, new_interval: int) -> None:
        """Use ``new_interval`` as the growth interval from now on (as PyTorch's)."""
        self._growth_interval = int(new_interval)

    def scale(self, outputs):
        """``outputs`` (a tensor, or a list/tuple of them) times the scale."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = round_to_float32(self._init_scale)
            self._growth_tracker = self._init_growth_tracker
        return self._scaled(outputs)

    def _scaled(self, outputs):
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self._scaled(o) for o in outputs)
        raise TypeError(f"GradScaler.scale takes a tensor or a list/tuple of tensors, got "
                        f"{type(outputs).__name__}")

    def _started(self, method: str) -> None:
        if self._scale is None:
            raise RuntimeError(f"GradScaler.{method}: no scale yet; call "
                               f"scaler.scale(loss).backward() earlier in the iteration")

    def _state_of(self, optimizer) -> dict:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY})

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale, in place, and note whether any has
        inf/NaN. At most once per optimizer between ``update()`` calls, before ``step``."""
        if not self._enabled:
            return
        self._started("unscale_")
        state = self._state_of(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inverse = round_to_float32(1.0 / self._scale)
        state["found_inf"], state["checked"] = _unscale_grads(optimizer, inverse)
        state["stage"] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` unless a gradient has inf/NaN (then nothing; returns None).
        Unscales first unless ``unscale_`` was called this iteration."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._started("step")
        state = self._state_of(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        if not state["checked"]:
            raise RuntimeError("GradScaler.step: no parameter of this optimizer has a "
                               "gradient; call scaler.scale(loss).backward() before step")
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale=None) -> None:
        """Set the scale for the next iteration: ``new_scale`` if given (a number or a
        one-element tensor), else by the inf/NaN found since the last update (class
        docstring)."""
        if not self._enabled:
            return
        self._started("update")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.size != 1 or new_scale.dtype.kind != "f":
                    raise ValueError("GradScaler.update: new_scale must be a number or a "
                                     "one-element float tensor")
                new_scale = new_scale.item()
            self._scale = round_to_float32(new_scale)
        else:
            found = [s["found_inf"] for s in self._per_optimizer.values() if "found_inf" in s]
            if not found:
                raise RuntimeError("GradScaler.update: no inf checks were recorded; call "
                                   "scaler.step(optimizer) (or unscale_) before update()")
            if any(found):
                self._scale = round_to_float32(self._scale * self._backoff_factor)
                self._growth_tracker = 0
            elif self._growth_tracker + 1 == self._growth_interval:
                grown = round_to_float32(self._scale * self._growth_factor)
                if math.isfinite(grown):
                    self._scale = grown
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
        self._per_optimizer = {}

    def state_dict(self) -> dict:
        """scale, growth_factor, backoff_factor, growth_interval, _growth_tracker (PyTorch's
        keys); empty when disabled."""
        if not self._enabled:
            return {}
        tracker = self._init_growth_tracker if self._growth_tracker is None \
            else self._growth_tracker
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict`` saved (a no-op when disabled)."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale = round_to_float32(self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker = self._init_growth_tracker


def _unscale_grads(optimizer, inv_scale: float) -> tuple[bool, int]:
    """Multiply every gradient of ``optimizer`` by ``inv_scale`` in place; returns (whether
    any was inf/NaN before, how many gradients there were). One reduction per gradient and
    one host sync per device."""
    refuse_host_sync("GradScaler (unscale_/step read whether a gradient is inf/NaN)")
    params = [p for group in optimizer.param_groups for p in group["params"]
              if p.grad is not None]
    for p in params:                # all checked before any is changed
        if p.grad.dtype == np.float16:
            raise ValueError(f"GradScaler: a parameter of shape {tuple(p.shape)} has a "
                             f"float16 gradient; keep parameters in float32 (master "
                             f"weights) and let autocast cast them to float16")
    found = {}                      # device -> flag (a 0-d device array on CuPy)
    for p in params:
        g = p.grad
        array = g._array
        bad = ~backend.xp_of(array).isfinite(array).all()
        device = g.device
        found[device] = bad if device not in found else found[device] | bad
        if inv_scale != 1.0:
            array *= inv_scale
            g._version_counter.value += 1
    return any(bool(flag) for flag in found.values()), len(params)
