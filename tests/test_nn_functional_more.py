"""The activations of activation_functions.py (logsigmoid, mish, selu, celu, softsign,
tanhshrink, glu, softmin) and piecewise_activations.py (relu with inplace, threshold,
hardshrink, softshrink, hardsigmoid, hardswish, prelu, rrelu), pairwise.py
(pairwise_distance, bilinear, their modules and CosineSimilarity) and dropout_variants.py,
with their modules: forward against float64 NumPy written from the definitions, gradients by
finite differences (first and second order), PyTorch's gradients at the kinks written out by
hand, in-place writes, module parameters, state_dict keys and reprs, and PyTorch 2.13
itself where it is installed."""

import math

import numpy as np
import pytest

import gpugrad
import gpugrad.nn as nn
import gpugrad.nn.functional as F
from gradient_checks import away_from_kinks

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# (id, function, reference, keyword arguments, kinks to keep finite differences away from)
CASES = [
    ("logsigmoid", F.logsigmoid, lambda x: -np.logaddexp(0.0, -x), {}, ()),
    ("mish", F.mish, lambda x: x * np.tanh(np.logaddexp(0.0, x)), {}, ()),
    ("selu", F.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), {},
     (0.0,)),
    ("celu", F.celu, lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x / alpha)),
     {"alpha": 2.0}, (0.0,)),
    ("softsign", F.softsign, lambda x: x / (1 + np.abs(x)), {}, (0.0,)),
    ("tanhshrink", F.tanhshrink, lambda x: x - np.tanh(x), {}, ()),
    ("relu", F.relu, lambda x: np.maximum(x, 0.0), {}, (0.0,)),
    ("threshold", F.threshold, lambda x, threshold, value: np.where(x > threshold, x, value),
     {"threshold": 1.0, "value": -2.0}, (1.0,)),
    ("hardshrink", F.hardshrink, lambda x, lambd: np.where(np.abs(x) > lambd, x, 0.0),
     {"lambd": 0.7}, (-0.7, 0.7)),
    ("softshrink", F.softshrink, lambda x: np.where(x > 0.5, x - 0.5, np.where(
        x < -0.5, x + 0.5, 0.0)), {}, (-0.5, 0.5)),
    ("hardsigmoid", F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0.0, 1.0), {}, (-3.0, 3.0)),
    ("hardswish", F.hardswish, lambda x: x * np.clip(x / 6 + 0.5, 0.0, 1.0), {},
     (-3.0, 3.0)),
    ("rrelu_eval", F.rrelu, lambda x, lower, upper: np.where(x > 0, x, x * (lower + upper) / 2),
     {"lower": 0.1, "upper": 0.4}, (0.0,)),
]
PARAMS = [pytest.param(*c, id=c[0]) for c in CASES]


def sample(kinks, shape=(3, 5), seed=0):
    return away_from_kinks(kinks, shape, -5.0, 6.0, seed)


@pytest.mark.parametrize("name, fn, ref, kwargs, kinks", PARAMS)
def test_forward_matches_numpy_float64(name, fn, ref, kwargs, kinks, device):
    x = sample(kinks)
    out = fn(gpugrad.tensor(x, device=device), **kwargs)
    assert out.dtype == np.float64 and tuple(out.shape) == x.shape
    np.testing.assert_allclose(out.numpy(), ref(x, **kwargs), rtol=1e-13, atol=1e-15)
    x32 = gpugrad.tensor(x.astype(np.float32), device=device)
    assert fn(x32, **kwargs).dtype == np.float32


@pytest.mark.parametrize("name, fn, ref, kwargs, kinks", PARAMS)
def test_gradients_match_finite_differences(name, fn, ref, kwargs, kinks, device):
    x = gpugrad.tensor(sample(kinks, (2, 4), seed=1), device=device, requires_grad=True)
    assert gpugrad.gradcheck(lambda x: fn(x, **kwargs), (x,))
    assert gpugrad.gradgradcheck(lambda x: fn(x, **kwargs), (x,))


