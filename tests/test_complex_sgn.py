"""``gpugrad.sgn`` of a complex tensor: ``z / |z|`` (0 at 0), as ``torch.sgn``, with PyTorch's
gradient convention (z.grad = dL/dRe(z) + i dL/dIm(z) for a real loss L).

Checked against central finite differences along the real and imaginary parts in complex128
(reverse mode, forward mode, second order), hand-derived values, and torch (skipped without).
"""

import numpy as np
import pytest

import gpugrad
import gpugrad.autograd.forward_ad as fwAD
from gpugrad.autograd import grad as autograd_grad

EPS = 1e-6


def _sample(seed, shape=(2, 3)):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-1.5, 1.5, shape) + 1j * rng.uniform(-1.5, 1.5, shape)
    return np.where(np.abs(z) < 0.3, z + 0.5, z)      # (away from the kink at 0)


def _weights(seed, shape):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape) + 1j * rng.normal(size=shape)


def _loss_numpy(z, w):
    """L = Re(sum(conj(w) sgn(z))), real: the pairing of the output with a cotangent w."""
    return float(np.real(np.sum(np.conj(w) * z / np.abs(z))))


def _numeric_gradient(loss, z):
    """dL/dRe + i dL/dIm by central differences."""
    g = np.zeros_like(z)
    for k in range(z.size):
        for d in (1, 1j):
            plus, minus = z.copy(), z.copy()
            plus.flat[k] += EPS * d
            minus.flat[k] -= EPS * d
            g.flat[k] += d * (loss(plus) - loss(minus)) / (2 * EPS)
    return g


def test_forward_values_by_hand():
    out = gpugrad.sgn(gpugrad.tensor([3 + 4j, 0j, -2j, -5 + 0j], dtype=gpugrad.complex128))
    assert out.dtype == gpugrad.complex128
    np.testing.assert_allclose(out.numpy(), [0.6 + 0.8j, 0, -1j, -1], atol=1e-15)
    assert gpugrad.sgn(gpugrad.tensor([1 + 1j])).dtype == gpugrad.complex64
    assert gpugrad.sgn(gpugrad.tensor([-2.0, 0.0, 3.0])).tolist() == [-1.0, 0.0, 1.0]


def test_gradient_by_hand():
    """At z = 3+4i (|z| = 5, s = 0.6+0.8i): L = Re(sgn z) has gradient
    (1 - Re(conj(s)) s) / 5 = (1 - 0.6 (0.6+0.8i)) / 5 = (0.64 - 0.48i) / 5."""
    z = gpugrad.tensor([3 + 4j], dtype=gpugrad.complex128, requires_grad=True)
    gpugrad.sgn(z).real.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [(0.64 - 0.48j) / 5], rtol=1e-12)


def test_reverse_mode_matches_finite_differences():
    z0, w = _sample(0), _weights(1, (2, 3))
    z = gpugrad.tensor(z0, requires_grad=True)
    (g,) = autograd_grad(gpugrad.sgn(z), [z], grad_outputs=gpugrad.tensor(w))
    want = _numeric_gradient(lambda a: _loss_numpy(a, w), z0)
    assert g.dtype == gpugrad.complex128
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-6, atol=1e-8)


def test_gradient_and_tangent_are_zero_at_zero():
    z = gpugrad.tensor([0j, 1 + 0j], dtype=gpugrad.complex128, requires_grad=True)
    (g,) = autograd_grad(gpugrad.sgn(z), [z], grad_outputs=gpugrad.tensor([1 + 1j, 1j]))
    np.testing.assert_allclose(g.numpy(), [0, 1j], atol=1e-15)   # at 1: only Im moves sgn
    assert np.isfinite(g.numpy()).all()


def _dual(array, tangent):
    return gpugrad.complex(fwAD.make_dual(gpugrad.tensor(array.real),
                                          gpugrad.tensor(tangent.real)),
                           fwAD.make_dual(gpugrad.tensor(array.imag),
                                          gpugrad.tensor(tangent.imag)))


def test_forward_mode_matches_finite_differences():
    z0, t = _sample(2), _weights(3, (2, 3))
    with fwAD.dual_level():
        tangent = fwAD.unpack_dual(gpugrad.sgn(_dual(z0, t))).tangent
    want = ((z0 + EPS * t) / np.abs(z0 + EPS * t) - (z0 - EPS * t) / np.abs(z0 - EPS * t)) \
        / (2 * EPS)
    np.testing.assert_allclose(tangent.numpy(), want, rtol=1e-6, atol=1e-8)


def test_second_order_matches_finite_differences_of_the_gradient():
    """The gradient in z of Re(<grad(z), v>), through create_graph."""
    z0, w, v = _sample(4), _weights(5, (2, 3)), _weights(6, (2, 3))

    def first(a, create_graph=False):
        z = gpugrad.tensor(a, requires_grad=True)
        (g,) = autograd_grad(gpugrad.sgn(z), [z], grad_outputs=gpugrad.tensor(w),
                             create_graph=create_graph)
        return z, g

    z, g = first(z0, create_graph=True)
    (second,) = autograd_grad(g, [z], grad_outputs=gpugrad.tensor(v))
    want = _numeric_gradient(
        lambda a: float(np.real(np.sum(np.conj(v) * first(a)[1].numpy()))), z0)
    np.testing.assert_allclose(second.numpy(), want, rtol=1e-5, atol=1e-7)


def test_in_place_and_method_forms():
    z = gpugrad.tensor([3 + 4j, -2j])
    assert np.allclose(z.sgn().numpy(), [0.6 + 0.8j, -1j])
    z.sgn_()
    assert np.allclose(z.numpy(), [0.6 + 0.8j, -1j])


def test_matches_torch():
    torch = pytest.importorskip("torch")
    z0, w = _sample(7), _weights(8, (2, 3))
    z0[0, 0] = 0                                 # (torch's gradient there is 0 too)
    z = gpugrad.tensor(z0, requires_grad=True)
    out = gpugrad.sgn(z)
    (g,) = autograd_grad(out, [z], grad_outputs=gpugrad.tensor(w))
    tz = torch.tensor(z0, requires_grad=True)
    t_out = torch.sgn(tz)
    (tg,) = torch.autograd.grad(t_out, [tz], grad_outputs=torch.tensor(w))
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-10, atol=1e-12)
