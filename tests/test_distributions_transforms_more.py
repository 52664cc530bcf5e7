"""The transforms torch has beyond Exp/Affine/Sigmoid/Tanh (Abs, Power, Softplus, Softmax,
StickBreaking, LowerCholesky, PositiveDefinite, CorrCholesky, Reshape, Independent, Cat,
Stack, CumulativeDistribution), the constraints cat/stack/corr_cholesky/multinomial and
biject_to/transform_to: values by hand in float64, log |det J| against finite-difference
Jacobians, and torch's numbers where torch is installed."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad.distributions import constraints, transforms as T
from gpugrad.distributions import Normal, biject_to, transform_to


def f64(values):
    return gpugrad.tensor(np.asarray(values, dtype=np.float64))


def fd_jacobian(fn, x, eps=1e-6):
    """d fn(x) / d x, by central differences: (out, in) for flat vectors."""
    x = np.asarray(x, dtype=np.float64)
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        cols.append((np.ravel(fn(x + e)) - np.ravel(fn(x - e))) / (2 * eps))
    return np.stack(cols, axis=1)


def logdet(jac):
    return np.linalg.slogdet(jac)[1]


X = np.array([0.3, -1.2, 0.7])


def test_elementwise_transforms_by_hand_and_fd():
    x = np.array([0.4, 1.3, 2.0])
    for t, fn in ((T.PowerTransform(f64(2.5)), lambda v: v ** 2.5),
                  (T.SoftplusTransform(), lambda v: np.log1p(np.exp(v)))):
        y = t(f64(x))
        np.testing.assert_allclose(y.numpy(), fn(x), rtol=1e-12)
        np.testing.assert_allclose(t.inv(y).numpy(), x, rtol=1e-10)
        deriv = np.diag(fd_jacobian(fn, x))
        np.testing.assert_allclose(t.log_abs_det_jacobian(f64(x), y).numpy(),
                                   np.log(np.abs(deriv)), atol=1e-7)
    assert T.AbsTransform()(f64([-2.0, 3.0])).tolist() == [2.0, 3.0]
    assert T.AbsTransform().inv(f64([2.0])).tolist() == [2.0]
    assert not T.AbsTransform().bijective and T.PowerTransform(2.0).bijective
    assert T.PowerTransform(f64([-1.0, 2.0])).sign.tolist() == [-1.0, 1.0]
    assert T.PowerTransform(2.0) == T.PowerTransform(2.0) != T.PowerTransform(3.0)
    assert T.PowerTransform(f64([1.0, 2.0])).forward_shape((4, 1)) == (4, 2)


def test_stick_breaking_maps_onto_the_simplex_with_the_fd_log_det():
    t = T.StickBreakingTransform()
    np.testing.assert_allclose(t(f64([0.0, 0.0])).numpy(), [1 / 3] * 3, rtol=1e-12)
    y = t(f64(X))
    assert y.shape == (4,) and abs(y.sum().item() - 1) < 1e-12 and bool((y > 0).all())
    np.testing.assert_allclose(t.inv(y).numpy(), X, atol=1e-12)
    jac = fd_jacobian(lambda v: t(f64(v)).numpy()[:-1], X)       # onto K-1 coordinates
    assert t.log_abs_det_jacobian(f64(X), y).item() == pytest.approx(logdet(jac), abs=1e-7)
    assert t.forward_shape((5, 3)) == (5, 4) and t.inverse_shape((5, 4)) == (5, 3)
    assert t.event_dim == 1 and t.bijective


def test_softmax_lower_cholesky_positive_definite_by_hand():
    y = T.SoftmaxTransform()(f64(X))
    np.testing.assert_allclose(y.numpy(), np.exp(X) / np.exp(X).sum(), rtol=1e-12)
    np.testing.assert_allclose(T.SoftmaxTransform().inv(y).numpy(), np.log(y.numpy()))
    m = np.array([[0.3, 9.0], [0.7, -0.2]])
    low = np.array([[math.exp(0.3), 0.0], [0.7, math.exp(-0.2)]])
    np.testing.assert_allclose(T.LowerCholeskyTransform()(f64(m)).numpy(), low)
    np.testing.assert_allclose(T.LowerCholeskyTransform().inv(f64(low)).numpy(),
                               np.tril(m), atol=1e-15)
    pd = T.PositiveDefiniteTransform()(f64(m))
    np.testing.assert_allclose(pd.numpy(), low @ low.T, rtol=1e-12)
    np.testing.assert_allclose(T.PositiveDefiniteTransform().inv(pd).numpy(), np.tril(m),
                               atol=1e-12)
    assert bool(constraints.positive_definite.check(pd))


def test_corr_cholesky_rows_are_unit_and_its_log_det_is_the_fd_one():
    t = T.CorrCholeskyTransform()
    x = np.array([0.5, -1.0, 2.0, 0.1, -0.3, 0.8])          # D = 4
    L = t(f64(x))
    assert L.shape == (4, 4)
    np.testing.assert_allclose((L * L).sum(-1).numpy(), np.ones(4), rtol=1e-12)
    assert bool(constraints.corr_cholesky.check(L))
    np.testing.assert_allclose(t.inv(L).numpy(), x, atol=1e-10)
    rows, cols = np.tril_indices(4, -1)
    jac = fd_jacobian(lambda v: t(f64(v)).numpy()[rows, cols], x)
    assert t.log_abs_det_jacobian(f64(x), L).item() == pytest.approx(logdet(jac), abs=1e-6)
    assert t.forward_shape((2, 6)) == (2, 4, 4) and t.inverse_shape((2, 4, 4)) == (2, 6)
    with pytest.raises(ValueError, match="lower triangle"):
        t.forward_shape((5,))


def test_reshape_independent_cat_stack():
    r = T.ReshapeTransform((4,), (2, 2))
    x = f64(np.arange(12.0).reshape(3, 4))
    assert r(x).shape == (3, 2, 2) and r.inv(r(x)).shape == (3, 4)
    assert r.log_abs_det_jacobian(x, r(x)).tolist() == [0.0] * 3
    assert (r.domain.event_dim, r.codomain.event_dim) == (1, 2)
    with pytest.raises(ValueError, match="different numbers"):
        T.ReshapeTransform((3,), (2, 2))
    i = T.IndependentTransform(T.ExpTransform(), 1)
    x = f64([[1.0, 2.0], [0.0, -1.0]])
    assert i.log_abs_det_jacobian(x, i(x)).tolist() == [3.0, -1.0] and i.event_dim == 1
    c = T.CatTransform([T.ExpTransform(), T.identity_transform], dim=0, lengths=[1, 2])
    x = f64([0.0, 5.0, 6.0])
    assert c(x).tolist() == [1.0, 5.0, 6.0] and c.inv(c(x)).tolist() == x.tolist()
    assert c.log_abs_det_jacobian(x, c(x)).tolist() == [0.0, 0.0, 0.0]
    assert c.domain.check(x).tolist() == [True] * 3
    assert c.codomain.check(f64([-1.0, 5.0, 6.0])).tolist() == [False, True, True]
    s = T.StackTransform([T.ExpTransform(), T.SoftplusTransform()], dim=1)
    x = f64([[0.0, 0.0], [1.0, 2.0]])
    np.testing.assert_allclose(s(x).numpy(), [[1.0, math.log(2)], [math.e, math.log1p(
        math.exp(2))]])
    np.testing.assert_allclose(s.log_abs_det_jacobian(x, s(x)).numpy(),
                               [[0.0, -math.log(2)], [1.0, -math.log1p(math.exp(-2))]])
    with pytest.raises(ValueError, match="cover 2"):
        s(f64([[1.0, 2.0, 3.0]]))


def test_cumulative_distribution_transform_is_the_cdf():
    t = T.CumulativeDistributionTransform(Normal(f64(0.0), f64(2.0)))
    x = f64([0.0, 2.0])
    np.testing.assert_allclose(t(x).numpy(), [0.5, 0.5 * (1 + math.erf(1 / math.sqrt(2)))])
    np.testing.assert_allclose(t.inv(t(x)).numpy(), x.numpy(), atol=1e-9)
    np.testing.assert_allclose(t.log_abs_det_jacobian(x, t(x)).numpy(),
                               -0.5 * np.array([0.0, 1.0]) - math.log(2 * math.sqrt(2 * math.pi)))


def test_new_constraints_by_hand():
    c = constraints.cat([constraints.positive, constraints.real], 0, [2, 1])
    assert c.check(f64([1.0, -1.0, -5.0])).tolist() == [True, False, True]
    s = constraints.stack([constraints.positive, constraints.unit_interval], dim=-1)
    assert s.check(f64([[1.0, 0.5], [2.0, 3.0]])).tolist() == [[True, True], [True, False]]
    assert constraints.multinomial(3).check(f64([[1.0, 2.0], [2.0, 2.0]])).tolist() == [
        True, False]
    assert constraints.corr_cholesky.check(f64([[1.0, 0.0], [0.6, 0.8]])).item()
    assert not constraints.corr_cholesky.check(f64([[1.0, 0.0], [0.6, 0.9]])).item()
    m = constraints.MixtureSameFamilyConstraint(constraints.positive)
    assert m.check(f64([1.0, -1.0])).tolist() == [True, False]


@pytest.mark.parametrize("name", ["real", "positive", "nonnegative", "unit_interval",
                                  "simplex", "real_vector", "corr_cholesky", "lower_cholesky",
                                  "positive_definite"])
def test_transform_to_lands_in_the_constraint(name):
    c = getattr(constraints, name)
    t = transform_to(c)
    shape = {"simplex": (3,), "corr_cholesky": (3,), "real_vector": (3,),
             "lower_cholesky": (3, 3), "positive_definite": (3, 3)}.get(name, (4,))
    x = f64(np.random.default_rng(0).normal(size=shape))
    assert bool(c.check(t(x)).all())
    if name not in ("lower_cholesky", "positive_definite"):
        b = biject_to(c)
        assert b.bijective
        np.testing.assert_allclose(b.inv(b(x)).numpy(), x.numpy(), atol=1e-10)


def test_registry_bounds_and_errors():
    t = biject_to(constraints.interval(f64(-1.0), f64(3.0)))
    y = t(f64([-50.0, 0.0, 50.0]))
    assert y.tolist()[1] == 1.0 and -1 <= y.min().item() and y.max().item() <= 3
    assert transform_to(constraints.greater_than(2.0))(f64([0.0])).tolist() == [3.0]
    assert transform_to(constraints.less_than(2.0))(f64([0.0])).tolist() == [1.0]
    with pytest.raises(NotImplementedError, match="Cannot transform"):
        biject_to(constraints.lower_cholesky)
    cat = transform_to(constraints.cat([constraints.positive, constraints.real], 0, [1, 1]))
    assert cat(f64([0.0, -2.0])).tolist() == [1.0, -2.0]


def test_exports_match_torch_names():
    import gpugrad.distributions as D
    names = ["AbsTransform", "CatTransform", "CorrCholeskyTransform",
             "CumulativeDistributionTransform", "IndependentTransform",
             "LowerCholeskyTransform", "PositiveDefiniteTransform", "PowerTransform",
             "ReshapeTransform", "SoftplusTransform", "SoftmaxTransform", "StackTransform",
             "StickBreakingTransform", "identity_transform"]
    for n in names:
        assert getattr(D, n) is getattr(T, n) and n in D.__all__ and n in T.__all__


def test_transforms_match_torch():
    torch = pytest.importorskip("torch")
    TT = torch.distributions.transforms
    x = np.array([[0.3, -1.2, 0.7], [1.5, 0.2, -0.4]])
    pos = np.abs(x) + 0.1
    m = np.array([[0.3, -1.2], [0.7, 0.1]])
    for name, args, v in (("StickBreakingTransform", (), x), ("CorrCholeskyTransform", (), x),
                          ("SoftmaxTransform", (), x), ("PowerTransform", (2.5,), pos),
                          ("SoftplusTransform", (), x), ("AbsTransform", (), x),
                          ("LowerCholeskyTransform", (), m),
                          ("PositiveDefiniteTransform", (), m)):
        a, b = getattr(T, name)(*args), getattr(TT, name)(*args)
        ya, yb = a(f64(v)), b(torch.tensor(v))
        np.testing.assert_allclose(ya.numpy(), yb.numpy(), atol=1e-12, err_msg=name)
        np.testing.assert_allclose(a.inv(ya).numpy(), b.inv(yb).numpy(), atol=1e-10)
        if name not in ("SoftmaxTransform", "AbsTransform", "LowerCholeskyTransform",
                        "PositiveDefiniteTransform"):
            np.testing.assert_allclose(a.log_abs_det_jacobian(f64(v), ya).numpy(),
                                       b.log_abs_det_jacobian(torch.tensor(v), yb).numpy(),
                                       atol=1e-12, err_msg=name)
        assert a.bijective == b.bijective
        assert (a.domain.event_dim, a.codomain.event_dim) == (b.domain.event_dim,
                                                              b.codomain.event_dim)
    td = torch.distributions
    for name in ("real", "positive", "unit_interval", "simplex", "corr_cholesky"):
        for reg in ("biject_to", "transform_to"):
            a = getattr(gpugrad.distributions, reg)(getattr(constraints, name))
            b = getattr(td, reg)(getattr(td.constraints, name))
            assert repr(a).replace("\n", "") == repr(b).replace("\n", ""), (name, reg)
