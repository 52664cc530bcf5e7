"""Complex matrices through the rest of torch.linalg, as torch 2.13's: matrix_power (negative
powers too), matrix_exp, pinv / pinverse (hermitian too), lstsq (solution and residuals),
cond (every ord), vecdot (which conjugates its first argument), multi_dot, cross, and
matrix_rank and the ``info`` of inv_ex / solve_ex (LAPACK's getrf place, complex too). Also:
logcumsumexp's record, moved to gpugrad/ops/log_cumsum_exp.py, is still reached from
gpugrad.ops.statistics.

Each case runs tests/complex_case_checks.py's checks: reverse mode, forward mode and second
order against finite differences along Re and Im (torch-free), and torch (skipped without).
torch 2.13's own ``linalg.cond`` backward fails for ord 1, -1, inf, -inf and "fro" (an
in-place write to its inverse), so for those the torch side of the case is its composite
``matrix_norm(A) * matrix_norm(inv(A))`` (the values of ``torch.linalg.cond`` are checked
apart).
"""

import math

import numpy as np
import pytest

import gpugrad
from complex_case_checks import c, case_tests, well


def _herm(a):
    """a a^H: Hermitian positive definite for an invertible a (written for both libraries)."""
    return a @ a.mT.conj()


def _power(n):
    return lambda m, a: m.linalg.matrix_power(a, n)


def _cond(p):
    def fn(m, a):
        if m is gpugrad:
            return m.linalg.cond(a, p)
        # torch's cond backward fails for these ords: its composite, the same function
        return m.linalg.matrix_norm(a, p) * m.linalg.matrix_norm(m.linalg.inv(a), p)
    return fn


def _lstsq(m, a, b):
    return m.linalg.lstsq(a, b).solution


def _lstsq_residuals(m, a, b):
    return m.linalg.lstsq(a, b, driver="gelsd").residuals


