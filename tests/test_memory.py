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
    # each Linear saves its input and its weight (a parameter view); each ReLU its output
    relu_outputs = 2 * 8 * 32 * 4
    assert report.activation_bytes == 8 * 16 * 4 + relu_outputs
    assert report.parameter_bytes == sum(p.array.nbytes for n, p in model.named_parameters()
                                         if n.endswith("weight"))
    kinds = {(op, what): kind for op, what, _, _, _, kind in report.rows}
    assert kinds[("ReluBackward", "output")] == "activation"
    assert "activations held for backward" in str(report)


def test_saved_report_shows_checkpointed_values_as_dropped(device):
    from gpugrad.checkpoint import checkpoint
    layer = nn.Linear(4, 4, device=device)
    out = checkpoint(lambda t: layer(t).relu(), gpugrad.randn(2, 4, device=device)).sum()
    report = memory.saved_report(out)
    assert report.activation_bytes == 0
    assert {kind for *_, kind in report.rows} == {"dropped"}


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
