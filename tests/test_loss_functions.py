"""The losses of gpugrad/nn/loss_functions.py and their modules: each against float64 NumPy
written from PyTorch's documented formulas, in every reduction, with weights, ignore_index
and pos_weight; gradients by finite differences; extreme inputs; float32 kept; errors; vmap;
and PyTorch 2.13 itself where it is installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad.func import vmap
from gpugrad.nn import loss_functions as L
from gpugrad.nn import loss_layers as layers

REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 3)) * 2          # predictions / logits
Y = RNG.standard_normal((4, 3)) * 2          # regression targets
P = RNG.uniform(0.05, 0.95, (4, 3))          # probabilities
T = RNG.uniform(0.0, 1.0, (4, 3))            # soft binary targets
W = RNG.uniform(0.5, 2.0, (4, 3))            # element weights
POS = np.array([0.5, 2.0, 3.0])              # pos_weight, one per class (last axis)


def reduce(values, reduction):
    return values if reduction == "none" else values.sum() if reduction == "sum" else \
        values.mean()


def ref_smooth_l1(x, y, beta):
    d = np.abs(x - y)
    return d if beta == 0 else np.where(d < beta, 0.5 * d ** 2 / beta, d - 0.5 * beta)


def ref_huber(x, y, delta):
    d = np.abs(x - y)
    return np.where(d < delta, 0.5 * d ** 2, delta * (d - 0.5 * delta))


def ref_bce(p, t, w=None):
    with np.errstate(divide="ignore"):
        out = -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))
    return out if w is None else out * w


def ref_bce_logits(x, t, w=None, pos=None):
    weight = 1.0 if pos is None else 1 + (pos - 1) * t
    out = (1 - t) * x + weight * np.logaddexp(0.0, -x)
    return out if w is None else out * w


def ref_nll(logp, labels, w=None, ignore=-100, reduction="mean"):
    w = np.ones(logp.shape[1]) if w is None else w
    losses, weights = np.zeros(len(labels)), np.zeros(len(labels))
    for i, label in enumerate(labels):
        if label != ignore:
            losses[i], weights[i] = -w[label] * logp[i, label], w[label]
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / weights.sum()


def ref_kl(logq, p, reduction, log_target=False):
    if log_target:
        values = np.exp(p) * (p - logq)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(p > 0, p * np.log(p), 0.0) - p * logq
    if reduction == "batchmean":
        return values.sum() / logq.shape[0]
    return reduce(values, reduction)


# (id, function of (input, target), reference, input, target, target differentiable)
CASES = [
    ("l1", lambda x, y, r: L.l1_loss(x, y, reduction=r), lambda x, y: np.abs(x - y), X, Y, True),
    ("smooth_l1", lambda x, y, r: L.smooth_l1_loss(x, y, reduction=r),
     lambda x, y: ref_smooth_l1(x, y, 1.0), X, Y, True),
    ("smooth_l1_beta", lambda x, y, r: L.smooth_l1_loss(x, y, reduction=r, beta=2.5),
     lambda x, y: ref_smooth_l1(x, y, 2.5), X, Y, True),
    ("smooth_l1_beta0", lambda x, y, r: L.smooth_l1_loss(x, y, reduction=r, beta=0.0),
     lambda x, y: ref_smooth_l1(x, y, 0.0), X, Y, True),
    ("huber", lambda x, y, r: L.huber_loss(x, y, r), lambda x, y: ref_huber(x, y, 1.0),
     X, Y, True),
    ("huber_delta", lambda x, y, r: L.huber_loss(x, y, r, delta=0.7),
     lambda x, y: ref_huber(x, y, 0.7), X, Y, True),
    ("bce", lambda p, t, r: L.binary_cross_entropy(p, t, reduction=r), ref_bce, P, T, True),
    ("bce_weight", lambda p, t, r: L.binary_cross_entropy(
        p, t, gpugrad.tensor(W, dtype=p.dtype, device=p.device), reduction=r),
     lambda p, t: ref_bce(p, t, W), P, T, True),
    ("bce_logits", lambda x, t, r: L.binary_cross_entropy_with_logits(x, t, reduction=r),
     ref_bce_logits, X, T, True),
    ("bce_logits_weights", lambda x, t, r: L.binary_cross_entropy_with_logits(
        x, t, gpugrad.tensor(W, dtype=x.dtype, device=x.device), reduction=r,
        pos_weight=gpugrad.tensor(POS, dtype=x.dtype, device=x.device)),
     lambda x, t: ref_bce_logits(x, t, W, POS), X, T, True),
    ("kl_div", lambda q, p, r: L.kl_div(q, p, reduction=r), None, np.log(P), T, True),
    ("kl_div_log_target", lambda q, p, r: L.kl_div(q, p, reduction=r, log_target=True), None,
     np.log(P), np.log(T), True),
]
PARAMS = [pytest.param(*c, id=c[0]) for c in CASES]


def expected(name, ref, a, b, reduction):
    if name.startswith("kl_div"):
        return ref_kl(a, b, reduction, log_target=name.endswith("log_target"))
    return reduce(ref(a, b), reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, fn, ref, a, b, both", PARAMS)
def test_matches_numpy_float64_and_finite_differences(name, fn, ref, a, b, both, reduction,
                                                      device):
    x = gpugrad.tensor(a, device=device, requires_grad=True)
    y = gpugrad.tensor(b, device=device, requires_grad=both)
    out = fn(x, y, reduction)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected(name, ref, a, b, reduction),
                               rtol=1e-12, atol=1e-14)
    assert gpugrad.gradcheck(lambda x, y: fn(x, y, reduction), (x, y))
    assert gpugrad.gradgradcheck(lambda x, y: fn(x, y, reduction), (x, y))


@pytest.mark.parametrize("name, fn, ref, a, b, both", PARAMS)
def test_float32_stays_float32(name, fn, ref, a, b, both, device):
    x = gpugrad.tensor(a.astype(np.float32), device=device, requires_grad=True)
    out = fn(x, gpugrad.tensor(b.astype(np.float32), device=device), "mean")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.item(), expected(name, ref, a.astype(np.float32),
                                                    b.astype(np.float32), "mean"), rtol=1e-5)
    out.backward()
    assert x.grad.dtype == np.float32


def test_kl_div_batchmean_and_zero_targets(device):
    logq = gpugrad.tensor(np.log(P), device=device, requires_grad=True)
    p = T.copy()
    p[0, 1] = p[2, 0] = 0.0                             # 0 log 0 = 0
    out = L.kl_div(logq, gpugrad.tensor(p, device=device), reduction="batchmean")
    assert out.item() == pytest.approx(ref_kl(np.log(P), p, "batchmean"), rel=1e-13)
    out.backward()
    np.testing.assert_allclose(logq.grad.numpy(), -p / 4, rtol=1e-15)
    assert np.isfinite(logq.grad.numpy()).all()
    scalar = L.kl_div(gpugrad.tensor(-1.0), gpugrad.tensor(0.5), reduction="batchmean")
    assert scalar.item() == pytest.approx(0.5 * (np.log(0.5) + 1.0))   # 0-d: the sum


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(reduction, ignore_index, weighted, device):
    logp = np.log(np.random.default_rng(1).dirichlet(np.ones(4), size=6))
    labels = np.array([0, 2, 3, ignore_index, 2, 1])
    weight = np.array([0.5, 1.0, 2.0, 3.0]) if weighted else None
    x = gpugrad.tensor(logp, device=device, requires_grad=True)
    t = gpugrad.tensor(labels, device=device)
    w = None if weight is None else gpugrad.tensor(weight, device=device)
    out = L.nll_loss(x, t, w, ignore_index=ignore_index, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), ref_nll(logp, labels, weight, ignore_index,
                                                    reduction), rtol=1e-13, atol=1e-15)
    def nll(x):
        return L.nll_loss(x, t, w, ignore_index=ignore_index, reduction=reduction)
    assert gpugrad.gradcheck(nll, (x,))
    assert gpugrad.gradgradcheck(nll, (x,))
    if reduction == "none":
        assert out.tolist()[3] == 0.0 and str(out.tolist()[3]) == "0.0"   # not -0.0


def test_nll_loss_of_only_ignored_rows_is_nan_with_zero_gradient():
    x = gpugrad.tensor(np.log(P), requires_grad=True)
    loss = L.nll_loss(x, gpugrad.tensor([-100, -100, -100, -100]))
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(P))
    zero_weight = L.nll_loss(gpugrad.tensor(np.log(P)), gpugrad.tensor([0, 0, 1, 1]),
                             weight=gpugrad.tensor([0.0, 0.0, 1.0]))
    assert np.isnan(zero_weight.item())


def test_nll_loss_ignores_minus_infinity_elsewhere_in_a_row():
    logp = gpugrad.tensor([[-np.inf, np.log(0.5), np.log(0.5)]], dtype="float64")
    assert L.nll_loss(logp, gpugrad.tensor([1])).item() == pytest.approx(np.log(2))


def test_extreme_inputs_give_finite_losses_and_gradients(device):
    x = gpugrad.tensor([1e4, -1e4, 50.0, -50.0, 0.0], device=device, requires_grad=True)
    t = gpugrad.tensor([0.0, 1.0, 0.3, 0.7, 1.0], device=device)
    loss = L.binary_cross_entropy_with_logits(x, t, reduction="none",
                                              pos_weight=gpugrad.tensor(3.0, device=device))
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), ref_bce_logits(
        x.numpy(), t.numpy(), pos=3.0), rtol=1e-6)
    assert np.isfinite(x.grad.numpy()).all()
    # probabilities of exactly 0 and 1: each log clamped at -100, finite gradients
    p = gpugrad.tensor([0.0, 1.0, 0.0, 1.0], dtype="float64", device=device, requires_grad=True)
    target = gpugrad.tensor([1.0, 0.0, 0.0, 1.0], dtype="float64", device=device)
    loss = L.binary_cross_entropy(p, target, reduction="none")
    assert loss.tolist() == [100.0, 100.0, 0.0, 0.0]
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()


def test_bce_checks_probabilities_where_that_costs_no_sync():
    for bad_input, bad_target, what in [(1.5, 0.5, "input"), (-0.1, 0.5, "input"),
                                        (0.5, 1.2, "target"), (np.nan, 0.5, "input")]:
        with pytest.raises(ValueError, match=f"binary_cross_entropy: all elements of {what} "
                                             f"should be between 0 and 1"):
            L.binary_cross_entropy(gpugrad.tensor([0.5, bad_input]),
                                   gpugrad.tensor([0.5, bad_target]))


def test_unchecked_values_give_nan_explained_on_read(monkeypatch):
    """Where reading values would sync (a GPU), nothing is checked up front: a bad value
    gives a NaN, and the error explaining it comes when the host reads the loss."""
    monkeypatch.setattr(L, "labels_checked_now", lambda array: False)
    with np.errstate(invalid="ignore"):
        loss = L.binary_cross_entropy(gpugrad.tensor([0.5, 1.5]), gpugrad.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1"):
        loss.item()
    loss = L.nll_loss(gpugrad.zeros(2, 3), gpugrad.tensor([1, 7]), reduction="none")
    with pytest.raises(ValueError, match="nll_loss: label 7 is out of range for 3 classes"):
        loss.numpy()
    ok = L.nll_loss(gpugrad.zeros(2, 3), gpugrad.tensor([1, -100]))
    assert ok.item() == 0.0


def test_vmap_is_the_loss_of_each_example():
    logp = np.log(np.random.default_rng(2).dirichlet(np.ones(4), size=(3, 5)))
    labels = np.array([[0, 1, 2, 3, -100], [3, 3, 3, 3, 3], [1, -100, 0, 2, 2]])
    out = vmap(L.nll_loss)(gpugrad.tensor(logp), gpugrad.tensor(labels))
    np.testing.assert_allclose(out.numpy(), [ref_nll(a, b) for a, b in zip(logp, labels)],
                               rtol=1e-13)
    out = vmap(lambda x, t: L.binary_cross_entropy_with_logits(x, t, reduction="sum"))(
        gpugrad.tensor(X), gpugrad.tensor(T))
    np.testing.assert_allclose(out.numpy(), ref_bce_logits(X, T).sum(axis=1), rtol=1e-13)


# ------------------------------------------------------------------ errors
ALL = [("l1_loss", L.l1_loss), ("smooth_l1_loss", L.smooth_l1_loss),
       ("huber_loss", L.huber_loss), ("binary_cross_entropy", L.binary_cross_entropy),
       ("binary_cross_entropy_with_logits", L.binary_cross_entropy_with_logits),
       ("kl_div", L.kl_div)]


@pytest.mark.parametrize("name, fn", ALL, ids=[a[0] for a in ALL])
def test_shape_mismatch_and_bad_reduction_name_the_function(name, fn):
    a, b = gpugrad.full((2, 3), 0.5), gpugrad.full((3,), 0.5)
    with pytest.raises(ValueError, match=rf"{name}: input shape \(2, 3\) and target shape "
                                         rf"\(3,\) differ"):
        fn(a, b)
    with pytest.raises(ValueError, match=rf"{name}: reduction must be one of .*'avg'"):
        fn(a, a, reduction="avg")


def test_other_bad_arguments():
    a = gpugrad.full((2, 3), 0.5)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be >= 0"):
        L.smooth_l1_loss(a, a, beta=-1.0)
    for delta in (0.0, -1.0):
        with pytest.raises(ValueError, match="huber_loss: delta must be positive"):
            L.huber_loss(a, a, delta=delta)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: weight of shape \(2,\) does "
                                         r"not broadcast to the input's shape \(2, 3\)"):
        L.binary_cross_entropy(a, a, weight=gpugrad.ones(2))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: pos_weight of "
                                         r"shape \(4,\)"):
        L.binary_cross_entropy_with_logits(a, a, pos_weight=gpugrad.ones(4))
    with pytest.raises(ValueError, match="kl_div: reduction must be one of .*'batchmean'"):
        L.kl_div(a, a, reduction="avg")
    logp, labels = gpugrad.zeros(3, 4), gpugrad.tensor([0, 1, 2])
    with pytest.raises(ValueError, match=r"nll_loss expects input of shape \(N, C\), got "
                                         r"\(12,\)"):
        L.nll_loss(logp.reshape(12), labels)
    with pytest.raises(TypeError, match="nll_loss: labels must be integer class indices"):
        L.nll_loss(logp, gpugrad.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"nll_loss: 3 rows of input but labels of shape "
                                         r"\(2,\)"):
        L.nll_loss(logp, gpugrad.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"nll_loss: label 4 is out of range for 4 classes"):
        L.nll_loss(logp, gpugrad.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"nll_loss: weight must have one entry per class, "
                                         r"shape \(4,\), got \(3,\)"):
        L.nll_loss(logp, labels, weight=gpugrad.ones(3))
    with pytest.raises(ValueError, match="nll_loss: reduction must be one of"):
        L.nll_loss(logp, labels, reduction="batchmean")


# ------------------------------------------------------------------ modules
def test_modules_match_the_functions(device):
    x, y = gpugrad.tensor(X, device=device), gpugrad.tensor(Y, device=device)
    p, t = gpugrad.tensor(P, device=device), gpugrad.tensor(T, device=device)
    w, pos = gpugrad.tensor(W, device=device), gpugrad.tensor(POS, device=device)
    labels = gpugrad.tensor([0, 2, 1, 1], device=device)
    pairs = [
        (layers.L1Loss(reduction="sum")(x, y), L.l1_loss(x, y, reduction="sum")),
        (layers.SmoothL1Loss(beta=0.5)(x, y), L.smooth_l1_loss(x, y, beta=0.5)),
        (layers.HuberLoss(reduction="none", delta=2.0)(x, y),
         L.huber_loss(x, y, "none", delta=2.0)),
        (layers.BCELoss(w)(p, t), L.binary_cross_entropy(p, t, w)),
        (layers.BCEWithLogitsLoss(w, pos_weight=pos)(x, t),
         L.binary_cross_entropy_with_logits(x, t, w, pos_weight=pos)),
        (layers.NLLLoss(pos, ignore_index=2)(x, labels),
         L.nll_loss(x, labels, pos, ignore_index=2)),
        (layers.KLDivLoss(reduction="batchmean", log_target=True)(x, y),
         L.kl_div(x, y, reduction="batchmean", log_target=True)),
    ]
    for module_out, function_out in pairs:
        np.testing.assert_array_equal(module_out.numpy(), function_out.numpy())


def test_module_reprs_and_buffers():
    assert repr(layers.L1Loss()) == "L1Loss(reduction='mean')"
    assert repr(layers.SmoothL1Loss(beta=0.5)) == "SmoothL1Loss(reduction='mean', beta=0.5)"
    assert repr(layers.HuberLoss(delta=2.0)) == "HuberLoss(reduction='mean', delta=2.0)"
    assert repr(layers.NLLLoss(ignore_index=3)) == "NLLLoss(reduction='mean', ignore_index=3)"
    assert repr(layers.KLDivLoss()) == "KLDivLoss(reduction='mean', log_target=False)"
    module = layers.BCEWithLogitsLoss(pos_weight=gpugrad.ones(3))
    assert list(module.state_dict()) == ["pos_weight"] and module.weight is None
    assert list(layers.NLLLoss(gpugrad.ones(3)).state_dict()) == ["weight"]
    assert list(layers.BCELoss().parameters()) == []
    with pytest.raises(TypeError):
        layers.L1Loss("sum")             # PyTorch's first positional is size_average


# ------------------------------------------------------------------ PyTorch 2.13 itself
def torch_cases(torch):
    import torch.nn.functional as TF
    tt = lambda a: torch.tensor(a, dtype=torch.float64)     # noqa: E731
    labels = np.array([0, 2, -100, 1])
    return [
        ("l1", L.l1_loss, TF.l1_loss, (X, Y), {}),
        ("smooth_l1", L.smooth_l1_loss, TF.smooth_l1_loss, (X, Y), {"beta": 0.8}),
        ("huber", L.huber_loss, TF.huber_loss, (X, Y), {"delta": 1.3}),
        ("bce", L.binary_cross_entropy, TF.binary_cross_entropy, (P, T), {}),
        ("bce_edges", L.binary_cross_entropy, TF.binary_cross_entropy,
         (np.array([0.0, 1.0, 0.0, 1.0, 1e-50]), np.array([1.0, 0.0, 0.0, 1.0, 0.0])), {}),
        ("bce_logits", L.binary_cross_entropy_with_logits,
         TF.binary_cross_entropy_with_logits, (np.append(X, [1e4, -1e4, 0.0]),
                                               np.append(T, [0.0, 1.0, 0.5])), {}),
        ("bce_logits_pos", lambda x, t, **k: L.binary_cross_entropy_with_logits(
            x, t, gpugrad.tensor(W), pos_weight=gpugrad.tensor(POS), **k),
         lambda x, t, **k: TF.binary_cross_entropy_with_logits(
             x, t, tt(W), pos_weight=tt(POS), **k), (X, T), {}),
        ("nll", lambda x, t, **k: L.nll_loss(x, gpugrad.tensor(labels), gpugrad.tensor(POS),
                                             **k),
         lambda x, t, **k: TF.nll_loss(x, torch.tensor(labels), tt(POS), **k), (X, None), {}),
        ("kl", L.kl_div, TF.kl_div, (np.log(P), np.where(T < 0.2, 0.0, T)), {}),
        ("kl_log", L.kl_div, TF.kl_div, (np.log(P), np.log(T)), {"log_target": True}),
    ]


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_values_and_gradients_match_pytorch(reduction):
    torch = pytest.importorskip("torch")
    import warnings
    for name, ours, theirs, (a, b), kwargs in torch_cases(torch):
        if reduction == "batchmean" and not name.startswith("kl"):
            continue
        x = gpugrad.tensor(a, dtype="float64", requires_grad=True)
        tx = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        y = None if b is None else gpugrad.tensor(b, dtype="float64")
        ty = None if b is None else torch.tensor(b, dtype=torch.float64)
        out = ours(x, y, reduction=reduction, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")                 # kl_div's "mean" warning
            tout = theirs(tx, ty, reduction=reduction, **kwargs)
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12,
                                   atol=1e-14, err_msg=name)
        out.backward(gpugrad.ones_like(out))
        tout.backward(torch.ones_like(tout))
        if name == "bce_edges":     # PyTorch divides by max(p (1 - p), 1e-12) there
            continue
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=name)


def test_compiled_steps_check_and_count_at_every_replay():
    model = gpugrad.nn.Linear(4, 3)

    @gpugrad.compile
    def nll_of(x, y):
        return L.nll_loss(model(x).log_softmax(axis=1), y)

    @gpugrad.compile
    def bce_of(x, t):
        return L.binary_cross_entropy(model(x).sigmoid(), t)

    x = gpugrad.randn(4, 4)
    nll_of(x, gpugrad.tensor([0, 1, 2, 0]))
    labels = gpugrad.tensor([0, -100, -100, 2])
    assert nll_of(x, labels).item() == pytest.approx(
        L.nll_loss(model(x).log_softmax(axis=1), labels).item(), rel=1e-6)
    with pytest.raises(ValueError, match="nll_loss: label 7 is out of range for 3 classes"):
        nll_of(x, gpugrad.tensor([0, 7, 1, 1]))
    assert nll_of.records == 1
    bce_of(x, gpugrad.full((4, 3), 0.5))
    assert bce_of(x, gpugrad.ones(4, 3)).item() == pytest.approx(
        L.binary_cross_entropy(model(x).sigmoid(), gpugrad.ones(4, 3)).item(), rel=1e-6)
    with pytest.raises(ValueError, match="all elements of target should be between 0 and 1"):
        bce_of(x, gpugrad.full((4, 3), 2.0))
    assert bce_of.records == 1


def test_autocast_computes_the_losses_in_float32():
    from gpugrad.amp import autocast
    half = gpugrad.tensor(P, dtype="float16")
    with autocast("float16"):
        for loss in (L.l1_loss(half, half), L.binary_cross_entropy(half, half),
                     L.binary_cross_entropy_with_logits(half, half), L.kl_div(half, half),
                     L.nll_loss(half, gpugrad.tensor([0, 1, 2, 0]))):
            assert loss.dtype == np.float32
