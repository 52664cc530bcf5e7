"""Complex matrices through det / slogdet / logdet, cholesky, qr, eigh / eigvalsh, svd /
svdvals, the LU family (lu, lu_factor, lu_unpack, lu_solve) and logcumsumexp, as torch
2.13's: gradients in PyTorch's convention (z.grad = dL/dRe + i dL/dIm).

Each case runs tests/complex_case_checks.py's checks: reverse mode, forward mode and second
order against finite differences along Re and Im (torch-free), and torch (skipped without).
Inputs of the Hermitian functions (cholesky, eigh) are made Hermitian inside the case, and
eigenvectors and singular vectors enter only through phase-free quantities (|V|, U Vh), so
the finite differences of the forward are well defined.
"""

import numpy as np
import pytest

import gpugrad
from complex_case_checks import c, case_tests, well


def _herm(a):
    """a a^H: Hermitian positive definite for an invertible a (written for both libraries)."""
    return a @ a.mT.conj()


def _flat(m, *parts):
    return m.cat([p.reshape(-1) for p in parts])


def _slogdet_both(m, a):
    sign, logabsdet = m.linalg.slogdet(a)
    return sign * logabsdet


def _qr(m, a):
    return _flat(m, *m.linalg.qr(a))


def _svd_phase_free(m, a):
    U, S, Vh = m.linalg.svd(a, full_matrices=False)
    return (U @ Vh) * S.sum(-1)[..., None, None] + U.abs().sum()


def _eigh_phase_free(m, a):
    values, vectors = m.linalg.eigh(_herm(a))
    return vectors.abs() * values


def _lu(m, a):
    P, L, U = m.linalg.lu(a)
    return _flat(m, L, U)


def _lu_unpack(m, a):
    P, L, U = m.lu_unpack(*m.linalg.lu_factor(a))
    return _flat(m, L, U)


def _lu_solve(left, adjoint):
    def fn(m, a, b):
        LU, pivots = m.linalg.lu_factor(a)
        return m.linalg.lu_solve(LU, pivots, b, left=left, adjoint=adjoint)
    return fn


# name: (records it reaches, fn(m, *tensors) with m gpugrad or torch, input kinds)
CASES = {
    "det": (("Det",), lambda m, a: m.linalg.det(a), (well(3, 3),)),
    "det_batched": (("Det",), lambda m, a: m.det(a), (c(2, 3, 3),)),
    "slogdet_logabsdet": (("Slogdet",), lambda m, a: m.linalg.slogdet(a)[1], (c(3, 3),)),
    "slogdet_sign_and_logabsdet": (("Slogdet",), _slogdet_both, (well(2, 3, 3),)),
    "logdet": (("Slogdet",), lambda m, a: m.logdet(a), (c(3, 3),)),
    "cholesky": (("Cholesky",), lambda m, a: m.linalg.cholesky(_herm(a)), (well(3, 3),)),
    "cholesky_upper_batched": (("Cholesky",),
                               lambda m, a: m.linalg.cholesky(_herm(a), upper=True),
                               (well(2, 3, 3),)),
    "qr_square": (("Qr",), _qr, (c(3, 3),)),
    "qr_tall": (("Qr",), _qr, (c(4, 3),)),
    "qr_wide": (("Qr",), _qr, (c(3, 4),)),
    "eigh_phase_free": (("Eigh",), _eigh_phase_free, (well(3, 3),)),
    "eigvalsh": (("Eigvalsh",), lambda m, a: m.linalg.eigvalsh(_herm(a)), (well(3, 3),)),
    "svd_square_phase_free": (("Svd",), _svd_phase_free, (c(3, 3),)),
    "svd_tall_phase_free": (("Svd",), _svd_phase_free, (c(4, 3),)),
    "svd_wide_phase_free": (("Svd",), _svd_phase_free, (c(2, 3, 4),)),
    "svdvals": (("Svdvals",), lambda m, a: m.linalg.svdvals(a), (c(3, 4),)),
    "lu_square": (("Lu",), _lu, (c(3, 3),)),
    "lu_tall": (("Lu",), _lu, (c(4, 3),)),
    "lu_wide": (("Lu",), _lu, (c(3, 4),)),
    "lu_factor_then_unpack": (("Lu",), _lu_unpack, (c(2, 3, 3),)),
    "lu_solve": (("Lu", "SolveTriangular"), _lu_solve(True, False), (well(3, 3), c(3, 2))),
    "lu_solve_adjoint": (("Lu", "SolveTriangular"), _lu_solve(True, True),
                         (well(3, 3), c(3, 2))),
    "lu_solve_right": (("Lu", "SolveTriangular"), _lu_solve(False, False),
                       (well(3, 3), c(2, 3))),
    "logcumsumexp": (("LogCumSumExp",), lambda m, a: m.logcumsumexp(a, 1), (c(2, 4),)),
    "logcumsumexp_dim0": (("LogCumSumExp",), lambda m, a: m.logcumsumexp(a, 0), (c(3, 2),)),
}
(test_reverse_mode_matches_finite_differences, test_forward_mode_matches_finite_differences,
 test_second_order_matches_finite_differences_of_the_gradient,
 test_case_reaches_the_records_it_names,
 test_values_and_gradients_match_torch) = case_tests(CASES)


