"""Tensors a compiled step makes with factories (``zeros``, ``full``, ``tensor(data)``...) are
made afresh at every replay, as eager code makes them.

Before factories were written into the program, their arrays were constants of it: a step
that wrote into one in place (``buf = zeros(3); buf.add_(x)``) carried the last call's
values into the next, returning 1, 2, 3... where eager steps returned 1, 1, 1.
"""

from __future__ import annotations

import numpy as np
import pytest

import gpugrad

_HOST = np.array([1.0, 2.0, 3.0], np.float32)     # a NumPy array the step copies from

FACTORIES = {
    "zeros": lambda x: gpugrad.zeros(3),
    "ones": lambda x: gpugrad.ones((3,)),
    "full": lambda x: gpugrad.full((3,), 2.5),
    "empty-then-filled": lambda x: gpugrad.empty(3).fill_(0.5),
    "zeros_like": lambda x: gpugrad.zeros_like(x),
    "full_like": lambda x: gpugrad.full_like(x, -1.0),
    "arange": lambda x: gpugrad.arange(3, dtype=gpugrad.float32),
    "linspace": lambda x: gpugrad.linspace(0, 1, 3),
    "eye-row": lambda x: gpugrad.eye(3)[1],
    "tensor-of-a-list": lambda x: gpugrad.tensor([1.0, 2.0, 3.0]),
    "tensor-of-a-numpy-array": lambda x: gpugrad.tensor(_HOST),
    "tensor-of-a-tensor": lambda x: gpugrad.tensor(x),
}


@pytest.mark.parametrize("make", FACTORIES.values(), ids=FACTORIES.keys())
def test_a_factory_tensor_written_in_place_starts_afresh_at_every_replay(make):
    def step(x):
        buf = make(x)
        buf.add_(x)             # writes into the factory's array
        buf.mul_(2.0)
        return buf * x

    compiled = gpugrad.compile(step)
    xs = [gpugrad.tensor([1.0, -2.0, 0.5]), gpugrad.tensor([3.0, 0.25, -1.0]),
          gpugrad.tensor([1.0, -2.0, 0.5]), gpugrad.tensor([0.0, 4.0, 2.0])]
    for x in xs:
        want = step(x).numpy()
        got = compiled(x).numpy()
        np.testing.assert_array_equal(got, want)
        _HOST[:] = _HOST + 1.0          # a later call copies the values it holds then
    assert (compiled.records, compiled.replays) == (1, 3)


def test_a_factory_under_a_replay_reads_the_host_array_as_it_is_then():
    host = np.zeros(2, np.float32)

    @gpugrad.compile
    def step(x):
        return gpugrad.tensor(host) + x

    x = gpugrad.tensor([1.0, 1.0])
    got = []
    for value in (0.0, 5.0, -2.0):
        host[:] = value
        got.append(step(x).tolist())
    assert got == [[1.0, 1.0], [6.0, 6.0], [-1.0, -1.0]]
    assert step.replays == 2
