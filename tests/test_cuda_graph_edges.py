"""Edge cases of a captured step's replay (graph_entry.py, ReplayedLaunch.guard_terms):
what changes outside the step between calls (requires_grad, optimizer groups, parameters
trained outside, state loaded twice), inputs that are parameters, aliased or written in
place, input gradients and their hooks, retained gradients, schedulers, steps returning
nothing, outputs without a graph; run on the emulated CUDA path (tests/graph_emulation.py)
against eager steps."""

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
from gpugrad.cuda import CaptureError, graph

from conftest import to_numpy
from test_cuda_graph_guards import (assert_same_run, call_step, forward_backward, setup,
                                    trajectory, whole_step, zero_then_update)


def test_an_input_carrying_an_outside_graph_is_refused(emulated_gpu):
    encoder, head = nn.Linear(3, 3), nn.Linear(3, 1)

    def step(h):
        loss = head(h).sum()
        loss.backward()
        return loss

    with pytest.raises(CaptureError, match="input 0 carries a graph built outside"):
        graph(step)(encoder(gpugrad.ones(2, 3)))


def freeze_first(i, model, opt):
    if i == 4:
        model.layers[0].weight.requires_grad_(False)


def unfreeze_first(i, model, opt):
    model.layers[0].weight.requires_grad_(i >= 4)


def add_group(i, model, opt):
    if i == 0:
        opt.param_groups[0]["params"] = opt.param_groups[0]["params"][2:]
    if i == 4:
        opt.add_param_group({"params": list(model.parameters())[:2], "lr": 0.05})


def swap_parameter(i, model, opt):
    if i == 4:                                  # the optimizer now updates another tensor
        first = opt.param_groups[0]["params"][0]
        other = nn.Parameter(gpugrad.zeros(*first.shape))
        other.grad = gpugrad.ones(*first.shape)     # (with a gradient: only identity tells)
        opt.param_groups[0]["params"][0] = other


def state_loaded_twice(i, model, opt):
    if i in (4, 5):
        opt.load_state_dict(opt.state_dict())


@pytest.mark.parametrize("between", [freeze_first, unfreeze_first, add_group,
                                     swap_parameter, state_loaded_twice])
@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_optimizer_changes_between_calls_capture_again(emulated_gpu, between, optimizer):
    want = trajectory(whole_step, call_step, None, optimizer=optimizer, between=between)
    got = trajectory(whole_step, call_step, graph, optimizer=optimizer, between=between)
    assert_same_run(got, want)
    assert got[3].stale >= 1


def test_a_leaf_frozen_under_a_captured_backward_captures_again(emulated_gpu):
    """No optimizer in the graph: the leaves whose .grad it sets are checked too."""
    want = trajectory(forward_backward, zero_then_update, None, between=freeze_first)
    got = trajectory(forward_backward, zero_then_update, graph, between=freeze_first)
    assert_same_run(got, want)
    assert got[3].stale == 1


def test_one_tensor_passed_twice_and_written_in_place(emulated_gpu):
    def f(a, b):
        a.mul_(2.0)
        return a + b

    x, captured = gpugrad.ones(3), graph(f)
    got = [captured(x, x)[0].item() for _ in range(4)]
    assert got == [4.0, 8.0, 16.0, 32.0] and x.tolist() == [16.0] * 3


def test_an_input_gradient_goes_through_its_hooks(emulated_gpu):
    w = gpugrad.tensor([1.0, 2.0, 3.0])

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        return loss

    def run(capture):
        x = gpugrad.ones(3, requires_grad=True)
        x.register_hook(lambda g: g * 10)
        seen = []
        x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
        fn = capture(step) if capture else step
        for _ in range(4):
            fn(x)
        return x.grad.tolist(), [g.tolist() for g in seen]

    assert run(graph) == run(None) == ([40.0, 80.0, 120.0], [[10.0 * k * v for v in
                                                              (1, 2, 3)] for k in (1, 2, 3, 4)])


def test_a_retained_gradient_does_not_make_the_graph_stale(emulated_gpu):
    model, opt, batches = setup()

    def step(x, y):
        opt.zero_grad()
        hidden = model.layers[0](x)
        hidden.retain_grad()
        loss = gpugrad.nn.functional.cross_entropy(model.layers[2](hidden.relu()), y)
        loss.backward()
        opt.step()
        return hidden.grad

    captured = graph(step)
    for x, y in batches:
        retained = captured(x, y)
    assert (captured.captures, captured.stale) == (1, 0)
    model, opt, batches = setup()
    for x, y in batches:
        want = step(x, y)
    np.testing.assert_allclose(retained.numpy(), want.numpy(), rtol=1e-6)


