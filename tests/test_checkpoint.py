"""Gradient checkpointing: the same gradients as without it, with less memory, under every
way of asking for gradients."""

import gc
import math

import numpy as np
import pytest

import gpugrad
from gpugrad import autograd, nn
from gpugrad.checkpoint import (CheckpointError, checkpoint, checkpoint_sequential,
                                is_recomputing)

F = nn.functional


def mlp_and_batch(device, dropout=0.0, depth=6, width=8):
    gpugrad.manual_seed(0)
    model = nn.MLP([width] * depth + [3], dropout=dropout, dtype="float64", device=device)
    x = gpugrad.randn(5, width, dtype="float64", device=device)
    labels = gpugrad.tensor([0, 1, 2, 1, 0], device=device)
    return model, x, labels


def gradients(model, run, x, labels, seed=1):
    model.zero_grad()
    gpugrad.manual_seed(seed)
    loss = F.cross_entropy(run(x), labels)
    loss.backward()
    return loss.item(), [p.grad.numpy().copy() for p in model.parameters()]


def assert_same(reference, other):
    assert other[0] == pytest.approx(reference[0], rel=1e-12)
    for a, b in zip(reference[1], other[1]):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("segments", [1, 2, 3, 5, 11])
def test_checkpoint_sequential_gives_the_same_gradients(device, segments):
    model, x, labels = mlp_and_batch(device)
    reference = gradients(model, model, x, labels)
    assert_same(reference, gradients(
        model, lambda t: checkpoint_sequential(model.layers, segments, t), x, labels))


def test_dropout_masks_are_replayed(device):
    model, x, labels = mlp_and_batch(device, dropout=0.4)
    reference = gradients(model, model, x, labels)
    assert_same(reference, gradients(
        model, lambda t: checkpoint_sequential(model.layers, 3, t), x, labels))


@pytest.mark.parametrize("how", ["backward", "autograd.grad", "create_graph"])
@pytest.mark.parametrize("wrap", ["sequential", "one", "nested"])
def test_random_state_after_a_checkpointed_backward_goes_on_as_without_it(device, how, wrap):
    """The recomputation replays the first run's random draws (its Dropout masks), then
    puts the random state back: what is drawn between forward and backward, and after
    backward, is what a run without checkpointing draws."""
    model, x, labels = mlp_and_batch(device, dropout=0.4)
    layers = list(model.layers)
    wrapped = {
        "sequential": lambda t: checkpoint_sequential(layers, 3, t),
        "one": lambda t: checkpoint(model, t),
        "nested": lambda t: checkpoint(lambda u: checkpoint_sequential(layers, 2, u), t),
    }[wrap]

    def run(forward):
        gpugrad.manual_seed(3)
        loss = F.cross_entropy(forward(x), labels)
        between = gpugrad.randn(4, dtype="float64", device=device).numpy()
        params = list(model.parameters())
        if how == "backward":
            model.zero_grad()
            loss.backward()
            grads = [p.grad.numpy().copy() for p in params]
        else:
            grads = autograd.grad(loss, params, create_graph=how == "create_graph")
            grads = [g.numpy().copy() for g in grads]
        after = gpugrad.randn(4, dtype="float64", device=device).numpy()
        return between, after, grads

    reference, checkpointed = run(model), run(wrapped)
    gpugrad.manual_seed(3)
    unused = gpugrad.randn(4, dtype="float64", device=device).numpy()
    assert not np.array_equal(reference[0], unused)        # the forward did draw masks
    np.testing.assert_array_equal(checkpointed[0], reference[0])
    np.testing.assert_array_equal(checkpointed[1], reference[1])
    assert len(checkpointed[2]) == len(reference[2]) > 0
    for a, b in zip(reference[2], checkpointed[2]):        # the masks were replayed
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-14)


def test_parameters_get_gradients_when_no_input_requires_grad(device):
    layer = nn.Linear(4, 3, dtype="float64", device=device)
    x = gpugrad.randn(2, 4, dtype="float64", device=device)      # does not require grad
    checkpoint(lambda t: layer(t).tanh(), x).sum().backward()
    expected = (1 - np.tanh(x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()) ** 2)
    np.testing.assert_allclose(layer.bias.grad.numpy(), expected.sum(axis=0), rtol=1e-12)


