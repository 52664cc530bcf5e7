"""Ops that need an order (sort, max, <, floor...) refuse complex tensors with an error that
names the op, as PyTorch's do, instead of NumPy's lexicographic order (whose "winner" would
even get a gradient). == and != stay, as do sgn and nansum."""

import math

import numpy as np
import pytest

import gpugrad

Z = np.array([[1 + 2j, -3 + 0.5j, 2 - 1j]])

# name in the error: (gpugrad call, torch call) on a complex tensor x
REFUSED = {
    "sort": (lambda g, x: g.sort(x, 1), lambda t, x: t.sort(x, 1)),
    "argsort": (lambda g, x: g.argsort(x, 1), lambda t, x: t.argsort(x, 1)),
    "topk": (lambda g, x: g.topk(x, 2), lambda t, x: t.topk(x, 2)),
    "msort": (lambda g, x: g.msort(x), lambda t, x: t.msort(x)),
    "kthvalue": (lambda g, x: g.kthvalue(x, 1, 1), lambda t, x: t.kthvalue(x, 1, 1)),
    "max": (lambda g, x: x.max(dim=1), lambda t, x: x.max(dim=1)),
    "min": (lambda g, x: x.min(), lambda t, x: x.min()),
    "median": (lambda g, x: g.median(x, 1), lambda t, x: t.median(x, 1)),
    "nanmedian": (lambda g, x: g.nanmedian(x), lambda t, x: t.nanmedian(x)),
    "cummax": (lambda g, x: g.cummax(x, 1), lambda t, x: t.cummax(x, 1)),
    "cummin": (lambda g, x: g.cummin(x, 1), lambda t, x: t.cummin(x, 1)),
    "amax": (lambda g, x: g.amax(x, 1), lambda t, x: t.amax(x, 1)),
    "amin": (lambda g, x: g.amin(x), lambda t, x: t.amin(x)),
    "aminmax": (lambda g, x: g.aminmax(x), lambda t, x: t.aminmax(x)),
    "argmax": (lambda g, x: g.argmax(x), lambda t, x: t.argmax(x)),
    "argmin": (lambda g, x: g.argmin(x, 1), lambda t, x: t.argmin(x, 1)),
    "fmax": (lambda g, x: g.fmax(x, x), lambda t, x: t.fmax(x, x)),
    "fmin": (lambda g, x: g.fmin(x, x), lambda t, x: t.fmin(x, x)),
    "lt": (lambda g, x: x < x, lambda t, x: x < x),
    "le": (lambda g, x: x <= 1.0, lambda t, x: x <= 1.0),
    "gt": (lambda g, x: x > 0, lambda t, x: x > 0),
    "ge": (lambda g, x: g.ge(x, x), lambda t, x: t.ge(x, x)),
    "sign": (lambda g, x: g.sign(x), lambda t, x: t.sign(x)),
    "floor": (lambda g, x: g.floor(x), lambda t, x: t.floor(x)),
    "ceil": (lambda g, x: g.ceil(x), lambda t, x: t.ceil(x)),
    "round": (lambda g, x: g.round(x), lambda t, x: t.round(x)),
    "trunc": (lambda g, x: g.trunc(x), lambda t, x: t.trunc(x)),
    "frac": (lambda g, x: g.frac(x), lambda t, x: t.frac(x)),
    "maximum": (lambda g, x: g.maximum(x, x), lambda t, x: t.maximum(x, x)),
    "minimum": (lambda g, x: g.minimum(x, 2.0), lambda t, x: t.minimum(x, t.tensor(2.0))),
    "clamp": (lambda g, x: g.clamp(x, min=0), lambda t, x: t.clamp(x, min=0)),
    "relu": (lambda g, x: g.nn.functional.relu(x), lambda t, x: t.nn.functional.relu(x)),
    "softmax": (lambda g, x: g.softmax(x, 1), lambda t, x: t.softmax(x, 1)),
    "log_softmax": (lambda g, x: x.log_softmax(1), lambda t, x: x.log_softmax(1)),
    "unique": (lambda g, x: g.unique(x), lambda t, x: t.unique(x)),
    "erf": (lambda g, x: g.erf(x), lambda t, x: t.erf(x)),
    "leaky_relu": (lambda g, x: g.nn.functional.leaky_relu(x, 0.1),
                   lambda t, x: t.nn.functional.leaky_relu(x, 0.1)),
    "hardtanh": (lambda g, x: g.nn.functional.hardtanh(x),
                 lambda t, x: t.nn.functional.hardtanh(x)),
    "searchsorted": (lambda g, x: g.searchsorted(x, x), lambda t, x: t.searchsorted(x, x)),
    "bucketize": (lambda g, x: g.bucketize(x, x[0]), lambda t, x: t.bucketize(x, x[0])),
    "lgamma": (lambda g, x: g.lgamma(x), lambda t, x: t.lgamma(x)),
    "digamma": (lambda g, x: g.digamma(x), lambda t, x: t.digamma(x)),
    "polygamma": (lambda g, x: g.polygamma(1, x), lambda t, x: t.polygamma(1, x)),
    "glu": (lambda g, x: g.nn.functional.glu(x[:, :2]), lambda t, x: t.nn.functional.glu(x[:, :2])),
    "mse_loss": (lambda g, x: g.nn.functional.mse_loss(x, 2 * x),
                 lambda t, x: t.nn.functional.mse_loss(x, 2 * x)),
    "huber_loss": (lambda g, x: g.nn.functional.huber_loss(x, 2 * x),
                   lambda t, x: t.nn.functional.huber_loss(x, 2 * x)),
    "smooth_l1_loss": (lambda g, x: g.nn.functional.smooth_l1_loss(x, 2 * x),
                       lambda t, x: t.nn.functional.smooth_l1_loss(x, 2 * x)),
}


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_ordered_ops_refuse_complex_tensors_naming_the_op(name, requires_grad):
    x = gpugrad.tensor(Z, requires_grad=requires_grad)
    with pytest.raises(NotImplementedError, match=rf"^{name} is not implemented for complex "
                                                  rf"tensors \(complex128\)"):
        REFUSED[name][0](gpugrad, x)


