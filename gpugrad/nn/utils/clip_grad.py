"""Gradient clipping, as ``torch.nn.utils``: by the total norm of all gradients
(``clip_grad_norm_``) or element by element (``clip_grad_value_``).

Both work in place on the gradients' arrays (NumPy or CuPy) and read nothing back to the
host: on a GPU the scale factor ``min(max_norm / (total + 1e-6), 1)`` stays on the device.
Example::

    >>> w = gpugrad.tensor([0.0, 0.0], requires_grad=True)
    >>> w.grad = gpugrad.tensor([6.0, 8.0])
    >>> nn.utils.clip_grad_value_([w], 5.0)             # each element: direction changes
    >>> w.grad
    tensor([5., 5.], device='cpu', dtype=float32)
    >>> w.grad = gpugrad.tensor([6.0, 8.0])
    >>> nn.utils.clip_grad_norm_([w], 5.0)              # all scaled: norm 10 (returned) -> 5
    tensor(10., device='cpu', dtype=float32)
    >>> w.grad                                          # [6, 8] * 5 / (10 + 1e-6)
    tensor([2.9999995, 3.9999995], device='cpu', dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from ... import backend, creation
from ...autograd.capture_mode import refuse_host_sync
from ...autograd.compile_mode import kernel, written
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _tensors(tensors, what: str) -> list:
    if isinstance(tensors, Tensor):
        return [tensors]
    try:
        tensors = list(tensors)
    except TypeError:
        raise TypeError(f"{what} takes a tensor or an iterable of tensors (e.g. "
                        f"model.parameters()), got a {type(tensors).__name__}") from None
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{what} takes tensors, got a {type(t).__name__} in the list")
    return tensors


def _grads(parameters, what: str) -> list:
    """The gradients (tensors) of ``parameters`` that have one."""
    return [p.grad for p in _tensors(parameters, what) if p.grad is not None]


def _vector_norm(array, norm_type: float):
    """The ``norm_type``-norm of all elements of ``array``, as a 0-d array of its dtype on
    its device. A float16 array is summed in float32 and only the norm rounded to float16,
    as PyTorch's: NumPy squares and adds float16 in float16, where 300**2 + 400**2
    overflows to inf (and 1e-4**2 underflows to 0)."""
    xp = backend.xp_of(array)
    if array.size == 0:
        return xp.zeros((), dtype=array.dtype)
    if array.dtype.itemsize >= 4 or array.dtype.kind != "f":
        return xp.asarray(xp.linalg.norm(array.ravel(), ord=norm_type))
    norm = xp.linalg.norm(array.ravel().astype(np.float32), ord=norm_type)
    with np.errstate(over="ignore"):                    # above 65504: inf, as PyTorch's
        return xp.asarray(norm).astype(array.dtype)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The ``norm_type``-norm of all elements of ``tensors`` together (as if concatenated):
    the norm of the per-tensor norms. Shapes: any -> 0-d tensor on the first one's device.

    ``norm_type`` may be ``float("inf")`` (the largest absolute value). With
    ``error_if_nonfinite``, a NaN or infinite norm raises (which reads it on the host).
    ``foreach`` is accepted for PyTorch compatibility; there is one path. Example::

        >>> nn.utils.get_total_norm([gpugrad.tensor([3.0]), gpugrad.tensor([4.0])])
        tensor(5., device='cpu', dtype=float32)
        >>> nn.utils.get_total_norm([gpugrad.tensor([3.0, -7.0])], float("inf"))
        tensor(7., device='cpu', dtype=float32)
    """
    tensors = _tensors(tensors, "get_total_norm")
    return _total_norm(tensors, float(norm_type), error_if_nonfinite)


def _total_norm(tensors: list, norm_type, error_if_nonfinite: bool) -> Tensor:
    """``get_total_norm`` of ``tensors``, a checked list (``_tensors``); ``norm_type`` is
    converted only when there is a tensor (``clip_grad_norm_`` of no gradients is 0)."""
    if not tensors:
        return creation.tensor(0.0)
    norm_type = float(norm_type)
    total = kernel(_norm_of_arrays, [t._array for t in tensors], norm_type)
    xp = backend.xp_of(total)
    if error_if_nonfinite:
        refuse_host_sync("clip_grad_norm_(error_if_nonfinite=True) reading the norm")
        if not bool(xp.isfinite(total)):
            raise RuntimeError(
                f"the total norm of order {norm_type} of the gradients is {float(total)}, "
                f"so they cannot be clipped; find where the NaN/inf first appears "
                f"(gpugrad.autograd.detect_anomaly), lower the learning rate, or pass "
                f"error_if_nonfinite=False to scale by it anyway")
    return Tensor._wrap(total)


