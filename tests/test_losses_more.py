"""The losses of margin_losses.py and likelihood_losses.py, with their modules
(margin_loss_layers.py, likelihood_losses.py): values worked out by hand on small inputs,
float64 NumPy references written from the definitions, gradients by finite differences,
PyTorch's gradients at the hinges, reductions and the deprecated size_average/reduce,
argument errors, module buffers and reprs, and PyTorch 2.13 itself where it is installed."""

import math

import numpy as np
import pytest

import gpugrad
import gpugrad.nn as nn
import gpugrad.nn.functional as F

T = gpugrad.tensor
RNG = np.random.default_rng(0)
X1, X2 = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4))
X3 = RNG.normal(size=(5, 4))
SIGNS = np.array([1.0, -1.0, 1.0, -1.0, -1.0])
LABELS = np.array([0, 3, 1, 1, 2])
COUNTS = RNG.poisson(2.0, size=(5, 4)).astype(float)
BITS = (RNG.uniform(size=(5, 4)) > 0.5).astype(float)
MULTI = np.array([[3, 0, -1, 1], [1, -1, 2, 2], [0, 1, 2, 3], [2, 2, -1, 0], [-1, 0, 1, 2]])
W4 = np.array([0.5, 1.0, 2.0, 0.25])


def _relu(z):
    return np.maximum(z, 0.0)


def ref_cosine_embedding(a, b, y, margin=0.0):
    cos = (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))
    return np.where(y == 1, 1 - cos, 0.0) + np.where(y == -1, _relu(cos - margin), 0.0)


def ref_multi_margin(x, y, p=1, margin=1.0, w=None):
    own = x[np.arange(len(y)), y][:, None]
    h = _relu(margin - own + x) ** p
    h[np.arange(len(y)), y] = 0.0
    if w is not None:
        h = h * w[y][:, None]
    return h.sum(-1) / x.shape[1]


def ref_multilabel_margin(x, target):
    out = []
    for row, t in zip(x, target):
        listed = []
        for k in t:
            if k < 0:
                break
            listed.append(k)
        others = [i for i in range(len(row)) if i not in listed]
        out.append(sum(max(0.0, 1 - (row[j] - row[i])) for j in listed for i in others)
                   / len(row))
    return np.array(out)


def ref_gaussian(x, t, v, full=False, eps=1e-6):
    v = np.maximum(v, eps)
    return 0.5 * (np.log(v) + (x - t) ** 2 / v) + (0.5 * math.log(2 * math.pi) if full else 0)


def ref_poisson(x, t, log_input=True, full=False, eps=1e-8):
    loss = np.exp(x) - t * x if log_input else x - t * np.log(x + eps)
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = t * np.log(t) - t + 0.5 * np.log(2 * np.pi * t)
        loss = loss + np.where(t > 1, stirling, 0.0)
    return loss


