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
"""

import numpy as np

from op_specs import real, spec

import gpugrad
from gpugrad.ops import matrix_decompositions as dec, matrix_functions as mf, matrix_qr
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
    spec("pinv_tall_batched", "Pinv", lambda a: dec.pinv(a), np.linalg.pinv,
         real((2, 4, 3))),
    spec("pinverse_wide", "Pinv", dec.pinverse, np.linalg.pinv, real((2, 4))),
    spec("pinv_hermitian", "Pinv", lambda a: dec.pinv(_spd(a), hermitian=True),
         lambda a: _np_pinv_hermitian(_np_spd(a)), real((3, 3))),
]


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
