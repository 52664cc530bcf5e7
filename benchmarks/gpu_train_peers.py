"""The baselines of benchmarks/gpu_training.py, from gpugrad's initial weights:
- torch eager;
- torch graph: torch.cuda.CUDAGraph whole-step capture as in PyTorch's CUDA semantics
  notes (3 warm-up steps on a side stream, static inputs, replay); in fp16 forward +
  backward only, the GradScaler step eager after the replay (it reads an inf/NaN flag on
  the host, which a graph cannot do: PyTorch's docs advise the same split);
- jax jit: one jitted step (value_and_grad + SGD on a pytree, parameters donated); fp16 as
  explicit float16 casts and a static loss scale of JAX_LOSS_SCALE.
Each runs only if its library imports and sees a GPU (load_torch, load_jax say why not).
"""

from __future__ import annotations

import contextlib

import numpy as np

import gpu_common
from gpu_common import host_clock, set_torch_tf32, torch_clock
from gpu_train_case import JAX_LOSS_SCALE, LR, MOMENTUM, TARGET, Case, Skip


def load_torch():
    """(torch, "") or (None, why its configurations are skipped)."""
    return gpu_common.load_torch(need_gpu=TARGET.on_gpu)


def load_jax():
    """(jax, "") with TARGET.jax_device set, or (None, why its configuration is skipped)."""
    try:
        import jax
    except Exception as exc:
        return None, f"jax does not import ({type(exc).__name__}: {exc})"
    try:
        TARGET.jax_device = jax.devices("gpu" if TARGET.on_gpu else "cpu")[0]
    except Exception as exc:
        return None, f"JAX sees no GPU ({type(exc).__name__}: {exc})"
    return jax, ""


# ---------------------------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------------------------

def torch_model(torch, sizes, weights, device):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = torch.nn.Linear(n_in, n_out, device=device)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weights[2 * i]))
            linear.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def torch_scaler(torch, device_type):
    amp = getattr(torch, "amp", None)
    if amp is not None and hasattr(amp, "GradScaler"):
        return amp.GradScaler(device_type)
    return torch.cuda.amp.GradScaler()


class TorchGraphStep:
    """PyTorch's whole-network capture: ``warmup`` eager steps on a side stream, then
    ``body`` captured once into a torch.cuda.CUDAGraph with static inputs and replayed
    (``after`` runs eagerly after each replay). Each call is one real training step."""

    def __init__(self, torch, eager, body, zero_grad, after, x, y, warmup=3):
        self.torch, self.eager, self.body, self.zero_grad, self.after = \
            torch, eager, body, zero_grad, after
        self.x, self.y, self.warmup = x, y, warmup
        self.static_x, self.static_y = x.clone(), y.clone()
        self.side = torch.cuda.Stream()
        self.graph = self.loss = None
        self.calls = 0
        self.peak = None

    def __call__(self):
        torch = self.torch
        if self.calls == 0:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        self.calls += 1
        if self.calls <= self.warmup:
            self.side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(self.side):
                loss = self.eager(self.x, self.y)
            torch.cuda.current_stream().wait_stream(self.side)
            return loss
        self.static_x.copy_(self.x)
        self.static_y.copy_(self.y)
        if self.graph is None:
            self.zero_grad()                    # grads then come from the graph's pool
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.loss = self.body(self.static_x, self.static_y)
            self.graph.replay()
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated()
        else:
            self.graph.replay()
        if self.after is not None:
            self.after()
        return self.loss


