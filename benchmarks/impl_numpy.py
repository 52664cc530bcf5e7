"""The floor: a hand-written NumPy forward and backward with no autograd (what any
NumPy-based autograd is measured against)."""

import numpy as np

from common import LR  # first: puts this checkout's gpugrad on sys.path
from gpugrad.checkpoint import segment_bounds

NAME = "numpy floor"


def version() -> str:
    return np.__version__


def mlp(weights, x, y, segments):
    params = [(w.copy(), b.copy()) for w, b in weights]
    rows = np.arange(len(y))
    n = len(params)

    def forward(start_act, first, last):
        acts = [start_act]
        for i in range(first, last):
            w, b = params[i]
            z = acts[-1] @ w.T
            z += b
            acts.append(np.maximum(z, 0, out=z) if i < n - 1 else z)
        return acts

    def step():
        # the chunks before the last keep only their inputs (checkpointed); the last keeps all
        spans = segment_bounds(n, segments) if segments else [(0, n)]
        inputs = [x]
        for lo, hi in spans[:-1]:
            inputs.append(forward(inputs[-1], lo, hi)[-1])
        acts = forward(inputs[-1], *spans[-1])
        logits = acts[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        loss = -(shifted[rows, y] - np.log(exp.sum(axis=1))).mean()
        grad = exp / exp.sum(axis=1, keepdims=True)
        grad[rows, y] -= 1
        grad /= len(y)
        for k in range(len(spans) - 1, -1, -1):
            lo, hi = spans[k]
            if k != len(spans) - 1:
                acts = None                 # the later chunk's are done with: free them first
                acts = forward(inputs[k], lo, hi)
            for i in range(hi - 1, lo - 1, -1):
                w, b = params[i]
                gw = grad.T @ acts[i - lo]
                gb = grad.sum(axis=0)
                if i > 0:
                    grad = grad @ w
                    grad *= acts[i - lo] > 0
                w -= LR * gw
                b -= LR * gb
        return float(loss)

    return step


def scalar():
    def evaluate():
        x, y = 2.0, 3.0
        z = x**2 * y + y**3
        return z, 2 * x * y, x**2 + 3 * y**2
    return evaluate


def hessian(a, x):
    def evaluate():
        t = np.tanh(a @ x)
        return a.T @ (a * (2 * (1 - t * t) * (1 - 3 * t * t))[:, None])
    return evaluate


def _tanh_mlp_backward(weights, x, y, per_example: bool):
    """Forward and hand-written backward of the tanh MLP's softmax cross-entropy: per-example
    weight gradients as outer products (einsum), or the mean loss's as one GEMM per layer."""
    acts = [x]
    for i, (w, b) in enumerate(weights):
        z = acts[-1] @ w.T
        z += b
        acts.append(np.tanh(z, out=z) if i < len(weights) - 1 else z)
    g = np.exp(acts[-1] - acts[-1].max(axis=1, keepdims=True))
    g /= g.sum(axis=1, keepdims=True)
    g[np.arange(len(y)), y] -= 1                    # softmax - one_hot, per example
    if not per_example:
        g /= len(y)
    grads = []
    for i in range(len(weights) - 1, -1, -1):
        if per_example:
            grads[:0] = [np.einsum("bi,bj->bij", g, acts[i]), g]
        else:
            grads[:0] = [g.T @ acts[i], g.sum(axis=0)]
        if i > 0:
            g = g @ weights[i][0]
            g *= 1 - acts[i] * acts[i]
    return grads


def per_example_grads(weights, x, y):
    return lambda: _tanh_mlp_backward(weights, x, y, per_example=True)


def batched_grad(weights, x, y):
    return lambda: _tanh_mlp_backward(weights, x, y, per_example=False)