POSITIVE = np.abs(X1) + 0.1
# (id, function, float inputs that get gradients, other inputs, kwargs, per-element reference)
CASES = [
    ("margin_ranking", F.margin_ranking_loss, [X1[:, 0], X2[:, 0]], [SIGNS], {"margin": 0.3},
     lambda a, b, y, margin: _relu(-y * (a - b) + margin)),
    ("hinge_embedding", F.hinge_embedding_loss, [np.abs(X1)], [np.sign(X2)],
     {"margin": 1.2}, lambda x, y, margin: np.where(y == 1, x, _relu(margin - x))),
    ("cosine_embedding", F.cosine_embedding_loss, [X1, X2], [SIGNS], {"margin": 0.1},
     ref_cosine_embedding),
    ("triplet_margin", F.triplet_margin_loss, [X1, X2, X3], [], {"margin": 0.5},
     lambda a, p, n, margin: _relu(margin + np.linalg.norm(a - p + 1e-6, axis=-1)
                                   - np.linalg.norm(a - n + 1e-6, axis=-1))),
    ("triplet_margin_p1_swap", F.triplet_margin_loss, [X1, X2, X3], [],
     {"p": 1, "swap": True},
     lambda a, pos, neg, p, swap: _relu(1.0 + np.abs(a - pos + 1e-6).sum(-1) - np.minimum(
         np.abs(a - neg + 1e-6).sum(-1), np.abs(pos - neg + 1e-6).sum(-1)))),
    ("soft_margin", F.soft_margin_loss, [X1], [np.sign(X2)], {},
     lambda x, y: np.log1p(np.exp(-y * x))),
    ("multilabel_soft_margin", F.multilabel_soft_margin_loss, [X1], [BITS], {"weight": W4},
     lambda x, t, weight: (weight * (t * np.log1p(np.exp(-x)) + (1 - t) * np.log1p(
         np.exp(x)))).mean(-1)),
    ("multi_margin", F.multi_margin_loss, [X1], [LABELS], {}, ref_multi_margin),
    ("multi_margin_p2_weight", F.multi_margin_loss, [X1], [LABELS],
     {"p": 2, "margin": 0.7, "weight": W4},
     lambda x, y, p, margin, weight: ref_multi_margin(x, y, p, margin, weight)),
    ("multilabel_margin", F.multilabel_margin_loss, [X1], [MULTI], {}, ref_multilabel_margin),
    ("poisson_nll", F.poisson_nll_loss, [X1], [COUNTS], {}, ref_poisson),
    ("poisson_nll_rates_full", F.poisson_nll_loss, [POSITIVE], [COUNTS],
     {"log_input": False, "full": True},
     lambda x, t, log_input, full: ref_poisson(x, t, log_input, full)),
    ("gaussian_nll", F.gaussian_nll_loss, [X1, POSITIVE], [], {},
     lambda x, v: ref_gaussian(x, 0.5, v)),
    ("gaussian_nll_full_row_var", F.gaussian_nll_loss, [X1, POSITIVE[:, 0]], [],
     {"full": True}, lambda x, v, full: ref_gaussian(x, 0.5, v[:, None], full)),
]
PARAMS = [pytest.param(*c, id=c[0]) for c in CASES]


def _call(fn, floats, others, kwargs, device="cpu", grad=False, **extra):
    tensors = [T(a, device=device, requires_grad=grad) for a in floats]
    rest = [T(a, device=device) for a in others]
    kw = {k: T(v, device=device) if isinstance(v, np.ndarray) else v
          for k, v in kwargs.items()}
    if fn is F.gaussian_nll_loss:       # (input, target, var): the target is a constant
        return tensors, fn(tensors[0], T(np.full(X1.shape, 0.5), device=device), tensors[1],
                           **kw, **extra)
    return tensors, fn(*tensors, *rest, **kw, **extra)


@pytest.mark.parametrize("name, fn, floats, others, kwargs, ref", PARAMS)
def test_values_match_numpy_for_each_reduction(name, fn, floats, others, kwargs, ref, device):
    expected = ref(*floats, *others, **kwargs)
    _, none = _call(fn, floats, others, kwargs, device, reduction="none")
    assert none.dtype == np.float64 and tuple(none.shape) == expected.shape
    np.testing.assert_allclose(none.numpy(), expected, rtol=1e-12, atol=1e-14)
    _, mean = _call(fn, floats, others, kwargs, device)
    _, total = _call(fn, floats, others, kwargs, device, reduction="sum")
    assert mean.shape == () and total.shape == ()
    np.testing.assert_allclose(mean.item(), expected.mean(), rtol=1e-12)
    np.testing.assert_allclose(total.item(), expected.sum(), rtol=1e-12)


@pytest.mark.parametrize("name, fn, floats, others, kwargs, ref", PARAMS)
def test_gradients_match_finite_differences(name, fn, floats, others, kwargs, ref):
    tensors = [T(a, requires_grad=True) for a in floats]
    assert gpugrad.gradcheck(lambda *ts: _apply(fn, ts, others, kwargs), tuple(tensors))


