"""GPU training-step benchmark: gpugrad against PyTorch and JAX on one card (issue 8).

One training step = forward, softmax cross-entropy, backward, SGD (lr 0.1, momentum 0.9).
Workloads (MLP layer sizes, batch): large256 = 784-1024-1024-1024-10 at 256, large4096 =
the same at 4096, small32 = 64-64-64-10 at 32, deep2048 = 512 -> 32 hidden layers of 512
-> 10 at 2048. Precisions: fp32 (matmul precision "highest" everywhere), tf32 ("high":
TF32 tensor cores for float32 matmuls), fp16 (autocast + dynamic loss scaling, float32
master weights; JAX: explicit float16 casts and a static loss scale of 1024).

Configurations, all in one process on one card:
- gpugrad eager fused (the default), gpugrad eager unfused (gpugrad.cuda.set_fused(False)),
  gpugrad graph (gpugrad.cuda.graph: the whole step captured into a CUDA graph, replayed);
- torch eager; torch graph (torch.cuda.CUDAGraph whole-step capture as in PyTorch's CUDA
  semantics notes: 3 warm-up steps on a side stream, static inputs, replay); jax jit (one
  jitted step: value_and_grad + SGD on a pytree, parameters donated). Each baseline runs
  only if its library imports and sees a GPU; otherwise the reason is printed.
- In fp16 the two graph configurations capture forward + backward only and run the
  GradScaler step eagerly after the replay: GradScaler.step reads an inf/NaN flag on the
  host, which a graph cannot do (PyTorch's docs advise the same split).

Every configuration starts from gpugrad's initial weights (gpugrad.nn.MLP under
gpugrad.manual_seed(0)) and trains on one fixed batch. Before timing, the loss of step 4
(after 3 updates) must agree with the reference (torch eager, else gpugrad eager) within
1e-4 relative in fp32 and 1e-2 in tf32/fp16; a mismatch is reported loudly and makes the
exit status 1 (the results are still written). Then, per configuration:
- median step time over the timed steps after warm-up (CUDA events on the stream; JAX:
  block_until_ready + perf_counter per step) and the mean (events: first to last; JAX: one
  loop synchronised only at its end);
- achieved TFLOP/s = 6 * batch * sum(in * out) / median time, as a percentage of the
  measured 8192^3 matmul ceiling of that precision (CuPy and torch, best of the two);
- peak memory of a step, in MiB (gpugrad eager: CuPy pool bytes in use before the step +
  gpugrad.memory.track peak; gpugrad graph: pool in use + the graph's private pool; torch
  eager: max_memory_allocated over one step; torch graph: over warm-up and capture; JAX:
  the device's process-wide peak_bytes_in_use, not resettable);
- allocation churn: the memory pool's size after step 2 and after the last warm-up step
  (CuPy default pool + graph pools; torch memory_reserved; JAX bytes_reserved).
Also: the fused optimizers' bandwidth on a 100M-parameter model (25 float32 tensors of 4M),
SGD momentum (5 * 4 bytes per parameter: read p, g, buf, write p, buf) and Adam (7 * 4)
with the fused kernels on and off (and torch's foreach SGD / fused Adam), as a fraction of
the measured device-to-device copy bandwidth; and a summary against the issue's targets.

Run from the repository root on a machine with a GPU and CuPy (torch and jax optional):

    PYTHONPATH=. python benchmarks/gpu_training.py --out-json r.json --out-md r.md
    PYTHONPATH=. python benchmarks/gpu_training.py --quick
    PYTHONPATH=. python benchmarks/gpu_training.py --sizes small32,deep2048 --precisions fp32

Expected to take 1-2 minutes on an H100 (not yet measured); --budget-s (default 200)
skips the configurations still left past it.
Exit status: 0 all checks passed; 1 a loss mismatch or a gpugrad configuration failed;
2 no usable GPU/CuPy. --cpu-dry-run runs the same code on the CPU with tiny sizes (the
numbers mean nothing) to check the script itself on a machine without a GPU.

The code: this driver (arguments, workloads, the run, the loss check); gpu_train_case.py
(a configuration and how it is measured); gpu_train_gpugrad.py, gpu_train_peers.py (the
gpugrad, torch and JAX configurations); gpu_train_ceilings.py (matmul ceilings, optimizer
bandwidth); gpu_train_report.py (environment, table, targets, Markdown); gpu_common.py
(what it shares with gpu_kernels.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # else JAX takes 75% of it

import numpy as np  # noqa: E402

from gpu_common import NO_GPU_EXIT, Problems, copy_bandwidth, gpu_usable, write_report  # noqa: E402
from gpu_train_case import (CHECK_STEP, CONFIGS, PRECISIONS, SEED, TARGET, Case,  # noqa: E402
                            Skip, free_memory, run_case)
from gpu_train_ceilings import ceiling_for, matmul_ceilings, optimizer_bandwidth  # noqa: E402
from gpu_train_gpugrad import gg_case, gg_weights  # noqa: E402
from gpu_train_peers import jax_case, load_jax, load_torch, torch_case  # noqa: E402
from gpu_train_report import (environment, markdown, progress_line,  # noqa: E402
                              results_table, targets)

import gpugrad  # noqa: E402

WORKLOADS = {                               # name: (layer sizes, batch)
    "large256": ([784, 1024, 1024, 1024, 10], 256),
    "large4096": ([784, 1024, 1024, 1024, 10], 4096),
    "small32": ([64, 64, 64, 10], 32),
    "deep2048": ([512] + [512] * 32 + [10], 2048),
}
DRY_RUN_WORKLOADS = {                       # --cpu-dry-run: the same names, tiny sizes
    "large256": ([784, 64, 64, 10], 16),
    "large4096": ([784, 64, 64, 10], 64),
    "small32": ([64, 64, 64, 10], 32),
    "deep2048": ([32] * 9 + [10], 64),
}
QUICK_WORKLOADS = ("small32", "large256")
TOLERANCE = {"fp32": 1e-4, "tf32": 1e-2, "fp16": 1e-2}
REFERENCES = ("torch eager", "gpugrad eager unfused", "gpugrad eager fused")


def mlp_flops(sizes, batch: int) -> int:
    return 6 * batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def build_case(config, precision, sizes, weights, gg_data, np_data, libs) -> Case:
    if config.startswith("gpugrad"):
        return gg_case(config, precision, sizes, weights, gg_data)
    torch, jax, why_not = libs
    if config.startswith("torch"):
        if torch is None:
            raise Skip(f"skipped: {why_not['torch']}")
        return torch_case(torch, config, precision, sizes, weights, np_data)
    if jax is None:
        raise Skip(f"skipped: {why_not['jax']}")
    return jax_case(jax, precision, sizes, weights, np_data)


def check_losses(rows: list, precision: str) -> list:
    """Mark each row's loss against the reference row's; returns failure messages."""
    done = {r["config"]: r for r in rows if r["status"] == "ok"}
    ref = next((done[name] for name in REFERENCES if name in done), None)
    failures = []
    for r in rows:
        if r["status"] != "ok":
            continue
        if ref is None or r is ref:
            r["check"] = "reference" if r is ref else "-"
            continue
        rel = abs(r["loss"] - ref["loss"]) / max(abs(ref["loss"]), 1e-30)
        r["check_rel"] = rel
        if rel <= TOLERANCE[precision] and np.isfinite(r["loss"]):
            r["check"] = "ok"
        else:
            r["check"] = f"MISMATCH {rel:.1e}"
            failures.append(f"{r['workload']} {precision} {r['config']}: loss {r['loss']:.7g} "
                            f"vs {ref['config']} {ref['loss']:.7g} (relative {rel:.2e} > "
                            f"{TOLERANCE[precision]:g})")
    return failures


def run_config(row, config, precision, sizes, weights, data, args, libs, ceilings) -> str:
    """Build and run one configuration into ``row``; returns a gpugrad failure, or ""."""
    gg_data, np_data = data
    try:
        case = build_case(config, precision, sizes, weights, gg_data, np_data, libs)
        row.update(run_case(case, args.warmup, args.steps), status="ok")
        case = None
        row["tflops"] = row["flops_per_step"] / row["median_ms"] / 1e9
        ceiling = ceiling_for(ceilings, precision)
        row["fraction_of_ceiling"] = row["tflops"] / ceiling if ceiling else None
        if row["late_problem"] and config.startswith("gpugrad"):
            return f"{row['workload']} {precision} {config}: {row['late_problem']}"
    except Skip as exc:
        row.update(status="skipped", reason=str(exc))
    except Exception as exc:
        row.update(status="error", reason=f"{type(exc).__name__}: {exc}",
                   traceback=traceback.format_exc(limit=6))
        print(row["traceback"], file=sys.stderr)
        if config.startswith("gpugrad"):
            return f"{row['workload']} {precision} {config}: {row['reason']}"
    return ""


def run_workload(name, sizes, batch, args, libs, ceilings, started, problems,
                 flush=lambda rows: None) -> list:
    """Every chosen precision and configuration of one workload; returns the rows, their
    failures (loss mismatches, gpugrad errors) recorded in ``problems`` at the end.
    ``flush(rows)`` gets the rows so far after each one (the report is rewritten, so a run
    cut short keeps them)."""
    torch = libs[0]
    rng = np.random.default_rng(SEED)
    x_np = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y_np = rng.integers(0, sizes[-1], batch).astype(np.int64)
    weights = gg_weights(sizes)
    gg_data = (gpugrad.tensor(x_np, dtype="float32", device=TARGET.device),
               gpugrad.tensor(y_np, device=TARGET.device))
    flops = mlp_flops(sizes, batch)
    rows, failures = [], []
    for precision in args.precisions:
        group = []
        for config in args.config_names:
            row = {"workload": name, "sizes": f"{sizes[0]}-...-{sizes[-1]} ({len(sizes) - 1} "
                   f"layers)", "batch": batch, "precision": precision, "config": config,
                   "flops_per_step": flops}
            if time.perf_counter() - started > args.budget_s:
                row.update(status="skipped", reason=f"skipped: past --budget-s {args.budget_s}")
            else:
                free_memory(torch)
                failure = run_config(row, config, precision, sizes, weights,
                                     (gg_data, (x_np, y_np)), args, libs, ceilings)
                if failure:
                    failures.append(failure)
                free_memory(torch)
            group.append(row)
            print(progress_line(row), flush=True)
            flush(rows + group)
        failures += check_losses(group, precision)
        base = {r["config"]: r for r in group if r["status"] == "ok"}.get("torch eager")
        for r in group:
            if r["status"] == "ok" and base is not None:
                r["vs_torch_eager"] = r["median_ms"] / base["median_ms"]
        rows += group
    for failure in failures:
        problems.add(failure)
    return rows


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"workloads {','.join(QUICK_WORKLOADS)}, fewer steps")
    parser.add_argument("--sizes", help=f"comma-separated workloads of {','.join(WORKLOADS)}")
    parser.add_argument("--precisions", default=",".join(PRECISIONS),
                        help="comma-separated, of fp32,tf32,fp16")
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help=f"comma-separated, of {','.join(CONFIGS)}")
    parser.add_argument("--steps", type=int, help="timed steps (default 30, --quick 10)")
    parser.add_argument("--warmup", type=int, help="warm-up steps (default 20, --quick 6)")
    parser.add_argument("--budget-s", type=float, default=200.0,
                        help="skip the configurations left after this many seconds")
    parser.add_argument("--no-optimizer", action="store_true",
                        help="skip the optimizer-bandwidth measurement")
    parser.add_argument("--out-json")
    parser.add_argument("--out-md")
    parser.add_argument("--cpu-dry-run", action="store_true",
                        help="run the code paths on the CPU with tiny sizes (no GPU needed)")
    args = parser.parse_args(argv)
    args.steps = args.steps or (10 if args.quick else 30)
    args.warmup = max(args.warmup or (6 if args.quick else 20), CHECK_STEP)
    names = args.sizes.split(",") if args.sizes else list(
        QUICK_WORKLOADS if args.quick else WORKLOADS)
    for label, chosen, allowed in (("--sizes", names, WORKLOADS),
                                   ("--precisions", args.precisions.split(","), PRECISIONS),
                                   ("--configs", args.configs.split(","), CONFIGS)):
        unknown = [c for c in chosen if c not in allowed]
        if unknown:
            parser.error(f"{label}: unknown {unknown}; choose from {list(allowed)}")
    args.workloads = names
    args.precisions = args.precisions.split(",")
    args.config_names = [CONFIGS[c] for c in args.configs.split(",")]
    return args


def measure_ceilings(torch, report: dict) -> None:
    """The matmul ceilings and the device copy bandwidth, into ``report`` (GPU only)."""
    report["ceilings"] = matmul_ceilings(torch)
    try:
        report["copy"] = copy_bandwidth(torch, 100 << 20)
    except Exception as exc:
        traceback.print_exc()
        print(f"!! copy bandwidth failed: {type(exc).__name__}: {exc}", flush=True)
    for k, v in report["ceilings"].items():
        print(f"matmul 8192^3 {k}: {v:.1f} TFLOP/s")
    for k, v in report["copy"].items():
        print(f"device copy {k}: {v:.0f} GB/s")


def measure_optimizers(torch, report: dict, problems: Problems) -> None:
    tensors, numel, reps = (25, 4 << 20, 10) if TARGET.on_gpu else (4, 1 << 12, 3)
    report["optimizer_params"] = tensors * numel
    print(f"optimizer step over {tensors} x {numel} float32 parameters:")
    try:
        report["optimizer"] = optimizer_bandwidth(
            torch, max(report["copy"].values(), default=None), tensors, numel, reps, problems)
    except Exception as exc:
        traceback.print_exc()
        problems.add(f"optimizer bandwidth: {type(exc).__name__}: {exc}", loud=False)


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    if args.cpu_dry_run:
        TARGET.device = "cpu"
    elif not gpu_usable("gpu_training.py needs a GPU with CuPy; none is usable here, nothing "
                        "was measured"):
        return NO_GPU_EXIT
    torch, why_torch = load_torch()
    jax, why_jax = load_jax()
    why_not = {"torch": why_torch, "jax": why_jax}
    libs = (torch, jax, why_not)
    env = environment(torch, jax, why_not)
    for key, value in env.items():
        print(f"{key}: {value}")
    for lib, why in why_not.items():
        if why:
            print(f"!! {lib} configurations skipped: {why}")
    sys.stdout.flush()

    report = {"environment": env, "warmup": args.warmup, "steps": args.steps,
              "ceilings": {}, "copy": {}, "optimizer": [], "optimizer_params": 0,
              "results": [], "targets": [], "failures": [], "seconds": 0.0}
    problems = Problems(report["failures"])
    if TARGET.on_gpu:
        measure_ceilings(torch, report)
    if not args.no_optimizer:
        measure_optimizers(torch, report, problems)
    table = DRY_RUN_WORKLOADS if args.cpu_dry_run else WORKLOADS
    for name in args.workloads:
        sizes, batch = table[name]
        def flush(rows, done=list(report["results"])):
            write_report(args.out_json, args.out_md, dict(report, results=done + rows),
                         markdown)

        try:
            report["results"] += run_workload(name, sizes, batch, args, libs,
                                              report["ceilings"], started, problems, flush)
        except Exception as exc:            # e.g. gpugrad could not even build the model
            traceback.print_exc()
            problems.add(f"{name}: {type(exc).__name__}: {exc}")
        report["seconds"] = time.perf_counter() - started
        write_report(args.out_json, args.out_md, report, markdown)  # survives a timeout
    report["targets"] = targets(report["results"], report["optimizer"])
    report["seconds"] = time.perf_counter() - started
    write_report(args.out_json, args.out_md, report, markdown)
    print()
    print(results_table(report["results"]))
    print()
    for target, measured, met in report["targets"]:
        print(f"target {'met   ' if met else 'MISSED'} {target}: {measured}")
    print(f"total {report['seconds']:.0f} s")
    return problems.exit_status("\n!!! {n} FAILURE(S):", repeat=True)


if __name__ == "__main__":
    sys.exit(main())
