"""The report of benchmarks/gpu_kernels.py: its Markdown tables (memory-bound kernels, the
MLP block's backward, MLP training steps) and the issue's targets."""

from __future__ import annotations

from gpu_common import fmt


def _f(value, digits=1):
    return fmt(value, f".{digits}f", missing="")


def markdown(env: dict, copy: dict, copy_mb: int, results: dict, problems: list) -> str:
    """The whole report; ``copy[copy_mb]`` is the copy bandwidth kernels are measured by."""
    lines = [f"# gpugrad fused kernels on {env['card']}, {env['date']}", "",
             f"Driver {env['driver']}, CUDA runtime {env['cuda_runtime']}, CuPy {env['cupy']}, "
             f"PyTorch {env['torch']}, NumPy {env['numpy']}, Python {env['python']}; commit "
             f"{env['commit']}. Times: {env['timing']}.", "",
             f"Device-to-device copy of {copy_mb} MB: **{copy[copy_mb]:.0f} GB/s** (read + "
             "write); by size: " + ", ".join(f"{mb} MB {v:.0f}" for mb, v in copy.items()) +
             " GB/s.", "", "## Memory-bound kernels, float32", "",
             "| kernel | input MB | fused us | fused GB/s | of copy | unfused us | "
             "x unfused | PyTorch us | x PyTorch |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results["kernels"]:
        lines.append(f"| {r['kernel']} | {r['input_mb']} | {_f(r['fused_us'])} | "
                     f"{_f(r['fused_gbps'], 0)} | {r['fraction_of_copy']:.0%} | "
                     f"{_f(r['unfused_us'])} | {_f(r['speedup_vs_unfused'], 2)} | "
                     f"{_f(r.get('torch_us'))} | {_f(r.get('speedup_vs_torch'), 2)} |")
    lines += ["", "x unfused, x PyTorch: their time over the fused kernel's (above 1: fused "
              "is faster).", "", "## MLP block backward (relu mask, db, dW, dx)", "",
              "| rows x outs x ins | dtype | cuBLAS route us | RawKernel route us | unfused us "
              "| PyTorch us | faster route |", "|---|---|---|---|---|---|---|"]
    for r in results["linear_backward"]:
        lines.append(f"| {' x '.join(map(str, r['shape']))} | {r['dtype']} | "
                     f"{_f(r['cublas_us'])} | {_f(r['rawkernel_us'])} | {_f(r['unfused_us'])} "
                     f"| {_f(r.get('torch_us'))} | {r['faster_route']} |")
    lines += ["", "## MLP training step (forward, cross-entropy, backward, SGD lr 0.1)", "",
              "| model | fused ms | unfused ms | PyTorch ms | fused / PyTorch | backward: "
              "fused ms | unfused ms | PyTorch ms |", "|---|---|---|---|---|---|---|---|"]
    for r in results["mlp"]:
        ratio = r["fused_step_ms"] / r["torch_step_ms"] if "torch_step_ms" in r else None
        lines.append(f"| {r['model']} | {_f(r['fused_step_ms'], 3)} | "
                     f"{_f(r['unfused_step_ms'], 3)} | {_f(r.get('torch_step_ms'), 3)} | "
                     f"{_f(ratio, 2)} | {_f(r['fused_backward_ms'], 3)} | "
                     f"{_f(r['unfused_backward_ms'], 3)} | "
                     f"{_f(r.get('torch_backward_ms'), 3)} |")
    lines += ["", "## Targets", ""] + [f"- {t}" for t in targets(results)]
    lines += ["", "## Mismatches and errors", ""] + ([f"- {p}" for p in problems] or ["none"])
    return "\n".join(lines) + "\n"


def targets(results: dict) -> list:
    """The issue's targets, each with 'met' or what missed it."""
    k = results["kernels"]
    big = [r for r in k if r["input_mb"] >= 64]
    slow = [f"{r['kernel']} {r['input_mb']} MB {r['fraction_of_copy']:.0%}" for r in big
            if r["fraction_of_copy"] < 0.8] + ([] if big else ["nothing measured"])
    beaten = [f"{r['kernel']} {r['input_mb']} MB" for r in k
              if r["speedup_vs_unfused"] <= 1 or r.get("speedup_vs_torch", 2) <= 1]
    mlp = results["mlp"]
    backward = [r["model"] for r in mlp if r["fused_backward_ms"] >= r["unfused_backward_ms"]]
    large = [r for r in mlp if r["model"].startswith("784") and "torch_step_ms" in r]
    within = [f"{r['fused_step_ms'] / r['torch_step_ms']:.2f}x" for r in large]

    def verdict(misses):
        return "met" if not misses else "NOT met: " + "; ".join(misses)

    if not within:
        size_verdict = "not measured"
    elif all(float(w[:-1]) <= 1.1 for w in within):
        size_verdict = "met (" + ", ".join(within) + ")"
    else:
        size_verdict = "NOT met (" + ", ".join(within) + ")"
    return [f"memory-bound kernels >= 80% of copy bandwidth at >= 64 MB: {verdict(slow)}",
            f"fused faster than unfused and PyTorch at every size: {verdict(beaten)}",
            f"fused MLP backward faster than unfused: {verdict(backward)}",
            f"large MLP step within 1.1x of PyTorch: {size_verdict}"]