def _apply(fn, tensors, others, kwargs):
    kw = {k: T(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    if fn is F.gaussian_nll_loss:
        return fn(tensors[0], T(np.full(X1.shape, 0.5)), tensors[1], **kw, reduction="sum")
    return fn(*tensors, *[T(a) for a in others], **kw, reduction="sum")


def test_hand_values_on_small_inputs():
    # margin ranking: max(0, -y (x1 - x2) + m) = [max(0, -(3 - 1) + 1), max(0, (1 - 2) + 1)]
    assert F.margin_ranking_loss(T([3.0, 1.0]), T([1.0, 2.0]), T([1.0, -1.0]), margin=1.0,
                                 reduction="none").tolist() == [0.0, 0.0]
    # hinge embedding: target 1 -> x; -1 -> max(0, 1 - x); other targets -> both
    out = F.hinge_embedding_loss(T([0.25, 0.25, 2.0, 0.5]), T([1.0, -1.0, -1.0, 0.0]),
                                 reduction="none")
    assert out.tolist() == [0.25, 0.75, 0.0, 1.0]
    # cosine embedding of orthogonal vectors: 1 for target 1, 0 for -1
    a, b = T([[1.0, 0.0], [1.0, 0.0]]), T([[0.0, 2.0], [0.0, 2.0]])
    assert F.cosine_embedding_loss(a, b, T([1.0, -1.0]), reduction="none").tolist() == \
        pytest.approx([1.0, 0.0])
    # one vector pair with a 0-d target: the loss is 0-d
    assert F.cosine_embedding_loss(T([1.0, 1.0]), T([1.0, 1.0]), T(1.0)).shape == ()
    # triplet: d(a, p) = 5, d(a, n) = 1 (eps 0) -> 1 + 5 - 1
    assert F.triplet_margin_loss(T([[0.0, 0.0]]), T([[3.0, 4.0]]), T([[1.0, 0.0]]),
                                 eps=0.0).item() == pytest.approx(5.0)
    # swap: d(p, n) = sqrt(4 + 16) < d(a, n) = 5 -> 1 + 5 - sqrt(20)
    assert F.triplet_margin_loss(T([[0.0, 0.0]]), T([[3.0, 4.0]]), T([[5.0, 0.0]]), eps=0.0,
                                 swap=True).item() == pytest.approx(6.0 - math.sqrt(20.0))
    # soft margin at 0: log 2
    assert F.soft_margin_loss(T([0.0, 0.0]), T([1.0, -1.0])).item() == \
        pytest.approx(math.log(2.0))
    # multi-margin: x = [0.1, 0.2, 0.4, 0.8], y = 3 -> (0.3 + 0.4 + 0.6) / 4; p = 2 squares
    x = T([[0.1, 0.2, 0.4, 0.8]])
    assert F.multi_margin_loss(x, T([3])).item() == pytest.approx(1.3 / 4)
    assert F.multi_margin_loss(x, T([3]), p=2).item() == pytest.approx(
        (0.09 + 0.16 + 0.36) / 4)
    # PyTorch's docs example for multilabel_margin_loss: 0.85
    assert F.multilabel_margin_loss(x, T([[3, 0, -1, 1]])).item() == pytest.approx(0.85)
    # poisson: exp(0) - 1 * 0 = 1; rates: 2 - 3 log 2; full adds 3 log 3 - 3 + log(6 pi) / 2
    assert F.poisson_nll_loss(T([0.0]), T([1.0])).item() == 1.0
    stirling = 3 * math.log(3) - 3 + 0.5 * math.log(6 * math.pi)
    assert F.poisson_nll_loss(T([2.0]), T([3.0]), log_input=False, full=True,
                              eps=0.0).item() == pytest.approx(2 - 3 * math.log(2) + stirling)
    # full adds nothing where the target is <= 1
    assert F.poisson_nll_loss(T([0.0]), T([1.0]), full=True).item() == 1.0
    # gaussian: (log 4 + 1 / 4) / 2; var as a number
    assert F.gaussian_nll_loss(T([1.0]), T([2.0]), T([4.0])).item() == \
        pytest.approx(0.5 * (math.log(4.0) + 0.25))
    assert F.gaussian_nll_loss(T([1.0]), T([2.0]), 4.0).item() == \
        pytest.approx(0.5 * (math.log(4.0) + 0.25))


def test_gradients_at_the_hinges_are_pytorchs():
    # clamp_min passes the gradient where its input is exactly 0: -y (x1 - x2) + m == 0
    x1 = T([1.0], requires_grad=True)
    F.margin_ranking_loss(x1, T([0.0]), T([1.0]), margin=1.0).backward()
    assert x1.grad.tolist() == [-1.0]
    h = T([1.0], requires_grad=True)
    F.hinge_embedding_loss(h, T([-1.0])).backward()       # margin - x == 0
    assert h.grad.tolist() == [-1.0]
    # the multi-class hinges count only z > 0: x[y] - x[i] == margin gives nothing
    m = T([[2.0, 1.0]], requires_grad=True)
    F.multi_margin_loss(m, T([0])).backward()
    assert m.grad.tolist() == [[0.0, 0.0]]
    ml = T([[2.0, 1.0]], requires_grad=True)
    F.multilabel_margin_loss(ml, T([[0, -1]])).backward()
    assert ml.grad.tolist() == [[0.0, 0.0]]


def test_gaussian_variance_is_clamped_in_value_only():
    v = T([1e-9, 4.0], dtype="float64", requires_grad=True)
    loss = F.gaussian_nll_loss(T([0.0, 0.0], dtype="float64"), T([2e-3, 1.0], dtype="float64"),
                               v, eps=1e-6, reduction="sum")
    clamped = np.array([1e-6, 4.0])
    d2 = np.array([4e-6, 1.0])
    assert loss.item() == pytest.approx((0.5 * (np.log(clamped) + d2 / clamped)).sum())
    loss.backward()       # d/dv of (log v + d^2 / v) / 2 at the clamped v, passed straight
    np.testing.assert_allclose(v.grad.numpy(), [-1.5e6, 0.09375], rtol=1e-9)


def test_gaussian_variance_shapes_follow_pytorchs_rules():
    x, t = gpugrad.randn(4, 3), gpugrad.randn(4, 3)
    for shape in [(4, 3), (4,), (4, 1), (1, 3)]:
        assert F.gaussian_nll_loss(x, t, gpugrad.ones(*shape), reduction="none").shape == (4, 3)
    for shape in [(3,), (2, 3), (4, 3, 1)]:
        with pytest.raises(ValueError, match="incorrect size"):
            F.gaussian_nll_loss(x, t, gpugrad.ones(*shape))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, t, -gpugrad.ones(4, 3))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, t, -1.0)
    with pytest.raises(ValueError, match="reduction"):
        F.gaussian_nll_loss(x, t, 1.0, reduction="batchmean")