KINKS = [   # (function, kwargs, points, PyTorch's gradient there, worked out by hand)
    (F.relu, {}, [0.0], [0.0]),
    (F.selu, {}, [0.0], [SELU_SCALE * SELU_ALPHA]),
    (F.celu, {"alpha": 2.0}, [0.0], [1.0]),
    (F.softsign, {}, [0.0], [1.0]),
    (F.threshold, {"threshold": 1.0, "value": 5.0}, [1.0], [0.0]),
    (F.hardshrink, {}, [-0.5, 0.5], [0.0, 0.0]),
    (F.softshrink, {}, [-0.5, 0.5], [0.0, 0.0]),
    (F.hardsigmoid, {}, [-3.0, 3.0], [0.0, 0.0]),
    (F.hardswish, {}, [-3.0, 3.0], [0.0, 1.0]),
    (F.rrelu, {"lower": 0.1, "upper": 0.3}, [0.0], [0.2]),
]


@pytest.mark.parametrize("fn, kwargs, points, grads", KINKS,
                         ids=[k[0].__name__ for k in KINKS])
def test_gradients_at_the_kinks_are_pytorchs(fn, kwargs, points, grads):
    x = gpugrad.tensor(points, dtype="float64", requires_grad=True)
    fn(x, **kwargs).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), grads, rtol=1e-15)


def test_logsigmoid_and_mish_are_finite_for_huge_inputs():
    x = gpugrad.tensor([-1e4, -100.0, 100.0, 1e4], requires_grad=True)
    out = F.logsigmoid(x)
    np.testing.assert_allclose(out.numpy(), [-1e4, -100.0, 0.0, 0.0], atol=1e-30)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0, 0.0, 0.0], atol=1e-30)
    y = gpugrad.tensor([-1e4, 1e4], requires_grad=True)
    F.mish(y).sum().backward()
    assert np.isfinite(y.grad.numpy()).all()
    np.testing.assert_allclose(F.mish(y).numpy(), [0.0, 1e4], atol=1e-30)


def test_glu_halves_along_dim():
    x = np.random.default_rng(2).normal(size=(2, 6, 3))
    for dim in (1, -2):
        out = F.glu(gpugrad.tensor(x), dim=dim)
        a, b = x[:, :3], x[:, 3:]
        np.testing.assert_allclose(out.numpy(), a / (1 + np.exp(-b)), rtol=1e-14)
    t = gpugrad.tensor(x, requires_grad=True)
    assert gpugrad.gradcheck(lambda t: F.glu(t, 1), (t,))
    with pytest.raises(ValueError, match="even"):
        F.glu(gpugrad.ones(2, 3))
    with pytest.raises(ValueError, match="0-d"):
        F.glu(gpugrad.tensor(1.0))


def test_softmin_is_softmax_of_the_negation_with_the_implicit_dim():
    x = np.random.default_rng(3).normal(size=(3, 4))
    out = F.softmin(gpugrad.tensor(x), dim=1)
    np.testing.assert_allclose(out.numpy(), _np_softmax(-x, 1), rtol=1e-14)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        implicit = F.softmin(gpugrad.tensor(x))             # 2-d: dim 1
    np.testing.assert_allclose(implicit.numpy(), _np_softmax(-x, 1), rtol=1e-14)
    with pytest.warns(UserWarning):
        three = F.softmin(gpugrad.tensor(x[None]))          # 3-d: dim 0
    np.testing.assert_allclose(three.numpy(), np.ones((1, 3, 4)))
    assert F.softmin(gpugrad.tensor(x, dtype="float32"), 1, dtype="float64").dtype == \
        np.float64


def test_prelu_per_channel_and_shared_slopes_with_gradients():
    x = np.array([[[-1.0, 2.0], [-3.0, 4.0], [0.0, -5.0]]])         # (N=1, C=3, L=2)
    w = np.array([0.1, 0.2, 0.3])
    xt = gpugrad.tensor(x, requires_grad=True)
    wt = gpugrad.tensor(w, requires_grad=True)
    out = F.prelu(xt, wt)
    expected = np.where(x > 0, x, w[None, :, None] * x)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-15)
    out.sum().backward()
    # d/dw_c: the sum of the channel's non-positive inputs; d/dx: 1 or the slope (at 0 too)
    np.testing.assert_allclose(wt.grad.numpy(), [-1.0, -3.0, -5.0])
    np.testing.assert_allclose(xt.grad.numpy(), np.where(x > 0, 1.0, w[None, :, None] * 1.0))
    shared = F.prelu(gpugrad.tensor([-2.0, 3.0]), gpugrad.tensor([0.5]))
    assert shared.tolist() == [-1.0, 3.0]
    with pytest.raises(ValueError, match="channel"):
        F.prelu(gpugrad.ones(2, 3), gpugrad.ones(2))
    xg = gpugrad.tensor(sample((0.0,), (2, 3), seed=4), requires_grad=True)
    wg = gpugrad.tensor([0.3, -0.2, 0.7], dtype="float64", requires_grad=True)
    assert gpugrad.gradcheck(F.prelu, (xg, wg))