def test_a_python_complex_operand_is_refused_too():
    with pytest.raises(NotImplementedError, match="lt is not implemented"):
        gpugrad.tensor([1.0]) < 1j
    with pytest.raises(NotImplementedError, match="max is not implemented"):
        gpugrad.max(gpugrad.tensor([1.0]), gpugrad.tensor([1j]))


# the layers and functional forms that route to a refusing record (the error names the record)
ROUTED = {
    "hardtanh": [lambda g, x: g.nn.functional.relu6(x), lambda g, x: g.nn.Hardtanh()(x),
                 lambda g, x: g.nn.ReLU6()(x),
                 lambda g, x: g.nn.functional.hardtanh(x, 0, 2, True)],
    "leaky_relu": [lambda g, x: g.nn.LeakyReLU()(x),
                   lambda g, x: g.nn.functional.leaky_relu_(x)],
    "rrelu": [lambda g, x: g.nn.functional.rrelu(x), lambda g, x: g.nn.RReLU()(x),
              lambda g, x: g.nn.functional.rrelu(x, training=True)],
}


@pytest.mark.parametrize("name", sorted(ROUTED))
def test_activation_layers_refuse_complex_tensors(name):
    for call in ROUTED[name]:
        with pytest.raises(NotImplementedError, match=rf"^{name} is not implemented for complex"):
            call(gpugrad, gpugrad.tensor(Z))


def test_a_complex_clamp_bound_is_refused_and_real_activations_still_work():
    r = gpugrad.tensor([0.5, 1.0, 2.0])
    for low, high in ((0, 1j), (None, 1j), (np.complex64(1), None)):
        with pytest.raises(NotImplementedError, match="^clamp is not implemented for complex"):
            gpugrad.clamp(r, low, high)
    F = gpugrad.nn.functional
    x = gpugrad.tensor([-2.0, 0.5, 3.0])
    assert F.leaky_relu(x, 0.5).tolist() == [-1.0, 0.5, 3.0]
    assert F.hardtanh(x).tolist() == [-1.0, 0.5, 1.0] and F.relu6(x).tolist() == [0.0, 0.5, 3.0]
    assert gpugrad.searchsorted(gpugrad.tensor([1.0, 3.0]), x).tolist() == [0, 0, 1]
    assert gpugrad.lgamma(gpugrad.tensor([1.0, 4.0])).tolist() == pytest.approx([0.0,
                                                                                 math.log(6)])
    assert F.mse_loss(x, gpugrad.zeros(3)).item() == pytest.approx((4 + 0.25 + 9) / 3)


def test_the_error_says_what_to_use_instead():
    with pytest.raises(NotImplementedError, match="use gpugrad.sgn"):
        gpugrad.sign(gpugrad.tensor(Z))
    with pytest.raises(NotImplementedError, match=r"Order by magnitude \(x.abs\(\)\)"):
        gpugrad.sort(gpugrad.tensor(Z))


def test_unordered_ops_still_take_complex_tensors():
    x = gpugrad.tensor(Z)
    assert (x == x).all().item() and not (x != x).any().item()
    np.testing.assert_allclose(gpugrad.sgn(x).numpy(), Z / np.abs(Z), rtol=1e-6)
    # nansum counts a complex NaN (either part NaN) as zero
    w = gpugrad.tensor([1 + 2j, complex(np.nan, 1.0), 3 - 1j], dtype="complex128")
    assert gpugrad.nansum(w).item() == 4 + 1j
    # real tensors keep their ordered ops
    r = gpugrad.tensor([3.0, 1.0, 2.0])
    assert gpugrad.sort(r).values.tolist() == [1.0, 2.0, 3.0] and (r > 1.5).tolist() == [
        True, False, True]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_torch_refuses_the_same_ops(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):            # (NotImplementedError is a RuntimeError)
        REFUSED[name][1](torch, torch.tensor(Z))


def test_cosine_similarity_refuses_complex_and_igamma_is_gammainc():
    with pytest.raises(NotImplementedError, match="cosine_similarity"):
        gpugrad.nn.functional.cosine_similarity(gpugrad.tensor(Z), gpugrad.tensor(Z))
    a, x = gpugrad.tensor([1.0], dtype="float64"), gpugrad.tensor([2.0], dtype="float64")
    assert gpugrad.igamma(a, x).item() == pytest.approx(1 - np.exp(-2.0))    # P(1, x)
    assert gpugrad.igammac(a, x).item() == pytest.approx(np.exp(-2.0))


def test_gammainc_and_erfinv_refuse_complex_rather_than_drop_the_imaginary_part():
    z = gpugrad.tensor(Z)
    for name, call in (("gammainc", lambda: gpugrad.igamma(z, z)),
                       ("gammaincc", lambda: gpugrad.special.gammaincc(z, z)),
                       ("erfinv", lambda: gpugrad.erfinv(z))):
        with pytest.raises(NotImplementedError, match=f"{name} is not implemented for complex"):
            call()
