"""gpugrad.linalg: the composites (matrix_power, matrix_norm, norm, matrix_rank, cross,
vecdot, multi_dot) against NumPy float64 with gradcheck / gradgradcheck; the errors; the
Tensor methods; svd's full_matrices gradients and the records' gradients against PyTorch
(when installed). The records themselves go through the op table (tests/op_specs_linalg.py);
this file also checks that the spec inputs keep their spectra well separated."""

import dataclasses
import math

import numpy as np
import pytest

import gpugrad
import gpugrad.linalg as L
from gradient_checks import check_grads
from gpugrad.autograd import grad as autograd_grad
from gpugrad.func import vmap
from gpugrad.ops import matrix_decompositions as dec, matrix_functions as mf, matrix_qr
from op_specs import sample_inputs
from op_specs_linalg import SPECS as LINALG_SPECS

RNG = np.random.default_rng(0)


def t64(a, requires_grad=True):
    return gpugrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def spd(n, batch=()):
    a = RNG.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


# --- the spec inputs -------------------------------------------------------------------------

def _spectrum_gap(spec_name: str, a: np.ndarray) -> float:
    if spec_name.startswith(("eigh", "eigvalsh")):
        values = np.linalg.eigvalsh(a + np.swapaxes(a, -1, -2))
        return float(np.diff(values, axis=-1).min())
    s = np.linalg.svd(a, compute_uv=False)
    return float(min(np.abs(np.diff(s * s, axis=-1)).min(initial=np.inf), s.min()))


@pytest.mark.parametrize("spec", [s for s in LINALG_SPECS
                                  if set(s.records) & {"Eigh", "Eigvalsh", "Svd", "Svdvals"}],
                         ids=lambda s: s.name)
def test_spec_spectra_are_well_separated(spec):
    """Gradients through eigenvectors divide by eigenvalue gaps: every draw the op table
    and the vmap table make keeps the gaps (and the singular values) at 0.1 or more."""
    draws = [spec] + [dataclasses.replace(spec, name=f"{spec.name}/vmap{b}") for b in range(3)]
    for draw in draws:
        assert _spectrum_gap(spec.name, sample_inputs(draw)[0]) >= 0.1, draw.name


# --- matrix_power ----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -3])
def test_matrix_power_matches_numpy(n):
    a = spd(3, (2,)) / 3.0
    out = L.matrix_power(t64(a, False), n)
    np.testing.assert_allclose(out.numpy(), np.linalg.matrix_power(a, n), rtol=1e-10,
                               atol=1e-12)
    check_grads(lambda x: L.matrix_power(x, n), a)


def test_matrix_power_zero_gives_zero_gradient():
    x = t64(RNG.standard_normal((3, 3)))
    L.matrix_power(x, 0).sum().backward()
    assert x.grad.tolist() == np.zeros((3, 3)).tolist()


def test_matrix_power_refuses_a_non_integer_power():
    with pytest.raises(TypeError, match="matrix_power: n must be an int"):
        L.matrix_power(t64(np.eye(2)), 1.5)


# --- norms -----------------------------------------------------------------------------------

ORDS = ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]


@pytest.mark.parametrize("ord", ORDS, ids=str)
def test_matrix_norm_matches_numpy(ord):
    a = RNG.standard_normal((2, 3, 4))
    out = L.matrix_norm(t64(a, False), ord)
    np.testing.assert_allclose(out.numpy(), np.linalg.norm(a, ord, axis=(-2, -1)), rtol=1e-10)
    check_grads(lambda x: L.matrix_norm(x, ord), a)


@pytest.mark.parametrize("ord", ["nuc", 1, -math.inf], ids=str)
def test_matrix_norm_over_other_dims_with_keepdim(ord):
    a = RNG.standard_normal((3, 2, 4))
    out = L.matrix_norm(t64(a, False), ord, dim=(2, 0), keepdim=True)
    expected = np.linalg.norm(a, ord, axis=(2, 0), keepdims=True)
    assert out.shape == expected.shape == (1, 2, 1)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)


