"""An emulated GPU for gpugrad's kernels: gpugrad/cuda/launch.py's launchers, unchanged, run
the real kernels/*.cu on the CPU, thread by thread, on NumPy arrays (tests only).

``EmulatedDevice`` is the object ``launch.using_device`` takes in place of the CuPy device:
its arrays are NumPy arrays, its launches run the kernels through the libraries
tests/kernel_build.py builds (blocks one after another, a block's threads as fibers:
kernels/testing/threads.h), and it reports ``multiprocessors`` SMs, so launch.py's grid
choices are the ones under test. Memory is checked as a CPU allows: every array it
allocates is filled with 0xFF bytes (NaN in float32 and float64), lies 256-byte aligned as
cudaMalloc's do, and is fenced by 512 bytes on each side, checked after every launch. A
fence holds a NaN pattern of its own (bytes t0 t1 FF FF, t the allocation's tag): an element
read past an array is NaN, and one copied from another array's fence still shows. Under
AddressSanitizer (``sanitize=True`` in a process that preloads libasan) the fences are
poisoned for ASan too, so even a read of them stops the run. Example::

    >>> device = EmulatedDevice()
    >>> with launch.using_device(device):
    ...     y = launch.relu_forward(device.array(np.float32([-1.0, 2.0])))
"""

from __future__ import annotations

import ctypes
import math
import os
import weakref
from pathlib import Path

import numpy as np

from gpugrad.cuda import sources

from kernel_build import KernelError, build, kernel_folder

__all__ = ["EmulatedDevice", "KernelError", "TIME_LIMIT", "FENCE", "ALIGN"]

TIME_LIMIT = float(os.environ.get("GPUGRAD_EMU_TIME_LIMIT", "60"))     # seconds per launch
FENCE = 512                 # poisoned bytes before and after every allocation
ALIGN = 256                 # cudaMalloc's alignment
POISON = 0xFF
_MAX_BLOCK = (1024, 1024, 64)
_MAX_GRID = (2**31 - 1, 65535, 65535)


def _asan():
    """AddressSanitizer's manual poisoning, when libasan is loaded into this process."""
    library = ctypes.CDLL(None)
    poison = getattr(library, "__asan_poison_memory_region", None)
    if poison is not None:
        poison.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    return poison


