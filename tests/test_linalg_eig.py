"""gpugrad.linalg.eig and eigvals (general matrices; gpugrad/ops/matrix_eig.py): the
decomposition itself (A V = V diag(L), unit columns, dtypes), hand-derived eigenvalues and
gradients, gradients of phase-invariant losses against central differences in float64 (real
and complex A, reverse and forward mode, batches, vmap), the refusals (phase-dependent
losses, second derivatives, bad inputs), and PyTorch's values where torch is installed.

A complex leaf's gradient follows PyTorch's convention: dL/dRe A + i dL/dIm A.
"""

import types

import numpy as np
import pytest

import gpugrad
import gpugrad.autograd.forward_ad as fwAD
import gpugrad.linalg as LA
from gpugrad.autograd import grad as autograd_grad
from gpugrad.func import jvp, vmap
from gpugrad.ops import matrix_eig

EPS = 1e-6
TOL = dict(rtol=1e-6, atol=1e-8)


def _real(seed, shape=(4, 4)):
    return np.random.default_rng(seed).standard_normal(shape)


def _complex(seed, shape=(3, 3)):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


# the losses: real functions of (L, V) that do not depend on the eigenvectors' phases.
# ``lib`` is gpugrad or torch; ``w`` fixed weights.
def _loss_vectors(L, V, lib, w):
    m = V.abs()
    return (m * m * lib.tensor(w[: V.shape[-1], : V.shape[-1]])).sum()


def _loss_values_parts(L, V, lib, w):
    n = L.shape[-1]
    return (L.real * lib.tensor(w[0, :n])).sum() + (L.imag * lib.tensor(w[1, :n])).sum()


def _loss_values_abs(L, V, lib, w):
    return (L.abs() * lib.tensor(w[2, : L.shape[-1]])).sum()


def _loss_all(L, V, lib, w):
    return (_loss_vectors(L, V, lib, w) + _loss_values_parts(L, V, lib, w)
            + _loss_values_abs(L, V, lib, w))


LOSSES = {"vectors_abs_squared": _loss_vectors, "values_real_imag": _loss_values_parts,
          "values_abs": _loss_values_abs, "all": _loss_all}
WEIGHTS = np.random.default_rng(99).standard_normal((4, 4))


def _loss_of_array(loss, a):
    with gpugrad.no_grad():
        L, V = LA.eig(gpugrad.tensor(a))
        return float(loss(L, V, gpugrad, WEIGHTS).item())


def _numeric_gradient(loss, a):
    """dL/dRe a + i dL/dIm a (dL/da for a real a) by central differences."""
    g = np.zeros_like(a)
    directions = (1, 1j) if np.iscomplexobj(a) else (1,)
    for k in range(a.size):
        for d in directions:
            plus, minus = a.copy(), a.copy()
            plus.flat[k] += EPS * d
            minus.flat[k] -= EPS * d
            g.flat[k] += d * (_loss_of_array(loss, plus) - _loss_of_array(loss, minus)) / (2 * EPS)
    return g


def _gradient(loss, a):
    A = gpugrad.tensor(a, requires_grad=True)
    L, V = LA.eig(A)
    loss(L, V, gpugrad, WEIGHTS).backward()
    return A.grad


INPUTS = {"real": _real(0), "real_complex_spectrum": np.array([[1.0, -2.0, 0.5],
                                                                [2.0, 1.0, 0.3],
                                                                [0.1, 0.4, -1.5]]),
          "complex": _complex(1)}


# --- the decomposition ------------------------------------------------------------------------

@pytest.mark.parametrize("a", [_real(2, (2, 3, 5, 5)), _complex(3, (2, 4, 4))],
                         ids=["real_batched", "complex_batched"])