# name: (records it reaches, fn(m, *tensors) with m gpugrad or torch, input kinds)
CASES = {
    "matrix_power_2": (("MatMul",), _power(2), (c(3, 3),)),
    "matrix_power_3_batched": (("MatMul",), _power(3), (c(2, 3, 3),)),
    "matrix_power_minus_1": (("Inv",), _power(-1), (well(3, 3),)),
    "matrix_power_minus_3": (("Inv", "MatMul"), _power(-3), (well(2, 3, 3),)),
    "matrix_power_0": ((), lambda m, a: _power(0)(m, a) * a, (c(3, 3),)),
    "matrix_exp": (("MatrixExp",), lambda m, a: m.linalg.matrix_exp(a), (c(3, 3),)),
    # (1-norms 15 and 13: scaled by 2^-2 and 2^-2, squared back twice)
    "matrix_exp_scaled_batched": (("MatrixExp",), lambda m, a: m.matrix_exp(a * 3.0),
                                  (c(2, 3, 3),)),
    "pinv_square": (("Pinv",), lambda m, a: m.linalg.pinv(a), (well(3, 3),)),
    "pinv_tall": (("Pinv",), lambda m, a: m.linalg.pinv(a), (c(4, 3),)),
    "pinv_wide_batched": (("Pinv",), lambda m, a: m.linalg.pinv(a), (c(2, 2, 3),)),
    "pinv_rank_two_of_three": (("Pinv",), lambda m, a, b: m.linalg.pinv(a @ b),
                               (c(3, 2), c(2, 3))),
    "pinv_hermitian": (("Pinv",), lambda m, a: m.linalg.pinv(_herm(a), hermitian=True),
                       (well(3, 3),)),
    "pinverse": (("Pinv",), lambda m, a: m.pinverse(a), (c(3, 2),)),
    "lstsq_tall": (("Pinv",), _lstsq, (c(4, 3), c(4, 2))),
    "lstsq_wide": (("Pinv",), _lstsq, (c(2, 3), c(2, 2))),
    "lstsq_vector_batched": (("Pinv",), _lstsq, (c(2, 4, 2), c(2, 4))),
    "lstsq_residuals": (("Pinv", "Real"), _lstsq_residuals, (c(4, 2), c(4, 2))),
    "cond_2": (("Svdvals",), lambda m, a: m.linalg.cond(a), (c(3, 4),)),
    "cond_minus_2": (("Svdvals",), lambda m, a: m.linalg.cond(a, -2), (c(3, 3),)),
    "cond_nuc": (("Svdvals",), lambda m, a: m.linalg.cond(a, "nuc"), (well(3, 3),)),
    "cond_1": (("Inv",), _cond(1), (well(3, 3),)),
    "cond_minus_1": (("Inv",), _cond(-1), (well(3, 3),)),
    "cond_inf_batched": (("Inv",), _cond(math.inf), (well(2, 3, 3),)),
    "cond_minus_inf": (("Inv",), _cond(-math.inf), (well(3, 3),)),
    "cond_fro": (("Inv",), _cond("fro"), (well(3, 3),)),
    "vecdot": (("Conj", "Mul", "Sum"), lambda m, x, y: m.linalg.vecdot(x, y), (c(2, 3), c(2, 3))),
    "vecdot_dim0_broadcast": (("Conj", "Mul", "Sum"),
                              lambda m, x, y: m.linalg.vecdot(x, y, dim=0), (c(3, 2), c(3, 1))),
    "vecdot_times_itself": (("Conj", "Mul", "Sum"),
                            lambda m, x: m.linalg.vecdot(x, x * x), (c(2, 3),)),
    "multi_dot": (("MatMul",), lambda m, a, b, v: m.linalg.multi_dot([a, b, v]),
                  (c(2, 3), c(3, 4), c(4))),
    "multi_dot_squared": (("MatMul",), lambda m, a, b: m.linalg.multi_dot([a, b, a]),
                          (c(2, 3), c(3, 2))),
    "cross": ((), lambda m, x, y: m.linalg.cross(x, y) * x, (c(2, 3), c(2, 3))),
    "cross_dim0": ((), lambda m, x, y: m.linalg.cross(x, y, dim=0), (c(3, 2), c(3, 1))),
}
(test_reverse_mode_matches_finite_differences, test_forward_mode_matches_finite_differences,
 test_second_order_matches_finite_differences_of_the_gradient,
 test_case_reaches_the_records_it_names,
 test_values_and_gradients_match_torch) = case_tests(CASES)


@pytest.mark.parametrize("p", [None, 2, -2, "nuc", 1, -1, math.inf, -math.inf, "fro"])
def test_cond_values_match_torch_linalg_cond(p):
    torch = pytest.importorskip("torch")
    A = np.random.default_rng(7).normal(size=(2, 3, 3, 2)) @ [1, 1j] + 2 * np.eye(3)
    got = gpugrad.linalg.cond(gpugrad.tensor(A), p)
    want = torch.linalg.cond(torch.tensor(A), p)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)


def test_matrix_rank_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    low = (rng.normal(size=(2, 4, 2)) + 1j * rng.normal(size=(2, 4, 2))) @ \
        (rng.normal(size=(2, 2, 3)) + 1j * rng.normal(size=(2, 2, 3)))          # rank 2
    herm = low @ np.conj(np.swapaxes(low, -1, -2))                              # 4x4, rank 2
    for A, kwargs in [(low, {}), (herm, {"hermitian": True}), (low, {"atol": 1.0}),
                      (low.astype(np.complex64), {"rtol": 0.5})]:
        got = gpugrad.linalg.matrix_rank(gpugrad.tensor(A), **kwargs)
        want = torch.linalg.matrix_rank(torch.tensor(A), **kwargs)
        assert got.tolist() == want.tolist(), kwargs


def test_lstsq_extras_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    A = rng.normal(size=(4, 3)) + 1j * rng.normal(size=(4, 3))
    B = rng.normal(size=(4, 2)) + 1j * rng.normal(size=(4, 2))
    for driver in ("gels", "gelsy", "gelsd", "gelss"):
        got = gpugrad.linalg.lstsq(gpugrad.tensor(A), gpugrad.tensor(B), driver=driver)
        want = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B), driver=driver)
        for g, w in zip(got, want):
            assert str(g.dtype) == str(w.dtype).rpartition(".")[2], driver
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-10, atol=1e-12)


