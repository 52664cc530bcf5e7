"""Complex autograd in PyTorch's convention: the node recorded where a complex dtype is among
an op's inputs or output, and the refusal of ops whose rules are not known to be right there.

For a real loss L of a complex z, ``z.grad`` is dL/dRe(z) + i dL/dIm(z) (PyTorch's; the
conjugate of what JAX's ``grad`` gives). Most rules are written JAX-style, as transposes
with no conjugates; for an op holomorphic in its inputs (``complex_grad = HOLOMORPHIC`` on
its record), PyTorch's cotangent of an input is ``conj(vjp(conj(g)))``, and for a real
input of such an op, the real part of that. An op whose rules already give PyTorch's
gradients for complex values (abs, real, imag, angle...: ``complex_grad = OWN_RULES``) runs
its rules as they are. Every other op refuses, when the graph is recorded, complex values
that need a gradient or a tangent.

Forward mode needs nothing more: a JAX-style jvp of a holomorphic op is already the tangent
map (dy = f'(z) dz), and the OWN_RULES records write theirs.

The node is chosen in ``record()`` only where a complex dtype is seen, so real graphs keep
the plain ``Node`` (and its fast paths) untouched.

Example::

    >>> x = gpugrad.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    >>> (x * x).abs().sum().backward()
    >>> x.grad                  # |x*x| = |x|^2, whose gradient is 2x (torch's convention)
    tensor([2.+4.j, 6.-2.j], device='cpu', dtype=complex64)
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import Node
from ..tensor import Tensor
from .op_class import OWN_RULES

__all__ = ["ComplexNode", "complex_node", "check_complex_tangents", "no_complex_grad_error",
           "COMPLEX_DTYPES", "refuse_complex"]

# the complex dtypes, both byte orders (a set: ``record()`` asks of every node, at ~20 ns)
COMPLEX_DTYPES = frozenset(np.dtype(name).newbyteorder(order) for name in
                           ("complex64", "complex128", "clongdouble") for order in "<>")


def no_complex_grad_error(op_name: str, dtypes, forward: bool = False) -> TypeError:
    """The error for an op without a complex rule meeting complex values that need a
    gradient (``forward``: a tangent)."""
    listed = ", ".join(str(d) for d in dtypes)
    what = "forward-mode (jvp) tangent" if forward else "gradient"
    return TypeError(
        f"{op_name} has no complex {what} yet; its inputs or output are complex ({listed}) "
        f"and need one. Compute it from the real and imaginary parts (x.real, x.imag, "
        f"gpugrad.complex(re, im)) with ops that support them, or detach() the complex "
        f"input if it needs no gradient.")


_PLAIN = frozenset((float, int, bool, type(None)))     # operands that cannot be complex


def refuse_complex(op_name: str, *values, hint: str = "", ordered: bool = True) -> None:
    """Refuse complex tensors (or Python complex numbers) among ``values``, as PyTorch
    refuses them: for an op that needs an order (sort, max, <...; complex numbers have
    none), or with ``ordered=False`` for one PyTorch defines for real values only (erf,
    lgamma, mse_loss...); ``hint`` says what to do instead. A check at the function's entry
    (~100 ns), never inside a record.

    Example::

        >>> gpugrad.sort(gpugrad.tensor([1 + 2j, 3j]))
        Traceback (most recent call last):
        NotImplementedError: sort is not implemented for complex tensors (complex64), as in...
    """
    for v in values:
        if isinstance(v, Tensor):
            if v.dtype.kind != "c":                   # (dtype: a batched tensor's too)
                continue
        elif v.__class__ in _PLAIN:
            continue
        dtype = getattr(v, "dtype", None)
        if (dtype is not None and dtype.kind == "c") or v.__class__ is complex:
            shown = dtype if dtype is not None else "a Python complex"
            message = f"{op_name} is not implemented for complex tensors ({shown}), as in PyTorch"
            if ordered:
                hint = hint or "Order by magnitude (x.abs()), real part (x.real) or angle instead"
                message += f": complex numbers have no order. {hint}."
            elif hint:
                message += f"; {hint}"
            raise NotImplementedError(message)


class ComplexNode(Node):
    """A recorded op with a complex input or output. Its ``apply`` turns the op's JAX-style
    rule into PyTorch's convention (module docstring); OWN_RULES records run as they are."""

    def apply(self, grads: list) -> tuple:
        op = self.op
        if op.complex_grad is OWN_RULES:
            return Node.apply(self, grads)
        g = grads[0]
        if g is not None and g.dtype.kind == "c":
            g = _parts.conj_physical(g)
        result = op.vjp(self, g)
        result = result if isinstance(result, tuple) else (result,)
        return tuple([_turned(r, self.dtypes[i]) if r is not None and i < len(self.dtypes)
                      else r for i, r in enumerate(result)])


def _turned(r, dtype):
    """PyTorch's cotangent from a JAX-style rule's ``r`` (given the conjugated cotangent),
    for an input of ``dtype``: conj(r), its real part for a real input."""
    if dtype.kind == "c":
        if r.dtype.kind == "c":
            return _parts.conj_physical(r)
        return _unary.astype(r, dtype)
    if r.dtype.kind == "c":
        return _parts.real(r)
    return r


def complex_node(op, edges, shapes, dtypes, out_dtype) -> ComplexNode:
    """The node of ``op`` applied to inputs of ``dtypes`` (one or more complex, or the output
    ``out_dtype`` complex); refuses an op without a complex rule."""
    if op.complex_grad is None:
        raise no_complex_grad_error(op.name, [*dtypes, out_dtype])
    return ComplexNode(op, edges, shapes, dtypes)


def check_complex_tangents(op, inputs, result) -> None:
    """Refuse forward mode through an op without a complex rule on complex values."""
    if op.complex_grad is None:
        dtypes = [t.dtype for t in inputs] + [result.dtype]
        if not COMPLEX_DTYPES.isdisjoint(dtypes):
            raise no_complex_grad_error(op.name, dtypes, forward=True)


from . import complex_parts as _parts  # noqa: E402  (its records import record, which imports us)
from . import unary as _unary  # noqa: E402