def test_autograd_grad_and_create_graph_through_a_checkpoint(device):
    w = gpugrad.tensor([[0.5, -1.0], [2.0, 0.3]], dtype="float64", device=device,
                       requires_grad=True)
    x = gpugrad.tensor([[0.2, 0.7]], dtype="float64", device=device, requires_grad=True)

    def block(t):
        return (t @ w).tanh() * t.sum()

    plain = autograd.grad(block(x).sum(), (x, w), create_graph=True)
    second_plain = autograd.grad(plain[0].sum() + plain[1].sum(), (x, w))
    ckpt = autograd.grad(checkpoint(block, x).sum(), (x, w), create_graph=True)
    second_ckpt = autograd.grad(ckpt[0].sum() + ckpt[1].sum(), (x, w))
    for a, b in zip(plain + second_plain, ckpt + second_ckpt):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12)


def test_nested_checkpoints(device):
    model, x, labels = mlp_and_batch(device, dropout=0.2)
    layers = list(model.layers)

    def run(t):
        def outer(u):
            u = checkpoint(lambda v: layers[1](layers[0](v)), u)
            return checkpoint_sequential(layers[2:8], 2, u)
        return checkpoint_sequential(layers[8:], 1, checkpoint(outer, t))

    assert_same(gradients(model, model, x, labels), gradients(model, run, x, labels))


def test_changed_recomputation_is_an_error(device):
    state = {"calls": 0}
    w = gpugrad.ones(3, dtype="float64", device=device, requires_grad=True)

    def unstable(t):
        state["calls"] += 1
        t = t * w
        return t.exp() if state["calls"] == 1 else t.reshape(1, 3).exp()

    out = checkpoint(unstable, gpugrad.ones(3, dtype="float64", device=device))
    with pytest.raises(CheckpointError, match=r"shape \(1, 3\).*shape \(3,\)"):
        out.sum().backward()


def test_is_recomputing_lets_side_effects_run_once(device):
    counted = []

    class Counter(nn.Module):
        def forward(self, t):
            if not is_recomputing():
                counted.append(1)
            return t

    layer = nn.Linear(3, 3, dtype="float64", device=device)
    block = nn.Sequential(layer, Counter(), nn.Tanh())
    x = gpugrad.randn(2, 3, dtype="float64", device=device)
    checkpoint(block, x).sum().backward()
    assert counted == [1]
    # by hand: d sum(tanh(x W^T + b))/dW = (1 - tanh^2)^T x, and /db its column sums
    slope = 1 - np.tanh(x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()) ** 2
    np.testing.assert_allclose(layer.weight.grad.numpy(), slope.T @ x.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), slope.sum(axis=0), rtol=1e-12)


def test_under_no_grad_it_is_a_plain_call(device):
    with gpugrad.no_grad():
        out = checkpoint(lambda t: t * 2, gpugrad.ones(2, device=device, requires_grad=True))
    assert not out.requires_grad and out.tolist() == [2.0, 2.0]


def test_modified_input_is_detected(device):
    w = gpugrad.ones(2, dtype="float64", device=device, requires_grad=True)
    x = gpugrad.ones(2, dtype="float64", device=device)
    out = checkpoint(lambda t: (t * w).exp(), x)
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


def test_mlp_checkpoint_option(device):
    model, x, labels = mlp_and_batch(device)
    reference = gradients(model, model, x, labels)
    model.checkpoint = 3
    assert_same(reference, gradients(model, model, x, labels))