def test_inv_ex_info_of_complex_matrices_matches_torch():
    torch = pytest.importorskip("torch")
    A = np.array([[[0, 1], [0, 1j]], [[1j, 2], [1, 3]], [[1 + 1j, 2], [2 + 2j, 4]]])
    assert gpugrad.linalg.inv_ex(gpugrad.tensor(A)).info.tolist() == \
        torch.linalg.inv_ex(torch.tensor(A)).info.tolist()


# ------------------------------------------------------------------ hand-derived values

def _c128(rows, grad=True):
    return gpugrad.tensor(np.array(rows, dtype=complex), requires_grad=grad)


def test_vecdot_conjugates_its_first_argument():
    x, y = _c128([1j]), _c128([2.0])
    out = gpugrad.linalg.vecdot(x, y)
    assert out.item() == -2j                        # conj(i) 2
    out.backward(gpugrad.tensor(1.0 + 0j, dtype="complex128"))
    # d out = conj(dx) y + conj(x) dy: PyTorch's x.grad = conj(g) y, y.grad = g x
    np.testing.assert_allclose(x.grad.numpy(), [2.0])
    np.testing.assert_allclose(y.grad.numpy(), [1j])
    real = gpugrad.linalg.vecdot(gpugrad.tensor([1.0, 2.0]), gpugrad.tensor([3.0, 4.0]))
    assert real.item() == 11.0 and real.dtype == np.float32


def test_matrix_power_of_a_complex_diagonal_matrix():
    A = _c128([[1j, 0], [0, 2]])
    P = gpugrad.linalg.matrix_power(A, -2)
    np.testing.assert_allclose(P.numpy(), np.diag([-1.0, 0.25]))
    P.backward(gpugrad.tensor(np.eye(2, dtype=complex)))
    # d a^-2 = -2 a^-3 da on the diagonal; PyTorch's gradient conj(-2 a^-3): i -> 2i
    np.testing.assert_allclose(A.grad.numpy(), np.diag([2j, -0.25]), atol=1e-15)
    np.testing.assert_allclose(gpugrad.linalg.matrix_power(A, 0).numpy(), np.eye(2))
    np.testing.assert_allclose(gpugrad.linalg.matrix_power(A, 3).numpy(), np.diag([-1j, 8]))


def test_matrix_exp_of_complex_matrices():
    A = _c128([[1j * np.pi, 0], [0, 0]])
    E = gpugrad.linalg.matrix_exp(A)
    np.testing.assert_allclose(E.numpy(), np.diag([-1.0, 1.0]), atol=1e-14)
    E.backward(gpugrad.tensor(np.eye(2, dtype=complex)))
    # the diagonal of L(A, dA) is e^{a_i} dA_ii: the gradient conj(e^{a_i}) there, 0 off it
    np.testing.assert_allclose(A.grad.numpy(), np.diag([-1.0, 1.0]), atol=1e-14)
    nilpotent = _c128([[0, 1j], [0, 0]], False)
    np.testing.assert_allclose(gpugrad.linalg.matrix_exp(nilpotent).numpy(), [[1, 1j], [0, 1]])
    big = _c128([[20j, 0], [0, -3 + 4j]], False)              # 2^3 scaling and squaring
    np.testing.assert_allclose(gpugrad.linalg.matrix_exp(big).numpy(),
                               np.diag(np.exp([20j, -3 + 4j])), rtol=1e-12, atol=1e-14)