# ------------------------------------------------------------------ hand-derived values

def _c128(rows, grad=True):
    return gpugrad.tensor(np.array(rows, dtype=complex), requires_grad=grad)


def test_det_gradient_is_the_conjugate_cofactor_matrix_singular_or_not():
    for rows in ([[1 + 1j, 2.0], [3j, 4 - 1j]],        # det = 5 + 3i - 6i
                 [[1 + 1j, 2.0], [2j, 2 + 2j]]):       # det = 0 (torch 2.13 gives zeros)
        A = _c128(rows)
        gpugrad.linalg.det(A).backward(gpugrad.tensor(2j, dtype="complex128"))
        (a, b), (c_, d) = rows
        cofactors = np.array([[d, -c_], [-b, a]])
        np.testing.assert_allclose(A.grad.numpy(), 2j * np.conj(cofactors), atol=1e-12)


def test_slogdet_of_a_complex_diagonal_matrix():
    A = _c128([[2j, 0], [0, 3.0]])
    sign, logabsdet = gpugrad.linalg.slogdet(A)
    assert sign.dtype == np.complex128 and logabsdet.dtype == np.float64
    assert sign.item() == pytest.approx(1j) and logabsdet.item() == pytest.approx(np.log(6))
    logabsdet.backward()            # Re tr(A^-1 dA): conj(A^-T) = diag(conj(1 / 2i), 1 / 3)
    np.testing.assert_allclose(A.grad.numpy(), np.diag([0.5j, 1 / 3]), atol=1e-15)
    A.grad = None
    sign, _ = gpugrad.linalg.slogdet(A)
    sign.real.backward()            # sign = i e^{i Im tr}: d Re(sign) = -Im tr(A^-1 dA)
    # -Im tr(A^-1 dA) = Re(i tr(A^-1 dA)): the gradient conj(i A^-T) = -i diag(0.5i, 1/3)
    np.testing.assert_allclose(A.grad.numpy(), np.diag([0.5, -1j / 3]), atol=1e-15)


def test_logdet_of_a_complex_matrix_is_the_complex_log():
    assert gpugrad.logdet(_c128([[-1.0]], False)).item() == pytest.approx(np.pi * 1j)
    A = _c128([[1j, 1], [0, 2]])
    np.testing.assert_allclose(gpugrad.logdet(A).item(), np.log(2j))
    gpugrad.logdet(A).real.backward()               # Re log det: conj(A^-T)
    np.testing.assert_allclose(A.grad.numpy(), np.conj(np.linalg.inv(A.numpy()).T))


def test_cholesky_of_a_hermitian_matrix():
    L = gpugrad.linalg.cholesky(_c128([[4, 2j], [-2j, 5]], False))
    np.testing.assert_allclose(L.numpy(), [[2, 0], [-1j, 2]])
    U = gpugrad.linalg.cholesky(_c128([[4, 2j], [-2j, 5]], False), upper=True)
    np.testing.assert_allclose(U.numpy(), [[2, 1j], [0, 2]])           # L^H


def test_lu_pivots_on_the_largest_re_plus_im_as_lapack():
    # |2 + 2i| = 2.83 < 3, but |Re| + |Im| = 4 > 3: LAPACK (and torch) pivot on row 2
    LU, pivots = gpugrad.linalg.lu_factor(_c128([[3, 1], [2 + 2j, 5]], False))
    assert pivots.tolist() == [2, 2]
    np.testing.assert_allclose(LU.numpy(), [[2 + 2j, 5], [0.75 - 0.75j, -2.75 + 3.75j]])


def test_eigh_and_svdvals_of_small_complex_matrices():
    values, vectors = gpugrad.linalg.eigh(_c128([[2, 1j], [-1j, 2]], False))
    np.testing.assert_allclose(values.numpy(), [1.0, 3.0])
    assert values.dtype == np.float64
    A = _c128([[3j, 0], [0, -4]])
    S = gpugrad.linalg.svdvals(A)
    np.testing.assert_allclose(S.numpy(), [4.0, 3.0])
    S.sum().backward()          # the nuclear norm: U Vh = diag(3i / 3, -4 / 4)
    np.testing.assert_allclose(A.grad.numpy(), np.diag([1j, -1.0]), atol=1e-15)


def test_logcumsumexp_of_complex_values():
    x = _c128([0.0, 0.5j * np.pi])
    y = gpugrad.logcumsumexp(x, 0)                  # log(1 + i) = log(2) / 2 + i pi / 4
    np.testing.assert_allclose(y.numpy(), [0, 0.5 * np.log(2) + 0.25j * np.pi])
    y[1].real.backward()        # Re log(e^a + e^b): conj(e^x / (1 + i))
    np.testing.assert_allclose(x.grad.numpy(), np.conj(np.array([1, 1j]) / (1 + 1j)))


@pytest.mark.parametrize("which", ["svd", "eigh"])
def test_a_loss_that_depends_on_the_phase_of_complex_vectors_is_refused(which):
    A = _c128([[2, 1 + 1j], [1 - 1j, 3]])
    vectors = gpugrad.linalg.svd(A)[0] if which == "svd" else gpugrad.linalg.eigh(A)[1]
    with pytest.raises(RuntimeError, match="up to multiplication by e\\^\\(i phi\\)"):
        vectors.real.sum().backward()
