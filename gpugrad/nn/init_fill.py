"""The plumbing of ``nn.init`` (init.py): fans as PyTorch computes them for a weight of shape
(out, in, *kernel), the dtype values are drawn in, the refusal of integer tensors, uniform and
normal draws from gpugrad's generator, and the in-place write (``_fill``, under no_grad, so a
Parameter stays a leaf).

Example::

    >>> from gpugrad.nn.init_fill import _fans
    >>> _fans(gpugrad.empty(64, 32, 3, 3))              # (fan_in, fan_out)
    (288, 576)
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend, random
from ..autograd.mode import no_grad
from ..tensor import Tensor


def _fans(tensor: Tensor) -> tuple:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel) (PyTorch's
    ``_calculate_fan_in_and_fan_out``, which ``reset_parameters`` copies call). Example::

        >>> nn.init._calculate_fan_in_and_fan_out(gpugrad.empty(64, 32, 3, 3))
        (288, 576)
    """
    if tensor.ndim < 2:
        raise ValueError(f"Fan in and fan out can not be computed for tensor with fewer than "
                         f"2 dimensions (got shape {tuple(tensor.shape)})")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    """The fan of ``mode`` ("fan_in" or "fan_out"), as PyTorch's ``_calculate_correct_fan``."""
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _fans(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _draw_dtype(tensor: Tensor):
    """The dtype the values are computed in (a float16 tensor's in float32, cast by _fill)."""
    return np.float64 if tensor.dtype == np.float64 else np.float32


def _check_floating(tensor: Tensor, name: str) -> None:
    """Refuse to draw random values into an integer or bool tensor, as PyTorch does (a draw
    in [0, 1) cast to int64 would silently fill zeros)."""
    if isinstance(tensor, Tensor) and tensor.dtype.kind in "biu":
        raise NotImplementedError(f"nn.init.{name}: cannot fill a {tensor.dtype} tensor with "
                                  f"random values; initialise a floating-point tensor (e.g. "
                                  f"dtype=gpugrad.float32), or use constant_/zeros_ for "
                                  f"integers")


def _uniform_array(tensor: Tensor, low: float, high: float, generator, name: str):
    _check_floating(tensor, name)
    # a float16 tensor draws on float16's grid below 1 (random.uniform_array), as PyTorch
    drawn = np.float16 if tensor.dtype == np.float16 else _draw_dtype(tensor)
    u = random.uniform_array(tuple(tensor.shape), drawn, tensor.device, generator)
    return u.astype(_draw_dtype(tensor), copy=False) * (high - low) + low


def _normal_array(tensor: Tensor, mean: float, std: float, generator, name: str):
    _check_floating(tensor, name)
    z = random.normal_array(tuple(tensor.shape), _draw_dtype(tensor), tensor.device,
                            generator)
    return z * std + mean


def _fill(tensor: Tensor, array) -> Tensor:
    """Write ``array`` (on the tensor's device) into ``tensor`` in place; return it."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init fills a gpugrad Tensor, got a {type(tensor).__name__}")
    array = backend.to_device(array, tensor.device).astype(tensor.dtype, copy=False)
    with no_grad():
        tensor.copy_(Tensor._wrap(array))
    return tensor
