"""The reverse and forward rules of max / min / amax / amin / aminmax over an axis with NaN
give PyTorch's values (a NaN slice's gradient is NaN throughout, as ``torch.amax``; ties
elsewhere share) without NumPy RuntimeWarnings: the rules no longer divide 0 by 0."""

import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad.autograd import forward_ad

NAN = float("nan")
DATA = [[1.0, NAN, 2.0], [NAN, NAN, 5.0], [3.0, 3.0, 1.0]]

# (call, its gradient under .sum().backward(), by hand: torch.amax's rule)
CASES = {
    "amax()": (lambda x: x.amax(), [[NAN] * 3] * 3),
    "amin(1)": (lambda x: x.amin(1), [[NAN] * 3, [NAN] * 3, [0.0, 0.0, 1.0]]),
    "gpugrad.amax(x, 0)": (lambda x: gpugrad.amax(x, 0),
                           [[NAN, NAN, 0.0], [NAN, NAN, 1.0], [NAN, NAN, 0.0]]),
    "max(axis=1)": (lambda x: x.max(axis=1), [[NAN] * 3, [NAN] * 3, [0.5, 0.5, 0.0]]),
    "min(axis=(0, 1))": (lambda x: x.min(axis=(0, 1)), [[NAN] * 3] * 3),
    "aminmax().max": (lambda x: gpugrad.aminmax(x, dim=1).max,
                      [[NAN] * 3, [NAN] * 3, [0.5, 0.5, 0.0]]),
    "max() (NaNs share)": (lambda x: x.max(), [[0, 1 / 3, 0], [1 / 3, 1 / 3, 0], [0, 0, 0]]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_nan_extreme_rules_give_torchs_values_without_warnings(name):
    call, expected = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = gpugrad.tensor(DATA, dtype="float64", requires_grad=True)
        call(x).sum().backward()
        x2 = gpugrad.tensor(DATA, dtype="float64", requires_grad=True)
        (g,) = gpugrad.autograd.grad(call(x2).sum(), x2, create_graph=True)
        with forward_ad.dual_level():
            dual = forward_ad.make_dual(gpugrad.tensor(DATA, dtype="float64"),
                                        gpugrad.ones(3, 3, dtype="float64"))
            tangent = forward_ad.unpack_dual(call(dual)).tangent
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-15)
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-15)
    # the tangent along all-ones: the sum of each slice's weights (NaN for a NaN slice)
    weights = np.asarray(expected)
    assert np.isnan(tangent.numpy()).any() == np.isnan(weights).any()


def test_nan_extreme_rules_under_vmap_and_float32_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = gpugrad.func.vmap(gpugrad.func.grad(gpugrad.amax))(
            gpugrad.tensor([[1.0, NAN], [1.0, 2.0]]))
        x = gpugrad.tensor(DATA, requires_grad=True)
        x.amax(1).sum().backward()
    np.testing.assert_array_equal(rows.numpy(), [[NAN, NAN], [0.0, 1.0]])
    np.testing.assert_array_equal(x.grad.numpy(), np.float32(CASES["max(axis=1)"][1]))


def test_nan_extreme_gradients_match_torch():
    torch = pytest.importorskip("torch")
    calls = {"amax": lambda m, x: m.amax(x, 1), "amin": lambda m, x: m.amin(x, (0, 1)),
             "amax()": lambda m, x: m.amax(x), "max()": lambda m, x: x.max(),
             "aminmax": lambda m, x: m.aminmax(x, dim=1).max}
    for name, call in calls.items():
        ours = gpugrad.tensor(DATA, dtype="float64", requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            call(gpugrad, ours).sum().backward()
        theirs = torch.tensor(DATA, dtype=torch.float64, requires_grad=True)
        call(torch, theirs).sum().backward()
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy(), err_msg=name)
