"""The floor: a hand-written NumPy forward and backward with no autograd (what any
NumPy-based autograd is measured against)."""

import numpy as np

from common import LR

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
        if segments:
            bounds = np.linspace(0, n, segments + 1).astype(int)
            inputs = [x]
            for lo, hi in zip(bounds[:-2], bounds[1:-1]):
                inputs.append(forward(inputs[-1], lo, hi)[-1])
            spans = list(zip(bounds[:-1], bounds[1:]))
        else:
            inputs, spans = [x], [(0, n)]
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
