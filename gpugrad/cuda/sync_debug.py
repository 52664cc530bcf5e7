"""Report the host synchronisations gpugrad makes, as ``torch.cuda.set_sync_debug_mode``.

On a GPU a host synchronisation (reading a value: ``t.item()``, ``t.numpy()``, ``if t:``;
or uploading host data that may wait for the stream: optimizer hyperparameters, tables)
stalls Python until the GPU has caught up, so a training step that makes one each step
cannot keep the GPU busy. gpugrad routes each such point through ``report``; the mode says
what happens there:

- ``"default"`` (0): nothing;
- ``"warn"`` (1): a ``SyncWarning`` naming the point;
- ``"error"`` (2): a ``RuntimeError`` naming the point.

The points are reported on every device, so a step can be checked on a CPU, where they cost
nothing, before it runs on a GPU. Example::

    >>> w = gpugrad.ones(3, requires_grad=True)
    >>> def train_step():
    ...     loss = (w * 2).sum()
    ...     loss.backward()                    # no sync
    ...     return loss.item()                 # reads the loss: a sync
    >>> gpugrad.cuda.set_sync_debug_mode("error")
    >>> train_step()
    Traceback (most recent call last):
    RuntimeError: Tensor.item() (and float(t), int(t), bool(t), if t:) synchronises the host ...
    >>> gpugrad.cuda.set_sync_debug_mode("default")
    >>> train_step()
    6.0
"""

from __future__ import annotations

import warnings

__all__ = ["SyncWarning", "set_sync_debug_mode", "get_sync_debug_mode", "report"]

_MODES = {"default": 0, "warn": 1, "error": 2}
_mode = 0


class SyncWarning(UserWarning):
    """A host synchronisation happened while the sync debug mode is "warn"."""


def set_sync_debug_mode(mode) -> None:
    """Set what a host synchronisation does: "default"/0 nothing, "warn"/1 warn, "error"/2
    raise. Global, as PyTorch's."""
    global _mode
    value = _MODES.get(mode, mode) if isinstance(mode, str) else mode
    if value not in (0, 1, 2) or isinstance(value, bool):
        raise ValueError(f"sync debug mode must be one of 'default', 'warn', 'error' (or 0, "
                         f"1, 2), got {mode!r}")
    _mode = value


def get_sync_debug_mode() -> int:
    """The current mode: 0 (default), 1 (warn) or 2 (error)."""
    return _mode


def report(what: str) -> None:
    """``what`` (a host read or an upload that may wait for the GPU) happens now."""
    if _mode == 0:
        return
    message = (f"{what} synchronises the host with the device; a training step that does "
               f"this every call leaves the GPU waiting on Python")
    if _mode == 1:
        warnings.warn(message, SyncWarning, stacklevel=3)
    else:
        raise RuntimeError(message)