def test_norm_picks_vector_or_matrix_norms_as_torch():
    a = RNG.standard_normal((3, 4))
    x = t64(a, False)
    np.testing.assert_allclose(L.norm(x).item(), np.linalg.norm(a.ravel()), rtol=1e-12)
    np.testing.assert_allclose(L.norm(x, 2).item(), np.linalg.norm(a, 2), rtol=1e-12)
    np.testing.assert_allclose(L.norm(x, "nuc").item(), np.linalg.norm(a, "nuc"), rtol=1e-12)
    np.testing.assert_allclose(L.norm(x, 1, dim=1).numpy(), np.abs(a).sum(1), rtol=1e-12)
    np.testing.assert_allclose(L.norm(x, 1, dim=(0, 1)).item(), np.linalg.norm(a, 1),
                               rtol=1e-12)
    np.testing.assert_allclose(L.norm(x[0], 3).item(), np.linalg.norm(a[0], 3), rtol=1e-12)
    with pytest.raises(ValueError, match="linalg.norm: .* 1-D or 2-D"):
        L.norm(t64(np.ones((2, 2, 2))), 2)
    with pytest.raises(ValueError, match="matrix_norm: ord must be"):
        L.matrix_norm(x, 3)
    assert L.vector_norm is not None


def test_matrix_norm_float32_and_vmap():
    a = RNG.standard_normal((4, 3, 3)).astype(np.float32)
    out = vmap(lambda m: L.matrix_norm(m, "nuc"))(gpugrad.tensor(a))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), np.linalg.norm(a, "nuc", axis=(-2, -1)),
                               rtol=1e-5)


# --- matrix_rank, cross, vecdot, multi_dot, diagonal ---------------------------------------

def test_matrix_rank_matches_numpy():
    full = RNG.standard_normal((3, 4))
    low = RNG.standard_normal((4, 1)) @ RNG.standard_normal((1, 5))
    for a in (full, low, np.zeros((2, 2))):
        rank = L.matrix_rank(t64(a))
        assert rank.dtype == np.int64 and rank.item() == np.linalg.matrix_rank(a)
    batch = np.stack([np.diag([1.0, 1e-3, 0.0]), np.eye(3)])
    assert L.matrix_rank(t64(batch)).tolist() == [2, 3]
    assert L.matrix_rank(t64(batch), atol=1e-2).tolist() == [1, 3]
    assert L.matrix_rank(t64(batch), rtol=0.5).tolist() == [1, 3]
    assert L.matrix_rank(t64(np.diag([2.0, -1.0, 0.0])), hermitian=True).item() == 2


def test_cross_matches_numpy_and_broadcasts():
    a, b = RNG.standard_normal((4, 3)), RNG.standard_normal((1, 3))
    np.testing.assert_allclose(L.cross(t64(a), t64(b)).numpy(), np.cross(a, b), rtol=1e-12)
    check_grads(L.cross, a, b)
    c, d = RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2))
    np.testing.assert_allclose(L.cross(t64(c), t64(d), dim=0).numpy(),
                               np.cross(c, d, axis=0), rtol=1e-12)
    with pytest.raises(ValueError, match="dimension -1 must have size 3"):
        L.cross(t64(np.ones((2, 4))), t64(np.ones((2, 4))))
    with pytest.raises(ValueError, match="same number of dimensions"):
        L.cross(t64(np.ones((2, 3))), t64(np.ones(3)))


def test_vecdot_multi_dot_diagonal():
    x, y = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    np.testing.assert_allclose(L.vecdot(t64(x), t64(y)).numpy(), x @ y, rtol=1e-12)
    a, b, c = RNG.standard_normal(3), RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))
    np.testing.assert_allclose(L.multi_dot([t64(a), t64(b), t64(c)]).numpy(),
                               np.linalg.multi_dot([a, b, c]), rtol=1e-12)
    with pytest.raises(ValueError, match="multi_dot: tensor 1 must be 2-D"):
        L.multi_dot([t64(b), t64(a), t64(c)])
    m = RNG.standard_normal((2, 3, 3))
    np.testing.assert_array_equal(L.diagonal(t64(m), offset=1).numpy(),
                                  np.diagonal(m, 1, -2, -1))
    assert L.matmul is not None


# --- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fn,name", [(L.det, "linalg.det"), (L.inv, "linalg.inv"),
                                     (L.cholesky, "linalg.cholesky"), (L.eigh, "linalg.eigh"),
                                     (L.slogdet, "linalg.slogdet")])
def test_square_functions_refuse_other_shapes_and_dtypes(fn, name):
    with pytest.raises(ValueError, match=f"{name}: A must be batches of square matrices, but "
                                         f"they are 2 by 3"):
        fn(t64(np.ones((4, 2, 3))))
    with pytest.raises(ValueError, match=f"{name}: the input must have at least 2 dim"):
        fn(t64(np.ones(3)))
    with pytest.raises(TypeError, match=f"{name}: expected a float32 or float64 tensor, got "
                                        f"int64"):
        fn(gpugrad.tensor([[1, 2], [3, 4]]))


