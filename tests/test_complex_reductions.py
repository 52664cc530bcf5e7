"""Complex values through the reductions and scans, as torch 2.13's: var/std (real results,
sum |x - mean|^2 / (N - correction)), var_mean/std_mean, cumsum, cumprod, prod (through
zeros), logsumexp (the principal log), lerp; xlogy refuses complex as torch's does; and a
NumPy integer ``dim`` in the reductions.

Each case runs tests/complex_case_checks.py's checks: reverse mode, forward mode and second
order against finite differences along Re and Im (torch-free), and torch (skipped without).
"""

import numpy as np
import pytest

import gpugrad
from complex_case_checks import c, case_tests

ZEROS = np.array([[1.5 - 0.5j, 0j, 0.8 + 1j, -1 + 0.7j],     # one zero
                  [0j, 1.2 + 0.3j, 0j, 0.6 - 1j],           # two zeros
                  [0j, 0j, 0.9j, 0j]])                       # three zeros
# weights on both sides of |w| = 0.5, where lerp switches formula
WEIGHTS = np.array([[0.2 + 0.1j, 0.6 - 0.2j, -0.3j], [0.9 + 0.4j, -0.1 + 0.2j, 0.45]])
# name: (records it reaches, fn(m, *tensors) with m gpugrad or torch, input kinds)
CASES = {
    "var": (("Mean", "Conj", "Real", "Sum"), lambda m, a: a.var(0), (c(3, 4),)),
    "var_correction_0_keepdim": (("Real",), lambda m, a: a.var(1, correction=0, keepdim=True),
                                 (c(3, 4),)),
    "var_unbiased_false_all": (("Real",), lambda m, a: a.var(unbiased=False), (c(2, 3),)),
    "std": (("Real", "Sqrt"), lambda m, a: a.std(1), (c(3, 4),)),
    "std_all": (("Real", "Sqrt"), lambda m, a: a.std(), (c(2, 3),)),
    "var_mean": (("Real", "Mean"), lambda m, a: _product(*m.var_mean(a, 0)), (c(3, 4),)),
    "std_mean": (("Real", "Mean", "Sqrt"),
                 lambda m, a: _product(*m.std_mean(a, 1, correction=0, keepdim=True)),
                 (c(3, 4),)),
    "cumsum": (("CumSum",), lambda m, a: a.cumsum(1) * a, (c(2, 4),)),
    "cumprod": (("CumProd",), lambda m, a: a.cumprod(1), (c(2, 4),)),
    "cumprod_through_zeros": (("CumProd",), lambda m, a: a.cumprod(1), (ZEROS,)),
    "prod": (("Prod",), lambda m, a: a.prod(1), (c(3, 4),)),
    "prod_all": (("Prod",), lambda m, a: a.prod(), (c(2, 3),)),
    "prod_through_zeros": (("Prod",), lambda m, a: a.prod(1), (ZEROS,)),
    "logsumexp": (("LogSumExp",), lambda m, a: a.logsumexp(1), (c(3, 4),)),
    "logsumexp_keepdim": (("LogSumExp",), lambda m, a: m.logsumexp(a, (0, 1), keepdim=True),
                          (c(2, 3),)),
    "lerp": (("Sub", "MulScalar"), lambda m, a, b: m.lerp(a, b, 0.3), (c(2, 3), c(2, 3))),
    "lerp_complex_weight_far_end": (("Sub", "MulScalar"), lambda m, a, b: m.lerp(a, b, 0.7 + 0.2j),
                                    (c(2, 3), c(3))),
    "lerp_tensor_weight": (("Where", "Mul"), lambda m, a, b, w: m.lerp(a, b, w),
                           (c(2, 3), c(2, 3), WEIGHTS)),
}
(test_reverse_mode_matches_finite_differences, test_forward_mode_matches_finite_differences,
 test_second_order_matches_finite_differences_of_the_gradient,
 test_case_reaches_the_records_it_names,
 test_values_and_gradients_match_torch) = case_tests(CASES)


def _product(spread, mean):
    return spread * mean


# ------------------------------------------------------------------ hand-derived values

def test_var_is_real_and_its_gradient_is_twice_the_centred_value_over_the_dof():
    x = gpugrad.tensor([1 + 1j, 3 - 1j], dtype="complex128", requires_grad=True)
    v = x.var()                         # mean 2; |-1 + i|^2 + |1 - i|^2 = 4, over 2 - 1
    assert v.dtype == np.float64 and v.item() == pytest.approx(4.0)
    v.backward()
    np.testing.assert_allclose(x.grad.numpy(), [-2 + 2j, 2 - 2j])      # 2 (x - mean) / 1
    s, mean = gpugrad.std_mean(x.detach(), correction=0)
    assert s.item() == pytest.approx(np.sqrt(2.0)) and mean.item() == pytest.approx(2 + 0j)


def test_spreads_of_complex64_are_float32():
    z = gpugrad.tensor([[1 + 2j, 3j], [2 - 1j, 1.0]], dtype="complex64")
    v, mean = gpugrad.var_mean(z, 1)
    assert v.dtype == np.float32 and mean.dtype == np.complex64 and z.std().dtype == np.float32
    np.testing.assert_allclose(v.numpy(), np.var(z.numpy(), axis=1, ddof=1), rtol=1e-6)


def test_prod_gradient_through_a_zero_is_the_conjugate_of_the_others_product():
    x = gpugrad.tensor([2 + 1j, 0j, 1j], dtype="complex128", requires_grad=True)
    x.prod().backward(gpugrad.tensor(1 + 0j, dtype="complex128"))
    # d prod / d x1 = (2 + i) i = -1 + 2i; torch's gradient is its conjugate
    np.testing.assert_allclose(x.grad.numpy(), [0, -1 - 2j, 0])


