"""PyTorch and torch.func habits a review found missing or different: values checked by
hand (float64), each against what PyTorch 2.13 does."""

import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import func
from gpugrad.autograd import Function
from gpugrad.checkpoint import checkpoint, checkpoint_sequential


def leaf(values):
    return gpugrad.tensor(values, dtype="float64", requires_grad=True)


# ------------------------------------------------------------------ gpugrad.tensor of tensors


def test_a_tensor_made_from_tensors_that_require_grad_warns_that_it_cuts_the_graph():
    """As PyTorch's torch.tensor: the copy has no graph, and the warning says so and names
    the differentiable spelling (the seed's jnp.array([...]) translates to stack)."""
    x = leaf([2.0, 3.0])
    with pytest.warns(UserWarning, match=r"gpugrad.stack\(\[...\]\)"):
        copied = gpugrad.tensor([x[0] ** 2, x[1]])
    assert copied.tolist() == [4.0, 3.0] and not copied.requires_grad
    with pytest.warns(UserWarning, match=r"t.clone\(\)"):
        gpugrad.tensor(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gpugrad.tensor([x[0].detach(), 1.0])
        gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        gpugrad.tensor(x.detach())
    with pytest.warns(UserWarning, match="no gradient flows back"):
        zeros = func.jacobian(lambda v: gpugrad.tensor([v[0] ** 2, v[1]]))(
            gpugrad.tensor([2.0, 3.0], dtype="float64"))
    assert not zeros.numpy().any()
    jacobian = func.jacobian(lambda v: gpugrad.stack([v[0] ** 2, v[0] * v[1], v[1] ** 3]))(
        gpugrad.tensor([2.0, 3.0], dtype="float64"))
    np.testing.assert_array_equal(jacobian.numpy(), [[4.0, 0.0], [3.0, 2.0], [0.0, 27.0]])


# ------------------------------------------------------------------ .grad accumulation


def test_a_retained_gradient_is_replaced_while_a_leaf_gradient_is_added_in_place():
    """PyTorch: a leaf's .grad accumulates into its buffer (a reference taken earlier sees
    the sum); a retained non-leaf .grad is replaced by grad + new (an earlier reference
    keeps the first backward's values)."""
    x = leaf([1.0, 2.0])
    y = x * 1
    y.retain_grad()
    y.sum().backward(retain_graph=True)
    first_y, first_x = y.grad, x.grad
    y.sum().backward()
    assert first_y.tolist() == [1.0, 1.0] and y.grad.tolist() == [2.0, 2.0]
    assert first_x.tolist() == [2.0, 2.0] and x.grad is first_x


def test_detach_in_place_makes_a_leaf_and_refuses_views():
    x = leaf([1.0, 2.0])
    y = x * 2
    assert y.detach_() is y
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf
    assert (y * 3).sum().requires_grad is False
    with pytest.raises(RuntimeError, match=r"view .* use t = t.detach\(\)"):
        (x * 2)[1:].detach_()


def test_materialize_grads_gives_zeros_for_unused_inputs():
    x, unused = leaf([1.0, 2.0]), leaf(3.0)
    gx, gu = gpugrad.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    assert gx.tolist() == [2.0, 2.0] and gu.tolist() == 0.0 and gu.dtype == np.float64
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        gpugrad.autograd.grad((x * 2).sum(), [x, unused])
    with pytest.raises(ValueError, match="leave allow_unused out"):
        gpugrad.autograd.grad((x * 2).sum(), [x, unused], allow_unused=False,
                              materialize_grads=True)


# ------------------------------------------------------------------ has_aux everywhere


def cube_with_aux(v):
    y = v ** 3
    return y, {"total": y.sum()}


def test_has_aux_in_vjp_jvp_jacrev_and_jacfwd():
    """f(v) = v^3 with aux sum(v^3): Jacobian diag(3 v^2); aux comes back undifferentiated,
    as torch.func's."""
    v = np.array([0.3, -0.5, 1.2])
    x = gpugrad.tensor(v)
    total = (v ** 3).sum()
    for transform in (func.jacrev, func.jacfwd):
        jacobian, aux = transform(cube_with_aux, has_aux=True)(x)
        np.testing.assert_allclose(jacobian.numpy(), np.diag(3 * v ** 2), rtol=1e-15)
        assert aux["total"].item() == pytest.approx(total, rel=1e-15)
        assert not aux["total"].requires_grad
    out, vjp_fn, aux = func.vjp(cube_with_aux, x, has_aux=True)
    np.testing.assert_allclose(vjp_fn(gpugrad.ones(3, dtype="float64"))[0].numpy(),
                               3 * v ** 2, rtol=1e-15)
    assert aux["total"].item() == pytest.approx(total) and not aux["total"].requires_grad
    out, tangent, aux = func.jvp(cube_with_aux, (x,), (gpugrad.ones(3, dtype="float64"),),
                                 has_aux=True)
    np.testing.assert_allclose(tangent.numpy(), 3 * v ** 2, rtol=1e-15)
    np.testing.assert_allclose(out.numpy(), v ** 3, rtol=1e-15)
    assert aux["total"].item() == pytest.approx(total)
    with pytest.raises(TypeError, match=r"must return a pair \(output, aux\)"):
        func.jacrev(lambda t: t * 2, has_aux=True)(x)


# ------------------------------------------------------------------ Function styles


class CubeWithSetupContext(Function):
    """PyTorch's newer style: forward without ctx, setup_context saves."""

    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return x ** 3

    @staticmethod
    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.save_for_backward(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2


def test_a_function_with_setup_context_runs_in_backward_grad_and_vmap():
    v = np.array([[1.0, 2.0], [3.0, -4.0]])
    x = leaf(v[0])
    CubeWithSetupContext.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * v[0] ** 2, rtol=1e-15)
    per_row = func.vmap(func.grad(lambda t: CubeWithSetupContext.apply(t).sum()))(
        gpugrad.tensor(v))
    np.testing.assert_allclose(per_row.numpy(), 3 * v ** 2, rtol=1e-15)


# ------------------------------------------------------------------ checkpoint options


def test_checkpoint_takes_pytorchs_options():
    """use_reentrant either way gives the plain gradient (2x); context_fn is refused by
    name."""
    for reentrant in (None, False, True):
        x = leaf([1.0, 2.0])
        checkpoint(lambda t: (t * t).sum(), x, use_reentrant=reentrant,
                   determinism_check="default", debug=False).backward()
        assert x.grad.tolist() == [2.0, 4.0]
    x = leaf([1.0, 2.0])
    layers = [lambda t: t * 3, lambda t: t ** 2, lambda t: t.sum()]
    checkpoint_sequential(layers, 2, x, use_reentrant=False).backward()
    assert x.grad.tolist() == [18.0, 36.0]                  # d/dx (3x)^2 = 18 x
    with pytest.raises(NotImplementedError, match="context_fn"):
        checkpoint(lambda t: t.sum(), x, context_fn=lambda: None)
    with pytest.raises(ValueError, match="determinism_check"):
        checkpoint(lambda t: t.sum(), x, determinism_check="strict")


def test_a_data_loader_accepts_pytorchs_worker_options():
    """The same batches for any num_workers; bad values named as PyTorch names them."""
    plain = [b.tolist() for b in gpugrad.data.DataLoader(gpugrad.arange(10), batch_size=4)]
    workers = gpugrad.data.DataLoader(gpugrad.arange(10), batch_size=4, num_workers=2,
                                      pin_memory=True, persistent_workers=True,
                                      prefetch_factor=2, timeout=5)
    assert [b.tolist() for b in workers] == plain == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    with pytest.raises(ValueError, match="num_workers must be an int >= 0"):
        gpugrad.data.DataLoader(gpugrad.arange(10), num_workers=-1)
    with pytest.raises(TypeError, match="worker_init_fn must be callable"):
        gpugrad.data.DataLoader(gpugrad.arange(10), worker_init_fn=3)


class SquareSavingForForward(Function):
    """x^2 with what each rule reads saved separately, as PyTorch's save_for_forward."""

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0] * 2)         # the jvp reads 2x itself

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g

    @staticmethod
    def jvp(ctx, t):
        (two_x,) = ctx.saved_tensors
        return two_x * t


