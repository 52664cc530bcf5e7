"""The report of benchmarks/gpu_training.py: what ran where (environment), the table of
training steps, the issue's targets (issue 8) and the Markdown file."""

from __future__ import annotations

import os
import platform
import sys

import numpy as np

from gpu_common import (card, commit, cuda_versions, fmt, jax_version, nvidia_smi,
                        set_torch_tf32, torch_version)
from gpu_train_case import CHECK_STEP, CONFIGS, MIB, PRECISIONS, TARGET


def environment(torch, jax, why_not: dict) -> dict:
    """Versions, card and driver, and why a library was left out; the command line."""
    info = {"python": platform.python_version(), "numpy": np.__version__,
            "gpugrad commit": commit(mark_uncommitted=True),
            "command": " ".join([os.path.basename(sys.executable)] + sys.argv)}
    if TARGET.on_gpu:
        import cupy
        info["card"] = card(cupy)["card"]
        smi = nvidia_smi("name,driver_version,memory.total")
        info["nvidia-smi"] = smi or "unavailable"
        info["driver"] = smi.split(",")[1].strip() if smi.count(",") >= 2 else "unknown"
        info["CUDA driver API"], info["CUDA runtime (CuPy)"] = cuda_versions(cupy)
        info["cupy"] = cupy.__version__
    else:
        info["card"] = "CPU (--cpu-dry-run: numbers mean nothing)"
    info["torch"] = torch_version(torch) if torch is not None else why_not["torch"]
    info["jax"] = (jax_version(jax, TARGET.jax_device) if jax is not None
                   else why_not["jax"])
    if torch is not None and TARGET.on_gpu:
        info["torch tf32 switch"] = set_torch_tf32(torch, False)
    return info


def progress_line(r: dict) -> str:
    head = f"{r['workload']:>9} {r['precision']:>4} {r['config']:<22}"
    if r["status"] != "ok":
        return f"{head} {r['reason']}"
    mem = f"{r['peak_bytes'] / MIB:.0f} MiB" if r.get("peak_bytes") else "-"
    return (f"{head} loss@{CHECK_STEP} {r['loss']:.6f}  median {r['median_ms']:.3f} ms  "
            f"mean {r['mean_ms']:.3f} ms  {r['tflops']:.1f} TFLOP/s  peak {mem}  "
            f"pool growth {r['pool_growth']}")


