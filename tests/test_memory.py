"""gpugrad.memory: tracked peaks on either device, and what a graph saves for backward."""

import numpy as np
import pytest

import gpugrad
from gpugrad import memory, nn


def test_track_sees_peak_current_and_timeline(device):
    n = 1 << 18                                      # 1 MiB of float32
    with memory.track(device) as m:
        a = gpugrad.ones(n, device=device)
        m.mark("one buffer")
        b = a * 2                                    # a second buffer
        m.mark("two buffers")
        del a, b                                     # both freed: peak stays, current drops
    assert 2 * 4 * n <= m.peak < 2.5 * 4 * n
    assert m.current < 0.1 * 4 * n
    events = dict(m.timeline)
    assert list(events) == ["start", "one buffer", "two buffers", "end"]
    assert 4 * n <= events["one buffer"] < 1.2 * 4 * n
    assert 8 * n <= events["two buffers"] < 2.2 * 4 * n


def test_saved_report_counts_what_the_rules_read(device):
    gpugrad.manual_seed(0)
    model = nn.MLP([16, 32, 32, 4], device=device)
    x = gpugrad.randn(8, 16, device=device)
    loss = model(x).sum()
    report = memory.saved_report(loss)
    # each Linear(+ReLU) saves its input and its weight (a parameter view), a ReLU its output
    relu_outputs = 2 * 8 * 32 * 4
    assert report.activation_bytes == 8 * 16 * 4 + relu_outputs
    assert report.parameter_bytes == sum(p.array.nbytes for n, p in model.named_parameters()
                                         if n.endswith("weight"))
    kinds = {(op, what): kind for op, what, _, _, _, kind in report.rows}
    assert kinds[("LinearReluBackward", "output")] == "activation"
    assert "activations held for backward" in str(report)


def test_saved_report_shows_checkpointed_values_as_dropped(device):
    from gpugrad.checkpoint import checkpoint
    layer = nn.Linear(4, 4, device=device)
    out = checkpoint(lambda t: layer(t).relu(), gpugrad.randn(2, 4, device=device)).sum()
    x = gpugrad.randn(2, 4, device=device)
    out = checkpoint(lambda t: layer(t).relu(), x).sum()
    report = memory.saved_report(out)
    assert report.activation_bytes == x.array.nbytes          # only the checkpoint's input
    assert {kind for *_, kind in report.rows} == {"dropped", "activation"}


def test_backward_accumulates_into_existing_gradients_without_allocating():
    layer = nn.Linear(256, 256)
    x = gpugrad.randn(4, 256)
    layer(x).sum().backward()
    weight_grad = layer.weight.grad
    before = weight_grad.numpy().copy()
    layer(x).sum().backward()
    assert layer.weight.grad is weight_grad                 # the same buffer, added into
    np.testing.assert_allclose(weight_grad.numpy(), 2 * before, rtol=1e-6)


@pytest.mark.parametrize("bad", ["tpu", "cuda:x"])
def test_track_rejects_bad_devices(bad):
    with pytest.raises(gpugrad.DeviceError):
        memory.track(bad)


def test_nested_trackers_and_tracing_started_outside():
    import tracemalloc
    n = 1 << 20
    with memory.track("cpu") as outer:
        big = np.ones(n)                                   # 8 MiB, then freed
        del big
        with memory.track("cpu") as inner:
            small = np.ones(n // 8)
        del small
    assert outer.peak >= 8 * n and 8 * n // 8 <= inner.peak < 8 * n
    tracemalloc.start()
    try:
        with memory.track("cpu") as tracked:
            data = np.ones(n)
        del data
        assert tracked.peak >= 8 * n and tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()


def test_planning_leaves_gradients_and_random_state_alone():
    from gpugrad.checkpoint import plan
    model = nn.MLP([8] * 7)
    x = gpugrad.randn(4, 8)
    model(x).sum().backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    state = gpugrad.get_rng_state()
    plan(model, x, budget=1.0)
    assert gpugrad.get_rng_state() == state
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_array_equal(p.grad.numpy(), g)
