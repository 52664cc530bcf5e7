"""Op table specs (tests/op_specs.py) for the matrix records (gpugrad/ops/matrix_*.py);
op_specs.py adds them to SPECS. The composites (matrix_power, the norms, cross...) are
tested in tests/test_linalg.py.

Inputs are kept well conditioned by the spec's function, which builds the matrix the op
sees from free entries (so that finite differences in every entry are valid): ``_shifted``
adds 5 I (Gershgorin: no eigenvalue within 1 of zero), ``_spd`` gives a @ a^T + 3 I
(symmetric positive definite), ``_sym`` a + a^T (symmetric: the eigen-solvers read one
triangle, so the free entries must move both). Eigenvectors and singular vectors have
arbitrary signs: the specs look at sign-free functions of them (squares, as PyTorch's own
tests do); tests/test_linalg.py checks that the sampled spectra are well separated.
The LU specs use raw draws: their pivots are fixed near the sample (no two candidates tie;
tests/test_linalg_more.py checks the margins), so L and U are smooth there.
"""

import numpy as np

from op_specs import real, spec

import gpugrad
from gpugrad.ops import matrix_decompositions as dec, matrix_functions as mf, matrix_pinv, matrix_qr
from gpugrad.ops import matrix_exp, matrix_lstsq, matrix_lu, matrix_triangular as mt
from gpugrad.ops.shape import transpose


def _eye_like(a):
    return gpugrad.eye(a.shape[-1], dtype=a.dtype, device=a.device)


def _shifted(a):
    return a + 5.0 * _eye_like(a)


def _spd(a):
    return a @ transpose(a) + 3.0 * _eye_like(a)


def _sym(a):
    return a + transpose(a)


def _np_shifted(a):
    return a + 5.0 * np.eye(a.shape[-1])


def _np_spd(a):
    return a @ np.swapaxes(a, -1, -2) + 3.0 * np.eye(a.shape[-1])


def _np_sym(a):
    return a + np.swapaxes(a, -1, -2)


def _np_pinv_hermitian(a):
    w, v = np.linalg.eigh(a)
    return (v / w[..., None, :]) @ np.swapaxes(v, -1, -2)


