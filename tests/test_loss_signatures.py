"""The functional losses take PyTorch's arguments in PyTorch's positional order, the
deprecated ``size_average``/``reduce`` included (mapped to ``reduction`` with PyTorch's
UserWarning; anything but a bool or None there is refused, naming the order), checked
against hand values and, where installed, torch called the same way."""

import inspect
import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad.nn import loss_functions as L
from gpugrad.nn import losses

TORCH_ORDER = {
    "nll_loss": ["input", "target", "weight", "size_average", "ignore_index", "reduce",
                 "reduction"],
    "cross_entropy": ["input", "target", "weight", "size_average", "ignore_index", "reduce",
                      "reduction", "label_smoothing"],
    "l1_loss": ["input", "target", "size_average", "reduce", "reduction", "weight"],
    "smooth_l1_loss": ["input", "target", "size_average", "reduce", "reduction", "beta"],
    "huber_loss": ["input", "target", "reduction", "delta", "weight"],
    "binary_cross_entropy": ["input", "target", "weight", "size_average", "reduce",
                             "reduction"],
    "binary_cross_entropy_with_logits": ["input", "target", "weight", "size_average",
                                         "reduce", "reduction", "pos_weight"],
    "kl_div": ["input", "target", "size_average", "reduce", "reduction", "log_target"],
}


def _function(name):
    return getattr(losses if name == "cross_entropy" else L, name)