def torch_case(torch, config: str, precision: str, sizes, weights, data_np) -> Case:
    graph = config == "torch graph"
    if graph and not TARGET.on_gpu:
        raise Skip("skipped: CUDA graphs need a GPU")
    device = torch.device(TARGET.device)
    model = torch_model(torch, sizes, weights, device)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    amp = precision == "fp16"
    scaler = torch_scaler(torch, device.type) if amp else None
    x = torch.from_numpy(data_np[0]).to(device)
    y = torch.from_numpy(data_np[1]).to(device)
    xf = torch.nn.functional

    def forward_loss(xb, yb):
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp,
                            cache_enabled=not graph):
            return xf.cross_entropy(model(xb), yb)

    def update():
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()

    def forward_backward(xb, yb):
        loss = forward_loss(xb, yb)
        (scaler.scale(loss) if scaler is not None else loss).backward()
        return loss

    def eager_step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = forward_backward(xb, yb)
        update()
        return loss

    def full_body(xb, yb):
        loss = forward_backward(xb, yb)
        opt.step()
        return loss

    tf32 = precision == "tf32"
    if TARGET.on_gpu:
        clock, sync = torch_clock(torch), torch.cuda.synchronize
        pool_bytes = torch.cuda.memory_reserved
    else:
        clock, sync, pool_bytes = host_clock(lambda: None), (lambda: None), None

    @contextlib.contextmanager
    def mode():
        if TARGET.on_gpu:
            set_torch_tf32(torch, tf32)
        try:
            yield
        finally:
            if TARGET.on_gpu:
                set_torch_tf32(torch, False)

    if graph:
        step = TorchGraphStep(torch, eager_step, forward_backward if amp else full_body,
                              lambda: opt.zero_grad(set_to_none=True),
                              update if amp else None, x, y)
        return Case(step, lambda loss: loss.item(), clock, sync, context=mode(),
                    memory=lambda: (step.peak, "torch max_memory_allocated over warm-up "
                                               "and capture"),
                    pool_bytes=pool_bytes,
                    note="fwd+bwd captured, GradScaler step eager" if amp else "")

    def step():
        return eager_step(x, y)

    def memory():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        step()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated(), "torch max_memory_allocated over one step"

    return Case(step, lambda loss: loss.item(), clock, sync, context=mode(),
                memory=memory if TARGET.on_gpu else None, pool_bytes=pool_bytes)


# ---------------------------------------------------------------------------------------------
# JAX
# ---------------------------------------------------------------------------------------------

def jax_case(jax, precision: str, sizes, weights, data_np) -> Case:
    import jax.numpy as jnp
    device = TARGET.jax_device
    put = lambda a: jax.device_put(jnp.array(a), device)  # noqa: E731  (a copy)
    n = len(sizes) - 1
    params = [(put(weights[2 * i]), put(weights[2 * i + 1])) for i in range(n)]
    bufs = jax.tree_util.tree_map(jnp.zeros_like, params)
    x, y = put(data_np[0]), put(data_np[1].astype(np.int32))
    low = jnp.float16 if precision == "fp16" else None
    scale = JAX_LOSS_SCALE if low is not None else 1.0

    def loss_fn(params, xb, yb):
        h = xb
        for i, (w, b) in enumerate(params):
            if low is not None:
                h, w, b = h.astype(low), w.astype(low), b.astype(low)
            h = h @ w.T + b
            if i < n - 1:
                h = jax.nn.relu(h)
        logp = jax.nn.log_softmax(h.astype(jnp.float32), axis=1)
        loss = -jnp.take_along_axis(logp, yb[:, None], axis=1).mean()
        return loss * scale, loss

    def train(params, bufs, xb, yb):
        (_, loss), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, xb, yb)
        bufs = jax.tree_util.tree_map(lambda m, g: MOMENTUM * m + g / scale, bufs, grads)
        params = jax.tree_util.tree_map(lambda p, m: p - LR * m, params, bufs)
        return params, bufs, loss

    train = jax.jit(train, donate_argnums=(0, 1))
    state = {"params": params, "bufs": bufs, "loss": None}

    def step():
        state["params"], state["bufs"], state["loss"] = train(state["params"], state["bufs"],
                                                              x, y)
        return state["loss"]

    def sync():
        if state["loss"] is not None:
            jax.block_until_ready((state["params"], state["loss"]))

    def stats(key):
        try:
            return (device.memory_stats() or {}).get(key)
        except Exception:
            return None

    matmul = {"fp32": "highest", "tf32": "tensorfloat32"}.get(precision)
    context = jax.default_matmul_precision(matmul) if matmul else None
    note = "peak MiB: process-wide, never reset"
    if low is not None:
        note += f"; static loss scale {JAX_LOSS_SCALE:g}"
    return Case(step, float, host_clock(sync), sync, context=context,
                memory=lambda: (stats("peak_bytes_in_use"), "JAX process-wide peak_bytes_in_use"),
                pool_bytes=lambda: stats("bytes_reserved") or stats("bytes_in_use"), note=note)
