"""Edge cases of the running reductions and of det (ops/cumulative.py, statistics.py,
matrix_functions.py): float16 scans accumulate in float32 as PyTorch's, cumsum's gradient
keeps small terms next to large ones, ``cumsum(dtype=int32)`` stays int32, and det's
gradient at a singular matrix is the cofactor matrix (finite differences; PyTorch 2.13
gives zeros there, which is wrong). Values against float64 NumPy and hand-derived numbers;
PyTorch itself where it is installed."""

import numpy as np
import pytest

import gpugrad

RNG = np.random.default_rng(23)


def leaf(a, dtype="float64"):
    return gpugrad.tensor(np.asarray(a), dtype=dtype, requires_grad=True)


# ------------------------------------------------------------------ float16 scans


def test_float16_cumsum_accumulates_in_float32():
    x = gpugrad.ones(3000, dtype=gpugrad.float16, requires_grad=True)
    y = x.cumsum(0)
    assert y.dtype == gpugrad.float16
    assert y[-1].item() == 3000.0                  # float16 running sums stop at 2048
    want = np.cumsum(np.ones(3000), dtype=np.float64).astype(np.float16)
    np.testing.assert_array_equal(y.numpy(), want)
    y.backward(gpugrad.ones_like(y))               # grad_i = 3000 - i, rounded once
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(3000, 0, -1).astype(np.float16))


def test_float16_cumprod_and_logcumsumexp_accumulate_in_float32():
    x = gpugrad.full((3000,), 1.0005, dtype=gpugrad.float16)
    want = np.cumprod(np.full(3000, np.float16(1.0005)), dtype=np.float32)
    np.testing.assert_array_equal(x.cumprod(0).numpy(), want.astype(np.float16))
    assert abs(x.cumprod(0)[-1].item() - float(np.float16(1.0005)) ** 3000) < 0.05  # not 14.9
    z = gpugrad.zeros(3000, dtype=gpugrad.float16).logcumsumexp(0)
    np.testing.assert_array_equal(z.numpy(), np.log(np.arange(1, 3001.0)).astype(np.float16))


def test_float16_scan_gradients_match_float64():
    a = RNG.uniform(0.99, 1.01, (2, 500))
    for fn in (lambda t: t.cumsum(1), lambda t: t.cumprod(1), lambda t: t.logcumsumexp(1)):
        half = leaf(a.astype(np.float16), "float16")
        y = fn(half)                                # (its float16 sum would overflow)
        y.backward(gpugrad.ones_like(y))
        full = leaf(a.astype(np.float16).astype(np.float64))
        fn(full).sum().backward()
        np.testing.assert_allclose(half.grad.numpy().astype(np.float64), full.grad.numpy(),
                                   rtol=1e-2)


def test_cumsum_gradient_keeps_small_terms_next_to_large_ones():
    x = leaf([0.0, 0.0, 0.0], "float32")
    x.cumsum(0).backward(gpugrad.tensor([1e8, 1.0, 1.0]))
    assert x.grad.tolist() == [1e8, 2.0, 1.0]      # total - cumsum + g gave [1e8, 1, 1]


def test_cumsum_gradient_is_the_running_sum_from_the_end_in_any_dim():
    a = RNG.standard_normal((3, 4, 5))
    g = RNG.standard_normal((3, 4, 5))
    for dim in (0, 1, 2, -1):
        x = leaf(a)
        x.cumsum(dim).backward(gpugrad.tensor(g))
        want = np.flip(np.cumsum(np.flip(g, dim), dim), dim)
        np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12, atol=1e-12)
    assert gpugrad.gradcheck(lambda t: t.cumsum(1), (leaf(a),))
    assert gpugrad.gradgradcheck(lambda t: (t.cumsum(2) ** 2), (leaf(a),))


@pytest.mark.parametrize("dtype", ["int32", "int8", "int16"])
def test_cumsum_and_cumprod_keep_an_asked_integer_dtype(dtype):
    x = gpugrad.tensor([1, 2, 3, 4], dtype=dtype)
    assert x.cumsum(0, dtype=dtype).dtype == np.dtype(dtype)
    assert x.cumsum(0, dtype=dtype).tolist() == [1, 3, 6, 10]
    assert x.cumprod(0, dtype=dtype).dtype == np.dtype(dtype)
    assert x.cumsum(0).dtype == gpugrad.int64


def test_scans_against_torch():
    torch = pytest.importorskip("torch")
    a = RNG.uniform(0.5, 1.5, (3, 2100)).astype(np.float16)
    for name in ("cumsum", "cumprod", "logcumsumexp"):
        t = torch.tensor(a, requires_grad=True)
        ty = getattr(t, name)(1)
        ty.backward(torch.ones_like(ty))
        x = leaf(a, "float16")
        y = getattr(x, name)(1)
        y.backward(gpugrad.ones_like(y))
        np.testing.assert_allclose(y.numpy().astype(np.float64), ty.detach().numpy(),
                                   rtol=2e-3)
        np.testing.assert_allclose(x.grad.numpy().astype(np.float64), t.grad.numpy(),
                                   rtol=5e-3)
    got = gpugrad.tensor([1, 2], dtype="int32").cumsum(0, dtype=gpugrad.int32)
    want = torch.tensor([1, 2], dtype=torch.int32).cumsum(0, dtype=torch.int32)
    assert str(got.dtype) == str(want.dtype).replace("torch.", "")


