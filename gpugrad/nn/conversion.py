"""How ``Module.to`` (and ``.double()``, ``.cuda()`` ...) moves and casts a model's tensors,
as PyTorch's ``Module._apply`` does: each parameter is changed in place (the same object, so
an optimizer made earlier still holds it) and its gradient is moved and cast with it; each
buffer is replaced by a moved tensor; floating-point tensors take the new dtype, others keep
theirs.

Example::

    >>> model = nn.Linear(2, 1)
    >>> model(gpugrad.ones(3, 2)).sum().backward()     # weight.grad = [[3, 3]]
    >>> weight = model.weight
    >>> model.to(gpugrad.float64).weight is weight      # the same Parameter, now float64
    True
    >>> weight.dtype, weight.grad
    (dtype('float64'), tensor([[3., 3.]], device='cpu', dtype=float64))
"""

from __future__ import annotations

from .. import backend, dtypes
from ..tensor import Tensor
from .parameter import is_lazy

__all__: list = []


def _target_and_dtype(device, dtype):
    """``Module.to``'s arguments as (Device or None, NumPy dtype or None); a dtype may come
    alone in the first place (``model.to(gpugrad.float64)``), as in PyTorch."""
    if dtype is None and device is not None and not backend.names_a_device(device):
        device, dtype = None, device
    target = None if device is None else backend.Device(device)
    dtype = dtypes.as_dtype(dtype)
    if dtype is not None and dtype.kind not in "fc":
        raise TypeError(f"Module.to casts to floating-point dtypes only, got {dtype}; "
                        f"cast integer tensors one by one with tensor.to(dtype)")
    return target, dtype


def _convert_module(module, target, dtype) -> None:
    """Move every parameter (with its gradient) and buffer of ``module`` to ``target`` and
    cast the floating ones to ``dtype`` (None: keep the device or dtype)."""
    for param in module.parameters():
        if is_lazy(param):              # (no values yet: only its device and dtype)
            param._convert(target, dtype)
            continue
        _convert_in_place(param, target, dtype)
        if param.grad is not None:
            _convert_in_place(param.grad, target, dtype)
    for owner in module.modules():
        for name, buffer in owner._buffers.items():
            if buffer is None:
                continue
            array = _converted(buffer._array, target, dtype)
            if array is not buffer._array:
                moved = Tensor._wrap(array)
                if buffer.requires_grad and buffer.is_leaf:
                    moved.requires_grad_(True)
                setattr(owner, name, moved)     # Module.__setattr__ updates _buffers


def _convert_in_place(tensor: Tensor, target, dtype) -> None:
    """Swap ``tensor``'s array for the moved and cast one, as PyTorch's ``t.data = ...``."""
    array = _converted(tensor._array, target, dtype)
    if array is not tensor._array:
        tensor._array = array
        tensor._version_counter.value += 1


def _converted(array, target, dtype):
    """``array`` on ``target`` with floating values cast to ``dtype`` (itself if no change)."""
    if dtype is not None and array.dtype.kind in "fc" and array.dtype != dtype:
        array = array.astype(dtype)
    if target is not None:
        array = backend.to_device(array, target)
    return array


# ---------------------------------------------------------------------------------------------
# Module's methods (module.py binds them)
# ---------------------------------------------------------------------------------------------


def module_to(self, device=None, dtype=None, non_blocking: bool = False, *,
              memory_format=None, copy: bool = False):
    """Move every parameter, gradient and buffer to ``device`` and cast the floating
    ones to ``dtype`` (integer buffers keep theirs, as in PyTorch); returns self.
    Parameters stay the same objects (so an optimizer made earlier still holds them),
    changed in place with their gradients; a moved buffer is a new tensor (see
    ``gpugrad.nn.conversion``). ``model.to("cuda")``, ``model.to(gpugrad.float64)``,
    ``model.to("cpu", "float64")``. ``non_blocking``, ``memory_format`` and ``copy``
    are taken for PyTorch code and change nothing (copies are synchronous here)."""
    if isinstance(dtype, bool):                 # to(dtype, non_blocking), positionally
        dtype = None
    _convert_module(self, *_target_and_dtype(device, dtype))
    return self


def module_type(self, dst_type):
    """``self.to(dst_type)``: floating parameters and buffers cast (PyTorch's
    ``Module.type``; integer buffers keep their dtype here)."""
    return self.to(dtype=dst_type)


def module_bfloat16(self):
    """``self.to("bfloat16")``: refused, NumPy has no bfloat16 (use autocast)."""
    return self.to(dtype="bfloat16")


def module_to_empty(self, *, device, recurse: bool = True):
    """``self.to(device)`` (PyTorch leaves the values uninitialised; here they are kept,
    which is one valid content of "empty"); ``recurse`` must be True."""
    if not recurse:
        raise NotImplementedError("to_empty(recurse=False) is not supported: move the "
                                  "whole module")
    return self.to(device)


def module_share_memory(self):
    """Returns self (PyTorch moves tensors to shared memory for multiprocessing; gpugrad
    does not, so each process holds a copy)."""
    return self