def _norm_of_arrays(arrays: list, norm_type: float):
    """The ``norm_type``-norm of the raw ``arrays`` together, a 0-d array on the first's
    device (a line of a compiled step: gpugrad.compile)."""
    first = backend.device_of(arrays[0])
    norms = [backend.to_device(_vector_norm(a, norm_type), first) for a in arrays]
    xp = backend.xp_of(norms[0])
    return _vector_norm(xp.stack(norms), norm_type)    # (mixed dtypes: the promoted one)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale the gradients of ``parameters`` in place by ``min(max_norm / (total_norm +
    1e-6), 1)``, ``total_norm`` from ``get_total_norm`` (a tensor or a number). Example::

        >>> w = gpugrad.tensor([0.0, 0.0], requires_grad=True)
        >>> w.grad = gpugrad.tensor([3.0, 4.0])
        >>> total = nn.utils.get_total_norm([w.grad])
        >>> nn.utils.clip_grads_with_norm_([w], 10.0, total)   # under max_norm: unchanged
        >>> w.grad
        tensor([3., 4.], device='cpu', dtype=float32)
    """
    _scale(_grads(parameters, "clip_grads_with_norm_"), max_norm, total_norm)


def _scale(grads: list, max_norm: float, total_norm) -> None:
    """Multiply each gradient tensor in place by min(max_norm / (total_norm + 1e-6), 1)."""
    if not grads:
        return
    total = total_norm._array if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    written(_scale_arrays, [g._version_counter for g in grads], [g._array for g in grads],
            float(max_norm), total)


def _scale_arrays(arrays: list, max_norm: float, total) -> None:
    """Multiply each raw array in place by min(max_norm / (total + 1e-6), 1)."""
    xp = backend.xp_of(total)
    if total.dtype == np.float16:   # in float32: max_norm above 65504 stays finite there
        total = total.astype(np.float32)    # (inf total -> coefficient 0, as PyTorch's)
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    on_device = {}
    for array in arrays:
        key = (backend.device_of(array), array.dtype)
        if key not in on_device:        # copied once per device and dtype (no host sync)
            on_device[key] = backend.to_device(xp.asarray(coef), key[0]).astype(array.dtype)
        array *= on_device[key]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale all gradients of ``parameters`` (a tensor or an iterable; those without a
    gradient are skipped) in place so that their total ``norm_type``-norm is at most
    ``max_norm``: multiply by ``min(max_norm / (total + 1e-6), 1)``. Returns the total
    norm before clipping, as a 0-d tensor (``norm_type=float("inf")``: the largest
    absolute value). Example::

        >>> w = gpugrad.tensor([0.0, 0.0], requires_grad=True)
        >>> (w * gpugrad.tensor([3.0, 4.0])).sum().backward()     # w.grad = [3, 4]
        >>> nn.utils.clip_grad_norm_(w, max_norm=1.0)
        tensor(5., device='cpu', dtype=float32)
        >>> w.grad                                              # [3, 4] * 1 / (5 + 1e-6)
        tensor([0.5999999 , 0.79999983], device='cpu', dtype=float32)
    """
    grads = _grads(parameters, "clip_grad_norm_")
    total = _total_norm(grads, norm_type, error_if_nonfinite)      # 0 when there are none
    _scale(grads, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient of ``parameters`` (a tensor or an iterable; those without a
    gradient are skipped) into ``[-clip_value, clip_value]``, in place. ``clip_value`` must
    be >= 0 (a negative one is refused). Example::

        >>> w = gpugrad.tensor([0.0, 0.0, 0.0], requires_grad=True)
        >>> w.grad = gpugrad.tensor([-2.0, 0.25, 3.0])
        >>> nn.utils.clip_grad_value_([w], 0.5)
        >>> w.grad
        tensor([-0.5 , 0.25, 0.5 ], device='cpu', dtype=float32)
    """
    clip_value = float(clip_value)
    if math.isnan(clip_value) or clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value is {clip_value}, but gradients are "
                         f"clamped into [-clip_value, clip_value]; pass a number >= 0 (the "
                         f"largest absolute value a gradient element may keep)")
    for g in _grads(parameters, "clip_grad_value_"):
        written(_clip_array, [g._version_counter], g._array, clip_value)


def _clip_array(array, clip_value: float) -> None:
    backend.xp_of(array).clip(array, -clip_value, clip_value, out=array)