def test_rrelu_training_draws_one_slope_per_element_in_bounds():
    x = gpugrad.tensor(-np.ones(2000), requires_grad=True)
    out = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -out.numpy()
    assert 0.1 <= slopes.min() and slopes.max() < 0.3 and len(np.unique(slopes)) > 1000
    assert abs(slopes.mean() - 0.2) < 0.01
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes, rtol=1e-6)     # the slope drawn
    assert F.rrelu(gpugrad.tensor([2.0]), training=True).tolist() == [2.0]
    with pytest.raises(ValueError, match="lower"):
        F.rrelu(x, 0.5, 0.1)


INPLACE = [   # (function, kwargs): each with PyTorch's inplace= (or a trailing underscore)
    (F.relu, {}), (F.selu, {}), (F.celu, {"alpha": 1.5}), (F.mish, {}),
    (F.hardsigmoid, {}), (F.hardswish, {}), (F.threshold, {"threshold": 0.5, "value": 9.0}),
    (F.rrelu, {}), (F.leaky_relu, {}), (F.elu, {}),
]


@pytest.mark.parametrize("fn, kwargs", INPLACE, ids=[f[0].__name__ for f in INPLACE])
def test_inplace_writes_the_result_into_the_input_and_returns_it(fn, kwargs):
    values = sample((0.0, 0.5), (2, 3), seed=5)
    expected = fn(gpugrad.tensor(values), **kwargs).numpy()
    x = gpugrad.tensor(values)
    out = fn(x, **kwargs, inplace=True)
    assert out is x
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-15)
    leaf = gpugrad.tensor(values, requires_grad=True)
    y = leaf * 1.0
    fn(y, **kwargs, inplace=True).sum().backward()        # through the in-place write
    ref = gpugrad.tensor(values, requires_grad=True)
    fn(ref, **kwargs).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), ref.grad.numpy(), rtol=1e-15)


def test_trailing_underscore_forms():
    x = gpugrad.tensor([-1.0, 2.0])
    assert F.relu_(x) is x and x.tolist() == [0.0, 2.0]
    y = gpugrad.tensor([-1.0, 2.0])
    assert F.threshold_(y, 1.0, 7.0) is y and y.tolist() == [7.0, 2.0]
    z = gpugrad.tensor([-1.0, 2.0])
    assert F.rrelu_(z, 0.2, 0.2) is z and np.allclose(z.numpy(), [-0.2, 2.0])


def test_bad_arguments_raise_errors_that_say_what_to_do():
    with pytest.raises(ValueError, match="alpha"):
        F.celu(gpugrad.ones(2), alpha=0.0)
    with pytest.raises(ValueError, match="lambd"):
        F.softshrink(gpugrad.ones(2), -1.0)


# ------------------------------------------------------------------ the modules
MODULES = [   # (module, function, kwargs, PyTorch's repr)
    (nn.LogSigmoid(), F.logsigmoid, {}, "LogSigmoid()"),
    (nn.Mish(), F.mish, {}, "Mish()"),
    (nn.SELU(), F.selu, {}, "SELU()"),
    (nn.CELU(2.0), F.celu, {"alpha": 2.0}, "CELU(alpha=2.0)"),
    (nn.Softsign(), F.softsign, {}, "Softsign()"),
    (nn.Tanhshrink(), F.tanhshrink, {}, "Tanhshrink()"),
    (nn.GLU(0), F.glu, {"dim": 0}, "GLU(dim=0)"),
    (nn.Softmin(1), F.softmin, {"dim": 1}, "Softmin(dim=1)"),
    (nn.Threshold(0.1, 2.0), F.threshold, {"threshold": 0.1, "value": 2.0},
     "Threshold(threshold=0.1, value=2.0)"),
    (nn.Hardshrink(0.3), F.hardshrink, {"lambd": 0.3}, "Hardshrink(0.3)"),
    (nn.Softshrink(), F.softshrink, {}, "Softshrink(0.5)"),
    (nn.Hardsigmoid(), F.hardsigmoid, {}, "Hardsigmoid()"),
    (nn.Hardswish(), F.hardswish, {}, "Hardswish()"),
    (nn.RReLU(0.1, 0.3).eval(), F.rrelu, {"lower": 0.1, "upper": 0.3},
     "RReLU(lower=0.1, upper=0.3)"),
]


