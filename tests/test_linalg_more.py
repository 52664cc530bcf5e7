"""gpugrad.linalg's solve_triangular, lu / lu_factor / lu_solve / lu_unpack, lstsq,
matrix_exp and the wide QR gradient: against NumPy float64 (torch-free), against PyTorch
(when installed: values, pivots and gradients), the errors, and the margins that keep the
LU specs of tests/op_specs_linalg.py away from pivot ties. The records themselves go
through the op table (tests/op_specs_linalg.py)."""

import dataclasses

import numpy as np
import pytest

import gpugrad
import gpugrad.linalg as L
from gpugrad.autograd import grad as autograd_grad
from gpugrad.func import vmap
from gpugrad.ops import matrix_exp, matrix_lu
from gradient_checks import check_grads
from op_specs import sample_inputs
from op_specs_linalg import SPECS as LINALG_SPECS, _np_expm, _np_lu

RNG = np.random.default_rng(7)


def t64(a, requires_grad=True):
    return gpugrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# --- the LU specs' inputs --------------------------------------------------------------------

def _pivot_margin(a: np.ndarray) -> float:
    """The smallest gap, over the elimination steps, between the largest candidate |entry|
    and the next one (relative): a tie would make L and U jump."""
    m, n = a.shape[-2:]
    margin = np.inf
    for matrix in a.reshape((-1, m, n)):
        u = matrix.copy()
        for j in range(min(m, n)):
            column = np.sort(np.abs(u[j:, j]))[::-1]
            if len(column) > 1:
                margin = min(margin, (column[0] - column[1]) / column[0])
            p = j + int(np.argmax(np.abs(u[j:, j])))
            u[[j, p]] = u[[p, j]]
            u[j + 1:] -= np.outer(u[j + 1:, j] / u[j, j], u[j])
    return margin


@pytest.mark.parametrize("spec", [s for s in LINALG_SPECS if s.name.startswith("lu_")],
                         ids=lambda s: s.name)
def test_lu_spec_inputs_keep_away_from_pivot_ties(spec):
    draws = [spec] + [dataclasses.replace(spec, name=f"{spec.name}/vmap{b}") for b in range(3)]
    for draw in draws:
        a = sample_inputs(draw)[0]
        if "solve" in spec.name and "right" not in spec.name:
            a = a + 5.0 * np.eye(a.shape[-1])
        assert _pivot_margin(a) >= 1e-3, draw.name


