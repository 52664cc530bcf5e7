"""The cases of test_operator_parity.py against PyTorch 2.13 itself (skipped where torch is
not installed): values and dtypes of ``// % div & | ^ ~ << >>``, comparisons, all/any,
clamp with tensor bounds, where, promotion, alpha=, addcmul/addcdiv, and gradients."""

import types

import numpy as np
import pytest

import gpugrad
from gpugrad.ops import arithmetic, bitwise, compare, division, elementwise, promotion

# gpugrad with this area's names (gpugrad/__init__.py exports them; not assumed here)
GG = types.SimpleNamespace(**{**vars(gpugrad), **{
    name: getattr(module, name) for module in (arithmetic, bitwise, compare, division,
                                               elementwise, promotion)
    for name in module.__all__}})

TORCH_CASES = [
    "a // b", "a % b", "b // 2", "b % -3", "7 // b", "-7 % b", "a // 2.5", "7.5 // b",
    "x // y", "x % y", "x // 2", "2.5 // y", "L.div(a, b, rounding_mode='trunc')",
    "L.div(x, y, rounding_mode='floor')", "x.div(-y, rounding_mode='trunc')",
    "L.floor_divide(a, b)", "a & b", "a | b", "a ^ b", "~a", "a << 2", "a >> 1", "1 << b.abs()",
    "a & 1", "m & n", "m | n", "m ^ n", "~m", "m & True", "m & 1",
    "L.bitwise_and(a, b)", "L.bitwise_not(a)", "a.bitwise_or(b)", "L.bitwise_left_shift(a, 3)",
    "a.eq(b)", "L.ne(a, b)", "a.lt(2)", "L.ge(x, y)", "x.isclose(y, atol=0.5)",
    "m.all(dim=1)", "m.any(0, keepdim=True)", "L.all(m, dim=(0, 1))", "x.all(-1)",
    "u.all(0)", "x.clamp(min=y, max=y + 1)", "x.clamp(max=y)", "L.where(m, 1, 0)",
    "L.where(m, 1.0, 0)", "x.where(m, y)", "a.int() + L.tensor(3)", "u + L.tensor(-1)",
    "m + L.tensor(2)", "a + L.tensor(1.5, dtype=L.float64)", "L.add(x, y, alpha=2)",
    "L.sub(a, b, alpha=3)", "L.addcmul(x, y, x, value=0.5)", "x.addcdiv(y, y.abs() + 1)",
    "L.add(m, n, alpha=2)", "L.add(m, True, alpha=0)", "L.add(m, a, alpha=2)",
    "a / y.double()", "x.half() / b", "a / L.tensor(2.0, dtype=L.float64)",
]


@pytest.mark.parametrize("case", TORCH_CASES)
def test_same_values_and_dtypes_as_torch(case):
    torch = pytest.importorskip("torch")

    def run(L):
        x = L.tensor([[-3.5, 3.0, 1.2], [0.0, 2.5, -1.1]])
        y = L.tensor([[2.0, -1.5, 0.7], [1.0, 2.5, 0.3]])
        names = dict(L=L, a=L.tensor([[-7, 7, -6], [5, 0, 3]]), x=x, y=y, m=x > 0, n=y > 0,
                     b=L.tensor([[2, -2, 3], [-3, 4, 5]]),
                     u=L.tensor([[1, 0, 3], [200, 4, 0]], dtype=L.uint8))
        out = eval(case, {}, names)
        return out.dtype, np.asarray(out.tolist())

    (tdtype, expected), (gdtype, got) = run(torch), run(GG)
    assert str(tdtype).replace("torch.", "") == str(gdtype)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_gradients_as_torch():
    torch = pytest.importorskip("torch")

    def grads(L):
        x = L.tensor([1.0, 5.0, 3.0, 2.0], requires_grad=True)
        lo = L.tensor([2.0, 2.0, 3.0, 1.0], requires_grad=True)
        hi = L.tensor([4.0, 4.0, 3.0, 4.0], requires_grad=True)
        y = x.clamp(lo, hi) * 2 + L.div(x, lo, rounding_mode="floor") + x.addcmul(lo, hi)
        y.sum().backward()
        return [t.grad.tolist() for t in (x, lo, hi)]

    assert grads(GG) == grads(torch)