class EmulatedDevice:
    """launch.py's ``Device`` on the CPU (see the module docstring).

    multiprocessors: the SM count launch.py sizes grid-stride grids by (0 makes every such
    grid one block, so the loops take many turns); folder: the .cu files (default
    ``kernel_folder()``); sanitize: build with ASan and UBSan; time_limit: seconds a launch
    may run before it is stopped as an endless loop."""

    arrays = "a NumPy array (the emulated GPU)"
    module = "numpy"

    def __init__(self, multiprocessors: int = 2, folder=None, sanitize: bool = False,
                 time_limit: float = TIME_LIMIT):
        self.sm = multiprocessors
        self.folder = Path(folder) if folder else kernel_folder()
        self.sanitize, self.time_limit = sanitize, time_limit
        self.launches = []                  # (kernel name, grid, block) of each launch
        self._libraries = {}
        self._fences = []                   # (weakref to a buffer, start, end, fence bytes)
        self._tags = 0
        self._poison = _asan() if sanitize else None
        if sanitize and self._poison is None:
            raise KernelError("sanitize=True needs AddressSanitizer's runtime loaded first (a "
                              "sanitized library aborts this process otherwise): run Python "
                              "with LD_PRELOAD=$(g++ -print-file-name=libasan.so)")

    # ------------------------------------------------------------------ launch.py's Device

    def array_type(self):
        return np.ndarray

    def device_id(self, a):
        return None                         # no GPU; launch_optim's tables ask here too

    def empty(self, device_id, shape, dtype):
        return self.allocate(shape, dtype)

    def multiprocessors(self, device_id) -> int:
        return self.sm

    def launch(self, name: str, device_id, grid, block, args, shared: int = 0) -> None:
        self.run(sources.file_of(name), name, grid, block, args, shared)

    # ------------------------------------------------------------------ kernels

    def libraries(self, files) -> dict:
        """Build (or load from the cache) ``files`` of this device's folder, in parallel."""
        wanted = [f for f in files if f not in self._libraries]
        if wanted:
            self._libraries.update(build(wanted, self.folder, self.sanitize))
        return {f: self._libraries[f] for f in files}

    def run(self, file: str, name: str, grid, block, args, shared: int = 0) -> None:
        """Launch kernel ``name`` of ``file`` as cuLaunchKernel would: the configuration is
        checked as CUDA checks it, then every block runs; KernelError on any failure."""
        grid, block = _dims("grid", grid), _dims("block", block)
        _check_configuration(name, grid, block, shared)
        library = self.libraries([file])[file]
        self.launches.append((name, grid, block))
        library.launch(name, grid, block, args, self.time_limit)
        self.check_fences(name)

    # ------------------------------------------------------------------ memory

    def allocate(self, shape, dtype, used_offset: int = 0) -> np.ndarray:
        """A new array of ``shape`` filled with 0xFF bytes, ``used_offset`` elements into a
        256-byte aligned buffer, fenced by poisoned bytes."""
        dtype = np.dtype(dtype)
        shape = tuple(int(n) for n in shape) if isinstance(shape, (tuple, list)) else (int(shape),)
        count = math.prod(shape)
        nbytes = (count + used_offset) * dtype.itemsize
        raw = np.empty(nbytes + 2 * FENCE + ALIGN, np.uint8)
        start = FENCE + (-(raw.ctypes.data + FENCE) % ALIGN)
        first = start + used_offset * dtype.itemsize
        end = start + nbytes
        fence = self._fence_bytes(raw)
        raw[...] = fence
        raw[first:end] = POISON
        self._fences.append((weakref.ref(raw), first, end, fence))
        if self._poison is not None:
            self._poison(raw.ctypes.data, first)
            self._poison(raw.ctypes.data + end, raw.size - end)
        return raw[first:end].view(dtype).reshape(shape)

    def _fence_bytes(self, raw) -> np.ndarray:
        """Bytes t0 t1 FF FF repeated from 4-byte aligned addresses (NaN as float32 and as
        float64, a negative int32 or int64), t a 16-bit tag of this allocation's own."""
        self._tags = self._tags % 0xFFFE + 1
        tag = np.array([self._tags & 0xFF, self._tags >> 8, POISON, POISON], np.uint8)
        return np.resize(np.roll(tag, -(raw.ctypes.data % 4)), raw.size)

    def array(self, a, offset: int = 0) -> np.ndarray:
        """A copy of ``a`` in device memory; ``offset`` elements into its buffer (1 makes it
        8 or 4 bytes off 16-byte alignment: the kernels' scalar path)."""
        a = np.asarray(a)
        out = self.allocate(a.shape, a.dtype, offset)
        out[...] = a
        return out

    def check_fences(self, kernel: str) -> None:
        """KernelError when a launch wrote into the bytes around any live array."""
        live = []
        for ref, first, end, fence in self._fences:
            raw = ref()
            if raw is None:
                continue
            live.append((ref, first, end, fence))
            before = np.flatnonzero(raw[:first] != fence[:first])
            after = np.flatnonzero(raw[end:] != fence[end:])
            if before.size or after.size:
                where = (f"{first - before[0]} bytes before the start" if before.size else
                         f"{after[0]} bytes past the end")
                raw[:first], raw[end:] = fence[:first], fence[end:]
                raise KernelError(f"{kernel} wrote outside an array: {where} of a "
                                  f"{end - first}-byte array")
        self._fences = live


def _dims(what: str, dims) -> tuple:
    dims = tuple(int(d) for d in (dims if isinstance(dims, (tuple, list)) else (dims,)))
    if not 1 <= len(dims) <= 3:
        raise KernelError(f"{what} must have 1 to 3 dimensions, got {dims}")
    return dims + (1,) * (3 - len(dims))


def _check_configuration(name: str, grid: tuple, block: tuple, shared: int) -> None:
    """CUDA's limits on a launch (cudaErrorInvalidConfiguration on a GPU)."""
    problems = []
    if any(d < 1 for d in grid + block):
        problems.append(f"every grid and block dimension must be >= 1, got grid {grid} "
                        f"block {block}")
    if any(d > m for d, m in zip(grid, _MAX_GRID)):
        problems.append(f"grid {grid} exceeds {_MAX_GRID}")
    if any(d > m for d, m in zip(block, _MAX_BLOCK)) or math.prod(block) > 1024:
        problems.append(f"block {block} exceeds {_MAX_BLOCK} or 1024 threads")
    if shared:
        problems.append(f"{shared} bytes of dynamic shared memory (the emulator has none)")
    if problems:
        raise KernelError(f"invalid launch configuration for {name}: {'; '.join(problems)}")
