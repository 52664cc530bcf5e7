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
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from common import mlp_setup  # this script's folder is on sys.path when run

import gpugrad
import gpugrad.cuda
from gpugrad import backend, nn, optim
from gpugrad.nn import functional as F
from gpugrad.ops import fused

SIZES_MB = (1, 16, 64, 256)
COPY_MB = 256
WARMUP, REPS = 3, 20
BUDGET_S = 200.0
LINEAR = (((256, 1024, 1024), "float32"), ((32, 64, 64), "float32"),
          ((2048, 512, 512), "float32"), ((4096, 1024, 1024), "float32"),
          ((256, 1024, 1024), "float64"))          # (rows, outs, ins), dtype
MLPS = (("784-1024-1024-1024-10, batch 256", [784, 1024, 1024, 1024, 10], 256),
        ("64-64-64-10, batch 32", [64, 64, 64, 10], 32))
LR = 0.1


@dataclass
class Case:
    """One kernel at one size: callables returning their result(s), bytes read + written."""
    name: str
    nbytes: int
    fused: Callable
    unfused: Callable                   # run with gpugrad.cuda.set_fused(False)
    torch: Optional[Callable] = None
    prepare: Optional[Callable] = None  # restores the input of an in-place kernel


@contextlib.contextmanager
def settings(fused_on: bool, route: str = "auto"):
    """gpugrad's fused kernels on or off and the linear backward route, restored after."""
    fused_before = gpugrad.cuda.set_fused(fused_on)
    route_before = gpugrad.cuda.set_linear_route(route)
    try:
        yield
    finally:
        gpugrad.cuda.set_fused(fused_before)
        gpugrad.cuda.set_linear_route(route_before)


class Run:
    """The GPU libraries, the results so far, and every mismatch or error."""

    def __init__(self, cp, torch):
        self.cp, self.torch, self.start = cp, torch, time.perf_counter()
        self.results = {"kernels": [], "linear_backward": [], "mlp": []}
        self.problems: list[str] = []

    def out_of_time(self, what: str) -> bool:
        if time.perf_counter() - self.start < BUDGET_S:
            return False
        self.results.setdefault("skipped", []).append(what)
        print(f"skipped (past the {BUDGET_S:.0f} s budget): {what}")
        return True

    def problem(self, text: str) -> None:
        self.problems.append(text)
        print(f"!!! {text}", flush=True)

    def time_us(self, fn, on_torch: bool = False) -> float:
        """Median microseconds per call over REPS, each between two CUDA events."""
        lib = self.torch.cuda if on_torch else self.cp.cuda
        for _ in range(WARMUP):
            fn()
        start, end = ((lib.Event(enable_timing=True), lib.Event(enable_timing=True))
                      if on_torch else (lib.Event(), lib.Event()))
        times = []
        for _ in range(REPS):
            start.record()
            fn()
            end.record()
            end.synchronize()
            ms = start.elapsed_time(end) if on_torch else lib.get_elapsed_time(start, end)
            times.append(ms * 1e3)
        return statistics.median(times)

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