@pytest.mark.parametrize("bounds", ["both", "min", "max"])
def test_clamp_with_nan_and_equal_tensor_bounds_as_torch(bounds):
    torch = pytest.importorskip("torch")
    nan = float("nan")

    def run(L):
        x = L.tensor([0.5, 1.0, 1.0, 5.0, 3.0, 1.0, 2.0, 3.0, nan, 0.0], requires_grad=True)
        lo = L.tensor([nan, 0.0, nan, 2.0, 4.0, 2.0, 2.0, 2.0, 0.0, 4.0], requires_grad=True)
        hi = L.tensor([2.0, nan, nan, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0], requires_grad=True)
        y = x.clamp(lo if bounds != "max" else None, hi if bounds != "min" else None)
        (y * L.arange(1.0, 11.0)).sum().backward()
        return [np.asarray(t.tolist()) for t in (y, x.grad)] + \
            [np.asarray(t.grad.tolist()) for t in (lo, hi) if t.grad is not None]

    for got, expected in zip(run(GG), run(torch), strict=True):
        np.testing.assert_array_equal(got, expected)


_DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]


@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("case", ["a / b", "a + b", "a * b", "a ** b", "a // b", "a % b",
                                  "L.maximum(a, b)", "L.where(a > 0, a, b)"])
def test_int_and_float_mixes_take_torch_result_dtype(case, default):
    torch = pytest.importorskip("torch")

    def dtypes_of(L):
        out = {}
        for first in _DTYPES:
            for second in _DTYPES:
                for zero_d in ((False, False), (True, False), (False, True)):
                    a, b = (L.tensor(True if d == "bool" else 2, dtype=getattr(L, d)) if z
                            else L.tensor([True, True] if d == "bool" else [1, 2],
                                          dtype=getattr(L, d))
                            for d, z in zip((first, second), zero_d))
                    try:
                        out[first, second, zero_d] = str(eval(case, {}, dict(L=L, a=a, b=b))
                                                         .dtype).replace("torch.", "")
                    except (RuntimeError, TypeError):
                        out[first, second, zero_d] = "refused"
        return out

    old = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, default))
    gpugrad.set_default_dtype(getattr(gpugrad, default))
    try:
        expected, got = dtypes_of(torch), dtypes_of(GG)
    finally:
        torch.set_default_dtype(old)
        gpugrad.set_default_dtype(gpugrad.float32)
    wrong = {k: (got[k], v) for k, v in expected.items() if v != "refused" and got[k] != v}
    assert not wrong


def test_copy_of_a_float_that_requires_grad_into_an_int_tensor_as_torch():
    torch = pytest.importorskip("torch")

    def run(L):
        t = L.zeros(3, dtype=L.int64)
        w = L.tensor([1.7, -2.7, 3.2], requires_grad=True)
        t.copy_(w)
        return t.requires_grad, t.tolist()

    assert run(GG) == run(torch)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
def test_shifts_by_out_of_range_counts_as_torch(dtype):
    torch = pytest.importorskip("torch")
    counts = [0, 3, 7, 8, 9, 15, 16, 31, 32, 63, 64, 100] + ([] if dtype == "uint8" else [-1, -70])

    def run(L):
        x = L.tensor([1, 200, 5] if dtype == "uint8" else [1, -8, 100], dtype=getattr(L, dtype))
        c = L.tensor([counts] if dtype != "int8" else [[v for v in counts if v < 128]],
                     dtype=getattr(L, dtype)).reshape(-1, 1)
        outs = [x << c, x >> c, 3 << c] + [op(x, n) for n in counts
                                           for op in (lambda a, k: a << k, lambda a, k: a >> k)]
        return [(str(o.dtype).replace("torch.", ""), o.tolist()) for o in outs]

    assert run(GG) == run(torch)
