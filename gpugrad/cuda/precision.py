"""How float32 matrix products run on a GPU, in PyTorch's words:

- ``"highest"`` (the default): full float32 arithmetic, the same answers as the CPU up to
  rounding order;
- ``"high"``: TF32 tensor cores (inputs rounded to a 10-bit mantissa, float32 accumulation;
  several times the float32 throughput on Ampere and Hopper, relative error ~1e-3);
- ``"medium"``: bfloat16 tensor cores (an 8-bit mantissa).

It is CuPy's compute type for float32 GEMMs (``cupy._core.set_compute_type``), set for the
whole process: ``matmul``, ``linear`` and the cuBLAS route of the linear+relu backward
follow it; the masked RawKernel GEMMs and the in-place ``.grad`` accumulation (cuBLAS
``sgemm``) stay float32. NumPy has no such modes: on CPU the setting is recorded and has
no effect.

Example::

    >>> gpugrad.set_matmul_precision("high")     # TF32 for float32 matmuls on the GPU
    >>> gpugrad.get_matmul_precision()
    'high'
    >>> gpugrad.set_matmul_precision("highest")  # the default again
"""

from __future__ import annotations

from .. import backend, cupy_import

__all__ = ["set_matmul_precision", "get_matmul_precision"]

# CuPy's COMPUTE_TYPE_* values (cupy/_core/_routines_linalg.pxd)
_COMPUTE_TYPES = {"highest": 1, "high": 7, "medium": 6}
_precision = "highest"


def set_matmul_precision(precision: str) -> None:
    """Set how float32 matmuls run on CUDA: "highest", "high" (TF32) or "medium" (BF16)."""
    global _precision
    if precision not in _COMPUTE_TYPES:
        raise ValueError(f"matmul precision must be one of {sorted(_COMPUTE_TYPES)} "
                         f"(as torch.set_float32_matmul_precision), got {precision!r}")
    if backend.is_cuda_usable():
        import numpy as np
        cupy_import.require_cupy()._core.set_compute_type(np.float32, _COMPUTE_TYPES[precision])
    _precision = precision


def get_matmul_precision() -> str:
    """The current float32 matmul precision ("highest" unless set)."""
    return _precision
