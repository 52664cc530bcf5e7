"""NaN-aware statistics and dtype views (ops/nan_statistics.py, order_statistics.py's
nanquantile, dtype_view.py): ``nanmedian``, ``fmax``/``fmin``, ``msort``, ``nanquantile``
and ``x.view(dtype)``, against hand-derived values and float64 NumPy (np.nanquantile,
np.fmax), gradients by hand and by gradcheck, and PyTorch itself where it is installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad.ops.dtype_view import view, view_dtype

NAN = float("nan")
RNG = np.random.default_rng(11)
GRID = [[1.0, NAN, 3.0, 2.0], [NAN, NAN, NAN, NAN], [2.0, 2.0, NAN, 1.0], [5.0, 4.0, 3.0, 2.0]]


def leaf(a, dtype="float64"):
    return gpugrad.tensor(np.asarray(a), dtype=dtype, requires_grad=True)


def test_nanmedian_along_a_dim_gives_values_indices_and_the_gradient_at_the_index():
    x = leaf(GRID)
    values, indices = gpugrad.nanmedian(x, 1)
    np.testing.assert_array_equal(values.detach().numpy(), [2.0, NAN, 2.0, 3.0])
    assert indices.tolist() == [3, 0, 0, 2]        # all NaN: the first NaN
    assert type(x.nanmedian(1)).__name__ == "nanmedian"
    values[[0, 2, 3]].sum().backward()
    want = np.zeros((4, 4))
    want[0, 3] = want[2, 0] = want[3, 2] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), want)
    kept = x.nanmedian(dim=0, keepdim=True)
    assert kept.values.shape == (1, 4) and kept.indices.shape == (1, 4)


def test_nanmedian_of_all_elements_shares_the_gradient_among_ties():
    y = leaf([1.0, 2.0, 2.0, NAN, 2.0, 5.0])
    m = y.nanmedian()
    m.backward()
    assert m.item() == 2.0
    np.testing.assert_allclose(y.grad.numpy(), [0, 1 / 3, 1 / 3, 0, 1 / 3, 0])
    assert np.isnan(gpugrad.nanmedian(gpugrad.tensor([NAN, NAN])).item())
    assert gpugrad.nanmedian(gpugrad.tensor([3, 1, 2, 4])).item() == 2      # lower median
    a = RNG.standard_normal(9)
    a[[2, 5]] = np.nan
    assert gpugrad.tensor(a).nanmedian().item() == np.sort(a[~np.isnan(a)])[3]


def test_fmax_and_fmin_ignore_nan_and_send_ties_to_the_first_argument():
    a = np.array([1.0, NAN, NAN, 2.0, 4.0])
    b = np.array([NAN, 2.0, NAN, 2.0, 3.0])
    x, y = leaf(a), leaf(b)
    out = gpugrad.fmax(x, y)
    np.testing.assert_array_equal(out.detach().numpy(), np.fmax(a, b))
    out.backward(gpugrad.ones_like(out))
    assert x.grad.tolist() == [1, 0, 1, 1, 1] and y.grad.tolist() == [0, 1, 0, 0, 0]
    x, y = leaf(a), leaf(b)
    out = x.fmin(y)
    np.testing.assert_array_equal(out.detach().numpy(), np.fmin(a, b))
    out.backward(gpugrad.ones_like(out))
    assert x.grad.tolist() == [1, 0, 1, 1, 0] and y.grad.tolist() == [0, 1, 0, 0, 1]
    assert gpugrad.fmax(gpugrad.tensor([1, 5]), gpugrad.tensor([2.0, 3.0])).tolist() == [2, 5]
    p, q = RNG.standard_normal((3, 1)), RNG.standard_normal((1, 4))
    assert gpugrad.gradcheck(gpugrad.fmax, (leaf(p), leaf(q)))


def test_msort_sorts_along_the_first_dimension():
    a = RNG.standard_normal((4, 3))
    x = leaf(a)
    np.testing.assert_array_equal(gpugrad.msort(x).detach().numpy(), np.sort(a, 0))
    np.testing.assert_array_equal(x.msort().detach().numpy(), np.sort(a, 0))
    assert gpugrad.gradcheck(gpugrad.msort, (leaf(a),))


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_nanquantile_matches_numpy(interpolation):
    a = np.array(GRID)
    q = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    got = gpugrad.nanquantile(gpugrad.tensor(a), gpugrad.tensor(q), dim=1,
                              interpolation=interpolation)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanquantile(a, q, axis=1, method=interpolation)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    flat = gpugrad.tensor(a).nanquantile(0.3, interpolation=interpolation).item()
    assert flat == pytest.approx(np.nanquantile(a, 0.3, method=interpolation))


def test_nanquantile_gradient_goes_to_the_two_neighbours():
    z = leaf([1.0, NAN, 3.0, 2.0, 7.0])
    gpugrad.nanquantile(z, 0.3).backward()         # rank 0.9 between 1 (idx 0) and 2 (idx 3)
    np.testing.assert_allclose(z.grad.numpy(), [0.1, 0, 0, 0.9, 0], atol=1e-12)
    assert gpugrad.nanquantile(leaf(GRID), 0.5, dim=0, keepdim=True).shape == (1, 4)
    with pytest.raises(ValueError, match="nanquantile: interpolation"):
        gpugrad.nanquantile(leaf(GRID), 0.5, interpolation="cubic")


def test_view_dtype_reinterprets_the_bytes():
    a = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    x = gpugrad.tensor(a)
    assert view(x, gpugrad.int32).tolist() == a.view(np.int32).tolist()
    assert view(x, gpugrad.int32).tolist()[0] == [1065353216, 1073741824]     # 0x3f800000
    assert view(x, gpugrad.float16).shape == (2, 4)
    assert view(x, dtype=gpugrad.float64).shape == (2, 1)
    assert view(x, "int8").shape == (2, 8)
    assert view(x, 4).shape == (4,) and view(x, 1, -1).shape == (1, 4)
    y = view(x, gpugrad.int32)                     # shares memory and the version counter
    y[0, 0] = 0
    assert x[0, 0].item() == 0.0 and x._version_counter is y._version_counter
    assert view_dtype(gpugrad.tensor([1.0], dtype="float16"), "int16").tolist() == [15360]


def test_view_dtype_refuses_what_pytorch_refuses_and_is_not_differentiable():
    with pytest.raises(RuntimeError, match="divisible by 2"):
        view_dtype(gpugrad.zeros(3), gpugrad.float64)
    with pytest.raises(RuntimeError, match="cannot be 0"):
        view_dtype(gpugrad.zeros(()), gpugrad.float16)
    with pytest.raises(RuntimeError, match="stride"):
        view_dtype(gpugrad.zeros(4, 4).t(), gpugrad.float64)
    x = gpugrad.ones(2, 2, requires_grad=True)
    assert not view_dtype(x, gpugrad.int32).requires_grad
    assert not view_dtype(x, gpugrad.float32).requires_grad


def test_against_torch():
    torch = pytest.importorskip("torch")
    a = np.array(GRID)
    t = torch.tensor(a, requires_grad=True)
    x = leaf(a)
    tv = torch.nanmedian(t, 1)
    gv = gpugrad.nanmedian(x, 1)
    np.testing.assert_array_equal(gv.values.detach().numpy(), tv.values.detach().numpy())
    rows = [0, 2, 3]                                # (all NaN: the index is each's own)
    assert gv.indices.numpy()[rows].tolist() == tv.indices.numpy()[rows].tolist()
    t.nanmedian().backward()
    x.nanmedian().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())
    q = np.array([0.1, 0.5, 0.9])
    for it in ("linear", "lower", "higher", "midpoint", "nearest"):
        want = torch.nanquantile(torch.tensor(a), torch.tensor(q), dim=1, interpolation=it)
        got = gpugrad.nanquantile(gpugrad.tensor(a), gpugrad.tensor(q), dim=1,
                                  interpolation=it)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    b = np.array([NAN, 2.0, NAN, 2.0, 3.0])
    c = np.array([1.0, NAN, NAN, 2.0, 4.0])
    for name in ("fmax", "fmin"):
        tb, tc = torch.tensor(b, requires_grad=True), torch.tensor(c, requires_grad=True)
        getattr(torch, name)(tb, tc).sum().backward()
        gb, gc = leaf(b), leaf(c)
        getattr(gpugrad, name)(gb, gc).sum().backward()
        assert gb.grad.tolist() == tb.grad.tolist() and gc.grad.tolist() == tc.grad.tolist()
    m = RNG.standard_normal((4, 4)).astype(np.float32)
    for dtype, tdtype in (("int32", torch.int32), ("float16", torch.float16),
                          ("float64", torch.float64), ("uint8", torch.uint8)):
        np.testing.assert_array_equal(view(gpugrad.tensor(m), dtype).numpy(),
                                      torch.tensor(m).view(tdtype).numpy())
    for bad, dtype, tdtype in ((np.zeros(3), "float64", torch.float64),
                               (np.zeros((4, 4)).T, "float64", torch.float64)):
        with pytest.raises(RuntimeError):
            torch.tensor(bad, dtype=torch.float32).view(tdtype) if bad.flags.c_contiguous \
                else torch.zeros(4, 4).t().view(tdtype)
        with pytest.raises(RuntimeError):
            view_dtype(gpugrad.tensor(bad, dtype="float32") if bad.flags.c_contiguous
                       else gpugrad.zeros(4, 4).t(), dtype)
