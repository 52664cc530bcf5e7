"""JAX (CPU) with jit, as a user would write it."""

import jax
import jax.numpy as jnp
import numpy as np

from common import LR

NAME = "jax jit"


def version() -> str:
    return jax.__version__


def mlp(weights, x, y, segments):
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in weights]
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    n = len(params)

    def block(p, h, i):
        h = h @ p[0].T + p[1]
        return jax.nn.relu(h) if i < n - 1 else h

    def loss_fn(params):
        h = xj
        bounds = np.linspace(0, n, segments + 1).astype(int) if segments else [0, n]
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            def segment(h, ps, lo=lo, hi=hi):
                for i in range(lo, hi):
                    h = block(ps[i - lo], h, i)
                return h
            seg = jax.checkpoint(segment) if segments else segment
            h = seg(h, params[lo:hi])
        logp = jax.nn.log_softmax(h, axis=1)
        return -logp[jnp.arange(len(yj)), yj].mean()

    @jax.jit
    def update(params):
        loss, grads = jax.value_and_grad(loss_fn)(params)
        return loss, [(w - LR * gw, b - LR * gb) for (w, b), (gw, gb) in zip(params, grads)]

    state = {"params": params}

    def step():
        loss, state["params"] = update(state["params"])
        return float(loss)

    return step


def scalar():
    f = lambda x, y: x**2 * y + y**3  # noqa: E731
    both = jax.jit(jax.value_and_grad(f, argnums=(0, 1)))

    def evaluate():
        z, (dx, dy) = both(2.0, 3.0)
        return float(z), float(dx), float(dy)
    return evaluate


def hessian(a, x):
    aj, xj = jnp.asarray(a), jnp.asarray(x)
    h = jax.jit(jax.hessian(lambda v: (jnp.tanh(aj @ v) ** 2).sum()))

    def evaluate():
        return np.asarray(h(xj))
    return evaluate