def results_table(rows: list) -> str:
    lines = ["| workload | prec | config | loss@4 | check | median ms | mean ms | x torch eager "
             "| TFLOP/s | % ceiling | peak MiB | pool growth 2->warm-up (B) | note |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lead = f"| {r['workload']} (b{r['batch']}) | {r['precision']} | {r['config']} |"
        if r["status"] != "ok":
            lines.append(f"{lead}" + " - |" * 9 + f" {r['reason']} |")
            continue
        frac = r.get("fraction_of_ceiling")
        lines.append(
            f"{lead} {r['loss']:.6f} | {r.get('check', '-')} | {r['median_ms']:.3f} | "
            f"{r['mean_ms']:.3f} | {fmt(r.get('vs_torch_eager'), '.2f')} | {r['tflops']:.2f} | "
            f"{fmt(None if frac is None else 100 * frac, '.1f')} | "
            f"{fmt(None if r['peak_bytes'] is None else r['peak_bytes'] / MIB, '.1f')} | "
            f"{fmt(r['pool_growth'], 'd')} | {r['note']} |")
    return "\n".join(lines)


def targets(rows: list, optimizer_rows: list) -> list:
    """(target, measured, met) for the issue's targets, from what ran."""
    def get(workload, precision, config, key="median_ms"):
        for r in rows:
            if (r["workload"], r["precision"], r["config"], r["status"]) == \
                    (workload, precision, config, "ok"):
                return r.get(key)
        return None

    out = []
    for precision in PRECISIONS:
        for workload in ("large256", "large4096"):
            torch_ms = get(workload, precision, "torch eager")
            best = min(((get(workload, precision, c), c) for c in CONFIGS.values()
                        if c.startswith("gpugrad") and get(workload, precision, c)),
                       default=None)
            if torch_ms and best:
                ratio = best[0] / torch_ms
                out.append((f"{workload} {precision}: gpugrad step <= 1.0x torch eager",
                            f"{ratio:.2f}x ({best[1]})", ratio <= 1.0))
        for config, limit, key in (("torch eager", 0.5, "median_ms"),
                                   ("jax jit", 1.0, "mean_ms")):
            mine = get("small32", precision, "gpugrad graph", key)
            other = get("small32", precision, config, key)
            if mine and other:
                out.append((f"small32 {precision}: gpugrad graph <= {limit}x {config} "
                            f"({key.replace('_ms', '')} step time)",
                            f"{mine / other:.2f}x", mine / other <= limit))
        gg_peak = get("deep2048", precision, "gpugrad eager fused", "peak_bytes")
        torch_peak = get("deep2048", precision, "torch eager", "peak_bytes")
        if gg_peak and torch_peak:
            out.append((f"deep2048 {precision}: gpugrad eager peak memory <= torch eager",
                        f"{gg_peak / MIB:.0f} vs {torch_peak / MIB:.0f} MiB "
                        f"({gg_peak / torch_peak:.2f}x)", gg_peak <= torch_peak))
    for config in ("gpugrad eager fused", "gpugrad graph"):
        grown = [r for r in rows if r["config"] == config and r["status"] == "ok"
                 and r.get("pool_growth") is not None]
        if grown:
            worst = max(grown, key=lambda r: r["pool_growth"])
            out.append((f"{config}: memory pool does not grow from step 2 to the end of "
                        f"warm-up", f"max growth {worst['pool_growth']} B "
                        f"({worst['workload']} {worst['precision']}) over {len(grown)} runs",
                        worst["pool_growth"] <= 0))
    for r in optimizer_rows:
        if r["library"] == "gpugrad" and r["fused"] is True and r["fraction_of_copy"]:
            out.append((f"fused {r['optimizer']} >= 80% of copy bandwidth",
                        f"{r['fraction_of_copy']:.0%} ({r['GB/s']:.0f} GB/s)",
                        r["fraction_of_copy"] >= 0.8))
    return out


def markdown(report: dict) -> str:
    env = report["environment"]
    parts = ["# gpugrad GPU training benchmark (benchmarks/gpu_training.py)", ""]
    parts += [f"- {k}: {v}" for k, v in env.items()]
    parts += ["", f"Steps: {report['warmup']} warm-up (loss of step {CHECK_STEP} checked), "
              f"{report['steps']} timed. Total run time {report['seconds']:.0f} s.", ""]
    if report["ceilings"]:
        parts += ["## Ceilings", "", "| what | value |", "|---|---|"]
        parts += [f"| matmul 8192^3 {k} | {v:.1f} TFLOP/s |"
                  for k, v in report["ceilings"].items()]
        parts += [f"| device copy, {k} | {v:.0f} GB/s |" for k, v in report["copy"].items()]
        parts.append("")
    if report["optimizer"]:
        parts += [f"## Optimizer step, {report['optimizer_params'] / 1e6:g}M float32 "
                  f"parameters", "",
                  "| library | optimizer | fused | ms | GB/s (minimal bytes) | of copy |",
                  "|---|---|---|---|---|---|"]
        parts += [f"| {r['library']} | {r['optimizer']} | {r['fused']} | {r['ms']:.3f} | "
                  f"{r['GB/s']:.0f} | {fmt(r['fraction_of_copy'], '.0%')} |"
                  for r in report["optimizer"]]
        parts.append("")
    parts += ["## Training steps", "", results_table(report["results"]), ""]
    if report["targets"]:
        parts += ["## Targets (issue 8)", "", "| target | measured | met |", "|---|---|---|"]
        parts += [f"| {t} | {m} | {'yes' if ok else 'NO'} |" for t, m, ok in report["targets"]]
        parts.append("")
    parts += ["## Failures", ""]
    parts += [f"- {f}" for f in report["failures"]] or ["none"]
    return "\n".join(parts) + "\n"
