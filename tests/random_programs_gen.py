"""The hypothesis generator of random programs: ``programs(options)`` draws 3-8 ops (plus
the small fix-up steps some need), each on the latest value or an earlier one (a value used
twice), with broadcasting partners (fresh inputs or earlier values), views, indexing and
in-place ops on non-leaf values that nothing has read yet.

The generator runs the NumPy reference as it draws, so it knows every value: it keeps values
away from kinks and domain edges (log, sqrt and pow see values >= MIN_POSITIVE; abs, relu,
clamp, where, maximum and max see no value within MARGIN of a kink or of another candidate)
by drawing thresholds away from them or by inserting a shift step (``v + 0.75``) before the
op; it scales values back under MAX_ABS. Ties are allowed only where they are exact, between
exactly two elements and structural (they persist when every input moves by a random JITTER:
copies made by cat/expand/indexing): there float64 central differences give each tied
element half, which is gpugrad's documented rule (ties share the gradient equally), and the
gradients stay smooth for the second-order checks. The op builders are in
random_programs_builders.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from random_programs import Input, Program, Step
from random_programs_ops import OPS

MARGIN = 0.05           # distance kept from kinks and between compared values
MIN_POSITIVE = 0.3      # log, sqrt, pow bases, denominators: |x| at least this
JITTER = 1e-3           # size of the random move that tells structural ties from chance
MAX_ABS = 6.0           # values larger than this are scaled back by a power of two
MAX_NUMEL = 36          # no value has more elements
MAX_INPUT_ELEMENTS = 40  # elements of all inputs together (the finite differences' cost)
SHIFTS = (0.25, -0.25, 0.5, -0.5, 0.75, -0.75, 1.0, -1.0, 1.5, -1.5, 2.0, -2.0, 3.0, -3.0)


def numel(shape) -> int:
    """The number of elements of an array of ``shape``."""
    return int(np.prod(shape))


@dataclass(frozen=True)
class Options:
    """What the generator may draw: ``identity_shape_ops`` (reshape to the same shape, an
    identity permute, transpose of a vector...) and ``zero_exponents`` (a tensor exponent of
    ``a ** b`` with exact zeros)."""

    identity_shape_ops: bool = True
    zero_exponents: bool = True


@dataclass
class Value:
    name: str
    base: np.ndarray        # at the inputs
    moved: np.ndarray       # at the inputs moved by JITTER (structural ties persist there)
    op: str | None          # the op that last defined it (None: an input)
    requires_grad: bool
    consumed: bool = False  # read by a step (then never written in place)

    @property
    def shape(self) -> tuple:
        return self.base.shape

    @property
    def writable(self) -> bool:
        return self.op is not None and OPS[self.op].writable and not self.consumed


class Builder:
    """Draws and records a program step by step, with every value's NumPy arrays."""

    def __init__(self, draw, options: Options):
        self.draw, self.options = draw, options
        self.values: list[Value] = []
        self.inputs: list[Input] = []
        self.steps: list[Step] = []
        self.current = None            # the value the next op reads by default

    # ---- drawing helpers
    def choice(self, seq):
        return seq[self.draw(st.integers(0, len(seq) - 1))]

    def flag(self, chance_in: int = 2) -> bool:
        """True with probability 1/chance_in; shrinks to False."""
        return self.draw(st.integers(0, chance_in - 1)) == chance_in - 1

    def input_elements(self) -> int:
        return sum(i.array.size for i in self.inputs)

    # ---- values
    def new_input(self, shape, low=-2.0, high=2.0, array=None, requires_grad=None):
        """A fresh leaf of ``shape`` with distinct values in about [low, high] (rounded to
        two decimals, pairwise at least 0.1 apart, sometimes one of them an exact 0, 1 or
        -1); None when the input budget is spent."""
        shape = tuple(shape)
        size = int(np.prod(shape))
        if self.input_elements() + size > MAX_INPUT_ELEMENTS:
            return None
        seed = self.draw(st.integers(0, 2 ** 16 - 1))
        rng = np.random.default_rng(seed)
        if array is None:
            cell = max((high - low) / max(size, 1), 0.25)
            cells = rng.permutation(size)
            array = np.round(low + (cells + rng.uniform(0.3, 0.7, size)) * cell, 2)
            if size and self.flag(4):           # an exact 0, 1 or -1 (pow's exponent 0...)
                array[self.draw(st.integers(0, size - 1))] = self.choice([0.0, 1.0, -1.0])
        array = np.asarray(array, dtype=np.float64).reshape(shape)
        if requires_grad is None:
            requires_grad = not self.inputs or self.draw(st.integers(0, 5)) < 5
        index = len(self.values)
        self.inputs.append(Input(index, array, requires_grad))
        moved = array + rng.uniform(-JITTER, JITTER, shape)
        self.values.append(Value(f"x{len(self.inputs) - 1}", array, moved, None, requires_grad))
        return index

    def value_or_input(self, shape, low=-2.0, high=2.0) -> int | None:
        """An earlier value of exactly ``shape`` (sometimes), else a fresh input (values in
        about [low, high], see ``new_input``)."""
        shape = tuple(shape)
        same = [i for i, v in enumerate(self.values) if v.shape == shape]
        if same and self.flag(3):
            return self.choice(same)
        return self.new_input(shape, low, high)

    def emit(self, op: str, args, **params) -> int:
        """Record one step and compute its value; returns the value it defines."""
        args = tuple(args)
        spec = OPS[op]
        base = np.asarray(spec.numpy([self.values[a].base for a in args], params), np.float64)
        moved = np.asarray(spec.numpy([self.values[a].moved for a in args], params), np.float64)
        grad = any(self.values[a].requires_grad for a in args)
        for a in args[1:] if spec.inplace else args:
            self.values[a].consumed = True
        if spec.inplace:
            out = args[0]
            v = self.values[out]
            v.base, v.moved, v.op = base, moved, op
            v.requires_grad = v.requires_grad or grad
        else:
            out = len(self.values)
            self.values.append(Value(f"v{out}", base, moved, op, grad))
        self.steps.append(Step(op, args, params, out))
        self.current = out
        return self.bounded(out)

    def bounded(self, i: int) -> int:
        """``i``, or ``i`` times a power of two when its values exceed MAX_ABS."""
        peak = float(np.max(np.abs(self.values[i].base), initial=0.0))
        if peak <= MAX_ABS:
            return i
        scale = 2.0 ** -int(np.ceil(np.log2(peak / (MAX_ABS / 2))))
        return self.emit("mul_scalar", (i,), c=scale)

    def operand(self, accept=None) -> int | None:
        """The current value (most often) or an earlier one, among those ``accept`` takes."""
        ok = [i for i, v in enumerate(self.values) if accept is None or accept(v)]
        if not ok:
            return None
        if self.current in ok and not self.flag(4):
            return self.current
        return self.choice(ok)

    def shifted(self, i: int, ok) -> int | None:
        """``i`` if ``ok`` holds for its values (base and moved), else ``i + c`` for the first
        shift c in SHIFTS (or a shift making every value >= 0.5) for which it holds."""
        v = self.values[i]
        if ok(v.base) and ok(v.moved):
            return i
        low = float(min(v.base.min(initial=0.0), v.moved.min(initial=0.0)))
        for c in SHIFTS + (np.ceil((0.5 - low) * 4) / 4,):
            if ok(v.base + c) and ok(v.moved + c):
                return self.emit("add_scalar", (i,), c=float(c))
        return None

    def positive(self, i: int) -> int | None:
        return self.shifted(i, lambda a: a.size == 0 or a.min() >= MIN_POSITIVE)

    def nonzero(self, i: int) -> int | None:
        return self.shifted(i, lambda a: np.all(np.abs(a) >= MIN_POSITIVE))

    def away_from(self, i: int, *kinks) -> int | None:
        return self.shifted(i, lambda a: all(np.all(np.abs(a - k) >= MARGIN) for k in kinks))

    def threshold(self, i: int, need_true=False) -> float:
        """A threshold at least MARGIN from every value of ``i`` (a comparison's constant);
        with ``need_true`` some value lies above it."""
        v = self.values[i]
        grid = [0.0, 0.25, -0.25, 0.5, -0.5, 1.0, -1.0, 0.1, -0.1, 0.75, -0.75]
        start = self.draw(st.integers(0, len(grid) - 1))
        for t in grid[start:] + grid[:start]:
            if all(np.all(np.abs(a - t) >= MARGIN) for a in (v.base, v.moved)) and (
                    not need_true or np.any(v.base > t)):
                return t
        return float(np.floor(min(v.base.min(), v.moved.min()) * 4) / 4 - 0.25)

    # ---- partners of binary ops
    def reduced_shape(self, shape) -> tuple:
        """``shape`` with some leading dims dropped and some dims set to 1 (it broadcasts
        against ``shape`` without changing it)."""
        drop = self.draw(st.integers(0, len(shape)))
        kept = shape[drop:]
        return tuple(1 if n > 1 and self.flag(3) else n for n in kept)

    def partner(self, a: int, low=-2.0, high=2.0) -> int | None:
        """A value that broadcasts against value ``a``: a fresh input (most often), ``a``
        itself, or an earlier value of a compatible shape."""
        shape = self.values[a].shape
        how = self.draw(st.integers(0, 3))
        if how == 1:
            return a
        if how >= 2:
            def fits(v):
                try:
                    out = np.broadcast_shapes(v.shape, shape)
                except ValueError:
                    return False
                return int(np.prod(out)) <= MAX_NUMEL and (how == 3 or v.shape == shape)
            candidates = [i for i, v in enumerate(self.values) if fits(v)]
            if candidates:
                return self.choice(candidates)
        grown = list(self.reduced_shape(shape))
        if grown and 1 in shape and self.flag(3):          # the partner broadcasts a too
            d = shape.index(1) - (len(shape) - len(grown))
            if d >= 0:
                grown[d] = 2
        if int(np.prod(np.broadcast_shapes(tuple(grown), shape))) > MAX_NUMEL:
            grown = list(self.reduced_shape(shape))
        return self.new_input(grown, low, high)