def test_sqrt_segments_cut_the_tracked_peak_at_least_threefold():
    # deep enough that sqrt(n) segments (12, of 12 blocks) beat the fixed costs (the
    # boundaries, one segment's activations, the cotangents): at depth 64 they cut ~2.9x
    depth, width, batch = 144, 128, 64
    gpugrad.manual_seed(0)
    model = nn.MLP([width] * (depth + 1))
    x = gpugrad.randn(batch, width)
    labels = gpugrad.tensor(np.arange(batch) % width)

    def peak(run):
        gc.collect()            # other tests' garbage, freed mid-block, would lower the peak
        with gpugrad.memory.track("cpu") as tracked:
            F.cross_entropy(run(x), labels).backward()
        return tracked.peak

    peak(model)                                       # gradients now exist: accumulate
    plain = peak(model)
    segments = int(math.sqrt(depth))
    checkpointed = peak(lambda t: checkpoint_sequential(model.layers, segments, t))
    assert plain / checkpointed >= 3.0, (plain, checkpointed)


def test_double_backward_after_an_earlier_backward(device):
    x = gpugrad.tensor([0.3, -0.8, 1.1], dtype="float64", device=device, requires_grad=True)

    def f(t):
        return (t.exp() * t).tanh()

    def second_derivative(run):
        y = run(x).sum()
        y.backward(retain_graph=True)              # a plain backward first: values only
        (g,) = autograd.grad(y, x, create_graph=True)
        return autograd.grad(g.sum(), x)[0].numpy()

    np.testing.assert_allclose(second_derivative(lambda t: checkpoint(f, t)),
                               second_derivative(f), rtol=1e-12)


def test_in_place_change_of_a_saved_value_inside_is_an_error(device):
    x = gpugrad.tensor([0.3, 0.5], dtype="float64", device=device, requires_grad=True)

    def f(t):
        y = t.exp()
        y.add_(1.0)                                 # exp saved y: its gradient needs it
        return y.tanh()

    with pytest.raises(RuntimeError, match="in-place"):
        checkpoint(f, x).sum().backward()


class Square(autograd.Function):
    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        return (t * t).exp().log(), gpugrad.argmax(t)      # gpugrad ops inside

    @staticmethod
    def backward(ctx, g, g_index):
        (t,) = ctx.saved_tensors
        return 2 * g * t


@pytest.mark.parametrize("body", ["no_grad inside", "custom Function", "in-place recorded",
                                  "kwargs"])
def test_recomputation_saves_what_the_first_run_saved(device, body):
    w = gpugrad.tensor([0.5, -1.5, 2.0], dtype="float64", device=device, requires_grad=True)
    x = gpugrad.tensor([1.0, 2.0, 3.0], dtype="float64", device=device)

    def f(t, scale=1.0):
        h = t * w * scale
        if body == "no_grad inside":
            with gpugrad.no_grad():
                shift = (h * h).sum()              # not recorded in either run
            h = h.tanh() + shift
        elif body == "custom Function":
            squared, index = Square.apply(h)
            h = squared * (index + 1.0)            # uses a non-differentiable output
        elif body == "in-place recorded":
            h = h * 1.0
            h.mul_(h)
        return (h.sigmoid() * w).sum()

    kwargs = {"scale": gpugrad.tensor(0.7, dtype="float64", device=device)} if \
        body == "kwargs" else {}
    (plain,) = autograd.grad(f(x, **kwargs), w)
    (ckpt,) = autograd.grad(checkpoint(f, x, **kwargs), w)
    np.testing.assert_allclose(ckpt.numpy(), plain.numpy(), rtol=1e-12)


def test_a_modified_keyword_input_is_detected(device):
    w = gpugrad.ones(2, dtype="float64", device=device, requires_grad=True)
    scale = gpugrad.tensor(2.0, dtype="float64", device=device)
    out = checkpoint(lambda t, scale: (t * w * scale).exp(),
                     gpugrad.ones(2, dtype="float64", device=device), scale=scale)
    scale.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


def test_forward_mode_through_a_checkpoint_then_backward(device):
    import gpugrad.autograd.forward_ad as fwAD
    w = gpugrad.tensor([0.5, -1.0], dtype="float64", device=device, requires_grad=True)
    x = gpugrad.tensor([1.0, 2.0], dtype="float64", device=device)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, gpugrad.ones(2, dtype="float64", device=device))
        out = checkpoint(lambda t: (t * w).tanh(), dual)
        tangent = fwAD.unpack_dual(out).tangent.numpy()
    out.sum().backward()
    expected = (1 - np.tanh(x.numpy() * w.numpy()) ** 2)
    np.testing.assert_allclose(tangent, expected * w.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), expected * x.numpy(), rtol=1e-12)


