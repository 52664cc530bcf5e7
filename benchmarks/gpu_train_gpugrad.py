"""gpugrad's configurations of benchmarks/gpu_training.py: eager fused (the default), eager
unfused (gpugrad.cuda.set_fused(False)), graph (gpugrad.cuda.graph: the whole step
captured into a CUDA graph, replayed) and compile (gpugrad.compile: on a GPU the same CUDA
graph with its outputs copied out; on the CPU a recorded program replayed), in fp32, tf32
(matmul precision "high") and fp16 (gpugrad.amp autocast + GradScaler; the graph then
captures forward + backward only and runs the GradScaler step eagerly, since it reads an
inf/NaN flag on the host; compile is not measured in fp16).

Also gpugrad's initial weights, which every library starts from, and its clock and sync.
"""

from __future__ import annotations

import contextlib

import numpy as np

import gpu_common
from gpu_train_case import LR, MOMENTUM, SEED, TARGET, Case, Skip

import gpugrad
from gpugrad.nn import functional as F


def gg_sync() -> None:
    if TARGET.on_gpu:
        import cupy
        cupy.cuda.Device().synchronize()


def gg_clock() -> gpu_common.Clock:
    return gpu_common.cupy_clock() if TARGET.on_gpu else gpu_common.host_clock(gg_sync)


def set_gg_precision(precision: str) -> None:
    """gpugrad's float32 matmul precision ("highest" or "high"), top-level name or cuda's."""
    setter = getattr(gpugrad, "set_matmul_precision", None) or gpugrad.cuda.set_matmul_precision
    setter(precision)


def gg_weights(sizes) -> list:
    """gpugrad's initial parameters for ``sizes`` as NumPy arrays, in named_parameters order
    (W0 (out, in), b0, W1, b1, ...): every library starts from these."""
    gpugrad.manual_seed(SEED)
    model = gpugrad.nn.MLP(sizes, device=TARGET.device)
    return [np.array(p.numpy(), dtype=np.float32, copy=True)
            for _, p in model.named_parameters()]


def gg_model(sizes, weights):
    gpugrad.manual_seed(SEED)
    model = gpugrad.nn.MLP(sizes, device=TARGET.device)
    for (name, p), w in zip(model.named_parameters(), weights):
        if not np.array_equal(p.numpy(), w):
            raise RuntimeError(f"gpugrad.nn.MLP under manual_seed({SEED}) did not reproduce "
                               f"its initial {name}")
    return model


def gg_pools(captured) -> list:
    """The private memory pools of a gpugrad.cuda.graph step (one per input signature), or
    of the one a gpugrad.compile step made on its first call."""
    captured = getattr(captured, "_graph", captured)        # a CompiledStep: its graph
    entries = getattr(captured, "_entries", {}) if captured is not None else {}
    return [e.pool for e in entries.values() if getattr(e, "pool", None) is not None]


def gg_pool_bytes(captured=None):
    if not TARGET.on_gpu:
        return None
    import cupy
    return (cupy.get_default_memory_pool().total_bytes()
            + sum(pool.total_bytes() for pool in gg_pools(captured)))


@contextlib.contextmanager
def gg_mode(precision: str, fused: bool):
    previous = gpugrad.cuda.set_fused(fused)
    set_gg_precision("high" if precision == "tf32" else "highest")
    try:
        yield
    finally:
        gpugrad.cuda.set_fused(previous)
        set_gg_precision("highest")


def gg_case(config: str, precision: str, sizes, weights, data) -> Case:
    amp = precision == "fp16"
    if amp and not all(hasattr(getattr(gpugrad, "amp", None), name)
                       for name in ("autocast", "GradScaler")):
        raise Skip("skipped: gpugrad.amp missing")
    graph = config == "gpugrad graph"
    compiled = config == "gpugrad compile"
    if compiled and amp:
        raise Skip("skipped: compile with fp16 (GradScaler reads the host) is not measured")
    model = gg_model(sizes, weights)
    opt = gpugrad.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    scaler = gpugrad.amp.GradScaler() if amp else None
    x, y = data

    def forward_loss(xb, yb):
        if amp:
            with gpugrad.amp.autocast("float16"):
                return F.cross_entropy(model(xb), yb)
        return F.cross_entropy(model(xb), yb)

    def update():
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()

    def forward_backward(xb, yb):
        opt.zero_grad(set_to_none=not (graph or compiled))  # a captured step keeps its grads
        loss = forward_loss(xb, yb)
        (scaler.scale(loss) if scaler is not None else loss).backward()
        return loss

    def train_step(xb, yb):
        loss = forward_backward(xb, yb)
        update()
        return loss

    captured, note, finish = None, "", None
    if compiled:
        compiled_step = gpugrad.compile(train_step)
        captured = compiled_step if TARGET.on_gpu else None

        def step():
            return compiled_step(x, y)
    elif not graph:
        def step():
            return train_step(x, y)
    elif not amp:
        captured = gpugrad.cuda.graph(train_step, x, y)

        def step():
            return captured(x, y)
    else:                       # GradScaler.step syncs with the host: it stays eager
        captured = gpugrad.cuda.graph(forward_backward, x, y)
        calls, seen = [0], {}
        note = "fwd+bwd captured, GradScaler step eager"

        def step():
            if calls[0] == 1:                   # the next call captures: the scale is baked in
                seen["scale"] = scaler.get_scale()
            calls[0] += 1
            loss = captured(x, y)
            update()
            return loss

        def finish():
            if scaler.get_scale() != seen.get("scale"):
                return (f"GradScaler scale moved from {seen.get('scale')} to "
                        f"{scaler.get_scale()} after the capture: the graph scales by a stale "
                        f"value (timings stand, values do not)")
            return ""

    return Case(step, lambda loss: loss.item(), gg_clock(), gg_sync,
                context=gg_mode(precision, config != "gpugrad eager unfused"),
                memory=(lambda: gg_memory(step, captured)) if TARGET.on_gpu else None,
                pool_bytes=lambda: gg_pool_bytes(captured), finish=finish, note=note)


def gg_memory(step, captured):
    import cupy
    pool = cupy.get_default_memory_pool()
    gg_sync()
    base = pool.used_bytes()
    if captured is not None:
        step()
        gg_sync()
        held = sum(p.total_bytes() for p in gg_pools(captured))
        return base + held, "CuPy pool in use + the graph's private pool"
    with gpugrad.memory.track(TARGET.device) as tracker:
        step()
    return base + tracker.peak, "CuPy pool in use before + gpugrad.memory.track peak"
