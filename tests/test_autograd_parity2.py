"""Custom Functions that modify an input in place (ctx.mark_dirty), mark_non_differentiable,
set_materialize_grads, autograd.grad(is_grads_batched=True) and the warning for reading a
non-leaf's .grad, against hand-derived values and PyTorch where installed."""

import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad.autograd import Function


class MulAdd_(Function):
    """x <- x * w + 1 in place: d/dx = w g, d/dw = x_old g."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x.clone(), w)
        x.mul_(w).add_(1.0)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        x_old, w = ctx.saved_tensors
        return g * w, g * x_old


def test_mark_dirty_returns_the_input_with_this_node_and_right_gradients():
    a = gpugrad.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    w = gpugrad.tensor([3.0, -1.0], dtype="float64", requires_grad=True)
    x = a * 2
    before = x._version
    y = MulAdd_.apply(x, w)
    assert y is x and x.grad_fn.name() == "MulAdd_Backward" and not x.is_leaf
    assert x.tolist() == [7.0, -3.0] and x._version > before
    (y * y).sum().backward()
    g = 2 * np.array([7.0, -3.0])                         # d(y^2)/dy
    np.testing.assert_allclose(a.grad.numpy(), 2 * g * np.array([3.0, -1.0]))
    np.testing.assert_allclose(w.grad.numpy(), g * np.array([2.0, 4.0]))


def test_mark_dirty_on_a_tensor_without_grad_joins_it_to_the_graph():
    w = gpugrad.tensor([2.0, 5.0], requires_grad=True)
    buf = gpugrad.ones(2)
    out = MulAdd_.apply(buf, w)
    assert out is buf and buf.requires_grad and buf.grad_fn is not None
    buf.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]                  # x_old = 1


def test_mark_dirty_refusals():
    leaf = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    w = gpugrad.ones(2)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used "
                                           "in an in-place operation"):
        MulAdd_.apply(leaf, w)
    with gpugrad.no_grad():                               # allowed there, as in PyTorch
        assert MulAdd_.apply(leaf, w) is leaf and leaf.grad_fn is None

    class NotReturned(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g
    with pytest.raises(RuntimeError, match="were not returned as output"):
        NotReturned.apply(leaf * 1)
    base = leaf * 1
    with pytest.raises(RuntimeError, match="mark_dirty on a view"):
        MulAdd_.apply(base[:1], gpugrad.ones(1))


def test_mark_dirty_is_seen_by_values_saved_before():
    a = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    c = a * 1
    d = c * c                                             # saves c
    MulAdd_.apply(c, gpugrad.ones(2))
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        d.sum().backward()


def _torch_mul_add(torch):
    """PyTorch's twin of MulAdd_: x <- x * w + 1 in place, marked dirty."""
    class TorchMulAdd_(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x.clone(), w)
            x.mul_(w).add_(1.0)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            x_old, w = ctx.saved_tensors
            return g * w, g * x_old
    return TorchMulAdd_


