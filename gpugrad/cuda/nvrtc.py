"""Compile gpugrad's CUDA sources with NVRTC on a machine without a GPU (the CI check).

NVRTC, the run-time compiler CuPy uses, needs no GPU and no driver; here it is called through
``ctypes`` from the ``nvidia-cuda-nvrtc`` wheel (or a CUDA toolkit), so the check needs no
CuPy either. ``compile_cubin`` returns the binary, NVRTC's log and the mangled symbol of each
name expression it was given (``relu_bwd<float>``: nvrtcAddNameExpression before the compile
instantiates the template, nvrtcGetLoweredName after it names the symbol), as
``cupy.RawModule(name_expressions=...)`` does at run time. A failed compile, or a name that
does not lower, raises ``NvrtcError`` with the log.

Example::

    >>> from gpugrad.cuda import nvrtc, sources
    >>> cubin, log, lowered = nvrtc.compile_cubin(
    ...     sources.source("relu.cu"), "relu.cu", "sm_90", sources.COMPILE_OPTIONS,
    ...     name_expressions=["relu_bwd<float>"])
    >>> cubin[:4], lowered                  # an ELF binary for the GPU; the mangled name
    (b'\\x7fELF', {'relu_bwd<float>': '_Z8relu_bwdIfEvPKT_S2_PS0_x'})
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import sys
from typing import NamedTuple

__all__ = ["NvrtcError", "Compiled", "library_path", "version", "compile_cubin"]


class NvrtcError(RuntimeError):
    """NVRTC is missing, or it rejected a program (the message carries its log)."""


class Compiled(NamedTuple):
    """What ``compile_cubin`` returns."""
    cubin: bytes                    # the ELF binary for the GPU
    log: str                        # NVRTC's diagnostics, empty when it had nothing to say
    lowered: dict                   # name expression -> its mangled symbol in the cubin


def _candidates() -> list[str]:
    found = []
    for root in sys.path:
        for pattern in ("nvidia/cu*/lib/libnvrtc.so.*", "nvidia/cuda_nvrtc/lib/libnvrtc.so.*"):
            found += sorted(glob.glob(os.path.join(root, pattern)), reverse=True)
    found = [f for f in found if "builtins" not in os.path.basename(f)]
    cuda_home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH") or "/usr/local/cuda"
    found += sorted(glob.glob(os.path.join(cuda_home, "lib64", "libnvrtc.so*")), reverse=True)
    system = ctypes.util.find_library("nvrtc")
    return found + ([system] if system else [])


def library_path() -> str:
    """The libnvrtc that ``compile_cubin`` uses; NvrtcError when there is none."""
    for path in _candidates():
        try:
            ctypes.CDLL(path)
        except OSError:
            continue
        return path
    raise NvrtcError("NVRTC was not found: pip install nvidia-cuda-nvrtc (no GPU needed), or "
                     "install a CUDA toolkit and set CUDA_HOME")


_lib = None


def _library():
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(library_path())
        lib.nvrtcGetErrorString.restype = ctypes.c_char_p
        _lib = lib
    return _lib


def _check(status: int, what: str) -> None:
    if status != 0:
        message = _library().nvrtcGetErrorString(status).decode()
        raise NvrtcError(f"{what} failed: {message}")


def version() -> tuple[int, int]:
    """NVRTC's (major, minor) version."""
    major, minor = ctypes.c_int(), ctypes.c_int()
    _check(_library().nvrtcVersion(ctypes.byref(major), ctypes.byref(minor)), "nvrtcVersion")
    return major.value, minor.value


def compile_cubin(text: str, name: str, arch: str, options=(),
                  name_expressions=()) -> Compiled:
    """Compile CUDA C++ ``text`` for ``arch`` (``"sm_80"``, ``"sm_90"``...) -> Compiled
    (cubin, log, lowered), instantiating each of ``name_expressions`` (C++ names of kernels,
    ``"relu_bwd<float>"``) and mapping it to its mangled symbol in ``lowered``.

    Raises NvrtcError with the log when the program does not compile, which includes a name
    expression that names no kernel of ``text``.
    """
    lib = _library()
    program = ctypes.c_void_p()
    _check(lib.nvrtcCreateProgram(ctypes.byref(program), text.encode(), name.encode(), 0,
                                  None, None), "nvrtcCreateProgram")
    try:
        for expression in name_expressions:
            _check(lib.nvrtcAddNameExpression(program, expression.encode()),
                   f"nvrtcAddNameExpression({expression!r})")
        flags = [f"-arch={arch}", *options]
        argv = (ctypes.c_char_p * len(flags))(*[f.encode() for f in flags])
        status = lib.nvrtcCompileProgram(program, len(flags), argv)
        size = ctypes.c_size_t()
        _check(lib.nvrtcGetProgramLogSize(program, ctypes.byref(size)), "nvrtcGetProgramLogSize")
        buffer = ctypes.create_string_buffer(size.value)
        _check(lib.nvrtcGetProgramLog(program, buffer), "nvrtcGetProgramLog")
        log = buffer.value.decode(errors="replace").strip()
        if status != 0:
            raise NvrtcError(f"NVRTC could not compile {name} for {arch} "
                             f"(options {' '.join(flags)}):\n{log}")
        lowered = {}
        for expression in name_expressions:
            symbol = ctypes.c_char_p()
            _check(lib.nvrtcGetLoweredName(program, expression.encode(), ctypes.byref(symbol)),
                   f"nvrtcGetLoweredName({expression!r}) for {name}")
            lowered[expression] = symbol.value.decode()
        _check(lib.nvrtcGetCUBINSize(program, ctypes.byref(size)), "nvrtcGetCUBINSize")
        cubin = ctypes.create_string_buffer(size.value)
        _check(lib.nvrtcGetCUBIN(program, cubin), "nvrtcGetCUBIN")
        return Compiled(cubin.raw, log, lowered)
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(program))
