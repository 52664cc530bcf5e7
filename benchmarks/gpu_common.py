"""What the GPU benchmarks (gpu_kernels.py, gpu_training.py) share: the "no usable GPU"
check, the versions of what ran (card, driver, CUDA, CuPy, torch, jax, commit), CUDA-event
timing, device-to-device copy bandwidth, freeing cached device memory, torch's TF32 switch,
the mismatch bookkeeping and writing the JSON and Markdown reports.

Nothing here imports CuPy, torch or jax at import time: each helper is handed the module
it needs, or imports it when called on a GPU.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time

import common  # noqa: F401  (puts this checkout's gpugrad first on sys.path, as every benchmark)

import gpugrad

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NO_GPU_EXIT = 2                         # the exit status of a GPU benchmark without a GPU


# ---------------------------------------------------------------------------------------------
# Is there a GPU; what ran where
# ---------------------------------------------------------------------------------------------

def gpu_usable(needs: str, stream=None) -> bool:
    """True when CuPy sees a usable CUDA GPU. Otherwise prints one line, ``needs`` and the
    reason (with its fix), to ``stream`` (stdout by default) and returns False: the caller
    then exits with NO_GPU_EXIT.

    Example::

        if not gpu_usable("my_bench.py needs CuPy and a GPU"):
            return NO_GPU_EXIT
    """
    usable, reason = gpugrad.backend.cuda_status()
    if not usable:
        print(f"{needs}: {reason}", file=stream if stream is not None else sys.stdout)
    return usable


def command_output(cmd: list, timeout: float = 20) -> str:
    """The stripped stdout of ``cmd`` run in the repository root; "" if it failed."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        return done.stdout.strip() if done.returncode == 0 else ""
    except Exception:
        return ""


def commit(mark_uncommitted: bool = False) -> str:
    """$GPUGRAD_COMMIT, else this checkout's short commit, else "unknown"; with
    ``mark_uncommitted``, " (+ uncommitted changes)" appended when the tree is dirty."""
    name = (os.environ.get("GPUGRAD_COMMIT") or command_output(["git", "rev-parse", "--short",
                                                                "HEAD"]) or "unknown")
    if mark_uncommitted and command_output(["git", "status", "--porcelain"]):
        name += " (+ uncommitted changes)"
    return name


def nvidia_smi(fields: str) -> str:
    """The first GPU's line of ``nvidia-smi --query-gpu=<fields>`` (CSV), "" without it."""
    out = command_output(["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader"],
                         timeout=30)
    return out.splitlines()[0] if out else ""


def card(cp) -> dict:
    """The current CUDA device as CuPy sees it: name, compute capability, SMs, memory."""
    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    name = props.get("name", b"?")
    return {"card": name.decode() if isinstance(name, bytes) else str(name),
            "compute_capability": f"{props.get('major')}.{props.get('minor')}",
            "multiprocessors": props.get("multiProcessorCount"),
            "memory_gib": round(props.get("totalGlobalMem", 0) / 2**30, 1)}


def cuda_versions(cp) -> tuple:
    """(CUDA driver API version, CUDA runtime version CuPy was built against)."""
    return cp.cuda.runtime.driverGetVersion(), cp.cuda.runtime.runtimeGetVersion()


def load_torch(need_gpu: bool = True):
    """(torch, "") or (None, why it is left out) when it does not import or, with
    ``need_gpu``, sees no GPU."""
    try:
        import torch
    except Exception as exc:
        return None, f"torch does not import ({type(exc).__name__}: {exc})"
    if need_gpu and not torch.cuda.is_available():
        return None, "torch sees no GPU (torch.cuda.is_available() is False)"
    return torch, ""


def torch_version(torch) -> str:
    return f"{torch.__version__} (CUDA {torch.version.cuda})"


def jax_version(jax, device) -> str:
    """jax's and jaxlib's versions and the kind of ``device`` (a jax Device)."""
    try:
        import jaxlib
        jaxlib_version = jaxlib.__version__
    except Exception:
        jaxlib_version = "?"
    return f"{jax.__version__} (jaxlib {jaxlib_version}, {getattr(device, 'device_kind', device)})"


def set_torch_tf32(torch, enabled: bool) -> str:
    """TF32 for torch's float32 matmuls on or off; returns which switch it used."""
    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):      # torch >= 2.9 (allow_tf32 is deprecated)
        matmul.fp32_precision = "tf32" if enabled else "ieee"
        return "torch.backends.cuda.matmul.fp32_precision"
    matmul.allow_tf32 = enabled
    return "torch.backends.cuda.matmul.allow_tf32"


def free_gpu_memory(torch=None) -> None:
    """Collect garbage and hand CuPy's (and torch's) cached device blocks back."""
    gc.collect()
    import cupy
    cupy.cuda.Device().synchronize()
    cupy.get_default_memory_pool().free_all_blocks()
    if torch is not None:
        torch.cuda.synchronize()
        torch.cuda.empty_cache()


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------

class Clock:
    """``mark()`` stamps the stream (a CUDA event) or the host; ``ms(a, b)`` between two."""

    def __init__(self, mark, ms, device_events: bool):
        self.mark, self.ms, self.device_events = mark, ms, device_events


def cupy_clock() -> Clock:
    import cupy

    def mark():
        event = cupy.cuda.Event()
        event.record()
        return event
    return Clock(mark, cupy.cuda.get_elapsed_time, True)


