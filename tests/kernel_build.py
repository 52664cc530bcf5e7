"""Build gpugrad's CUDA kernel files for the CPU emulator and load them (tests only).

Each ``kernels/*.cu`` file is compiled unchanged by g++ against kernels/testing/emulate.h,
through a small wrapper that lists the file's kernels by the name expressions the launchers
ask for (gpugrad/cuda/sources.py), so g++ instantiates exactly the templates NVRTC does,
into one shared library. Libraries are cached by content (sources, headers, flags,
compiler) under the system temp folder, never in the repository, so one test session
builds each file once and later sessions reuse it. Example::

    >>> libraries = build(["relu.cu"], kernel_folder())
    >>> libraries["relu.cu"].launch("relu_fwd<float>", (1, 1, 1), (256, 1, 1), args, 60.0)

``GPUGRAD_EMU_KERNELS=<folder>`` builds the .cu files of another folder (the mutation check,
kernels/testing/mutate.py); ``GPUGRAD_EMU_CACHE=<folder>`` puts the cache elsewhere; ``CXX``
names the compiler (g++ by default).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from gpugrad.cuda import sources

ROOT = Path(__file__).resolve().parent.parent
HEADERS = ROOT / "kernels" / "testing"
FLAGS = ("-std=c++20", "-O1", "-g", "-pthread", "-shared", "-fPIC", "-fno-strict-aliasing")
SANITIZERS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
              "-fno-omit-frame-pointer")
_BOUND = re.compile(r"__launch_bounds__\(\s*(\d+)[^)]*\)\s+(\w+)\s*\(")
# a kernel of the emulator's own tests (kernels/testing/selftest.cu): a plain extern "C"
# function, its name after any __launch_bounds__(...)
_SELFTEST_KERNEL = re.compile(
    r'extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?(\w+)\s*\(')
_ERROR_BYTES = 4096

# parameter code (launch.h) -> (NumPy scalar type the launcher must pass, ctypes type, C name)
SCALARS = {"i": (np.int32, ctypes.c_int, "int"), "I": (np.uint32, ctypes.c_uint, "unsigned"),
           "q": (np.int64, ctypes.c_longlong, "long long"),
           "Q": (np.uint64, ctypes.c_ulonglong, "unsigned long long"),
           "f": (np.float32, ctypes.c_float, "float"), "d": (np.float64, ctypes.c_double, "double")}


class KernelError(RuntimeError):
    """A kernel failed on the emulated device (a deadlock, a barrier or warp exchange not
    every thread reached, a write outside its arrays, the time limit), or would not build."""


def compiler() -> str | None:
    """The C++ compiler's path, or None."""
    return shutil.which(os.environ.get("CXX", "g++"))


@functools.lru_cache(maxsize=None)
def missing() -> str | None:
    """Why the emulator cannot run here (no g++, no C++20, no nm), or None."""
    cxx = compiler()
    if cxx is None:
        return f"no C++ compiler ({os.environ.get('CXX', 'g++')}) on PATH"
    if shutil.which("nm") is None:
        return "no nm (binutils) on PATH"
    probe = subprocess.run([cxx, "-std=c++20", "-x", "c++", "-fsyntax-only", "-"],
                           input="#include <source_location>\n#include <bit>\nint main(){}\n",
                           capture_output=True, text=True)
    if probe.returncode:
        return f"{cxx} cannot compile C++20 (<source_location>, <bit>): {probe.stderr[-500:]}"
    return None


def kernel_folder() -> Path:
    """The folder of the .cu files to run: GPUGRAD_EMU_KERNELS, else gpugrad's kernels/."""
    folder = os.environ.get("GPUGRAD_EMU_KERNELS")
    return Path(folder).resolve() if folder else sources.kernel_dir()