def test_eigenpairs_satisfy_a_v_equals_v_diag_l_with_unit_columns(a):
    L, V = LA.eig(gpugrad.tensor(a))
    assert L.shape == a.shape[:-1] and V.shape == a.shape
    assert L.dtype == np.complex128 and V.dtype == np.complex128
    l, v = L.numpy(), V.numpy()
    np.testing.assert_allclose(a @ v, v * l[..., None, :], atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1.0, rtol=1e-12)
    np.testing.assert_allclose(LA.eigvals(gpugrad.tensor(a)).numpy(), l, rtol=1e-12)


def test_eigvals_of_triangular_and_rotation_matrices_by_hand():
    upper = gpugrad.tensor([[2.0, 1.0, 3.0], [0.0, -1.0, 4.0], [0.0, 0.0, 5.0]],
                           dtype="float64")
    np.testing.assert_allclose(LA.eigvals(upper).numpy(), [2, -1, 5], atol=1e-12)
    lower = gpugrad.tensor([[1j, 0], [3.0, 2 - 1j]], dtype="complex128")
    np.testing.assert_allclose(LA.eigvals(lower).numpy(), [2 - 1j, 1j], atol=1e-12)
    rotation = gpugrad.tensor([[1.0, -2.0], [2.0, 1.0]], dtype="float64")
    np.testing.assert_allclose(sorted(LA.eigvals(rotation).numpy(), key=np.imag),
                               [1 - 2j, 1 + 2j], atol=1e-12)


def test_float32_gives_complex64_and_float32_gradients():
    A = gpugrad.tensor(_real(4, (3, 3)).astype(np.float32), requires_grad=True)
    L, V = LA.eig(A)
    assert L.dtype == np.complex64 and V.dtype == np.complex64
    assert LA.eigvals(A).dtype == np.complex64
    _loss_all(L, V, gpugrad, WEIGHTS.astype(np.float32)).backward()
    assert A.grad.dtype == np.float32
    want = _gradient(_loss_all, A.detach().numpy().astype(np.float64)).numpy()
    np.testing.assert_allclose(A.grad.numpy(), want, rtol=1e-3, atol=1e-4)
    z = gpugrad.tensor(_complex(5).astype(np.complex64))
    assert LA.eig(z).eigenvectors.dtype == np.complex64


def test_a_real_spectrum_still_gives_complex_results():
    """NumPy returns real arrays when every eigenvalue is real; PyTorch's are complex."""
    L, V = LA.eig(gpugrad.tensor([[2.0, 1.0], [0.0, 3.0]], dtype="float64"))
    assert L.dtype == np.complex128 and V.dtype == np.complex128
    assert L.tolist() == [2, 3]


def test_empty_and_one_by_one_matrices():
    for shape in [(0, 0), (2, 0, 0), (0, 3, 3), (1, 1)]:
        A = gpugrad.tensor(np.full(shape, 2.0), requires_grad=True)
        L, V = LA.eig(A)
        assert L.shape == shape[:-1] and V.shape == shape
        (L.abs().sum() + (V.abs() ** 2).sum()).backward()
        np.testing.assert_allclose(A.grad.numpy(), np.ones(shape))     # d|a|/da, a = 2


def test_names_and_result_fields():
    assert "eig" in LA.__all__ and "eigvals" in LA.__all__
    assert LA.eig is matrix_eig.eig and LA.eigvals is matrix_eig.eigvals
    result = LA.eig(gpugrad.eye(2))
    assert result.eigenvalues is result[0] and result.eigenvectors is result[1]


def test_a_cuda_array_is_decomposed_on_the_host():
    """Any array module other than NumPy goes through the host (a stand-in module here)."""
    a = _real(12, (2, 3, 3))
    values, vectors = matrix_eig._decompose(types.SimpleNamespace(linalg=None), a)
    want_values, want_vectors = np.linalg.eig(a)
    np.testing.assert_allclose(values, want_values, rtol=1e-12)
    np.testing.assert_allclose(vectors, want_vectors, rtol=1e-12)


# --- gradients ---------------------------------------------------------------------------