def test_create_graph_through_a_checkpoint_leaves_no_cycles(device):
    import gc
    import weakref
    x = gpugrad.tensor([0.2, 0.4], dtype="float64", device=device, requires_grad=True)
    gc.disable()
    try:
        out = checkpoint(lambda t: (t * t).exp(), x).sum()
        (g,) = autograd.grad(out, x, create_graph=True)
        node = weakref.ref(g.grad_fn)
        del out, g
        assert node() is None
    finally:
        gc.enable()


# ---------------------------------------------------------------------------------------------
# `gpugrad experiment checkpoint`: block recomputations, counted on every path
# ---------------------------------------------------------------------------------------------

def test_experiment_counts_recomputations_as_derived_by_hand(tmp_path):
    """MLP 9 x 8: 9 blocks (Linear + ReLU, the last Linear alone). none: nothing
    recomputed, and the plain forward runs Linear + ReLU fused (linear_relu), which must
    count as a run. The MLP's checkpoint=k segments its blocks as PyTorch does: k - 1
    checkpointed chunks of 9 // k blocks, each run once more in backward, the rest outside.
    every-2: 9 // 2 = 4 segments: 3 chunks of 2 checkpointed, 6 recomputed. every-4:
    9 // 4 = 2 segments: one chunk of 4, 4. sqrt(9) = 3 segments: 2 chunks of 3, 6."""
    from gpugrad.checkpoint.experiment import ExperimentConfig, run
    rows = run(ExperimentConfig(depth=9, width=(8,), batch=4, every=(2, 4), budgets=(),
                                strategies=("none", "every", "sqrt"), repeat=1, device="cpu",
                                out=str(tmp_path)), log=lambda *a: None)
    assert {r["strategy"]: r["recomputations"] for r in rows} == {
        "none": 0, "every-2": 6, "every-4": 4, "sqrt(n)=3 segments": 6}
    assert "| none | " in (tmp_path / "results.md").read_text()


@pytest.mark.parametrize("tree, recomputed", [
    (("A", 0, ("A", 1, ("A", 2, ("A", 3, ("A", 4, None))))), 0),          # keep everything
    # checkpoint blocks 0-1, keep the rest: 0 and 1 run again
    (("B", 0, 2, ("A", 2, ("A", 3, ("A", 4, None))), ("A", 0, ("A", 1, None))), 2),
    # checkpoint 0-2, and inside it 0 again: 0-2 run again, then 0 a third time
    (("B", 0, 3, ("A", 3, ("A", 4, None)),
      ("B", 0, 1, ("A", 1, ("A", 2, None)), ("A", 0, None))), 4),
    # checkpoint 0-1, then 2 on the right; 0 inside the left: 0, 1, 2 and 0 again
    (("B", 0, 2, ("B", 2, 3, ("A", 3, ("A", 4, None)), ("A", 2, None)),
      ("B", 0, 1, ("A", 1, None), ("A", 0, None))), 4),
], ids=["keep-all", "one-checkpoint", "nested", "both-sides"])
def test_block_runs_count_planner_schedules_as_derived_by_hand(tree, recomputed):
    """A plan's schedule set by hand (4 blocks and the loss, stages 0-4) runs under the
    experiment's counter: the count is the blocks each checkpoint runs again."""
    from gpugrad.checkpoint import plan
    from gpugrad.checkpoint.experiment import _BlockRuns
    from gpugrad.checkpoint.schedule import simulate
    model, x, labels = mlp_and_batch("cpu", depth=4)
    schedule = plan(model, x, budget=1.0, loss_fn=lambda out: F.cross_entropy(out, labels))
    schedule.tree = tree
    model.checkpoint = schedule
    with _BlockRuns(model) as counter:
        F.cross_entropy(model(x), labels).backward()
    assert counter.recomputations == recomputed
    assert simulate(schedule.profile.byte_chain(), tree)[2] == recomputed    # the planner's