def kernel_names(file: str, text: str) -> tuple:
    """The kernels the wrapper of ``file`` (whose source is ``text``) lists: the name
    expressions gpugrad's launchers may ask for (``relu_fwd<float>``), or for the self-test
    the plain names of the kernels it defines, in its order."""
    if file != "selftest.cu":
        return sources.defined_kernels(file)
    names = tuple(_SELFTEST_KERNEL.findall(text))
    assert names, f'no extern "C" __global__ kernels found in {file}'
    return names


def wrapper_source(file: str, folder: Path) -> str:
    """The translation unit that compiles ``folder/file`` and lists its kernels (taking the
    address of ``relu_fwd<float>`` instantiates the template, as NVRTC's name expression
    does; one the file does not define fails the build)."""
    text = (folder / file).read_text()
    names = kernel_names(file, text)
    bounds = {family: int(bound) for bound, family in _BOUND.findall(text)}
    entries = "".join(f'    gg_emu::info("{n}", &{n}, {bounds.get(n.split("<")[0], 0)}),\n'
                      for n in names)
    return (f'#include "emulate.h"\n#include "{file}"\n\n'
            f"const gg_emu::KernelInfo gg_emu::kernels[] = {{\n{entries}}};\n"
            f"const int gg_emu::kernel_count = {len(names)};\n")


@functools.lru_cache(maxsize=None)
def _compiler_version(cxx: str) -> str:
    return subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout


def _cache_dir(file: str, folder: Path, flags) -> Path:
    digest = hashlib.sha256()
    for part in (_compiler_version(compiler()), " ".join(flags), wrapper_source(file, folder)):
        digest.update(part.encode())
    inputs = [folder / file, *sorted(folder.glob("*.cuh")), *sorted(HEADERS.glob("*.h"))]
    for path in inputs:
        digest.update(path.name.encode() + path.read_bytes())
    base = os.environ.get("GPUGRAD_EMU_CACHE") or (
        Path(tempfile.gettempdir()) / f"gpugrad-kernel-emulation-{os.getuid()}")
    return Path(base) / digest.hexdigest()[:24]


def compile_libraries(files, folder: Path, sanitize: bool = False) -> dict:
    """file -> the path of its shared library, compiling the ones not cached yet in
    parallel (without loading them: a sanitized library loads only where libasan does)."""
    flags = FLAGS + (SANITIZERS if sanitize else ())
    targets = {file: _cache_dir(file, folder, flags) / (Path(file).stem + ".so")
               for file in files}
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}     # g++ unsanitized
    jobs = []
    for file, target in targets.items():
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=target.parent))
        (work / "wrapper.cpp").write_text(wrapper_source(file, folder))
        command = [compiler(), *flags, f"-I{HEADERS}", f"-I{folder}", str(work / "wrapper.cpp"),
                   "-o", str(work / target.name)]
        jobs.append((file, target, work, command,
                     subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, env=env)))
    for file, target, work, command, job in jobs:
        log = job.communicate()[0]
        if job.returncode:
            raise KernelError(f"g++ failed on {folder / file}:\n{' '.join(command)}\n"
                              f"{log[-4000:]}")
        os.replace(work / target.name, target)
        shutil.rmtree(work, ignore_errors=True)
    return targets


def build(files, folder: Path, sanitize: bool = False) -> dict:
    """file -> loaded ``Library`` for each of ``files`` in ``folder`` (each loaded once)."""
    paths = compile_libraries(files, folder, sanitize)
    for file, path in paths.items():
        if path not in _loaded:
            _loaded[path] = Library(path, folder / file)
    return {file: _loaded[path] for file, path in paths.items()}


_loaded: dict = {}              # library path -> Library


