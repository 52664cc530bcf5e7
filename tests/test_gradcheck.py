"""gradcheck and gradgradcheck catch wrong derivatives and say where."""

import pytest

import gpugrad
from gpugrad.autograd import Function, GradcheckError


class CubeWrongFirst(Function):
    """x**3 with a wrong derivative (2x^2 instead of 3x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * g * x**2


class CubeWrongSecond(Function):
    """x**3 with the right derivative but a constant (detached) x in it: the second
    derivative comes out wrong (0 instead of 6x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * g * x.detach() ** 2


def x64(values, device):
    return gpugrad.tensor(values, dtype="float64", device=device, requires_grad=True)


def test_gradcheck_passes_a_right_gradient(device):
    x, w = x64([[0.3, -1.2], [0.7, 2.0]], device), x64([0.5, -0.5], device)
    assert gpugrad.gradcheck(lambda x, w: (x @ w).tanh() * x.sum(), (x, w))
    assert gpugrad.gradgradcheck(lambda x, w: (x @ w).tanh() * x.sum(), (x, w))


def test_gradcheck_reports_the_worst_element(device):
    x = x64([1.0, -2.0], device)
    with pytest.raises(GradcheckError) as info:
        gpugrad.gradcheck(CubeWrongFirst.apply, (x,))
    message = str(info.value)
    assert "input 0" in message and "input element (1,)" in message
    assert "analytic 8.0" in message and "numeric 12.0" in message
    assert not gpugrad.gradcheck(CubeWrongFirst.apply, (x,), raise_exception=False)


def test_gradgradcheck_catches_a_wrong_second_derivative(device):
    x = x64([1.0, -2.0], device)
    assert gpugrad.gradcheck(CubeWrongSecond.apply, (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gpugrad.gradgradcheck(CubeWrongSecond.apply, (x,))


def test_gradcheck_wants_float64(device):
    x = gpugrad.tensor([1.0], device=device, requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        gpugrad.gradcheck(lambda x: x * 2, (x,))