def test_eigenvalue_gradient_of_a_triangular_matrix_by_hand():
    """For A = [[a, b], [0, d]], dL0/dA = u v^T / (u^T v) with right eigenvector v = e1
    and left eigenvector u = (1, b / (a - d)): [[1, 0], [b / (a - d), 0]]."""
    A = gpugrad.tensor([[2.0, 1.0], [0.0, -1.0]], dtype="float64", requires_grad=True)
    L = LA.eigvals(A)
    assert L.tolist() == [2, -1]
    L.real[0].backward()
    np.testing.assert_allclose(A.grad.numpy(), [[1, 0], [1 / 3, 0]], atol=1e-12)


def test_eigvals_gradient_is_the_identity_for_the_trace_even_at_repeated_eigenvalues():
    """sum(L) = trace(A): its gradient is I (V^-H diag(1) V^H), also where A = I."""
    for a in (np.eye(3), _real(6, (3, 3))):
        A = gpugrad.tensor(a, requires_grad=True)
        LA.eigvals(A).real.sum().backward()
        np.testing.assert_allclose(A.grad.numpy(), np.eye(3), atol=1e-10)


@pytest.mark.parametrize("input_name", sorted(INPUTS))
@pytest.mark.parametrize("loss_name", sorted(LOSSES))
def test_gradients_match_central_differences(loss_name, input_name):
    loss, a = LOSSES[loss_name], INPUTS[input_name]
    got = _gradient(loss, a)
    assert got.dtype == a.dtype
    np.testing.assert_allclose(got.numpy(), _numeric_gradient(loss, a), **TOL)


def test_batched_gradient_is_each_matrix_gradient():
    a = _real(7, (2, 3, 3))
    A = gpugrad.tensor(a, requires_grad=True)
    L, V = LA.eig(A)
    ((V.abs() ** 2 * gpugrad.tensor(WEIGHTS[:3, :3])).sum() + L.abs().sum()).backward()
    for k in range(2):
        want = (_gradient(_loss_vectors, a[k]).numpy()
                + _gradient(lambda L, V, lib, w: L.abs().sum(), a[k]).numpy())
        np.testing.assert_allclose(A.grad.numpy()[k], want, rtol=1e-10, atol=1e-12)


def _dual(a, t):
    """A tensor carrying tangent ``t`` (a complex one made from dual real and imaginary
    parts: make_dual takes real tensors only)."""
    if not np.iscomplexobj(a):
        return fwAD.make_dual(gpugrad.tensor(a), gpugrad.tensor(t))
    return gpugrad.complex(fwAD.make_dual(gpugrad.tensor(a.real), gpugrad.tensor(t.real)),
                           fwAD.make_dual(gpugrad.tensor(a.imag), gpugrad.tensor(t.imag)))


def _eig_parts(A):
    """The phase-invariant parts of eig(A): |V|^2 and L, each as a real or complex tensor."""
    L, V = LA.eig(A)
    return V.abs() ** 2, L


@pytest.mark.parametrize("input_name", sorted(INPUTS))
def test_forward_mode_matches_central_differences(input_name):
    a = INPUTS[input_name]
    t = _complex(8, a.shape) if np.iscomplexobj(a) else _real(8, a.shape)
    with fwAD.dual_level():
        got = [fwAD.unpack_dual(x).tangent.numpy() for x in _eig_parts(_dual(a, t))]
    with gpugrad.no_grad():
        plus = _eig_parts(gpugrad.tensor(a + EPS * t))
        minus = _eig_parts(gpugrad.tensor(a - EPS * t))
    for g, p, m in zip(got, plus, minus):
        np.testing.assert_allclose(g, (p.numpy() - m.numpy()) / (2 * EPS), **TOL)
    if not np.iscomplexobj(a):      # func.jvp (real primals), and eigvals' tangent
        _, values_tangent = jvp(lambda A: LA.eigvals(A).real, (gpugrad.tensor(a),),
                                (gpugrad.tensor(t),))
        np.testing.assert_allclose(values_tangent.numpy(), got[1].real, rtol=1e-12)


