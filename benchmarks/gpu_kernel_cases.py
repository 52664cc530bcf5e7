"""The cases of benchmarks/gpu_kernels.py: each memory-bound fused kernel (relu, bias+relu,
relu+bias, softmax cross-entropy, mse) at one input size, and the MLP block's backward
(relu mask, db, dW, dx) on each route (cuBLAS, RawKernel, unfused, PyTorch). Each is
checked against the unfused CuPy composition (gpugrad's reference path) before it is timed.

``run`` below is gpu_kernels.Run: its ``snapshot``, ``check`` and ``time_us``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, Optional

import gpu_common  # noqa: F401  (puts this checkout's gpugrad first on sys.path)

import gpugrad
import gpugrad.cuda
from gpugrad.ops import fused


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


# ------------------------------------------------------------------ memory-bound kernels

def kernel_cases(cp, tc, mb: int):
    """The memory-bound kernels on float32 inputs of mb MB each, one Case at a time (each
    measured before the next is made). PyTorch sees the same memory, through DLPack."""
    from gpugrad.cuda import launch
    n, normal = int(mb * 2**20) // 4, cp.random.standard_normal
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


def measure_kernel(run, case: Case, mb: int, copy: float) -> dict:
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

def measure_linear(run, shape, dtype) -> dict:
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
