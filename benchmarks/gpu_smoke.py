"""A short GPU smoke check: one MLP forward/backward on cuda against the same on cpu in
float64, and the per-call cost of a few things the core does on a GPU. Prints a table.

Run: PYTHONPATH=. python3 benchmarks/gpu_smoke.py   (needs a usable GPU)
"""

import statistics
import time

import numpy as np

import gpugrad


def mlp_gradients(device, dtype, seed=0):
    """Gradients of a 3-layer MLP's softmax cross-entropy with respect to its weights."""
    rng = np.random.default_rng(seed)
    sizes = [784, 256, 256, 10]
    weights = [gpugrad.tensor(rng.standard_normal((m, n)) / np.sqrt(m), dtype=dtype,
                              device=device, requires_grad=True)
               for m, n in zip(sizes[:-1], sizes[1:])]
    x = gpugrad.tensor(rng.standard_normal((64, 784)), dtype=dtype, device=device)
    labels = rng.integers(0, 10, 64)
    h = x
    for w in weights[:-1]:
        h = (h @ w).relu()
    logp = gpugrad.log_softmax(h @ weights[-1], axis=1)
    loss = -logp[np.arange(64), labels].mean()
    loss.backward()
    return loss.item(), [w.grad.numpy() for w in weights]


def median_seconds(fn, repeat=50, sync=None):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
    for name, fn in [
        ("randn(1000) on cuda", lambda: gpugrad.randn(1000, device="cuda")),
        ("randn(1000) on cpu", lambda: gpugrad.randn(1000)),
        ("MLP step float32 cuda (784-256-256-10, batch 64)",
         lambda: mlp_gradients("cuda", "float32")),
        ("MLP step float32 cpu", lambda: mlp_gradients("cpu", "float32")),
    ]:
        fn()
        rows.append((name, median_seconds(fn, sync=sync) * 1e6))
    print("\n| what | median us/call |\n|---|---|")
    for name, us in rows:
        print(f"| {name} | {us:.1f} |")


if __name__ == "__main__":
    main()
