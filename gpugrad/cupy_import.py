"""The CuPy import: lazy, checked once, and the one way the rest of gpugrad gets ``cupy``.

CuPy is imported the first time a CUDA device is asked for, never at ``import gpugrad``, so
gpugrad works on machines without it. ``cuda_status()`` says whether CUDA is usable here and,
if not, why and how to fix it; ``require_cupy()`` returns the ``cupy`` module or raises
``CudaUnavailableError`` with that reason. Code that needs CuPy calls
``cupy_import.require_cupy()`` through the module, so a test can swap it in one place.

This module imports nothing from gpugrad: ``backend.py`` (devices and array modules) and
``cuda/`` stand on it. The device errors live here because ``require_cupy`` raises one;
``gpugrad.backend`` and ``gpugrad`` re-export them.

Example::

    >>> from gpugrad import cupy_import
    >>> usable, reason = cupy_import.cuda_status()
    >>> usable == cupy_import.is_cuda_usable(), isinstance(reason, str)
    (True, True)
"""

from __future__ import annotations

__all__ = ["DeviceError", "CudaUnavailableError", "cuda_status", "is_cuda_usable",
           "require_cupy"]


class DeviceError(RuntimeError):
    """Tensors on different devices met in one op, or a device string was malformed."""


class CudaUnavailableError(DeviceError):
    """A CUDA device was asked for but CuPy or a GPU is not usable on this machine."""


_cupy = None            # the cupy module once CUDA has been found usable
_cuda_status = None     # cached (usable: bool, reason: str)
_only_gpu_array = None  # cupy.ndarray where this process sees exactly one GPU


def _import_cupy():
    """Import CuPy, or return the ImportError that stopped it."""
    try:
        import cupy
    except Exception as exc:  # ImportError, or a broken install raising something else
        return None, exc
    return cupy, None


def cuda_status() -> tuple[bool, str]:
    """Whether CUDA is usable here and, if not, why (with the fix), checked once and cached.

    "Usable" means CuPy imports AND ``cupy.cuda.is_available()`` is true: CuPy imports fine on
    machines with no driver, so importability alone is not enough.

    Example::

        >>> usable, reason = gpugrad.backend.cuda_status()
        >>> usable == gpugrad.is_cuda_usable(), isinstance(reason, str)
        (True, True)
    """
    global _cuda_status, _cupy, _only_gpu_array
    if _cuda_status is not None:
        return _cuda_status
    cupy, error = _import_cupy()
    if cupy is None:
        _cuda_status = (False, (
            f"CuPy is not installed ({type(error).__name__}: {error}). Install the extra that "
            "matches your CUDA driver: pip install 'gpugrad[cuda12]' or 'gpugrad[cuda13]'. "
            "Or use device='cpu'."))
        return _cuda_status
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        usable = count > 0 and bool(cupy.cuda.is_available())
        detail = f"CUDA reports {count} devices"
    except Exception as exc:  # CUDARuntimeError: no driver, insufficient driver, no device
        usable, detail = False, f"{type(exc).__name__}: {exc}"
    if usable:
        _cupy = cupy
        _only_gpu_array = cupy.ndarray if count == 1 else None
        _cuda_status = (True, f"CuPy {cupy.__version__}, {detail}")
    else:
        _only_gpu_array = None
        _cuda_status = (False, (
            f"CuPy {cupy.__version__} is installed but no GPU is usable ({detail}). Check that "
            "this machine has an NVIDIA GPU and a driver recent enough for this CuPy build "
            "(nvidia-smi should list the GPU), or use device='cpu'."))
    return _cuda_status


def is_cuda_usable() -> bool:
    """True when CuPy imports and a GPU with a working driver is present.

    Example::

        >>> gpugrad.is_cuda_usable() in (True, False)
        True
    """
    return cuda_status()[0]


def only_gpu_array_type():
    """``cupy.ndarray`` where CUDA is usable and this process sees exactly one GPU, else
    None: with one GPU every CuPy array lives on it, and it is always the current device,
    so an op on such arrays has no device to check or switch to."""
    return _only_gpu_array


def require_cupy():
    """The ``cupy`` module, imported on first use; raises ``CudaUnavailableError`` saying why
    CUDA is not usable here and what to do (install the CuPy extra for the driver, check the
    GPU with nvidia-smi, or use device='cpu').

    Example (the same lines run with and without a GPU)::

        >>> from gpugrad import cupy_import
        >>> try:
        ...     xp = cupy_import.require_cupy()        # cupy, where CUDA is usable
        ... except cupy_import.CudaUnavailableError as error:
        ...     assert "CUDA was asked for but is not usable" in str(error)
        ...     xp = np
        >>> xp.zeros(2).shape
        (2,)
    """
    if _cupy is None:
        usable, reason = cuda_status()
        if not usable:
            raise CudaUnavailableError(f"CUDA was asked for but is not usable: {reason}")
    return _cupy
