"""torch.func's and JAX's other names: grad_and_value, linearize, vmap(in_axes=, out_axes=,
axis_size=), hessian(has_aux=); by hand and against torch.func / jax where installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad import func


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", False)


X = np.array([0.5, -1.0, 2.0])


def test_grad_and_value_is_value_and_grad_swapped():
    x = gpugrad.tensor(X, dtype="float64")
    g, value = func.grad_and_value(lambda x: (x ** 3).sum())(x)
    np.testing.assert_allclose(g.numpy(), 3 * X ** 2)
    assert value.item() == pytest.approx((X ** 3).sum())
    g, (value, aux) = func.grad_and_value(lambda x, y: ((x * y).sum(), x.argmax()),
                                          argnums=1, has_aux=True)(x, 2 * x)
    np.testing.assert_allclose(g.numpy(), X)
    assert aux.item() == 2 and value.item() == pytest.approx(2 * (X ** 2).sum())


def test_grad_and_value_as_torch_func(torch):
    def f(x):
        return (x.sin() * x).sum(), {"m": x.max()}
    g, (v, aux) = func.grad_and_value(f, has_aux=True)(gpugrad.tensor(X, dtype="float64"))
    tg, (tv, taux) = torch.func.grad_and_value(f, has_aux=True)(torch.tensor(X))
    np.testing.assert_allclose(g.numpy(), tg.numpy())
    assert v.item() == pytest.approx(tv.item()) and aux["m"].item() == taux["m"].item()


def test_linearize_by_hand_and_called_twice():
    x = gpugrad.tensor(X, dtype="float64")
    out, jvp_fn = func.linearize(lambda x, y: x.sin() * y, x, 3 * x)
    np.testing.assert_allclose(out.numpy(), np.sin(X) * 3 * X)
    v, w = np.array([1.0, 0.0, 2.0]), np.array([0.0, 1.0, 1.0])
    expected = np.cos(X) * 3 * X * v + np.sin(X) * w          # d(sin(x) y)
    for _ in range(2):
        t = jvp_fn(gpugrad.tensor(v, dtype="float64"), gpugrad.tensor(w, dtype="float64"))
        np.testing.assert_allclose(t.numpy(), expected)
    with pytest.raises(TypeError, match="one tangent per primal"):
        jvp_fn(gpugrad.tensor(v))


def test_linearize_has_aux_and_replays_random_draws():
    x = gpugrad.ones(6, dtype="float64")

    def f(x):
        mask = (gpugrad.rand(6, dtype="float64") < 0.5).astype(x.dtype)
        return x * mask, mask
    out, jvp_fn, mask = func.linearize(f, x, has_aux=True)
    np.testing.assert_allclose(out.numpy(), mask.numpy())
    for _ in range(2):       # each call linearizes the same draw: its tangent is the mask
        np.testing.assert_allclose(jvp_fn(gpugrad.ones(6, dtype="float64")).numpy(),
                                   mask.numpy())


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")  # (torch.fx)
def test_linearize_as_torch_func_and_jax(torch, jax):
    def f(x):
        return x.exp() * x
    out, jvp_fn = func.linearize(f, gpugrad.tensor(X, dtype="float64"))
    tout, tjvp = torch.func.linearize(f, torch.tensor(X))
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(out.numpy(), tout.numpy())
    np.testing.assert_allclose(jvp_fn(gpugrad.tensor(v, dtype="float64")).numpy(),
                               tjvp(torch.tensor(v)).numpy())
    jnp = jax.numpy
    _, jjvp = jax.linearize(lambda x: jnp.exp(x) * x, jnp.asarray(X))
    np.testing.assert_allclose(jvp_fn(gpugrad.tensor(v, dtype="float64")).numpy(),
                               np.asarray(jjvp(jnp.asarray(v))))


def test_vmap_in_axes_out_axes_axis_size_by_hand():
    xs = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])         # (3, 2)
    out = func.vmap(lambda x, w: x * w, in_axes=(1, None), out_axes=1)(xs, gpugrad.tensor(2.0))
    np.testing.assert_allclose(out.numpy(), 2 * xs.numpy())            # mapped over columns
    out = func.vmap(lambda w: w.sum(), in_axes=None, axis_size=4)(xs)
    np.testing.assert_allclose(out.numpy(), [21.0] * 4)
    out = func.vmap(lambda x: x.sum(), in_axes=0, axis_size=3)(xs)
    np.testing.assert_allclose(out.numpy(), [3.0, 7.0, 11.0])
    with pytest.raises(ValueError, match="axis_size is 2 but argument 0 has 3"):
        func.vmap(lambda x: x, axis_size=2)(xs)
    with pytest.raises(TypeError, match="both in_dims and in_axes"):
        func.vmap(lambda x: x, in_dims=1, in_axes=0)
    with pytest.raises(TypeError, match="both out_dims and out_axes"):
        func.vmap(lambda x: x, out_dims=1, out_axes=0)
    with pytest.raises(ValueError, match="give axis_size"):
        func.vmap(lambda x: x, in_axes=None)(xs)


def test_vmap_jax_names_as_jax(jax):
    xs = np.arange(12.0).reshape(3, 4)
    jnp = jax.numpy
    for kwargs in [dict(in_axes=1, out_axes=1), dict(in_axes=(0,), out_axes=0),
                   dict(in_axes=None, axis_size=5)]:
        got = func.vmap(lambda x: x * 2 + x.sum(), **kwargs)(gpugrad.tensor(xs,
                                                                           dtype="float64"))
        want = jax.vmap(lambda x: x * 2 + x.sum(), **kwargs)(jnp.asarray(xs))
        np.testing.assert_allclose(got.numpy(), np.asarray(want))


def test_hessian_has_aux_by_hand_and_as_jax(jax):
    def f(x):
        return (x ** 3).sum(), {"max": x.max()}
    x = gpugrad.tensor(X, dtype="float64")
    h, aux = func.hessian(f, has_aux=True)(x)
    np.testing.assert_allclose(h.numpy(), np.diag(6 * X))
    assert aux["max"].item() == 2.0 and not aux["max"].requires_grad
    jnp = jax.numpy
    jh, jaux = jax.hessian(lambda x: ((x ** 3).sum(), {"max": x.max()}), has_aux=True)(
        jnp.asarray(X))
    np.testing.assert_allclose(h.numpy(), np.asarray(jh))
    assert aux["max"].item() == float(jaux["max"])


def test_hessian_has_aux_without_jax():
    h, aux = func.hessian(lambda x, y: ((x * x * y).sum(), y), argnums=(0, 1), has_aux=True)(
        gpugrad.tensor([1.0, 2.0]), gpugrad.tensor([3.0, 4.0]))
    np.testing.assert_allclose(h[0][0].numpy(), np.diag([6.0, 8.0]))     # 2y
    np.testing.assert_allclose(h[0][1].numpy(), np.diag([2.0, 4.0]))     # 2x
    np.testing.assert_allclose(aux.numpy(), [3.0, 4.0])