def test_pinv_of_complex_vectors_and_a_singular_hermitian_matrix():
    a = _c128([[1 + 1j], [1.0]])
    P = gpugrad.linalg.pinv(a)                     # a^H / |a|^2, |a|^2 = 3
    np.testing.assert_allclose(P.numpy(), [[(1 - 1j) / 3, 1 / 3]], atol=1e-15)
    np.testing.assert_allclose(gpugrad.pinverse(a).numpy(), P.numpy())
    # Re P_00 = Re(a_0) / (Re(a_0)^2 + Im(a_0)^2 + |a_1|^2): d/dRe a_0 = 1/3 - 2/9,
    # d/dIm a_0 = -2/9, d/dRe a_1 = -2/9, d/dIm a_1 = 0 (PyTorch's grad: d/dRe + i d/dIm)
    P[0, 0].real.backward()
    np.testing.assert_allclose(a.grad.numpy(), [[1 / 9 - 2j / 9], [-2 / 9]], atol=1e-15)
    H = _c128([[1, 1j], [-1j, 1]], False)          # 2 v v^H, v = (1, -i) / sqrt 2: rank 1
    np.testing.assert_allclose(gpugrad.linalg.pinv(H, hermitian=True).numpy(),
                               H.numpy() / 4, atol=1e-15)
    np.testing.assert_allclose(gpugrad.linalg.pinv(H).numpy(), H.numpy() / 4, atol=1e-15)


def test_lstsq_of_a_complex_column():
    A = _c128([[1.0], [1j]], False)
    B = _c128([[1.0], [1.0]], False)
    out = gpugrad.linalg.lstsq(A, B, driver="gelsd")
    np.testing.assert_allclose(out.solution.numpy(), [[(1 - 1j) / 2]])   # A^H B / |A|^2
    # B - A x = ((1 + i) / 2, (1 - i) / 2): squared magnitudes 1/2 + 1/2, real
    assert out.residuals.dtype == np.float64 and out.residuals.tolist() == [pytest.approx(1.0)]
    assert out.rank.item() == 1 and out.singular_values.dtype == np.float64
    np.testing.assert_allclose(out.singular_values.numpy(), [np.sqrt(2)])
    gelsy = gpugrad.linalg.lstsq(A, B)
    assert gelsy.residuals.dtype == np.float64 and gelsy.residuals.shape == (0,)


def test_matrix_rank_and_cond_of_small_complex_matrices():
    rank = gpugrad.linalg.matrix_rank
    assert rank(_c128([[1, 1j], [1j, -1]], False)).item() == 1       # row 2 = i row 1
    assert rank(_c128([[1, 1j], [-1j, 1]], False), hermitian=True).item() == 1
    assert rank(_c128([[1j, 0], [0, 2]], False)).item() == 2
    D = _c128([[2j, 0], [0, 0.5]], False)
    assert gpugrad.linalg.cond(D).item() == pytest.approx(4.0)
    assert gpugrad.linalg.cond(D, 1).item() == pytest.approx(4.0)   # 2 * |1 / 0.5|
    assert gpugrad.linalg.cond(D, "fro").item() == pytest.approx(4.25)  # sqrt(4.25)^2


def test_inv_ex_info_is_the_first_zero_pivot_of_a_complex_lu():
    # column 0 is zero: getrf's U[0, 0] = 0 is its first zero pivot, info 1 (not 2)
    A = _c128([[[0, 1], [0, 1j]], [[1 + 1j, 2], [2 + 2j, 4]], [[1j, 0], [0, 1]]], False)
    inverse, info = gpugrad.linalg.inv_ex(A)
    assert info.tolist() == [1, 2, 0]
    assert np.isnan(inverse[0].numpy()).all()
    np.testing.assert_allclose(inverse[2].numpy(), [[-1j, 0], [0, 1]])
    assert gpugrad.linalg.solve_ex(A[0], _c128([1, 1], False)).info.item() == 1


def test_logcumsumexp_moved_out_of_statistics_keeps_its_import_paths():
    from gpugrad.ops import log_cumsum_exp, statistics
    assert statistics.logcumsumexp is log_cumsum_exp.logcumsumexp is gpugrad.logcumsumexp
    x = gpugrad.tensor([0.0, 0.0], dtype="float64", requires_grad=True)
    y = x.logcumsumexp(0)
    assert y.grad_fn.op.name == "LogCumSumExp"
    np.testing.assert_allclose(y.numpy(), [0.0, np.log(2)])