@pytest.mark.parametrize("module, fn, kwargs, text", MODULES, ids=[m[3] for m in MODULES])
def test_modules_match_the_functions_and_print_as_pytorchs(module, fn, kwargs, text):
    x = gpugrad.tensor(sample((), (4, 6), seed=3))
    np.testing.assert_array_equal(module(x).numpy(), fn(x, **kwargs).numpy())
    assert repr(module) == text
    assert list(module.parameters()) == [] and list(module.state_dict()) == []


def test_inplace_module_reprs():
    assert repr(nn.SELU(inplace=True)) == "SELU(inplace=True)"
    assert repr(nn.CELU(2.0, True)) == "CELU(alpha=2.0, inplace=True)"
    assert repr(nn.Threshold(0.1, 2.0, True)) == \
        "Threshold(threshold=0.1, value=2.0, inplace=True)"
    assert repr(nn.Hardswish(True)) == "Hardswish()"            # as PyTorch's
    x = gpugrad.tensor([-1.0, 4.0], dtype="float64")
    assert nn.Hardswish(True)(x) is x and x.tolist() == [-1.0 * 2.0 / 6.0, 4.0]


def test_prelu_module_parameter_state_dict_and_gradient():
    m = nn.PReLU(3, init=0.1)
    assert repr(m) == "PReLU(num_parameters=3)"
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert list(m.state_dict()) == ["weight"] and m.weight.shape == (3,)
    assert m.weight.tolist() == pytest.approx([0.1] * 3)
    x = gpugrad.tensor([[-1.0, -2.0, 3.0]])
    m(x).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), [-1.0, -2.0, 0.0])
    with gpugrad.no_grad():
        m.weight.fill_(0.5)
    m.reset_parameters()
    assert m.weight.tolist() == pytest.approx([0.1] * 3)
    assert nn.PReLU(dtype="float64").weight.dtype == np.float64
    assert nn.PReLU().weight.tolist() == [0.25]


def test_rrelu_module_draws_only_while_training():
    m = nn.RReLU(0.1, 0.3)
    x = -gpugrad.ones(500)
    assert len(np.unique(m(x).numpy())) > 100
    assert np.unique(m.eval()(x).numpy()).tolist() == pytest.approx([-0.2])


# ------------------------------------------------------------------ pairwise.py
def test_pairwise_distance_matches_numpy_for_each_p():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    for p in (1.0, 2.0, 3.0, math.inf):
        out = F.pairwise_distance(gpugrad.tensor(a), gpugrad.tensor(b), p=p)
        d = np.abs(a - b + 1e-6)
        ref = d.max(-1) if p == math.inf else (d ** p).sum(-1) ** (1 / p)
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-13)
    keep = F.pairwise_distance(gpugrad.tensor(a), gpugrad.tensor(b[0]), keepdim=True)
    assert keep.shape == (4, 1)                                 # b broadcast over rows
    np.testing.assert_allclose(keep.numpy()[:, 0],
                               np.linalg.norm(a - b[0] + 1e-6, axis=-1), rtol=1e-13)
    assert F.pairwise_distance(gpugrad.tensor([3.0, 0.0]), gpugrad.tensor([0.0, 4.0]),
                               eps=0.0).item() == pytest.approx(5.0)
    x1 = gpugrad.tensor(a, requires_grad=True)
    x2 = gpugrad.tensor(b, requires_grad=True)
    assert gpugrad.gradcheck(lambda u, v: F.pairwise_distance(u, v), (x1, x2))
    same = gpugrad.tensor(a, requires_grad=True)
    F.pairwise_distance(same, gpugrad.tensor(a)).sum().backward()   # eps: finite gradient
    assert np.isfinite(same.grad.numpy()).all()
    with pytest.raises(ValueError, match="broadcast"):
        F.pairwise_distance(gpugrad.ones(2, 3), gpugrad.ones(2, 4))


