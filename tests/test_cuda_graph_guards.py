"""What a captured step's replay redoes of the step's Python, and what makes it capture again.

A CUDA graph replays array work only. So before each replay the capture checks that what
the graph was recorded against still holds (the ``.grad`` the step sets are as the step
found them, parameters and optimizer state in place, modules unchanged for
``gpugrad.compile``), and after it sets what the step's Python set (``.grad``, inputs
written in place, input gradients). Each test runs a loop of steps eagerly and captured,
and compares losses, parameters and gradients. ``emulated_gpu`` runs graph()'s CUDA path on
NumPy (tests/graph_emulation.py); tests taking ``device`` also run a real graph on a GPU
(on the CPU both sides are eager there).
"""

import numpy as np
import pytest

import gpugrad
from gpugrad import compiled, nn, optim
from gpugrad.cuda import CaptureError, graph
from gpugrad.nn import functional as F

from conftest import to_numpy


def setup(device="cpu", optimizer="sgd"):
    gpugrad.manual_seed(3)
    model = nn.MLP([6, 16, 16, 3], device=device)
    opt = (optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
           if optimizer == "sgd" else optim.AdamW(model.parameters(), lr=1e-2))
    rng = np.random.default_rng(7)
    batches = [(gpugrad.tensor(rng.standard_normal((8, 6)), dtype="float32", device=device),
                gpugrad.tensor(rng.integers(0, 3, 8), device=device)) for _ in range(8)]
    return model, opt, batches


def whole_step(model, opt, set_to_none=True):
    """The README's step: ``opt.zero_grad()`` (PyTorch's default, set_to_none) inside."""
    def step(x, y):
        opt.zero_grad(set_to_none=set_to_none)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def forward_backward(model, opt):
    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        return loss
    return step


def zero_then_update(opt, step, x, y, i, set_to_none=True):
    opt.zero_grad(set_to_none=set_to_none)
    loss = step(x, y)
    opt.step()
    return loss


def trajectory(make, loop, capture, device="cpu", optimizer="sgd", between=None):
    """Losses, parameters and gradients after ``loop(opt, step, x, y, i)`` over the
    batches, the step made by ``make(model, opt)``, wrapped by ``capture`` (None: eager);
    ``between(i, model, opt)`` runs before each call."""
    model, opt, batches = setup(device, optimizer)
    step = make(model, opt)
    if capture is not None:
        step = capture(step)
    losses = []
    for i, (x, y) in enumerate(batches):
        if between is not None:
            between(i, model, opt)
        losses.append(float(loop(opt, step, x, y, i).item()))
    params = [to_numpy(p).copy() for p in model.parameters()]
    grads = [None if p.grad is None else to_numpy(p.grad).copy() for p in model.parameters()]
    return losses, params, grads, step