# --- against NumPy float64 (no torch) --------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 3), (2, 3, 5), (1, 1), (5, 5)])
def test_lu_matches_numpy_elimination(shape):
    a = RNG.standard_normal(shape)
    P, Lo, U = L.lu(t64(a))
    for got, want in zip((P, Lo, U), _np_lu(a)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose((P @ Lo @ U).numpy(), a, atol=1e-12)
    assert not P.requires_grad
    LU, pivots = L.lu_factor(t64(a))
    assert pivots.dtype == np.int32 and pivots.shape == shape[:-2] + (min(shape[-2:]),)
    P2, L2, U2 = matrix_lu.lu_unpack(LU, pivots)
    for got, want in zip((P2, L2, U2), (P, Lo, U)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-15)
    check_grads(lambda x: matrix_lu.lu_unpack(*L.lu_factor(x)).L, a)


def test_lu_picks_the_first_of_tied_pivots_and_survives_a_zero_column():
    a = np.array([[1.0, 2.0, 0.0], [-1.0, 1.0, 1.0], [1.0, 0.0, 3.0]])
    assert L.lu_factor(t64(a)).pivots.tolist() == [1, 2, 3]
    singular = np.array([[0.0, 1.0], [0.0, 2.0]])
    P, Lo, U = L.lu(t64(singular))
    np.testing.assert_allclose((P @ Lo @ U).numpy(), singular)
    assert L.lu_factor(t64(singular)).pivots.tolist() == [1, 2]


def test_lu_refuses_no_pivoting_and_bad_pivots():
    with pytest.raises(RuntimeError, match="LU without pivoting is not implemented in "
                                           "gpugrad .on any device"):
        L.lu(t64(np.eye(2)), pivot=False)
    LU, pivots = L.lu_factor(t64(np.eye(3)))
    with pytest.raises(TypeError, match="pivots must be an integer tensor"):
        L.lu_solve(LU, pivots.double(), t64(np.ones((3, 1))))
    with pytest.raises(ValueError, match=r"pivots of shape \(2,\) do not fit LU"):
        L.lu_solve(LU, pivots[:2], t64(np.ones((3, 1))))
    with pytest.raises(ValueError, match=r"B of shape \(2, 1\) does not fit LU"):
        L.lu_solve(LU, pivots, t64(np.ones((2, 1))))
    with pytest.raises(TypeError, match="B must be a tensor of LU's dtype float64"):
        L.lu_solve(LU, pivots, gpugrad.ones(3, 1))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        L.lu_solve(LU, pivots, t64(np.ones(3)))
    batched, batched_pivots = L.lu_factor(t64(np.eye(3) + np.zeros((2, 1, 1))))
    with pytest.raises(ValueError, match="batch dimensions .* do not broadcast"):
        L.lu_solve(batched, batched_pivots, t64(np.ones((3, 3, 1))))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve_matches_numpy_and_gradchecks(left, adjoint):
    a = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b = RNG.standard_normal((2, 3, 2) if left else (2, 2, 3))
    op = np.swapaxes(a, -1, -2) if adjoint else a
    want = np.linalg.solve(op, b) if left else b @ np.linalg.inv(op)
    LU, pivots = L.lu_factor(t64(a))
    out = L.lu_solve(LU, pivots, t64(b), left=left, adjoint=adjoint)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-10, atol=1e-12)
    check_grads(lambda x, y: L.lu_solve(*L.lu_factor(x), y, left=left, adjoint=adjoint), a, b)


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular_matches_numpy(upper, unit):
    a = RNG.standard_normal((2, 4, 4)) + 4 * np.eye(4)
    b = RNG.standard_normal((4, 3))
    t = (np.triu(a, 1 if unit else 0) if upper else np.tril(a, -1 if unit else 0))
    t = t + np.eye(4) if unit else t
    for left in (True, False):
        rhs = b if left else b.T
        out = L.solve_triangular(t64(a), t64(rhs), upper=upper, left=left, unitriangular=unit)
        want = np.linalg.solve(t, rhs) if left else rhs @ np.linalg.inv(t)
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-10, atol=1e-12)


def test_solve_triangular_gradient_lies_in_the_triangle_and_singular_gives_inf():
    x = t64(RNG.standard_normal((3, 3)) + 3 * np.eye(3))
    L.solve_triangular(x, t64(np.ones((3, 2))), upper=True, unitriangular=True).sum().backward()
    assert np.all(np.tril(x.grad.numpy()) == 0)
    out = L.solve_triangular(t64(np.diag([1.0, 0.0])), t64(np.ones((2, 1))), upper=False)
    assert not np.all(np.isfinite(out.numpy()))


def test_solve_triangular_errors():
    a = t64(np.eye(3))
    with pytest.raises(ValueError, match="B must have at least 2 dimensions"):
        L.solve_triangular(a, t64(np.ones(3)), upper=True)
    with pytest.raises(ValueError, match=r"B of shape \(2, 1\) does not fit A"):
        L.solve_triangular(a, t64(np.ones((2, 1))), upper=True)
    with pytest.raises(TypeError, match="B must be a tensor of A's dtype"):
        L.solve_triangular(a, gpugrad.ones(3, 1), upper=True)
    with pytest.raises(ValueError, match="square matrices"):
        L.solve_triangular(t64(np.ones((2, 3))), t64(np.ones((2, 1))), upper=True)


@pytest.mark.parametrize("scale", [0.01, 1.0, 20.0])
def test_matrix_exp_matches_a_taylor_series(scale):
    a = RNG.standard_normal((3, 4, 4)) * scale
    np.testing.assert_allclose(L.matrix_exp(t64(a)).numpy(), _np_expm(a), rtol=1e-11,
                               atol=1e-12)
    x = gpugrad.tensor(a.astype(np.float32))
    assert L.matrix_exp(x).dtype == np.float32
    assert matrix_exp.METHODS["matrix_exp"] is L.matrix_exp     # Tensor.matrix_exp
    assert L.matrix_exp(t64(np.zeros((2, 0, 0)))).shape == (2, 0, 0)


