"""Double backward through leaky_relu, hardtanh, relu6 and rrelu (their first derivative
taken with create_graph stays in the graph; the second is zero), as PyTorch's; and the
records' values and first derivatives against float64 NumPy."""

import numpy as np
import pytest

import gpugrad
import gpugrad.nn.functional as F
from gpugrad import autograd

X = np.array([-4.0, -3.0, -1.0, -0.5, 0.0, 0.3, 1.0, 2.5, 6.0, 7.0])
CASES = [("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}),
         ("leaky_relu", {"negative_slope": -0.5}), ("hardtanh", {}),
         ("hardtanh", {"min_val": -3.0, "max_val": 2.5}), ("relu6", {}), ("rrelu", {})]

# hand-derived first derivatives (PyTorch's at the kinks: slope at 0, 0 at hardtanh's bounds)
FIRST = {("leaky_relu", 0.01): np.where(X > 0, 1.0, 0.01),
         ("leaky_relu", 0.2): np.where(X > 0, 1.0, 0.2),
         ("leaky_relu", -0.5): np.where(X > 0, 1.0, -0.5),
         ("hardtanh", (-1.0, 1.0)): ((X > -1) & (X < 1)).astype(float),
         ("hardtanh", (-3.0, 2.5)): ((X > -3) & (X < 2.5)).astype(float),
         ("relu6", None): ((X > 0) & (X < 6)).astype(float),
         ("rrelu", None): np.where(X > 0, 1.0, (1 / 8 + 1 / 3) / 2)}


def _key(name, kwargs):
    if name == "leaky_relu":
        return name, kwargs.get("negative_slope", 0.01)
    if name == "hardtanh":
        return name, (kwargs.get("min_val", -1.0), kwargs.get("max_val", 1.0))
    return name, None


@pytest.mark.parametrize("name,kwargs", CASES)
def test_second_derivative_is_zero_not_an_error(name, kwargs):
    x = gpugrad.tensor(X, requires_grad=True)
    first, = autograd.grad(getattr(F, name)(x, **kwargs).sum(), x, create_graph=True)
    assert first.requires_grad
    np.testing.assert_array_equal(first.detach().numpy(), FIRST[_key(name, kwargs)])
    second, = autograd.grad(first.sum(), x)
    np.testing.assert_array_equal(second.numpy(), np.zeros_like(X))


def test_second_derivative_through_a_network_reaches_its_input():
    """x -> Linear -> leaky_relu -> Linear: d/dx of the input gradient is zero (x is in the
    gradient's graph through the activation), and the gradient's own values are W1^T (m * w2)
    by hand."""
    gpugrad.manual_seed(0)
    w1, w2 = gpugrad.randn(4, 3, dtype="float64"), gpugrad.randn(1, 4, dtype="float64")
    x = gpugrad.randn(2, 3, dtype="float64", requires_grad=True)
    h = x @ w1.T
    out = F.leaky_relu(h, 0.1) @ w2.T
    g, = autograd.grad(out.sum(), x, create_graph=True)
    slope = np.where(h.detach().numpy() > 0, 1.0, 0.1)
    np.testing.assert_allclose(g.detach().numpy(), (slope * w2.numpy()) @ w1.numpy(),
                               rtol=1e-12)
    gg, = autograd.grad((g * g).sum(), x)
    np.testing.assert_array_equal(gg.numpy(), np.zeros((2, 3)))


def test_gradient_penalty_trains_the_weights_as_finite_differences_say():
    """A WGAN-GP style penalty ||d out / dx||^2 through leaky_relu: its gradient in the
    weight matches central differences of the penalty (float64)."""
    gpugrad.manual_seed(1)
    w = gpugrad.randn(3, 2, dtype="float64", requires_grad=True)
    x = gpugrad.randn(5, 2, dtype="float64", requires_grad=True)

    def penalty(weight):
        out = F.leaky_relu(x @ weight.T, 0.2).sum()
        g, = autograd.grad(out, x, create_graph=True)
        return (g * g).sum()

    grad_w, = autograd.grad(penalty(w), w)
    base, eps, numeric = w.detach().numpy(), 1e-6, np.zeros((3, 2))
    for i in np.ndindex(3, 2):
        up, down = base.copy(), base.copy()
        up[i] += eps
        down[i] -= eps
        numeric[i] = (penalty(gpugrad.tensor(up)).item() -
                      penalty(gpugrad.tensor(down)).item()) / (2 * eps)
    np.testing.assert_allclose(grad_w.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_values_and_forward_mode_against_numpy():
    x = gpugrad.tensor(X)
    np.testing.assert_array_equal(F.leaky_relu(x, 0.3).numpy(), np.where(X > 0, X, 0.3 * X))
    np.testing.assert_array_equal(F.hardtanh(x, -2.0, 1.5).numpy(), np.clip(X, -2.0, 1.5))
    np.testing.assert_array_equal(F.relu6(x).numpy(), np.clip(X, 0.0, 6.0))
    _, tangent = gpugrad.func.jvp(lambda t: F.leaky_relu(t, 0.3), (x,),
                                  (gpugrad.ones_like(x),))
    np.testing.assert_array_equal(tangent.numpy(), np.where(X > 0, 1.0, 0.3))
    hess = gpugrad.func.hessian(lambda t: F.hardtanh(t).sum())(gpugrad.tensor(X[:3]))
    np.testing.assert_array_equal(hess.numpy(), np.zeros((3, 3)))
    batched = gpugrad.func.vmap(lambda t: F.leaky_relu(t, 0.5))(gpugrad.tensor(X.reshape(2, 5)))
    np.testing.assert_array_equal(batched.numpy(), np.where(X > 0, X, 0.5 * X).reshape(2, 5))


def test_nan_and_infinities_pass_as_pytorch():
    x = gpugrad.tensor([np.nan, np.inf, -np.inf], dtype="float64", requires_grad=True)
    np.testing.assert_array_equal(F.leaky_relu(x, 0.1).detach().numpy(),
                                  [np.nan, np.inf, -np.inf])
    np.testing.assert_array_equal(F.hardtanh(x).detach().numpy(), [np.nan, 1.0, -1.0])
    F.leaky_relu(x, 0.1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.1, 1.0, 0.1])


@pytest.mark.parametrize("name,kwargs", CASES[:-1])
def test_against_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    x = gpugrad.tensor(X, requires_grad=True)
    t = torch.tensor(X, requires_grad=True)
    first, = autograd.grad((getattr(F, name)(x, **kwargs) * gpugrad.tensor(X)).sum(), x,
                           create_graph=True)
    tfirst, = torch.autograd.grad((getattr(torch.nn.functional, name)(t, **kwargs) *
                                   torch.tensor(X)).sum(), t, create_graph=True)
    np.testing.assert_array_equal(first.detach().numpy(), tfirst.detach().numpy())
    second, = autograd.grad((first * first).sum(), x)
    tsecond, = torch.autograd.grad((tfirst * tfirst).sum(), t)
    np.testing.assert_array_equal(second.numpy(), tsecond.numpy())