@pytest.mark.parametrize("name", sorted(TORCH_ORDER))
def test_positional_order_is_pytorchs(name):
    params = [p.name for p in inspect.signature(_function(name)).parameters.values()
              if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert params == TORCH_ORDER[name]


@pytest.mark.parametrize("name", sorted(TORCH_ORDER))
def test_against_torch_signature(name):
    torch = pytest.importorskip("torch")
    params = [p.name for p in inspect.signature(getattr(torch.nn.functional, name))
              .parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert params == TORCH_ORDER[name]


LOGP = np.log(np.array([[0.25, 0.75], [0.5, 0.5], [0.9, 0.1]]))
LABELS = np.array([1, 0, -100])


def test_nll_loss_positional_calls_and_legacy_reduction():
    logp, labels = gpugrad.tensor(LOGP), gpugrad.tensor(LABELS)
    rows = -np.array([LOGP[0, 1], LOGP[1, 0], 0.0])
    weight = gpugrad.tensor([2.0, 1.0], dtype="float64")
    got = L.nll_loss(logp, labels, weight, None, -100, None, "sum")
    assert got.item() == pytest.approx(-(LOGP[0, 1] + 2 * LOGP[1, 0]))
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert L.nll_loss(logp, labels, None, False).item() == pytest.approx(rows.sum())
    with pytest.warns(UserWarning, match="reduction='none'"):
        got = L.nll_loss(logp, labels, None, None, -100, False)
    np.testing.assert_allclose(got.numpy(), rows)
    with pytest.warns(UserWarning, match="reduction='mean'"):
        assert L.nll_loss(logp, labels, None, True, -100, True).item() == \
            pytest.approx(rows.sum() / 2)
    with pytest.raises(TypeError, match="ignore_index= and reduction= by keyword"):
        L.nll_loss(logp, labels, None, -100, "mean")          # the old positional order
    with pytest.raises(TypeError, match="size_average"):
        L.nll_loss(logp, labels, None, "sum")


def test_other_losses_map_size_average_and_reduce():
    x = gpugrad.tensor([1.0, -2.0, 3.0], dtype="float64")
    y = gpugrad.tensor([0.0, 0.0, 1.0], dtype="float64")
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert L.l1_loss(x, y, False).item() == pytest.approx(5.0)
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert L.smooth_l1_loss(x, y, None, False).tolist() == [0.5, 1.5, 1.5]
    with pytest.warns(UserWarning):
        assert L.kl_div(gpugrad.tensor([-1.0]), gpugrad.tensor([1.0]), None, False, "sum",
                        False).tolist() == [1.0]
    p = gpugrad.tensor([0.5, 0.5], dtype="float64")
    t = gpugrad.tensor([1.0, 0.0], dtype="float64")
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert L.binary_cross_entropy(p, t, None, False).item() == pytest.approx(2 * np.log(2))
    with pytest.warns(UserWarning, match="reduction='none'"):
        out = L.binary_cross_entropy_with_logits(gpugrad.zeros(2, dtype="float64"), t, None,
                                                 None, False)
    np.testing.assert_allclose(out.numpy(), [np.log(2)] * 2)
    for fn in (L.l1_loss, L.smooth_l1_loss, L.kl_div):
        with pytest.raises(TypeError, match="reduction= .*by keyword"):
            fn(x, y, "sum")                                    # the old positional order
    with pytest.raises(TypeError, match="reduction="):
        L.binary_cross_entropy(p, t, None, "sum")
    with warnings.catch_warnings():
        warnings.simplefilter("error")                         # no warning without them
        L.l1_loss(x, y, reduction="sum")
        L.huber_loss(x, y, "sum", 2.0)


def test_l1_and_huber_weights():
    x = gpugrad.tensor([1.0, -2.0, 3.0], dtype="float64")
    y = gpugrad.tensor([0.0, 0.0, 1.0], dtype="float64")
    w = gpugrad.tensor([1.0, 2.0, 5.0], dtype="float64")
    assert L.l1_loss(x, y, weight=w).item() == pytest.approx((1 + 4 + 10) / 8)   # / sum(w)
    assert L.l1_loss(x, y, reduction="none", weight=w).tolist() == [1.0, 4.0, 10.0]
    huber = np.array([0.5, 1.5, 1.5])
    assert L.huber_loss(x, y, "mean", 1.0, w).item() == \
        pytest.approx((huber * [1, 2, 5]).mean())                               # / count
    assert L.huber_loss(x, y, "sum", 1.0, w).item() == pytest.approx((huber * [1, 2, 5]).sum())
    with pytest.raises(ValueError, match="weight of shape"):
        L.l1_loss(x, y, weight=gpugrad.ones(2, dtype="float64"))
    assert gpugrad.gradcheck(lambda a, b: L.l1_loss(a, y, weight=b),
                             (gpugrad.tensor([1.0, -2.0, 3.0], dtype="float64",
                                             requires_grad=True),
                              gpugrad.tensor([1.0, 2.0, 5.0], dtype="float64",
                                             requires_grad=True)))


def test_positional_calls_match_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    w = rng.uniform(0.5, 2.0, (4, 3))
    ga, gb, gw = (gpugrad.tensor(v) for v in (a, b, w))
    ta, tb, tw = (torch.tensor(v) for v in (a, b, w))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = [
            (L.l1_loss(ga, gb, None, None, "sum", gw), TF.l1_loss(ta, tb, None, None, "sum", tw)),
            (L.l1_loss(ga, gb, None, None, "mean", gw), TF.l1_loss(ta, tb, None, None, "mean",
                                                                    tw)),
            (L.l1_loss(ga, gb, False, False), TF.l1_loss(ta, tb, False, False)),
            (L.smooth_l1_loss(ga, gb, None, None, "none", 0.5),
             TF.smooth_l1_loss(ta, tb, None, None, "none", 0.5)),
            (L.huber_loss(ga, gb, "mean", 0.7, gw), TF.huber_loss(ta, tb, "mean", 0.7, tw)),
            (L.kl_div(ga, gb.exp(), None, None, "batchmean", False),
             TF.kl_div(ta, tb.exp(), None, None, "batchmean", False)),
            (L.kl_div(ga, gb, None, None, "sum", True), TF.kl_div(ta, tb, None, None, "sum",
                                                                  True)),
            (L.binary_cross_entropy(ga.sigmoid(), gb.sigmoid(), gw, None, None, "sum"),
             TF.binary_cross_entropy(ta.sigmoid(), tb.sigmoid(), tw, None, None, "sum")),
            (L.binary_cross_entropy_with_logits(ga, gb.sigmoid(), gw, None, None, "none",
                                                gw[0]),
             TF.binary_cross_entropy_with_logits(ta, tb.sigmoid(), tw, None, None, "none",
                                                 tw[0])),
            (L.nll_loss(ga, gpugrad.tensor([0, 2, -100, 1]), gw[0], None, -100, None, "mean"),
             TF.nll_loss(ta, torch.tensor([0, 2, -100, 1]), tw[0], None, -100, None, "mean")),
            (L.nll_loss(ga, gpugrad.tensor([0, 2, 2, 1]), None, None, 2, False),
             TF.nll_loss(ta, torch.tensor([0, 2, 2, 1]), None, None, 2, False)),
            (losses.cross_entropy(ga, gpugrad.tensor([0, 2, 2, 1]), gw[0], None, 1, None, "sum",
                                  0.1),
             TF.cross_entropy(ta, torch.tensor([0, 2, 2, 1]), tw[0], None, 1, None, "sum", 0.1)),
        ]
    for got, want in cases:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