def test_deprecated_size_average_and_reduce():
    x, y = T([1.0, 2.0]), T([1.0, -1.0])
    with pytest.warns(UserWarning, match="deprecated"):
        summed = F.soft_margin_loss(x, y, size_average=False)
    assert summed.item() == pytest.approx(F.soft_margin_loss(x, y, reduction="sum").item())
    with pytest.warns(UserWarning):
        each = F.multi_margin_loss(T([[1.0, 2.0]]), T([0]), reduce=False)
    assert each.shape == (1,)
    with pytest.raises(TypeError, match="reduction"):
        F.hinge_embedding_loss(x, y, 1.0, "sum")          # a reduction where size_average is


def test_bad_arguments_raise_errors_that_say_what_to_do():
    x = gpugrad.randn(3, 4)
    with pytest.raises(ValueError, match="p == 1 and p == 2"):
        F.multi_margin_loss(x, T([0, 1, 2]), p=3)
    with pytest.raises(ValueError, match="out of range"):
        F.multi_margin_loss(x, T([0, 1, 4]))
    with pytest.raises(ValueError, match="inconsistent target size"):
        F.multi_margin_loss(x, T([0, 1]))
    with pytest.raises(ValueError, match="inconsistent weight size"):
        F.multi_margin_loss(x, T([0, 1, 2]), weight=T([1.0, 2.0]))
    with pytest.raises(TypeError, match="integer"):
        F.multi_margin_loss(x, T([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="out of range"):
        F.multilabel_margin_loss(x, T([[0, 4, -1, 0]] * 3))
    with pytest.raises(ValueError, match="same dimension"):
        F.margin_ranking_loss(T([1.0]), T([1.0]), T(1.0))
    with pytest.raises(ValueError, match="target"):
        F.cosine_embedding_loss(x, x, T([[1.0]]))
    with pytest.raises(ValueError, match="number of dimensions"):
        F.triplet_margin_loss(x, x, x[0])
    with pytest.raises(ValueError, match="differ"):
        F.soft_margin_loss(T([1.0, 2.0]), T([[1.0], [1.0]]))
    with pytest.raises(ValueError, match="reduction"):
        F.poisson_nll_loss(x, x, reduction="avg")


MODULES = [   # (module, function, inputs, kwargs it passes, repr)
    (nn.MarginRankingLoss(0.5, reduction="sum"), F.margin_ranking_loss,
     [X1[:, 0], X2[:, 0], SIGNS], {"margin": 0.5, "reduction": "sum"},
     "MarginRankingLoss(reduction='sum', margin=0.5)"),
    (nn.HingeEmbeddingLoss(), F.hinge_embedding_loss, [X1, np.sign(X2)], {},
     "HingeEmbeddingLoss(reduction='mean', margin=1.0)"),
    (nn.CosineEmbeddingLoss(0.2), F.cosine_embedding_loss, [X1, X2, SIGNS], {"margin": 0.2},
     "CosineEmbeddingLoss(reduction='mean', margin=0.2)"),
    (nn.TripletMarginLoss(p=1.0, swap=True), F.triplet_margin_loss, [X1, X2, X3],
     {"p": 1.0, "swap": True},
     "TripletMarginLoss(reduction='mean', margin=1.0, p=1.0, eps=1e-06, swap=True)"),
    (nn.SoftMarginLoss(reduction="none"), F.soft_margin_loss, [X1, np.sign(X2)],
     {"reduction": "none"}, "SoftMarginLoss(reduction='none')"),
    (nn.MultiLabelSoftMarginLoss(T(W4)), F.multilabel_soft_margin_loss, [X1, BITS],
     {"weight": T(W4)}, "MultiLabelSoftMarginLoss(reduction='mean')"),
    (nn.MultiMarginLoss(2, 0.5, T(W4)), F.multi_margin_loss, [X1, LABELS],
     {"p": 2, "margin": 0.5, "weight": T(W4)},
     "MultiMarginLoss(reduction='mean', margin=0.5, p=2)"),
    (nn.MultiLabelMarginLoss(), F.multilabel_margin_loss, [X1, MULTI], {},
     "MultiLabelMarginLoss(reduction='mean')"),
    (nn.PoissonNLLLoss(False, True, eps=1e-3), F.poisson_nll_loss, [POSITIVE, COUNTS],
     {"log_input": False, "full": True, "eps": 1e-3},
     "PoissonNLLLoss(reduction='mean', log_input=False, full=True, eps=0.001)"),
    (nn.GaussianNLLLoss(full=True), F.gaussian_nll_loss, [X1, X2, POSITIVE], {"full": True},
     "GaussianNLLLoss(reduction='mean', full=True, eps=1e-06)"),
]


@pytest.mark.parametrize("module, fn, inputs, kwargs, text", MODULES,
                         ids=[m[4].split("(")[0] for m in MODULES])
def test_modules_match_the_functions(module, fn, inputs, kwargs, text):
    args = [T(a) for a in inputs]
    np.testing.assert_array_equal(module(*args).numpy(), fn(*args, **kwargs).numpy())
    assert repr(module) == text
    assert list(module.parameters()) == []
    weighted = "weight" in kwargs
    assert list(module.state_dict()) == (["weight"] if weighted else [])


def test_module_arguments_after_pytorchs_deprecated_ones_are_keyword_only():
    with pytest.raises(TypeError):
        nn.MarginRankingLoss(0.5, None)
    with pytest.raises(TypeError):
        nn.PoissonNLLLoss(True, False, None)
    with pytest.raises(ValueError, match="p == 1"):
        nn.MultiMarginLoss(p=3)


# ------------------------------------------------------------------ PyTorch 2.13 itself
def _torch_args(torch, name, floats, others, kwargs):
    ts = [torch.tensor(a, requires_grad=True) for a in floats]
    rest = [torch.tensor(a) for a in others]
    kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    if name.startswith("gaussian"):
        return ts, (ts[0], torch.full(X1.shape, 0.5, dtype=torch.float64), ts[1]), kw
    return ts, tuple(ts) + tuple(rest), kw


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, fn, floats, others, kwargs, ref", PARAMS)
def test_values_and_gradients_match_pytorch(name, fn, floats, others, kwargs, ref, reduction):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    ours, out = _call(fn, floats, others, kwargs, grad=True, reduction=reduction)
    theirs, args, kw = _torch_args(torch, name, floats, others, kwargs)
    tout = getattr(TF, fn.__name__)(*args, **kw, reduction=reduction)
    assert tuple(out.shape) == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12,
                               atol=1e-14)
    weights = RNG.normal(size=tuple(out.shape))
    out.backward(T(weights))
    tout.backward(torch.tensor(weights))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-11, atol=1e-13)


