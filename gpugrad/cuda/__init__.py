"""gpugrad's CUDA kernels: the switch that turns them on and off, and the routes.

The fused kernels (``kernels/*.cu``: relu, the linear+relu block's backward, softmax
cross-entropy, MSE backward) run on CUDA tensors when ``fused_enabled()``; on NumPy, and
on CUDA when they are off, every op runs its reference path, the same function in array
code. ``GPUGRAD_FUSED=0`` in the environment turns them off from the start (for A/B checks);
``set_fused`` changes it at run time. Nothing here imports CuPy until a kernel is launched.

Example::

    >>> import gpugrad.cuda
    >>> previous = gpugrad.cuda.set_fused(False)      # reference paths everywhere
    >>> gpugrad.cuda.fused_enabled()
    False
    >>> _ = gpugrad.cuda.set_fused(previous)          # put the setting back
"""

from __future__ import annotations

import os

from .. import backend
from .precision import get_matmul_precision, set_matmul_precision
from .sync_debug import SyncWarning, get_sync_debug_mode, set_sync_debug_mode

# graph, CapturedStep, CaptureError, is_step_capturing (and its older name is_capturing) are
# the whole-step capture's public names here, as PyTorch's torch.cuda.graphs; the capture
# sits above the optimizers (gpugrad/graphs.py), so gpugrad/__init__.py attaches them.
__all__ = ["is_available", "device_count", "fused_enabled", "set_fused",
           "linear_backward_route", "set_linear_route", "LINEAR_BACKWARD_ROUTES",
           "ROUTES_MEASURED_ON", "graph", "CapturedStep", "CaptureError", "NeedsEagerStep",
           "is_step_capturing", "is_capturing", "set_matmul_precision", "get_matmul_precision",
           "set_sync_debug_mode",
           "get_sync_debug_mode", "SyncWarning"]

_OFF = ("0", "false", "no", "off")
_fused = os.environ.get("GPUGRAD_FUSED", "1").strip().lower() not in _OFF


def is_available() -> bool:
    """True when CuPy imports and a GPU with a working driver is present (as PyTorch's
    ``torch.cuda.is_available()``); ``gpugrad.backend.cuda_status()`` says why not.

    Example::

        >>> device = "cuda" if gpugrad.cuda.is_available() else "cpu"
        >>> gpugrad.zeros(2, device=device).device == device
        True
    """
    return backend.is_cuda_usable()


def device_count() -> int:
    """How many GPUs gpugrad can use here (0 where CUDA is not usable)."""
    return backend.cuda_device_count() if backend.is_cuda_usable() else 0


def fused_enabled() -> bool:
    """Whether CUDA tensors use the fused kernels (True unless GPUGRAD_FUSED=0)."""
    return _fused


def set_fused(enabled: bool) -> bool:
    """Turn the fused kernels on or off for CUDA tensors; returns the previous setting."""
    global _fused
    previous, _fused = _fused, bool(enabled)
    return previous


# The MLP block's backward (kernels/linear.cu) has two routes: "cublas" (one fused pass for
# the relu mask and the bias gradient, then two cuBLAS GEMMs) and "rawkernel" (masked GEMMs
# that apply the relu mask while loading, so the masked gradient is never written). Which is
# faster depends on the shape, the dtype and the card, so it is read from measurements:
# rows of (dtype, largest rows*outs*ins, route), the first match wins, else "cublas".
# Measured on an H100 (benchmarks/results/gpu_kernels_NVIDIA-H100-80GB-HBM3_2026-12-05_*.md):
# cuBLAS is 1.7-2.9x faster from 256x1024x1024 up, in float32 and float64; at 32x64x64 the
# masked GEMMs took 84.6 us against 89.4 (both host-bound, within the run's spread). So no
# row: cuBLAS everywhere.
ROUTES_MEASURED_ON = "NVIDIA H100 80GB HBM3, 2026-12-05"
LINEAR_BACKWARD_ROUTES: tuple = ()

_ROUTES = ("auto", "cublas", "rawkernel")
_route = None                   # read from GPUGRAD_LINEAR_ROUTE on first use


def _current_route() -> str:
    global _route
    if _route is None:
        route = os.environ.get("GPUGRAD_LINEAR_ROUTE", "auto").strip().lower()
        if route not in _ROUTES:
            raise ValueError(f"GPUGRAD_LINEAR_ROUTE must be one of {_ROUTES}, got {route!r}")
        _route = route
    return _route


def set_linear_route(route: str) -> str:
    """Force the MLP block's backward route ("cublas" or "rawkernel") or let the measured
    table choose ("auto", the default); returns the previous setting.

    Example::

        >>> previous = gpugrad.cuda.set_linear_route("rawkernel")
        >>> gpugrad.cuda.linear_backward_route(64, 32, 16, "float32")
        'rawkernel'
        >>> _ = gpugrad.cuda.set_linear_route(previous)   # put the setting back
    """
    global _route
    if route not in _ROUTES:
        raise ValueError(f"route must be one of {_ROUTES}, got {route!r}")
    previous, _route = _current_route(), route
    return previous


def linear_backward_route(rows: int, outs: int, ins: int, dtype) -> str:
    """"cublas" or "rawkernel" for the block backward of x (rows, ins) -> y (rows, outs)."""
    route = _current_route()
    if route != "auto":
        return route
    work = rows * outs * ins
    for table_dtype, largest, route in LINEAR_BACKWARD_ROUTES:
        if table_dtype == str(dtype) and work <= largest:
            return route
    return "cublas"