SPECS: list = [
    spec("det_batched", "Det", mf.det, np.linalg.det, real((2, 3, 3))),
    spec("det_shifted", "Det", lambda a: mf.det(_shifted(a)),
         lambda a: np.linalg.det(_np_shifted(a)), real((4, 4))),
    spec("slogdet_logabsdet", "Slogdet", lambda a: mf.slogdet(a).logabsdet,
         lambda a: np.linalg.slogdet(a)[1], real((2, 3, 3))),
    spec("logdet_spd", "Slogdet", lambda a: mf.logdet(_spd(a)),
         lambda a: np.linalg.slogdet(_np_spd(a))[1], real((3, 3))),
    spec("inverse_shifted_batched", "Inv", lambda a: mf.inverse(_shifted(a)),
         lambda a: np.linalg.inv(_np_shifted(a)), real((2, 3, 3))),
    spec("inverse_shifted", "Inv", lambda a: mf.inverse(_shifted(a)),
         lambda a: np.linalg.inv(_np_shifted(a)), real((4, 4))),
    spec("solve_matrices", "Solve", lambda a, b: mf.solve(_shifted(a), b),
         lambda a, b: np.linalg.solve(_np_shifted(a), b), real((2, 3, 3)), real((2, 3, 2))),
    spec("solve_vector", "Solve", lambda a, b: mf.solve(_shifted(a), b),
         lambda a, b: np.linalg.solve(_np_shifted(a), b), real((3, 3)), real((3,))),
    spec("solve_batch_of_vectors", "Solve", lambda a, b: mf.solve(_shifted(a), b),
         lambda a, b: np.linalg.solve(_np_shifted(a), b[..., None])[..., 0],
         real((2, 3, 3)), real((2, 3))),
    spec("solve_broadcast_batches", "Solve", lambda a, b: mf.solve(_shifted(a), b),
         lambda a, b: np.linalg.solve(_np_shifted(a), b), real((2, 1, 3, 3)),
         real((3, 3, 2))),
    spec("solve_right", "Solve", lambda a, b: mf.solve(_shifted(a), b, left=False),
         lambda a, b: np.swapaxes(np.linalg.solve(np.swapaxes(_np_shifted(a), -1, -2),
                                                  np.swapaxes(b, -1, -2)), -1, -2),
         real((3, 3)), real((2, 3))),
    spec("cholesky_spd_batched", "Cholesky", lambda a: mf.cholesky(_spd(a)),
         lambda a: np.linalg.cholesky(_np_spd(a)), real((2, 3, 3))),
    spec("cholesky_upper", "Cholesky", lambda a: mf.cholesky(_spd(a), upper=True),
         lambda a: np.swapaxes(np.linalg.cholesky(_np_spd(a)), -1, -2), real((4, 4))),
    spec("eigh_eigenvalues", "Eigh", lambda a: dec.eigh(_sym(a)).eigenvalues,
         lambda a: np.linalg.eigh(_np_sym(a))[0], real((2, 3, 3))),
    spec("eigh_eigenvectors_squared", "Eigh", lambda a: dec.eigh(_sym(a)).eigenvectors ** 2,
         lambda a: np.linalg.eigh(_np_sym(a))[1] ** 2, real((2, 3, 3))),
    spec("eigh_upper_reconstruction", "Eigh",
         lambda a: _eigh_rebuilt(dec.eigh(_sym(a), UPLO="U")),
         lambda a: _np_eigh_rebuilt(np.linalg.eigh(_np_sym(a), UPLO="U")), real((4, 4))),
    spec("eigvalsh_batched", "Eigvalsh", lambda a: dec.eigvalsh(_sym(a)),
         lambda a: np.linalg.eigvalsh(_np_sym(a)), real((2, 3, 3))),
    spec("svd_singular_values_tall", "Svd", lambda a: dec.svd(a, full_matrices=False).S,
         lambda a: np.linalg.svd(a, compute_uv=False), real((2, 4, 3))),
    spec("svd_u_squared_tall", "Svd", lambda a: dec.svd(a, full_matrices=False).U ** 2,
         lambda a: np.linalg.svd(a, full_matrices=False)[0] ** 2, real((4, 3))),
    spec("svd_vh_squared_wide", "Svd", lambda a: dec.svd(a, full_matrices=False).Vh ** 2,
         lambda a: np.linalg.svd(a, full_matrices=False)[2] ** 2, real((2, 3, 4))),
    spec("svd_u_vh_square_full", "Svd", lambda a: _svd_sign_free(dec.svd(a)),
         lambda a: _np_svd_sign_free(np.linalg.svd(a)), real((3, 3))),
    spec("svdvals_tall", "Svdvals", dec.svdvals,
         lambda a: np.linalg.svd(a, compute_uv=False), real((2, 4, 3))),
    spec("svdvals_wide", "Svdvals", dec.svdvals,
         lambda a: np.linalg.svd(a, compute_uv=False), real((3, 5))),
    spec("qr_q_tall", "Qr", lambda a: matrix_qr.qr(a).Q,
         lambda a: np.linalg.qr(a)[0], real((2, 4, 3))),
    spec("qr_r_square", "Qr", lambda a: matrix_qr.qr(a).R,
         lambda a: np.linalg.qr(a)[1], real((3, 3))),
    spec("qr_complete_square", "Qr", lambda a: matrix_qr.qr(a, mode="complete").Q,
         lambda a: np.linalg.qr(a, mode="complete")[0], real((3, 3))),
    spec("pinv_tall_batched", "Pinv", lambda a: matrix_pinv.pinv(a), np.linalg.pinv,
         real((2, 4, 3))),
    spec("pinverse_wide", "Pinv", matrix_pinv.pinverse, np.linalg.pinv, real((2, 4))),
    spec("pinv_hermitian", "Pinv", lambda a: matrix_pinv.pinv(_spd(a), hermitian=True),
         lambda a: _np_pinv_hermitian(_np_spd(a)), real((3, 3))),
    spec("qr_q_wide", "Qr", lambda a: matrix_qr.qr(a).Q,
         lambda a: np.linalg.qr(a)[0], real((3, 5))),
    spec("qr_r_wide_batched", "Qr", lambda a: matrix_qr.qr(a).R,
         lambda a: np.linalg.qr(a)[1], real((2, 3, 4))),
    spec("qr_complete_wide", "Qr", lambda a: _qr_rebuilt(matrix_qr.qr(a, mode="complete")),
         lambda a: _qr_rebuilt(np.linalg.qr(a, mode="complete")), real((2, 4))),
    spec("solve_triangular_lower_batched", "SolveTriangular",
         lambda a, b: mt.solve_triangular(_shifted(a), b, upper=False),
         lambda a, b: np.linalg.solve(np.tril(_np_shifted(a)), b), real((2, 3, 3)),
         real((2, 3, 2))),
    spec("solve_triangular_upper_unit_right", "SolveTriangular",
         lambda a, b: mt.solve_triangular(a, b, upper=True, left=False, unitriangular=True),
         lambda a, b: b @ np.linalg.inv(np.triu(a, 1) + np.eye(3)), real((3, 3)),
         real((2, 3))),
    spec("solve_triangular_broadcast_batches", "SolveTriangular",
         lambda a, b: mt.solve_triangular(_shifted(a), b, upper=True),
         lambda a, b: np.linalg.solve(np.triu(_np_shifted(a)), b), real((2, 1, 3, 3)),
         real((3, 3, 2))),
    spec("lu_l_square_batched", "Lu", lambda a: matrix_lu.lu(a).L,
         lambda a: _np_lu(a)[1], real((2, 3, 3))),
    spec("lu_u_square", "Lu", lambda a: matrix_lu.lu(a).U,
         lambda a: _np_lu(a)[2], real((4, 4))),
    spec("lu_l_tall", "Lu", lambda a: matrix_lu.lu(a).L,
         lambda a: _np_lu(a)[1], real((4, 3))),
    spec("lu_u_tall_batched", "Lu", lambda a: matrix_lu.lu(a).U,
         lambda a: _np_lu(a)[2], real((2, 4, 3))),
    spec("lu_l_wide_batched", "Lu", lambda a: matrix_lu.lu(a).L,
         lambda a: _np_lu(a)[1], real((2, 3, 5))),
    spec("lu_u_wide", "Lu", lambda a: matrix_lu.lu(a).U,
         lambda a: _np_lu(a)[2], real((3, 4))),
    spec("lu_factor_compact", "Lu", lambda a: matrix_lu.lu_factor(a).LU,
         lambda a: _np_lu(a)[1] - np.eye(3) + _np_lu(a)[2], real((3, 3))),
    spec("lu_solve_batched", ("Lu", "SolveTriangular"),
         lambda a, b: matrix_lu.lu_solve(*matrix_lu.lu_factor(_shifted(a)), b),
         lambda a, b: np.linalg.solve(_np_shifted(a), b), real((2, 3, 3)), real((2, 3, 2))),
    spec("lu_solve_adjoint_right", ("Lu", "SolveTriangular"),
         lambda a, b: matrix_lu.lu_solve(*matrix_lu.lu_factor(a), b, left=False,
                                         adjoint=True),
         lambda a, b: b @ np.linalg.inv(a.T), real((3, 3)), real((2, 3))),
    spec("matrix_exp_batched", "MatrixExp", matrix_exp.matrix_exp, lambda a: _np_expm(a),
         real((2, 3, 3))),
    spec("matrix_exp_scaled_and_squared", "MatrixExp", lambda a: matrix_exp.matrix_exp(3 * a),
         lambda a: _np_expm(3 * a), real((4, 4))),
    spec("lstsq_tall", "Pinv", lambda a, b: matrix_lstsq.lstsq(a, b).solution,
         lambda a, b: _np_lstsq(a, b), real((2, 5, 3)), real((2, 5, 2))),
    spec("lstsq_vector_wide", "Pinv", lambda a, b: matrix_lstsq.lstsq(a, b).solution,
         lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], real((2, 4)), real((2,))),
]


