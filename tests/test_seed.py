"""The seed document's examples, with exact numbers.

f(x, y) = x**2 * y + y**3 at x=2, y=3: z = 39 (the seed's comment says 31, an arithmetic
slip), dz/dx = 2xy = 12, dz/dy = x**2 + 3y**2 = 31.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gpugrad
from gpugrad.autograd import Function

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("shape", [(), (1,)], ids=["0-d", "shape-(1,)"])
def test_scalar_example_exact(device, shape):
    x = gpugrad.tensor(np.full(shape, 2.0), dtype="float32", device=device, requires_grad=True)
    y = gpugrad.tensor(np.full(shape, 3.0), dtype="float32", device=device, requires_grad=True)
    z = x**2 * y + y**3
    z.backward()
    assert z.shape == shape and x.grad.shape == shape and y.grad.shape == shape
    assert z.item() == 39.0
    assert x.grad.item() == 12.0
    assert y.grad.item() == 31.0
    assert x.grad.dtype == gpugrad.float32


class CustomReLU(Function):
    """The seed's custom ReLU, with only its imports changed."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


def test_custom_relu_from_the_seed(device):
    gpugrad.set_default_device(device)
    custom_relu = CustomReLU.apply
    x = gpugrad.randn(10, requires_grad=True)
    y = custom_relu(x)
    y.sum().backward()
    values = x.numpy()
    np.testing.assert_array_equal(y.numpy(), np.maximum(values, 0))
    np.testing.assert_array_equal(x.grad.numpy(), (values >= 0).astype(np.float32))
    assert y.grad_fn.name() == "CustomReLUBackward"


def test_custom_relu_second_order_through_setitem(device):
    """With create_graph, the seed's backward (clone, then masked setitem) is recorded."""
    x = gpugrad.tensor([-1.5, 0.5, 2.0], dtype="float64", device=device, requires_grad=True)
    y = CustomReLU.apply(x * x * x)          # relu(x^3): derivative 3x^2 where x > 0
    (g,) = gpugrad.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), [0.0, 0.75, 12.0])
    (h,) = gpugrad.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [0.0, 3.0, 12.0])   # 6x where x > 0


def test_walkthrough_prints_the_seed_numbers():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "seed_walkthrough.py")],
                            capture_output=True, text=True, check=True, cwd=ROOT,
                            env={"PYTHONPATH": str(ROOT), "PATH": ""})
    out = result.stdout
    assert out.count("z = 39.0") == 2
    assert out.count("dz/dx = 12.0") == 2
    assert out.count("dz/dy = 31.0") == 2
    assert "gradient is 1 where x >= 0, else 0: True" in out
    assert "d2f/dx2 = 6.0 (2y), d2f/dxdy = 4.0 (2x), d2f/dy2 = 18.0 (6y)" in out
    assert "df/dx = 12.0, df/dy = 31.0" in out.split("JAX-style")[1]
    assert "jacobian(g)([2, 3]) = [[4.0, 0.0], [3.0, 2.0], [0.0, 27.0]]" in out
    assert "jacfwd(g)([2, 3])   = [[4.0, 0.0], [3.0, 2.0], [0.0, 27.0]]" in out
    assert "hessian(f)(2, 3) = 6.0" in out
    assert "hessian(f, argnums=(0, 1))(2, 3) = [[6.0, 4.0], [4.0, 18.0]]" in out
    # the numeric table: error shrinks like eps^2 at first, then grows with rounding
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("1e-")]
    errors = {row[0]: float(row[2]) for row in rows}
    assert abs(errors["1e-01"] - 1e-2) < 1e-6       # eps^2 * f'''(y) / 6 = eps^2
    assert errors["1e-05"] < errors["1e-01"] and errors["1e-11"] > errors["1e-05"]
