"""One builder per kind of op for the random-program generator (random_programs_gen.py).

A builder draws its operands and parameters with the Builder ``b``, inserts the fix-up steps
the op's domain needs, emits the op and returns True; it returns False when the op does not
apply to the values at hand (then the generator emits FALLBACK instead).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from random_programs_gen import (MARGIN, MAX_NUMEL, SHIFTS, numel, pairs_ok,
                                 reduction_groups, ties_ok)

CONSTANTS = (0.5, -1.25, 2.0, 0.75, -0.5, 3.0, 1.5)


def _ndim_at_least(n):
    return lambda v: v.base.ndim >= n


# ---- element-wise ----------------------------------------------------------------------------

def arith(b) -> bool:
    op = b.choice(["add", "sub", "mul"])
    a = b.operand()
    p = b.partner(a)
    if p is None:
        return False
    args = (p, a) if b.flag(4) else (a, p)
    b.emit(op, args, form=int(b.flag(3)))
    return True


def div(b) -> bool:
    a = b.operand()
    p = b.partner(a)
    p = None if p is None else b.nonzero(p)
    if p is None:
        return False
    b.emit("div", (a, p), form=int(b.flag(3)))
    return True


def power(b) -> bool:
    a = b.positive(b.operand())
    p = b.partner(a, -1.5, 1.5)
    if p is not None and np.max(np.abs(b.values[p].base), initial=0.0) > 2.5:
        p = b.new_input(b.reduced_shape(b.values[a].shape), -1.5, 1.5)
    if p is not None and not b.options.zero_exponents:
        p = b.shifted(p, lambda e: np.all(e != 0))
    if a is None or p is None:
        return False
    b.emit("pow", (a, p))
    return True


def scalar(b) -> bool:
    op = b.choice(["add_scalar", "radd_scalar", "rsub_scalar", "mul_scalar", "rmul_scalar",
                   "div_scalar", "rdiv_scalar", "pow_scalar", "rpow_scalar"])
    a = b.operand()
    c = b.choice(CONSTANTS)
    if op == "pow_scalar":
        c = b.choice([2, 3, 0.5, -1, 1.5, -2])
        a = b.positive(a) if c in (0.5, 1.5) else b.nonzero(a) if c < 0 else a
    elif op == "rpow_scalar":
        c = b.choice([2.0, 0.5, 1.5])
    elif op == "rdiv_scalar":
        a = b.nonzero(a)
    if a is None:
        return False
    b.emit(op, (a,), c=c)
    return True


def smooth(b) -> bool:
    op = b.choice(["exp", "tanh", "sigmoid", "neg", "log", "sqrt", "clone"])
    a = b.operand()
    if op in ("log", "sqrt"):
        a = b.positive(a)
    if a is None:
        return False
    b.emit(op, (a,), form=int(b.flag(3)))
    return True


def kinks(b) -> bool:
    op = b.choice(["abs", "relu", "clamp"])
    a = b.operand()
    if op != "clamp":
        a = b.away_from(a, 0.0)
        if a is None:
            return False
        b.emit(op, (a,), form=int(b.flag(3)))
        return True
    lo = b.choice([-1.0, -0.5, 0.0, 0.25, None])
    hi = b.choice([0.5, 1.0, 1.5, None]) if lo is not None else b.choice([0.5, 1.0])
    if lo is not None and hi is not None:
        hi = lo + hi
    a = b.away_from(a, *(k for k in (lo, hi) if k is not None))
    if a is None:
        return False
    b.emit("clamp", (a,), lo=lo, hi=hi)
    return True


def max_min_pair(b) -> bool:
    """maximum/minimum of two values, each pair MARGIN apart or exactly tied."""
    op = b.choice(["maximum", "minimum"])
    a = b.operand()
    p = b.partner(a)
    if p is None:
        return False
    va = b.values[a]
    for c in (0.0,) + SHIFTS:
        vp = b.values[p]
        if pairs_ok(va.base, vp.base + c, va.moved, vp.moved + c):
            if c:
                p = b.emit("add_scalar", (p,), c=c)
            b.emit(op, (a, p))
            return True
    return False


def where(b) -> bool:
    a = b.operand()
    p = b.partner(a)
    if p is None:
        return False
    shape = np.broadcast_shapes(b.values[a].shape, b.values[p].shape)

    def fits(v):
        try:
            return numel(np.broadcast_shapes(v.shape, shape)) <= MAX_NUMEL
        except ValueError:
            return False
    c = a if not b.flag(3) else b.operand(fits)
    b.emit("where", (c, a, p), t=b.threshold(c))
    return True


# ---- reductions ------------------------------------------------------------------------------

def draw_axis(b, ndim: int):
    """None, an int (maybe negative) or a sorted tuple of axes."""
    how = b.draw(st.integers(0, 2)) if ndim else 0
    if how == 0:
        return None
    if how == 1:
        return b.draw(st.integers(-ndim, ndim - 1))
    axes = b.draw(st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim))
    return tuple(sorted(axes))


def reduction(b) -> bool:
    op = b.choice(["sum", "mean", "logsumexp", "var"])
    a = b.operand()
    ndim = b.values[a].base.ndim
    axis = draw_axis(b, ndim)
    params = dict(axis=axis, keepdims=b.flag(3))
    if op == "var":
        groups = reduction_groups(axis, ndim)(b.values[a].base)
        params["correction"] = 1 if groups.shape[1] > 1 and not b.flag(3) else 0
    else:
        params["form"] = int(b.flag(3))
    b.emit(op, (a,), **params)
    return True


def extreme(b, a=None, axes=None) -> bool:
    """max or min over an axis where the extreme is unique, or tied with one copy."""
    op = b.choice(["max", "min"])
    a = b.operand() if a is None else a
    v = b.values[a]
    sign = 1.0 if op == "max" else -1.0
    for axis in axes or [draw_axis(b, v.base.ndim) for _ in range(3)]:
        groups = reduction_groups(axis, v.base.ndim)
        if ties_ok(sign * v.base, sign * v.moved, groups):
            b.emit(op, (a,), axis=axis, keepdims=b.flag(3), form=int(b.flag(3)))
            return True
    return False


def ties(b) -> bool:
    """A deliberate tie: max/min over copies of one value made by cat, expand or indexing,
    or maximum/minimum of a value with itself."""
    a = b.operand(lambda v: 2 * v.base.size <= MAX_NUMEL)
    if a is None:
        return False
    ndim = b.values[a].base.ndim
    how = b.draw(st.integers(0, 3))
    if how == 3 or ndim == 0:
        b.emit(b.choice(["maximum", "minimum"]), (a, a))
        return True
    k = b.draw(st.integers(0, ndim - 1))
    if how == 0:
        c = b.emit("cat", (a, a), axis=k)
    elif how == 1:
        u = b.emit("unsqueeze", (a,), axis=k)
        shape = list(b.values[u].shape)
        shape[k] = 2
        c = b.emit("expand", (u,), shape=tuple(shape), form=int(b.flag(2)))
    else:
        n = b.values[a].shape[k]
        i, j = b.draw(st.integers(0, n - 1)), b.draw(st.integers(-n, n - 1))
        c = b.emit("getitem", (a,), index=(slice(None),) * k + ((i, i, j),))
    if not extreme(b, c, [k, None]):
        b.emit("sum", (c,), axis=k)
    return True


def softmax(b) -> bool:
    a = b.operand(_ndim_at_least(1))
    if a is None:
        return False
    ndim = b.values[a].base.ndim
    b.emit(b.choice(["softmax", "log_softmax"]), (a,), axis=b.draw(st.integers(-ndim, ndim - 1)))
    return True


# ---- products, layers, losses ----------------------------------------------------------------

def matmul(b) -> bool:
    a = b.operand(lambda v: 1 <= v.base.ndim <= 3)
    if a is None:
        return False
    shape = b.values[a].shape
    n = b.draw(st.integers(1, 3))
    if shape and len(shape) <= 2 and b.flag(4):             # the value on the right
        p = b.value_or_input((n, shape[0]), -1.0, 1.0)
        args = (p, a)
    else:
        k = shape[-1]
        options = [(k,), (k, n)] + ([(shape[0], k, n), (1, k, n)] if len(shape) == 3 else [])
        p = b.value_or_input(b.choice(options), -1.0, 1.0)
        args = (a, p)
    if p is None or numel(np.matmul(*(b.values[i].base for i in args)).shape) > MAX_NUMEL:
        return False
    b.emit("matmul", args, form=int(b.flag(3)))
    return True


def linear(b) -> bool:
    a = b.operand(lambda v: 1 <= v.base.ndim <= 3)
    if a is None:
        return False
    shape = b.values[a].shape
    out = b.draw(st.integers(1, 3))
    if numel(shape[:-1]) * out > MAX_NUMEL:
        return False
    w = b.value_or_input((out, shape[-1]), -1.0, 1.0)
    bias = None if b.flag(5) else b.value_or_input((out,), -1.0, 1.0)
    if w is None:
        return False
    b.emit("linear", (a, w) if bias is None else (a, w, bias))
    return True


def linear_relu(b) -> bool:
    """relu(x @ w.T + bias) with a bias chosen so no pre-activation is near the kink."""
    a = b.operand(lambda v: v.base.ndim == 2)
    if a is None:
        return False
    rows, inner = b.values[a].shape
    out = b.draw(st.integers(1, 3))
    w = b.new_input((out, inner), -1.0, 1.0)
    if w is None or rows * out > MAX_NUMEL:
        return False
    pre = [b.values[a].base @ b.values[w].base.T, b.values[a].moved @ b.values[w].moved.T]
    grid = [c / 4 for c in range(-12, 13)]
    start = b.draw(st.integers(0, len(grid) - 1))
    bias = []
    for j in range(out):
        fits = [c for c in grid[start:] + grid[:start]
                if all(np.all(np.abs(p[:, j] + c) >= 2 * MARGIN) for p in pre)]
        if not fits:
            return False
        bias.append(fits[0])
    c = b.new_input((out,), array=np.array(bias))
    if c is None:
        return False
    b.emit("linear_relu", (a, w, c))
    return True


def losses(b) -> bool:
    a = b.operand()
    reduction = b.choice(["mean", "sum", "none"])
    shape = b.values[a].shape
    if len(shape) == 2 and shape[1] >= 2 and b.flag(2):
        labels = tuple(b.draw(st.integers(0, shape[1] - 1)) for _ in range(shape[0]))
        b.emit("cross_entropy", (a,), labels=labels, reduction=reduction)
        return True
    p = b.value_or_input(shape, -1.0, 1.0)
    if p is None:
        return False
    b.emit("mse", (a, p) if not b.flag(4) else (p, a), reduction=reduction)
    return True


KINDS_ELEMENTWISE = [arith, arith, arith, div, power, scalar, scalar, smooth, smooth, kinks,
                     max_min_pair, where, reduction, reduction, extreme, ties, ties, softmax,
                     matmul, linear, linear, linear_relu, losses]


def fallback(b) -> bool:
    b.emit("tanh", (b.operand(),))
    return True


def _shape_kinds():
    from random_programs_shapes import KINDS_SHAPES
    return KINDS_SHAPES


FALLBACK = fallback
KINDS = KINDS_ELEMENTWISE + _shape_kinds()