def test_pairwise_modules():
    a, b = gpugrad.randn(3, 4), gpugrad.randn(3, 4)
    m = nn.PairwiseDistance(p=1.0, keepdim=True)
    np.testing.assert_array_equal(m(a, b).numpy(),
                                  F.pairwise_distance(a, b, 1.0, keepdim=True).numpy())
    assert repr(m) == "PairwiseDistance()"
    assert repr(nn.CosineSimilarity()) == "CosineSimilarity()"
    c = nn.CosineSimilarity(dim=0)
    np.testing.assert_array_equal(c(a, b).numpy(), F.cosine_similarity(a, b, 0).numpy())


def test_bilinear_matches_einsum_and_its_module_is_initialised_as_pytorchs():
    rng = np.random.default_rng(7)
    x1, x2 = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 4))
    w, b = rng.normal(size=(6, 3, 4)), rng.normal(size=6)
    out = F.bilinear(gpugrad.tensor(x1), gpugrad.tensor(x2), gpugrad.tensor(w),
                     gpugrad.tensor(b))
    np.testing.assert_allclose(out.numpy(), np.einsum("nki,oij,nkj->nko", x1, w, x2) + b,
                               rtol=1e-13)
    small = (x1[0, :2], x2[0, :2], w, b)                   # (2, 3), (2, 4), w and b
    assert gpugrad.gradcheck(F.bilinear, tuple(gpugrad.tensor(v, requires_grad=True)
                                                for v in small))
    layer = nn.Bilinear(16, 3, 2)
    assert repr(layer) == "Bilinear(in1_features=16, in2_features=3, out_features=2, bias=True)"
    assert list(layer.state_dict()) == ["weight", "bias"] and layer.weight.shape == (2, 16, 3)
    bound = 1.0 / 4.0                                   # 1 / sqrt(in1_features)
    for p in (layer.weight, layer.bias):
        assert np.abs(p.numpy()).max() <= bound and np.abs(p.numpy()).max() > 0.8 * bound
    assert layer(gpugrad.randn(7, 16), gpugrad.randn(7, 3)).shape == (7, 2)
    plain = nn.Bilinear(2, 2, 1, bias=False)
    assert plain.bias is None and list(plain.state_dict()) == ["weight"]
    with pytest.raises(ValueError, match="input1 of shape"):
        F.bilinear(gpugrad.ones(2, 3), gpugrad.ones(2, 4), gpugrad.ones(1, 4, 4))


# ------------------------------------------------------------------ dropout_variants.py
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest():
    out = F.dropout1d(gpugrad.ones(8, 50, 6), p=0.4)
    values = out.numpy()
    assert (values == values[:, :, :1]).all()                   # one draw per channel
    assert np.isclose(values[values != 0], 1.0 / 0.6).all()
    assert abs((values == 0).mean() - 0.4) < 0.1
    unbatched = F.dropout1d(gpugrad.ones(40, 3), p=0.5).numpy()
    assert (unbatched == unbatched[:, :1]).all() and set(np.unique(unbatched)) == {0.0, 2.0}
    four = F.dropout2d(gpugrad.ones(4, 30, 2, 2), p=0.5).numpy()
    assert (four == four[:, :, :1, :1]).all()
    five = F.dropout3d(gpugrad.ones(2, 30, 2, 2, 2), p=0.5).numpy()
    assert (five == five[:, :, :1, :1, :1]).all()
    x = gpugrad.ones(2, 3, 4)
    assert F.dropout1d(x, training=False) is x and F.dropout1d(x, p=0.0) is x
    assert F.dropout1d(x, p=1.0).sum().item() == 0.0
    with pytest.raises(ValueError, match="2D or 3D"):
        F.dropout1d(gpugrad.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout1d(x, p=1.5)
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        F.dropout2d(x)


def test_channel_dropout_gradient_is_the_mask():
    x = gpugrad.ones(4, 20, 3, requires_grad=True)
    out = F.dropout1d(x, p=0.5)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.detach().numpy())


