"""trapezoid / trapz / cumulative_trapezoid (gpugrad/ops/integration.py), as PyTorch's: the
values against NumPy's np.trapezoid (and running sums of its pairs), the gradients to y
and to the sample points x against finite differences in float64 (second order too), the
shapes and dtypes and the errors of PyTorch's checks."""

import numpy as np
import pytest

import gpugrad
from gpugrad.ops.integration import cumulative_trapezoid, trapezoid, trapz

RNG = np.random.default_rng(20)
Y = RNG.standard_normal((3, 5))
X = np.sort(RNG.standard_normal(5))


def _np_cumulative(y, x=None, dx=1.0, axis=-1):
    """scipy's cumulative_trapezoid without scipy: running sums of the pairs' areas."""
    y = np.moveaxis(y, axis, -1)
    widths = dx if x is None else np.diff(x, axis=-1)
    return np.moveaxis(np.cumsum((y[..., 1:] + y[..., :-1]) * widths / 2, axis=-1), -1, axis)


@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_values_match_numpy(dim):
    y = gpugrad.tensor(Y)
    axis_x = X if dim != 0 else X[:3]
    np.testing.assert_allclose(trapezoid(y, dim=dim).numpy(), np.trapezoid(Y, axis=dim),
                               rtol=1e-13)
    np.testing.assert_allclose(trapezoid(y, dx=0.25, dim=dim).numpy(),
                               np.trapezoid(Y, dx=0.25, axis=dim), rtol=1e-13)
    np.testing.assert_allclose(trapezoid(y, gpugrad.tensor(axis_x), dim=dim).numpy(),
                               np.trapezoid(Y, axis_x, axis=dim), rtol=1e-13)
    np.testing.assert_allclose(cumulative_trapezoid(y, dim=dim).numpy(),
                               _np_cumulative(Y, axis=dim), rtol=1e-13)
    np.testing.assert_allclose(cumulative_trapezoid(y, dx=0.25, dim=dim).numpy(),
                               _np_cumulative(Y, dx=0.25, axis=dim), rtol=1e-13)
    np.testing.assert_allclose(cumulative_trapezoid(y, gpugrad.tensor(axis_x), dim=dim).numpy(),
                               _np_cumulative(Y, x=axis_x, axis=dim), rtol=1e-13)


def test_hand_values_shapes_and_dtypes():
    y = gpugrad.tensor([[1.0, 2.0, 4.0], [0.0, 1.0, 0.0]])
    assert trapezoid(y).tolist() == [4.5, 1.0]                       # 1.5 + 3; 0.5 + 0.5
    assert trapezoid(y, dx=2).tolist() == [9.0, 2.0]
    assert trapz(y, gpugrad.tensor([0.0, 1.0, 3.0])).tolist() == [7.5, 1.5]
    assert cumulative_trapezoid(y).tolist() == [[1.5, 4.5], [0.5, 1.0]]
    assert trapezoid(y, dim=0).tolist() == [0.5, 1.5, 2.0]
    x_rows = gpugrad.tensor([[0.0, 1.0, 3.0], [0.0, 2.0, 4.0]])      # x of y's shape
    assert trapezoid(y, x_rows).tolist() == [7.5, 2.0]
    assert trapezoid(y, x_rows[:1]).tolist() == [7.5, 1.5]           # broadcast rows
    ints = gpugrad.tensor([[0, 1, 2], [3, 4, 5]])
    assert trapezoid(ints).dtype == "float32" and trapezoid(ints).tolist() == [2.0, 8.0]
    assert cumulative_trapezoid(ints, gpugrad.tensor([0, 1, 3])).dtype == "float32"
    assert trapezoid(y.astype("float16")).dtype == "float16"
    assert trapezoid(y, gpugrad.tensor([0.0, 1.0, 3.0], dtype="float64")).dtype == "float64"
    z = trapezoid(gpugrad.tensor([1 + 1j, 3 - 1j]))
    assert z.dtype == "complex64" and z.item() == 2 + 0j
    empty = gpugrad.zeros(2, 0)
    assert trapezoid(empty).tolist() == [0.0, 0.0]                   # no samples: 0
    assert trapezoid(empty, gpugrad.zeros(0)).tolist() == [0.0, 0.0]
    assert cumulative_trapezoid(empty).shape == (2, 0)
    assert trapezoid(gpugrad.ones(2, 1)).tolist() == [0.0, 0.0]      # one sample: 0
    assert cumulative_trapezoid(gpugrad.ones(2, 1)).shape == (2, 0)
    assert trapezoid(y, dx=gpugrad.tensor(2.0)).tolist() == [9.0, 2.0]