def test_save_for_forward_gives_the_jvp_its_own_saved_tensors():
    x, t = gpugrad.tensor([1.0, 2.0], dtype="float64"), gpugrad.tensor([1.0, 3.0],
                                                                       dtype="float64")
    out, tangent = func.jvp(SquareSavingForForward.apply, (x,), (t,))
    assert out.tolist() == [1.0, 4.0] and tangent.tolist() == [2.0, 12.0]     # 2 x t
    x = leaf([1.0, 2.0])
    SquareSavingForForward.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


class ProductWithScale(Function):
    """x * y * k; its jvp records the tangents it was given."""

    seen = []

    @staticmethod
    def forward(ctx, x, y, k, n):
        ctx.save_for_forward(x, y)
        return x * y * k

    @staticmethod
    def jvp(ctx, tx, ty, tk, tn):
        ProductWithScale.seen.append((tx, ty, tk, tn))
        x, y = ctx.saved_tensors
        return (tx * y + x * ty) * 2.0


def test_a_functions_jvp_gets_zeros_for_a_float_input_without_a_tangent():
    """As PyTorch's: zeros for a float tensor with no tangent at the level (so the product
    rule runs), None for an integer tensor and a non-tensor. d(2xy)/dx . t = 2 y t."""
    ProductWithScale.seen.clear()
    x, y = gpugrad.tensor([1.0, 2.0], dtype="float64"), gpugrad.tensor([3.0, 5.0],
                                                                       dtype="float64")
    n = gpugrad.tensor([1, 2])
    out, tangent = func.jvp(lambda a: ProductWithScale.apply(a, y, 2.0, n), (x,),
                            (gpugrad.ones(2, dtype="float64"),))
    assert out.tolist() == [6.0, 20.0] and tangent.tolist() == [6.0, 10.0]
    tx, ty, tk, tn = ProductWithScale.seen[-1]
    assert ty.tolist() == [0.0, 0.0] and tk is None and tn is None
    jac = func.jacfwd(lambda a, b: ProductWithScale.apply(a, b, 2.0, None), argnums=1)(x, y)
    assert jac.tolist() == [[2.0, 0.0], [0.0, 4.0]]                      # diag(2x)


def test_set_materialize_grads_false_gives_the_jvp_none_for_a_missing_tangent():
    class Scaled(ProductWithScale):
        @staticmethod
        def forward(ctx, x, y, k, n):
            ctx.set_materialize_grads(False)
            return x * y * k

        @staticmethod
        def jvp(ctx, tx, ty, tk, tn):
            ProductWithScale.seen.append((tx, ty, tk, tn))
            return tx * 3.0

    y = gpugrad.tensor([3.0, 5.0], dtype="float64")
    func.jvp(lambda a: Scaled.apply(a, y, 1.0, None), (y,), (y,))
    assert ProductWithScale.seen[-1][1] is None
