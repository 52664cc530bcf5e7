"""The MLP training steps of benchmarks/gpu_kernels.py: forward, cross-entropy, backward and
SGD (lr 0.1) for gpugrad fused, gpugrad unfused and PyTorch from one initialisation
(common.mlp_setup), each step and its backward alone timed, after their losses are checked
against float64 and against each other and gpugrad's gradients fused against unfused.

``run`` below is gpu_kernels.Run: its ``snapshot``, ``check``, ``problem`` and ``time_us``.
"""

from __future__ import annotations

import numpy as np

from common import mlp_setup  # this script's folder is on sys.path when run
from gpu_kernel_cases import settings

import gpugrad
from gpugrad import nn, optim
from gpugrad.nn import functional as F

LR = 0.1


def gpugrad_mlp(sizes, weights, x, y, device="cuda"):
    """(step, forward loss, parameters) of a gpugrad MLP on ``device`` from these weights."""
    model = nn.MLP(sizes, device=device)
    linears = [m for m in model.layers if isinstance(m, nn.Linear)]
    for layer, (w, b) in zip(linears, weights):
        layer.weight.data = gpugrad.tensor(w, device=device)
        layer.bias.data = gpugrad.tensor(b, device=device)
    opt = optim.SGD(model.parameters(), lr=LR)
    xt, yt = gpugrad.tensor(x, device=device), gpugrad.tensor(y, device=device)
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


def measure_mlp(run, name: str, sizes, batch: int) -> dict:
    weights, x, y = mlp_setup(sizes, batch)
    impls = [("fused", True), ("unfused", False)] + ([("torch", True)] if run.torch else [])
    row, grads, losses = {"model": name}, {}, {}
    for impl, fused_on in impls:
        with settings(fused_on):
            on_torch = impl == "torch"
            step, forward, params = (torch_mlp(run.torch, weights, x, y) if on_torch
                                     else gpugrad_mlp(sizes, weights, x, y,
                                                      "cpu" if run.dry else "cuda"))
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
