"""nn.TripletMarginWithDistanceLoss / F.triplet_margin_with_distance_loss and nn.Softmax2d:
hand-derived values, PyTorch's argument checks, gradients against finite differences, and
PyTorch itself where installed."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
from gpugrad.nn import functional as F


def _triplet():
    a = gpugrad.tensor([[0.0, 0.0], [1.0, 1.0]], dtype="float64", requires_grad=True)
    p = gpugrad.tensor([[3.0, 4.0], [1.0, 2.0]], dtype="float64")
    n = gpugrad.tensor([[1.0, 1.0], [4.0, 5.0]], dtype="float64")
    return a, p, n


def test_default_distance_is_pairwise_l2():
    a, p, n = _triplet()
    eps = 1e-6          # pairwise_distance's: |x - y + eps|
    d = lambda u, v: math.dist([u[0] - v[0] + eps, u[1] - v[1] + eps], [0, 0])  # noqa: E731
    rows = [max(0.0, 1.0 + d((0, 0), (3, 4)) - d((0, 0), (1, 1))),
            max(0.0, 1.0 + d((1, 1), (1, 2)) - d((1, 1), (4, 5)))]
    out = F.triplet_margin_with_distance_loss(a, p, n, reduction="none")
    np.testing.assert_allclose(out.numpy(), rows, rtol=1e-12)
    assert F.triplet_margin_with_distance_loss(a, p, n).item() == pytest.approx(sum(rows) / 2)
    assert nn.TripletMarginWithDistanceLoss(reduction="sum")(a, p, n).item() == \
        pytest.approx(sum(rows))


def test_custom_distance_swap_and_gradient():
    a, p, n = _triplet()
    l1 = lambda x, y: (x - y).abs().sum(-1)                              # noqa: E731
    loss = nn.TripletMarginWithDistanceLoss(distance_function=l1, margin=2.0, swap=True)
    # row 0: d(a,p)=7, d(a,n)=2, d(p,n)=5 -> 2 + 7 - 2 = 7; row 1: 1, 7, d(p,n)=6 -> 0
    out = loss(a, p, n)
    assert out.item() == pytest.approx(3.5)
    out.backward()
    # d/da of 0.5 (|a - p|_1 - |a - n|_1) on row 0: 0.5 (sign(a - p) - sign(a - n))
    np.testing.assert_allclose(a.grad.numpy(), [[0.0, 0.0], [0.0, 0.0]])
    b = gpugrad.tensor([[0.2, 0.3]], dtype="float64", requires_grad=True)
    f = lambda t: F.triplet_margin_with_distance_loss(                    # noqa: E731
        t, gpugrad.tensor([[1.0, 2.0]], dtype="float64"),
        gpugrad.tensor([[0.5, 0.1]], dtype="float64"), margin=3.0)
    f(b).backward()
    h, fd = 1e-6, []
    for i in range(2):
        e = np.zeros((1, 2))
        e[0, i] = h
        up = f(gpugrad.tensor(b.detach().numpy() + e, dtype="float64")).item()
        down = f(gpugrad.tensor(b.detach().numpy() - e, dtype="float64")).item()
        fd.append((up - down) / (2 * h))
    np.testing.assert_allclose(b.grad.numpy()[0], fd, rtol=1e-6)


def test_argument_checks_as_pytorch():
    a, p, n = _triplet()
    with pytest.raises(ValueError, match="margin"):
        nn.TripletMarginWithDistanceLoss(margin=0.0)
    with pytest.raises(ValueError, match="margin"):
        F.triplet_margin_with_distance_loss(a, p, n, margin=-1.0)
    with pytest.raises(ValueError, match="same number of dimensions"):
        F.triplet_margin_with_distance_loss(a, p, n[0])
    with pytest.raises(ValueError, match="reduction"):
        F.triplet_margin_with_distance_loss(a, p, n, reduction="avg")
    assert isinstance(nn.TripletMarginWithDistanceLoss().distance_function,
                      nn.PairwiseDistance)


def test_triplet_with_distance_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((5, 3)) for _ in range(3)]
    for kw in (dict(), dict(swap=True, margin=0.3, reduction="none")):
        ta = torch.tensor(arrays[0], requires_grad=True)
        theirs = torch.nn.TripletMarginWithDistanceLoss(**kw)(
            ta, torch.tensor(arrays[1]), torch.tensor(arrays[2]))
        theirs.sum().backward()
        ga = gpugrad.tensor(arrays[0], dtype="float64", requires_grad=True)
        ours = nn.TripletMarginWithDistanceLoss(**kw)(
            ga, gpugrad.tensor(arrays[1], dtype="float64"),
            gpugrad.tensor(arrays[2], dtype="float64"))
        ours.sum().backward()
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ga.grad.numpy(), ta.grad.numpy(), rtol=1e-12)


def test_softmax2d_over_channels():
    x = np.arange(24, dtype=np.float64).reshape(1, 3, 2, 4) / 7.0
    out = nn.Softmax2d()(gpugrad.tensor(x, dtype="float64")).numpy()
    expected = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    three = nn.Softmax2d()(gpugrad.tensor(x[0], dtype="float64")).numpy()
    np.testing.assert_allclose(three, expected[0], rtol=1e-14)
    with pytest.raises(ValueError, match="3D or 4D, got 2D"):
        nn.Softmax2d()(gpugrad.zeros(2, 3))
    assert repr(nn.Softmax2d()) == "Softmax2d()"


def test_softmax2d_against_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 4, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(nn.Softmax2d()(gpugrad.tensor(x)).numpy(),
                               torch.nn.Softmax2d()(torch.tensor(x)).numpy(), rtol=1e-6)
