"""One (library, workload) measurement in this process; prints one JSON line.

Run by suite.py (each configuration in its own process): python run_one.py LIB WORKLOAD
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import tracemalloc

import numpy as np

import common


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise OSError(f"{field} not in /proc/self/status")


def peak_rss_of(fn) -> float | None:
    """How far the resident set rose above its level before ``fn()`` while it ran (MiB):
    Linux's high-water mark, reset first through /proc/self/clear_refs. Sees every
    library's allocations (tracemalloc sees only NumPy's); None where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = _status_mib("VmRSS")
        fn()
        return _status_mib("VmHWM") - before
    except OSError:
        return None


def run(lib: str, workload: str) -> dict:
    impl = importlib.import_module(f"impl_{lib}")
    result = {"lib": lib, "name": impl.NAME, "version": impl.version(), "workload": workload,
              "machine": common.machine()}
    warmup, repeat = common.repeats(workload)
    if workload in common.MLP_WORKLOADS:
        sizes, batch, segments = common.MLP_WORKLOADS[workload]
        weights, x, y = common.mlp_setup(sizes, batch)
        if workload.startswith("mlp-deep"):                 # memory first, in a fresh process
            before = rss_mib()
            first = impl.mlp(weights, x, y, segments)
            first()
            result["rss_increase_first_step_mib"] = rss_mib() - before
            first()
            result["peak_rss_step_mib"] = peak_rss_of(first)
            if lib in ("numpy", "gpugrad"):               # tracemalloc sees NumPy's buffers
                tracemalloc.start()
                base = tracemalloc.get_traced_memory()[0]
                first()
                result["peak_step_mib"] = (tracemalloc.get_traced_memory()[1] - base) / 2**20
                tracemalloc.stop()
            del first
        expected = common.reference_losses(weights, x, y)
        step = impl.mlp(weights, x, y, segments)
        got = [step() for _ in range(common.CHECK_STEPS)]
        if not np.allclose(got, expected, rtol=2e-3, atol=1e-4):
            raise SystemExit(f"{lib} {workload}: losses {got} differ from the float64 "
                             f"reference {expected}; not timing a wrong answer")
        result["check"] = f"losses over {common.CHECK_STEPS} steps match float64 reference"
        result["seconds"] = common.median_seconds(step, warmup, repeat)
        result["gflops"] = common.mlp_flops(sizes, batch) / result["seconds"] / 1e9
    elif workload == "scalar":
        evaluate = impl.scalar()
        if tuple(np.round(evaluate(), 5)) != (39.0, 12.0, 31.0):
            raise SystemExit(f"{lib} scalar: got {evaluate()}, expected (39, 12, 31)")
        result["check"] = "z=39, dz/dx=12, dz/dy=31"
        result["seconds"] = common.median_seconds(evaluate, warmup, repeat)
    elif workload == "hessian":
        a, x = common.hessian_setup()
        evaluate = impl.hessian(a, x)
        reference = common.hessian_reference(a, x)
        error = np.abs(evaluate() - reference).max() / np.abs(reference).max()
        if error > 1e-4:
            raise SystemExit(f"{lib} hessian: relative error {error:.2e} against float64")
        result["check"] = f"max relative error {error:.1e} against float64"
        result["seconds"] = common.median_seconds(evaluate, warmup, repeat)
    elif workload in common.GRAD_WORKLOADS:
        weights, x, y = common.mlp_setup(common.GRAD_SIZES, common.GRAD_BATCH)
        per_example = workload == "per-example-grads"
        make = impl.per_example_grads if per_example else impl.batched_grad
        evaluate = make(weights, x, y)
        error = common.relative_error(evaluate(),
                                      common.grad_reference(weights, x, y, per_example))
        if error > 1e-4:
            raise SystemExit(f"{lib} {workload}: relative error {error:.2e} against float64")
        result["check"] = f"max relative error {error:.1e} against float64"
        result["seconds"] = common.median_seconds(evaluate, warmup, repeat)
    return result


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], sys.argv[2])))
