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
    """The step's tail after the program's forward: the backward of its output."""
    weights = weights_tensor(program)

    def finish(out, xs):
        out.backward(weights)
        return out, [x.grad for x in xs if x.requires_grad]
    return finish


def _second_order_step(program):
    """The program's gradients kept differentiable (create_graph), then the backward of
    their squared sum: second-order rules, replayed."""
    weights = weights_tensor(program)

    def finish(out, xs):
        wanted = [x for x in xs if x.requires_grad]
        grads = gpugrad.autograd.grad(out, wanted, weights, create_graph=True,
                                      allow_unused=True)
        total = sum(((g * g).sum() for g in grads if g is not None and g.requires_grad),
                    (out * weights).sum())
        total.backward()
        return total, [x.grad for x in wanted]
    return finish


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


SETTINGS = dict(deadline=None, database=None, phases=(Phase.generate,),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much,
                                       HealthCheck.large_base_example])


def _replay_many(make_finish, seed_value: int, examples: int) -> None:
    """_check_replays on ``examples`` drawn programs; at least half of them must replay
    (the others have no gradient to take, or a boolean mask the recorder refuses), so a
    recorder that refuses everything cannot pass."""
    replayed = []

    @seed(seed_value)
    @settings(max_examples=examples, **SETTINGS)
    @given(program=programs())
    def check(program):
        if _check_replays(program, make_finish(program)):
            replayed.append(program)

    check()
    assert len(replayed) >= 0.5 * examples, f"only {len(replayed)} of {examples} replayed"


def test_replays_of_random_programs_equal_eager_runs():
    _replay_many(_step, 20261205, EXAMPLES)


def test_replays_of_second_order_steps_equal_eager_runs():
    _replay_many(_second_order_step, 20261206, EXAMPLES // 3)


def _check_replays(program, finish) -> bool:
    """Whether the program was compiled and replayed (False: nothing to differentiate, or
    refused for a boolean mask); asserts every replay equals the eager run."""
    xs = leaf_tensors(program)
    out = run_gpugrad(program, xs)["out"]
    if not out.requires_grad:
        return False                    # nothing to differentiate (eager refuses too)
    eager = finish(out, xs)             # the first eager run, finished

    def step(*inputs):
        return finish(run_gpugrad(program, inputs)["out"], inputs)
    compiled = gpugrad.compile(step)
    try:
        recorded = compiled(*leaf_tensors(program))
    except gpugrad.CompileError as exc:
        if "boolean mask" not in str(exc):
            raise
        return False                    # refused with a clear error
    assert _same(_values(recorded), _values(eager))
    rng = np.random.default_rng(0)
    for _ in range(2):
        inputs = _moved(program, rng)
        again = [gpugrad.tensor(t._array.copy(), requires_grad=t.requires_grad)
                 for t in inputs]
        replayed = compiled(*inputs)
        assert _same(_values(replayed), _values(step(*again))), program
    assert compiled.replays == 2
    return True
