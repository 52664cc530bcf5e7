"""Stage 1 of benchmarks/gpu_run.py: what the GPU machine is, what it has, and whether every
kernel compiles and loads there, before minutes are spent on tests and timings.

Prints one JSON object (card, driver, CUDA, versions of Python, NumPy, CuPy, pytest,
hypothesis, matplotlib, torch, jax, each imported or its reason for not importing; each
kernel file's compile-and-load outcome, and how long a second process takes to load them all:
the disk cache at work or not) and writes it to ``--out``. Exit status 0 when CuPy
works and every kernel loaded, 1 otherwise; missing optional packages are listed, not fatal.
With ``--cpu-dry-run`` it compiles the kernels with NVRTC instead of loading them (no GPU).

Run: PYTHONPATH=. python3 benchmarks/gpu_preflight.py --out preflight.json
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import subprocess
import sys
import time
import traceback

from gpu_common import card, commit, cuda_versions, nvidia_smi

from gpugrad import backend, cupy_import
from gpugrad.cuda import sources

OPTIONAL = ("pytest", "hypothesis", "matplotlib", "torch", "jax")


def versions() -> dict:
    """Each package's version, or why it did not import."""
    out = {"python": platform.python_version()}
    for name in ("numpy", "cupy") + OPTIONAL:
        try:
            out[name] = getattr(importlib.import_module(name), "__version__", "?")
        except Exception as exc:
            out[name] = f"MISSING ({type(exc).__name__}: {exc})"
    return out


def every_kernel() -> list:
    """Every kernel name (C++ name expression, "relu_bwd<float>") of every file, grouped:
    (file, [names])."""
    return [(file, sorted(sources.defined_kernels(file))) for file in sources.source_files()]


def load_kernels(dry_run: bool) -> dict:
    """file -> "ok (N kernels)" or the error: loaded through CuPy on GPU 0, or, in a dry
    run, compiled by NVRTC for sm_90."""
    out = {}
    for file, names in every_kernel():
        start = time.perf_counter()
        try:
            if dry_run:
                from gpugrad.cuda import nvrtc
                nvrtc.compile_cubin(sources.source(file), file, "sm_90",
                                    sources.COMPILE_OPTIONS + sources.CUPY_ADDS,
                                    name_expressions=names)
            else:
                from gpugrad.cuda import loader
                for name in names:
                    loader.function(name, 0)
            out[file] = f"ok ({len(names)} kernels, {time.perf_counter() - start:.1f} s)"
        except Exception as exc:
            out[file] = f"FAILED: {type(exc).__name__}: {exc}"
            traceback.print_exc()
    return out


def second_process_load(dry_run: bool) -> str:
    """How long a fresh process takes to get every kernel again: "N kernels in S s". With
    CuPy's disk cache (CuPy >= 14.1 keeps name-expression modules) it is a fraction of the
    first load; about as long means every process compiles again (kernels/README.md). In a
    dry run the fresh process only lists the names."""
    code = ("import time\nfrom gpugrad.cuda import loader, sources\n"
            "start = time.perf_counter()\n"
            "names = [n for f in sources.source_files() for n in sources.defined_kernels(f)]\n"
            + ("" if dry_run else "for name in names:\n    loader.function(name, 0)\n")
            + "print(f'{len(names)} kernels in {time.perf_counter() - start:.2f} s')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=600)
    return result.stdout.strip() if result.returncode == 0 else \
        f"FAILED: {result.stderr.strip()[-400:]}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="write the JSON here too")
    parser.add_argument("--cpu-dry-run", action="store_true",
                        help="no GPU: compile the kernels with NVRTC instead of loading them")
    args = parser.parse_args(argv)
    report = {"commit": commit(mark_uncommitted=True), "versions": versions(),
              "nvidia_smi": nvidia_smi("name,driver_version,memory.total,clocks.max.sm")}
    usable, reason = backend.cuda_status()
    report["cuda"] = reason
    if usable:
        cp = cupy_import.require_cupy()
        report.update(card(cp))
        report["cuda_driver_api"], report["cuda_runtime"] = cuda_versions(cp)
    report["kernels"] = load_kernels(args.cpu_dry_run) if (usable or args.cpu_dry_run) else {}
    if usable or args.cpu_dry_run:
        report["kernels_second_process"] = second_process_load(args.cpu_dry_run)
    report["missing"] = [n for n in OPTIONAL if report["versions"][n].startswith("MISSING")]
    text = json.dumps(report, indent=1)
    print(text, flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    kernels_ok = report["kernels"] and all(v.startswith("ok") for v in report["kernels"].values())
    return 0 if (usable or args.cpu_dry_run) and kernels_ok else 1


if __name__ == "__main__":
    sys.exit(main())
