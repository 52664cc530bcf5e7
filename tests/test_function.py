"""The custom Function API: ctx, saved tensors, several outputs, and once_differentiable."""

import numpy as np
import pytest

import gpugrad
from gpugrad import autograd
from gpugrad.autograd import Function, once_differentiable


def leaf(values, device):
    return gpugrad.tensor(values, dtype="float64", device=device, requires_grad=True)


class ScaledExp(Function):
    """exp(x) * k for a Python number k, saving its output."""

    @staticmethod
    def forward(ctx, x, k):
        y = x.exp() * k
        ctx.save_for_backward(y)
        ctx.k = k
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y, None


def test_saved_output_gives_first_and_second_derivatives(device):
    x = leaf([0.1, -0.4], device)
    assert gpugrad.gradcheck(lambda x: ScaledExp.apply(x, 3.0), (x,))
    assert gpugrad.gradgradcheck(lambda x: ScaledExp.apply(x, 3.0), (x,))


def test_needs_input_grad_and_mixing_with_builtin_ops(device):
    seen = {}

    class Product(Function):
        @staticmethod
        def forward(ctx, a, b):
            seen["needs"] = ctx.needs_input_grad
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return (g * b if ctx.needs_input_grad[0] else None,
                    g * a if ctx.needs_input_grad[1] else None)

    a = leaf([1.0, 2.0], device)
    b = gpugrad.tensor([3.0, 4.0], dtype="float64", device=device)
    y = (Product.apply(a.tanh(), b) + a).sum()
    assert seen["needs"] == (True, False)
    y.backward()
    expected = (1 - np.tanh([1.0, 2.0]) ** 2) * [3.0, 4.0] + 1
    np.testing.assert_allclose(a.grad.numpy(), expected)


def test_several_outputs_and_non_differentiable_output(device):
    class DoubleSquareArgmax(Function):
        @staticmethod
        def forward(ctx, x):
            doubled, squared = x * 2, x * x
            ctx.save_for_backward(x)
            index = gpugrad.argmax(x)
            ctx.mark_non_differentiable(index)
            return doubled, squared, index

        @staticmethod
        def backward(ctx, g_doubled, g_squared, g_index):
            (x,) = ctx.saved_tensors
            assert g_index is not None      # grads are materialized as zeros by default
            return g_doubled * 2 + g_squared * 2 * x

    x = leaf([1.0, 3.0], device)
    doubled, squared, index = DoubleSquareArgmax.apply(x)
    assert not index.requires_grad and index.item() == 1
    squared.sum().backward()                # doubled got no gradient: zeros were passed
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 6.0])


def test_returning_an_input_makes_a_new_node(device):
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = leaf([1.0], device)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and y.grad_fn.name() == "IdentityBackward"
    y.sum().backward()
    assert x.grad.item() == 5.0


def test_saved_tensor_modified_in_place_is_detected(device):
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    x = leaf([1.0, 2.0], device)
    h = x * 1.0
    y = Square.apply(h)
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="SquareBackward"):
        y.sum().backward()


def test_wrong_number_or_shape_of_gradients_is_reported(device):
    class TooMany(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()

    x = leaf([1.0, 2.0], device)
    with pytest.raises(RuntimeError, match="TooManyBackward returned 2 gradients"):
        TooMany.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match=r"WrongShapeBackward.*shape \(\).*\(2,\)"):
        WrongShape.apply(x).sum().backward()


class CubeOnce(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * g * x**2


def test_once_differentiable_first_order_works_second_order_raises(device):
    x = leaf([2.0], device)
    (g,) = autograd.grad(CubeOnce.apply(x).sum(), x, create_graph=True)
    assert g.item() == 12.0
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_function_without_backward_says_so(device):
    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with pytest.raises(NotImplementedError, match="backward"):
        NoBackward.apply(leaf([1.0], device)).sum().backward()


def test_saved_non_differentiable_and_non_tensor_outputs(device):
    class ArgmaxAndScale(Function):
        @staticmethod
        def forward(ctx, x):
            index = gpugrad.argmax(x)
            ctx.mark_non_differentiable(index)
            ctx.save_for_backward(index)
            return x * 2, index, "label"

        @staticmethod
        def backward(ctx, g, g_index, g_label):
            (index,) = ctx.saved_tensors
            assert not index.requires_grad and g_label is None
            return g * 2

    x = leaf([1.0, 3.0, 2.0], device)
    y, index, label = ArgmaxAndScale.apply(x)
    assert index.item() == 1 and label == "label"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_a_generated_vmap_rule_saves_each_tensor_once():
    from gpugrad.autograd.graph import saved_tensors_hooks
    from gpugrad.func import grad, vmap

    class Square(Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    def packs(run):
        packed = []
        with saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
            out = run()
        return len(packed), out.numpy()

    xs = np.array([[1.0, 2.0], [3.0, -4.0]])
    f = grad(lambda x: Square.apply(x).sum())
    plain, row = packs(lambda: f(gpugrad.tensor(xs[0], dtype="float64")))
    batched, rows = packs(lambda: vmap(f)(gpugrad.tensor(xs, dtype="float64")))
    assert batched == plain
    np.testing.assert_array_equal(rows, 2 * xs)
    np.testing.assert_array_equal(row, rows[0])
