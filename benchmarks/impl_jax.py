"""JAX (CPU) with jit, as a user would write it; jax.vmap(jax.grad(...)) for the per-example
gradients."""

import jax
import jax.numpy as jnp
import numpy as np

from common import LR  # first: puts this checkout's gpugrad on sys.path
from gpugrad.checkpoint import segment_bounds

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

    spans = segment_bounds(n, segments) if segments else [(0, n)]

    def loss_fn(params):
        h = xj
        for k, (lo, hi) in enumerate(spans):
            def segment(h, ps, lo=lo, hi=hi):
                for i in range(lo, hi):
                    h = block(ps[i - lo], h, i)
                return h
            # as PyTorch's checkpoint_sequential: every chunk but the last is checkpointed
            seg = jax.checkpoint(segment) if k < len(spans) - 1 else segment
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


def _tanh_mlp_logits(params, x):
    h = x
    for i in range(0, len(params), 2):
        h = h @ params[i].T + params[i + 1]
        if i + 2 < len(params):
            h = jnp.tanh(h)
    return h


def _loss_of_one_example(params, x_i, y_i):
    return -jax.nn.log_softmax(_tanh_mlp_logits(params, x_i))[y_i]


def _mean_loss(params, x, y):
    logp = jax.nn.log_softmax(_tanh_mlp_logits(params, x), axis=1)
    return -logp[jnp.arange(len(y)), y].mean()


def _params(weights):
    return tuple(jnp.asarray(a) for layer in weights for a in layer)


def per_example_grads(weights, x, y):
    params, xj, yj = _params(weights), jnp.asarray(x), jnp.asarray(y)
    per_example = jax.jit(jax.vmap(jax.grad(_loss_of_one_example), in_axes=(None, 0, 0)))

    def evaluate():
        return [np.asarray(g) for g in per_example(params, xj, yj)]
    return evaluate


def batched_grad(weights, x, y):
    params, xj, yj = _params(weights), jnp.asarray(x), jnp.asarray(y)
    mean_grad = jax.jit(jax.grad(_mean_loss))

    def evaluate():
        return [np.asarray(g) for g in mean_grad(params, xj, yj)]
    return evaluate