def test_alpha_dropout_values_moments_and_gradient():
    limit, p = 1.7580993408473766, 0.2
    a = 1.0 / math.sqrt((limit ** 2 * p + 1) * (1 - p))
    x = gpugrad.tensor(np.random.default_rng(8).normal(size=200000), requires_grad=True)
    out = F.alpha_dropout(x, p=p, training=True)
    kept_value = a * x.numpy() + a * limit * p
    dropped_value = -a * limit + a * limit * p
    values = out.numpy()
    kept = np.isclose(values, kept_value, rtol=1e-6)
    assert np.allclose(values[~kept], dropped_value, rtol=1e-6)
    assert abs((~kept).mean() - p) < 0.01
    assert abs(values.mean()) < 0.01 and abs(values.std() - 1.0) < 0.01   # SELU's moments
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, a, 0.0), rtol=1e-6)
    same = gpugrad.ones(3)
    assert F.alpha_dropout(same, 0.5) is same                    # training=False by default
    assert F.alpha_dropout(same, 1.0, training=True).tolist() == [0.0, 0.0, 0.0]
    feats = F.feature_alpha_dropout(gpugrad.zeros(4, 50, 5), 0.5, training=True).numpy()
    assert (feats == feats[:, :, :1]).all()


def test_dropout_modules_train_and_eval():
    for cls, shape in ((nn.Dropout1d, (2, 20, 3)), (nn.Dropout2d, (2, 20, 3, 3)),
                       (nn.Dropout3d, (2, 20, 2, 2, 2)), (nn.AlphaDropout, (40,)),
                       (nn.FeatureAlphaDropout, (2, 20, 3))):
        m = cls(0.5)
        assert repr(m) == f"{cls.__name__}(p=0.5, inplace=False)"
        x = gpugrad.ones(*shape)
        assert not np.array_equal(m(x).numpy(), x.numpy())
        assert m.eval()(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.AlphaDropout(-0.1)
    x = gpugrad.ones(3, 10, 2)
    assert nn.Dropout1d(0.5, inplace=True)(x) is x and set(np.unique(x.numpy())) <= {0.0, 2.0}


# ------------------------------------------------------------------ PyTorch 2.13 itself
TORCH_UNARY = [
    ("logsigmoid", {}), ("mish", {}), ("selu", {}), ("celu", {}), ("celu", {"alpha": 0.5}),
    ("softsign", {}), ("tanhshrink", {}), ("relu", {}),
    ("threshold", {"threshold": 0.5, "value": -1.0}), ("hardshrink", {}),
    ("hardshrink", {"lambd": 1.0}), ("softshrink", {}), ("softshrink", {"lambd": 1.0}),
    ("hardsigmoid", {}), ("hardswish", {}), ("rrelu", {"lower": 0.1, "upper": 0.3}),
    ("glu", {}), ("glu", {"dim": 0}), ("softmin", {"dim": 1}), ("softmin", {"dim": 0}),
]


@pytest.mark.parametrize("name, kwargs", TORCH_UNARY, ids=[f"{n}-{k}" for n, k in TORCH_UNARY])
def test_values_and_gradients_match_pytorch(name, kwargs):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    kinks = [0.0, -3.0, 3.0, 0.5, -0.5, 1.0, -1.0]
    values = np.concatenate([np.linspace(-8, 8, 93), kinks, [-1e4, -50.0, 50.0, 1e4]])
    values = values.reshape(4, 26)
    x = gpugrad.tensor(values, dtype="float64", requires_grad=True)
    out = getattr(F, name)(x, **kwargs)
    weights = np.random.default_rng(9).normal(size=tuple(out.shape))
    out.backward(gpugrad.tensor(weights))
    tx = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    tout = getattr(TF, name)(tx, **kwargs)
    tout.backward(torch.tensor(weights))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12,
                               atol=1e-14)
    # (PyTorch's hardsigmoid gradient uses 1/6 rounded to float32: 3e-8 apart)
    rtol = 1e-7 if name == "hardsigmoid" else 1e-12
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=1e-14)


