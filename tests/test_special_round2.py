"""Round-2 fixes in gpugrad.special: log_ndtr's gradient at exactly x = -1 (where its two
branches meet), and the special functions in place (t.erfinv_(), t.polygamma_(n), ...)."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad import special


def _phi_over_Phi(x):           # d/dx log Phi(x) = phi(x) / Phi(x), hand-derived
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi) / (0.5 * math.erfc(-x / math.sqrt(2)))


@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-12), ("float32", 1e-6)])
def test_log_ndtr_full_gradient_at_the_branch_point(dtype, rtol):
    x = gpugrad.tensor([-1.0, -0.5, -3.0], dtype=dtype, requires_grad=True)
    (g,) = gpugrad.autograd.grad(special.log_ndtr(x).sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [_phi_over_Phi(v) for v in (-1, -.5, -3)],
                               rtol=rtol)
    # second derivative: d/dx (phi/Phi) = -r (x + r), r = phi/Phi
    (h,) = gpugrad.autograd.grad(g.sum(), [x])
    r = _phi_over_Phi(-1.0)
    assert abs(h.tolist()[0] - (-r * (-1.0 + r))) < 1e-5 * r


def test_log_ndtr_gradient_at_minus_one_as_torch():
    torch = pytest.importorskip("torch")
    t = torch.tensor([-1.0, -0.5], dtype=torch.float64, requires_grad=True)
    torch.special.log_ndtr(t).sum().backward()
    x = gpugrad.tensor([-1.0, -0.5], dtype="float64", requires_grad=True)
    special.log_ndtr(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-13)


IN_PLACE = [("erfinv_", (), special.erfinv), ("erfc_", (), special.erfc),
            ("erf_", (), special.erf), ("lgamma_", (), special.gammaln),
            ("digamma_", (), special.digamma), ("i0_", (), special.i0),
            ("log1p_", (), special.log1p), ("expm1_", (), special.expm1),
            ("polygamma_", (2,), lambda x: special.polygamma(2, x)),
            ("mvlgamma_", (2,), lambda x: special.multigammaln(x, 2))]


@pytest.mark.parametrize("method,args,fn", IN_PLACE, ids=[m for m, _, _ in IN_PLACE])
def test_special_in_place_methods(method, args, fn):
    values = [0.7, 0.9, 0.3] if method != "mvlgamma_" else [1.7, 2.9, 3.3]
    x = gpugrad.tensor(values, dtype="float64")
    assert getattr(x, method)(*args) is x
    np.testing.assert_array_equal(x.numpy(), fn(gpugrad.tensor(values, dtype="float64")).numpy())


def test_trunc_normal_recipe_with_erfinv_in_place():
    # torch.nn.init.trunc_normal_'s steps: uniform in [2l-1, 2u-1], erfinv_, * sqrt(2)
    gpugrad.manual_seed(0)
    t = gpugrad.empty(20000, dtype="float64").uniform_(2 * 0.02275 - 1, 2 * 0.97725 - 1)
    t.erfinv_()
    t.mul_(math.sqrt(2.0))
    assert t.min().item() >= -2.0 - 1e-3 and t.max().item() <= 2.0 + 1e-3
    assert abs(t.mean().item()) < 0.03


def test_in_place_methods_as_torch():
    torch = pytest.importorskip("torch")
    for method, args, _ in IN_PLACE:
        values = [0.7, 0.9, 0.3] if method != "mvlgamma_" else [1.7, 2.9, 3.3]
        x, t = gpugrad.tensor(values, dtype="float64"), torch.tensor(values, dtype=torch.float64)
        getattr(x, method)(*args)
        getattr(t, method)(*args)
        np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-13, err_msg=method)
