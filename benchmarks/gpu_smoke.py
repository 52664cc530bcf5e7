"""A short GPU smoke check: one MLP forward/backward on cuda against the same on cpu in
float64, and the per-call cost of a few things the core does on a GPU. Prints a table.

Run: PYTHONPATH=. python3 benchmarks/gpu_smoke.py   (needs a usable GPU)
"""

import numpy as np

import gpugrad
from common import median_seconds  # this script's folder is on sys.path when run


class MLP:
    """A 3-layer MLP with softmax cross-entropy, its weights and data made once."""

    def __init__(self, device, dtype, seed=0, sizes=(784, 256, 256, 10), batch=64):
        rng = np.random.default_rng(seed)
        self.weights = [gpugrad.tensor(rng.standard_normal((m, n)) / np.sqrt(m), dtype=dtype,
                                       device=device, requires_grad=True)
                        for m, n in zip(sizes[:-1], sizes[1:])]
        self.x = gpugrad.tensor(rng.standard_normal((batch, sizes[0])), dtype=dtype,
                                device=device)
        self.rows = gpugrad.arange(batch, device=device)
        self.labels = gpugrad.tensor(rng.integers(0, sizes[-1], batch), device=device)

    def step(self):
        """Forward and backward; returns the loss tensor (no host synchronisation)."""
        for w in self.weights:
            w.grad = None
        h = self.x
        for w in self.weights[:-1]:
            h = (h @ w).relu()
        logp = gpugrad.log_softmax(h @ self.weights[-1], axis=1)
        loss = -logp[self.rows, self.labels].mean()
        loss.backward()
        return loss


def mlp_gradients(device, dtype):
    model = MLP(device, dtype)
    loss = model.step()
    return loss.item(), [w.grad.numpy() for w in model.weights]


def main():
    import cupy
    sync = cupy.cuda.Device().synchronize
    loss_cpu, grads_cpu = mlp_gradients("cpu", "float64")
    loss_gpu, grads_gpu = mlp_gradients("cuda", "float64")
    worst = max(np.abs(a - b).max() / np.abs(a).max() for a, b in zip(grads_cpu, grads_gpu))
    print(f"MLP float64: loss cpu {loss_cpu:.12f} cuda {loss_gpu:.12f}; "
          f"max relative gradient difference {worst:.2e}")
    assert abs(loss_cpu - loss_gpu) < 1e-10 and worst < 1e-10

    rows = []
    x_gpu, x_cpu = gpugrad.ones(1000, device="cuda"), gpugrad.ones(1000)
    mlp_gpu, mlp_cpu = MLP("cuda", "float32"), MLP("cpu", "float32")
    for name, fn in [
        ("x * 2 (1000 floats) on cuda: one op, launch + overhead", lambda: x_gpu * 2),
        ("x * 2 (1000 floats) on cpu", lambda: x_cpu * 2),
        ("randn(1000) on cuda", lambda: gpugrad.randn(1000, device="cuda")),
        ("randn(1000) on cpu", lambda: gpugrad.randn(1000)),
        ("MLP forward+backward float32 cuda (784-256-256-10, batch 64)", mlp_gpu.step),
        ("MLP forward+backward float32 cpu", mlp_cpu.step),
    ]:
        fn()
        rows.append((name, median_seconds(fn, 0, 50, sync=sync) * 1e6))
    print("\n| what | median us/call |\n|---|---|")
    for name, us in rows:
        print(f"| {name} | {us:.1f} |")


if __name__ == "__main__":
    main()