def test_matrix_exp_gradients_to_third_order():
    a = RNG.standard_normal((3, 3))
    check_grads(matrix_exp.matrix_exp, a)
    x = t64(a)
    (g,) = autograd_grad(L.matrix_exp(x).sum(), [x], create_graph=True)
    (gg,) = autograd_grad((g ** 2).sum(), [x], create_graph=True)
    assert gpugrad.gradcheck(lambda m: autograd_grad(
        (autograd_grad(L.matrix_exp(m).sum(), [m], create_graph=True)[0] ** 2).sum(), [m],
        create_graph=True)[0], (x,))
    assert np.all(np.isfinite(gg.numpy()))


def test_lstsq_matches_numpy_and_gradchecks():
    a, b = RNG.standard_normal((2, 6, 3)), RNG.standard_normal((2, 6, 2))
    out = L.lstsq(t64(a), t64(b), driver="gelsd")
    for i in range(2):
        x, res, rank, sv = np.linalg.lstsq(a[i], b[i], rcond=None)
        np.testing.assert_allclose(out.solution[i].numpy(), x, rtol=1e-10)
        np.testing.assert_allclose(out.residuals[i].numpy(), res, rtol=1e-10)
        np.testing.assert_allclose(out.singular_values[i].numpy(), sv, rtol=1e-10)
        assert out.rank[i].item() == rank
    assert L.lstsq(t64(a), t64(b)).residuals.shape == (0,)      # gelsy: none, as torch's
    assert out.rank.dtype == np.int64 and not out.singular_values.requires_grad
    check_grads(lambda x, y: L.lstsq(x, y).solution, a, b)
    check_grads(lambda x, y: L.lstsq(x, y, driver="gels").residuals, a, b)
    low = a[0] @ np.diag([1.0, 1.0, 0.0])
    deficient = L.lstsq(t64(low), t64(b[0]), driver="gelss")
    assert deficient.rank.item() == 2 and deficient.residuals.shape == (0,)
    np.testing.assert_allclose(deficient.solution.numpy(), np.linalg.pinv(low) @ b[0],
                               atol=1e-10)


def test_lstsq_errors():
    with pytest.raises(ValueError, match="driver` should be one of"):
        L.lstsq(t64(np.eye(2)), t64(np.ones((2, 1))), driver="gesv")
    with pytest.raises(ValueError, match=r"input.dim\(\) must be greater or equal"):
        L.lstsq(t64(np.eye(2)), t64(np.ones((3, 2, 1))))
    with pytest.raises(ValueError, match=r"B of shape \(3, 1\) does not fit A"):
        L.lstsq(t64(np.eye(2)), t64(np.ones((3, 1))))


class _NotNumpy:
    """NumPy under another name: the path an array module other than NumPy (CuPy) takes."""

    def __getattr__(self, name):
        return getattr(np, name)


def test_host_reads_are_refused_by_name_inside_a_capture():
    """matrix_exp's squaring count (read on the host off NumPy) and lstsq's full-rank test
    for residuals: a CaptureError that names the op, not a raw stream error or
    Tensor.numpy()."""
    from gpugrad.autograd.capture_mode import capture_rules
    from gpugrad.cuda import CaptureError
    a = np.array([[0.0, 30.0], [-30.0, 0.0]])               # needs squarings
    expected = np.array([[np.cos(30.0), np.sin(30.0)], [-np.sin(30.0), np.cos(30.0)]])
    np.testing.assert_allclose(matrix_exp.MatrixExp.forward(_NotNumpy(), a), expected,
                               atol=1e-12)
    with capture_rules(recording=False):
        np.testing.assert_allclose(matrix_exp.MatrixExp.forward(np, a), expected, atol=1e-12)
        with pytest.raises(CaptureError, match="linalg.matrix_exp"):
            matrix_exp.MatrixExp.forward(_NotNumpy(), a)
    A, B = t64(RNG.standard_normal((4, 2)), False), t64(RNG.standard_normal((4, 1)), False)
    for driver in ("gelsd", "gelss"):
        step = gpugrad.compile(lambda x, y: L.lstsq(x, y, driver=driver).residuals)
        with pytest.raises(CaptureError, match=f"linalg.lstsq.driver='{driver}'"):
            step(A, B)
    for driver in ("gels", "gelsy"):                         # no read: these compile
        step = gpugrad.compile(lambda x, y: L.lstsq(x, y, driver=driver).residuals)
        np.testing.assert_allclose(step(A, B).numpy(),
                                   L.lstsq(A, B, driver=driver).residuals.numpy())