def test_vmap_matches_a_loop():
    a = _real(9, (3, 4, 4))
    got = vmap(LA.eigvals)(gpugrad.tensor(a)).numpy()
    np.testing.assert_allclose(got, np.stack([LA.eigvals(gpugrad.tensor(m)).numpy()
                                              for m in a]), rtol=1e-12)
    grads = vmap(gpugrad.func.grad(lambda A: LA.eigvals(A).abs().sum()))(gpugrad.tensor(a))
    for k in range(3):
        want = _gradient(lambda L, V, lib, w: L.abs().sum(), a[k]).numpy()
        np.testing.assert_allclose(grads.numpy()[k], want, rtol=1e-10, atol=1e-12)


# --- refusals ----------------------------------------------------------------------------

def test_a_loss_depending_on_the_eigenvector_phase_raises():
    A = gpugrad.tensor(INPUTS["real_complex_spectrum"], requires_grad=True)
    with pytest.raises(RuntimeError, match="defined only up to a phase"):
        LA.eig(A).eigenvectors.real.sum().backward()


def test_second_derivatives_are_refused_clearly():
    A = gpugrad.tensor(_real(10, (3, 3)), requires_grad=True)
    (g,) = autograd_grad(LA.eigvals(A).abs().sum(), [A], create_graph=True)
    with pytest.raises(NotImplementedError, match="second derivatives"):
        g.sum().backward()


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="square matrices"):
        LA.eig(gpugrad.ones(2, 3))
    with pytest.raises(ValueError, match="square matrices"):
        LA.eigvals(gpugrad.ones(3))
    with pytest.raises(TypeError, match="float32, float64, complex64 or complex128"):
        LA.eig(gpugrad.tensor([[1, 2], [3, 4]]))
    with pytest.raises(LA.LinAlgError, match="linalg.eig"):
        LA.eig(gpugrad.tensor([[np.nan, 0.0], [0.0, 1.0]]))


# --- PyTorch -------------------------------------------------------------------------------

@pytest.mark.parametrize("input_name", sorted(INPUTS))
def test_values_vectors_and_gradients_match_torch(input_name):
    torch = pytest.importorskip("torch")
    a = INPUTS[input_name]
    L, V = LA.eig(gpugrad.tensor(a))
    tL, tV = torch.linalg.eig(torch.tensor(a))
    np.testing.assert_allclose(L.numpy(), tL.numpy(), rtol=1e-10, atol=1e-12)
    phases = np.sum(np.conj(tV.numpy()) * V.numpy(), axis=-2)     # V = tV diag(phase)
    np.testing.assert_allclose(np.abs(phases), 1.0, rtol=1e-10)
    np.testing.assert_allclose(V.numpy(), tV.numpy() * phases, atol=1e-10)
    for name, loss in LOSSES.items():
        tA = torch.tensor(a, requires_grad=True)
        loss(*torch.linalg.eig(tA), torch, WEIGHTS).backward()
        np.testing.assert_allclose(_gradient(loss, a).numpy(), tA.grad.numpy(), **TOL,
                                   err_msg=name)
    tA = torch.tensor(a, requires_grad=True)
    torch.linalg.eigvals(tA).abs().sum().backward()
    A = gpugrad.tensor(a, requires_grad=True)
    LA.eigvals(A).abs().sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), tA.grad.numpy(), **TOL)


def test_forward_mode_matches_torch():
    torch = pytest.importorskip("torch")
    a, t = INPUTS["complex"], _complex(11)
    with torch.autograd.forward_ad.dual_level():
        dual = torch.autograd.forward_ad.make_dual(torch.tensor(a), torch.tensor(t))
        L, V = torch.linalg.eig(dual)
        want = [torch.autograd.forward_ad.unpack_dual(x).tangent.numpy()
                for x in (V.abs() ** 2, L)]
    with fwAD.dual_level():
        got = [fwAD.unpack_dual(x).tangent.numpy() for x in _eig_parts(_dual(a, t))]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **TOL)
