"""A Python int meeting an integer tensor converts as PyTorch converts it (scalar_casts.py).

- Arithmetic, comparisons, bitwise ops, ``//`` and ``%``, and in-place arithmetic wrap the
  int modulo 2**bits into the tensor's dtype (``uint8 - 4`` is ``x + 252``; ``uint8 > -1``
  compares with 255), keeping the tensor's dtype.
- What writes the number as a value (``full``, ``fill_``, ``x[i] = v``, ``where``,
  ``clamp_min``/``clamp_max``, a ``pow`` exponent) needs it to fit, except that a negative
  int wraps into an unsigned dtype; else a clear ``ScalarOverflowError``.
- An int beyond 64 bits raises a clear error everywhere.

The expected values are derived by hand with Python's unbounded ints (``_wrap``); the torch
comparison at the end skips without torch.
"""

import operator

import numpy as np
import pytest

import gpugrad
from gpugrad.scalar_casts import ScalarOverflowError, checked_scalar, wrapped_int

INT_DTYPES = ["uint8", "int8", "int16", "int32", "int64"]
SCALARS = [-4, -1, 127, 128, 200, 256, -300, 2 ** 40, 2 ** 63, -2 ** 63, 2 ** 64 - 1]
VALUES = [0, 3, 100, 127]           # in the range of every integer dtype


def _wrap(value: int, dtype) -> int:
    """``value`` modulo 2**bits into ``dtype``'s range, by hand."""
    info = np.iinfo(dtype)
    bits = info.bits
    return (value - int(info.min)) % (1 << bits) + int(info.min)


def _tensor(dtype):
    return gpugrad.tensor(VALUES, dtype=dtype)


# ------------------------------------------------------------------ arithmetic wraps

ARITHMETIC = {
    "add": (operator.add, lambda v, c: v + c),
    "sub": (operator.sub, lambda v, c: v - c),
    "mul": (operator.mul, lambda v, c: v * c),
    "radd": (lambda x, c: c + x, lambda v, c: c + v),
    "rsub": (lambda x, c: c - x, lambda v, c: c - v),
    "rmul": (lambda x, c: c * x, lambda v, c: c * v),
    "add_alpha": (lambda x, c: x.add(c, alpha=3), lambda v, c: v + 3 * c),
    "sub_method": (lambda x, c: x.sub(c), lambda v, c: v - c),
}


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name", sorted(ARITHMETIC))
def test_arithmetic_with_an_out_of_range_int_wraps_and_keeps_the_dtype(name, dtype):
    fn, by_hand = ARITHMETIC[name]
    for c in SCALARS:
        if name == "add_alpha" and not -2 ** 63 <= 3 * c < 2 ** 64:
            continue                    # (alpha * c is taken first: beyond 64 bits)
        out = fn(_tensor(dtype), c)
        assert out.dtype == np.dtype(dtype), (name, c)
        assert out.tolist() == [_wrap(by_hand(v, c), dtype) for v in VALUES], (name, c)


def test_the_reviewers_examples():
    u8 = gpugrad.tensor([3], dtype=gpugrad.uint8)
    assert (u8 - 4).tolist() == [255]
    assert (u8 * -1).tolist() == [253]
    assert (u8 + 256).tolist() == [3]
    assert (gpugrad.tensor([3], dtype=gpugrad.int8) + 200).tolist() == [-53]
    assert gpugrad.full((2,), -1, dtype=gpugrad.uint8).tolist() == [255, 255]
    out = gpugrad.tensor([3], dtype=gpugrad.int32) + 2 ** 40
    assert out.dtype == gpugrad.int32 and out.tolist() == [3]


COMPARISONS = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
               "eq": operator.eq, "ne": operator.ne}


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparisons_with_an_out_of_range_int_compare_with_the_wrapped_value(name, dtype):
    op = COMPARISONS[name]
    for c in SCALARS:
        want = [op(v, _wrap(c, dtype)) for v in VALUES]
        assert op(_tensor(dtype), c).tolist() == want, (name, c)
        assert getattr(_tensor(dtype), name)(c).tolist() == want, (name, c)
        assert op(c, _tensor(dtype)).tolist() == [op(_wrap(c, dtype), v) for v in VALUES]


def test_uint8_mask_from_a_negative_bound_is_false_as_torchs():
    u8 = gpugrad.tensor([0, 5, 255], dtype=gpugrad.uint8)
    assert (u8 > -1).tolist() == [False, False, False]      # -1 is 255
    assert (u8 == -1).tolist() == [False, False, True]
    assert (u8 < 256).tolist() == [False, False, False]     # 256 is 0