def ties_ok(base: np.ndarray, moved: np.ndarray, groups) -> bool:
    """In every group of ``groups(array)`` (a 2-D array, one group per row), the extreme
    (largest value first: callers negate for min) is unique with MARGIN to spare, or tied
    exactly with other elements, MARGIN above the rest; and the ties are the same after the
    JITTER move (structural, so gpugrad's float64 results tie exactly where NumPy's do)."""
    patterns = []
    for a in (base, moved):
        rows = groups(a)
        if rows.shape[1] == 0:
            return False
        top = rows.max(axis=1, keepdims=True)
        hit = rows == top
        rest = np.where(hit, -np.inf, rows).max(axis=1)
        if np.any(top[:, 0] - rest < MARGIN):
            return False
        patterns.append(hit)
    return bool(np.array_equal(patterns[0], patterns[1]))


def reduction_groups(axis, ndim: int):
    """groups(a): the reduced axes last, one row per output element."""
    axes = tuple(range(ndim)) if axis is None else tuple(
        a % ndim for a in ((axis,) if isinstance(axis, int) else axis))
    kept = tuple(d for d in range(ndim) if d not in axes)

    def groups(a):
        moved = np.transpose(a, kept + axes) if ndim else a
        count = int(np.prod([a.shape[d] for d in axes])) if ndim else 1
        return moved.reshape(-1, count)
    return groups