def test_qr_of_wide_matrices_gradchecks_and_vmaps():
    a = RNG.standard_normal((2, 3, 5))
    check_grads(lambda x: L.qr(x).Q ** 2 + L.qr(x).R.sum(), a)
    check_grads(lambda x: L.qr(x, mode="complete").R, a)
    batched = vmap(lambda x: L.qr(x).R)(t64(a, False))
    np.testing.assert_allclose(batched.numpy(), np.linalg.qr(a)[1], atol=1e-12)


def test_new_names_are_exported():
    for name in ["solve_triangular", "lu", "lu_factor", "lu_solve", "lstsq", "matrix_exp"]:
        assert name in L.__all__ and callable(getattr(L, name))
    assert "lu_unpack" in matrix_lu.__all__ and "matrix_exp" in matrix_exp.__all__


# --- against PyTorch (optional) --------------------------------------------------------------

def _torch_cases(torch):
    spd_shift = 3 * np.eye(4)
    return [
        ("lu_l_tall", lambda m: L.lu(m).L, lambda m: torch.linalg.lu(m).L,
         [RNG.standard_normal((2, 5, 3))]),
        ("lu_u_wide", lambda m: L.lu(m).U, lambda m: torch.linalg.lu(m).U,
         [RNG.standard_normal((3, 5))]),
        ("lu_factor", lambda m: L.lu_factor(m).LU, lambda m: torch.linalg.lu_factor(m).LU,
         [RNG.standard_normal((2, 4, 4))]),
        ("lu_solve", lambda m, b: L.lu_solve(*L.lu_factor(m), b, adjoint=True),
         lambda m, b: torch.linalg.lu_solve(*torch.linalg.lu_factor(m), b, adjoint=True),
         [RNG.standard_normal((4, 4)) + spd_shift, RNG.standard_normal((2, 4, 3))]),
        ("solve_triangular", lambda m, b: L.solve_triangular(m, b, upper=False, left=False),
         lambda m, b: torch.linalg.solve_triangular(m, b, upper=False, left=False),
         [RNG.standard_normal((4, 4)) + spd_shift, RNG.standard_normal((2, 3, 4))]),
        ("lstsq", lambda m, b: L.lstsq(m, b).solution,
         lambda m, b: torch.linalg.lstsq(m, b).solution,
         [RNG.standard_normal((2, 6, 3)), RNG.standard_normal((2, 6, 2))]),
        ("lstsq_residuals", lambda m, b: L.lstsq(m, b, driver="gelsd").residuals,
         lambda m, b: torch.linalg.lstsq(m, b, driver="gelsd").residuals,
         [RNG.standard_normal((6, 3)), RNG.standard_normal(6)]),
        ("qr_wide", lambda m: L.qr(m)[0] + L.qr(m)[1].sum(),
         lambda m: torch.linalg.qr(m)[0] + torch.linalg.qr(m)[1].sum(),
         [RNG.standard_normal((2, 3, 5))]),
        ("matrix_exp", L.matrix_exp, torch.linalg.matrix_exp,
         [RNG.standard_normal((2, 4, 4)) * 3]),
    ]


def test_values_pivots_and_gradients_match_torch():
    torch = pytest.importorskip("torch")
    for name, ours, theirs, arrays in _torch_cases(torch):
        xs = [t64(a) for a in arrays]
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
        out, expected = ours(*xs), theirs(*ts)
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10,
                                   atol=1e-10, err_msg=name)
        u = RNG.standard_normal(tuple(expected.shape))
        got = autograd_grad(out, xs, grad_outputs=gpugrad.tensor(u))
        want = torch.autograd.grad(expected, ts, torch.tensor(u))
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-8, atol=1e-9,
                                       err_msg=name)
    a = RNG.standard_normal((6, 2, 5, 5))
    assert (L.lu_factor(t64(a)).pivots.tolist()
            == torch.linalg.lu_factor(torch.tensor(a)).pivots.tolist())
    for driver in ("gels", "gelsy", "gelsd", "gelss"):
        ours = L.lstsq(t64(a[0, :, :, :3]), t64(a[1, :, :, :2]), driver=driver)
        theirs = torch.linalg.lstsq(torch.tensor(a[0, :, :, :3]), torch.tensor(a[1, :, :, :2]),
                                    driver=driver)
        for x, y in zip(ours, theirs):
            assert tuple(x.shape) == tuple(y.shape), driver
            np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-9, atol=1e-10)
