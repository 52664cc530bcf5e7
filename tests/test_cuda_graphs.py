"""gpugrad.cuda.graph: whole-step capture and replay. On CPU the captured step runs
eagerly with the same bookkeeping and the same capture rules, which is what these tests
check on every device; on a GPU the same tests run a real CUDA graph. Tests whose names end
in ``cpu_runs_eagerly`` compare a captured step with eager steps: on CPU both sides are
eager. The last section runs graph()'s CUDA path on NumPy through an emulated recording, so
that a capture or replay that goes wrong fails here too, without a GPU."""

import numpy as np
import pytest

import gpugrad
from gpugrad import nn, optim
from gpugrad.autograd import capture_mode
from gpugrad.cuda import CaptureError, graph, is_capturing
from gpugrad.nn import functional as F
from gpugrad.optim import multi_tensor

from conftest import to_numpy
from graph_emulation import EmulatedGraph
from optim_emulation import launches


def setup(device, optimizer="sgd"):
    gpugrad.manual_seed(11)
    model = nn.MLP([6, 16, 16, 3], device=device)
    opt = (optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
           if optimizer == "sgd" else optim.AdamW(model.parameters(), lr=1e-2))
    rng = np.random.default_rng(5)
    batches = [(gpugrad.tensor(rng.standard_normal((8, 6)), dtype="float32", device=device),
                gpugrad.tensor(rng.integers(0, 3, 8), device=device)) for _ in range(6)]
    return model, opt, batches


def make_step(model, opt):
    def train_step(x, y):
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(x), y, ignore_index=2)
        loss.backward()
        opt.step()
        return loss
    return train_step


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_captured_steps_equal_eager_steps_cpu_runs_eagerly(device, optimizer):
    model, opt, batches = setup(device, optimizer)
    eager_losses = [make_step(model, opt)(x, y).item() for x, y in batches]
    eager = [to_numpy(p).copy() for p in model.parameters()]

    model, opt, batches = setup(device, optimizer)
    step = graph(make_step(model, opt), *batches[0])
    losses = [step(x, y).item() for x, y in batches]
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-6)
    for a, e in zip(model.parameters(), eager):
        np.testing.assert_allclose(to_numpy(a), e, rtol=1e-6, atol=1e-7)
    assert step.captures == 1 and step.recaptures == 0 and step.replays == 4
    if optimizer == "adamw":
        assert all(opt.state[id(p)]["step"] == 6 for p in model.parameters())


def _grads_to_none_then_halved(model, opt, x, y):
    for p in model.parameters():
        p.grad = None
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    for p in model.parameters():
        p.grad = p.grad * 0.5
    opt.step()
    return loss


def _grads_to_fresh_zeros(model, opt, x, y):
    for p in model.parameters():
        p.grad = gpugrad.zeros_like(p)          # a factory inside the step, added into
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


@pytest.mark.parametrize("body", [_grads_to_none_then_halved, _grads_to_fresh_zeros],
                         ids=["grads-assigned", "grads-from-a-factory"])
def test_steps_that_assign_grads_equal_eager_steps_cpu_runs_eagerly(device, body):
    """On the CPU every call runs the step's Python (tests/test_grad_assignment.py checks
    gpugrad.compile's CPU program the same way); a CUDA graph cannot redo an assignment (the
    optimizer's launch would read new buffers), so its recording refuses it, saying what to
    do instead (tests/test_cuda_graph_guards.py checks that on the emulated path)."""
    model, opt, batches = setup(device)
    eager_losses = [body(model, opt, x, y).item() for x, y in batches]
    eager = [to_numpy(p).copy() for p in model.parameters()]

    model, opt, batches = setup(device)
    step = graph(lambda x, y: body(model, opt, x, y), *batches[0])
    if device == "cuda":
        step(*batches[0])
        with pytest.raises(CaptureError, match="rather than assigning .grad"):
            step(*batches[1])
        return
    losses = [step(x, y).item() for x, y in batches]
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-6)
    for a, e in zip(model.parameters(), eager):
        np.testing.assert_allclose(to_numpy(a), e, rtol=1e-6, atol=1e-7)


def test_outputs_are_static_and_overwritten(device):
    model, opt, batches = setup(device)
    step = graph(make_step(model, opt), *batches[0])
    step(*batches[0])                                   # warm-up: eager, a fresh tensor
    first = step(*batches[1])                           # captured
    value = first.item()
    second = step(*batches[2])                          # replayed into the same tensor
    assert second is first and second.item() != value


def test_a_new_shape_captures_a_new_graph(device):
    model, opt, batches = setup(device)
    step = graph(make_step(model, opt), *batches[0])
    for x, y in batches[:3]:
        step(x, y)
    short = (batches[3][0][:5], batches[3][1][:5])
    step(*short)                                        # new signature: warm-up again
    step(*short)                                        # and its own capture
    assert step.captures == 2 and step.recaptures == 1


