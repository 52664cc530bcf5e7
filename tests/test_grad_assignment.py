"""Assigning ``t.grad`` as PyTorch users do: checked against the tensor it belongs to, and,
inside a compiled step, written down so that every replay assigns again.

The compiled checks compare N compiled steps with the same N steps run eagerly from the same
start, bitwise (as tests/test_compile.py does): before assignments were written down,
``p.grad = None`` ran once, at the recording, and replays from the third step on added each
step's gradient into the last one's.
"""

from __future__ import annotations

import numpy as np
import pytest

import gpugrad
from gpugrad import nn, optim
from gpugrad.nn import functional as F

from conftest import requires_cuda


# ---------------------------------------------------------------------- eager assignment
def test_an_assigned_grad_is_kept_as_given_and_used_by_the_optimizer():
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    g = gpugrad.tensor([0.5, -1.0])
    w.grad = g
    assert w.grad is g                                  # the object itself, as in PyTorch
    optim.SGD([w], lr=0.1).step()
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.05, 2.0 + 0.1], rtol=1e-6)
    w.grad = None
    assert w.grad is None


@pytest.mark.parametrize("bad, kind, words", [
    (gpugrad.zeros(3), ValueError, "shape (3,) but its tensor has shape (2,)"),
    (gpugrad.zeros(2, dtype=gpugrad.float64), ValueError,
     "dtype float64 but its tensor has dtype float32"),
    (np.zeros(2, np.float32), TypeError, "not ndarray"),
    ([0.0, 0.0], TypeError, "not list"),
], ids=["shape", "dtype", "numpy-array", "list"])
def test_a_grad_that_does_not_fit_its_tensor_is_refused_and_the_old_one_kept(bad, kind, words):
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    w.grad = old = gpugrad.tensor([3.0, 4.0])
    with pytest.raises(kind) as info:
        w.grad = bad
    assert words in str(info.value)
    assert w.grad is old


def test_a_tensor_cannot_be_its_own_grad():
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="not the tensor itself"):
        w.grad = w


@requires_cuda
def test_a_grad_on_another_device_is_refused():
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="device cuda:0 but its tensor has device cpu"):
        w.grad = gpugrad.zeros(2, device="cuda")


# ---------------------------------------------------------------------- compiled steps
def _train(step_body, compiled: bool, steps: int = 5, opt_name: str = "sgd"):
    """Losses, parameters and gradients after ``steps`` calls of ``step_body(model, opt, x,
    y)`` on one small MLP (same seed, same batches), and the step function called."""
    gpugrad.manual_seed(0)
    model = nn.MLP([6, 8, 3])
    params = list(model.parameters())
    opt = (optim.SGD(params, lr=0.1, momentum=0.9) if opt_name == "sgd"
           else optim.Adam(params, lr=1e-2))

    def step(x, y):
        return step_body(model, opt, x, y)

    run = gpugrad.compile(step) if compiled else step
    rng = np.random.default_rng(3)
    losses = []
    for _ in range(steps):
        x = gpugrad.tensor(rng.standard_normal((4, 6)).astype(np.float32))
        y = gpugrad.tensor(rng.integers(0, 3, 4))
        losses.append(run(x, y).numpy().copy())
    return (losses, [p.numpy().copy() for p in params],
            [None if p.grad is None else p.grad.numpy().copy() for p in params], run)


def _assert_compiled_equals_eager(step_body, opt_name="sgd"):
    eager = _train(step_body, False, opt_name=opt_name)
    compiled = _train(step_body, True, opt_name=opt_name)
    for want, got in zip(eager[:3], compiled[:3]):
        assert len(want) == len(got)
        for a, b in zip(want, got):
            assert (a is None and b is None) or np.array_equal(a, b)
    assert (compiled[3].records, compiled[3].replays) == (1, 4)     # really replayed


def _grads_to_none(model, opt, x, y):
    for p in model.parameters():
        p.grad = None
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def _grads_to_zeros_then_accumulated_into(model, opt, x, y):
    for p in model.parameters():
        p.grad = gpugrad.zeros_like(p)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def _grads_halved_by_hand(model, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    for p in model.parameters():
        p.grad = p.grad * 0.5
    opt.step()
    return loss


def _backward_into_some_inputs(model, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    first = model.layers[0]
    loss.backward(inputs=[first.weight, first.bias])     # the last layer's grads stay None
    opt.step()
    return loss


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
@pytest.mark.parametrize("step_body", [_grads_to_none, _grads_to_zeros_then_accumulated_into,
                                       _grads_halved_by_hand, _backward_into_some_inputs],
                         ids=lambda f: f.__name__.strip("_"))
def test_a_compiled_step_that_assigns_grads_equals_the_eager_steps(step_body, opt_name):
    _assert_compiled_equals_eager(step_body, opt_name)


def test_the_program_assigns_the_grad_at_every_replay():
    """The assignment is a line of the program (not frozen at the recording)."""
    run = _train(_grads_to_none, True, steps=2)[3]
    x, y = gpugrad.zeros(4, 6), gpugrad.tensor(np.zeros(4, np.int64))
    source = run.program(x, y).source
    assert source.count("setattr(") == 4        # two layers' weight and bias
