"""Float64 trajectories of SGD and Adam/AdamW, and the error a float32 or float64
implementation of them may make, to judge the fused multi-tensor kernels fairly.

The kernels (kernels/optim.cu) and the reference update (``Optimizer._update``) round
differently: NVRTC contracts ``a * b + c`` into one fused multiply-add, which rounds once
where the array code rounds twice. Both are right, and near a parameter close to zero
neither is close to the other *relative to that parameter*. What bounds their error is the
size of the terms that were added: a running error analysis. ``trajectory`` carries, beside
each exact value, its magnitude: the same recurrence on absolute values, every subtraction
turned into an addition. An implementation that rounds each operation in dtype T then stays
within ``ROUNDINGS_PER_STEP * steps * u(T) * magnitude`` of the exact value, whatever it
contracts; a wrong update (a missed dampening, a stale learning rate, an off-by-one bias
correction) does not.

Written from PyTorch's documented updates, independently of gpugrad's optimizers. Example::

    >>> exact, scale = trajectory("sgd", dict(lr=0.1, momentum=0.9, dampening=0.0,
    ...                           weight_decay=0.0, nesterov=True), p0, grads, lrs)
    >>> assert_within_rounding(got, exact, scale, "float32", len(grads), "sgd")
"""

import numpy as np

ROUNDINGS_PER_STEP = 8      # operations a step chains per element, with room for hyperparameters
EXACT = np.longdouble       # 64-bit significands on x86-64 (float64 where there is nothing wider)


def trajectory(kind: str, hyper: dict, p0, grads, lrs):
    """The exact parameter after the steps and its magnitude (arrays of ``p0``'s shape, in
    ``EXACT``, whose rounding is far below float64's where the platform has it).
    ``grads[s]`` is step s's gradient, or None where the parameter has none (it skips that
    step: no update, and Adam's step count does not advance); ``lrs[s]`` is the learning
    rate at step s. ``kind``: "sgd" or "adam" (``hyper["decoupled"]``: AdamW)."""
    p = np.asarray(p0, EXACT).copy()
    size = np.abs(p)
    state: dict = {}
    for g, lr in zip(grads, lrs):
        if g is None:
            continue
        g = np.asarray(g, EXACT)
        step = _sgd_step if kind == "sgd" else _adam_step
        update, update_size, p, size = step(p, size, g, lr, hyper, state)
        p, size = p - update, size + update_size
    return p, size


def _sgd_step(p, size, g, lr, hyper, state):
    decay, momentum = hyper["weight_decay"], hyper["momentum"]
    g_size = np.abs(g) + decay * size
    g = g + decay * p
    if momentum:
        if "buf" not in state:
            state["buf"], state["buf_size"] = g, g_size
        else:
            keep = 1.0 - hyper["dampening"]
            state["buf"] = momentum * state["buf"] + keep * g
            state["buf_size"] = momentum * state["buf_size"] + keep * g_size
        if hyper["nesterov"]:
            g, g_size = g + momentum * state["buf"], g_size + momentum * state["buf_size"]
        else:
            g, g_size = state["buf"], state["buf_size"]
    return lr * g, lr * g_size, p, size


def _adam_step(p, size, g, lr, hyper, state):
    beta1, beta2 = hyper["betas"]
    decay = hyper["weight_decay"]
    t = state["t"] = state.get("t", 0) + 1
    if decay and hyper["decoupled"]:
        p, size = p * (1.0 - lr * decay), size * (1.0 - lr * decay)
        g_size = np.abs(g)
    else:
        g_size = np.abs(g) + decay * size
        g = g + decay * p
    m, m_size = state.get("m", 0.0), state.get("m_size", 0.0)
    state["m"], state["m_size"] = beta1 * m + (1 - beta1) * g, beta1 * m_size + (1 - beta1) * g_size
    state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g      # positive: its own size
    denom = np.sqrt(state["v"] / (1 - beta2 ** t)) + hyper["eps"]
    step_size = lr / (1 - beta1 ** t)
    return state["m"] / denom * step_size, state["m_size"] / denom * step_size, p, size


def unit_roundoff(dtype) -> float:
    """Half the distance from 1 to the next number of ``dtype``."""
    return float(np.finfo(dtype).eps) / 2


def rounding_bound(exact_size, dtype, steps: int):
    """The error allowed after ``steps`` steps computed in ``dtype``, element-wise (and the
    reference's own rounding in ``EXACT``)."""
    u = unit_roundoff(dtype) + unit_roundoff(EXACT)
    return (ROUNDINGS_PER_STEP * steps * u * exact_size).astype(np.float64)


def assert_within_rounding(got, exact, exact_size, dtype, steps: int, what: str):
    """|got - exact| <= rounding_bound everywhere (NaN nowhere); names the worst element."""
    got = np.asarray(got, np.float64)
    allowed = rounding_bound(exact_size, dtype, steps)
    error = np.abs(got.astype(EXACT) - exact).astype(np.float64)
    ok = error <= allowed
    if not ok.all():
        i = np.unravel_index(int(np.argmax(np.where(ok, -1.0, error / allowed))), ok.shape)
        raise AssertionError(f"{what}: {int((~ok).sum())} of {ok.size} elements beyond "
                             f"rounding; worst at {i}: got {got[i]!r}, exact {exact[i]!r}, "
                             f"error {error[i]:.3g} > allowed {allowed[i]:.3g} "
                             f"({ROUNDINGS_PER_STEP} x {steps} steps x u x magnitude "
                             f"{exact_size[i]:.3g})")