def test_host_syncs_inside_the_step_are_refused(device):
    """Refused from the first (warm-up) call on, which runs under the capture rules."""
    model, opt, batches = setup(device)

    def logs_inside(x, y):
        loss = F.cross_entropy(model(x), y)
        print(loss.item())                              # a host sync
        return loss

    step = graph(logs_inside, *batches[0])
    with pytest.raises(CaptureError, match=r"Tensor.item\(\).*Move it out of the step"):
        step(*batches[0])
    assert not is_capturing()                           # the capture state was restored

    def branches(x, y):
        out = model(x)
        return out * 2 if (out.sum() > 0) else out      # a data-dependent branch

    with pytest.raises(CaptureError, match="branch on a tensor's value"):
        graph(branches, *batches[0])(*batches[0])

    def copies_out(x, y):
        return gpugrad.tensor(model(x).numpy())

    with pytest.raises(CaptureError, match=r"Tensor.numpy\(\)"):
        graph(copies_out, *batches[0], warmup=2)(*batches[0])

    def draws(x, y):
        return F.dropout(model(x), 0.5)

    with pytest.raises(CaptureError, match="same at every replay"):
        graph(draws, *batches[0])(*batches[0])
    step = graph(make_step(model, opt), *batches[0])    # and the state is clean afterwards
    step(*batches[0])
    step(*batches[1])
    assert step.captures == 1


def test_reference_optimizer_updates_are_not_recorded(monkeypatch):
    """An optimizer update that is not fused would freeze its learning rate into the graph:
    refused while recording (simulated here: on CPU nothing records)."""
    model, opt, batches = setup("cpu")
    F.cross_entropy(model(batches[0][0]), batches[0][1]).backward()
    monkeypatch.setattr(capture_mode._state, "recording", True)
    with pytest.raises(CaptureError, match="takes the reference update"):
        opt.step()


def test_cross_entropy_in_a_capture_counts_rows_without_the_host_cpu_runs_eagerly(device):
    logits = gpugrad.tensor(np.random.default_rng(2).standard_normal((5, 4)), device=device)
    labels = gpugrad.tensor([1, -100, 3, 0, -100], device=device)
    expected = F.cross_entropy(logits, labels, label_smoothing=0.1).item()
    step = graph(lambda z, t: F.cross_entropy(z, t, label_smoothing=0.1), logits, labels)
    step(logits, labels)
    assert step(logits, labels).item() == pytest.approx(expected, rel=1e-12)


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="input 1 is a list"):
        graph(lambda a, b: a, gpugrad.ones(2), [1.0])
    with pytest.raises(ValueError, match="warmup must be at least 1"):
        graph(lambda a: a, gpugrad.ones(2), warmup=0)


def test_train_with_cuda_graph_trains_exactly_as_eager_cpu_runs_eagerly(tmp_path, device):
    from gpugrad.training import TrainConfig, fit
    runs = [fit(TrainConfig(epochs=2, out=str(tmp_path / str(flag)), progress=False,
                            device=device, cuda_graph=flag), log=lambda *a: None)
            for flag in (False, True)]
    eager, captured = ([(e["train_loss"], e["test_accuracy"]) for e in run["epochs"]]
                       for run in runs)
    np.testing.assert_allclose(captured, eager, rtol=1e-5)


def test_matmul_precision_is_recorded_and_checked():
    assert gpugrad.get_matmul_precision() == "highest"
    gpugrad.set_matmul_precision("high")
    try:
        assert gpugrad.get_matmul_precision() == "high"
        a = gpugrad.tensor([[1.0 + 2 ** -20]], dtype="float32")
        assert (a @ a).item() == np.float32(1.0 + 2 ** -20) ** 2      # NumPy: no TF32
    finally:
        gpugrad.set_matmul_precision("highest")
    with pytest.raises(ValueError, match="torch.set_float32_matmul_precision"):
        gpugrad.set_matmul_precision("fast")


# ------------------------------------------------------------------ an emulated recording
# graph()'s CUDA path on NumPy: the ``emulated_gpu`` fixture (tests/graph_emulation.py).


def test_the_recording_alone_routes_gemms_to_the_entrys_blas(emulated_gpu):
    """Warm-up and replays run CuPy's matmul; while the graph records, GEMMs go to the
    entry's captured_blas.Blas (cuda/captured_blas.py)."""
    from gpugrad.cuda import captured_blas
    seen = []

    def step(x):
        seen.append(captured_blas.active())
        return (x * 2.0).sum()

    x = gpugrad.ones(3)
    captured = graph(step, x)
    for _ in range(3):
        captured(x)
    entry = next(iter(captured._entries.values()))      # (the launch after the recording
    assert seen[0] is None and seen[1] is entry.blas and seen[2:] == [None]    # runs no Python)
    assert captured_blas.active() is None


def scheduled_run(optimizer, captured: bool):
    """Losses, parameters and optimizer of six steps, the learning rate halved every two."""
    model, opt, batches = setup("cpu", optimizer)
    schedule = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    step = make_step(model, opt)
    if captured:
        step = graph(step, *batches[0])
    losses = []
    for x, y in batches:
        losses.append(step(x, y).item())
        schedule.step()
    return losses, [p.numpy().copy() for p in model.parameters()], opt, step


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_an_emulated_recording_replays_every_step(optimizer, emulated_gpu, monkeypatch):
    """Against eager steps on the reference optimizer (one parameter at a time): the
    recording runs nothing, each replay reads the new batch and the new learning rate, and
    the host counts the replayed steps."""
    losses, params, opt, step = scheduled_run(optimizer, captured=True)
    assert isinstance(next(iter(step._entries.values())).graph, EmulatedGraph)   # the path
    graph_kept = next(iter(step._entries.values())).graph.kernels
    assert step.captures == 1 and step.replays == 4 and launches and graph_kept
    with monkeypatch.context() as undo:
        undo.setattr(multi_tensor, "fusable", lambda p: False)
        expected_losses, expected, _, _ = scheduled_run(optimizer, captured=False)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-6)
    for got, want in zip(params, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    if optimizer == "adamw":
        assert all(opt.state[id(p)]["step"] == 6 for p in opt.param_groups[0]["params"])