def test_prelu_pairwise_and_bilinear_match_pytorch():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    rng = np.random.default_rng(10)
    cases = [
        ("prelu", [rng.normal(size=(3, 4, 2)), rng.normal(size=4)], {}),
        ("prelu", [np.array([-1.0, 0.0, 2.0]), np.array([0.3])], {}),
        ("pairwise_distance", [rng.normal(size=(5, 3)), rng.normal(size=(5, 3))], {}),
        ("pairwise_distance", [rng.normal(size=(5, 3)), rng.normal(size=3)],
         {"p": 1.0, "keepdim": True}),
        ("pairwise_distance", [rng.normal(size=(5, 3)), rng.normal(size=(5, 3))],
         {"p": 3.0, "eps": 0.1}),
        ("pairwise_distance", [rng.normal(size=3), rng.normal(size=3)], {}),
        ("bilinear", [rng.normal(size=(5, 3)), rng.normal(size=(5, 2)),
                      rng.normal(size=(4, 3, 2)), rng.normal(size=4)], {}),
        ("bilinear", [rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 2)),
                      rng.normal(size=(4, 3, 2))], {}),
    ]
    for name, arrays, kwargs in cases:
        ours = [gpugrad.tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        out = getattr(F, name)(*ours, **kwargs)
        tout = getattr(TF, name)(*theirs, **kwargs)
        assert tuple(out.shape) == tuple(tout.shape), name
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
        out.sum().backward()
        tout.sum().backward()
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12,
                                       atol=1e-14, err_msg=name)


@pytest.mark.parametrize("name", ["LogSigmoid", "Mish", "SELU", "CELU", "Softsign",
                                  "Tanhshrink", "GLU", "Softmin", "Hardshrink", "Softshrink",
                                  "Hardsigmoid", "Hardswish", "RReLU", "PReLU",
                                  "PairwiseDistance", "CosineSimilarity", "AlphaDropout",
                                  "Dropout1d", "Dropout2d", "Dropout3d", "FeatureAlphaDropout"])
def test_module_reprs_and_state_dicts_match_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(), getattr(torch.nn, name)()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(nn.Bilinear(2, 3, 4, bias=False)) == \
        repr(torch.nn.Bilinear(2, 3, 4, bias=False))
    assert list(nn.Bilinear(2, 3, 4).state_dict()) == \
        list(torch.nn.Bilinear(2, 3, 4).state_dict())


# --- NaN, infinities and integer inputs, as PyTorch's ---

NAN, INF = float("nan"), float("inf")
EDGES = [-INF, -4.0, -3.0, -0.3, 0.0, 0.3, 0.5, 3.0, INF, NAN]
# torch 2.13's values and gradients on EDGES (written out; checked below where installed)
EDGE_CASES = [
    ("threshold", lambda x: F.threshold(x, 0.5, -2.0),
     [-2, -2, -2, -2, -2, -2, -2, 3, INF, NAN], [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]),
    ("hardshrink", F.hardshrink,
     [-INF, -4, -3, 0, 0, 0, 0, 3, INF, NAN], [1, 1, 1, 0, 0, 0, 0, 1, 1, 1]),
    ("softshrink", F.softshrink,
     [-INF, -3.5, -2.5, -0.0, 0, 0, 0, 2.5, INF, NAN], [1, 1, 1, 0, 0, 0, 0, 1, 1, 1]),
    ("hardswish", F.hardswish,
     [NAN, -0.0, -0.0, -0.135, 0, 0.165, 0.2916667, 3, INF, NAN],
     [0, 0, 0, 0.4, 0.5, 0.6, 2 / 3, 1, 1, 1]),
]


def _signs(values):
    values = np.asarray(values, dtype=float)
    return np.signbit(np.where(np.isnan(values), 0.0, values))