def _qr_rebuilt(result):
    """Q R + R^2: Q R is A, R^2 is sign-free."""
    q, r = result
    return q @ r + r ** 2


def _np_lu(a):
    """(P, L, U) of each matrix by Gaussian elimination with partial pivoting (loops)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    flat = a.reshape((-1, m, n))
    out = [np.zeros((len(flat), m, m)), np.zeros((len(flat), m, k)), np.zeros((len(flat), k, n))]
    for b, matrix in enumerate(flat):
        u, perm, lower = matrix.copy(), list(range(m)), np.eye(m, k)
        for j in range(k):
            p = j + int(np.argmax(np.abs(u[j:, j])))
            u[[j, p]], lower[[j, p], :j] = u[[p, j]], lower[[p, j], :j]
            perm[j], perm[p] = perm[p], perm[j]
            for i in range(j + 1, m):
                lower[i, j] = u[i, j] / u[j, j]
                u[i] -= lower[i, j] * u[j]
        out[0][b][perm, range(m)] = 1.0
        out[1][b], out[2][b] = lower, np.triu(u[:k])
    return [x.reshape(a.shape[:-2] + x.shape[1:]) for x in out]


def _np_expm(a):
    """exp(A) by a 30-term Taylor series of A / 2^s (|A / 2^s|_1 < 1/2), squared s times."""
    flat = a.reshape((-1,) + a.shape[-2:])
    out = np.empty_like(flat)
    for b, matrix in enumerate(flat):
        s = max(0, int(np.ceil(np.log2(np.abs(matrix).sum(0).max() * 2 + 1e-300))))
        x = matrix / 2.0 ** s
        term, total = np.eye(len(x)), np.eye(len(x))
        for i in range(1, 30):
            term = term @ x / i
            total = total + term
        for _ in range(s):
            total = total @ total
        out[b] = total
    return out.reshape(a.shape)


def _np_lstsq(a, b):
    return np.stack([np.linalg.lstsq(x, y, rcond=None)[0] for x, y in zip(a, b)])


def _eigh_rebuilt(result):
    """V diag(exp(L)) V^T: sign-free, and reads values and vectors together."""
    values, vectors = result
    return (vectors * values.exp().unsqueeze(-2)) @ transpose(vectors)


def _np_eigh_rebuilt(result):
    values, vectors = result
    return (vectors * np.exp(values)[..., None, :]) @ np.swapaxes(vectors, -1, -2)


def _svd_sign_free(result):
    """U diag(S^2) Vh + U^2 + Vh^2: sign-free, reads all three."""
    u, s, vh = result
    return (u * (s * s).unsqueeze(-2)) @ vh + u ** 2 + vh ** 2


def _np_svd_sign_free(result):
    u, s, vh = result
    return (u * (s * s)[..., None, :]) @ vh + u ** 2 + vh ** 2
