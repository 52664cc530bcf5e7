"""Property test: random compositions (depth 2-5) of differentiable ops, drawn by hypothesis;
the reverse-mode gradient of sum(f(x, y) * W), and its forward-mode derivative along a fixed
direction, must match float64 central differences.

Every op keeps the (n, n) shape, so any step can follow any other. Ops with kinks (clamp,
maximum, where) get their threshold chosen once, at the unperturbed inputs, at least
KINK_MARGIN from every value it compares, so finite differences never straddle a kink; a step
whose values grow past MAX_MAGNITUDE is scaled back by a fixed factor, so exp never overflows
and rounding stays far below the gradcheck tolerance.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import gpugrad as G
from gpugrad.func import jvp

KINK_MARGIN = 0.05
MAX_MAGNITUDE = 8.0
THRESHOLD_CANDIDATES = sorted(np.round(np.linspace(-1.0, 1.0, 41), 3), key=abs)


class Step(NamedTuple):
    """One op of a program. Its first operand is the previous step's value (x at first);
    ``other`` and ``cond`` index earlier values (0 is x, 1 is y, k + 2 the k-th step)."""

    name: str
    axis: int = 0
    constant: float = 1.0
    other: int = 0
    cond: int = 0


def fixed_matrix(n: int) -> np.ndarray:
    """A fixed (n, n) matrix of spectral norm 1 (so products do not grow)."""
    m = np.random.default_rng(100 + n).standard_normal((n, n))
    return m / np.linalg.norm(m, 2)


def fixed_weights(n: int) -> np.ndarray:
    return np.random.default_rng(200 + n).uniform(-1.0, 1.0, (n, n))


def threshold_away_from(values: np.ndarray, width: float = 0.0) -> float:
    """The smallest-magnitude candidate t such that every value is at least KINK_MARGIN from
    t - width and from t + width (the kinks of a comparison or of a clamp)."""
    for t in THRESHOLD_CANDIDATES:
        kinks = (t,) if width == 0.0 else (t - width, t + width)
        if all(np.min(np.abs(values - k)) >= KINK_MARGIN for k in kinks):
            return float(t)
    raise AssertionError("no threshold candidate is away from the values")  # 41 > 2 * 9 * 2


UNARY = {
    "exp_of_tanh": lambda v, s, p: G.exp(G.tanh(v)),
    "exp_of_clamp": lambda v, s, p: G.exp(G.clamp(v, p.kink(v, 1.0) - 1.0,
                                                  p.kink(v, 1.0) + 1.0)),
    "tanh": lambda v, s, p: G.tanh(v),
    "sigmoid": lambda v, s, p: G.sigmoid(v),
    "scale": lambda v, s, p: v * s.constant,
    "shift": lambda v, s, p: v + s.constant,
    "constant_minus": lambda v, s, p: s.constant - v,
    "softplus": lambda v, s, p: G.log(1.0 + G.exp(v)),
    "square": lambda v, s, p: v ** 2,
    "sqrt_of_square_plus_one": lambda v, s, p: G.sqrt(v * v + 1.0),
    "reciprocal_of_square_plus_one": lambda v, s, p: 1.0 / (v * v + 1.0),
    "matmul_fixed_right": lambda v, s, p: v @ p.matrix,
    "matmul_fixed_left": lambda v, s, p: p.matrix @ v,
    "add_sum_back": lambda v, s, p: v + v.sum(axis=s.axis, keepdims=True),
    "subtract_mean_back": lambda v, s, p: v - G.mean(v, axis=s.axis, keepdims=True),
    "subtract_logsumexp": lambda v, s, p: v - G.logsumexp(v, axis=s.axis, keepdims=True),
    "softmax": lambda v, s, p: G.softmax(v, axis=s.axis),
    "log_softmax": lambda v, s, p: G.log_softmax(v, axis=s.axis),
    "transpose": lambda v, s, p: v.T,
    "reverse_rows": lambda v, s, p: v[::-1],
    "concatenate_then_slice": lambda v, s, p: G.concatenate([v, v * 2.0], axis=s.axis)[
        (slice(None),) * s.axis + (slice(1, 1 + p.n),)],
    "flatten_permute_reshape": lambda v, s, p: v.reshape(-1)[p.permutation].reshape(p.n, p.n),
}

BINARY = {
    "add": lambda a, b, z, s, p: a + b,
    "sub": lambda a, b, z, s, p: a - b,
    "mul": lambda a, b, z, s, p: a * b,
    "div_by_one_plus_square": lambda a, b, z, s, p: a / (b * b + 1.0),
    "matmul": lambda a, b, z, s, p: a @ b * 0.5,
    "maximum": lambda a, b, z, s, p: G.maximum(a, b + p.kink(a - b)),
    "minimum": lambda a, b, z, s, p: G.minimum(a + p.kink(a - b), b),
    "where": lambda a, b, z, s, p: G.where(z > p.kink(z), a, b),
}


class Program:
    """A list of Steps run on tensors x, y. Thresholds and rescale factors are chosen at the
    first call (the unperturbed inputs) and reused by every later call."""

    def __init__(self, steps, n: int, device):
        self.steps, self.n = list(steps), n
        self.matrix = G.tensor(fixed_matrix(n), dtype="float64", device=device)
        self.permutation = np.random.default_rng(300 + n).permutation(n * n)
        self.fixed: dict = {}
        self._key = None

    def kink(self, values, width: float = 0.0) -> float:
        """A threshold away from ``values`` (one per op application, fixed on first use)."""
        self._key = (self._key[0], self._key[1] + 1)
        if self._key not in self.fixed:
            self.fixed[self._key] = threshold_away_from(values.numpy(), width)
        return self.fixed[self._key]

    def __call__(self, x, y):
        values = [x, y]
        for k, step in enumerate(self.steps):
            self._key = (k, 0)
            v = values[-1] if k else x
            if step.name in UNARY:
                v = UNARY[step.name](v, step, self)
            else:
                v = BINARY[step.name](v, values[step.other], values[step.cond], step, self)
            if ("rescale", k) not in self.fixed:
                peak = float(np.max(np.abs(v.numpy())))
                self.fixed[("rescale", k)] = MAX_MAGNITUDE / 2 / peak if (
                    peak > MAX_MAGNITUDE) else None
            if self.fixed[("rescale", k)] is not None:
                v = v * self.fixed[("rescale", k)]
            values.append(v)
        return values[-1]


@st.composite
def random_programs(draw):
    """(n, steps, x, y): a program of depth 2-5 on two float64 (n, n) inputs."""
    n = draw(st.sampled_from([2, 3]))
    depth = draw(st.integers(2, 5))
    steps = []
    for k in range(depth):
        if draw(st.integers(0, 2)) == 0:
            steps.append(Step(draw(st.sampled_from(sorted(BINARY))),
                              other=draw(st.integers(0, k + 1)),
                              cond=draw(st.integers(0, k + 1))))
        else:
            steps.append(Step(draw(st.sampled_from(sorted(UNARY))),
                              axis=draw(st.integers(0, 1)),
                              constant=draw(st.floats(-2.0, 2.0, allow_subnormal=False))))
    elements = st.floats(-1.5, 1.5, allow_nan=False, allow_infinity=False,
                         allow_subnormal=False)
    x = draw(arrays(np.float64, (n, n), elements=elements))
    y = draw(arrays(np.float64, (n, n), elements=elements))
    return n, steps, x, y


def check_program_gradient(n, steps, x_values, y_values, device):
    """gradcheck of sum(program(x, y) * W) at (x, y), thresholds fixed at those inputs."""
    program = Program(steps, n, device)
    weights = G.tensor(fixed_weights(n), dtype="float64", device=device)

    def weighted_sum(x, y):
        return (program(x, y) * weights).sum()

    x = G.tensor(x_values, dtype="float64", device=device, requires_grad=True)
    y = G.tensor(y_values, dtype="float64", device=device, requires_grad=True)
    with G.no_grad():
        value = weighted_sum(x, y)      # fixes thresholds and rescales at the inputs
    assert np.isfinite(value.item())
    assert G.gradcheck(weighted_sum, (x, y))
    assert_jvp_matches_central_difference(weighted_sum, x_values, y_values, device)


def assert_jvp_matches_central_difference(fn, x_values, y_values, device, eps=1e-6):
    """Forward mode along a fixed random direction against a central difference of fn."""
    rng = np.random.default_rng(len(x_values))
    dx, dy = rng.standard_normal((2,) + x_values.shape)

    def at(step):
        return [G.tensor(v + step * d, dtype="float64", device=device)
                for v, d in ((x_values, dx), (y_values, dy))]
    _, tangent = jvp(fn, tuple(at(0.0)), tuple(G.tensor(d, device=device) for d in (dx, dy)))
    with G.no_grad():
        numeric = (fn(*at(eps)).item() - fn(*at(-eps)).item()) / (2 * eps)
    assert abs(tangent.item() - numeric) <= 1e-5 + 1e-3 * abs(numeric), (tangent.item(),
                                                                         numeric)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(case=random_programs())
def test_random_composition_gradient_matches_finite_differences(case, device):
    check_program_gradient(*case, device)


@pytest.mark.parametrize("name", sorted(UNARY) + sorted(BINARY))
def test_each_pool_op_in_a_fixed_chain(name, device):
    """Every op of the pool at least once, whatever hypothesis draws: op, mul by y, op."""
    step = Step(name, axis=1, constant=0.7, other=1, cond=1)
    steps = [step, Step("mul", other=1), step._replace(axis=0, other=0, cond=2)]
    rng = np.random.default_rng(sorted(UNARY).index(name) if name in UNARY else 99)
    x_values, y_values = rng.uniform(-1.5, 1.5, (2, 3, 3))
    check_program_gradient(3, steps, x_values, y_values, device)


def test_thresholds_keep_their_distance():
    values = np.array([[0.0, 0.02], [-0.04, 1.0]])
    t = threshold_away_from(values)
    assert np.min(np.abs(values - t)) >= KINK_MARGIN
    lo_hi = threshold_away_from(values, width=1.0)
    assert np.min(np.abs(values - (lo_hi - 1.0))) >= KINK_MARGIN
    assert np.min(np.abs(values - (lo_hi + 1.0))) >= KINK_MARGIN