def environment(cp, torch, torch_note: str) -> dict:
    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.Device().id)
    name = props.get("name", b"?")
    try:
        driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version",
                                 "--format=csv,noheader"], capture_output=True, text=True,
                                timeout=30).stdout.strip().splitlines()[0]
    except Exception as exc:                            # no nvidia-smi: keep going
        driver = f"unknown ({type(exc).__name__})"
    return {"card": name.decode() if isinstance(name, bytes) else str(name),
            "compute_capability": f"{props.get('major')}.{props.get('minor')}",
            "multiprocessors": props.get("multiProcessorCount"),
            "memory_gib": round(props.get("totalGlobalMem", 0) / 2**30, 1),
            "driver": driver, "cuda_driver_api": cp.cuda.runtime.driverGetVersion(),
            "cuda_runtime": cp.cuda.runtime.runtimeGetVersion(),
            "python": platform.python_version(), "numpy": np.__version__,
            "cupy": cp.__version__, "gpugrad": gpugrad.__version__, "torch": torch_note,
            "commit": os.environ.get("GPUGRAD_COMMIT") or _git_commit(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "timing": f"median of {REPS} CUDA-event timings after {WARMUP} warm-up calls"}


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip() or "unknown"
    except Exception:
        return "unknown"


def import_torch():
    """(torch or None, a note for the report)."""
    try:
        import torch
    except Exception as exc:
        return None, f"not importable ({type(exc).__name__})"
    if not torch.cuda.is_available():
        return None, f"{torch.__version__} without CUDA"
    torch.backends.cuda.matmul.allow_tf32 = False       # full float32, as CuPy's GEMMs
    return torch, f"{torch.__version__} (CUDA {torch.version.cuda})"


# ------------------------------------------------------------------ memory-bound kernels

def copy_gbps(run: Run, mb: int) -> float:
    """Device-to-device copy bandwidth (bytes read + written per second) on mb MB."""
    cp = run.cp
    a = cp.random.standard_normal(mb * 2**20 // 4, dtype=cp.float32)
    b = cp.empty_like(a)

    def copy():
        b.data.copy_from_device_async(a.data, a.nbytes)      # cudaMemcpyAsync, D2D

    try:
        copy()
    except Exception as exc:            # an older CuPy: its element-wise copy instead
        print(f"memcpy failed ({type(exc).__name__}: {exc}); timing cupy.copyto instead")

        def copy():
            cp.copyto(b, a)

        copy()
    if not bool((a == b).all()):
        run.problem(f"MISMATCH device-to-device copy of {mb} MB")
    return 2 * a.nbytes / (run.time_us(copy) * 1e-6) / 1e9


def kernel_cases(cp, tc, mb: int):
    """The memory-bound kernels on float32 inputs of mb MB each, one Case at a time (each
    measured before the next is made). PyTorch sees the same memory, through DLPack."""
    from gpugrad.cuda import launch
    n, normal = mb * 2**20 // 4, cp.random.standard_normal
    aten = tc.ops.aten if tc is not None else None

    def views(*arrays):
        return [None if tc is None else tc.from_dlpack(a) for a in arrays]

    x, gy = normal(n, dtype=cp.float32), normal(n, dtype=cp.float32)
    y = launch.relu_forward(x)
    xt, gyt, yt = views(x, gy, y)
    yield Case("relu fwd", 2 * x.nbytes, lambda: launch.relu_forward(x),
               lambda: fused.relu_forward(cp, x), tc and (lambda: tc.relu(xt)))
    yield Case("relu bwd", 3 * x.nbytes, lambda: launch.relu_backward(gy, y),
               lambda: fused.relu_backward(cp, gy, y),
               tc and (lambda: aten.threshold_backward(gyt, yt, 0)))

    rows, cols = n // 1024, 1024
    z0, b = normal((rows, cols), dtype=cp.float32), normal(cols, dtype=cp.float32)
    z = z0.copy()
    zt, bt = views(z, b)

    def bias_relu_unfused():            # the reference lines of fused.linear_relu_forward
        cp.add(z, b, out=z)
        return cp.maximum(z, 0, out=z)

    yield Case("bias+relu fwd (in place)", 2 * z.nbytes + b.nbytes,
               lambda: launch.bias_relu_forward_(z, b), bias_relu_unfused,
               tc and (lambda: zt.add_(bt).relu_()), lambda: cp.copyto(z, z0))
    g2, y2 = gy.reshape(rows, cols), y.reshape(rows, cols)
    g2t, y2t = views(g2, y2)

    def relu_bias_unfused():
        gz = fused.relu_backward(cp, g2, y2)
        return gz, gz.sum(axis=0)

    def relu_bias_torch():
        gz = aten.threshold_backward(g2t, y2t, 0)
        return gz, gz.sum(0)

    yield Case("relu+bias bwd (gz, db)", 3 * g2.nbytes + b.nbytes,
               lambda: launch.relu_bias_backward(g2, y2), relu_bias_unfused,
               tc and relu_bias_torch)

    one = cp.ones((), cp.float32)
    for classes in (10, 1000):
        r = n // classes
        logits = normal((r, classes), dtype=cp.float32) * 2
        labels = cp.random.randint(0, classes, r).astype(cp.int64)
        lt, lab = views(logits, labels)
        yield Case(f"softmax xent fwd, {classes} classes",
                   logits.nbytes + labels.nbytes + 4 * r,
                   lambda: launch.softmax_xent_forward(logits, labels, -100, 0.0),
                   lambda: fused.softmax_xent_forward(cp, logits, labels, -100, 0.0),
                   tc and (lambda: tc.nn.functional.cross_entropy(lt, lab, reduction="none")))
        yield Case(f"softmax xent bwd, {classes} classes", 2 * logits.nbytes + labels.nbytes,
                   lambda: launch.softmax_xent_backward(logits, labels, one, -100, 0.0, 1 / r),
                   lambda: fused.softmax_xent_backward(cp, logits, labels, one, -100, 0.0,
                                                       1 / r),
                   tc and _torch_grad(tc, lambda v: tc.nn.functional.cross_entropy(v, lab), lt))

    t = normal(n, dtype=cp.float32)
    (tt,) = views(t)
    yield Case("mse bwd", 3 * x.nbytes, lambda: launch.mse_backward(x, t, one, 1 / n),
               lambda: fused.mse_backward(cp, x, t, one, 1 / n),
               tc and _torch_grad(tc, lambda v: tc.nn.functional.mse_loss(v, tt), xt))


def _torch_grad(tc, loss_of, value):
    """A callable running only PyTorch's backward of loss_of(value) (graph kept)."""
    leaf = value.detach().clone().requires_grad_(True)
    loss = loss_of(leaf)
    return lambda: tc.autograd.grad(loss, leaf, retain_graph=True)[0]


def measure_kernel(run: Run, case: Case, mb: int, copy: float) -> dict:
    impls = [("fused", case.fused, True), ("unfused", case.unfused, False)]
    if case.torch:
        impls.append(("torch", case.torch, True))
    outs, row = {}, {"kernel": case.name, "input_mb": mb, "bytes": case.nbytes}
    for impl, fn, fused_on in impls:
        with settings(fused_on):
            if case.prepare:
                case.prepare()
            outs[impl] = run.snapshot(fn())
    what = f"{case.name}, {mb} MB"
    row["error_vs_unfused"] = run.check(f"{what}: fused vs unfused", outs["fused"],
                                        outs["unfused"], 1e-5)
    if "torch" in outs:
        row["torch_error_vs_unfused"] = run.check(f"{what}: PyTorch vs unfused",
                                                  outs["torch"], outs["unfused"], 1e-5)
    for impl, fn, fused_on in impls:
        with settings(fused_on):
            row[f"{impl}_us"] = run.time_us(fn, on_torch=impl == "torch")
    row["fused_gbps"] = case.nbytes / (row["fused_us"] * 1e-6) / 1e9
    row["fraction_of_copy"] = row["fused_gbps"] / copy
    row["speedup_vs_unfused"] = row["unfused_us"] / row["fused_us"]
    if "torch_us" in row:
        row["speedup_vs_torch"] = row["torch_us"] / row["fused_us"]
    return row


# ------------------------------------------------------------------ the MLP block's backward

def measure_linear(run: Run, shape, dtype) -> dict:
    cp, tc = run.cp, run.torch
    rows, outs, ins = shape
    g, x, w = (cp.random.standard_normal(s).astype(dtype)
               for s in ((rows, outs), (rows, ins), (outs, ins)))
    y = cp.maximum(cp.random.standard_normal((rows, outs)), 0).astype(dtype)

    def block():
        return fused.linear_relu_backward(cp, g, y, x, w, (True, True, True))

    impls = [("cublas", block, True, "cublas"), ("rawkernel", block, True, "rawkernel"),
             ("unfused", block, False, "auto")]
    if tc is not None:
        gt, yt, xt, wt = (tc.from_dlpack(a) for a in (g, y, x, w))

        def torch_block():
            gz = tc.ops.aten.threshold_backward(gt, yt, 0)
            return gz @ wt, gz.t() @ xt, gz.sum(0)

        impls.append(("torch", torch_block, True, "auto"))
    row, results = {"shape": list(shape), "dtype": dtype}, {}
    for impl, fn, fused_on, route in impls:
        with settings(fused_on, route):
            results[impl] = run.snapshot(fn())
    rtol = 1e-4 if dtype == "float32" else 1e-10
    for impl in results:
        if impl != "unfused":
            row[f"{impl}_error"] = run.check(f"linear backward {shape} {dtype}: {impl} vs "
                                             f"unfused", results[impl], results["unfused"], rtol)
    for impl, fn, fused_on, route in impls:
        with settings(fused_on, route):
            row[f"{impl}_us"] = run.time_us(fn, on_torch=impl == "torch")
    row["faster_route"] = min(("cublas", "rawkernel"), key=lambda r: row[f"{r}_us"])
    return row


# ------------------------------------------------------------------ MLP training steps

def gpugrad_mlp(sizes, weights, x, y):
    """(step, forward loss, parameters) of a gpugrad MLP on cuda from these weights."""
    model = nn.MLP(sizes, device="cuda")
    linears = [m for m in model.layers if isinstance(m, nn.Linear)]
    for layer, (w, b) in zip(linears, weights):
        layer.weight.data = gpugrad.tensor(w, device="cuda")
        layer.bias.data = gpugrad.tensor(b, device="cuda")
    opt = optim.SGD(model.parameters(), lr=LR)
    xt, yt = gpugrad.tensor(x, device="cuda"), gpugrad.tensor(y, device="cuda")
    params = [p for layer in linears for p in (layer.weight, layer.bias)]

    def forward():
        return F.cross_entropy(model(xt), yt)

    def step():
        loss = forward()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step, forward, params


def torch_mlp(tc, weights, x, y):
    layers = []
    for i, (w, b) in enumerate(weights):
        layer = tc.nn.Linear(w.shape[1], w.shape[0]).cuda()
        with tc.no_grad():
            layer.weight.copy_(tc.from_numpy(w))
            layer.bias.copy_(tc.from_numpy(b))
        layers += [layer] + ([tc.nn.ReLU()] if i < len(weights) - 1 else [])
    model = tc.nn.Sequential(*layers)
    opt = tc.optim.SGD(model.parameters(), lr=LR)
    xt, yt = tc.from_numpy(x).cuda(), tc.from_numpy(y).cuda()

    def forward():
        return tc.nn.functional.cross_entropy(model(xt), yt)

    def step():
        loss = forward()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return step, forward, [p for layer in layers[::2] for p in (layer.weight, layer.bias)]


def first_loss64(weights, x, y) -> float:
    h = x.astype(np.float64)
    for i, (w, b) in enumerate(weights):
        h = h @ w.T.astype(np.float64) + b
        h = np.maximum(h, 0) if i < len(weights) - 1 else h
    shifted = h - h.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def measure_mlp(run: Run, name: str, sizes, batch: int) -> dict:
    weights, x, y = mlp_setup(sizes, batch)
    impls = [("fused", True), ("unfused", False)] + ([("torch", True)] if run.torch else [])
    row, grads, losses = {"model": name}, {}, {}
    for impl, fused_on in impls:
        with settings(fused_on):
            on_torch = impl == "torch"
            step, forward, params = (torch_mlp(run.torch, weights, x, y) if on_torch
                                     else gpugrad_mlp(sizes, weights, x, y))
            if not on_torch:                          # one backward from the initial weights
                forward().backward()
                grads[impl] = run.snapshot([p.grad for p in params])
            losses[impl] = [float(step().item()) for _ in range(3)]
            row[f"{impl}_step_ms"] = run.time_us(step, on_torch) / 1e3
            for p in params:
                p.grad = None
            loss = forward()        # a fresh graph: the steps changed the saved weights
            row[f"{impl}_backward_ms"] = run.time_us(lambda: loss.backward(retain_graph=True),
                                                     on_torch) / 1e3
    reference = first_loss64(weights, x, y)
    for impl, _ in impls:
        first = losses[impl][0]
        if not abs(first - reference) <= 1e-4 * abs(reference):
            run.problem(f"MISMATCH MLP {name} {impl}: first loss {first!r}, float64 "
                        f"{reference!r}")
        if impl != "unfused":
            run.check(f"MLP {name} {impl} vs unfused: losses over 3 SGD steps",
                      (run.cp.asarray(losses[impl]),), (run.cp.asarray(losses["unfused"]),),
                      1e-4)
    # Gradients only fused against unfused (one forward, bit for bit): PyTorch's forward
    # rounds differently, so a pre-activation within rounding of 0 may flip its relu mask.
    run.check(f"MLP {name} fused vs unfused: gradients", grads["fused"], grads["unfused"], 1e-4)
    row["losses"] = losses
    return row


# ------------------------------------------------------------------ report

def _f(value, digits=1):
    return "" if value is None else f"{value:.{digits}f}"


def markdown(env: dict, copy: dict, results: dict, problems: list) -> str:
    lines = [f"# gpugrad fused kernels on {env['card']}, {env['date']}", "",
             f"Driver {env['driver']}, CUDA runtime {env['cuda_runtime']}, CuPy {env['cupy']}, "
             f"PyTorch {env['torch']}, NumPy {env['numpy']}, Python {env['python']}; commit "
             f"{env['commit']}. Times: {env['timing']}.", "",
             f"Device-to-device copy of {COPY_MB} MB: **{copy[COPY_MB]:.0f} GB/s** (read + "
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-json", help="write every result here as JSON")
    parser.add_argument("--out-md", help="write the Markdown tables here")
    args = parser.parse_args(argv)
    usable, reason = backend.cuda_status()
    if not usable:
        print(f"gpu_kernels.py needs CuPy and a usable CUDA GPU: {reason}", file=sys.stderr)
        return 2
    cp = backend._require_cupy()
    torch, torch_note = import_torch()
    env = environment(cp, torch, torch_note)
    print(json.dumps(env, indent=1), flush=True)
    run = Run(cp, torch)
    copy = {}
    for mb in SIZES_MB + ((COPY_MB,) if COPY_MB not in SIZES_MB else ()):
        copy[mb] = copy_gbps(run, mb)
        print(f"copy {mb} MB: {copy[mb]:.0f} GB/s", flush=True)
    for mb in SIZES_MB:
        for case in kernel_cases(cp, torch, mb):
            if run.out_of_time(f"{case.name}, {mb} MB"):
                continue
            try:
                row = measure_kernel(run, case, mb, copy[COPY_MB])
                run.results["kernels"].append(row)
                print(f"{case.name:32} {mb:4} MB: fused {row['fused_us']:9.1f} us "
                      f"{row['fraction_of_copy']:5.0%} of copy, x{row['speedup_vs_unfused']:.2f}"
                      f" vs unfused, x{row.get('speedup_vs_torch', math.nan):.2f} vs PyTorch",
                      flush=True)
            except Exception:
                run.problem(f"ERROR {case.name}, {mb} MB:\n{traceback.format_exc()}")
        cp.get_default_memory_pool().free_all_blocks()
    for shape, dtype in LINEAR:
        if not run.out_of_time(f"linear backward {shape} {dtype}"):
            try:
                row = measure_linear(run, shape, dtype)
                run.results["linear_backward"].append(row)
                print(f"linear backward {shape} {dtype}: " + ", ".join(
                    f"{k[:-3]} {v:.1f} us" for k, v in row.items() if k.endswith("_us")),
                    flush=True)
            except Exception:
                run.problem(f"ERROR linear backward {shape} {dtype}:\n{traceback.format_exc()}")
    for name, sizes, batch in MLPS:
        if not run.out_of_time(f"MLP {name}"):
            try:
                row = measure_mlp(run, name, sizes, batch)
                run.results["mlp"].append(row)
                print(f"MLP {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()
                                                  if k.endswith("_ms")), flush=True)
            except Exception:
                run.problem(f"ERROR MLP {name}:\n{traceback.format_exc()}")
    report = markdown(env, copy, run.results, run.problems)
    print(report)
    data = {"environment": env, "copy_gbps": copy, **run.results, "problems": run.problems,
            "seconds": time.perf_counter() - run.start}
    if args.out_json:
        with open(args.out_json, "w") as f:
            json.dump(data, f, indent=1, default=str)
    if args.out_md:
        with open(args.out_md, "w") as f:
            f.write(report)
    if run.problems:
        print(f"{len(run.problems)} MISMATCHES OR ERRORS (listed above)", file=sys.stderr)
    return 1 if run.problems else 0


if __name__ == "__main__":
    sys.exit(main())
