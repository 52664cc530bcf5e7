"""Builders of the random-program generator for shapes, views, indexing, joining and in-place
ops (the element-wise and reduction builders are in random_programs_builders.py).

Shape ops that change nothing (reshape to the same shape, an identity permute, transpose of
a vector, squeeze with no size-1 axis...) are drawn only with ``Options.identity_shape_ops``.
In-place ops write only into values that are not inputs, not views, not read by any step
yet, and made by an op whose reverse rule saves nothing of its output (``OpDef.writable``).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from random_programs_gen import MAX_NUMEL, numel
from random_programs_ops import torch_get


def _identity_ok(b) -> bool:
    return b.options.identity_shape_ops and b.flag(2)


def _shape_operand(b, identity: bool) -> int:
    """The operand of a shape op; for one that changes nothing, most often a value read
    elsewhere too (else the identity would be invisible: nothing else uses the original)."""
    if identity and not b.flag(3):
        read = b.operand(lambda v: v.consumed or v.op is None)
        if read is not None:
            return read
    return b.operand()


def _divisors(n: int) -> list:
    return [d for d in range(1, n + 1) if n % d == 0]


def reshape(b, identity=None) -> bool:
    identity = _identity_ok(b) if identity is None else identity
    a = _shape_operand(b, identity)
    shape = b.values[a].shape
    if identity:
        target = list(shape)
    else:
        target, rest = [], numel(shape)
        for _ in range(b.draw(st.integers(1, 3)) - 1):
            target.append(b.choice(_divisors(rest)))
            rest //= target[-1]
        target.append(rest)
        if tuple(target) == shape:
            target.append(1)
    if target and b.flag(3):
        target[b.draw(st.integers(0, len(target) - 1))] = -1
    b.emit("reshape", (a,), shape=tuple(target), form=b.draw(st.integers(0, 2)))
    return True


def permute(b, identity=None) -> bool:
    identity = _identity_ok(b) if identity is None else identity
    a = _shape_operand(b, identity)
    ndim = b.values[a].base.ndim
    how = b.draw(st.integers(0, 2))
    if identity and (ndim < 2 or how == 0):    # these change nothing
        op = b.choice(["T", "transpose", "permute"] if ndim else ["T", "transpose"])
        b.emit(op, (a,), d0=0, d1=-1, axes=tuple(range(ndim)))
    elif ndim >= 2 and how == 0:
        axes = list(b.draw(st.permutations(range(ndim))))
        if axes == list(range(ndim)):
            axes = axes[1:] + axes[:1]
        b.emit("permute", (a,), axes=tuple(axes))
    elif ndim >= 2 and how == 1:
        d0 = b.draw(st.integers(-ndim, ndim - 1))
        d1 = b.draw(st.integers(-ndim, ndim - 1).filter(lambda d: d % ndim != d0 % ndim))
        b.emit("transpose", (a,), d0=d0, d1=d1)
    elif ndim >= 2:
        b.emit(b.choice(["T", "mT"]), (a,))
    else:
        return False
    return True


def expand(b, identity=None) -> bool:
    identity = _identity_ok(b) if identity is None else identity
    a = _shape_operand(b, identity)
    shape = b.values[a].shape
    target = list(shape)
    if not identity:
        target = [b.choice([2, 3]) if n == 1 and b.flag(2) else n for n in shape]
        if b.flag(3) or target == list(shape):
            target.insert(0, 2)
    if numel(target) > MAX_NUMEL:
        return False
    lead = len(target) - len(shape)
    written = [-1 if i >= lead and n == shape[i - lead] and b.flag(3) else n
               for i, n in enumerate(target)]
    b.emit("expand", (a,), shape=tuple(written), form=int(b.flag(3)))
    return True


def squeeze_unsqueeze_flatten(b, identity=None) -> bool:
    identity = _identity_ok(b) if identity is None else identity
    a = _shape_operand(b, identity)
    shape = b.values[a].shape
    ndim = len(shape)
    how = b.draw(st.integers(0, 2))
    ones = [i for i, n in enumerate(shape) if n == 1]
    if identity and how == 0 and not ones:
        b.emit("squeeze", (a,), axis=None)
    elif identity and ndim >= 1:
        start = b.draw(st.integers(0, ndim - 1))
        b.emit("flatten", (a,), start=start, end=start - ndim if b.flag(2) else start)
    elif how == 0 and ones:
        b.emit("squeeze", (a,), axis=b.choice(ones) if b.flag(2) else None)
    elif how == 1 and ndim != 1:
        start = b.draw(st.integers(0, max(ndim - 2, 0)))
        end = b.draw(st.integers(start + 1, ndim - 1)) if ndim >= 2 else 0
        b.emit("flatten", (a,), start=start, end=end - ndim if ndim and b.flag(2) else end)
    else:
        b.emit("unsqueeze", (a,), axis=b.draw(st.integers(-ndim - 1, ndim)))
    return True


def draw_index(b, shape, unique=False, newaxis=True) -> tuple | None:
    """An index into an array of ``shape`` (ints, slices, one integer array or boolean mask,
    None, ...) selecting a non-empty result of at most MAX_NUMEL elements."""
    parts, arrays = [], 0
    count = b.draw(st.integers(1, len(shape)))
    if count < len(shape) and b.flag(4):
        parts.append(Ellipsis)
    for n in shape[-count:] if parts else shape[:count]:
        how = b.draw(st.integers(0, 5))
        if how == 5 and newaxis:
            parts.append(None)
            how = 0
        if how == 1:
            parts.append(b.draw(st.integers(-n, n - 1)))
        elif how == 2:
            start = b.draw(st.one_of(st.none(), st.integers(-n, n - 1)))
            stop = b.draw(st.one_of(st.none(), st.integers(-n, n)))
            parts.append(slice(start, stop, b.choice([None, 2, -1])))
        elif how == 3 and not arrays:
            size = b.draw(st.integers(1, min(3, n) if unique else 3))
            values = b.draw(st.lists(st.integers(-n, n - 1), min_size=size, max_size=size,
                                     unique_by=(lambda i: i % n) if unique else None))
            parts.append(tuple(values))
            arrays += 1
        elif how == 4 and not arrays:
            mask = np.array(b.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
            mask[b.draw(st.integers(0, n - 1))] = True
            parts.append(mask)
            arrays += 1
        else:
            parts.append(slice(None))
    index = tuple(parts)
    try:
        picked = torch_get(np.zeros(shape), index)
    except IndexError:
        return None
    return index if 0 < picked.size <= MAX_NUMEL else None


def getitem(b) -> bool:
    a = b.operand(lambda v: v.base.ndim >= 1)
    if a is None:
        return False
    shape = b.values[a].shape
    if b.flag(5):                            # one mask over every element
        mask = np.array(b.draw(st.lists(st.booleans(), min_size=numel(shape),
                                        max_size=numel(shape)))).reshape(shape)
        mask.flat[b.draw(st.integers(0, mask.size - 1))] = True
        index = (mask,)
    else:
        index = draw_index(b, shape)
    if index is None:
        return False
    b.emit("getitem", (a,), index=index)
    return True


def mask_select(b) -> bool:
    a = b.operand(lambda v: v.base.ndim >= 1)
    if a is None:
        return False
    same = [i for i, v in enumerate(b.values) if v.shape == b.values[a].shape]
    c = b.choice(same) if b.flag(3) else a
    b.emit("mask_select", (a, c), t=b.threshold(c, need_true=True))
    return True


def join(b) -> bool:
    a = b.operand()
    shape = b.values[a].shape
    ndim = len(shape)
    stack = ndim == 0 or b.flag(3)
    if stack:
        axis = b.draw(st.integers(-ndim - 1, ndim))
        parts = [a, a if b.flag(3) else b.value_or_input(shape)]
    else:
        axis = b.draw(st.integers(-ndim, ndim - 1))
        other = list(shape)
        other[axis] = b.draw(st.integers(1, 2))
        parts = [a, a if b.flag(3) else b.value_or_input(other)]
        if b.flag(4):
            parts.append(b.value_or_input(other))
    if None in parts:
        return False
    if stack:
        size = len(parts) * numel(shape)
    else:
        size = numel(shape) // shape[axis] * sum(b.values[p].shape[axis] for p in parts)
    if size > MAX_NUMEL:
        return False
    b.emit("stack" if stack else "cat", parts, axis=axis)
    return True


def _into(b, shape, exclude=None):
    """A value broadcasting into ``shape`` without changing it (fresh input most often)."""
    def fits(i, v):
        try:
            return np.broadcast_shapes(v.shape, shape) == shape and i != exclude
        except ValueError:
            return False
    earlier = [i for i, v in enumerate(b.values) if fits(i, v)]
    if earlier and b.flag(3):
        return b.choice(earlier)
    return b.new_input(b.reduced_shape(shape))


def _target(b, accept):
    """A value to write in place: one ``accept`` takes, else a clone of an operand."""
    t = b.operand(accept)
    if t is None:
        t = b.emit("clone", (b.operand(),))
        return t if accept(b.values[t]) else None
    return t


def in_place(b) -> bool:
    """add_/sub_/mul_/div_ (method or operator form) of a value, a number or itself."""
    t = _target(b, lambda v: v.writable)
    if t is None:
        return False
    op = b.choice(["add_", "sub_", "mul_", "div_"])
    how = b.draw(st.integers(0, 2))
    params = dict(form=int(b.flag(2)))
    if how == 1:
        params["c"] = b.choice([2.0, -0.5, 1.5, 0.25])
        args = (t,)
    else:
        p = t if how == 2 else _into(b, b.values[t].shape, exclude=t)
        if p is not None and op == "div_":
            p = b.nonzero(p) if p != t else (t if np.all(np.abs(b.values[t].base) >= 0.3)
                                              else None)
        if p is None:
            return False
        args = (t, p)
    b.emit(op, args, **params)
    return True


def set_item(b) -> bool:
    """``t[index] = value`` (a number, or a value broadcasting into ``t[index]``)."""
    t = _target(b, lambda v: v.writable and v.base.ndim >= 1)
    if t is None:
        return False
    index = draw_index(b, b.values[t].shape, unique=True, newaxis=False)
    if index is None:
        return False
    if b.flag(3):
        b.emit("setitem", (t,), index=index, c=b.choice([0.5, -1.5, 2.0]))
        return True
    p = _into(b, torch_get(b.values[t].base, index).shape, exclude=t)
    if p is None:
        return False
    b.emit("setitem", (t, p), index=index)
    return True


def identity_view(b) -> bool:
    """A shape op that changes nothing (it must still give a new tensor)."""
    if not b.options.identity_shape_ops:
        return False
    return b.choice([reshape, permute, expand, squeeze_unsqueeze_flatten])(b, identity=True)


KINDS_SHAPES = [identity_view, reshape, permute, expand, squeeze_unsqueeze_flatten, getitem,
                getitem, mask_select, join, in_place, in_place, in_place, set_item, set_item]
