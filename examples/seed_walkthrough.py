"""The seed document's examples ("Automatic Differentiation"), run with gpugrad.

Run: python examples/seed_walkthrough.py   (GPUGRAD_DEVICE=cuda to run it on a GPU)

It prints the numbers the seed's code prints: z = 39 (the seed's comment says 31, an
arithmetic slip: 2**2*3 + 3**3 = 39), dz/dx = 12, dz/dy = 31; then numeric against automatic
differentiation, the custom ReLU, the backprop equations checked against autograd, the
second derivatives, and the JAX example (grad, jacobian, hessian) through gpugrad.func.
"""

import numpy as np

import gpugrad
from gpugrad import func
from gpugrad.autograd import Function


def f(x, y):
    return x**2 * y + y**3


def section(title):
    print(f"\n== {title} ==")


def simple_autodiff():
    section("Simple autodiff: f(x, y) = x^2 y + y^3 at x = 2, y = 3")
    x = gpugrad.tensor(2.0, requires_grad=True)
    y = gpugrad.tensor(3.0, requires_grad=True)
    z = f(x, y)
    z.backward()
    print(f"z = {z.item()}")           # 2^2*3 + 3^3 = 39
    print(f"dz/dx = {x.grad.item()}")  # 2xy = 12
    print(f"dz/dy = {y.grad.item()}")  # x^2 + 3y^2 = 31


def pytorch_style():
    section("PyTorch-style autograd with shape-(1,) tensors")
    x = gpugrad.tensor([2.0], requires_grad=True)
    y = gpugrad.tensor([3.0], requires_grad=True)
    z = x**2 * y + y**3
    z.backward()
    print(f"z = {z.item()}")
    print(f"dz/dx = {x.grad.item()}")  # 2xy = 12
    print(f"dz/dy = {y.grad.item()}")  # x^2 + 3y^2 = 31


def numeric_vs_automatic():
    section("Numerical vs automatic differentiation of df/dy at (2, 3), in float64")
    exact = 2.0**2 + 3 * 3.0**2
    y = gpugrad.tensor(3.0, dtype="float64", requires_grad=True)
    f(gpugrad.tensor(2.0, dtype="float64"), y).backward()
    print(f"automatic: {y.grad.item()!r}  (error {abs(y.grad.item() - exact):.1e})")
    print(f"{'eps':>8}  {'central difference':>20}  {'error':>8}")
    for eps in (1e-1, 1e-3, 1e-5, 1e-7, 1e-9, 1e-11):
        numeric = (f(2.0, 3.0 + eps) - f(2.0, 3.0 - eps)) / (2 * eps)
        print(f"{eps:8.0e}  {numeric:20.12f}  {abs(numeric - exact):8.1e}")
    print("Large eps: truncation error (eps^2 times the third derivative / 6); small eps: "
          "rounding error. Autodiff has neither.")


class CustomReLU(Function):
    """Custom ReLU with explicit forward and backward (the seed's, imports changed)."""

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


def custom_function():
    section("Custom autograd Function: CustomReLU")
    gpugrad.manual_seed(0)
    custom_relu = CustomReLU.apply
    x = gpugrad.randn(10, requires_grad=True)
    y = custom_relu(x)
    y.sum().backward()
    print("x      =", np.round(x.numpy(), 3))
    print("x.grad =", x.grad.numpy())
    print("gradient is 1 where x >= 0, else 0:",
          bool(np.array_equal(x.grad.numpy(), (x.numpy() >= 0).astype(np.float32))))


def backprop_equations():
    section("Backpropagation = reverse mode: the seed's equations against autograd")
    gpugrad.manual_seed(1)
    W = gpugrad.randn(4, 3, dtype="float64", requires_grad=True)
    b = gpugrad.randn(4, 1, dtype="float64", requires_grad=True)
    V = gpugrad.randn(2, 4, dtype="float64", requires_grad=True)
    c = gpugrad.randn(2, 1, dtype="float64", requires_grad=True)
    x = gpugrad.randn(3, 1, dtype="float64")
    target = gpugrad.randn(2, 1, dtype="float64")
    z1 = W @ x + b
    z2 = gpugrad.relu(z1)
    z3 = V @ z2 + c
    L = ((z3 - target) ** 2).sum() / 2
    L.backward()
    # The seed's backward pass, written out by hand in NumPy:
    dz3 = (z3 - target).numpy()
    dV = dz3 @ z2.numpy().T
    dz2 = V.numpy().T @ dz3
    dz1 = dz2 * (z1.numpy() > 0)
    dW = dz1 @ x.numpy().T
    for name, auto, manual in (("dL/dV", V.grad, dV), ("dL/dc", c.grad, dz3),
                               ("dL/dW", W.grad, dW), ("dL/db", b.grad, dz1)):
        print(f"{name}: max |autograd - by hand| = {np.abs(auto.numpy() - manual).max():.1e}")


def higher_order():
    section("Gradients of both arguments, and second derivatives (create_graph=True)")
    x = gpugrad.tensor(2.0, requires_grad=True)
    y = gpugrad.tensor(3.0, requires_grad=True)
    dx, dy = gpugrad.autograd.grad(f(x, y), (x, y), create_graph=True)
    print(f"df/dx = {dx.item()}, df/dy = {dy.item()}")
    dxx, dxy = gpugrad.autograd.grad(dx, (x, y), retain_graph=True)
    _, dyy = gpugrad.autograd.grad(dy, (x, y))
    print(f"d2f/dx2 = {dxx.item()} (2y), d2f/dxdy = {dxy.item()} (2x), "
          f"d2f/dy2 = {dyy.item()} (6y)")


def jax_style():
    section("JAX-style functional autodiff (gpugrad.func)")
    grad_f = func.grad(f, argnums=(0, 1))           # gradients w.r.t. both arguments
    dx, dy = grad_f(2.0, 3.0)
    print(f"df/dx = {dx.item()}, df/dy = {dy.item()}")

    def g(x):
        return gpugrad.stack([x[0] ** 2, x[0] * x[1], x[1] ** 3])

    jacobian = func.jacobian(g)                     # reverse mode: one pass per output
    print("jacobian(g)([2, 3]) =", jacobian(gpugrad.tensor([2.0, 3.0])).tolist())
    print("jacfwd(g)([2, 3])   =", func.jacfwd(g)(gpugrad.tensor([2.0, 3.0])).tolist())
    hessian = func.hessian(f)                       # forward over reverse
    print(f"hessian(f)(2, 3) = {hessian(2.0, 3.0).item()}")
    full = func.hessian(f, argnums=(0, 1))(2.0, 3.0)
    print("hessian(f, argnums=(0, 1))(2, 3) =", [[h.item() for h in row] for row in full])


def main():
    print(f"gpugrad {gpugrad.__version__} on device {gpugrad.get_default_device()}")
    simple_autodiff()
    pytorch_style()
    numeric_vs_automatic()
    custom_function()
    backprop_equations()
    higher_order()
    jax_style()


if __name__ == "__main__":
    main()
