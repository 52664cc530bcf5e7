"""Compile gpugrad's CUDA sources with NVRTC on a machine without a GPU (the CI check).

NVRTC, the run-time compiler CuPy uses, needs no GPU and no driver; here it is called through
``ctypes`` from the ``nvidia-cuda-nvrtc`` wheel (or a CUDA toolkit), so the check needs no
CuPy either. ``compile_cubin`` returns the binary and NVRTC's log; a failed compile raises
``NvrtcError`` with the log.

Example::

    >>> from gpugrad.cuda import nvrtc, sources
    >>> cubin, log = nvrtc.compile_cubin(sources.source("relu.cu"), "relu.cu", "sm_90")
    >>> cubin[:4]                    # an ELF binary for the GPU
    b'\\x7fELF'
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import sys

__all__ = ["NvrtcError", "library_path", "version", "compile_cubin"]


class NvrtcError(RuntimeError):
    """NVRTC is missing, or it rejected a program (the message carries its log)."""


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


def compile_cubin(text: str, name: str, arch: str, options=()) -> tuple[bytes, str]:
    """Compile CUDA C++ ``text`` for ``arch`` (``"sm_80"``, ``"sm_90"``...) -> (cubin, log).

    ``log`` is NVRTC's diagnostics (warnings included), empty when it had nothing to say.
    Raises NvrtcError with the log when the program does not compile.
    """
    lib = _library()
    program = ctypes.c_void_p()
    _check(lib.nvrtcCreateProgram(ctypes.byref(program), text.encode(), name.encode(), 0,
                                  None, None), "nvrtcCreateProgram")
    try:
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
        _check(lib.nvrtcGetCUBINSize(program, ctypes.byref(size)), "nvrtcGetCUBINSize")
        cubin = ctypes.create_string_buffer(size.value)
        _check(lib.nvrtcGetCUBIN(program, cubin), "nvrtcGetCUBIN")
        return cubin.raw, log
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(program))
