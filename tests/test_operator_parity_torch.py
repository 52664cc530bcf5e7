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