def test_gradients_match_finite_differences_to_second_order():
    y = gpugrad.tensor(Y, requires_grad=True)
    x = gpugrad.tensor(X, requires_grad=True)
    rng = np.random.default_rng(21)
    x_full = gpugrad.tensor(np.sort(rng.standard_normal((3, 5)), axis=1), requires_grad=True)
    calls = [
        (lambda y: trapezoid(y), (y,)),
        (lambda y: trapezoid(y, dx=0.3, dim=0), (y,)),
        (lambda y, x: trapezoid(y, x), (y, x)),
        (lambda y, x: trapezoid(y, x), (y, x_full)),
        (lambda y: cumulative_trapezoid(y, dx=1.5), (y,)),
        (lambda y, x: cumulative_trapezoid(y, x), (y, x)),
        (lambda y, x: cumulative_trapezoid(y, x, dim=1), (y, x_full)),
    ]
    for fn, inputs in calls:
        assert gpugrad.gradcheck(fn, inputs, check_forward_ad=True)
        assert gpugrad.gradgradcheck(fn, inputs)


def test_gradient_to_y_by_hand():
    y = gpugrad.tensor([1.0, 2.0, 4.0, 8.0], requires_grad=True)
    trapezoid(y, dx=2.0).backward()
    assert y.grad.tolist() == [1.0, 2.0, 2.0, 1.0]                   # dx * (1/2, 1, ..., 1/2)
    x = gpugrad.tensor([0.0, 1.0, 3.0, 4.0], requires_grad=True)
    y.grad = None
    trapezoid(y, x).backward()
    # d/dy_i = (x_{i+1} - x_{i-1}) / 2; d/dx_i = (y_{i-1} - y_{i+1}) / 2 (ends one-sided)
    assert y.grad.tolist() == [0.5, 1.5, 1.5, 0.5]
    assert x.grad.tolist() == [-1.5, -1.5, -3.0, 6.0]


@pytest.mark.parametrize("fn", [trapezoid, cumulative_trapezoid])
def test_errors(fn):
    y = gpugrad.ones(2, 3)
    name = fn.__name__
    with pytest.raises(TypeError, match="both x .* and dx"):
        fn(y, gpugrad.ones(3), dx=1.0)
    with pytest.raises(RuntimeError, match="one `x` value for each sample point"):
        fn(y, gpugrad.ones(2))
    with pytest.raises(IndexError, match="0-d"):
        fn(gpugrad.tensor(1.0))
    with pytest.raises(IndexError, match="out of range"):
        fn(y, dim=2)
    with pytest.raises(TypeError, match="bool"):
        fn(gpugrad.ones(3, dtype="bool"))
    with pytest.raises(TypeError, match="bool"):
        fn(y, gpugrad.ones(3, dtype="bool"))
    with pytest.raises(TypeError, match="real number"):
        fn(y, dx=1j)
    with pytest.raises(TypeError, match="x must be a tensor"):
        fn(y, 2.0)
    with pytest.raises(TypeError, match=name):
        fn([1.0, 2.0])


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(22)
    y32 = Y.astype(np.float32)
    x_full = np.sort(rng.standard_normal((3, 5)), axis=1)
    cases = [((), {}), ((), {"dx": 0.3}), ((), {"dim": 0}), (("x",), {}),
             (("x_full",), {}), (("x_row",), {}), (("x_col",), {"dim": 0})]
    points = {"x": X, "x_full": x_full, "x_row": x_full[:1], "x_col": x_full[:, :1]}
    for name in ("trapezoid", "cumulative_trapezoid", "trapz"):
        for args, kwargs in cases:
            for dtype in ("float32", "float64"):
                data = y32 if dtype == "float32" else Y
                ours_y = gpugrad.tensor(data, requires_grad=True)
                theirs_y = torch.tensor(data, requires_grad=True)
                ours_args = [gpugrad.tensor(points[a].astype(dtype)) for a in args]
                theirs_args = [torch.tensor(points[a].astype(dtype)) for a in args]
                ours = getattr(gpugrad.ops.integration, name)(ours_y, *ours_args, **kwargs)
                theirs = getattr(torch, name)(theirs_y, *theirs_args, **kwargs)
                what = f"{name}{args}{kwargs} {dtype}"
                rtol = 1e-6 if dtype == "float32" else 1e-13
                np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=rtol,
                                           atol=rtol, err_msg=what)
                weights = rng.standard_normal(tuple(theirs.shape)).astype(dtype)
                (ours * gpugrad.tensor(weights)).sum().backward()
                (theirs * torch.tensor(weights)).sum().backward()
                np.testing.assert_allclose(ours_y.grad.numpy(), theirs_y.grad.numpy(),
                                           rtol=rtol, atol=rtol, err_msg=what)


def test_exported_where_torchs_are():
    if not hasattr(gpugrad, "trapezoid"):
        pytest.skip("gpugrad/__init__.py does not export trapezoid yet (integration.py's "
                    "three names go next to gpugrad.diff)")
    assert gpugrad.trapezoid is trapezoid and gpugrad.trapz is trapz
    assert gpugrad.cumulative_trapezoid is cumulative_trapezoid
    assert {"trapezoid", "trapz", "cumulative_trapezoid"} <= set(gpugrad.__all__)