class Library:
    """One built kernel file: its kernels by name, and ``launch``."""

    def __init__(self, path: Path, source: Path):
        self.path, self.source = path, source
        dll = self.dll = ctypes.CDLL(str(path))
        dll.gg_kernel_name.restype = dll.gg_kernel_signature.restype = ctypes.c_char_p
        dll.gg_kernel_max_threads.restype = ctypes.c_uint
        dll.gg_launch.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_uint),
                                  ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_void_p),
                                  ctypes.c_double, ctypes.c_char_p, ctypes.c_size_t]
        self.kernels = {dll.gg_kernel_name(k).decode(): (k, dll.gg_kernel_signature(k).decode(),
                                                          dll.gg_kernel_max_threads(k))
                        for k in range(dll.gg_kernel_count())}
        self._poison_shared_arrays()

    def _poison_shared_arrays(self):
        """Hand the runtime the kernels' static __shared__ arrays (function-local statics of
        functions the .cu file defines), which it fills with 0xFF before every block."""
        listing = subprocess.run(["nm", "-S", "--defined-only", str(self.path)],
                                 capture_output=True, text=True, check=True).stdout
        words = set(re.findall(r"\w+", self.source.read_text()))
        symbols, regions = {}, []
        for line in listing.splitlines():
            parts = line.split()
            if len(parts) != 4:                 # address, size, type, name
                continue
            symbols[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
            match = re.match(r"_ZZ(\d+)", parts[3])      # _ZZ <length> <function> ... E <name>
            if match and parts[2] in "bBdDuV":
                function = parts[3][match.end():match.end() + int(match.group(1))]
                if function in words:
                    regions.append(symbols[parts[3]])
        base = ctypes.cast(self.dll.gg_launch, ctypes.c_void_p).value - symbols["gg_launch"][0]
        count = len(regions)
        addresses = (ctypes.c_void_p * count)(*[base + address for address, _ in regions])
        sizes = (ctypes.c_size_t * count)(*[size for _, size in regions])
        self.dll.gg_set_shared(count, addresses, sizes)
        self.shared_arrays = count

    def launch(self, name: str, grid, block, args, time_limit: float) -> None:
        """Run kernel ``name`` over ``grid`` blocks of ``block`` threads (3 ints each) with
        ``args`` as the launchers pass them to CuPy (arrays, None, NumPy scalars)."""
        if name not in self.kernels:
            raise KernelError(f"{self.source.name} defines no kernel {name!r}; it has "
                              f"{sorted(self.kernels)}")
        index, signature, _ = self.kernels[name]
        if len(args) != len(signature):
            raise TypeError(f"{name} takes {len(signature)} arguments, the launcher passed "
                            f"{len(args)}")
        values = [_value(name, i, code, a) for i, (code, a) in enumerate(zip(signature, args))]
        pointers = (ctypes.c_void_p * max(1, len(values)))(
            *[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p) for v in values])
        error = ctypes.create_string_buffer(_ERROR_BYTES)
        status = self.dll.gg_launch(index, (ctypes.c_uint * 3)(*grid),
                                    (ctypes.c_uint * 3)(*block), pointers, time_limit, error,
                                    _ERROR_BYTES)
        if status:
            raise KernelError(error.value.decode(errors="replace"))


def _value(kernel: str, i: int, code: str, a):
    """Argument ``a`` as the ctypes value of parameter ``i`` (type ``code``), checked as the
    GPU cannot: CuPy passes a scalar's bytes whatever the kernel's parameter type is."""
    if code == "p":
        if a is None:
            return ctypes.c_void_p(None)
        if isinstance(a, np.ndarray):
            return ctypes.c_void_p(a.ctypes.data)
        raise TypeError(f"{kernel}: parameter {i} is a pointer, the launcher passed "
                        f"{type(a).__name__}")
    scalar, c_type, c_name = SCALARS[code]
    if not isinstance(a, np.generic) or a.dtype != scalar:
        given = a.dtype if isinstance(a, np.generic) else type(a).__name__
        raise TypeError(f"{kernel}: parameter {i} is {c_name}, the launcher passed {given}; "
                        f"pass np.{np.dtype(scalar).name}(value)")
    return c_type(a.item())
