"""What every benchmark implementation shares: the workloads, the initial weights and data
(identical for every library), the float64 reference, and timing.

Workloads (float32, fixed seeds):
- mlp-large: 784-1024-1024-1024-10, batch 256; mlp-tiny: 64-64-64-10, batch 32;
- mlp-deep: 512 -> 32 hidden layers of 512 -> 10, batch 256 or 2048, with and without
  checkpointing (6 segments of the 33 blocks, split as
  ``gpugrad.checkpoint.segment_bounds``, PyTorch's split: 5 checkpointed
  chunks of 5 blocks, the last 8 outside), for step time and the peak memory of one step;
- scalar: z = x**2 * y + y**3 at x=2, y=3 and its gradient, from Python floats;
- hessian: the Hessian of sum(tanh(A @ x)**2), x in R^256, A 256 x 256;
- per-example-grads: the gradient of each example's softmax cross-entropy of a 784-256-10
  tanh MLP, batch 256 (vmap of grad); batched-grad: the same model and batch's ordinary
  mean-loss gradient (one forward and backward), the denominator of the per-example cost.
"""

from __future__ import annotations

import os
import platform
import statistics
import time

import sys

import numpy as np

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)       # this checkout's gpugrad, however a benchmark is run

LR = 0.01
# glibc keeping freed memory instead of returning it to the OS (the "tuned" allocator)
TUNED_ALLOCATOR = {"MALLOC_TRIM_THRESHOLD_": "2000000000",
                   "MALLOC_MMAP_THRESHOLD_": "1000000000"}
CHECK_STEPS = 3

MLP_WORKLOADS = {
    "mlp-large": ([784, 1024, 1024, 1024, 10], 256, 0),
    "mlp-tiny": ([64, 64, 64, 10], 32, 0),
    "mlp-deep-b256": ([512] + [512] * 32 + [10], 256, 0),
    "mlp-deep-b2048": ([512] + [512] * 32 + [10], 2048, 0),
    "mlp-deep-b2048-ckpt6": ([512] + [512] * 32 + [10], 2048, 6),
}
GRAD_SIZES, GRAD_BATCH = [784, 256, 10], 256
GRAD_WORKLOADS = ["per-example-grads", "batched-grad"]
WORKLOADS = list(MLP_WORKLOADS) + ["scalar", "hessian"] + GRAD_WORKLOADS


def mlp_setup(sizes, batch, seed=0):
    """Weights (W of shape (out, in), b of shape (out,)), as PyTorch's default init, the
    inputs and the labels: the same float32 arrays for every library."""
    rng = np.random.default_rng(seed)
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(n_in)
        weights.append((rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32),
                        rng.uniform(-bound, bound, n_out).astype(np.float32)))
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch).astype(np.int64)
    return weights, x, y


def reference_losses(weights, x, y, steps=CHECK_STEPS):
    """The loss before each of ``steps`` SGD steps, in float64 NumPy: the check every
    implementation must match before it is timed."""
    params = [(w.astype(np.float64), b.astype(np.float64)) for w, b in weights]
    x = x.astype(np.float64)
    losses = []
    for _ in range(steps):
        acts = [x]
        for i, (w, b) in enumerate(params):
            z = acts[-1] @ w.T + b
            acts.append(np.maximum(z, 0) if i < len(params) - 1 else z)
        logits = acts[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        losses.append(float(-logp[np.arange(len(y)), y].mean()))
        grad = np.exp(logp)
        grad[np.arange(len(y)), y] -= 1
        grad /= len(y)
        new = []
        for i in range(len(params) - 1, -1, -1):
            w, b = params[i]
            gw, gb = grad.T @ acts[i], grad.sum(axis=0)
            grad = (grad @ w) * (acts[i] > 0) if i > 0 else None
            new.append((w - LR * gw, b - LR * gb))
        params = new[::-1]
    return losses


def hessian_setup(n=256, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, n)) / np.sqrt(n)).astype(np.float32), \
        rng.standard_normal(n).astype(np.float32)


def hessian_reference(a, x):
    """H of sum(tanh(A x)^2) = A^T diag(2 (1 - t^2)(1 - 3 t^2)) A with t = tanh(A x)."""
    a, x = a.astype(np.float64), x.astype(np.float64)
    t = np.tanh(a @ x)
    return a.T @ (a * (2 * (1 - t**2) * (1 - 3 * t**2))[:, None])


def grad_reference(weights, x, y, per_example: bool = True):
    """float64 gradients of the softmax cross-entropy of the tanh MLP ``weights`` (as
    ``mlp_setup``'s: tanh between layers, none after the last), one example at a time: the
    flat list [dW1, db1, dW2, db2, ...], each with a leading batch axis when
    ``per_example``, else averaged over the batch (the mean loss's gradient).

    Example::

        >>> grads = grad_reference(*mlp_setup([784, 256, 10], 256))  # (256, 256, 784)...
    """
    params = [(w.astype(np.float64), b.astype(np.float64)) for w, b in weights]
    rows = []
    for xi, yi in zip(x.astype(np.float64), y):
        acts = [xi]
        for i, (w, b) in enumerate(params):
            z = w @ acts[-1] + b
            acts.append(np.tanh(z) if i < len(params) - 1 else z)
        g = np.exp(acts[-1] - acts[-1].max())
        g /= g.sum()
        g[yi] -= 1                      # d loss / d logits = softmax - one_hot
        row = []
        for i in range(len(params) - 1, -1, -1):
            row[:0] = [np.outer(g, acts[i]), g]
            g = (params[i][0].T @ g) * (1 - acts[i] ** 2) if i > 0 else None
        rows.append(row)
    stacked = [np.stack(leaf) for leaf in zip(*rows)]
    return stacked if per_example else [leaf.mean(axis=0) for leaf in stacked]


def relative_error(got, expected) -> float:
    """The largest of max|got - expected| / max|expected| over paired arrays."""
    return max(float(np.abs(np.asarray(g, np.float64) - e).max() / np.abs(e).max())
               for g, e in zip(got, expected))


def median_seconds(fn, warmup: int, repeat: int, sync=None) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def repeats(workload: str) -> tuple[int, int]:
    """(warm-up, timed) repetitions, so each workload takes a few seconds."""
    return {"mlp-large": (3, 15), "mlp-tiny": (50, 500), "scalar": (200, 3000),
            "hessian": (10, 30), "mlp-deep-b256": (2, 8),
            "per-example-grads": (2, 10), "batched-grad": (5, 50)}.get(workload, (1, 4))


def mlp_flops(sizes, batch: int) -> int:
    """Floating-point operations of one training step: 2 per multiply-add in the forward
    GEMMs, twice that in the backward (input and weight gradients), less the input gradient
    of the first layer, which nobody needs."""
    macs = sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    return 2 * batch * (3 * macs - sizes[0] * sizes[1])


def gemm_gflops(n: int = 1024, repeat: int = 10) -> float:
    """What this machine's NumPy BLAS reaches on an n x n x n float32 product: the practical
    peak the MLP steps are compared with."""
    a = np.ones((n, n), np.float32)
    b = np.ones((n, n), np.float32)
    return 2 * n**3 / median_seconds(lambda: a @ b, 3, repeat) / 1e9


def machine() -> dict:
    info = {"python": platform.python_version(), "numpy": np.__version__,
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "processor": _cpu_model()}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"):
        if var in os.environ:
            info[var] = os.environ[var]
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["numpy_blas"] = f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:
        pass
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
