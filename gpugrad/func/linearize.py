"""torch.func's and JAX's other spellings of the core transforms: ``grad_and_value``
(torch.func: ``(grad, value)``, the reverse of ``value_and_grad``) and ``linearize``
(torch.func and JAX: ``(f(*primals), jvp_fn)``, the Jacobian at fixed primals as a function
of the tangents).

Example::

    >>> from gpugrad.func import grad_and_value, linearize
    >>> grad_and_value(lambda x: (x ** 2).sum())(gpugrad.tensor([1.0, 2.0]))
    (tensor([2., 4.], device='cpu', dtype=float32), tensor(5., device='cpu', dtype=float32))
    >>> out, jvp_fn = linearize(lambda x: x ** 3, gpugrad.tensor(2.0))
    >>> out, jvp_fn(gpugrad.tensor(1.0))                                # 3x^2 = 12
    (tensor(8., device='cpu', dtype=float32), tensor(12., device='cpu', dtype=float32))
"""

from __future__ import annotations

from ..random import get_rng_state, set_rng_state
from .transforms import _split_aux, jvp, value_and_grad

__all__ = ["grad_and_value", "linearize"]


def grad_and_value(f, argnums=0, has_aux: bool = False):
    """A function returning ``(grad, f(*args))`` (``(grad, (value, aux))`` with
    ``has_aux``), as ``torch.func.grad_and_value``: ``value_and_grad`` with the pair the
    other way round, one reverse pass for both. See ``grad`` for ``argnums``.

    Example::

        >>> g, value = func.grad_and_value(lambda x: (x ** 3).sum())(gpugrad.tensor([2.0]))
        >>> g, value                                                    # 3x^2, x^3
        (tensor([12.], device='cpu', dtype=float32), tensor(8., device='cpu', dtype=float32))
    """
    value_and_grad_f = value_and_grad(f, argnums, has_aux)

    def grad_and_value_f(*args, **kwargs):
        value, grads = value_and_grad_f(*args, **kwargs)
        return grads, value
    return grad_and_value_f


def linearize(f, *primals, has_aux: bool = False):
    """``(f(*primals), jvp_fn)``, as ``torch.func.linearize`` and ``jax.linearize``:
    ``jvp_fn(*tangents)`` is the Jacobian of f at ``primals`` applied to the tangents (one
    per primal, shaped like it), with the structure of f's output. With ``has_aux=True``
    (JAX's), f returns ``(output, aux)`` and linearize returns ``(output, jvp_fn, aux)``.

    gpugrad traces nothing, so each ``jvp_fn`` call runs f again in forward mode (torch
    replays a traced graph; the cost per call is the same order). Random draws inside f
    replay the draws of the first call, so every ``jvp_fn`` linearizes the same function.

    Example::

        >>> x = gpugrad.tensor([1.0, 2.0])
        >>> out, jvp_fn = func.linearize(lambda x: x.sin() * x, x)
        >>> jvp_fn(gpugrad.tensor([1.0, 0.0]))            # (cos(x) x + sin(x)) * [1, 0]
        tensor([1.3817732, 0.       ], device='cpu', dtype=float32)
    """
    state = get_rng_state()
    out = f(*primals)
    if has_aux:
        out, aux = _split_aux(out, "linearize")
    main = (lambda *args: f(*args)[0]) if has_aux else f

    def jvp_fn(*tangents):
        if len(tangents) != len(primals):
            raise TypeError(f"linearize: jvp_fn takes one tangent per primal ({len(primals)}, "
                            f"each shaped like it), got {len(tangents)}")
        now = get_rng_state()
        set_rng_state(state)            # the draws f made when it was linearized
        try:
            return jvp(main, primals, tangents)[1]
        finally:
            set_rng_state(now)
    return (out, jvp_fn, aux) if has_aux else (out, jvp_fn)