def pairs_ok(a_base, b_base, a_moved, b_moved) -> bool:
    """Element-wise maximum/minimum: each pair differs by MARGIN or is tied exactly, the
    ties the same after the JITTER move."""
    ties = []
    for a, b in ((a_base, b_base), (a_moved, b_moved)):
        d = np.abs(np.subtract(a, b))
        if np.any((d > 0) & (d < MARGIN)):
            return False
        ties.append(d == 0)
    return bool(np.array_equal(ties[0], ties[1]))


def draw_weights(draw, shape) -> np.ndarray:
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16 - 1)))
    magnitude = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    return np.round(magnitude, 2)


@st.composite
def programs(draw, options: Options = Options()):
    """A random Program (3-8 drawn ops) of float64 inputs, see the module docstring."""
    from random_programs_builders import FALLBACK, KINDS
    b = Builder(draw, options)
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    while int(np.prod(shape)) > 24:
        shape = shape[1:]
    b.current = b.new_input(shape)
    for _ in range(draw(st.integers(3, 8))):
        kind = draw(st.sampled_from(KINDS))
        if not kind(b):
            FALLBACK(b)
    output = b.current
    names = [v.name for v in b.values]
    weights = draw_weights(draw, b.values[output].shape)
    return Program(names, b.inputs, b.steps, output, weights)
