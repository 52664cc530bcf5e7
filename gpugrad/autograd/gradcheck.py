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


def _forward_jacobians(fn, inputs, wrt) -> dict:
    """{input index: array (n_in, n_out_total)} from one forward-mode pass (a dual level
    with a one-hot tangent) per input element: ``check_forward_ad``."""
    from . import forward_ad
    result = {}
    for i in wrt:
        x = inputs[i]
        columns = []
        for j in range(x.size):
            seed = x._xp().zeros(x.size, dtype=x.dtype)
            seed[j] = 1
            with forward_ad.dual_level():
                args = list(inputs)
                args[i] = forward_ad.make_dual(x, _tensor_type()._wrap(seed.reshape(x.shape)))
                outputs = _as_tuple(fn(*args))
                row = []
                for k in _differentiable_outputs(outputs):
                    tangent = forward_ad.unpack_dual(outputs[k]).tangent
                    row.append(np.zeros(outputs[k].size) if tangent is None else
                               tangent.numpy().astype(np.float64).ravel())
            columns.append(np.concatenate(row or [np.zeros(0)]))
        result[i] = np.array(columns).reshape(x.size, -1)
    return result


def _compare(kind, i, x, a, n, atol, rtol, eps):
    """None when ``a`` (analytic) and ``n`` (numeric) agree, else the message."""
    if a.shape != n.shape:
        return (f"gradcheck: Jacobian shapes differ for input {i}: {kind} {a.shape}, "
                f"numeric {n.shape}")
    excess = np.abs(a - n) - (atol + rtol * np.abs(n))
    if not excess.size or (excess.max() <= 0 and np.isfinite(a).all()):
        return None
    bad = np.where(np.isfinite(excess), excess, np.inf)
    row, col = np.unravel_index(int(np.argmax(bad)), a.shape)
    where = np.unravel_index(row, x.shape) if x.ndim else ()
    return (f"gradcheck: Jacobian mismatch ({kind}) for input {i} (shape {tuple(x.shape)}) "
            f"at input element {tuple(int(w) for w in where)}, output element {col} "
            f"(outputs flattened and concatenated): {kind} {float(a[row, col])!r}, "
            f"numeric {float(n[row, col])!r}, difference "
            f"{abs(a[row, col] - n[row, col]):.3g}, allowed "
            f"{atol + rtol * abs(n[row, col]):.3g} (atol={atol}, rtol={rtol}, eps={eps})")


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, *, nondet_tol=None, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              masked=None) -> bool:
    """Check reverse-mode gradients of ``fn`` at ``inputs`` against central differences.

    ``inputs``: a tensor or tuple; those with ``requires_grad=True`` are checked and must be
    float64. Passes when ``|analytic - numeric| <= atol + rtol * |numeric|`` everywhere.
    Returns True, or raises ``GradcheckError`` naming the input, the worst element, and
    both values (returns False instead when ``raise_exception=False``).

    PyTorch's keywords: ``check_forward_ad=True`` checks forward mode (jvp) too and
    ``check_backward_ad=False`` skips reverse mode; ``nondet_tol`` (when given) runs the
    reverse pass twice and requires the two to agree within it; ``fast_mode`` runs the full
    check; ``check_undefined_grad``, ``check_grad_dtypes``, ``check_batched_grad``,
    ``check_batched_forward_grad`` and ``masked`` are accepted and do nothing.

    Example::

        >>> from gpugrad.autograd import gradcheck
        >>> x = gpugrad.randn(3, dtype="float64", requires_grad=True)
        >>> gradcheck(lambda x: x.sin(), (x,), check_forward_ad=True, fast_mode=True)
        True
    """
    if not (check_backward_ad or check_forward_ad):
        raise ValueError("Expected at least one of check_forward_ad or check_backward_ad to "
                         "be True (gradcheck would check nothing)")
    Tensor = _tensor_type()
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad; create the inputs to check "
                         "with requires_grad=True")
    for i in wrt:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences "
                            f"need float64 inputs (x.double().requires_grad_(), or "
                            f"x.to(gpugrad.float64))")
    numeric = _numeric_jacobians(fn, inputs, wrt, eps)
    checks = []
    if check_backward_ad:
        analytic = _analytic_jacobians(fn, inputs, wrt)
        checks.append(("analytic", analytic))
        if nondet_tol is not None:
            again = _analytic_jacobians(fn, inputs, wrt)
            for i in wrt:
                if np.abs(again[i] - analytic[i]).max(initial=0.0) > nondet_tol:
                    message = (f"gradcheck: Backward is not reentrant for input {i}: two "
                               f"reverse passes differ by more than nondet_tol={nondet_tol}")
                    if raise_exception:
                        raise GradcheckError(message)
                    return False
    if check_forward_ad:
        checks.append(("forward-mode", _forward_jacobians(fn, inputs, wrt)))
    for kind, jacobians in checks:
        for i in wrt:
            message = _compare(kind, i, inputs[i], jacobians[i], numeric[i], atol, rtol, eps)
            if message is not None:
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0, *,
                  nondet_tol=None, fast_mode: bool = False,
                  gen_non_contig_grad_outputs: bool = False, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False,
                  check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
                  masked=None) -> bool:
    """Check second derivatives: gradcheck of ``x, v -> vjp(fn, x)(v)`` built with
    ``create_graph=True``. ``grad_outputs`` defaults to seeded random float64 cotangents.
    PyTorch's keywords are accepted: ``check_fwd_over_rev`` checks forward mode over the
    reverse pass too, ``check_rev_over_rev=False`` skips reverse over reverse,
    ``nondet_tol`` as gradcheck's; the others do nothing.

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
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev)