def test_singular_and_indefinite_matrices_raise_linalg_errors():
    singular = t64(np.ones((2, 2)))
    with pytest.raises(L.LinAlgError, match=r"linalg.inv: the input of shape \(2, 2\) is "
                                            r"singular"):
        L.inv(singular)
    with pytest.raises(L.LinAlgError, match="linalg.solve: .* is singular"):
        L.solve(singular, t64(np.ones(2)))
    with pytest.raises(L.LinAlgError, match="linalg.cholesky: .* not positive-definite"):
        L.cholesky(t64(-np.eye(3)))
    assert issubclass(L.LinAlgError, RuntimeError)
    assert L.slogdet(singular).sign.item() == 0.0          # slogdet answers: sign 0, -inf
    assert L.slogdet(singular).logabsdet.item() == -np.inf


def test_solve_errors_name_the_shapes():
    a = t64(np.eye(3))
    with pytest.raises(ValueError, match=r"B of shape \(2,\) does not fit A of shape"):
        L.solve(a, t64(np.ones(2)))
    with pytest.raises(ValueError, match="batch dimensions .* do not broadcast"):
        L.solve(t64(np.ones((2, 3, 3))), t64(np.ones((4, 3, 1))))
    with pytest.raises(TypeError, match="B must be a tensor of A's dtype"):
        L.solve(a, gpugrad.tensor(np.ones(3, dtype=np.float32)))


def test_qr_and_eigh_argument_errors_and_refused_gradients():
    with pytest.raises(ValueError, match="qr: mode must be"):
        L.qr(t64(np.eye(2)), mode="full")
    with pytest.raises(ValueError, match="UPLO must be 'L' or 'U'"):
        L.eigh(t64(np.eye(2)), UPLO="X")
    x = t64(RNG.standard_normal((3, 3)))
    q, r = L.qr(x, mode="r")
    assert q.shape == (0,) and r.shape == (3, 3)
    with pytest.raises(RuntimeError, match="mode='r'"):
        r.sum().backward()
    q, r = L.qr(t64(RNG.standard_normal((4, 2))), mode="complete")
    assert q.shape == (4, 4) and r.shape == (4, 2)
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        q.sum().backward()


def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix():
    x = t64(np.ones((2, 2)))              # d det / dA = adj(A)^T: [[d, -c], [-b, a]]
    L.det(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, -1.0], [-1.0, 1.0]], atol=1e-12)


# --- methods and top-level names -------------------------------------------------------------