# ------------------------------------------------------------------ det at singular matrices


def _numeric_gradient(f, a, eps=1e-6):
    grad = np.zeros_like(a)
    for idx in np.ndindex(*a.shape):
        step = np.zeros_like(a)
        step[idx] = eps
        grad[idx] = (f(a + step) - f(a - step)) / (2 * eps)
    return grad


SINGULAR = [
    ([[1.0, 2.0], [2.0, 4.0]], [[4.0, -2.0], [-2.0, 1.0]]),
    ([[0.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]]),
    ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
     [[-3.0, 6.0, -3.0], [6.0, -12.0, 6.0], [-3.0, 6.0, -3.0]]),
    ([[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]),
]


@pytest.mark.parametrize("matrix,cofactors", SINGULAR)
def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix(matrix, cofactors):
    a = leaf(matrix)
    gpugrad.linalg.det(a).backward()
    np.testing.assert_allclose(a.grad.numpy(), cofactors, atol=1e-12)
    numeric = _numeric_gradient(np.linalg.det, np.array(matrix))
    np.testing.assert_allclose(a.grad.numpy(), numeric, atol=1e-6)


def test_det_forward_mode_and_batches_at_singular_matrices():
    batch = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [1.0, 3.0]]])   # one singular
    a = leaf(batch)
    (gpugrad.linalg.det(a) * gpugrad.tensor([1.0, 2.0], dtype="float64")).sum().backward()
    want = [[[4.0, -2.0], [-2.0, 1.0]], [[6.0, -2.0], [-2.0, 4.0]]]
    np.testing.assert_allclose(a.grad.numpy(), want, atol=1e-12)
    tangent = RNG.standard_normal((2, 2, 2))
    _, jvp = gpugrad.func.jvp(gpugrad.linalg.det, (gpugrad.tensor(batch),),
                              (gpugrad.tensor(tangent),))
    np.testing.assert_allclose(jvp.numpy(), (np.array(want) / [[[1]], [[2]]] * tangent)
                               .sum((1, 2)), atol=1e-12)


def test_det_second_derivative_at_a_singular_matrix():
    # det of 2x2 is a00 a11 - a01 a10: the gradient of <grad det, w> is w's cofactors
    a = leaf([[1.0, 2.0], [2.0, 4.0]])
    (grad,) = gpugrad.autograd.grad(gpugrad.linalg.det(a), a, create_graph=True)
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    (grad * gpugrad.tensor(w, dtype="float64")).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [[4.0, -3.0], [-2.0, 1.0]], atol=1e-9)


def test_det_gradient_of_an_invertible_matrix_is_unchanged():
    a = RNG.standard_normal((3, 4, 4))
    x = leaf(a)
    gpugrad.linalg.det(x).sum().backward()
    want = np.linalg.det(a)[:, None, None] * np.linalg.inv(a).transpose(0, 2, 1)
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-10)
    assert gpugrad.gradcheck(gpugrad.linalg.det, (leaf(a),))


def test_slogdet_and_logdet_at_a_singular_matrix_give_non_finite_gradients():
    # as PyTorch: no error; d log|det| = C^T / det is infinite where a cofactor is not zero
    for fn in (lambda t: gpugrad.linalg.slogdet(t).logabsdet, gpugrad.logdet):
        a = leaf([[1.0, 2.0], [2.0, 4.0]])
        out = fn(a)
        assert out.item() == -np.inf
        out.backward()
        assert np.isinf(a.grad.numpy()).all()


def test_det_and_slogdet_at_singular_matrices_against_torch():
    torch = pytest.importorskip("torch")
    for matrix, cofactors in SINGULAR[:3]:
        t = torch.tensor(matrix, dtype=torch.float64, requires_grad=True)
        torch.linalg.slogdet(t).logabsdet.backward()
        a = leaf(matrix)
        gpugrad.linalg.slogdet(a).logabsdet.backward()
        # PyTorch's pattern of inf and NaN follows its LU; both are non-finite where the
        # cofactors are not zero
        nonzero = np.array(cofactors) != 0
        assert not np.isfinite(t.grad.numpy()[nonzero]).any()
        assert not np.isfinite(a.grad.numpy()[nonzero]).any()
        t = torch.tensor(matrix, dtype=torch.float64, requires_grad=True)
        torch.linalg.det(t).backward()              # PyTorch 2.13: zeros (wrong)
        assert float(torch.linalg.det(t.detach())) == 0.0
