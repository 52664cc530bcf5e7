"""gpugrad's fused CUDA kernels on a GPU: each memory-bound kernel's time and achieved
bandwidth against a device-to-device copy measured in the same run, against the unfused CuPy
composition (gpugrad's reference path, GPUGRAD_FUSED off) and against PyTorch's op; the MLP
block's backward on each route; full MLP training steps (and their backward alone) for
gpugrad fused, gpugrad unfused and PyTorch, from one initialisation.

Every measurement first checks its answer (fused against unfused, PyTorch against unfused)
and reports a mismatch loudly: the results are still written, and the exit status is 1.
Times are medians of CUDA-event timings after warm-up. Needs CuPy and a GPU (exit status 2,
with a one-line reason, without them); PyTorch with CUDA is optional (its columns stay empty
without it). Takes about a minute; it stops starting new measurements after 200 s.

Run from the repository root (gpugrad from the working tree, no network needed):
    PYTHONPATH=. python3 benchmarks/gpu_kernels.py --out-json k.json --out-md k.md

The code: this driver (the run, its checks, the copy bandwidth); gpu_kernel_cases.py (the
kernels and the MLP block's backward), gpu_kernel_mlp.py (MLP steps), gpu_kernel_report.py
(Markdown, targets); gpu_common.py (what it shares with gpu_training.py).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import sys
import time
import traceback

import numpy as np

from common import median_seconds
from gpu_common import (NO_GPU_EXIT, Problems, card, commit, cuda_versions, d2d_copy,
                        gpu_usable, load_torch, median_isolated_us, nvidia_smi,
                        set_torch_tf32, torch_version, write_report)
from gpu_kernel_cases import kernel_cases, measure_kernel, measure_linear
from gpu_kernel_mlp import measure_mlp
from gpu_kernel_report import markdown
import gpu_dry_run

import gpugrad
from gpugrad import cupy_import

SIZES_MB = (1, 16, 64, 256)
COPY_MB = 256
WARMUP, REPS = 3, 20
BUDGET_S = 200.0
LINEAR = (((256, 1024, 1024), "float32"), ((32, 64, 64), "float32"),
          ((2048, 512, 512), "float32"), ((4096, 1024, 1024), "float32"),
          ((256, 1024, 1024), "float64"))          # (rows, outs, ins), dtype
MLPS = (("784-1024-1024-1024-10, batch 256", [784, 1024, 1024, 1024, 10], 256),
        ("64-64-64-10, batch 32", [64, 64, 64, 10], 32))


class Run:
    """The GPU libraries, the results so far, and every mismatch or error; ``dry``: the
    CPU dry run (host timing, tiny sizes, emulated kernels)."""

    def __init__(self, cp, torch, budget_s: float = BUDGET_S, dry: bool = False,
                 save=lambda run: None):
        self.cp, self.torch, self.start = cp, torch, time.perf_counter()
        self.budget_s, self.dry, self.save = budget_s, dry, save
        self.results = {"kernels": [], "linear_backward": [], "mlp": []}
        self.problems = Problems()
        self.copy = {}

    def out_of_time(self, what: str) -> bool:
        if time.perf_counter() - self.start < self.budget_s:
            return False
        self.results.setdefault("skipped", []).append(what)
        print(f"skipped (past the {self.budget_s:.0f} s budget): {what}")
        return True

    def add(self, table: str, row: dict) -> None:
        """Keep ``row`` and rewrite the report, so a run cut short keeps it."""
        self.results[table].append(row)
        self.save(self)

    def problem(self, text: str) -> None:
        self.problems.add(text)

    def time_us(self, fn, on_torch: bool = False) -> float:
        """Median microseconds per call over REPS, each between two CUDA events."""
        if self.dry:
            return median_seconds(fn, 1, 3) * 1e6        # the host clock: nothing to sync
        return median_isolated_us(fn, WARMUP, REPS, self.torch if on_torch else None)

    def snapshot(self, result) -> tuple:
        """A result (array, tensor, or a tuple of them) as a tuple of CuPy copies."""
        parts = result if isinstance(result, (tuple, list)) else (result,)
        out = []
        for p in parts:
            if isinstance(p, gpugrad.Tensor):
                p = p._array
            elif self.torch is not None and isinstance(p, self.torch.Tensor):
                self.torch.cuda.synchronize()
                p = self.cp.from_dlpack(p.detach().contiguous())
            out.append(self.cp.array(p, copy=True))
        return tuple(out)

    def check(self, what: str, got: tuple, ref: tuple, rtol: float) -> float:
        """max |got - ref| / max |ref| over all parts; a problem when above rtol."""
        cp, worst = self.cp, 0.0
        if len(got) != len(ref) or any(a.shape != b.shape for a, b in zip(got, ref)):
            worst = math.inf
        else:
            for a, b in zip(got, ref):
                if a.size:
                    a, b = a.astype(cp.float64), b.astype(cp.float64)
                    err = float(cp.abs(a - b).max()) / max(float(cp.abs(b).max()), 1e-30)
                    worst = max(worst, err if err == err else math.inf)
        if not worst <= rtol:
            self.problem(f"MISMATCH {what}: relative error {worst:.3g} > {rtol:g}")
        return worst


def environment(cp, torch_note: str) -> dict:
    driver_api, runtime = cuda_versions(cp)
    return {**card(cp), "driver": nvidia_smi("driver_version") or "unknown",
            "cuda_driver_api": driver_api, "cuda_runtime": runtime,
            "python": platform.python_version(), "numpy": np.__version__,
            "cupy": cp.__version__, "gpugrad": gpugrad.__version__, "torch": torch_note,
            "commit": commit(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "timing": f"median of {REPS} CUDA-event timings after {WARMUP} warm-up calls"}


def import_torch():
    """(torch with full-float32 matmuls, as CuPy's GEMMs, or None; a note for the report)."""
    torch, why = load_torch(need_gpu=True)
    if torch is None:
        return None, why
    set_torch_tf32(torch, False)
    return torch, torch_version(torch)


def copy_gbps(run: Run, mb: int) -> float:
    """Device-to-device copy bandwidth (bytes read + written per second) on mb MB."""
    cp = run.cp
    a = cp.random.standard_normal(int(mb * 2**20) // 4, dtype=cp.float32)
    b = cp.empty_like(a)
    if run.dry:
        def copy():
            cp.copyto(b, a)
        copy()
    else:
        copy = d2d_copy(cp, a, b)
    if not bool((a == b).all()):
        run.problem(f"MISMATCH device-to-device copy of {mb} MB")
    return 2 * a.nbytes / (run.time_us(copy) * 1e-6) / 1e9


def measure_all(run: Run, copy: dict) -> None:
    """The kernels at every size, the MLP block's backward, the MLP steps, into run.results
    (each failure a problem), until the time budget is spent."""
    cp, torch = run.cp, run.torch
    for mb in run.sizes_mb:
        for case in kernel_cases(cp, torch, mb):
            if run.out_of_time(f"{case.name}, {mb} MB"):
                continue
            try:
                row = measure_kernel(run, case, mb, copy[COPY_MB])
                run.add("kernels", row)
                print(f"{case.name:32} {mb:4} MB: fused {row['fused_us']:9.1f} us "
                      f"{row['fraction_of_copy']:5.0%} of copy, x{row['speedup_vs_unfused']:.2f}"
                      f" vs unfused, x{row.get('speedup_vs_torch', math.nan):.2f} vs PyTorch",
                      flush=True)
            except Exception:
                run.problem(f"ERROR {case.name}, {mb} MB:\n{traceback.format_exc()}")
        cp.get_default_memory_pool().free_all_blocks()
    for shape, dtype in run.linear:
        if not run.out_of_time(f"linear backward {shape} {dtype}"):
            try:
                row = measure_linear(run, shape, dtype)
                run.add("linear_backward", row)
                print(f"linear backward {shape} {dtype}: " + ", ".join(
                    f"{k[:-3]} {v:.1f} us" for k, v in row.items() if k.endswith("_us")),
                    flush=True)
            except Exception:
                run.problem(f"ERROR linear backward {shape} {dtype}:\n{traceback.format_exc()}")
    for name, sizes, batch in run.mlps:
        if not run.out_of_time(f"MLP {name}"):
            try:
                row = measure_mlp(run, name, sizes, batch)
                run.add("mlp", row)
                print(f"MLP {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()
                                                  if k.endswith("_ms")), flush=True)
            except Exception:
                run.problem(f"ERROR MLP {name}:\n{traceback.format_exc()}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-json", help="write every result here as JSON")
    parser.add_argument("--out-md", help="write the Markdown tables here")
    parser.add_argument("--budget-s", type=float, default=BUDGET_S,
                        help=f"start no measurement after this many seconds ({BUDGET_S:.0f})")
    parser.add_argument("--cpu-dry-run", action="store_true",
                        help="this script's code on the CPU, tiny sizes, kernels emulated "
                             "(benchmarks/gpu_dry_run.py); the numbers mean nothing")
    args = parser.parse_args(argv)
    if args.cpu_dry_run:
        with gpu_dry_run.emulated_gpu() as cp:
            return measure_and_report(args, cp, None, gpu_dry_run.environment())
    if not gpu_usable("gpu_kernels.py needs CuPy and a usable CUDA GPU", sys.stderr):
        return NO_GPU_EXIT
    cp = cupy_import.require_cupy()
    torch, torch_note = import_torch()
    return measure_and_report(args, cp, torch, environment(cp, torch_note))


def measure_and_report(args, cp, torch, env) -> int:
    print(json.dumps(env, indent=1), flush=True)

    def save(run, final=False):
        report = markdown(env, run.copy, COPY_MB, run.results, run.problems.items)
        data = {"environment": env, "copy_gbps": run.copy, **run.results,
                "problems": run.problems.items, "seconds": time.perf_counter() - run.start,
                "complete": final}
        write_report(args.out_json, args.out_md, data, lambda _: report)
        return report

    run = Run(cp, torch, args.budget_s, args.cpu_dry_run, save)
    dry = args.cpu_dry_run
    run.sizes_mb = gpu_dry_run.SIZES_MB if dry else SIZES_MB
    run.linear = gpu_dry_run.LINEAR if dry else LINEAR
    run.mlps = gpu_dry_run.MLPS if dry else MLPS
    copy_mb = run.sizes_mb + ((COPY_MB,) if COPY_MB not in run.sizes_mb else ())
    for mb in copy_mb:
        run.copy[mb] = copy_gbps(run, min(mb, 1) if dry else mb)
        print(f"copy {mb} MB: {run.copy[mb]:.0f} GB/s", flush=True)
    measure_all(run, run.copy)
    print(save(run, final=True))
    return run.problems.exit_status("{n} MISMATCHES OR ERRORS (listed above)", stream=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
