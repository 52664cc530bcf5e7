"""Newton's method with ``func.hessian`` and ``func.grad``: L2-regularised logistic regression
on the built-in digits (is the digit 5 or more?), in float64.

The loss is smooth and strongly convex, so each Newton step, theta -= H^-1 g, roughly squares
the error once it is close: the gradient norm falls 1e-1, 1e-2, 1e-4, 1e-8... and the Newton
decrement g^T H^-1 g / 2 (an estimate of loss - optimum) with it.

Run: python examples/newton_step.py      (a few seconds on a laptop CPU)
"""

import numpy as np

import gpugrad
from gpugrad import data, func

LAMBDA, STEPS = 1e-2, 6

X, digit = data.digits()                                     # (1797, 64), labels 0..9
X = np.hstack([X, np.ones((len(X), 1), np.float32)])         # a bias column: (1797, 65)
X, sign = gpugrad.tensor(X, dtype="float64"), gpugrad.tensor(np.where(digit >= 5, 1.0, -1.0))


def softplus(z):
    """log(1 + e^z) without overflow: logsumexp of (0, z)."""
    return gpugrad.logsumexp(gpugrad.stack([gpugrad.zeros_like(z), z]), axis=0)


def loss(theta):
    """Mean logistic loss of labels +-1 plus (lambda / 2) |theta|^2; theta (65,) -> ()."""
    return softplus(-sign * (X @ theta)).mean() + LAMBDA / 2 * (theta * theta).sum()


gradient, hessian = func.grad(loss), func.hessian(loss)
theta = gpugrad.zeros(65, dtype="float64")
print(" step           loss   |gradient|   Newton decrement")
for step in range(STEPS):
    g = gradient(theta).numpy()
    direction = np.linalg.solve(hessian(theta).numpy(), g)   # H d = g, H (65, 65)
    print(f"{step:5d} {loss(theta).item():14.10f} {np.linalg.norm(g):12.3e} "
          f"{g @ direction / 2:18.3e}")
    theta = theta - gpugrad.tensor(direction)
print(f"{STEPS:5d} {loss(theta).item():14.10f} {np.linalg.norm(gradient(theta).numpy()):12.3e}")

accuracy = ((X @ theta).numpy() > 0) == (sign.numpy() > 0)
print(f"training accuracy at the optimum {accuracy.mean():.2%}")
