"""In-place view ops (ops/inplace_shape.py: unsqueeze_, squeeze_, t_, transpose_, swapdims_,
swapaxes_; resize_ refused) and pinv's tolerances given as tensors (ops/matrix_pinv.py):
shapes, values, version counts, gradients and errors by hand and float64 finite differences,
and against PyTorch where it is installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad import func

X = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]])
W = np.array([[0.5, 1.0], [-1.0, 2.0], [3.0, -0.5]])


def _t64(a, requires_grad=False):
    return gpugrad.tensor(a, dtype="float64", requires_grad=requires_grad)


# ------------------------------------------------------------------ in-place view ops
def test_each_returns_itself_in_the_new_shape_and_counts_one_version():
    x = gpugrad.zeros(2, 1, 3)
    before = x[0]
    steps = [(lambda: x.squeeze_(1), (2, 3)), (lambda: x.unsqueeze_(-1), (2, 3, 1)),
             (lambda: x.transpose_(0, 2), (1, 3, 2)), (lambda: x.swapdims_(1, 2), (1, 2, 3)),
             (lambda: x.swapaxes_(0, 1), (2, 1, 3)), (lambda: x.squeeze_((0, 1)), (2, 3)),
             (lambda: x.t_(), (3, 2)), (lambda: x.squeeze_(), (3, 2)),
             (lambda: x.unsqueeze_(dim=0), (1, 3, 2)), (lambda: x.squeeze_(dim=0), (3, 2))]
    for k, (step, shape) in enumerate(steps, 1):
        assert step() is x and x.shape == shape
        assert x._version_value == k == before._version_value
    assert before.shape == (1, 3)                       # views taken before keep their shape
    v = gpugrad.ones(3)
    assert v.t_().shape == (3,) and gpugrad.tensor(2.0).transpose_(0, -1).shape == ()


def test_memory_is_shared_both_ways():
    base = gpugrad.arange(6.0).reshape(2, 3)
    row = base[0]
    row.unsqueeze_(0)
    row[0, 1] = 100.0                                   # a write through the changed view
    base.t_()
    base[2, 1] = -1.0                                   # a write through the transposed base
    assert base.tolist() == [[0.0, 3.0], [100.0, 4.0], [2.0, -1.0]]
    assert row.tolist() == [[0.0, 100.0, 2.0]] and not base.is_contiguous()


def test_gradients_by_hand():
    x = _t64(X, requires_grad=True)
    y = x * 1
    y.t_()                                              # (3, 2)
    (y * _t64(W)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), W.T)
    assert y.grad_fn is not None and not y.is_leaf

    # a view of a non-leaf, reshaped in place, then made again when its base changes:
    # loss = sum((3 x[:, 1])^2), so d/dx = 18 x[:, 1] in column 1
    x = _t64(X, requires_grad=True)
    y = x * 1
    v = y[:, 1]
    v.unsqueeze_(1)
    y.mul_(3)
    (v * v).sum().backward()
    want = np.zeros_like(X)
    want[:, 1] = 18 * X[:, 1]
    np.testing.assert_allclose(x.grad.numpy(), want)
    assert v.shape == (2, 1)

    # written through the reshaped view: y = x with column 1 tripled; loss = sum(y^2)
    x = _t64(X, requires_grad=True)
    y = x * 1
    v = y[:, 1]
    v.unsqueeze_(1)
    v.mul_(3)
    (y * y).sum().backward()
    want = 2 * X
    want[:, 1] *= 9
    np.testing.assert_allclose(x.grad.numpy(), want)


def test_gradients_against_finite_differences_and_second_order():
    w = _t64(X[::-1] + 0.5)

    def f(x):
        y = x * x
        y.unsqueeze_(0).transpose_(0, 2).squeeze_()        # (2, 3) -> (3, 2)
        z = y.sin()
        z.t_()
        return (z * w).sum()

    assert gpugrad.autograd.gradcheck(f, (_t64(X, requires_grad=True),))
    assert gpugrad.autograd.gradgradcheck(f, (_t64(X, requires_grad=True),))


def test_refused_as_pytorch_refuses():
    leaf = gpugrad.ones(2, 3, requires_grad=True)
    for op in (lambda t: t.unsqueeze_(0), lambda t: t.squeeze_(), lambda t: t.t_(),
               lambda t: t.transpose_(0, 1), lambda t: t.swapdims_(0, 1)):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
            op(leaf)
        with pytest.raises(RuntimeError, match="view .* of a leaf tensor that requires grad"):
            op(leaf[0:1])
    assert leaf.shape == (2, 3) and leaf._version_value == 0
    with gpugrad.no_grad():                             # allowed there; still a leaf
        assert leaf.unsqueeze_(0) is leaf
    assert leaf.shape == (1, 2, 3) and leaf.is_leaf and leaf.requires_grad

    x = gpugrad.ones(2, 3, requires_grad=True)
    y = x * 1
    loss = (y * y).sum()                                # saves y
    y.unsqueeze_(0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()

    with gpugrad.inference_mode():
        made = gpugrad.ones(2)
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor"):
        made.unsqueeze_(0)
    assert made.shape == (2,)


def test_errors_name_the_problem():
    t = gpugrad.zeros(2, 1, 3)
    with pytest.raises(IndexError, match="out of range"):
        t.squeeze_(3)
    with pytest.raises(RuntimeError, match="more than once"):
        t.squeeze_((1, 1))
    with pytest.raises(IndexError, match="out of range"):
        t.unsqueeze_(4)
    with pytest.raises(IndexError, match="out of range"):
        t.transpose_(0, 3)
    with pytest.raises(RuntimeError, match=r"at most 2 dimensions.*\(2, 1, 3\)"):
        t.t_()
    with pytest.raises(NotImplementedError, match="reshape"):
        t.resize_(6)
    assert t.shape == (2, 1, 3) and t._version_value == 0


def test_inside_vmap_forward_mode_and_compile():
    def per_example(a):                                 # a: (1, 2) per example
        b = a * a
        b.t_()                                          # (2, 1)
        return (b * gpugrad.tensor([[1.0], [2.0]], dtype="float64")).sum()

    a = _t64(np.arange(6.0).reshape(3, 1, 2))
    grads = func.vmap(func.grad(per_example))(a)        # d/da (a0^2 + 2 a1^2)
    np.testing.assert_allclose(grads.numpy(), a.numpy() * np.array([2.0, 4.0]))
    assert func.vmap(lambda e: e.unsqueeze_(0))(gpugrad.ones(3, 2)).shape == (3, 1, 2)

    from gpugrad.autograd import forward_ad as fwAD
    with fwAD.dual_level():
        p = fwAD.make_dual(_t64(X), _t64(np.arange(6.0).reshape(2, 3)))
        q = p * 2
        q.t_()
        np.testing.assert_allclose(fwAD.unpack_dual(q).tangent.numpy(),
                                   2 * np.arange(6.0).reshape(2, 3).T)

    with pytest.raises(gpugrad.autograd.compile_mode.CompileError, match="out-of-place"):
        gpugrad.compile(lambda t: (t * 1).unsqueeze_(0))(gpugrad.ones(2))


def _program(lib, x):
    y = x * 1
    v = y[:, 1]
    v.unsqueeze_(1)
    v.mul_(3)                                           # through the reshaped view
    y.t_()
    w = y[0]
    y.transpose_(0, 1)
    y.unsqueeze_(0).squeeze_()
    z = y.sin()
    z.swapdims_(0, 1).swapaxes_(0, 1)
    return [y * z * lib.arange(6.0, dtype=x.dtype).reshape(2, 3), w * 1, v * 1]


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    xt = torch.tensor(X, requires_grad=True)
    xg = _t64(X, requires_grad=True)
    outs_t, outs_g = _program(torch, xt), _program(gpugrad, xg)
    for a, b in zip(outs_t, outs_g):
        assert tuple(a.shape) == b.shape
        np.testing.assert_allclose(b.numpy(), a.detach().numpy(), rtol=1e-12)
    sum(o.sum() for o in outs_t).backward()
    sum(o.sum() for o in outs_g).backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    for name, args in (("unsqueeze_", (0,)), ("squeeze_", ()), ("t_", ()),
                       ("transpose_", (0, 1))):
        ref, mine = torch.ones(1, 2), gpugrad.ones(1, 2)
        getattr(ref, name)(*args)
        getattr(mine, name)(*args)
        assert (tuple(ref.shape), ref._version) == (mine.shape, mine._version_value)


# ------------------------------------------------------------------ pinv's tolerances
def _diagonals(*pairs):
    return _t64(np.stack([np.diag(p) for p in pairs]))


def test_pinv_tensor_tolerances_per_matrix_by_hand():
    a = _diagonals([1.0, 0.1], [1.0, 0.1], [2.0, 0.0])
    rtol = _t64([0.5, 0.05, 0.5])                       # 0.1 dropped, kept, (0 dropped)
    want = np.stack([np.diag([1.0, 0.0]), np.diag([1.0, 10.0]), np.diag([0.5, 0.0])])
    np.testing.assert_allclose(gpugrad.linalg.pinv(a, rtol=rtol).numpy(), want)
    np.testing.assert_allclose(gpugrad.linalg.pinv(a, atol=_t64([0.5, 0.05, 1.0])).numpy(),
                               want)
    # atol 0 where given so: rtol falls back to eps * max(m, n) there, as PyTorch's
    b = _diagonals([1.0, 1e-20], [1.0, 0.1])
    np.testing.assert_allclose(gpugrad.linalg.pinv(b, atol=_t64([0.0, 0.2])).numpy(),
                               np.stack([np.diag([1.0, 0.0]), np.diag([1.0, 0.0])]))
    # broadcast with the batch: (2, 1) tolerances and 2 matrices give (2, 2) matrices
    out = gpugrad.linalg.pinv(a[:2], rtol=_t64([[0.5], [0.05]]))
    assert out.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(out.numpy()[:, :, 1, 1], [[0.0, 0.0], [10.0, 10.0]])
    out = gpugrad.linalg.pinv(a[0], rtol=_t64([0.5, 0.05]))     # one matrix, 2 tolerances
    np.testing.assert_allclose(out.numpy()[:, 1, 1], [0.0, 10.0])
    with pytest.raises(ValueError, match=r"broadcast with the batch shape \(3,\)"):
        gpugrad.linalg.pinv(a, rtol=_t64([0.1, 0.2]))


def test_pinv_tensor_tolerance_gradients_and_vmap():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 2))
    rtol = _t64([1e-3, 1e-2, 1e-1])                        # (a constant: no gradient)

    def f(m):
        return gpugrad.linalg.pinv(m, rtol=rtol)

    assert gpugrad.autograd.gradcheck(f, (_t64(a, requires_grad=True),))
    x = _t64(a, requires_grad=True)
    (f(x) ** 2).sum().backward()
    y = _t64(a, requires_grad=True)
    (gpugrad.linalg.pinv(y) ** 2).sum().backward()       # the same rank: the same gradient
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument"):
        gpugrad.linalg.pinv(x, rtol=_t64([1e-3, 1e-2, 1e-1], requires_grad=True))

    b = _diagonals([1.0, 0.1], [1.0, 0.1])
    per_example = func.vmap(lambda m, r: gpugrad.linalg.pinv(m, rtol=r))(b, _t64([0.5, 0.05]))
    np.testing.assert_allclose(per_example.numpy()[:, 1, 1], [0.0, 10.0])
    shared = func.vmap(lambda r: gpugrad.linalg.pinv(b[0], rtol=r))(_t64([0.5, 0.05]))
    np.testing.assert_allclose(shared.numpy()[:, 1, 1], [0.0, 10.0])


def test_pinv_tensor_tolerances_against_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 3, 3))
    a[1, :, 2] = a[1, :, 0] + 1e-3 * a[1, :, 1]
    r = np.array([1e-1, 1e-1, 1e-2, 1e-9])
    cases = [dict(rtol=r), dict(atol=r), dict(rtol=r.reshape(4, 1, 1)),
             dict(atol=np.array([0.0, 0.5, 0.0, 0.5])), dict(rtol=np.array(0.1))]
    for kw in cases:
        want = torch.linalg.pinv(torch.tensor(a), **{k: torch.tensor(v) for k, v in kw.items()})
        got = gpugrad.linalg.pinv(_t64(a), **{k: _t64(v) for k, v in kw.items()})
        assert got.shape == tuple(want.shape)
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-10)


def test_pinv_rcond_tensor():
    a = _diagonals([1.0, 0.1], [1.0, 0.1])
    out = gpugrad.linalg.pinv(a, rcond=_t64([0.5, 0.05]))
    np.testing.assert_allclose(out.numpy()[:, 1, 1], [0.0, 10.0])