def test_an_update_reading_gradients_made_outside_captures_again(emulated_gpu):
    """A captured manual update reads each parameter's .grad; set to None and made anew by
    an eager backward every call, the graph recorded for one call would read another
    call's buffers, so each call captures again (correct, and warned about)."""
    def run(capture):
        model, opt, batches = setup()
        lr = gpugrad.tensor(0.1)

        def update(lr):
            with gpugrad.no_grad():
                for p in model.parameters():
                    p.sub_(lr * p.grad)

        fn = capture(update) if capture else update
        for x, y in batches:
            model.zero_grad()
            gpugrad.nn.functional.cross_entropy(model(x), y).backward()
            fn(lr)
        return [to_numpy(p).copy() for p in model.parameters()], fn

    (got, captured), (want, _) = run(graph), run(None)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert captured.stale >= 1


def test_the_stale_warning_names_compile(emulated_gpu, monkeypatch):
    from gpugrad import compiled
    monkeypatch.setattr(compiled, "_on_a_gpu", lambda inputs: True)
    model, opt, batches = setup()
    step = gpugrad.compile(whole_step(model, opt))
    with pytest.warns(RuntimeWarning, match="gpugrad.compile: step has dropped its CUDA graph"):
        for i in range(20):
            nn.Linear(2, 2)                      # a module built between calls
            step(*batches[i % 8])
    assert step.replays == 0


def two_parameters(optimizer="sgd"):
    a, b = nn.Parameter(gpugrad.ones(3)), nn.Parameter(gpugrad.ones(3))
    opt = (gpugrad.optim.SGD([a, b], lr=0.1, momentum=0.9) if optimizer == "sgd"
           else gpugrad.optim.Adam([a, b], lr=0.1))
    x = gpugrad.tensor([1.0, 2.0, 3.0])

    def step(x):
        opt.zero_grad(set_to_none=False)
        loss = (a * x).sum()
        loss.backward()
        opt.step()
        return loss
    return a, b, opt, x, step


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_parameter_trained_outside_between_replays(emulated_gpu, optimizer):
    """``b`` gets a gradient (and an eager step) outside the captured step: the recorded
    launch would skip it, or Adam's device counters would be another bucket's."""
    def run(capture):
        a, b, opt, x, step = two_parameters(optimizer)
        fn = capture(step) if capture else step
        losses = []
        for i in range(7):
            if i == 3:
                saved, a.grad = a.grad, None
                b.grad = gpugrad.ones(3)
                opt.step()
                a.grad = saved
            losses.append(fn(x).item())
        return losses, a.tolist(), b.tolist(), fn

    got, want = run(graph), run(None)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[1] + got[2], want[1] + want[2], rtol=1e-6)
    assert got[3].stale >= 1


def test_a_parameter_passed_as_an_input_is_updated_itself(emulated_gpu):
    def run(capture):
        w = nn.Parameter(gpugrad.ones(3))
        opt = gpugrad.optim.SGD([w], lr=0.01)
        x = gpugrad.tensor([1.0, 2.0, 3.0])

        def step(weight):
            opt.zero_grad()
            loss = (weight * x).sum()
            loss.backward()
            opt.step()
            return loss
        fn = capture(step) if capture else step
        return [fn(w).item() for _ in range(5)], fn

    (got, captured), (want, _) = run(graph), run(None)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert captured.captures == 1 and captured.replays == 3


def test_a_scheduler_stepped_inside_a_recording_is_refused(emulated_gpu):
    a, b, opt, x, step = two_parameters()
    schedule = gpugrad.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)

    def scheduled(x):
        loss = step(x)
        schedule.step()
        return loss

    captured = graph(scheduled)
    captured(x)
    with pytest.raises(CaptureError, match="call it after each call"):
        captured(x)


def test_a_step_that_returns_nothing_is_captured_once(emulated_gpu):
    a, b, opt, x, step = two_parameters()

    def quiet(x):
        step(x)

    captured = graph(quiet)
    for _ in range(6):
        assert captured(x) is None
    assert (captured.captures, captured.replays) == (1, 4)


def test_outputs_carry_no_graph_after_the_recording(emulated_gpu):
    model, opt, batches = setup()
    captured = graph(lambda x, y: gpugrad.nn.functional.cross_entropy(model(x), y))
    captured(*batches[0]).backward()                  # the warm-up is eager: it has one
    loss = captured(*batches[1])
    assert not loss.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        loss.backward()                               # the backward belongs in the step


def test_zero_grad_to_none_with_a_parameter_the_backward_skips_is_refused(emulated_gpu):
    """``b`` has a gradient when each call starts (set outside: another loss) and the step's
    backward gives it none: eager zero_grad() leaves it None; a graph, which keeps the
    buffer it zeroes, would leave zeros there (and an optimizer holding ``b`` would move
    it with momentum)."""
    model = nn.Linear(3, 1)
    a, b = model.weight, model.bias
    opt = gpugrad.optim.SGD([a], lr=0.1)

    def step(x):
        model.zero_grad()
        (x @ a.T).sum().backward()                    # the bias is not used
        opt.step()

    captured = graph(step)
    b.grad = gpugrad.ones(1)
    captured(gpugrad.ones(2, 3))                      # the warm-up, eager
    assert b.grad is None
    b.grad = outside = gpugrad.ones(1)
    with pytest.raises(CaptureError, match="gives it none"):
        captured(gpugrad.ones(2, 3))
    assert b.grad is outside
