"""Forward mode: dual tensors, custom Function jvp rules, forward over reverse, and memory
that stays flat along a long computation (no tape)."""

import tracemalloc

import numpy as np
import pytest

import gpugrad
import gpugrad.autograd.forward_ad as fwAD
from gpugrad import autograd
from gpugrad.autograd import Function


def f64(values, device, requires_grad=False):
    return gpugrad.tensor(values, dtype="float64", device=device, requires_grad=requires_grad)


def test_dual_numbers_give_directional_derivatives(device):
    x, v = f64([0.5, -1.0], device), f64([1.0, 2.0], device)
    with fwAD.dual_level():
        y = (fwAD.make_dual(x, v).exp() * 3.0).sum()
        primal, tangent = fwAD.unpack_dual(y)
    expected = (3 * np.exp([0.5, -1.0]) * [1.0, 2.0]).sum()
    assert tangent.item() == pytest.approx(expected)
    assert primal.item() == pytest.approx(3 * np.exp([0.5, -1.0]).sum())
    assert fwAD.unpack_dual(y).tangent is None          # the level has ended


def test_make_dual_checks_its_arguments(device):
    with fwAD.dual_level():
        with pytest.raises(ValueError, match=r"shape \(3,\).*\(2,\)"):
            fwAD.make_dual(f64([1.0, 2.0], device), f64([1.0, 2.0, 3.0], device))
    with pytest.raises(RuntimeError, match="dual_level"):
        fwAD.make_dual(f64([1.0], device), f64([1.0], device))


def test_tangents_are_not_computed_by_two_reverse_passes(device):
    x, v = np.array([0.3, 0.7]), np.array([1.0, -2.0])
    with fwAD.dual_level():
        y = fwAD.make_dual(f64(x, device), f64(v, device)).tanh()
        assert y.grad_fn is None                  # nothing recorded for reverse mode
        tangent = fwAD.unpack_dual(y).tangent
    np.testing.assert_allclose(tangent.numpy(), (1 - np.tanh(x) ** 2) * v, rtol=1e-14)
    eps = 1e-6                                    # and a central difference along v
    expected = (np.tanh(x + eps * v) - np.tanh(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(tangent.numpy(), expected, rtol=1e-8)


def test_forward_over_reverse_gives_hessian_vector_product(device):
    gpugrad.manual_seed(0)
    a = gpugrad.randn(4, 4, dtype="float64", device=device)
    x0, v = gpugrad.randn(4, dtype="float64", device=device), gpugrad.randn(4, dtype="float64",
                                                                            device=device)
    with fwAD.dual_level():
        x = fwAD.make_dual(x0.detach().requires_grad_(), v)
        loss = ((a @ x).tanh() ** 2).sum()
        (g,) = autograd.grad(loss, x)
        hv = fwAD.unpack_dual(g).tangent
    # by hand: with t = tanh(a x), the gradient is a^T (2 t (1 - t^2)) and the Hessian
    # a^T diag(2 (1 - t^2)(1 - 3 t^2)) a
    a_np, x_np, v_np = a.numpy(), x0.numpy(), v.numpy()
    t = np.tanh(a_np @ x_np)
    hessian = a_np.T @ np.diag(2 * (1 - t**2) * (1 - 3 * t**2)) @ a_np
    np.testing.assert_allclose(hv.numpy(), hessian @ v_np, rtol=1e-10, atol=1e-12)

    def gradient(x):
        s = np.tanh(a_np @ x)
        return a_np.T @ (2 * s * (1 - s**2))
    eps = 1e-6                        # a central difference of the gradient along v
    differences = (gradient(x_np + eps * v_np) - gradient(x_np - eps * v_np)) / (2 * eps)
    np.testing.assert_allclose(hv.numpy(), differences, rtol=1e-6, atol=1e-8)


def test_jvp_agrees_with_vjp_double_vjp_cross_check(device):
    """<u, J v> forward equals <J^T u, v> reverse (the double-vjp trick as a cross-check)."""
    gpugrad.manual_seed(1)
    w = gpugrad.randn(3, 5, dtype="float64", device=device)
    x0 = gpugrad.randn(5, dtype="float64", device=device)
    u, v = gpugrad.randn(3, dtype="float64", device=device), gpugrad.randn(5, dtype="float64",
                                                                           device=device)

    def f(x):
        return gpugrad.log_softmax(w @ x.sigmoid(), axis=0) * x.sum()

    with fwAD.dual_level():
        jv = fwAD.unpack_dual(f(fwAD.make_dual(x0, v))).tangent
    x = x0.detach().requires_grad_()
    (jtu,) = autograd.grad(f(x), x, grad_outputs=u)
    assert (u * jv).sum().item() == pytest.approx((jtu * v).sum().item(), rel=1e-12)


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * g * x * x

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return 3 * t * x * x


class CubeWithoutJvp(Function):
    forward = Cube.forward
    backward = Cube.backward


def test_custom_function_jvp_and_its_absence(device):
    x = f64([2.0], device)
    with fwAD.dual_level():
        y = Cube.apply(fwAD.make_dual(x, f64([1.0], device)))
        assert fwAD.unpack_dual(y).tangent.item() == 12.0
        with pytest.raises(NotImplementedError, match="CubeWithoutJvp.*jvp"):
            CubeWithoutJvp.apply(fwAD.make_dual(x, f64([1.0], device)))


def _peak_bytes(run) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_forward_mode_memory_is_flat_reverse_mode_grows():
    x0 = gpugrad.tensor(np.linspace(0.1, 1.0, 256), dtype="float64")
    tangent = gpugrad.ones(256, dtype="float64")
    one_tensor = 256 * 8

    def forward_chain(n):
        def run():
            with fwAD.dual_level():
                y = fwAD.make_dual(x0, tangent)
                for _ in range(n):
                    y = y.tanh()
                fwAD.unpack_dual(y)
        return run

    def reverse_chain(n):
        def run():
            y = x0.detach().requires_grad_()
            for _ in range(n):
                y = y.tanh()
            del y
        return run

    short, long = _peak_bytes(forward_chain(2_000)), _peak_bytes(forward_chain(20_000))
    assert long - short < 8 * one_tensor, (short, long)
    short, long = _peak_bytes(reverse_chain(200)), _peak_bytes(reverse_chain(2_000))
    assert long - short > 1_000 * one_tensor, (short, long)


def test_forward_over_backward_with_create_graph(device):
    """A jvp through a function that itself calls backward(create_graph=True)."""
    x = f64([1.0, 2.0], device)
    with fwAD.dual_level():
        leaf = fwAD.make_dual(x, f64([1.0, 1.0], device)).requires_grad_()
        (leaf**3).sum().backward(create_graph=True)
        primal, tangent = fwAD.unpack_dual(leaf.grad)
    np.testing.assert_allclose(primal.numpy(), [3.0, 12.0])     # 3 x^2
    np.testing.assert_allclose(tangent.numpy(), [6.0, 12.0])    # 6 x * v
