"""gpugrad.compile against eager execution on the random-program tester's programs (views,
indexing, reused values, in-place ops, losses, linear layers): each program, with its
backward pass, is compiled as a step, recorded on its inputs and replayed on other inputs;
every replay must give exactly what the eager program gives on those inputs (values and
gradients, bitwise). A difference is something the recorded program froze that it should
have computed again.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings

import gpugrad
from random_programs import leaf_tensors, run_gpugrad, weights_tensor
from random_programs_gen import programs

EXAMPLES = 1000


def _step(program):
    weights = weights_tensor(program)

    def step(*xs):
        out = run_gpugrad(program, xs)["out"]
        out.backward(weights)
        return out, [x.grad for x in xs if x.requires_grad]
    return step


def _moved(program, rng):
    """The program's inputs moved a little (same shapes; integer-valued ones kept)."""
    tensors = leaf_tensors(program)
    for t in tensors:
        a = t._array
        if a.dtype.kind == "f":
            a += rng.uniform(-0.05, 0.05, a.shape)
    return tensors


def _values(result) -> list:
    out, grads = result
    return [out.numpy()] + [None if g is None else g.numpy() for g in grads]


def _same(a, b) -> bool:
    return len(a) == len(b) and all(
        (x is None and y is None) or (x is not None and y is not None
                                      and np.array_equal(x, y, equal_nan=True))
        for x, y in zip(a, b))


@seed(20261205)
@settings(max_examples=EXAMPLES, deadline=None, database=None, phases=(Phase.generate,),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.filter_too_much, HealthCheck.large_base_example])
@given(program=programs())
def test_replays_of_random_programs_equal_eager_runs(program):
    step = _step(program)
    if not run_gpugrad(program, leaf_tensors(program))["out"].requires_grad:
        return                          # nothing to differentiate (eager refuses too)
    compiled = gpugrad.compile(step)
    try:
        recorded = compiled(*leaf_tensors(program))
    except gpugrad.CompileError:
        return                          # refused with a clear error (e.g. a boolean mask)
    assert _same(_values(recorded), _values(step(*leaf_tensors(program))))
    rng = np.random.default_rng(0)
    for _ in range(2):
        inputs = _moved(program, rng)
        again = [gpugrad.tensor(t._array.copy(), requires_grad=t.requires_grad)
                 for t in inputs]
        replayed = compiled(*inputs)
        assert _same(_values(replayed), _values(step(*again))), program
    assert compiled.replays == 2
