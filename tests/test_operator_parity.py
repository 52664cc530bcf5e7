"""PyTorch 2.13's operators, comparisons, bitwise ops and type promotion: ``// %`` and
``div(rounding_mode=)``, ``& | ^ ~ << >>``, all/any with dim, clamp with tensor bounds,
copy_'s cast, where with numbers, addcmul/addcdiv, alpha=, the in-place and tensor-info
methods: hand-derived values, no torch needed (test_operator_parity_torch.py: the same cases
against torch where it is installed)."""

import numpy as np
import pytest

import gpugrad
from gpugrad.ops import arithmetic, bitwise, compare, division, promotion

T = gpugrad.tensor


def values(t):
    return t.dtype, t.tolist()


# ---------------------------------------------------------------------------------------------
# // % div(rounding_mode=)
# ---------------------------------------------------------------------------------------------

def test_floor_division_and_remainder_of_integers_follow_python():
    a, b = T([-7, 7, -6, 5]), T([2, -2, 3, -3])
    assert values(a // b) == (gpugrad.int64, [-4, -4, -2, -2])
    assert values(a % b) == (gpugrad.int64, [1, -1, 0, -1])
    assert (a // 2).tolist() == [-4, 3, -3, 2] and (a % 3).tolist() == [2, 1, 0, 2]
    assert (7 // b).tolist() == [3, -4, 2, -3] and (-7 % b).tolist() == [1, -1, 2, -1]
    assert values(gpugrad.div(a, b, rounding_mode="trunc")) == (gpugrad.int64, [-3, -3, -2, -1])
    assert a.div(b, rounding_mode="floor").tolist() == [-4, -4, -2, -2]
    assert values(division.floor_divide(a, b)) == (gpugrad.int64, [-4, -4, -2, -2])
    assert a.div(b).dtype == gpugrad.float32 and a.div(b).tolist()[:3] == [-3.5, -3.5, -2.0]


def test_floor_division_of_floats_and_by_zero():
    x = T([-3.5, 3.0, 1.0, 0.0])
    assert values(x // 2) == (gpugrad.float32, [-2.0, 1.0, 0.0, 0.0])
    assert (x % 2).tolist() == [0.5, 1.0, 1.0, 0.0]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (x // 0).tolist()
        trunc = gpugrad.div(x, 0.0, rounding_mode="trunc").tolist()
        r = (x % 0).tolist()
    assert q[:3] == [-np.inf, np.inf, np.inf] and np.isnan(q[3])
    assert trunc[:3] == [-np.inf, np.inf, np.inf] and all(np.isnan(r))
    assert (T([1.0], dtype=gpugrad.float64) // 0.1).item() == 9.0        # Python's 1.0 // 0.1
    assert gpugrad.div(T([1.0], dtype=gpugrad.float64), 0.1, rounding_mode="trunc").item() == 10


def test_integer_division_by_zero_raises_as_torch():
    for fn in (lambda: T([1, 2]) // 0, lambda: T([1, 2]) // T([1, 0]),
               lambda: T([1, 2]) % 0, lambda: gpugrad.div(T([3]), T([0]), rounding_mode="trunc")):
        with pytest.raises(RuntimeError, match="division by zero"):
            fn()
    with pytest.raises(ZeroDivisionError):
        T([1]) // 0


def test_division_dtypes():
    a = T([-7, 7])
    assert values(a // 2.5) == (gpugrad.float32, [-3.0, 2.0])
    assert values(7.5 // a) == (gpugrad.float32, [-2.0, 1.0])
    assert values(T([200, 3], dtype=gpugrad.uint8) // 2) == (gpugrad.uint8, [100, 1])
    i32 = T([5], dtype=gpugrad.int32)
    assert (i32 // T(2)).dtype == gpugrad.int32 and (i32 // T([2])).dtype == gpugrad.int64
    assert values(T([5, 7]) // T(2.0)) == (gpugrad.float32, [2.0, 3.0])
    with pytest.raises(TypeError, match="bool"):
        T([True]) // T([True])
    with pytest.raises(ValueError, match="rounding_mode"):
        gpugrad.div(a, 2, rounding_mode="round")


def test_true_division_takes_the_float_operands_dtype():
    ints = gpugrad.arange(3)
    half = T([2.0, 2.0, 2.0], dtype=gpugrad.float16)
    assert values(ints / T(2.0, dtype=gpugrad.float64)) == (gpugrad.float64, [0.0, 0.5, 1.0])
    assert values(T(1.0, dtype=gpugrad.float64) / T([4, 8])) == (gpugrad.float64, [0.25, 0.125])
    assert values(ints / half) == (gpugrad.float16, [0.0, 0.5, 1.0])
    assert values(T([True, False]) / T([2, 4])) == (gpugrad.float32, [0.5, 0.0])
    assert (T([1.0], dtype=gpugrad.float16) / T(2.0, dtype=gpugrad.float64)).dtype == \
        gpugrad.float16                 # a 0-d float does not widen a float tensor
    gpugrad.set_default_dtype(gpugrad.float64)
    try:
        assert (ints / gpugrad.ones(3, dtype=gpugrad.float32)).dtype == gpugrad.float32
        assert (ints / T([2, 2, 2])).dtype == gpugrad.float64      # both integer: the default
        assert (ints / 2).dtype == gpugrad.float64
    finally:
        gpugrad.set_default_dtype(gpugrad.float32)


def test_in_place_floor_division_and_remainder():
    a = T([-7, 7])
    same = a
    a //= 2
    assert a is same and a.tolist() == [-4, 3]
    a %= 3
    assert a is same and a.tolist() == [2, 0]
    x = T([5.0, -5.0])
    x.div_(2, rounding_mode="trunc")
    assert x.tolist() == [2.0, -2.0]
    with pytest.raises(TypeError):
        b = T([7])
        b //= 2.5                               # float32 result into int64: refused, as torch


def test_rounded_division_has_zero_gradient():
    x = T([3.0, 5.0], requires_grad=True)
    y = T([2.0, 2.0], requires_grad=True)
    (division.floor_divide(x, y) * 3 + x.div(y, rounding_mode="trunc")).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0] and y.grad.tolist() == [0.0, 0.0]
    gpugrad.gradcheck(lambda a: (a * 1.5) // 0.7 + a, (T([1.3, 2.2], dtype=gpugrad.float64,
                                                        requires_grad=True),))


# ---------------------------------------------------------------------------------------------
# & | ^ ~ << >>
# ---------------------------------------------------------------------------------------------

def test_bitwise_operators_on_integers():
    a, b = T([6, 3]), T([3, 5])
    assert values(a & b) == (gpugrad.int64, [2, 1])
    assert (a | b).tolist() == [7, 7] and (a ^ b).tolist() == [5, 6] and (~a).tolist() == [-7, -4]
    assert (a & 1).tolist() == [0, 1] and (1 | a).tolist() == [7, 3]
    assert (a << 1).tolist() == [12, 6] and (T([-8, 8]) >> 1).tolist() == [-4, 4]
    assert (1 << T([3])).tolist() == [8] and (T([1]) << 64).tolist() == [0]
    assert (T([-1]) >> 70).tolist() == [-1]
    assert values(~T([3], dtype=gpugrad.uint8)) == (gpugrad.uint8, [252])
    assert values(T([3], dtype=gpugrad.int32) << T(2)) == (gpugrad.int32, [12])
    assert bitwise.bitwise_and(a, b).tolist() == [2, 1] and a.bitwise_not().tolist() == [-7, -4]
    assert a.bitwise_xor(b).tolist() == [5, 6] and bitwise.bitwise_or(a, 8).tolist() == [14, 11]
    assert bitwise.bitwise_left_shift(a, 2).tolist() == [24, 12]
    assert a.bitwise_right_shift(1).tolist() == [3, 1]


class _CShifts:
    """NumPy, except that its shifts do what C's do on x86 (and may on a GPU) with a count
    outside [0, bits): the count taken modulo the width."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def _wrapped(x, count):
        bits = np.asarray(x).dtype.itemsize * 8
        return np.bitwise_and(count, bits - 1).astype(np.asarray(x).dtype)

    def left_shift(self, x, count):
        return np.left_shift(x, self._wrapped(x, count))

    def right_shift(self, x, count):
        return np.right_shift(x, self._wrapped(x, count))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8])
def test_shifts_out_of_range_do_not_rely_on_the_array_library(dtype):
    bits = np.dtype(dtype).itemsize * 8
    x = np.array([1, 5, 100] if dtype == np.uint8 else [1, -8, 100], dtype=dtype)
    counts = [-70, -1, 0, 3, bits - 1, bits, bits + 1, 100] if dtype != np.uint8 else \
        [0, 3, 7, 8, 9, 100]
    for xp in (np, _CShifts()):
        for c in counts:
            # hand rule: x * 2**c and floor(x / 2**c) in Python ints, wrapped to the width;
            # counts outside [0, bits) give 0, or the sign for >> (as PyTorch's)
            inside = 0 <= c < bits
            left = [(int(v) << c) % 2 ** bits if inside else 0 for v in x]
            left = [v - 2 ** bits if v >= 2 ** (bits - 1) and dtype != np.uint8 else v
                    for v in left]
            right = [int(v) >> c if inside else (-1 if v < 0 else 0) for v in x]
            for count in (c, np.full(3, c, dtype=dtype)):
                if dtype == np.uint8 and c < 0:
                    continue
                got_l = bitwise.masked_shift(xp, x, count, True)
                got_r = bitwise.masked_shift(xp, x, count, False)
                assert got_l.tolist() == left and got_l.dtype == dtype, (xp, c)
                assert got_r.tolist() == right and got_r.dtype == dtype, (xp, c)


def test_shift_operators_by_the_width_or_more():
    i32 = T([1, -8, 5], dtype=gpugrad.int32)
    assert values(i32 << 32) == (gpugrad.int32, [0, 0, 0])
    assert values(i32 >> 40) == (gpugrad.int32, [0, -1, 0])
    assert (i32 >> -1).tolist() == [0, -1, 0] and (i32 << -1).tolist() == [0, 0, 0]
    counts = T([31, 32, 0], dtype=gpugrad.int32)
    assert (i32 << counts).tolist() == [-2 ** 31, 0, 5]
    assert (i32 >> counts).tolist() == [0, -1, 5]
    assert values(3 << counts) == (gpugrad.int32, [-2 ** 31, 0, 3])
    assert (T([200], dtype=gpugrad.uint8) >> 8).tolist() == [0]
    assert (gpugrad.tensor([1, -8]) << gpugrad.tensor([64, 63])).tolist() == [0, 0]


def test_bitwise_operators_on_bool_are_logical():
    m, n = T([True, True, False]), T([True, False, False])
    assert values(m & n) == (gpugrad.bool_, [True, False, False])
    assert (m | n).tolist() == [True, True, False] and (m ^ n).tolist() == [False, True, False]
    assert (~m).tolist() == [False, False, True] and (m & True).dtype == gpugrad.bool_
    assert values(T([True]) & 1) == (gpugrad.int64, [1])
    assert values(T([True]) | T([2])) == (gpugrad.int64, [3])


def test_in_place_bitwise_operators():
    m = T([True, False, True])
    same = m
    m &= T([True, True, False])
    assert m is same and m.tolist() == [True, False, False]
    m |= T([False, True, False])
    m ^= T([True, True, True])
    assert m is same and m.tolist() == [False, False, True]
    a = T([1, 2])
    a <<= 2
    a >>= 1
    assert a.tolist() == [2, 4]
    a.bitwise_and_(T([6, 6]))
    assert a.tolist() == [2, 4]


def test_bitwise_ops_refuse_floats():
    x = T([1.0, 2.0])
    for fn in (lambda: ~x, lambda: x & x, lambda: x | 1, lambda: T([3]) & 1.5,
               lambda: x << 1, lambda: bitwise.bitwise_not(x)):
        with pytest.raises(TypeError, match="integer and bool"):
            fn()
    with pytest.raises(NotImplementedError):         # (torch's class for the functions)
        bitwise.bitwise_and(x, x)


# ---------------------------------------------------------------------------------------------
# comparisons, all/any, isclose, equal
# ---------------------------------------------------------------------------------------------

def test_comparison_functions_and_methods():
    a, b = T([1.0, 2.0, 3.0]), T([2.0, 2.0, 2.0])
    assert a.eq(b).tolist() == [False, True, False] and a.ne(2).tolist() == [True, False, True]
    assert a.lt(b).tolist() == [True, False, False] and a.le(b).tolist() == [True, True, False]
    assert a.gt(b).tolist() == [False, False, True] and a.ge(2).tolist() == [False, True, True]
    assert compare.eq(a, b).tolist() == compare.equal(a, b).tolist()
    assert compare.gt(a, b).tolist() == a.greater(b).tolist() == (a > b).tolist()
    assert a.less_equal(b).tolist() == compare.le(a, b).tolist()
    assert a.not_equal(b).tolist() == a.ne(b).tolist()
    m = a > 1.5
    assert m.logical_and(a < 2.5).tolist() == [False, True, False]
    assert m.logical_or(a < 1.5).tolist() == [True, True, True]
    assert m.logical_xor(a > 2.5).tolist() == [False, True, False]
    assert m.logical_not().tolist() == [True, False, False]


def test_all_any_with_dim_and_keepdim():
    m = T([[True, False], [True, True]])
    assert m.all(dim=1).tolist() == [False, True] and m.any(dim=-1, keepdim=True).tolist() == [
        [True], [True]]
    assert gpugrad.all(m, dim=1).tolist() == [False, True] and gpugrad.any(m, 0).tolist() == [
        True, True]
    assert m.all(1, True).shape == (2, 1) and m.all(dim=(0, 1)).item() is False
    assert m.all(dim=()).tolist() == m.tolist()
    x = T([[1.0, 0.0], [2.0, 3.0]])
    assert values(x.all(1)) == (gpugrad.bool_, [False, True])
    assert values(T([[1, 0], [2, 3]], dtype=gpugrad.uint8).all(1)) == (gpugrad.uint8, [0, 1])
    assert T(1.0).all(dim=0).item() is True and gpugrad.ones(2, 0).all(1).tolist() == [True, True]
    assert m.all(axis=0, keepdims=True).tolist() == [[True, False]]     # NumPy's names too
    with pytest.raises(IndexError):
        m.all(dim=2)


def test_isclose_and_equal():
    a = T([1.0, 2.0, float("nan"), float("inf")])
    b = T([1.0 + 1e-7, 2.1, float("nan"), float("inf")])
    assert compare.isclose(a, b).tolist() == [True, False, False, True]
    assert a.isclose(b, equal_nan=True).tolist() == [True, False, True, True]
    assert a.isclose(b, atol=0.2).tolist()[1] is True
    assert T([1, 2]).equal(T([1, 2])) is True and T([1, 2]).equal(T([1, 3])) is False
    assert T([1, 2]).equal(T([[1, 2]])) is False


def test_comparisons_inside_vmap():
    x = gpugrad.tensor([[1.0, 0.0], [1.0, 1.0]])
    out = gpugrad.vmap(lambda r: r.all(dim=0))(x)
    assert out.tolist() == [False, True]
    close = gpugrad.vmap(lambda r: compare.isclose(r, T([1.0, 0.0])))(x)
    assert close.tolist() == [[True, True], [True, False]]
    bits = gpugrad.vmap(lambda r: r & 1)(T([[1, 2], [3, 4]]))
    assert bits.tolist() == [[1, 0], [1, 0]]


# ---------------------------------------------------------------------------------------------
# clamp with tensor bounds, copy_'s cast, where with numbers
# ---------------------------------------------------------------------------------------------

def test_clamp_with_tensor_bounds_values_and_gradients():
    x = T([1.0, 5.0, 3.0, 2.0], requires_grad=True)
    lo = T([2.0, 2.0, 2.0, 2.0], requires_grad=True)
    hi = T([4.0, 4.0, 2.5, 4.0], requires_grad=True)
    out = x.clamp(min=lo, max=hi)
    assert out.tolist() == [2.0, 4.0, 2.5, 2.0]
    out.sum().backward()
    # torch: x inside [lo, hi] (bounds included: x == lo at 3) takes it, else the bound
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert lo.grad.tolist() == [1.0, 0.0, 0.0, 0.0] and hi.grad.tolist() == [0.0, 1.0, 1.0, 0.0]
    assert gpugrad.clamp(T([1.0, 5.0]), max=T(3.0)).tolist() == [1.0, 3.0]
    assert T([1.0, 5.0]).clip(T([2.0]), 4).tolist() == [2.0, 4.0]
    assert T([1.0, 5.0]).clamp(T(5.0), T(2.0)).tolist() == [2.0, 2.0]   # min > max: max
    assert values(T([1, 5]).clamp(T([2.5, 2.5]))) == (gpugrad.float32, [2.5, 5.0])
    y = T([1.0, 5.0])
    assert y.clamp_(min=T([2.0, 2.0])) is y and y.tolist() == [2.0, 5.0]
    w = T([0.3, 1.7, -0.4], dtype=gpugrad.float64, requires_grad=True)
    bounds = (T([0.0, 0.0, 0.0], dtype=gpugrad.float64, requires_grad=True),
              T([1.0, 1.0, 1.0], dtype=gpugrad.float64, requires_grad=True))
    assert gpugrad.gradcheck(lambda v, a, b: v.clamp(a, b), (w, *bounds))
    assert gpugrad.gradgradcheck(lambda v, a, b: v.clamp(a, b) ** 2, (w, *bounds))


def test_clamp_with_tensor_bounds_nan_and_equal_bounds():
    nan = float("nan")
    x = T([0.5, 1.0, 1.0, 2.0, 3.0, nan], requires_grad=True)
    lo = T([nan, 0.0, 2.0, 2.0, 2.0, 0.0], requires_grad=True)
    hi = T([2.0, nan, 2.0, 2.0, 2.0, 1.0], requires_grad=True)
    out = x.clamp(lo, hi)
    np.testing.assert_array_equal(out.numpy(), [nan, nan, 2.0, 2.0, 2.0, nan])  # NaN spreads
    (out * T([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])).sum().backward()
    # PyTorch's rule: x where lo <= x <= hi, lo where x < lo < hi, hi where x > hi or
    # hi < lo; so a NaN anywhere, and x < lo == hi (the third), send the gradient nowhere
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 4.0, 0.0, 0.0]
    assert lo.grad.tolist() == [0.0] * 6
    assert hi.grad.tolist() == [0.0, 0.0, 0.0, 0.0, 5.0, 0.0]
    np.testing.assert_array_equal(T([0.5, 1.0]).clamp(min=T([nan, 0.0])).numpy(), [nan, 1.0])
    np.testing.assert_array_equal(T([0.5, 1.0]).clamp(max=T([2.0, nan])).numpy(), [0.5, nan])


def test_copy_casts_between_dtype_kinds():
    y = gpugrad.zeros(3, dtype=gpugrad.int64)
    assert y.copy_(T([1.7, 2.2, -3.9])) is y and values(y) == (gpugrad.int64, [1, 2, -3])
    m = gpugrad.zeros(2, dtype=gpugrad.bool_)
    m.copy_(T([0.0, 0.5]))
    assert m.tolist() == [False, True]
    with pytest.raises(TypeError):
        y.add_(1.5)                 # the arithmetic in-place ops still refuse, as torch's
    with pytest.raises(TypeError, match="^sqrt_: "), np.errstate(invalid="ignore"):
        y.sqrt_()                   # (the error names the method, not copy_)
    with pytest.raises(TypeError, match="^true_divide_: "):
        y.true_divide_(2)
    with pytest.raises(TypeError, match="^pow_: "), np.errstate(invalid="ignore"):
        y.pow_(0.5)
    with pytest.raises(TypeError, match="^clip_: "):
        y.clip_(0.5, 1.5)


def test_copy_of_a_float_that_requires_grad_into_an_int_tensor_is_a_constant():
    w = T([1.7, -2.7, 3.2], requires_grad=True)
    for dtype in (gpugrad.int64, gpugrad.bool_):
        t = gpugrad.zeros(3, dtype=dtype)
        assert t.copy_(w) is t and not t.requires_grad and t.grad_fn is None
    t = gpugrad.zeros(3, dtype=gpugrad.int64)
    t.copy_(w)
    assert t.tolist() == [1, -2, 3]
    ((t * 2).sum() + w.sum()).backward()
    assert w.grad.tolist() == [1.0, 1.0, 1.0]       # only the float term reaches w
    f = gpugrad.zeros(3)
    f.copy_(w)                      # a float tensor still records it
    assert f.requires_grad and f.grad_fn is not None


def test_where_with_numbers_and_the_method():
    c = T([True, False])
    assert values(gpugrad.where(c, 1, 0)) == (gpugrad.int64, [1, 0])
    assert values(gpugrad.where(c, 1.0, 0)) == (gpugrad.float32, [1.0, 0.0])
    assert values(gpugrad.where(c, True, False)) == (gpugrad.bool_, [True, False])
    assert gpugrad.where(c, 1, 2.5j).dtype == np.complex64
    assert values(gpugrad.where(c, T(1, dtype=gpugrad.int32), 5)) == (gpugrad.int32, [1, 5])
    assert gpugrad.ones(2).where(c, T(0.0)).tolist() == [1.0, 0.0]
    x = T([1.0, -2.0], requires_grad=True)
    x.where(x > 0, 0.0).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0]
    with pytest.raises(TypeError, match="tensors or numbers"):
        gpugrad.where(c, "a", 0)


# ---------------------------------------------------------------------------------------------
# promotion, alpha=, addcmul/addcdiv
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make_a, make_b, dtype", [
    (lambda: T([1, 2], dtype=gpugrad.int32), lambda: T(1), gpugrad.int32),
    (lambda: T([True]), lambda: T(1), gpugrad.int64),
    (lambda: T([1], dtype=gpugrad.uint8), lambda: T(-1, dtype=gpugrad.int8), gpugrad.uint8),
    (lambda: T([1], dtype=gpugrad.uint8), lambda: T([-1], dtype=gpugrad.int8), gpugrad.int16),
    (lambda: T([1]), lambda: T(1.0, dtype=gpugrad.float16), gpugrad.float16),
    (lambda: T([1], dtype=gpugrad.int32), lambda: T(1.5, dtype=gpugrad.float64),
     gpugrad.float64),
    (lambda: T([1.0], dtype=gpugrad.float16), lambda: T([1]), gpugrad.float16),
    (lambda: T([1.0]), lambda: T(1.0, dtype=gpugrad.float64), gpugrad.float32),
    (lambda: T([1.0]), lambda: T(1j, dtype=np.complex128), np.complex64),
    (lambda: T(1, dtype=gpugrad.int32), lambda: T(1), gpugrad.int64),
])
def test_tensor_promotion_follows_torch_result_type(make_a, make_b, dtype):
    a, b = make_a(), make_b()
    assert (a + b).dtype == dtype and (b * a).dtype == dtype
    assert promotion.result_type(a, b) == dtype


def test_promotion_helpers():
    assert promotion.promote_types(gpugrad.int64, gpugrad.float16) == gpugrad.float16
    assert promotion.promote_types("float64", np.complex64) == np.complex128
    assert promotion.result_type(T([1]), 2.5) == gpugrad.float32
    assert promotion.result_type(T([True]), 2) == gpugrad.int64
    assert promotion.result_type(T([1.0]), 1j) == np.complex64
    assert promotion.result_type(1, 2.0) == gpugrad.float32
    assert not promotion.can_cast(gpugrad.float32, gpugrad.int32)
    assert promotion.can_cast(gpugrad.int64, gpugrad.int8)
    assert T([1.0]).is_floating_point() and not T([1]).is_floating_point()
    assert not promotion.is_complex(T([1.0]))


def test_add_and_sub_with_alpha():
    assert gpugrad.add(T([2]), T([3]), alpha=2).tolist() == [8]
    assert T([2.0]).sub(T([1.0]), alpha=0.5).tolist() == [1.5]
    assert gpugrad.add(T([2.0]), 3, alpha=2).tolist() == [8.0]
    assert arithmetic.subtract(T([2.0]), 1).tolist() == [1.0]
    with pytest.raises(TypeError, match="alpha"):
        gpugrad.add(T([2]), T([3]), alpha=2.5)
    x = T([1.0, 2.0], requires_grad=True)
    gpugrad.sub(gpugrad.ones(2), x, alpha=3).sum().backward()
    assert x.grad.tolist() == [-3.0, -3.0]


def test_add_of_bools_with_alpha_stays_bool():
    b = T([True, False])
    for alpha in (2, 0, True, False, -1):       # bool: b | (other & bool(alpha)), as torch
        assert values(gpugrad.add(b, b, alpha=alpha)) == (gpugrad.bool_, [True, False])
    assert values(gpugrad.add(b, True, alpha=2)) == (gpugrad.bool_, [True, True])
    assert values(gpugrad.add(b, True, alpha=0)) == (gpugrad.bool_, [True, False])
    assert values(gpugrad.add(b, T([1, 2]), alpha=2)) == (gpugrad.int64, [3, 4])
    assert values(gpugrad.add(b, 1, alpha=2)) == (gpugrad.int64, [3, 2])


def test_type_with_a_type_name_says_the_device():
    x = gpugrad.ones(2)
    assert values(x.type("torch.DoubleTensor")) == (gpugrad.float64, [1.0, 1.0])
    assert x.type("torch.FloatTensor") is x and x.type("LongTensor").dtype == gpugrad.int64
    if gpugrad.is_cuda_usable():
        moved = x.type("torch.cuda.DoubleTensor")
        assert moved.device.type == "cuda" and moved.dtype == gpugrad.float64
        assert moved.type("torch.FloatTensor").device.type == "cpu"
    else:
        with pytest.raises(gpugrad.CudaUnavailableError):
            x.type("torch.cuda.FloatTensor")


def test_addcmul_and_addcdiv():
    x, a, b = T([1.0, 1.0]), T([2.0, 4.0]), T([4.0, 2.0])
    assert arithmetic.addcmul(x, a, b, value=0.5).tolist() == [5.0, 5.0]
    assert x.addcdiv(a, b, value=2).tolist() == [2.0, 5.0]
    assert values(arithmetic.addcmul(T([1]), T([2]), T([3]), value=2)) == (gpugrad.int64, [13])
    with pytest.raises(TypeError, match="integer division"):
        arithmetic.addcdiv(T([1]), T([2]), T([4]))
    p = gpugrad.zeros(2)
    assert p.addcmul_(a, b, value=-1) is p and p.tolist() == [-8.0, -8.0]
    assert p.addcdiv_(a, b).tolist() == [-7.5, -6.0]
    w = [T(v, dtype=gpugrad.float64, requires_grad=True) for v in
         ([0.5, -1.0], [1.5, 2.0], [0.7, -1.3])]
    assert gpugrad.gradcheck(lambda u, v, z: arithmetic.addcdiv(u, v, z, value=0.3), w)
    assert gpugrad.gradcheck(lambda u, v, z: u.addcmul(v, z, value=-2), w)


# ---------------------------------------------------------------------------------------------
# in-place methods and what a tensor is
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("abs_", 0.25), ("neg_", 0.25), ("exp_", np.exp(-0.25)), ("sqrt_", None),
    ("sigmoid_", 1 / (1 + np.exp(0.25))), ("tanh_", np.tanh(-0.25)), ("relu_", 0.0),
    ("square_", 0.0625), ("sign_", -1.0), ("absolute_", 0.25), ("negative_", 0.25)])
def test_in_place_unary_methods(name, expected):
    x = T([-0.25], dtype=gpugrad.float64)
    with np.errstate(invalid="ignore"):
        assert getattr(x, name)() is x
    if expected is None:
        assert np.isnan(x.item())
    else:
        assert x.item() == pytest.approx(expected)


def test_in_place_methods_record_gradients():
    w = T([0.5, 2.0], requires_grad=True)
    y = w * 1.0
    y.log_().pow_(2).sigmoid_()
    y.sum().backward()
    s = 1 / (1 + np.exp(-np.log([0.5, 2.0]) ** 2))
    expected = s * (1 - s) * 2 * np.log([0.5, 2.0]) / [0.5, 2.0]
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-5)


def test_tensor_info_methods():
    x = gpugrad.zeros(2, 3)
    assert x.stride() == (3, 1) and x.t().stride() == (1, 3) and x.stride(0) == 3
    assert x.element_size() == 4 and x.double().element_size() == 8 and x.nelement() == 6
    assert x.type() == "gpugrad.FloatTensor" and x.long().type() == "gpugrad.LongTensor"
    assert x.type(gpugrad.float64).dtype == gpugrad.float64
    assert x.type("torch.IntTensor").dtype == gpugrad.int32 and x.type(x.dtype) is x
    assert x[1].data_ptr() - x.data_ptr() == 12 and x.data_ptr() == x.view(6).data_ptr()
    assert x.is_floating_point() and not x.is_complex() and x.is_signed()
    assert not T([1], dtype=gpugrad.uint8).is_signed()
    assert x[1].storage_offset() == 3 and x[:, 1:].storage_offset() == 1
    assert x.storage_offset() == 0 and x.nbytes == 24 and x.itemsize == 4 and not x.is_cuda
    assert T([0.5]).is_nonzero() and not T([[0]]).is_nonzero()
    with pytest.raises(RuntimeError, match="one element"):
        T([1, 2]).is_nonzero()