def assert_same_run(got, want):
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    for a, b in zip(got[1], want[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(got[2], want[2]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def call_step(opt, step, x, y, i):
    return step(x, y)


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_zero_grad_set_to_none_inside_a_captured_step(emulated_gpu, optimizer):
    """``opt.zero_grad()`` inside the step: the recording zeroes the gradients in their
    buffers (set to None, the backward would store new ones the optimizer's table does not
    name), and every replay matches the eager step."""
    want = trajectory(whole_step, call_step, None, optimizer=optimizer)
    got = trajectory(whole_step, call_step, graph, optimizer=optimizer)
    assert_same_run(got, want)
    step = got[3]
    assert (step.captures, step.replays, step.stale) == (1, 6, 0)


def test_the_recording_zeroes_gradients_in_their_buffers(emulated_gpu):
    model, opt, batches = setup()
    step = graph(whole_step(model, opt))
    step(*batches[0])                                   # warm-up: eager, grads stored
    buffers = [p.grad._array for p in model.parameters()]
    step(*batches[1])                                   # the recording
    assert all(p.grad._array is b for p, b in zip(model.parameters(), buffers))


def test_gradients_reset_outside_a_captured_backward(emulated_gpu):
    """Forward and backward captured, ``zero_grad()`` (to None) and ``opt.step()`` outside:
    after each replay the parameters hold the gradients the graph wrote, as after an eager
    backward (the graph runs none of the step's Python, which set them)."""
    want = trajectory(forward_backward, zero_then_update, None)
    got = trajectory(forward_backward, zero_then_update, graph)
    assert_same_run(got, want)
    assert (got[3].captures, got[3].stale) == (1, 0)


def accumulate_two(opt, step, x, y, i, set_to_none):
    if i % 2 == 0:
        opt.zero_grad(set_to_none=set_to_none)
    loss = step(x, y)
    if i % 2 == 1:
        opt.step()
    return loss


def test_gradient_accumulation_in_kept_buffers_replays(emulated_gpu):
    loop = lambda *a: accumulate_two(*a, set_to_none=False)     # noqa: E731
    want = trajectory(forward_backward, loop, None)
    got = trajectory(forward_backward, loop, graph)
    assert_same_run(got, want)
    assert (got[3].captures, got[3].stale) == (1, 0)


def test_gradient_accumulation_from_none_captures_again_and_warns(emulated_gpu):
    """Gradients set to None every other call: the graph recorded for one case would store
    where the step now adds (or the reverse), so that signature starts over each time, and
    the eighth time says so."""
    loop = lambda *a: accumulate_two(*a, set_to_none=True)      # noqa: E731
    want = trajectory(forward_backward, loop, None)
    got = trajectory(forward_backward, loop, graph)
    assert_same_run(got, want)
    assert got[3].stale == 3            # calls 3, 5, 7 found .grad None (captured at 2, 4, 6)

    model, opt, batches = setup()
    step = graph(forward_backward(model, opt))
    with pytest.warns(RuntimeWarning, match="dropped its CUDA graph 8 times.*set_to_none=False"):
        for i in range(20):
            accumulate_two(opt, step, *batches[i % 8], i, set_to_none=True)


def grads_to_none(i, model, opt):
    if i == 4:
        for p in model.parameters():
            p.grad = None


def weight_replaced(i, model, opt):
    if i == 4:
        w = model.layers[0].weight
        w.data = gpugrad.tensor(to_numpy(w) * 0.5)


def state_loaded(i, model, opt):
    if i == 4:
        opt.load_state_dict(opt.state_dict())


@pytest.mark.parametrize("between", [grads_to_none, weight_replaced, state_loaded],
                         ids=["grads-set-to-none", "parameter-data-replaced", "state-loaded"])
def test_what_a_graph_reads_replaced_between_calls_captures_again(emulated_gpu, between):
    make = lambda m, o: whole_step(m, o, set_to_none=False)     # noqa: E731
    want = trajectory(make, call_step, None, between=between)
    got = trajectory(make, call_step, graph, between=between)
    assert_same_run(got, want)
    assert (got[3].captures, got[3].stale) == (2, 1)


def test_a_parameter_replaced_under_a_captured_backward_captures_again(emulated_gpu):
    """No optimizer in the graph: the leaves whose gradients it stores are checked too."""
    want = trajectory(forward_backward, zero_then_update, None, between=weight_replaced)
    got = trajectory(forward_backward, zero_then_update, graph, between=weight_replaced)
    assert_same_run(got, want)
    assert (got[3].captures, got[3].stale) == (2, 1)


@pytest.mark.parametrize("body", ["grads-assigned", "grads-from-a-factory"])
def test_assigning_grads_inside_a_recording_is_refused(emulated_gpu, body):
    model, opt, batches = setup()

    def step(x, y):
        for p in model.parameters():
            p.grad = None if body == "grads-assigned" else gpugrad.zeros_like(p)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    captured = graph(step)
    captured(*batches[0])
    before = [p.grad for p in model.parameters()]
    with pytest.raises(CaptureError, match="rather than assigning .grad"):
        captured(*batches[1])
    assert all(p.grad is g for p, g in zip(model.parameters(), before))  # as it found them


def test_inputs_written_in_place_and_input_gradients(emulated_gpu):
    """An input that requires grad gets its gradient added after each launch, as the eager
    backward adds it; the static input is recorded requiring grad (a new requires_grad is
    a new signature)."""
    model, opt, batches = setup()
    x = batches[0][0].detach().requires_grad_()

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        return loss

    eager = [float(step(x, y).item()) for _, y in batches[:4]]
    want = to_numpy(x.grad).copy()
    x.grad = None
    captured = graph(step)
    got = [float(captured(x, y).item()) for _, y in batches[:4]]
    np.testing.assert_allclose(got, eager, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(x.grad), want, rtol=1e-5, atol=1e-6)
    assert captured.captures == 1
    captured(x.detach(), batches[0][1])                 # not requiring grad: its own entry
    assert len(captured._entries) == 2


def written_five_times(device):
    buffer = gpugrad.zeros(3, device=device)
    captured = graph(lambda t: t.mul_(2.0).add_(1.0))
    for _ in range(5):
        captured(buffer)
    np.testing.assert_array_equal(to_numpy(buffer), [31.0] * 3)     # 2 * (...) + 1, 5 times
    return captured


def test_an_input_written_in_place_is_written_back(emulated_gpu):
    """The graph writes the static buffer; the input itself is written after each launch."""
    captured = written_five_times("cpu")
    assert next(iter(captured._entries.values())).written == [0]
    assert captured.replays == 3


def test_inputs_written_in_place_match_eager_steps(device):
    written_five_times(device)


@pytest.mark.parametrize("capture", [graph, gpugrad.compile], ids=["graph", "compile"])
@pytest.mark.parametrize("loop", ["whole-step", "backward-only"])
def test_pytorch_habits_match_eager_steps(device, loop, capture):
    """The README's step and a captured backward with the update outside, on a real graph
    where a GPU runs the tests (gpugrad.compile: its CPU program on the CPU)."""
    make, run = ((whole_step, call_step) if loop == "whole-step"
                 else (forward_backward, zero_then_update))
    want = trajectory(make, run, None, device=device)
    got = trajectory(make, run, capture, device=device)
    assert_same_run(got, want)
    step = got[3]
    assert (step.records if capture is gpugrad.compile else step.captures) == 1


# ------------------------------------------------------------------ gpugrad.compile on a GPU


@pytest.fixture
def compiled_on_gpu(emulated_gpu, monkeypatch):
    """gpugrad.compile takes its CUDA path (a guarded graph) for CPU tensors."""
    monkeypatch.setattr(compiled, "_on_a_gpu", lambda inputs: True)


def layer_replaced(i, model, opt):
    if i == 4:
        w = model.layers[0].weight
        model.layers[0].weight = nn.Parameter(gpugrad.tensor(to_numpy(w) * 0.5))


def test_compile_on_a_gpu_captures_again_when_modules_change(compiled_on_gpu):
    """A module's parameter replaced (the optimizer keeps the old one, the forward reads the
    new one): the graph would read the old array; compile's graph captures again."""
    want = trajectory(whole_step, call_step, None, between=layer_replaced)
    got = trajectory(whole_step, call_step, gpugrad.compile, between=layer_replaced)
    assert_same_run(got, want)
    step = got[3]
    assert (step.records, step._graph.stale) == (2, 1)


def test_compile_on_a_gpu_keys_modes_and_requires_grad(compiled_on_gpu):
    model, _, batches = setup()
    step = gpugrad.compile(lambda x: (model(x) ** 2).mean())
    x = batches[0][0]
    for _ in range(2):
        step(x)
    with gpugrad.no_grad():
        for _ in range(2):
            step(x)
    step(x.detach().requires_grad_())
    assert len(step._graph._entries) == 3 and step.records == 2
