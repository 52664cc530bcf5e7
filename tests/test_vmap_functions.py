"""vmap through custom Functions (a generated batching rule or a vmap staticmethod), with
transforms inside the vmap and outside it, and through an op record without a rule (the
warned loop)."""

import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad.autograd import Function, once_differentiable
from gpugrad.func import grad, jvp, vmap
from gpugrad.ops.record import Op, apply

X = np.random.default_rng(5).normal(size=(4, 3))


def t(a, **kwargs):
    return gpugrad.tensor(a, **kwargs)


class _Cube(Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2


class _NoRule(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


class _Scale(_NoRule):
    """_NoRule with a batching rule, which calls the Function on the batch."""
    calls = 0

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def vmap(info, in_dims, x):
        _Scale.calls += 1
        assert info.batch_size == 4 and in_dims == (0,)
        return _Scale.apply(x), 0


class _StraightThrough(Function):
    """Forward: x; backward: 10 g (a backward that is not the forward's derivative)."""
    generate_vmap_rule = True

    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, g):
        return g * 10


class _Times(Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * w

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g * w, g * x

    @staticmethod
    def jvp(ctx, tx, tw):
        x, w = ctx.saved_tensors
        return (0 if tx is None else tx * w) + (0 if tw is None else x * tw)


def test_transforms_outside_vmap_see_a_custom_functions_backward():
    x = t(X, requires_grad=True)
    vmap(_Cube.apply)(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * X ** 2, rtol=1e-12)
    through = grad(lambda v: vmap(_StraightThrough.apply)(v).sum())(t(X))
    np.testing.assert_array_equal(through.numpy(), np.full(X.shape, 10.0))
    w = t(np.array([2.0, -1.0, 0.5]), requires_grad=True)
    vmap(_Times.apply, in_dims=(0, None))(t(X), w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), X.sum(axis=0), rtol=1e-12)
    _, tangent = jvp(lambda v: vmap(_Times.apply, in_dims=(0, None))(v, w.detach()),
                     (t(X),), (t(np.ones_like(X)),))
    np.testing.assert_allclose(tangent.numpy(), np.broadcast_to([2.0, -1.0, 0.5], X.shape))
    _Scale.calls = 0
    x = t(X, requires_grad=True)
    vmap(_Scale.apply)(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(X.shape, 2.0))
    assert _Scale.calls == 1


def test_custom_functions_batch_through_their_rules():
    out = vmap(grad(lambda x: _Cube.apply(x).sum()))(t(X))
    np.testing.assert_allclose(out.numpy(), 3 * X ** 2, rtol=1e-12)
    _Scale.calls = 0
    out = vmap(grad(lambda x: (_Scale.apply(x) ** 2).sum()))(t(X))
    np.testing.assert_allclose(out.numpy(), 8 * X, rtol=1e-12)
    assert _Scale.calls == 1
    with pytest.raises(RuntimeError, match="generate_vmap_rule"):
        vmap(lambda x: _NoRule.apply(x))(t(X))


def test_an_op_without_a_rule_loops_with_one_warning():
    from gpugrad.ops import REGISTRY, batching

    class _Twice(Op):
        """A record without a batching rule: vmap loops over the examples."""

        def forward(xp, x):
            return x * 2

        def vjp(ctx, g):
            return g * 2
    try:
        with pytest.warns(RuntimeWarning, match="_Twice has no batching rule"):
            out = vmap(lambda x: apply(_Twice, x))(t(X))
        np.testing.assert_allclose(out.numpy(), 2 * X)
        with warnings.catch_warnings():
            warnings.simplefilter("error")          # warned once: not again
            per_example = vmap(grad(lambda x: apply(_Twice, x).sum()))(t(X))
        np.testing.assert_allclose(per_example.numpy(), np.full(X.shape, 2.0))
    finally:
        REGISTRY.pop("_Twice", None)
        batching._WARNED.discard("_Twice")


class _CubeOnce(_Cube):
    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2


class _SquareAndMax(Function):
    """(x**2, max(x)); the max is marked non-differentiable."""
    generate_vmap_rule = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        top = x.max() * 1.0
        ctx.mark_non_differentiable(top)
        return x * x, top

    @staticmethod
    def backward(ctx, g, g_top):
        (x,) = ctx.saved_tensors
        return g * 2 * x


def test_nested_vmaps_and_second_derivatives_through_a_generated_rule():
    grid = t(X[None])
    np.testing.assert_allclose(vmap(vmap(_Cube.apply))(grid).numpy(), X[None] ** 3)
    outer = grad(lambda v: vmap(vmap(_Cube.apply))(v).sum())(grid)
    np.testing.assert_allclose(outer.numpy(), 3 * X[None] ** 2, rtol=1e-12)
    inner = vmap(vmap(grad(_Cube.apply)))(t(X))
    np.testing.assert_allclose(inner.numpy(), 3 * X ** 2, rtol=1e-12)
    second = vmap(grad(lambda y: grad(lambda z: _Cube.apply(z).sum())(y).sum()))(t(X))
    np.testing.assert_allclose(second.numpy(), 6 * X, rtol=1e-12)
    through = grad(lambda v: vmap(grad(lambda y: _Cube.apply(y).sum()))(v).sum())(t(X))
    np.testing.assert_allclose(through.numpy(), 6 * X, rtol=1e-12)


def test_a_generated_rule_keeps_the_functions_checks():
    def overwritten(x):
        kept = x * 1.0
        y = _Cube.apply(kept)
        kept.mul_(2.0)
        return y.sum()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        vmap(grad(overwritten))(t(X))
    squares, top = vmap(_SquareAndMax.apply)(t(X, requires_grad=True))
    assert squares.requires_grad and not top.requires_grad
    with pytest.raises(RuntimeError, match="once_differentiable"):
        grad(lambda x: grad(lambda y: vmap(_CubeOnce.apply)(y).sum())(x).sum())(t(X))


def test_grad_of_per_example_gradients():
    """grad(vmap(grad(f))): the inner gradients are recorded for the outer transform."""
    outer = grad(lambda x: vmap(grad(lambda y: (y ** 3).sum()))(x).sum())(t(X))
    np.testing.assert_allclose(outer.numpy(), 6 * X, rtol=1e-12)
