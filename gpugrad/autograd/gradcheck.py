"""Gradient checking: analytic derivatives against float64 central differences.

``gradcheck`` compares every entry of the Jacobian that reverse mode computes with
``(f(x + eps) - f(x - eps)) / (2 eps)``; ``gradgradcheck`` does the same for the gradient
itself (second derivatives, through ``create_graph=True``).

Example::

    >>> from gpugrad.autograd import gradcheck
    >>> x = gpugrad.randn(3, dtype="float64", requires_grad=True)
    >>> gradcheck(lambda x: (x * x.exp()).sum(), (x,))
    True
"""

from __future__ import annotations

import numpy as np

from .engine import grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Analytic and numeric derivatives disagree (the message says where and by how much)."""


def _tensor_type():
    from ..tensor import Tensor
    return Tensor


def _as_tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _differentiable_outputs(outputs) -> list:
    Tensor = _tensor_type()
    return [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _evaluate(fn, inputs) -> list:
    """Outputs of ``fn`` as flat float64 NumPy arrays (recorded as usual, since ``fn`` may
    itself differentiate, as in gradgradcheck)."""
    outputs = _as_tuple(fn(*inputs))
    return [outputs[i].numpy().astype(np.float64).ravel() for i in
            _differentiable_outputs(outputs)]


def _numeric_jacobians(fn, inputs, wrt, eps) -> dict:
    """{input index: array (n_in, n_out_total)} of central differences."""
    Tensor = _tensor_type()
    result = {}
    for i in wrt:
        x = inputs[i]
        base = x.numpy().astype(np.float64)
        columns = []
        for j in range(base.size):
            values = []
            for step in (eps, -eps):
                shifted = base.copy().reshape(-1)
                shifted[j] += step
                moved = Tensor._wrap(_like_device(shifted.reshape(base.shape), x))
                moved.requires_grad_(True)
                args = list(inputs)
                args[i] = moved
                values.append(np.concatenate(_evaluate(fn, args) or [np.zeros(0)]))
            columns.append((values[0] - values[1]) / (2 * eps))
        if columns:
            result[i] = np.array(columns).reshape(base.size, -1)
        else:                                   # an empty input: an empty Jacobian block
            n_out = sum(v.size for v in _evaluate(fn, inputs))
            result[i] = np.zeros((0, n_out))
    return result


def _like_device(array: np.ndarray, like):
    from .. import backend
    return backend.to_device(array.astype(like.dtype), like.device)


def _analytic_jacobians(fn, inputs, wrt) -> dict:
    """{input index: array (n_in, n_out_total)} from one reverse pass per output element."""
    Tensor = _tensor_type()
    outputs = _as_tuple(fn(*inputs))
    picked = [outputs[k] for k in _differentiable_outputs(outputs)]
    sizes = [o.size for o in picked]
    result = {i: np.zeros((inputs[i].size, sum(sizes))) for i in wrt}
    offset = 0
    for o in picked:
        if o.requires_grad:
            xp = o._xp()
            for m in range(o.size):
                seed = xp.zeros(o.size, dtype=o.dtype)
                seed[m] = 1
                grads = grad(o, [inputs[i] for i in wrt],
                             grad_outputs=Tensor._wrap(seed.reshape(o.shape)),
                             retain_graph=True, allow_unused=True)
                for i, g in zip(wrt, grads):
                    if g is not None:
                        result[i][:, offset + m] = g.numpy().astype(np.float64).ravel()
        offset += o.size
    return result


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Check reverse-mode gradients of ``fn`` at ``inputs`` against central differences.

    ``inputs``: a tensor or tuple; those with ``requires_grad=True`` are checked and must be
    float64. Passes when ``|analytic - numeric| <= atol + rtol * |numeric|`` everywhere.
    Returns True, or raises ``GradcheckError`` naming the input, the worst element, and
    both values (returns False instead when ``raise_exception=False``).
    """
    Tensor = _tensor_type()
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad; create the inputs to check "
                         "with requires_grad=True")
    for i in wrt:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences "
                            f"need float64 inputs (x.astype('float64').requires_grad_())")
    numeric = _numeric_jacobians(fn, inputs, wrt, eps)
    analytic = _analytic_jacobians(fn, inputs, wrt)
    for i in wrt:
        a, n = analytic[i], numeric[i]
        if a.shape != n.shape:
            raise GradcheckError(f"gradcheck: Jacobian shapes differ for input {i}: analytic "
                                 f"{a.shape}, numeric {n.shape}")
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
        if excess.size and (excess.max() > 0 or not np.isfinite(a).all()):
            bad = np.where(np.isfinite(excess), excess, np.inf)
            row, col = np.unravel_index(int(np.argmax(bad)), a.shape)
            where = np.unravel_index(row, inputs[i].shape) if inputs[i].ndim else ()
            message = (
                f"gradcheck: Jacobian mismatch for input {i} (shape {tuple(inputs[i].shape)}) "
                f"at input element {tuple(int(w) for w in where)}, output element {col} "
                f"(outputs flattened and concatenated): analytic {float(a[row, col])!r}, "
                f"numeric {float(n[row, col])!r}, difference "
                f"{abs(a[row, col] - n[row, col]):.3g}, allowed "
                f"{atol + rtol * abs(n[row, col]):.3g} (atol={atol}, rtol={rtol}, eps={eps})")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of ``x, v -> vjp(fn, x)(v)`` built with
    ``create_graph=True``. ``grad_outputs`` defaults to seeded random float64 cotangents.

    Example::

        >>> from gpugrad.autograd import gradgradcheck
        >>> x = gpugrad.randn(3, dtype="float64", requires_grad=True)
        >>> gradgradcheck(lambda x: (x ** 3).sum(), (x,))
        True
    """
    Tensor = _tensor_type()
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outputs = _as_tuple(fn(*inputs))
    picked = _differentiable_outputs(outputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(
            Tensor._wrap(_like_device(rng.standard_normal(outputs[k].shape), outputs[k]))
            .requires_grad_() for k in picked)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_derivative(*args):
        xs, cotangents = args[:n_in], args[n_in:]
        outs = _as_tuple(fn(*xs))
        pairs = [(outs[k], v) for k, v in zip(_differentiable_outputs(outs), cotangents)
                 if outs[k].requires_grad]
        if not pairs:
            return tuple()
        grads = grad([o for o, _ in pairs], [xs[i] for i in wrt],
                     grad_outputs=[v for _, v in pairs], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