def test_mark_dirty_agrees_with_pytorch():
    torch = pytest.importorskip("torch")

    TorchMulAdd_ = _torch_mul_add(torch)

    a0, w0 = np.array([0.5, -2.0, 3.0]), np.array([1.5, 2.0, -0.5])
    grads = []
    for lib, fn in ((gpugrad, MulAdd_), (torch, TorchMulAdd_)):
        a = lib.tensor(a0, requires_grad=True)
        w = lib.tensor(w0, requires_grad=True)
        x = a * 2                          # (saves nothing that the write would spoil)
        y = fn.apply(x, w)
        assert y is x
        (y.sin() * x).sum().backward()
        grads.append((a.grad.numpy().copy(), w.grad.numpy().copy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def _ckpt_case(lib, fn, checkpoint):
    a = lib.tensor([0.5, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([1.5, 2.0, -0.5], dtype=lib.float64, requires_grad=True)

    def block(a, w):
        y = fn.apply(a.sin() * 1.0, w)                  # the dirty tensor: an intermediate
        return (y * y).exp()
    checkpoint(block, a, w).sum().backward()
    return a.grad.numpy().copy(), w.grad.numpy().copy()


def test_mark_dirty_inside_a_checkpoint():
    """The checkpoint's recomputation makes intermediates that require grad without a
    grad_fn: they are not leaves to refuse. Gradients: with y = sin(a) w + 1 and
    L = sum exp(y^2), dL/da = 2 y exp(y^2) w cos(a), dL/dw = 2 y exp(y^2) sin(a)."""
    from gpugrad.checkpoint import checkpoint
    ga, gw = _ckpt_case(gpugrad, MulAdd_, checkpoint)
    a0, w0 = np.array([0.5, -2.0, 3.0]), np.array([1.5, 2.0, -0.5])
    y = np.sin(a0) * w0 + 1
    outer = 2 * y * np.exp(y * y)
    np.testing.assert_allclose(ga, outer * w0 * np.cos(a0), rtol=1e-12)
    np.testing.assert_allclose(gw, outer * np.sin(a0), rtol=1e-12)
    leaf = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable"):    # still refused there
        checkpoint(lambda t: MulAdd_.apply(t, gpugrad.ones(2)), leaf)


def test_mark_dirty_inside_a_checkpoint_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as torch_checkpoint
    from gpugrad.checkpoint import checkpoint

    TorchMulAdd_ = _torch_mul_add(torch)
    ours = _ckpt_case(gpugrad, MulAdd_, checkpoint)
    theirs = _ckpt_case(torch, TorchMulAdd_,
                        lambda f, *a: torch_checkpoint(f, *a, use_reentrant=False))
    for mine, want in zip(ours, theirs):
        np.testing.assert_allclose(mine, want, rtol=1e-12)


def test_mark_dirty_under_vmap_is_refused_as_such():
    class Double_(Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return 2 * g
    with pytest.raises(RuntimeError, match="mark_dirty is not supported under vmap"):
        gpugrad.func.vmap(lambda x: Double_.apply(x * 1))(gpugrad.ones(3, 2))
    assert Double_.apply(gpugrad.ones(2)).tolist() == [2.0, 2.0]     # outside vmap: fine


def test_non_differentiable_outputs_and_unmaterialized_grads():
    seen = []

    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            order = gpugrad.tensor(np.argsort(x.numpy()))
            ctx.mark_non_differentiable(order)
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(order)
            return x[order], order

        @staticmethod
        def backward(ctx, g, g_order):
            seen.append(g_order)
            (order,) = ctx.saved_tensors
            out = gpugrad.zeros_like(g)
            out[order] = g
            return out

    x = gpugrad.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, order = SortWithIndex.apply(x)
    assert not order.requires_grad and values.requires_grad
    (values * gpugrad.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert seen == [None]                               # not zeros: materialize off
    assert x.grad.tolist() == [100.0, 1.0, 10.0]        # sorted position's weight


# --------------------------------------------------------------------- is_grads_batched
def _graph():
    x = gpugrad.tensor(np.linspace(-1, 1, 3), requires_grad=True)
    w = gpugrad.tensor(np.arange(6.0).reshape(3, 2) / 4, requires_grad=True)
    unused = gpugrad.ones(2, requires_grad=True)
    y = (x.reshape(1, 3) @ w).reshape(2).tanh()
    return x, w, unused, y, (y * y).sum()


def test_is_grads_batched_equals_a_loop_of_vjps():
    cotangents = np.random.default_rng(0).normal(size=(5, 2))
    x, w, unused, y, _ = _graph()
    gx, gw, gu = gpugrad.autograd.grad(y, (x, w, unused), gpugrad.tensor(cotangents),
                                       is_grads_batched=True, allow_unused=True)
    assert gx.shape == (5, 3) and gw.shape == (5, 3, 2) and gu is None
    x, w, _, y, _ = _graph()
    loop = [gpugrad.autograd.grad(y, (x, w), gpugrad.tensor(c), retain_graph=True)
            for c in cotangents]
    np.testing.assert_allclose(gx.numpy(), np.stack([g.numpy() for g, _ in loop]),
                               rtol=1e-12)
    np.testing.assert_allclose(gw.numpy(), np.stack([g.numpy() for _, g in loop]),
                               rtol=1e-12)
    # hand-derived: d tanh(xW)/dx contracted with c = (c * (1 - y^2)) @ W^T
    yv, wv = y.numpy(), w.numpy()
    np.testing.assert_allclose(gx.numpy(), (cotangents * (1 - yv ** 2)) @ wv.T, rtol=1e-12)


def test_is_grads_batched_hessian_rows_and_graph_release():
    x, w, _, _, loss = _graph()
    (g,) = gpugrad.autograd.grad(loss, x, create_graph=True)
    eye = gpugrad.tensor(np.eye(3))
    (h,) = gpugrad.autograd.grad(g, x, eye, retain_graph=True, is_grads_batched=True)
    rows = [gpugrad.autograd.grad(g, x, e, retain_graph=True)[0].numpy() for e in eye]
    np.testing.assert_allclose(h.numpy(), np.stack(rows), rtol=1e-12)   # the Hessian
    np.testing.assert_allclose(h.numpy(), h.numpy().T, rtol=1e-10)      # symmetric
    (h2,) = gpugrad.autograd.grad(g, x, eye, is_grads_batched=True)      # frees the graph
    np.testing.assert_allclose(h2.numpy(), h.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="a second time"):          # freed by the last
        gpugrad.autograd.grad(g, x, eye[0])
    _, w, unused, y, _ = _graph()
    gw, gu = gpugrad.autograd.grad(y, (w, unused), gpugrad.ones(4, 2), is_grads_batched=True,
                                   materialize_grads=True)
    assert gw.shape == (4, 3, 2) and gu.shape == (2,) and not gu.numpy().any()  # PyTorch's
    with pytest.raises(ValueError, match="is_grads_batched=True needs grad_outputs"):
        gpugrad.autograd.grad(loss, x, is_grads_batched=True)


def test_is_grads_batched_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    cotangents = np.random.default_rng(2).normal(size=(4, 2))
    x, w, _, y, _ = _graph()
    ours = gpugrad.autograd.grad(y, (x, w), gpugrad.tensor(cotangents), is_grads_batched=True)
    tx = torch.tensor(x.numpy(), requires_grad=True)
    tw = torch.tensor(w.numpy(), requires_grad=True)
    ty = (tx.reshape(1, 3) @ tw).reshape(2).tanh()
    theirs = torch.autograd.grad(ty, (tx, tw), torch.tensor(cotangents),
                                 is_grads_batched=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


# ------------------------------------------------------------------ .grad of a non-leaf
def test_is_grads_batched_cotangent_errors_name_the_batch_dimension():
    x, w, _, y, _ = _graph()
    with pytest.raises(ValueError, match=r"entry 1 is None; with is_grads_batched=True give "
                                         r"a \(B, \*output.shape\) tensor for every output"):
        gpugrad.autograd.grad((y, y * 2), x, (gpugrad.ones(3, 2), None), is_grads_batched=True)
    with pytest.raises(ValueError, match=r"dimension 0 of each grad_outputs entry is the "
                                         r"batch.*entry 0 has shape \(3, 1, 2\), output 0 "
                                         r"has shape \(2,\)"):
        gpugrad.autograd.grad(y, x, gpugrad.ones(3, 1, 2), is_grads_batched=True)
    with pytest.raises(ValueError, match="the same batch size"):
        gpugrad.autograd.grad((y, y), x, (gpugrad.ones(3, 2), gpugrad.ones(4, 2)),
                              is_grads_batched=True)


def test_is_grads_batched_materialized_zeros_and_errors_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (gpugrad, torch):
        x = lib.ones(2, 2, requires_grad=True)
        unused = lib.ones(3, requires_grad=True)
        g, zeros = lib.autograd.grad(x * 2, [x, unused], lib.ones(4, 2, 2),
                                     is_grads_batched=True, materialize_grads=True)
        assert tuple(g.shape) == (4, 2, 2) and tuple(zeros.shape) == (3,)
        assert np.all(g.numpy() == 2) and not zeros.numpy().any()
        with pytest.raises((ValueError, RuntimeError), match="grad_output|grad_outputs"):
            lib.autograd.grad(x * 2, [x], [lib.ones(3, 1, 2)], is_grads_batched=True)


def test_reading_grad_of_a_non_leaf_warns_and_gives_none():
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match=r"not a leaf Tensor .*retain_grad\(\).*detach\(\)"):
        assert y.grad is None
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.grad is None and x.grad is None           # retained / a leaf: silent
        y.sum().backward()
        assert y.grad.tolist() == [1.0, 1.0] and x.grad.tolist() == [2.0, 2.0]


def test_non_leaf_grad_warning_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (gpugrad, torch):
        y = lib.ones(2, requires_grad=True) * 3
        with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed|"
                                             r"not a leaf Tensor \(made by"):
            assert y.grad is None