def test_cumsum_gradient_counts_each_element_in_the_sums_after_it():
    x = gpugrad.tensor([1j, 2.0, 3 - 1j], dtype="complex128", requires_grad=True)
    y = x.cumsum(0)
    np.testing.assert_allclose(y.numpy(), [1j, 2 + 1j, 5 + 0j])
    y.backward(gpugrad.tensor([1j, 1j, 1j], dtype="complex128"))
    # a linear map with real coefficients: conj(1) g, summed over the sums each is in
    np.testing.assert_allclose(x.grad.numpy(), [3j, 2j, 1j])


def test_logsumexp_of_complex_values_is_the_principal_log():
    # the sum of exp is -1.96 - 0.098i: its log's imaginary part is -pi + 0.05, not the
    # pi + 0.05 that shifting by NumPy's (lexicographic) complex max gives
    z = np.array([3j, -2.9j])
    got = gpugrad.tensor(z).logsumexp(0).item()
    want = np.log(np.exp(z).sum())
    assert abs(got - want) < 1e-12 and -np.pi < got.imag < -3.0
    big = gpugrad.tensor([1e4 + 1j, 1e4 + 1j], dtype="complex128").logsumexp(0).item()
    assert abs(big - (1e4 + np.log(2) + 1j)) < 1e-9                       # no overflow


def test_lerp_refuses_a_complex_weight_for_real_tensors_as_torch():
    a = gpugrad.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="complex weight"):
        gpugrad.lerp(a, a * 2, 0.5 + 1j)
    z = gpugrad.tensor([1j, 2.0 + 0j])
    with pytest.raises(TypeError, match="expected dtype"):
        gpugrad.lerp(z, z, gpugrad.tensor([0.5, 0.5]))        # a real weight tensor
    assert gpugrad.lerp(z, z * 3, 0.5).tolist() == [2j, 4 + 0j]


# ------------------------------------------------------------------ xlogy refuses complex

XLOGY_CALLS = {
    "complex_both": lambda m, x: m.xlogy(x, x),
    "real_and_complex": lambda m, x: m.xlogy(x.real, x),
    "complex_scalar": lambda m, x: m.xlogy(x.real, 1 + 1j),
    "method": lambda m, x: x.xlogy(x),
    "special": lambda m, x: m.special.xlogy(x, 2.0),
}


@pytest.mark.parametrize("name", sorted(XLOGY_CALLS))
def test_xlogy_refuses_complex_values(name):
    x = gpugrad.tensor([1 + 2j, 0.5j])
    with pytest.raises(NotImplementedError, match="xlogy is not implemented for complex"):
        XLOGY_CALLS[name](gpugrad, x)


@pytest.mark.parametrize("name", sorted(XLOGY_CALLS))
def test_torch_refuses_the_same_xlogy_calls(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(NotImplementedError):
        XLOGY_CALLS[name](torch, torch.tensor([1 + 2j, 0.5j]))


# ------------------------------------------------------------------ NumPy integer dims

X = np.arange(12.0).reshape(3, 4) ** 1.5
DIM_CALLS = {      # name: (fn(m, x), the NumPy value)
    "sum": (lambda m, x: x.sum(dim=np.int64(0)), X.sum(0)),
    "sum_tuple": (lambda m, x: x.sum((np.int32(0), np.int64(-1))), X.sum()),
    "mean": (lambda m, x: m.mean(x, np.int64(1), keepdim=True), X.mean(1, keepdims=True)),
    "std": (lambda m, x: x.std(np.int64(0)), X.std(0, ddof=1)),
    "var": (lambda m, x: x.var(dim=np.int8(-1), correction=0), X.var(1)),
    "logsumexp": (lambda m, x: x.logsumexp(np.int64(1)), np.log(np.exp(X).sum(1))),
    "std_mean": (lambda m, x: m.std_mean(x, np.int64(1))[0], X.std(1, ddof=1)),
    "var_mean": (lambda m, x: m.var_mean(x, (np.int64(0),))[0], X.var(0, ddof=1)),
    "amax": (lambda m, x: m.amax(x, np.int64(1)), X.max(1)),
    "amin": (lambda m, x: m.amin(x, (np.int64(0), 1)), X.min()),
    "nansum": (lambda m, x: m.nansum(x, np.int64(0)), X.sum(0)),
}


@pytest.mark.parametrize("name", sorted(DIM_CALLS))
def test_a_numpy_integer_dim_reduces_as_an_int(name):
    fn, want = DIM_CALLS[name]
    np.testing.assert_allclose(fn(gpugrad, gpugrad.tensor(X)).numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(DIM_CALLS))
def test_a_numpy_integer_dim_matches_torch(name):
    torch = pytest.importorskip("torch")
    fn, _ = DIM_CALLS[name]
    np.testing.assert_allclose(fn(gpugrad, gpugrad.tensor(X)).numpy(),
                               fn(torch, torch.tensor(X)).numpy(), rtol=1e-12)


def test_a_dim_that_is_not_an_integer_says_so():
    with pytest.raises(TypeError, match="dim must be an int or a sequence of ints"):
        gpugrad.tensor(X).sum(dim=1.0)
    with pytest.raises(TypeError, match="dim must be an int or a sequence of ints"):
        gpugrad.tensor(X).sum(dim=(0, 1.0))
