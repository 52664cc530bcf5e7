"""``einsum``: sums of products of operands named by subscripts, as ``torch.einsum`` and
``numpy.einsum`` (one record). The equation is first written out in full: ``...`` becomes
letters, and an implicit output (no ``->``) the letters used once, in alphabetical order.
The reverse rule for each operand is another einsum (of the cotangent and the other
operands), broadcast over letters only that operand had and summed where it broadcast;
the forward rule is a sum of einsums; the batching rule gives each batch a new letter.

Example::

    >>> a = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> b = gpugrad.tensor([10.0, 100.0])
    >>> y = gpugrad.einsum("ij,j->i", a, b)           # a @ b
    >>> y.tolist()
    [210.0, 430.0]
    >>> y.sum().backward()
    >>> a.grad.tolist()                               # each row: b
    [[10.0, 100.0], [10.0, 100.0]]
"""

from __future__ import annotations

import string

from .diagonal import diagonal
from .op_class import HOLOMORPHIC
from .record import Op, apply
from .reduce import sum_to
from .shape import broadcast_to, reshape

__all__ = ["einsum"]

_LETTERS = string.ascii_letters


def _full_equation(equation: str, ndims: list) -> tuple:
    """``(inputs, output)``: one subscript string per operand and the output's, with
    ``...`` written out as letters the equation does not use, right-aligned."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(ndims):
        raise ValueError(f"einsum: the equation {equation!r} names {len(inputs)} operands, "
                         f"but {len(ndims)} were given")
    for part in inputs + [rhs]:
        letters = part.replace("...", "")
        if any(c not in _LETTERS for c in letters) or part.count("...") > 1:
            raise ValueError(f"einsum: subscripts must be letters with at most one '...' "
                             f"per operand, got {part!r} in {equation!r}")
    spare = [c for c in _LETTERS if c not in equation]
    widest = max((n - len(s.replace("...", "")) for s, n in zip(inputs, ndims)
                  if "..." in s), default=0)
    ellipsis = "".join(spare[:widest])
    written = []
    for s, n in zip(inputs, ndims):
        named = len(s.replace("...", ""))
        if "..." in s:
            s = s.replace("...", ellipsis[widest - (n - named):] if n > named else "")
        if len(s) != n:
            raise ValueError(f"einsum: operand with subscripts {s!r} has {n} dimensions, "
                             f"not {len(s)}")
        written.append(s)
    if arrow:
        output = rhs.replace("...", ellipsis)
    else:
        counts = "".join(written)
        output = ellipsis + "".join(sorted(c for c in set(counts) if counts.count(c) == 1
                                           and c not in ellipsis))
    if len(set(output)) != len(output) or any(c not in "".join(written) for c in output):
        raise ValueError(f"einsum: the output {output!r} must name each letter of the "
                         f"inputs at most once")
    return written, output


class Einsum(Op):
    """``einsum(equation, *operands)`` with ``equation`` written out in full
    (``"ij,jk->ik"``). Operands: any shapes the subscripts fit -> the output's."""

    save = "xs"
    complex_grad = HOLOMORPHIC      # multilinear; the rules have no conjugates (JAX-style)

    @staticmethod
    def forward(xp, *operands, equation):
        return xp.einsum(equation, *operands)

    @staticmethod
    def vjp(ctx, g):
        inputs, output = _subscripts(ctx.equation)
        xs = ctx.xs
        sizes = _sizes(inputs, ctx.shapes, output, g.shape)
        grads = []
        for k, (subscripts, shape) in enumerate(zip(inputs, ctx.shapes)):
            if not ctx.needs(k):
                grads.append(None)
                continue
            others = [(s, x) for j, (s, x) in enumerate(zip(inputs, xs)) if j != k]
            seen = output + "".join(s for s, _ in others)
            kept = "".join(c for c in subscripts if c in seen)
            equation = ",".join([output] + [s for s, _ in others]) + "->" + kept
            grad = apply(Einsum, g, *[x for _, x in others], equation=equation)
            full = tuple(sizes[c] for c in subscripts)
            if kept != subscripts:      # letters only this operand had: broadcast them
                grad = broadcast_to(reshape(grad, *(sizes[c] if c in kept else 1
                                                    for c in subscripts)), full)
            grads.append(sum_to(grad, shape))
        return tuple(grads)

    @staticmethod
    def jvp(ctx, *tangents):
        xs, out = ctx.xs, None
        for k, t in enumerate(tangents):
            if t is not None:
                term = apply(Einsum, *xs[:k], t, *xs[k + 1:], equation=ctx.equation)
                out = term if out is None else out + term
        return out

    @staticmethod
    def vmap(xs, batched, equation):
        inputs, output = _subscripts(equation)
        letter = next(c for c in _LETTERS if c not in equation)
        inputs = [letter + s if b else s for s, b in zip(inputs, batched)]
        return apply(Einsum, *xs, equation=",".join(inputs) + "->" + letter + output)


def _subscripts(equation: str) -> tuple:
    lhs, _, output = equation.partition("->")
    return lhs.split(","), output


def _sizes(inputs, shapes, output, out_shape) -> dict:
    """Each letter's size: the largest along it (size-1 dimensions broadcast)."""
    sizes = dict(zip(output, out_shape))
    for s, shape in zip(inputs, shapes):
        for c, n in zip(s, shape):
            sizes[c] = max(sizes.get(c, 1), n)
    return sizes


def einsum(equation: str, *operands):
    """Sums of products of ``operands`` along the letters of ``equation``, as
    ``torch.einsum`` (operands may also be given as one list). Differentiable in every
    operand, to any order; ``...`` and implicit outputs are NumPy's. A letter repeated
    within one operand takes that diagonal (``"ii->i"``; ``"ii"`` is the trace).

    Example::

        >>> x, y = gpugrad.ones(2, 3), gpugrad.ones(3, 4)
        >>> gpugrad.einsum("ij,jk->ik", x, y).shape, gpugrad.einsum("ij->", x).item()
        ((2, 4), 6.0)
        >>> gpugrad.einsum("...i,...i", gpugrad.ones(5, 3), gpugrad.ones(3)).shape
        (5,)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum needs at least one operand")
    inputs, output = _full_equation(equation, [t.ndim for t in operands])
    operands, inputs = zip(*[_diagonals_taken(t, s) for t, s in zip(operands, inputs)])
    dtype = operands[0].dtype
    if any(t.dtype != dtype for t in operands):
        raise TypeError(f"einsum: the operands must have one dtype, got "
                        f"{[str(t.dtype) for t in operands]}; convert them first")
    return apply(Einsum, *operands, equation=",".join(inputs) + "->" + output)


def _diagonals_taken(t, subscripts: str) -> tuple:
    """``(t, subscripts)`` with each letter repeated within them reduced to one by taking
    that diagonal (the letter moves to the end, as ``diagonal`` puts it)."""
    for c in subscripts:
        if subscripts.count(c) > 1:
            i = subscripts.index(c)
            j = subscripts.index(c, i + 1)
            if t.shape[i] != t.shape[j]:
                raise ValueError(f"einsum: subscript {c!r} repeated in {subscripts!r} names "
                                 f"dimensions of sizes {t.shape[i]} and {t.shape[j]}; a "
                                 f"diagonal needs equal sizes")
            rest = subscripts[:i] + subscripts[i + 1:j] + subscripts[j + 1:] + c
            return _diagonals_taken(diagonal(t, 0, i, j), rest)
    return t, subscripts