def test_single_sample_shapes_match_pytorch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    x = np.array([0.1, 0.2, 0.4, 0.8])
    pairs = [
        (F.multi_margin_loss(T(x), T(3), reduction="none"),
         TF.multi_margin_loss(torch.tensor(x), torch.tensor(3), reduction="none")),
        (F.multilabel_margin_loss(T(x), T([3, 0, -1, 1]), reduction="none"),
         TF.multilabel_margin_loss(torch.tensor(x), torch.tensor([3, 0, -1, 1]),
                                   reduction="none")),
        (F.cosine_embedding_loss(T(x), T(x[::-1].copy()), T(-1.0), margin=0.1,
                                 reduction="none"),
         TF.cosine_embedding_loss(torch.tensor(x), torch.tensor(x[::-1].copy()),
                                  torch.tensor(-1.0), margin=0.1, reduction="none")),
        (F.multilabel_soft_margin_loss(T(x), T([1.0, 0, 0, 1]), reduction="none"),
         TF.multilabel_soft_margin_loss(torch.tensor(x), torch.tensor([1.0, 0, 0, 1]),
                                        reduction="none")),
    ]
    for ours, theirs in pairs:
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_hinge_gradients_match_pytorch_exactly_at_the_kinks():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    a, b, y = np.array([1.0, 0.0, 2.0]), np.array([0.0, 1.0, 2.0]), np.array([1.0, -1.0, 1.0])
    x1, t1 = T(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    F.margin_ranking_loss(x1, T(b), T(y), margin=1.0).backward()
    TF.margin_ranking_loss(t1, torch.tensor(b), torch.tensor(y), margin=1.0).backward()
    np.testing.assert_array_equal(x1.grad.numpy(), t1.grad.numpy())
    m = np.array([[2.0, 1.0, 1.5], [0.0, 1.0, 0.0]])
    x2, t2 = T(m, requires_grad=True), torch.tensor(m, requires_grad=True)
    F.multi_margin_loss(x2, T([0, 1])).backward()
    TF.multi_margin_loss(t2, torch.tensor([0, 1])).backward()
    np.testing.assert_array_equal(x2.grad.numpy(), t2.grad.numpy())


# --- label and variance checks: compiled replays, vmap, devices where reading syncs ---

def _bad_label_calls():
    x = gpugrad.tensor(X1)
    return [("multi_margin_loss", lambda t: F.multi_margin_loss(x, t), T(LABELS),
             T([0, 3, 1, 9, 2]), "label 9 is out of range for 4 classes"),
            ("multilabel_margin_loss", lambda t: F.multilabel_margin_loss(x, t), T(MULTI),
             T(np.where(MULTI == 2, 5, MULTI)), "label 5 is out of range for 4 classes"),
            ("gaussian_nll_loss", lambda v: F.gaussian_nll_loss(x, T(X2), v),
             T(np.abs(X3)), T(np.where(np.arange(20).reshape(5, 4) == 6, -1.0, np.abs(X3))),
             "var has negative entry")]


@pytest.mark.parametrize("case", range(3))
def test_a_compiled_step_checks_labels_and_variances_on_each_replay(case):
    name, loss_of, good, bad, message = _bad_label_calls()[case]
    step = gpugrad.compile(loss_of)
    expected = loss_of(good).item()
    assert step(good).item() == pytest.approx(expected, rel=1e-6)
    assert step(good).item() == pytest.approx(expected, rel=1e-6)   # a replay
    with pytest.raises(ValueError, match=message):
        step(bad)                     # before: the replay returned a finite loss


@pytest.mark.parametrize("case", range(3))
def test_where_reading_values_would_sync_a_bad_value_gives_nan_explained_on_read(
        case, monkeypatch):
    """As nll_loss's on a GPU: nothing is read up front; a bad label (variance) makes its
    row's loss NaN and the error comes when the host reads the loss."""
    from gpugrad.nn import likelihood_losses, margin_losses
    for module in (margin_losses, likelihood_losses):
        monkeypatch.setattr(module, "labels_checked_now", lambda array: False)
    name, loss_of, good, bad, message = _bad_label_calls()[case]
    x = X1
    expected = {"multi_margin_loss": lambda: ref_multi_margin(x, LABELS).mean(),
                "multilabel_margin_loss": lambda: ref_multilabel_margin(x, MULTI).mean(),
                "gaussian_nll_loss": lambda: ref_gaussian(x, X2, np.abs(X3)).mean()}[name]()
    assert loss_of(good).item() == pytest.approx(expected, rel=1e-6)
    loss = loss_of(bad)
    with pytest.raises(ValueError, match=f"{name}: {message}"):
        loss.item()
    with np.errstate(invalid="ignore"):
        each = {"multi_margin_loss": lambda: F.multi_margin_loss(T(X1), bad, reduction="none"),
                "multilabel_margin_loss": lambda: F.multilabel_margin_loss(T(X1), bad,
                                                                           reduction="none"),
                "gaussian_nll_loss": lambda: F.gaussian_nll_loss(T(X1), T(X2), bad,
                                                                 reduction="none")}[name]()
    assert np.isnan(each._array).any() and not np.isnan(each._array).all()


def test_the_label_losses_run_under_vmap():
    x = gpugrad.tensor(X1)
    out = gpugrad.func.vmap(F.multi_margin_loss)(x, T(LABELS))
    np.testing.assert_allclose(out.numpy(), ref_multi_margin(X1, LABELS), rtol=1e-12)
    out = gpugrad.func.vmap(F.multilabel_margin_loss)(x, T(MULTI))
    np.testing.assert_allclose(out.numpy(), ref_multilabel_margin(X1, MULTI), rtol=1e-12)
    out = gpugrad.func.vmap(lambda a, b, v: F.gaussian_nll_loss(a, b, v))(
        x, T(X2), T(np.abs(X3)))
    np.testing.assert_allclose(out.numpy(), ref_gaussian(X1, X2, np.abs(X3)).mean(1),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="label 9 is out of range"):
        gpugrad.func.vmap(F.multi_margin_loss)(x, T([0, 3, 1, 9, 2]))


def test_the_label_losses_under_vmap_match_pytorch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    import warnings
    x = gpugrad.tensor(X1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # torch's vmap fallback warning
        for ours, theirs, args in [
                (F.multi_margin_loss, TF.multi_margin_loss, (LABELS,)),
                (F.multilabel_margin_loss, TF.multilabel_margin_loss, (MULTI,)),
                (F.gaussian_nll_loss, TF.gaussian_nll_loss, (X2, np.abs(X3)))]:
            got = gpugrad.func.vmap(ours)(x, *map(T, args))
            # (torch's gaussian_nll_loss cannot run under its vmap: one call per example)
            want = [theirs(torch.tensor(X1[i]), *(torch.tensor(a[i]) for a in args))
                    for i in range(len(X1))]
            np.testing.assert_allclose(got.numpy(), torch.stack(want).numpy(), rtol=1e-12)
