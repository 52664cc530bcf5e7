"""Batch, RMS and group normalisation: hand-derived values, finite differences, and
PyTorch's modules step by step (training, running statistics, evaluation) where installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
from gpugrad.nn import functional as F

RNG = np.random.default_rng(7)
EPS = 1e-5


def test_batch_norm_by_hand_then_its_running_statistics_in_eval():
    """Channel 0 holds 1 and 3 (mean 2, biased variance 1), channel 1 10 and 30 (20, 100):
    each becomes -1 and 1 over sqrt(var + eps). The running mean moves 0.1 of the way to
    the batch mean, the running variance to the unbiased variance (2 and 200)."""
    bn = nn.BatchNorm1d(2, dtype="float64")
    x = gpugrad.tensor([[1.0, 10.0], [3.0, 30.0]], dtype="float64")
    y = bn(x).numpy()
    np.testing.assert_allclose(y[:, 0], np.array([-1.0, 1.0]) / np.sqrt(1 + EPS), rtol=1e-14)
    np.testing.assert_allclose(y[:, 1], np.array([-10.0, 10.0]) / np.sqrt(100 + EPS),
                               rtol=1e-14)
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.2, 2.0], rtol=1e-14)
    np.testing.assert_allclose(bn.running_var.numpy(), [0.9 + 0.2, 0.9 + 20.0], rtol=1e-14)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    z = bn(gpugrad.tensor([[0.2, 2.0]], dtype="float64")).numpy()
    np.testing.assert_allclose(z, [[0.0, 0.0]], atol=1e-15)           # the running mean
    assert bn.num_batches_tracked.item() == 1                         # eval tracks nothing
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]


def test_batch_norm_with_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(1, momentum=None, dtype="float64")
    for batch in ([[0.0], [2.0]], [[4.0], [6.0]], [[8.0], [10.0]]):    # means 1, 5, 9
        bn(gpugrad.tensor(batch, dtype="float64"))
    np.testing.assert_allclose(bn.running_mean.numpy(), [5.0], rtol=1e-14)
    np.testing.assert_allclose(bn.running_var.numpy(), [2.0], rtol=1e-14)   # each 2


def test_batch_norm_gradients_match_finite_differences():
    x = gpugrad.tensor(RNG.standard_normal((5, 3, 2)), dtype="float64", requires_grad=True)
    w = gpugrad.tensor(RNG.standard_normal(3), dtype="float64", requires_grad=True)
    b = gpugrad.tensor(RNG.standard_normal(3), dtype="float64", requires_grad=True)

    def f(x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True)
    assert gpugrad.gradcheck(f, (x, w, b))
    assert gpugrad.gradgradcheck(f, (x, w, b))


def test_batch_norm_refusals_name_the_problem():
    with pytest.raises(ValueError, match="more than one value per channel"):
        nn.BatchNorm1d(2)(gpugrad.ones(1, 2))
    with pytest.raises(ValueError, match="got an input with 3 channels"):
        nn.BatchNorm1d(2)(gpugrad.ones(4, 3))
    with pytest.raises(ValueError, match="expects a 4-d input"):
        nn.BatchNorm2d(2)(gpugrad.ones(4, 2))
    with pytest.raises(ValueError, match="momentum must be in"):
        nn.BatchNorm1d(2, momentum=2.0)


def test_rms_norm_and_group_norm_by_hand():
    x = gpugrad.tensor([[3.0, 4.0]], dtype="float64")               # mean square 12.5
    np.testing.assert_allclose(F.rms_norm(x, (2,), eps=0.0).numpy(),
                               [[3 / np.sqrt(12.5), 4 / np.sqrt(12.5)]], rtol=1e-15)
    x = gpugrad.tensor([[1.0, 3.0, 10.0, 30.0]], dtype="float64")   # groups (1, 3), (10, 30)
    got = F.group_norm(x, 2, eps=0.0).numpy()
    np.testing.assert_allclose(got, [[-1.0, 1.0, -1.0, 1.0]], rtol=1e-15)
    with pytest.raises(ValueError, match="divisible by num_groups"):
        F.group_norm(gpugrad.ones(2, 3), 2)
    x = gpugrad.tensor(RNG.standard_normal((2, 4, 3)), dtype="float64", requires_grad=True)
    assert gpugrad.gradcheck(lambda t: F.group_norm(t, 2), (x,))
    assert gpugrad.gradcheck(lambda t: F.rms_norm(t, (3,)), (x,))


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_batch_norm_trains_and_evaluates_as_pytorchs(shape, momentum):
    torch = pytest.importorskip("torch")
    ours = (nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d)(
        3, momentum=momentum, dtype="float64")
    theirs = (torch.nn.BatchNorm2d if len(shape) == 4 else torch.nn.BatchNorm1d)(
        3, momentum=momentum, dtype=torch.float64)
    w, b = RNG.standard_normal(3), RNG.standard_normal(3)
    with gpugrad.no_grad():
        ours.weight.copy_(gpugrad.tensor(w)), ours.bias.copy_(gpugrad.tensor(b))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w)), theirs.bias.copy_(torch.tensor(b))
    for step in range(4):
        ours.train(step < 3), theirs.train(step < 3)
        x, c = RNG.standard_normal(shape), RNG.standard_normal(shape)
        xg = gpugrad.tensor(x, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        yg, yt = ours(xg), theirs(xt)
        (yg * gpugrad.tensor(c)).sum().backward()
        (yt * torch.tensor(c)).sum().backward()
        np.testing.assert_allclose(yg.numpy(), yt.detach().numpy(), atol=1e-13)
        np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), atol=1e-13)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                   atol=1e-13)
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(),
                                   rtol=1e-14)
        np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(),
                                   rtol=1e-14, atol=1e-16)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_rms_norm_and_group_norm_match_pytorchs():
    torch = pytest.importorskip("torch")
    x, w, b = RNG.standard_normal((2, 6, 3)), RNG.standard_normal(6), RNG.standard_normal(6)
    got = F.group_norm(gpugrad.tensor(x), 3, gpugrad.tensor(w), gpugrad.tensor(b)).numpy()
    want = torch.nn.functional.group_norm(torch.tensor(x), 3, torch.tensor(w),
                                          torch.tensor(b)).numpy()
    np.testing.assert_allclose(got, want, atol=1e-13)
    w = RNG.standard_normal(3)
    got = F.rms_norm(gpugrad.tensor(x), (3,), gpugrad.tensor(w)).numpy()
    want = torch.nn.functional.rms_norm(torch.tensor(x), (3,), torch.tensor(w)).numpy()
    np.testing.assert_allclose(got, want, atol=1e-14)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_a_compiled_step_with_batch_norm_trains_as_the_eager_one(momentum):
    """gpugrad.compile replays the running statistics' updates (momentum None included: a
    cumulative average computed without a host read) exactly as eager steps make them."""
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((4, 8, 3))
    results = []
    for compiled in (False, True):
        gpugrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=momentum), nn.ReLU())
        opt = gpugrad.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        run = gpugrad.compile(step) if compiled else step
        losses = [run(gpugrad.tensor(x, dtype="float32")).item() for x in xs]
        results.append((losses, model[1].running_mean.numpy(), model[1].running_var.numpy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    np.testing.assert_array_equal(results[0][2], results[1][2])
