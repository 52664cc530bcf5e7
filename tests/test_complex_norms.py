"""Norms of complex tensors (real results: norms of |x|, as PyTorch's) and gpugrad.func.vjp
with complex outputs, against float64 NumPy and hand-derived gradients (torch where
installed)."""

import numpy as np
import pytest

import gpugrad
import gpugrad.nn.functional as F

X = np.array([1 + 2j, -3 + 0.5j, 2 - 1j])
Y = np.array([0.5j, 1 + 0j, -1 + 1j])


def _leaf(a):
    return gpugrad.tensor(a, dtype="complex128", requires_grad=True)


@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, np.inf, -np.inf])
def test_vector_norm_of_complex_is_the_real_norm_of_its_magnitudes(ord):
    x = _leaf(X)
    n = gpugrad.linalg.vector_norm(x, ord)
    assert n.dtype == np.float64
    np.testing.assert_allclose(n.item(), np.linalg.norm(X, ord), rtol=1e-12)
    n.backward()
    # d||x||_p / dz = |x|^(p-1) sgn(x) / ||x||^(p-1)  (PyTorch's dL/dRe + i dL/dIm)
    mag = np.abs(X)
    if np.isinf(ord):
        hit = mag == (mag.max() if ord > 0 else mag.min())     # ties share it evenly
        want = np.where(hit, X / mag, 0) / hit.sum()
    else:
        want = mag ** (ord - 1) * (X / mag) / np.linalg.norm(X, ord) ** (ord - 1)
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-10)


def test_norm_dist_and_tensor_norm_of_complex_values():
    x = _leaf(X)
    assert x.norm().item() == pytest.approx(np.sqrt(np.sum(np.abs(X) ** 2)))
    assert gpugrad.norm(x).dtype == np.float64
    m = gpugrad.tensor(np.stack([X, Y]))
    assert gpugrad.linalg.norm(m).item() == pytest.approx(np.linalg.norm(np.stack([X, Y])))
    d = gpugrad.dist(x, gpugrad.tensor(Y))
    assert d.item() == pytest.approx(np.linalg.norm(X - Y))
    d.backward()
    np.testing.assert_allclose(x.grad.numpy(), (X - Y) / np.linalg.norm(X - Y), rtol=1e-10)
    z64 = gpugrad.tensor(X.astype(np.complex64))
    assert gpugrad.linalg.vector_norm(z64).dtype == np.float32
    assert gpugrad.linalg.vector_norm(z64, 0).dtype == np.float32


def test_norm_gradient_at_a_zero_complex_vector_is_zero():
    x = _leaf(np.zeros(3, complex))
    gpugrad.linalg.vector_norm(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)


def test_normalize_of_complex_values_divides_by_the_real_norm():
    a = np.stack([X, Y])
    out = F.normalize(gpugrad.tensor(a), dim=1)
    np.testing.assert_allclose(out.numpy(), a / np.linalg.norm(a, axis=1, keepdims=True),
                               rtol=1e-12)


def test_norms_match_torch():
    torch = pytest.importorskip("torch")
    for ord in (2, 1, 3, np.inf):
        x, t = _leaf(X), torch.tensor(X, requires_grad=True)
        n, tn = gpugrad.linalg.vector_norm(x, ord), torch.linalg.vector_norm(t, ord)
        assert n.item() == pytest.approx(tn.item(), rel=1e-12)
        n.backward()
        tn.backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10)
    a = np.stack([X, Y])
    np.testing.assert_allclose(F.normalize(gpugrad.tensor(a)).numpy(),
                               torch.nn.functional.normalize(torch.tensor(a)).numpy())


# ------------------------------------------------------------------ func.vjp

def test_vjp_takes_complex_outputs():
    """f(z) = z^2: the cotangent g pulls back to g conj(f'(z)) = g conj(2z) (torch.func)."""
    z = np.array([1 + 2j, -0.5 + 1j])
    out, pull = gpugrad.func.vjp(lambda w: w * w, gpugrad.tensor(z))
    np.testing.assert_allclose(out.numpy(), z * z)
    g = np.array([1 + 0j, 0.5 - 2j])
    (grad,) = pull(gpugrad.tensor(g))
    np.testing.assert_allclose(grad.numpy(), g * np.conj(2 * z), rtol=1e-6)
    # a real input to a complex output: the real part
    _, pull = gpugrad.func.vjp(lambda x: x * (1 + 1j), gpugrad.tensor([1.0, 2.0]))
    (grad,) = pull(gpugrad.tensor([1 + 1j, 2 - 1j]))
    np.testing.assert_allclose(grad.numpy(), [2.0, 1.0])         # Re(g conj(1 + i))


def test_jacrev_still_refuses_complex_outputs_and_vjp_integer_ones():
    with pytest.raises(TypeError, match="jacrev: output 0 of f has dtype complex64; only real"):
        gpugrad.func.jacrev(lambda x: x * (1 + 1j))(gpugrad.tensor([1.0]))
    with pytest.raises(TypeError, match="vjp: output 0 of f has dtype int64"):
        gpugrad.func.vjp(lambda x: (x * 2).long(), gpugrad.tensor([1.0]))


def test_vjp_of_complex_outputs_matches_torch():
    torch = pytest.importorskip("torch")
    z, g = np.array([1 + 2j, -0.5 + 1j]), np.array([1 + 0j, 0.5 - 2j])
    _, pull = gpugrad.func.vjp(lambda w: gpugrad.exp(w) * w, gpugrad.tensor(z))
    _, tpull = torch.func.vjp(lambda w: torch.exp(w) * w, torch.tensor(z))
    np.testing.assert_allclose(pull(gpugrad.tensor(g))[0].numpy(),
                               tpull(torch.tensor(g))[0].numpy(), rtol=1e-12)