@pytest.mark.parametrize("name, fn, values, grads", EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_nan_passes_through_and_infinities_have_pytorchs_gradients(name, fn, values, grads):
    x = gpugrad.tensor(EDGES, dtype="float64", requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = fn(x)
        y.sum().backward()
    np.testing.assert_allclose(y.numpy(), values, rtol=1e-6, atol=0)
    if name == "hardswish":     # -0.0 below -3 (torch's softshrink signs its 0s by dtype)
        np.testing.assert_array_equal(_signs(y.numpy()), _signs(values))
    np.testing.assert_allclose(x.grad.numpy(), grads, rtol=1e-6)


@pytest.mark.parametrize("name, fn, values, grads", EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_nan_and_infinities_match_pytorch(name, fn, values, grads):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    theirs = {"threshold": lambda t: TF.threshold(t, 0.5, -2.0)}.get(name, getattr(TF, name))
    t = torch.tensor(EDGES, dtype=torch.float64, requires_grad=True)
    y = theirs(t)
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), values, rtol=1e-6, atol=0)
    if name == "hardswish":
        np.testing.assert_array_equal(_signs(y.detach().numpy()), _signs(values))
    np.testing.assert_allclose(t.grad.numpy(), grads, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integer_inputs_keep_their_dtype(dtype):
    x = gpugrad.tensor([-3, -1, 0, 2, 7], dtype=dtype)
    for out, want in [(F.hardtanh(x), [-1, -1, 0, 1, 1]), (F.relu6(x), [0, 0, 0, 2, 6]),
                      (F.hardtanh(x, -1.5, 1.5), [-1, -1, 0, 1, 1]),
                      (F.threshold(x, 0.5, -2.0), [-2, -2, -2, 2, 7])]:
        assert out.dtype == x.dtype and out.tolist() == want
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    t = torch.tensor([-3, -1, 0, 2, 7], dtype=getattr(torch, dtype))
    for ours, theirs in [(F.hardtanh(x), TF.hardtanh(t)), (F.relu6(x), TF.relu6(t)),
                         (F.hardtanh(x, -1.5, 1.5), TF.hardtanh(t, -1.5, 1.5)),
                         (F.threshold(x, 0.5, -2.0), TF.threshold(t, 0.5, -2.0))]:
        assert str(theirs.dtype) == f"torch.{ours.dtype}" and ours.tolist() == theirs.tolist()


RELATED = ["Mish", "SELU", "Hardshrink", "Softshrink", "Hardsigmoid", "Hardswish", "Hardtanh",
           "ReLU6"]
# (module, the module it is an instance of besides itself): PyTorch's ReLU6 is a Hardtanh
SUBCLASSES = {("ReLU6", "Hardtanh")}


def test_activation_modules_are_instances_of_each_other_only_as_pytorchs():
    for a in RELATED:
        for b in RELATED:
            expected = a == b or (a, b) in SUBCLASSES
            assert isinstance(getattr(nn, a)(), getattr(nn, b)) == expected, (a, b)
    torch = pytest.importorskip("torch")
    for a in RELATED:
        for b in RELATED:
            assert isinstance(getattr(torch.nn, a)(), getattr(torch.nn, b)) == \
                isinstance(getattr(nn, a)(), getattr(nn, b)), (a, b)


def _constant_along(out, axes):
    """Whether ``out`` (NumPy) is constant along each of ``axes`` (the mask's pattern)."""
    return all(np.all(out == np.take(out, [0], axis=axis)) for axis in axes)


@pytest.mark.parametrize("shape, varies, constant", [
    ((32, 5, 6), (0,), (1, 2)),           # unbatched: one mask entry per index of axis 0
    ((30, 7), (0,), (1,)),
    ((40,), (0,), ()),
    ((30, 2, 3, 2, 1, 2), (0,), (1, 2, 3, 4, 5)),
])
def test_dropout3d_takes_other_ranks_as_one_sample_as_pytorch(shape, varies, constant):
    gpugrad.manual_seed(3)
    with pytest.warns(UserWarning, match="deprecated"):
        out = F.dropout3d(gpugrad.ones(*shape), 0.5).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0} and _constant_along(out, constant)
    assert not _constant_along(out, varies)         # (50 % of 30+ entries: never all equal)
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = TF.dropout3d(torch.ones(*shape), 0.5).numpy()
    assert _constant_along(theirs, constant) and not _constant_along(theirs, varies)


@pytest.mark.parametrize("fn", [F.feature_alpha_dropout, F.dropout2d])
def test_feature_dropout_of_a_vector_is_refused_as_pytorchs(fn):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="Feature dropout requires at least 2 dimensions"):
            fn(gpugrad.ones(6), 0.5, True)
        assert fn(gpugrad.ones(6), 0.5, False).tolist() == [1.0] * 6     # not dropping: fine
        assert fn(gpugrad.ones(6), 1.0, True).tolist() == [0.0] * 6
        torch = pytest.importorskip("torch")
        import torch.nn.functional as TF
        with pytest.raises(RuntimeError, match="Feature dropout requires at least 2"):
            getattr(TF, fn.__name__)(torch.ones(6), 0.5, True)


def test_f_dropout_is_the_variants_element_noise():
    """One implementation: the same draws give the same mask, and p is checked as before."""
    gpugrad.manual_seed(5)
    a = F.dropout(gpugrad.ones(50), 0.3).numpy()
    gpugrad.manual_seed(5)
    keep = gpugrad.rand(50).numpy() >= 0.3
    np.testing.assert_allclose(a, keep / 0.7, rtol=1e-6)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(gpugrad.ones(2), 1.5)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.Dropout(-0.1)
