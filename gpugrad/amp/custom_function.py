"""``custom_fwd`` / ``custom_bwd``: autocast for the forward and backward of a custom
``Function``, as PyTorch's ``torch.amp.custom_fwd`` / ``custom_bwd``.

``@custom_fwd(device_type=...)`` on ``forward`` notes whether autocast was on when it ran;
``@custom_bwd(device_type=...)`` on ``backward`` runs it under that same autocast state (the
backward pass otherwise runs outside the autocast block). With ``cast_inputs=dtype``, inside
an enabled autocast the floating-point tensor arguments are cast to ``dtype`` and
``forward`` runs with autocast off (so it sees the dtype it asked for).

Example (a forward that wants float32 inputs, inside a float16 region)::

    >>> from gpugrad.amp import autocast, custom_bwd, custom_fwd
    >>> class Square(gpugrad.autograd.Function):
    ...     @staticmethod
    ...     @custom_fwd(device_type="cpu", cast_inputs=gpugrad.float32)
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     @custom_bwd(device_type="cpu")
    ...     def backward(ctx, g):
    ...         x, = ctx.saved_tensors
    ...         return 2 * x * g
    >>> x = gpugrad.tensor([3.0], dtype="float16", requires_grad=True)
    >>> with autocast("cpu", dtype="float16"):
    ...     y = Square.apply(x)
    >>> print(y.dtype); y.sum().backward(); print(x.grad)
    float32
    tensor([6.], device='cpu', dtype=float16)
"""

from __future__ import annotations

import functools

from ..autograd.autocast_mode import (_check_device_type, autocast, get_autocast_dtype,
                                      is_autocast_enabled)
from ..backend import is_cuda_usable
from ..tensor import Tensor

__all__ = ["custom_fwd", "custom_bwd"]


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorate a custom Function's ``forward`` (module docstring). ``device_type``: "cpu"
    or "cuda", as PyTorch requires; ``cast_inputs``: a dtype (or None, to run ``forward``
    under the autocast state as it is)."""
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    device_type = device_type.split(":")[0]

    @functools.wraps(fwd)
    def forward(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        autocasting = is_autocast_enabled(device_type)
        ctx._fwd_used_autocast = False
        if not autocasting:
            return fwd(*args, **kwargs)
        dtype = cast_inputs
        with autocast(device_type, enabled=False):
            return fwd(*_cast(args, dtype, device_type), **_cast(kwargs, dtype, device_type))
    return forward


def custom_bwd(bwd=None, *, device_type: str):
    """Decorate a custom Function's ``backward``: it runs under the autocast state its
    ``forward`` (decorated with ``custom_fwd``) ran under (module docstring)."""
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    device_type = device_type.split(":")[0]

    @functools.wraps(bwd)
    def backward(*args, **kwargs):
        ctx = args[0]
        used = getattr(ctx, "_fwd_used_autocast", None)
        if used is None:
            raise RuntimeError("custom_bwd: the Function's forward was not decorated with "
                               "custom_fwd; decorate both, with the same device_type")
        # (forward autocast on "cuda" without CUDA: an older device-less autocast("float16")
        # region; backward re-enters one, not autocast("cuda"), which would warn and turn off)
        where = None if used and device_type == "cuda" and not is_cuda_usable() else device_type
        with autocast(where, dtype=ctx._dtype, enabled=used):
            return bwd(*args, **kwargs)
    return backward


def _cast(value, dtype, device_type: str):
    """The float16/32 tensors on ``device_type`` in ``value`` (nested lists, tuples, dicts)
    cast to ``dtype``, as PyTorch's (float64 ones are left alone)."""
    if isinstance(value, Tensor):
        eligible = (value.is_floating_point() and value.dtype != "float64"
                    and str(value.device).split(":")[0] == device_type)
        return value.to(dtype) if eligible else value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, dtype, device_type) for v in value)
    if isinstance(value, dict):
        return {k: _cast(v, dtype, device_type) for k, v in value.items()}
    return value
