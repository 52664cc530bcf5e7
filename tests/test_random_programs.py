"""The random-program differential tester (issue 15), and tests of the tester itself.

``test_random_programs`` draws a fixed, seeded budget of random programs (3-8 ops over the op
table: broadcasting partners, views, indexing, reused values, in-place ops) and checks each
against float64 NumPy and central differences: values, gradients, retained gradients and
hooks on every intermediate, accumulation, forward mode with tangents on all inputs and on
each alone, u.(Jv) == (uJ).v, Jacobians, and second order four ways
(random_programs_checks.py). A failure shrinks to a short program printed as gpugrad code.

``GPUGRAD_FUZZ_EXAMPLES=10000`` (``make fuzz``) draws that many programs instead, from a
random seed that the run prints (``GPUGRAD_FUZZ_SEED`` repeats a run).
tests/test_random_programs_teeth.py shows the budget finds known defects.
"""

import numpy as np
import pytest

import gpugrad
from random_programs import (Input, Program, Step, leaf_tensors, run_gpugrad, run_numpy,
                             selection_patterns)
from random_programs_checks import ProgramFailure, central_gradient, check_program
from random_programs_gen import MARGIN, reduction_groups, ties_ok
from random_programs_run import budget, fuzz_examples, run_tester


def test_random_programs(device):
    examples, run_seed = budget()
    if device == "cuda" and fuzz_examples() is None:
        examples //= 3                  # the same programs again, fewer: a GPU run is short
    run_tester(examples, run_seed, device=device)


def _program(steps, inputs, output, weights):
    names = [f"x{k}" for k in range(len(inputs))]
    names += [f"v{len(inputs) + k}" for k in range(len(steps))]
    inputs = [Input(k, np.asarray(a, dtype=np.float64)) for k, a in enumerate(inputs)]
    return Program(names, inputs, steps, output, np.asarray(weights, dtype=np.float64))


def _tie_program():
    """max over cat([x, x]): every maximum tied with its copy."""
    return _program([Step("cat", (0, 0), {"axis": 0}, 1), Step("max", (1,), {"axis": 0}, 2)],
                    [[[0.5, -1.0], [1.5, 0.25]]], 2, [1.0, -2.0])


def test_printed_code_runs_and_is_what_the_tester_runs():
    program = _tie_program()
    namespace = {}
    exec(program.code(), namespace)                     # prints x0.grad
    leaves = leaf_tensors(program)
    out = run_gpugrad(program, leaves)["out"]
    out.backward(gpugrad.tensor(program.weights))
    np.testing.assert_array_equal(namespace["out"].numpy(), out.numpy())
    np.testing.assert_array_equal(namespace["x0"].grad.numpy(), leaves[0].grad.numpy())
    assert "v1 = G.cat([x0, x0], axis=0)" in program.code()


def test_numpy_interpreter_perturbs_and_freezes_a_value():
    program = _program([Step("exp", (0,), {}, 1), Step("mul", (1, 0), {}, 2)],
                       [[0.5, 1.0]], 2, [1.0, 1.0])
    x = np.array([0.5, 1.0])
    np.testing.assert_allclose(run_numpy(program, [x]), np.exp(x) * x)
    np.testing.assert_allclose(run_numpy(program, [x], perturb=(0, 0.1)), (np.exp(x) + 0.1) * x)
    np.testing.assert_allclose(run_numpy(program, [x * 2], freeze=(0, np.exp(x))),
                               np.exp(x) * 2 * x)


def test_the_reference_shares_ties_equally():
    """At ties the reference's selection is fixed as at the inputs, each of k tied elements
    weighing 1/k (gpugrad's documented rule), so its differences are that rule's gradient:
    here 1/3 each for a max over three copies."""
    program = _program([Step("cat", (0, 0, 0), {"axis": 0}, 1), Step("max", (1,), {}, 2)],
                       [[0.5, -1.0]], 2, 3.0)
    patterns = selection_patterns(program, program.arrays())
    np.testing.assert_allclose(patterns[1], [1 / 3, 0, 1 / 3, 0, 1 / 3, 0])
    grad = central_gradient(lambda xs: float(run_numpy(program, xs, patterns=patterns) * 3.0),
                            program.arrays(), 0)
    np.testing.assert_allclose(grad, [3.0, 0.0], atol=1e-9)
    check_program(program)


def test_near_ties_and_ties_by_chance_are_refused():
    groups = reduction_groups(None, 1)
    assert ties_ok(np.array([1.0, 1.0, 1.0, 0.0]), np.array([1.0, 1.0, 1.0, 0.0]), groups)
    assert not ties_ok(np.array([1.0, 1.0]), np.array([1.0, 1.0005]), groups)   # by chance
    assert not ties_ok(np.array([1.0, 1.0 - MARGIN / 2]), np.array([1.0, 1.0 - MARGIN / 2]),
                       groups)


def test_a_failure_names_the_check_and_prints_the_program(monkeypatch):
    from gpugrad.ops import unary
    monkeypatch.setattr(unary.Exp, "vjp", lambda ctx, g: g * ctx.ans * 1.5)
    program = _program([Step("exp", (0,), {}, 1)], [[0.5, 1.0]], 1, [1.0, 1.0])
    with pytest.raises(ProgramFailure) as failure:
        check_program(program)
    message = str(failure.value)
    assert "'first order' failed: x0.grad" in message
    assert "v1 = x0.exp()" in message and "out.backward(" in message


def test_pow_mixed_second_derivative_at_exponent_zero():
    """d2(a**b)/da db = a**(b-1) (1 + b log a): 1/a at b == 0 (found by the tester)."""
    a = gpugrad.tensor(2.0, dtype="float64", requires_grad=True)
    b = gpugrad.tensor(0.0, dtype="float64", requires_grad=True)
    (ga,) = gpugrad.autograd.grad(a ** b, [a], create_graph=True)
    (gab,) = gpugrad.autograd.grad(ga, [b])
    assert gab.item() == pytest.approx(0.5, rel=1e-12)