def test_bool_and_float_tensors_are_not_wrapped():
    b = gpugrad.tensor([True, False])
    assert (b + 300).tolist() == [301, 300] and (b + 300).dtype == gpugrad.int64
    assert (b > -1).tolist() == [True, True]
    x = gpugrad.tensor([1.0, -2.0], dtype=gpugrad.float64)
    assert (x + 2 ** 40).tolist() == [2.0 ** 40 + 1, 2.0 ** 40 - 2]
    assert (x > -1).tolist() == [True, False] and (x * 2 ** 70).dtype == gpugrad.float64
    assert (gpugrad.tensor([3], dtype=gpugrad.uint8) - 4.0).tolist() == [-1.0]   # float32


def test_floor_divide_remainder_and_bitwise_ops_wrap_the_int():
    u8 = gpugrad.tensor([3, 200], dtype=gpugrad.uint8)
    assert (u8 // 300).tolist() == [3 // 44, 200 // 44]
    assert (u8 // -1).tolist() == [0, 0]                      # -1 is 255
    assert gpugrad.remainder(300, u8).tolist() == [44 % 3, 44 % 200]
    assert (u8 % -3).tolist() == [3 % 253, 200 % 253]
    assert (u8 & -1).tolist() == [3, 200]
    assert (u8 | 256).tolist() == [3, 200]
    assert (u8 ^ -1).tolist() == [3 ^ 255, 200 ^ 255]
    assert gpugrad.maximum(u8, -1).tolist() == [255, 255]


def test_pow_checks_the_exponent_and_wraps_the_base():
    u8 = gpugrad.tensor([3, 200], dtype=gpugrad.uint8)
    assert (u8 ** 255).tolist() == [pow(3, 255, 256), pow(200, 255, 256)]
    assert (300 ** u8).tolist() == [pow(44, 3, 256), pow(44, 200, 256)]
    with pytest.raises(ScalarOverflowError, match="pow: the value 300 cannot be converted"):
        u8 ** 300
    with pytest.raises(RuntimeError, match="int8"):
        gpugrad.tensor([3], dtype=gpugrad.int8) ** 200
    with pytest.raises(ValueError, match="negative integer powers"):
        u8 ** -1
    with pytest.raises(ValueError, match="negative integer powers"):
        gpugrad.tensor([2]) ** -1
    assert (gpugrad.tensor([2]) ** 2.0).tolist() == [4.0]


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_in_place_arithmetic_wraps(dtype):
    for c in SCALARS:
        for name, by_hand in (("__iadd__", lambda v: v + c), ("__isub__", lambda v: v - c),
                              ("__imul__", lambda v: v * c)):
            x = _tensor(dtype)
            y = getattr(x, name)(c)
            assert y is x and x.dtype == np.dtype(dtype)
            assert x.tolist() == [_wrap(by_hand(v), dtype) for v in VALUES], (name, c)
        if -2 ** 63 <= -2 * c < 2 ** 64:      # (alpha * c is taken first)
            x = _tensor(dtype)
            x.add_(c, alpha=-2)
            assert x.tolist() == [_wrap(v - 2 * c, dtype) for v in VALUES]


# ------------------------------------------------------------------ values written: checked

def test_full_fill_setitem_take_a_value_that_fits_or_a_negative_unsigned():
    assert gpugrad.full((2,), -255, dtype=gpugrad.uint8).tolist() == [1, 1]
    assert gpugrad.full((1,), -128, dtype=gpugrad.int8).tolist() == [-128]
    assert gpugrad.full((1,), 2 ** 63 - 1).tolist() == [2 ** 63 - 1]
    assert gpugrad.full((2,), 2.7, dtype=gpugrad.uint8).tolist() == [2, 2]
    assert gpugrad.full_like(gpugrad.zeros(2, dtype=gpugrad.uint8), -1).tolist() == [255] * 2
    assert gpugrad.zeros(1, dtype=gpugrad.uint8).new_full((2,), -2).tolist() == [254, 254]
    x = gpugrad.zeros(3, dtype=gpugrad.uint8)
    assert x.fill_(-1).tolist() == [255] * 3
    x[0] = -3
    x[1] = 7.9
    assert x.tolist() == [253, 7, 255]
    assert gpugrad.full((2,), -1, dtype=gpugrad.bool).tolist() == [True, True]


@pytest.mark.parametrize("make", [
    lambda v: gpugrad.full((2,), v, dtype=gpugrad.uint8),
    lambda v: gpugrad.zeros(2, dtype=gpugrad.uint8).fill_(v),
    lambda v: gpugrad.zeros(2, dtype=gpugrad.uint8).__setitem__(0, v),
    lambda v: gpugrad.where(gpugrad.tensor([True, False]),
                            gpugrad.zeros(2, dtype=gpugrad.uint8), v),
    lambda v: gpugrad.zeros(2, dtype=gpugrad.uint8).clamp_max(v),
    lambda v: gpugrad.zeros(2, dtype=gpugrad.uint8).clamp_min(v),
], ids=["full", "fill_", "setitem", "where", "clamp_max", "clamp_min"])
def test_a_value_that_does_not_fit_raises_a_clear_error(make, request):
    floats = (-1.5, 255.5, float("nan")) if request.node.callspec.id in (
        "full", "fill_", "setitem") else ()     # (elsewhere a float gives a float result)
    for v in (256, -256, 300, 2 ** 40) + floats:
        with pytest.raises(ScalarOverflowError, match="cannot be converted to uint8"):
            make(v)
    for v in (2 ** 64, -2 ** 63 - 1):
        with pytest.raises(OverflowError, match="does not fit in 64 bits"):
            make(v)


def test_where_and_clamp_bounds_with_a_negative_int_into_uint8():
    u8 = gpugrad.tensor([3, 200], dtype=gpugrad.uint8)
    assert gpugrad.where(u8 > 5, u8, -1).tolist() == [255, 200]
    assert gpugrad.where(u8 > 5, -255, u8).tolist() == [3, 1]
    assert gpugrad.where(u8 > 5, 1, 2 ** 40).tolist() == [2 ** 40, 1]     # two numbers: int64
    assert u8.clamp_min(-1).tolist() == [255, 255]
    assert u8.clamp_max(-56).tolist() == [3, 200]


def test_an_int_beyond_64_bits_raises_a_clear_error():
    u8 = gpugrad.tensor([3], dtype=gpugrad.uint8)
    for fn in (lambda: u8 + 2 ** 64, lambda: u8 > 2 ** 64, lambda: u8 - (-2 ** 63 - 1),
               lambda: u8.__iadd__(2 ** 64), lambda: u8 & 2 ** 64):
        with pytest.raises(OverflowError, match="does not fit in 64 bits"):
            fn()
    with pytest.raises((RuntimeError, ValueError), match="int64"):
        gpugrad.full((1,), 2 ** 63)         # (fits in 64 bits, not in int64)
    with pytest.raises(RuntimeError, match="int64"):
        gpugrad.full((1,), 2 ** 63, dtype=gpugrad.int64)


def test_the_two_casts_directly():
    u8, i8, i64 = np.dtype("uint8"), np.dtype("int8"), np.dtype("int64")
    assert [wrapped_int(v, u8) for v in (-1, 256, -256, 2 ** 63)] == [255, 0, 0, 0]
    assert [wrapped_int(v, i8) for v in (128, -129, 200)] == [-128, 127, -56]
    assert wrapped_int(2 ** 63, i64) == -2 ** 63
    assert wrapped_int(-1.5, u8) == -1.5 and wrapped_int(300, np.dtype("float32")) == 300
    assert [checked_scalar(v, u8, "t") for v in (-1, -255, 255, 2.9)] == [255, 1, 255, 2]
    assert checked_scalar(True, u8, "t") is True
    assert checked_scalar(-129.0, np.dtype("float16"), "t") == -129.0


# ------------------------------------------------------------------ torch

TORCH_EXPRESSIONS = [
    "u8 - 4", "u8 * -1", "u8 + 256", "i8 + 200", "i32 + 2**40", "u8 + 2**63", "4 - u8",
    "-1 * u8", "u8 > -1", "u8 < -1", "u8 >= -1", "u8 == -56", "u8 != -56", "u8 == 456",
    "u8 > 256", "-1 < u8", "i8 > 200", "i64 > 2**63", "i64 * (2**64 - 1)", "u8 // -1",
    "u8 % -1", "u8 & -1", "u8 | 256", "u8 ^ -1", "u8 ** 255", "300 ** u8",
    "T.where(u8 > 5, u8, -1)", "T.where(u8 > 5, -255, u8)", "u8.clamp_min(-1)",
    "T.full((2,), -1, dtype=T.uint8)", "T.full((2,), -255, dtype=T.uint8)",
    "T.full((2,), 2.7, dtype=T.uint8)", "u8.add(300, alpha=2)", "u8.sub(4)",
    "T.remainder(300, u8)", "T.floor_divide(u8, 300)",
]
TORCH_RAISES = [
    "u8 + 2**64", "u8 > 2**64", "u8 ** 300", "u8 ** -1", "i8 ** 200",
    "T.where(u8 > 5, 300, u8)", "T.full((2,), 300, dtype=T.uint8)", "u8.clamp_max(300)",
    "T.full((2,), -1.5, dtype=T.uint8)", "T.full((2,), 2**63)",
]


def _namespace(T):
    return {"T": T, "u8": T.tensor([3, 200], dtype=T.uint8),
            "i8": T.tensor([3, -100], dtype=T.int8), "i32": T.tensor([3], dtype=T.int32),
            "i64": T.tensor([3], dtype=T.int64)}


def test_matches_torch():
    torch = pytest.importorskip("torch")
    for expression in TORCH_EXPRESSIONS:
        want = eval(expression, _namespace(torch))
        got = eval(expression, _namespace(gpugrad))
        assert got.tolist() == want.tolist(), expression
        assert str(got.dtype) == str(want.dtype).replace("torch.", ""), expression
    for expression in TORCH_RAISES:
        with pytest.raises((RuntimeError, OverflowError)):
            eval(expression, _namespace(torch))
        with pytest.raises((RuntimeError, OverflowError, ValueError)):
            eval(expression, _namespace(gpugrad))
    for statement in ("x -= 4", "x *= -1", "x += 300", "x.add_(-1)", "x.fill_(-1)",
                      "x[0] = -1", "x.mul_(2**40)"):
        results = []
        for T in (torch, gpugrad):
            namespace = {"x": T.tensor([3, 200], dtype=T.uint8), "T": T}
            exec(statement, namespace)
            results.append(namespace["x"].tolist())
        assert results[0] == results[1], statement


def test_masked_fill_division_and_alpha_take_the_wrapped_scalar():
    u = gpugrad.tensor([3, 200], dtype=gpugrad.uint8)
    assert u.masked_fill(gpugrad.tensor([True, False]), -1).tolist() == [255, 200]
    with pytest.raises(ValueError, match="masked_fill"):
        u.masked_fill(gpugrad.tensor([True, False]), 256)
    for divide in (lambda x: x % 256, lambda x: x // 256):        # 256 is 0 in uint8
        with pytest.raises(ZeroDivisionError):
            divide(u)
    assert (u % 3).tolist() == [0, 2]
    assert u.add(300, alpha=2).tolist() == [(3 + 44 * 2) % 256, (200 + 44 * 2) % 256]
    assert u.add(2**63, alpha=3).tolist() == [3, 200]             # 2**63 is 0 in uint8


def test_clamp_bounds_are_written_as_pytorch_writes_them():
    u = gpugrad.tensor([3, 200], dtype=gpugrad.uint8)
    assert u.clamp(min=-1).tolist() == [255, 255]                # -1 is 255 in uint8
    assert u.clamp(max=-1).tolist() == [3, 200]
    assert u.clamp(5, 100).tolist() == [5, 100]
    with pytest.raises(RuntimeError, match="clamp"):
        u.clamp(-1, 300)                                         # 300 does not fit


# ------------------------------------------------------------------ NumPy ints, %, tensor()

@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_numpy_integer_scalars_wrap_as_python_ints(dtype):
    for scalar in [np.int64(-1), np.int64(300), np.int16(-4), np.uint64(2 ** 40)]:
        c = _wrap(int(scalar), dtype)
        for name, op in [("gt", operator.gt), ("lt", operator.lt), ("eq", operator.eq)]:
            got = op(_tensor(dtype), scalar)
            assert got.dtype == np.bool_ and got.tolist() == [op(v, c) for v in VALUES], name
        x = _tensor(dtype)
        x += scalar
        assert x.dtype == np.dtype(dtype)
        assert x.tolist() == [_wrap(v + c, dtype) for v in VALUES]
        x = _tensor(dtype)
        x.mul_(scalar)
        assert x.tolist() == [_wrap(v * c, dtype) for v in VALUES]


@pytest.mark.parametrize("call", [
    lambda x, d: gpugrad.remainder(x, d), lambda x, d: x.remainder(d),
    lambda x, d: gpugrad.fmod(x, d), lambda x, d: x.fmod(d), lambda x, d: x.remainder_(d),
    lambda x, d: x % d], ids=["remainder", "Tensor.remainder", "fmod", "Tensor.fmod",
                              "remainder_", "%"])
def test_remainder_and_fmod_refuse_an_integer_zero_divisor_as_the_operator(call):
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        call(gpugrad.tensor([3, 4]), 0)
    with pytest.raises(RuntimeError, match="integer division by zero"):
        call(gpugrad.tensor([3, 4], dtype=gpugrad.uint8), 256)     # 256 is 0 in uint8
    with pytest.raises(ZeroDivisionError):
        call(gpugrad.tensor([3, 4]), gpugrad.tensor([2, 0]))
    # a float divisor, or a float tensor, is not refused (NaN, as Python's math.fmod)
    with np.errstate(invalid="ignore"):
        assert np.isnan(call(gpugrad.tensor([3.0, 4.0]), 0).numpy()).all()
    assert call(gpugrad.tensor([-7, 7]), 3).tolist() in ([2, 1], [-1, 1])  # % / fmod


def test_tensor_of_python_numbers_converts_as_fill_does():
    # checked_scalar's rule, by hand: a negative int wraps into an unsigned dtype when its
    # magnitude fits; floats truncate toward zero within the range; else an error
    assert gpugrad.tensor(-1, dtype=gpugrad.uint8).tolist() == 255
    assert gpugrad.tensor([-1, 3, -129], dtype=gpugrad.uint8).tolist() == [255, 3, 127]
    assert gpugrad.tensor([[-1], [2]], dtype="uint8").tolist() == [[255], [2]]
    assert gpugrad.tensor(-2.7, dtype=gpugrad.int8).tolist() == -2
    assert gpugrad.tensor(2.7, dtype=gpugrad.uint8).tolist() == 2
    for value, dtype in [(256, "uint8"), ([256], "uint8"), (-0.5, "uint8"), (128, "int8"),
                         ([1, -300], "uint8"), (2 ** 63, "int64")]:
        with pytest.raises(ScalarOverflowError, match="tensor"):
            gpugrad.tensor(value, dtype=dtype)


def test_numpy_ints_remainder_and_tensor_match_torch():
    torch = pytest.importorskip("torch")
    u8, t8 = gpugrad.tensor([3, 0, 200], dtype="uint8"), torch.tensor([3, 0, 200],
                                                                       dtype=torch.uint8)
    assert (u8 > np.int64(-1)).tolist() == (t8 > np.int64(-1)).tolist()
    u8 += np.int64(300)
    t8 += np.int64(300)
    assert u8.tolist() == t8.tolist()
    for fn in ("remainder", "fmod"):
        with pytest.raises(RuntimeError):
            getattr(torch, fn)(torch.tensor([3, 4]), 0)
        with pytest.raises(RuntimeError):
            getattr(gpugrad, fn)(gpugrad.tensor([3, 4]), 0)
    for value, dtype in [(-1, "uint8"), ([-1, 3, -129], "uint8"), (-2.7, "int8"),
                         (2.7, "uint8")]:
        want = torch.tensor(value, dtype=getattr(torch, dtype)).tolist()
        assert gpugrad.tensor(value, dtype=dtype).tolist() == want
    for value, dtype in [(256, "uint8"), (-0.5, "uint8"), ([1, -300], "uint8")]:
        with pytest.raises(RuntimeError):
            torch.tensor(value, dtype=getattr(torch, dtype))
        with pytest.raises(RuntimeError):
            gpugrad.tensor(value, dtype=dtype)


def test_numpy_scalars_are_written_and_bound_as_python_numbers():
    u = gpugrad.tensor([3, 200], dtype=gpugrad.uint8)
    for write in (lambda: u.clone().fill_(np.int64(300)),
                  lambda: gpugrad.full((2,), np.int64(300), dtype=gpugrad.uint8),
                  lambda: u.clone().__setitem__(0, np.int64(300)),
                  lambda: u.masked_fill(gpugrad.tensor([True, False]), np.int64(300))):
        with pytest.raises(RuntimeError, match="300 cannot be converted to uint8"):
            write()
    assert gpugrad.full((2,), np.int64(-1), dtype=gpugrad.uint8).tolist() == [255, 255]
    assert u.clamp(max=np.int64(-1)).tolist() == [3, 200]          # -1 is 255 in uint8
    assert gpugrad.ones(2, dtype=gpugrad.int32).clamp(np.int64(0), np.int64(5)).dtype == \
        np.int32                                                   # (a bound is weak)
    assert gpugrad.ones(2).clamp(np.float64(0.5)).dtype == np.float32
