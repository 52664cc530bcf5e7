"""max and min share their gradient equally among tied elements, as PyTorch's max() and
amax (README, ops/reduce.py): d max(x)/dx is 1/k on each of the k elements equal to the
maximum and 0 elsewhere, in the values-only forms (full reduction, axis=, keepdims, NumPy's
np.max/np.amax on a tensor), in forward mode (the tangent of the max is the mean of the tied
tangents) and under vmap. The (values, indices) form max(x, dim) sends the whole gradient to
the returned index, as PyTorch's. Every expected value is written out by hand."""

import numpy as np
import pytest

import gpugrad
from gpugrad import func

THIRD = 1.0 / 3.0


def grad_of(reduce, x, weights=None):
    """d(sum(weights * reduce(x)))/dx for a float64 tensor made from ``x``."""
    t = gpugrad.tensor(x, dtype="float64", requires_grad=True)
    out = reduce(t)
    if weights is not None:
        out = out * gpugrad.tensor(weights, dtype="float64")
    out.sum().backward()
    return t.grad.numpy()


@pytest.mark.parametrize("name, x, expected", [
    ("max", [1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),
    ("max", [3.0, 1.0, 3.0, 3.0], [THIRD, 0.0, THIRD, THIRD]),
    ("max", [2.0, 2.0, 2.0, 2.0], [0.25] * 4),
    ("max", [5.0, 1.0, 3.0], [1.0, 0.0, 0.0]),                # no tie: all of it
    ("min", [2.0, 1.0, 1.0, 5.0], [0.0, 0.5, 0.5, 0.0]),
    ("min", [-4.0, 0.0, -4.0], [0.5, 0.0, 0.5]),
])
def test_full_reduction_shares_the_gradient_among_ties(name, x, expected):
    np.testing.assert_array_equal(grad_of(lambda t: getattr(t, name)(), x), expected)
    np.testing.assert_array_equal(grad_of(lambda t: getattr(gpugrad, name)(t), x), expected)


ROWS = [[1.0, 3.0, 3.0],
        [2.0, 2.0, 2.0],
        [5.0, 0.0, 5.0]]


def test_max_over_an_axis_shares_within_each_row_and_keeps_the_cotangent():
    # the cotangent of row i is (i + 1): each row's share is scaled by it
    expected = [[0.0, 0.5, 0.5],
                [2 * THIRD, 2 * THIRD, 2 * THIRD],
                [1.5, 0.0, 1.5]]
    got = grad_of(lambda t: t.max(axis=1), ROWS, weights=[1.0, 2.0, 3.0])
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    got = grad_of(lambda t: t.max(axis=1, keepdims=True), ROWS, weights=[[1.0], [2.0], [3.0]])
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    got = grad_of(lambda t: t.max(axis=-1), ROWS, weights=[1.0, 2.0, 3.0])
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_min_over_axis_0_shares_within_each_column():
    # each column holds its minimum two or three times: 1 1 7, 0 4 0, 2 2 2
    x = [[1.0, 0.0, 2.0],
         [1.0, 4.0, 2.0],
         [7.0, 0.0, 2.0]]
    expected = [[0.5, 0.5, THIRD],
                [0.5, 0.0, THIRD],
                [0.0, 0.5, THIRD]]
    np.testing.assert_allclose(grad_of(lambda t: t.min(axis=0), x), expected, rtol=1e-15)


def test_max_over_several_axes_shares_over_all_of_them():
    x = np.array([[[1.0, 4.0], [4.0, 0.0]],
                  [[2.0, 2.0], [2.0, 2.0]]])       # slice 0: two 4s; slice 1: four 2s
    expected = [[[0.0, 0.5], [0.5, 0.0]],
                [[0.25, 0.25], [0.25, 0.25]]]
    got = grad_of(lambda t: t.max(axis=(1, 2)), x)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name, expected_indices", [("max", [1, 0, 0]), ("min", [0, 0, 1])])
def test_dim_form_returns_indices_and_sends_the_gradient_to_them(name, expected_indices):
    captured = {}

    def values(t):
        result = getattr(t, name)(dim=1)
        captured["indices"] = result.indices.tolist()
        return result.values

    got = grad_of(values, ROWS)
    assert captured["indices"] == expected_indices           # the first of the tied ones
    expected = {"max": [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]],
                "min": [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]}[name]
    np.testing.assert_array_equal(got, expected)
    got = grad_of(lambda t: getattr(t, name)(1, keepdim=True).values, ROWS)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("function, expected", [
    (np.max, [0.0, 0.5, 0.5, 0.0]), (np.amax, [0.0, 0.5, 0.5, 0.0]),
    (np.min, [0.5, 0.0, 0.0, 0.5]), (np.amin, [0.5, 0.0, 0.0, 0.5]),
])
def test_numpy_max_and_amax_on_a_tensor_share_ties(function, expected):
    t = gpugrad.tensor([-1.0, 6.0, 6.0, -1.0], dtype="float64", requires_grad=True)
    out = function(t)
    assert isinstance(out, gpugrad.Tensor)
    out.backward()
    np.testing.assert_array_equal(t.grad.numpy(), expected)


def test_forward_mode_takes_the_mean_of_the_tied_tangents():
    x = gpugrad.tensor([1.0, 3.0, 3.0], dtype="float64")
    v = gpugrad.tensor([10.0, 1.0, 2.0], dtype="float64")
    _, tangent = func.jvp(lambda t: t.max(), (x,), (v,))
    assert tangent.item() == 1.5                               # (1 + 2) / 2, not 1 or 3
    rows = gpugrad.tensor(ROWS, dtype="float64")
    v = gpugrad.tensor([[9.0, 1.0, 2.0], [3.0, 6.0, 9.0], [4.0, 8.0, 0.0]], dtype="float64")
    _, tangent = func.jvp(lambda t: t.min(axis=1), (rows,), (v,))
    np.testing.assert_allclose(tangent.numpy(), [9.0, 6.0, 8.0], rtol=1e-15)
    _, tangent = func.jvp(lambda t: t.max(axis=1), (rows,), (v,))
    np.testing.assert_allclose(tangent.numpy(), [1.5, 6.0, 2.0], rtol=1e-15)


def test_per_example_gradients_under_vmap_share_ties_per_example():
    xs = gpugrad.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [4.0, 4.0, 4.0]], dtype="float64")
    got = func.vmap(func.grad(lambda v: v.max()))(xs)
    np.testing.assert_allclose(got.numpy(), [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0], [THIRD] * 3],
                               rtol=1e-15)
    got = func.vmap(func.grad(lambda v: v.min()))(xs)
    np.testing.assert_allclose(got.numpy(), [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [THIRD] * 3],
                               rtol=1e-15)


def test_float32_ties_are_shared_too():
    t = gpugrad.tensor([[7.0, 7.0], [1.0, 0.0]], requires_grad=True)       # float32
    t.max().backward()
    assert t.grad.dtype == np.float32
    assert t.grad.tolist() == [[0.5, 0.5], [0.0, 0.0]]
