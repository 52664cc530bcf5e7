"""autograd.functional (jacobian, hessian, vjp, jvp, vhp, hvp): shapes, tuple structure and
values by hand in float64, strict mode and create_graph; against PyTorch's
torch.autograd.functional where installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad.autograd import functional as AF

XA = np.array([0.3, -0.8, 1.3])
YA = np.array([0.7, -0.2])
V3 = np.array([0.5, -1.0, 2.0])
V2 = np.array([1.5, 0.25])


def t64(lib, a):
    return lib.tensor(a, dtype=lib.float64)


def f_one(x):                       # R^3 -> R^3, diagonal Jacobian 2 x cos(x^2)
    return (x ** 2).sin()


def f_two(x, y):                    # two inputs, two outputs
    return (x[:2] * y).exp(), (x ** 3).sum() * y.sum()


def s_two(x, y):                    # a scalar of two inputs
    return (x[:2] * y).tanh().sum() + (x ** 3).sum()


def test_jacobian_structure_and_values_by_hand():
    x, y = t64(gpugrad, XA), t64(gpugrad, YA)
    for vectorize in (False, True):
        j = AF.jacobian(f_one, x, vectorize=vectorize)
        np.testing.assert_allclose(j.numpy(), np.diag(2 * XA * np.cos(XA ** 2)), rtol=1e-13)
        (j00, j01), (j10, j11) = AF.jacobian(f_two, (x, y), vectorize=vectorize)
        assert (j00.shape, j01.shape, j10.shape, j11.shape) == ((2, 3), (2, 2), (3,), (2,))
        e = np.exp(XA[:2] * YA)
        np.testing.assert_allclose(j00.numpy(), np.c_[np.diag(e * YA), np.zeros(2)],
                                   rtol=1e-13)
        np.testing.assert_allclose(j01.numpy(), np.diag(e * XA[:2]), rtol=1e-13)
        np.testing.assert_allclose(j10.numpy(), 3 * XA ** 2 * YA.sum(), rtol=1e-13)
        np.testing.assert_allclose(j11.numpy(), [np.sum(XA ** 3)] * 2, rtol=1e-13)
        assert not j00.requires_grad
    one_in = AF.jacobian(lambda x: (x * 2, x.sum()), x)           # outputs tuple, input not
    assert isinstance(one_in, tuple) and one_in[0].shape == (3, 3) and one_in[1].shape == (3,)


def test_hessian_vjp_jvp_vhp_hvp_by_hand():
    x = t64(gpugrad, XA)
    cube = lambda t: (t ** 3).sum()                         # noqa: E731  H = diag(6x)
    np.testing.assert_allclose(AF.hessian(cube, x).numpy(), np.diag(6 * XA), rtol=1e-13)
    out, g = AF.vjp(f_one, x, t64(gpugrad, V3))
    np.testing.assert_allclose(out.numpy(), np.sin(XA ** 2))
    np.testing.assert_allclose(g.numpy(), V3 * 2 * XA * np.cos(XA ** 2), rtol=1e-13)
    out, t = AF.jvp(f_one, x, t64(gpugrad, V3))
    np.testing.assert_allclose(t.numpy(), V3 * 2 * XA * np.cos(XA ** 2), rtol=1e-13)
    for fn in (AF.vhp, AF.hvp):
        out, hv = fn(cube, x, t64(gpugrad, V3))
        assert out.item() == pytest.approx(np.sum(XA ** 3))
        np.testing.assert_allclose(hv.numpy(), 6 * XA * V3, rtol=1e-13)
    (h00, h01), (h10, h11) = AF.hessian(s_two, (x, t64(gpugrad, YA)))
    assert (h00.shape, h01.shape, h10.shape, h11.shape) == ((3, 3), (3, 2), (2, 3), (2, 2))
    np.testing.assert_allclose(h01.numpy(), h10.numpy().T, rtol=1e-12)
    _, g = AF.vjp(lambda t: (t ** 2).sum(), x)                  # v omitted: one element
    np.testing.assert_allclose(g.numpy(), 2 * XA)
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.vjp(f_one, x)


def test_strict_and_create_graph():
    x, y = t64(gpugrad, XA), t64(gpugrad, YA)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is "
                                           "independent of input 1"):
        AF.jacobian(lambda a, b: a * 2, (x, y), strict=True)
    zeros = AF.jacobian(lambda a, b: a * 2, (x, y))[1]
    assert zeros.shape == (3, 2) and not zeros.numpy().any()
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.vjp(lambda a, b: a * 2, (x, y), t64(gpugrad, V3), strict=True)
    xg = t64(gpugrad, XA).requires_grad_()
    j = AF.jacobian(lambda t: t ** 3, xg, create_graph=True)      # diag(3x^2)
    assert j.requires_grad
    (d,) = gpugrad.autograd.grad(j.sum(), xg)
    np.testing.assert_allclose(d.numpy(), 6 * XA, rtol=1e-13)
    with pytest.raises(NotImplementedError, match="forward-mode"):
        AF.jacobian(f_one, x, create_graph=True, strategy="forward-mode")
    np.testing.assert_allclose(
        AF.jacobian(f_one, x, vectorize=True, strategy="forward-mode").numpy(),
        AF.jacobian(f_one, x).numpy())


def _same(ours, theirs):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        assert not isinstance(ours, tuple)
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-11,
                                   atol=1e-13)


def test_functional_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    TF = torch.autograd.functional
    for vectorize in (False, True):
        _same(AF.jacobian(f_one, t64(gpugrad, XA), vectorize=vectorize),
              TF.jacobian(f_one, t64(torch, XA), vectorize=vectorize))
        _same(AF.jacobian(f_two, (t64(gpugrad, XA), t64(gpugrad, YA)), vectorize=vectorize),
              TF.jacobian(f_two, (t64(torch, XA), t64(torch, YA)), vectorize=vectorize))
        _same(AF.hessian(s_two, (t64(gpugrad, XA), t64(gpugrad, YA)), vectorize=vectorize),
              TF.hessian(s_two, (t64(torch, XA), t64(torch, YA)), vectorize=vectorize))
    for name in ("vjp", "jvp"):
        _same(getattr(AF, name)(f_one, t64(gpugrad, XA), t64(gpugrad, V3)),
              getattr(TF, name)(f_one, t64(torch, XA), t64(torch, V3)))
    for name in ("vhp", "hvp"):
        _same(getattr(AF, name)(s_two, (t64(gpugrad, XA), t64(gpugrad, YA)),
                                (t64(gpugrad, V3), t64(gpugrad, V2))),
              getattr(TF, name)(s_two, (t64(torch, XA), t64(torch, YA)),
                                (t64(torch, V3), t64(torch, V2))))
