"""Compile the ``.cu`` files into CuPy modules on first use, once per file and GPU.

Nothing is compiled at import: the first launch of a kernel builds its file's
``cupy.RawModule`` for that device, handing it every name expression of the file
(``sources.defined_kernels``), so NVRTC instantiates each template once and CuPy maps the
name to its mangled symbol; later launches in the process reuse it, and later processes
CuPy's on-disk kernel cache (CuPy >= 14.1, which gpugrad's extras ask for: older releases
compile such modules again in each new process; kernels/README.md).
Example (it needs CuPy and a GPU, so CI skips it)::

    >>> from gpugrad.cuda.loader import function
    >>> fn = function("relu_bwd<float>", device_id=0)     # compiles relu.cu  # doctest: +SKIP
    >>> type(fn).__name__, fn is function("relu_bwd<float>", device_id=0)   # doctest: +SKIP
    ('RawKernel', True)
"""

from __future__ import annotations

from .. import cupy_import
from . import sources

__all__ = ["function", "multiprocessors", "clear"]

_modules: dict = {}         # (device id, file) -> cupy.RawModule
_functions: dict = {}       # (device id, kernel name) -> cupy RawKernel
_sm_counts: dict = {}       # device id -> number of streaming multiprocessors


def function(name: str, device_id: int):
    """The compiled kernel ``name`` (a name expression, ``relu_bwd<float>``) on GPU
    ``device_id`` (built on first use)."""
    key = (device_id, name)
    kernel = _functions.get(key)
    if kernel is None:
        cupy = cupy_import.require_cupy()
        file = sources.file_of(name)
        with cupy.cuda.Device(device_id):
            module = _modules.get((device_id, file))
            if module is None:
                module = cupy.RawModule(code=sources.source(file),
                                        options=sources.COMPILE_OPTIONS, backend="nvrtc",
                                        name_expressions=sources.defined_kernels(file))
                _modules[(device_id, file)] = module
            kernel = module.get_function(name)
        _functions[key] = kernel
    return kernel


def multiprocessors(device_id: int) -> int:
    """How many SMs GPU ``device_id`` has (sizes the grids of grid-stride kernels)."""
    count = _sm_counts.get(device_id)
    if count is None:
        cupy = cupy_import.require_cupy()
        count = cupy.cuda.Device(device_id).attributes["MultiProcessorCount"]
        _sm_counts[device_id] = count
    return count


def clear() -> None:
    """Forget every compiled module (the next launch compiles again)."""
    _modules.clear()
    _functions.clear()
