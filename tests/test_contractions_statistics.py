"""contractions.py and statistics.py against NumPy float64 / hand values (and torch where
installed), with gradcheck/gradgradcheck in float64; cumprod's gradient through zeros."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad.autograd import grad as autograd_grad
from gpugrad.ops import contractions as C
from gpugrad.ops import order_statistics as O, statistics as S
from gradient_checks import check_grads, leaf64 as leaf

RNG = np.random.default_rng(0)


def r(*shape):
    return RNG.standard_normal(shape)


# ------------------------------------------------------------------------------ contractions

def test_outer_dot_vdot_inner():
    a, b, c = r(3), r(4), r(3)
    np.testing.assert_allclose(C.outer(gpugrad.tensor(a), gpugrad.tensor(b)).numpy(),
                               np.outer(a, b))
    assert C.ger is C.outer
    np.testing.assert_allclose(C.dot(gpugrad.tensor(a), gpugrad.tensor(c)).item(), a @ c)
    np.testing.assert_allclose(gpugrad.tensor(a).vdot(gpugrad.tensor(c)).item(), a @ c)
    m, n = r(2, 3), r(4, 3)
    np.testing.assert_allclose(C.inner(gpugrad.tensor(m), gpugrad.tensor(n)).numpy(),
                               np.inner(m, n))
    assert C.inner(gpugrad.tensor(2.0), gpugrad.tensor(m)).shape == (2, 3)
    check_grads(C.outer, a, b)
    check_grads(C.dot, a, c)
    check_grads(C.inner, m, n)
    with pytest.raises(ValueError, match="one length"):
        C.dot(gpugrad.tensor(a), gpugrad.tensor(b))
    with pytest.raises(TypeError, match="dtype"):
        C.dot(gpugrad.tensor(a), gpugrad.tensor(c).float())
    with pytest.raises(ValueError, match="1-d"):
        C.outer(gpugrad.tensor(m), gpugrad.tensor(a))


@pytest.mark.parametrize("dims", [0, 1, 2, ([1, 2], [1, 0]), ([0], [2])])
def test_tensordot_matches_numpy(dims):
    a, b = r(2, 3, 4), r(4, 3, 2)
    axes = dims if isinstance(dims, int) else (dims[0], dims[1])
    if dims == 2:
        a, b = r(2, 3, 4), r(3, 4, 5)
    out = C.tensordot(gpugrad.tensor(a), gpugrad.tensor(b), dims)
    np.testing.assert_allclose(out.numpy(), np.tensordot(a, b, axes))
    check_grads(lambda x, y: C.tensordot(x, y, dims), a, b)


def test_tensordot_errors():
    with pytest.raises(ValueError, match="must match"):
        C.tensordot(gpugrad.zeros(2, 3), gpugrad.zeros(2, 3), 1)
    with pytest.raises(ValueError, match="same number"):
        C.tensordot(gpugrad.zeros(2, 3), gpugrad.zeros(3, 2), ([0, 1], [1]))


def test_kron_and_cross():
    a, b = r(2, 3), r(3, 1, 2)
    np.testing.assert_allclose(C.kron(gpugrad.tensor(a), gpugrad.tensor(b)).numpy(),
                               np.kron(a, b))
    check_grads(C.kron, a, b)
    u, v = r(4, 3), r(1, 3)
    np.testing.assert_allclose(C.cross(gpugrad.tensor(u), gpugrad.tensor(v), dim=-1).numpy(),
                               np.cross(u, v))
    np.testing.assert_allclose(C.cross(gpugrad.tensor(u.T), gpugrad.tensor(v.T)).numpy(),
                               np.cross(u, v).T)                   # the first dim of size 3
    check_grads(lambda x, y: C.cross(x, y, dim=1), u, u[::-1].copy())
    with pytest.raises(ValueError, match="size 3"):
        C.cross(gpugrad.zeros(4, 2), gpugrad.zeros(4, 2), dim=1)


def np_cdist(x1, x2, p):
    diff = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == 0:
        return (diff != 0).sum(-1).astype(float)
    if p == math.inf:
        return diff.max(-1)
    return (diff ** p).sum(-1) ** (1 / p)


@pytest.mark.parametrize("p", [0, 1, 2, 3.5, math.inf])
@pytest.mark.parametrize("rows", [4, 30])
def test_cdist_matches_numpy(p, rows):
    x1, x2 = r(2, rows, 3), r(1, 5, 3)
    out = C.cdist(gpugrad.tensor(x1), gpugrad.tensor(x2), p)
    np.testing.assert_allclose(out.numpy(), np_cdist(x1, x2, p), rtol=1e-9, atol=1e-12)
    if p not in (0, math.inf) and rows == 4:
        check_grads(lambda a, b: C.cdist(a, b, p), x1, x2)


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"])
def test_cdist_gradient_is_zero_at_zero_distance(mode):
    x = leaf([[0.0, 0.0], [3.0, 4.0]])
    C.cdist(x, x, compute_mode=mode).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-1.2, -1.6], [1.2, 1.6]])
    with pytest.raises(ValueError, match="non-negative"):
        C.cdist(x, x, -1.0)


def test_dist():
    a, b = r(3, 2), r(2)
    np.testing.assert_allclose(C.dist(gpugrad.tensor(a), gpugrad.tensor(b)).item(),
                               np.linalg.norm((a - b).ravel()))
    np.testing.assert_allclose(gpugrad.tensor(a).dist(gpugrad.tensor(b), 3).item(),
                               (np.abs(a - b) ** 3).sum() ** (1 / 3))
    x = leaf([1.0, 2.0])
    C.dist(x, gpugrad.tensor([1.0, 2.0])).backward()
    assert x.grad.tolist() == [0.0, 0.0]
    check_grads(lambda u, v: C.dist(u, v, 1.5), a, b)


# ------------------------------------------------------------------------------ statistics

def test_amax_amin_aminmax_share_ties():
    x = leaf([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    S.amax(x, dim=1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]]
    a = RNG.standard_normal((2, 3, 4))
    t = gpugrad.tensor(a)
    np.testing.assert_array_equal(S.amax(t).numpy(), a.max())
    np.testing.assert_array_equal(t.amax((0, 2), keepdim=True).numpy(),
                                  a.max((0, 2), keepdims=True))
    np.testing.assert_array_equal(S.amin(t, -1).numpy(), a.min(-1))
    low, high = S.aminmax(t, dim=1)
    np.testing.assert_array_equal(low.numpy(), a.min(1))
    np.testing.assert_array_equal(t.aminmax().max.numpy(), a.max())


def cumprod_grads(x, g, v):
    """First and second (``v``-weighted) derivatives of <g, cumprod(x)>."""
    xt = leaf(x)
    (first,) = autograd_grad(S.cumprod(xt, -1), [xt], grad_outputs=gpugrad.tensor(g),
                             create_graph=True)
    (second,) = autograd_grad(first, [xt], grad_outputs=gpugrad.tensor(v))
    return first.numpy(), second.numpy()


def np_cumprod_grads(x, g, v):
    """By hand: d/dx_i = sum_{j >= i} g_j prod_{m <= j, m != i} x_m, and its derivative."""
    n = len(x)

    def product(j, *left_out):
        return np.prod([x[m] for m in range(j + 1) if m not in left_out])
    first = np.array([sum(g[j] * product(j, i) for j in range(i, n)) for i in range(n)])
    hess = np.array([[0.0 if i == k else sum(g[j] * product(j, i, k)
                                               for j in range(max(i, k), n))
                      for k in range(n)] for i in range(n)])
    return first, hess @ v


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, 4.0], [2.0, 0.0, 3.0, 0.0, 5.0, 0.0, 2.0],
                               [0.0, 0.0, 1.5], [1.5, -2.0, 0.5, 0.0], [0.7, -1.2, 1.1]])
def test_cumprod_gradients_through_zeros(x):
    x = np.array(x)
    g, v = RNG.standard_normal(len(x)), RNG.standard_normal(len(x))
    for got, want in zip(cumprod_grads(x, g, v), np_cumprod_grads(x, g, v)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    xt = leaf(x)                                    # plain backward (the first-order path)
    S.cumprod(xt, 0).backward(gpugrad.tensor(g))
    np.testing.assert_allclose(xt.grad.numpy(), np_cumprod_grads(x, g, v)[0], atol=1e-12)
    from gpugrad.func import jvp
    _, tangent = jvp(lambda a: S.cumprod(a, 0), (gpugrad.tensor(x),), (gpugrad.tensor(v),))
    jacobian = np.array([np_cumprod_grads(x, np.eye(len(x))[j], v)[0] for j in range(len(x))])
    np.testing.assert_allclose(tangent.numpy(), jacobian @ v, atol=1e-12)


def test_cumprod_dtypes_and_batches_with_zeros():
    assert S.cumprod(gpugrad.tensor([1, 2, 3]), 0).dtype == np.int64
    assert S.cumprod(gpugrad.tensor([True, True]), 0).tolist() == [1, 1]
    x = np.array([[1.5, 0.0, 2.0, 0.0], [0.0, -1.0, 0.5, 2.0], [1.2, 0.8, -0.6, 1.1]])
    check_grads(lambda t: S.cumprod(t, 1), x)
    check_grads(lambda t: S.cumprod(t, 0), x)


def test_logcumsumexp_is_stable():
    x = np.array([-1000.0, 0.0, 1000.0, 1000.0])
    out = S.logcumsumexp(gpugrad.tensor(x), 0).numpy()
    np.testing.assert_allclose(out, np.logaddexp.accumulate(x))
    check_grads(lambda t: S.logcumsumexp(t, 0), np.array([-30.0, 0.5, 25.0, 24.0]))
    with pytest.raises(TypeError, match="float"):
        S.logcumsumexp(gpugrad.tensor([1, 2]), 0)


def test_cummax_cummin():
    x = np.array([[1.0, 3.0, 3.0, 2.0, np.nan, 5.0], [4.0, 1.0, 1.0, 0.0, 2.0, -1.0]])
    values, indices = S.cummax(gpugrad.tensor(x), 1)
    np.testing.assert_array_equal(values.numpy(), np.fmax.accumulate(x, 1) *
                                  np.where(np.isnan(np.maximum.accumulate(x, 1)), np.nan, 1))
    assert indices.tolist() == [[0, 1, 2, 2, 4, 4], [0, 0, 0, 0, 0, 0]]
    values, indices = gpugrad.tensor(x[1]).cummin(0)
    assert values.tolist() == [4.0, 1.0, 1.0, 0.0, 0.0, -1.0]
    assert indices.tolist() == [0, 1, 2, 3, 3, 5] and indices.dtype == np.int64
    distinct = RNG.permutation(12).reshape(3, 4) * 0.5
    check_grads(lambda t: S.cummax(t, 1).values * S.cummin(t, 0).values, distinct)


def test_std_var_mean_nan_reductions():
    a = RNG.standard_normal((3, 4))
    std, mean = S.std_mean(gpugrad.tensor(a), 1)
    np.testing.assert_allclose(std.numpy(), a.std(1, ddof=1))
    np.testing.assert_allclose(mean.numpy(), a.mean(1))
    var, mean = S.var_mean(gpugrad.tensor(a), dim=(0, 1), correction=0, keepdim=True)
    np.testing.assert_allclose(var.numpy(), a.var(keepdims=True))
    assert mean.shape == (1, 1)
    np.testing.assert_allclose(S.var_mean(gpugrad.tensor(a), False)[0].item(), a.var())
    check_grads(lambda t: S.var_mean(t, 0)[0] + S.std_mean(t, 0)[1], a)
    n = a.copy()
    n[0, 1] = n[2, 3] = np.nan
    np.testing.assert_allclose(S.nansum(gpugrad.tensor(n), 1).numpy(), np.nansum(n, 1))
    np.testing.assert_allclose(gpugrad.tensor(n).nanmean().item(), np.nanmean(n))
    assert S.nansum(gpugrad.tensor([1, 2])).dtype == np.int64
    assert math.isnan(S.nanmean(gpugrad.tensor([np.nan])).item())
    x = leaf(n)
    S.nanmean(x, 0).sum().backward()
    expected = np.where(np.isnan(n), 0.0, 1.0) / (~np.isnan(n)).sum(0)
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_median():
    x = leaf([1.0, 2.0, 2.0, 0.5, 2.0])
    m = O.median(x)
    m.backward()
    assert m.item() == 2.0 and np.allclose(x.grad.numpy(), [0, 1 / 3, 1 / 3, 0, 1 / 3])
    assert O.median(gpugrad.tensor([4.0, 1.0, 3.0, 2.0])).item() == 2.0      # the lower one
    assert math.isnan(O.median(gpugrad.tensor([1.0, np.nan, 2.0])).item())
    a = RNG.standard_normal((3, 5))
    values, indices = gpugrad.tensor(a).median(dim=1)
    np.testing.assert_array_equal(values.numpy(), np.sort(a, 1)[:, 2])
    np.testing.assert_array_equal(a[np.arange(3), indices.numpy()], values.numpy())
    values, indices = O.median(gpugrad.tensor([[1.0, np.nan, 2.0, np.nan]]), 1, keepdim=True)
    assert math.isnan(values.item()) and indices.tolist() == [[1]]
    check_grads(lambda t: O.median(t, 0).values + O.median(t), a)
    assert math.isnan(O.median(gpugrad.zeros(0)).item())         # NaN, as PyTorch's
    with pytest.raises(ValueError, match="empty"):
        O.median(gpugrad.zeros(0, dtype="int64"))


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (-1, True)])
def test_quantile_matches_numpy(interpolation, dim, keepdim):
    a = RNG.standard_normal((4, 5))
    q = np.array([0.0, 0.1, 0.5, 0.77, 1.0])
    out = O.quantile(gpugrad.tensor(a), gpugrad.tensor(q), dim, keepdim,
                     interpolation=interpolation)
    expected = np.quantile(a, q, axis=dim, keepdims=keepdim, method=interpolation)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    out = gpugrad.tensor(a).quantile(0.3, dim, keepdim, interpolation=interpolation)
    np.testing.assert_allclose(out.numpy(), np.quantile(a, 0.3, axis=dim, keepdims=keepdim,
                                                        method=interpolation), rtol=1e-12)


def test_quantile_grads_nan_and_errors():
    a = RNG.standard_normal((3, 4))
    check_grads(lambda t: O.quantile(t, gpugrad.tensor([0.2, 0.9]), dim=1), a)
    n = a.copy()
    n[1, 2] = np.nan
    out = O.quantile(gpugrad.tensor(n), 0.5, dim=1).numpy()
    assert math.isnan(out[1]) and not np.isnan(out[[0, 2]]).any()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        O.quantile(gpugrad.tensor(a), 1.5)
    with pytest.raises(TypeError, match="float"):
        O.quantile(gpugrad.tensor([1, 2]), 0.5)


def test_statistics_against_torch():
    torch = pytest.importorskip("torch")
    a = RNG.standard_normal((3, 6))
    a[0, 2] = a[0, 4] = a[2, 1] = 0.0
    g = RNG.standard_normal((3, 6))
    for dim in (0, 1):
        t = torch.tensor(a, requires_grad=True)
        torch.cumprod(t, dim).backward(torch.tensor(g))
        x = leaf(a)
        S.cumprod(x, dim).backward(gpugrad.tensor(g))
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-12)
        t.grad, x.grad = None, None
        torch.logcumsumexp(t, dim).backward(torch.tensor(g))
        S.logcumsumexp(x, dim).backward(gpugrad.tensor(g))
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-12)
    b = np.round(a * 2) / 2
    for ours, theirs in ((S.cummax, torch.cummax), (S.cummin, torch.cummin)):
        mine, want = ours(gpugrad.tensor(b), 1), theirs(torch.tensor(b), 1)
        np.testing.assert_array_equal(mine.indices.numpy(), want.indices.numpy())
    q = torch.tensor([0.25, 0.6], dtype=torch.float64)
    np.testing.assert_allclose(O.quantile(gpugrad.tensor(a), gpugrad.tensor(q.numpy()), 1,
                                          True).numpy(),
                               torch.quantile(torch.tensor(a), q, 1, True).numpy())
    t = torch.tensor(a, requires_grad=True)
    torch.cdist(t, t * 2).sum().backward()
    x = leaf(a)
    C.cdist(x, x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-12)


def test_quantile_in_a_compiled_step_reads_each_calls_q():
    """The positions come from each call's q (not the recording's); a 0-d q gives a 0-d
    result, as torch.quantile; a q outside [0, 1] is refused on every call."""
    x = gpugrad.tensor([0.0, 1.0, 2.0, 3.0, 4.0])
    step = gpugrad.compile(lambda t, q: O.quantile(t, q))
    got = [step(x, gpugrad.tensor([q])).tolist() for q in (0.25, 0.75, 0.5)]
    assert got == [[1.0], [3.0], [2.0]]
    assert O.quantile(x, gpugrad.tensor(0.3)).shape == ()
    with pytest.raises(ValueError, match=r"q values must be in \[0, 1\]"):
        step(x, gpugrad.tensor([1.5]))