def torch_clock(torch) -> Clock:
    def mark():
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event
    return Clock(mark, lambda a, b: a.elapsed_time(b), True)


def host_clock(sync) -> Clock:
    def mark():
        sync()
        return time.perf_counter()
    return Clock(mark, lambda a, b: (b - a) * 1e3, False)


def median_ms(clock: Clock, fn, reps: int, sync) -> float:
    """Median milliseconds of ``fn()`` over ``reps`` calls back to back, one mark between
    each two (one warm-up call first): the steady-state time of a call in a stream."""
    fn()
    sync()
    marks = [clock.mark()]
    for _ in range(reps):
        fn()
        marks.append(clock.mark())
    sync()
    return statistics.median(clock.ms(a, b) for a, b in zip(marks, marks[1:]))


def median_isolated_us(fn, warmup: int, reps: int, torch=None) -> float:
    """Median microseconds of ``fn()`` over ``reps`` calls after ``warmup`` calls, each
    between two CUDA events (torch's with ``torch``, else CuPy's) and synchronised: the
    time of one call on an idle stream."""
    if torch is not None:
        start, end = (torch.cuda.Event(enable_timing=True),
                      torch.cuda.Event(enable_timing=True))
        elapsed = start.elapsed_time
    else:
        import cupy
        start, end = cupy.cuda.Event(), cupy.cuda.Event()

        def elapsed(stop):
            return cupy.cuda.get_elapsed_time(start, stop)

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(elapsed(end) * 1e3)
    return statistics.median(times)


# ---------------------------------------------------------------------------------------------
# Device-to-device copy bandwidth
# ---------------------------------------------------------------------------------------------

def d2d_copy(cp, src, dst):
    """A callable copying ``src`` into ``dst`` (CuPy arrays of one size) with
    cudaMemcpyAsync, run once here; on a CuPy without it, ``cupy.copyto`` instead."""
    def copy():
        dst.data.copy_from_device_async(src.data, src.nbytes)

    try:
        copy()
    except Exception as exc:
        print(f"memcpy failed ({type(exc).__name__}: {exc}); timing cupy.copyto instead")

        def copy():
            cp.copyto(dst, src)

        copy()
    return copy


def _cupy_copy_gbs(numel: int, reps: int) -> dict:
    import cupy
    src = cupy.ones(numel, dtype=cupy.float32)
    dst = cupy.empty_like(src)
    moved, sync = 2 * src.nbytes, cupy.cuda.Device().synchronize
    kernel = cupy.ElementwiseKernel("T x", "T y", "y = x", "gpu_training_copy")
    memcpy = median_ms(cupy_clock(), d2d_copy(cupy, src, dst), reps, sync)
    elementwise = median_ms(cupy_clock(), lambda: kernel(src, dst), reps, sync)
    return {"cudaMemcpyAsync": moved / memcpy / 1e6,
            "cupy elementwise copy": moved / elementwise / 1e6}


def _torch_copy_gbs(torch, numel: int, reps: int) -> float:
    src = torch.ones(numel, device="cuda")
    dst = torch.empty_like(src)
    ms = median_ms(torch_clock(torch), lambda: dst.copy_(src), reps, torch.cuda.synchronize)
    return 2 * src.numel() * 4 / ms / 1e6


def copy_bandwidth(torch, numel: int, reps: int = 10) -> dict:
    """GB/s (bytes read + written) of device-to-device copies of ``numel`` float32, calls
    back to back: cudaMemcpyAsync, a CuPy element-wise copy and (with torch) torch's copy_."""
    out = _cupy_copy_gbs(numel, reps)
    if torch is not None:
        out["torch copy_"] = _torch_copy_gbs(torch, numel, reps)
    free_gpu_memory(torch)
    return out


# ---------------------------------------------------------------------------------------------
# Mismatches and errors; reports
# ---------------------------------------------------------------------------------------------

class Problems:
    """The mismatches and errors of a run, kept in ``items`` (a list that may be shared with
    the report being written): each is printed loudly when recorded, and any makes the exit
    status 1."""

    def __init__(self, items: list | None = None):
        self.items = items if items is not None else []

    def add(self, text: str, loud: bool = True) -> None:
        self.items.append(text)
        if loud:
            print(f"!!! {text}", flush=True)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def exit_status(self, headline: str, repeat: bool = False, stream=None) -> int:
        """0 when nothing was recorded; else prints ``headline`` (``{n}``: how many) and,
        with ``repeat``, every problem again, to ``stream`` (stdout), and returns 1."""
        if not self.items:
            return 0
        stream = stream if stream is not None else sys.stdout
        print(headline.format(n=len(self.items)), file=stream)
        if repeat:
            for text in self.items:
                print(f"!!! {text}", file=stream)
        return 1


def write_report(out_json: str | None, out_md: str | None, data: dict, markdown) -> None:
    """``data`` as JSON to ``out_json`` and ``markdown(data)`` to ``out_md``, each only
    where a path is given."""
    if out_json:
        with open(out_json, "w") as fh:
            json.dump(data, fh, indent=1, default=str)
    if out_md:
        with open(out_md, "w") as fh:
            fh.write(markdown(data))


def fmt(value, spec: str, missing: str = "-") -> str:
    """``format(value, spec)``, or ``missing`` for None: a table cell."""
    return missing if value is None else format(value, spec)