def test_tensor_methods():
    a = spd(3)
    x = t64(a, False)
    np.testing.assert_allclose(x.det().item(), np.linalg.det(a), rtol=1e-12)
    np.testing.assert_allclose(x.logdet().item(), np.log(np.linalg.det(a)), rtol=1e-12)
    np.testing.assert_allclose(x.slogdet().logabsdet.item(), np.log(np.linalg.det(a)),
                               rtol=1e-12)
    np.testing.assert_allclose(x.inverse().numpy(), np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_allclose(x.cholesky().numpy(), np.linalg.cholesky(a), rtol=1e-12)
    np.testing.assert_allclose(x.cholesky(upper=True).numpy(), np.linalg.cholesky(a).T,
                               rtol=1e-12)
    np.testing.assert_allclose(x.matrix_power(2).numpy(), a @ a, rtol=1e-12)
    np.testing.assert_allclose(x.pinverse().numpy(), np.linalg.pinv(a), rtol=1e-10)


def test_logdet_of_a_negative_determinant_is_nan():
    assert math.isnan(mf.logdet(t64(np.diag([-1.0, 2.0]))).item())
    assert mf.logdet(t64(np.zeros((2, 2)))).item() == -np.inf


def test_names_are_torch_linalg_names():
    for name in ["det", "slogdet", "inv", "solve", "cholesky", "eigh", "eigvalsh", "svd",
                 "svdvals", "qr", "matrix_power", "pinv", "norm", "vector_norm",
                 "matrix_norm", "matrix_rank", "cross", "vecdot", "multi_dot", "diagonal"]:
        assert callable(getattr(L, name)) and name in L.__all__
    assert L.inv is mf.inverse and L.qr is matrix_qr.qr and L.svd is dec.svd


# --- svd's full matrices, and gradients against PyTorch ------------------------------------

def test_svd_full_matrices_shapes_and_ignored_gradients():
    a = RNG.standard_normal((2, 5, 3))
    x = t64(a)
    u, s, vh = L.svd(x)
    assert (u.shape, s.shape, vh.shape) == ((2, 5, 5), (2, 3), (2, 3, 3))
    np.testing.assert_allclose((u[..., :3] * s.unsqueeze(-2)) @ vh, a, atol=1e-12)
    np.testing.assert_allclose(np.swapaxes(u.numpy(), -1, -2) @ u.numpy(),
                               np.broadcast_to(np.eye(5), (2, 5, 5)), atol=1e-12)
    (g_all,) = autograd_grad((u[..., :3] ** 2).sum() + s.sum(), [x], retain_graph=True)
    y = t64(a)
    u2, s2, _ = L.svd(y, full_matrices=False)
    (g_reduced,) = autograd_grad((u2 ** 2).sum() + s2.sum(), [y])
    np.testing.assert_allclose(g_all.numpy(), g_reduced.numpy(), atol=1e-12)
    (g_extra,) = autograd_grad((u[..., 3:] ** 2).sum(), [x], allow_unused=True)
    assert g_extra is None or np.all(g_extra.numpy() == 0)     # ignored, as PyTorch's
    from gpugrad.func import jvp
    with pytest.raises(NotImplementedError, match="full_matrices=True"):
        jvp(lambda m: L.svd(m)[0], (t64(a, False),), (t64(a, False),))


def _torch_cases(torch):
    sym = (lambda m: m + m.mT)
    return [
        ("det", L.det, torch.linalg.det, [RNG.standard_normal((2, 3, 3))]),
        ("solve_vector_broadcast", L.solve, torch.linalg.solve,
         [spd(3, (2, 1)), RNG.standard_normal(3)]),
        ("cholesky", lambda m: L.cholesky(sym(m)), lambda m: torch.linalg.cholesky(sym(m)),
         [spd(3, (2,))]),
        ("eigh_vectors", lambda m: L.eigh(sym(m))[1] ** 2,
         lambda m: torch.linalg.eigh(sym(m))[1] ** 2, [RNG.standard_normal((2, 4, 4))]),
        ("svd_wide_vh", lambda m: L.svd(m, False)[2] ** 2,
         lambda m: torch.linalg.svd(m, False)[2] ** 2, [RNG.standard_normal((3, 5))]),
        ("svd_full_tall_u", lambda m: L.svd(m)[0][..., :2] ** 2 + L.svd(m)[1].sum(),
         lambda m: torch.linalg.svd(m)[0][..., :2] ** 2 + torch.linalg.svd(m)[1].sum(),
         [RNG.standard_normal((4, 2))]),
        ("qr_tall", lambda m: L.qr(m)[0] + L.qr(m)[1].sum(),
         lambda m: torch.linalg.qr(m)[0] + torch.linalg.qr(m)[1].sum(),
         [RNG.standard_normal((5, 3))]),
        ("pinv_wide", L.pinv, torch.linalg.pinv, [RNG.standard_normal((2, 3, 5))]),
        ("matrix_norm_nuc", lambda m: L.matrix_norm(m, "nuc"),
         lambda m: torch.linalg.matrix_norm(m, "nuc"), [RNG.standard_normal((3, 4))]),
    ]


def test_values_and_gradients_match_torch():
    torch = pytest.importorskip("torch")
    for name, ours, theirs, arrays in _torch_cases(torch):
        xs = [t64(a) for a in arrays]
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
        out, expected = ours(*xs), theirs(*ts)
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), atol=1e-10,
                                   err_msg=name)
        u = RNG.standard_normal(tuple(expected.shape))
        got = autograd_grad(out, xs, grad_outputs=gpugrad.tensor(u))
        want = torch.autograd.grad(expected, ts, torch.tensor(u))
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w.numpy(), atol=1e-9, err_msg=name)


def test_values_of_eigh_and_svd_have_gradients_where_values_repeat():
    """d(sum of eigenvalues)/dA = I (the trace), also at A = I where all three repeat;
    likewise the singular values of I, and of a tall matrix with a zero singular value
    (d(sum s)/dA = U V^T there)."""
    for fn in (lambda t: gpugrad.linalg.eigh(t)[0].sum(),
               lambda t: gpugrad.linalg.svd(t)[1].sum()):
        a = gpugrad.eye(3, dtype="float64", requires_grad=True)
        fn(a).backward()
        np.testing.assert_allclose(a.grad.numpy(), np.eye(3), atol=1e-15)
    a = gpugrad.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]], dtype="float64",
                       requires_grad=True)
    gpugrad.linalg.svd(a, full_matrices=False)[1].sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]],
                               atol=1e-15)
