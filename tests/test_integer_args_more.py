"""Integer arguments as PyTorch takes them, at the sites test_integer_args.py leaves out: a
NumPy integer or a 0-d integer tensor as the ``dim`` of a reduction, flip, roll, fft or
count_nonzero, and as a count (split size, chunks, repeat sizes, diff's ``n``, unfold's size
and step, bincount's minlength, histc's bins, one_hot's num_classes, pad amounts, fft
lengths, tensordot's dims, var's correction); and integer powers (NumPy integer exponents
checked as Python ints; negative exponents of int tensors as PyTorch's rule). Torch-free
checks use float64 NumPy and hand-derived values; the torch comparisons skip without torch."""

from __future__ import annotations

import numpy as np
import pytest

import gpugrad
from gpugrad.scalar_casts import ScalarOverflowError

F = gpugrad.nn.functional
A = np.arange(24.0).reshape(2, 3, 4) ** 1.5 / 7.0        # (distinct values, not all in order)


def _int_kinds(value):
    """``value`` as each kind of integer PyTorch takes for an int argument."""
    return [value, np.int64(value), np.int32(value),
            np.uint8(value) if value >= 0 else np.int8(value), gpugrad.tensor(value)]


def _lse(a, axis):
    m = a.max(axis, keepdims=True)
    return (np.log(np.exp(a - m).sum(axis, keepdims=True)) + m).squeeze(axis)


# (name, gpugrad call with the integer dim d, float64 NumPy reference over axis 1)
DIM_CASES = [
    ("sum", lambda x, d: x.sum(d), lambda a: a.sum(1)),
    ("sum keepdim", lambda x, d: gpugrad.sum(x, dim=d, keepdim=True),
     lambda a: a.sum(1, keepdims=True)),
    ("sum tuple", lambda x, d: x.sum((d, 2)), lambda a: a.sum((1, 2))),
    ("mean", lambda x, d: x.mean(d), lambda a: a.mean(1)),
    ("var", lambda x, d: x.var(d), lambda a: a.var(1, ddof=1)),
    ("std", lambda x, d: x.std(dim=d), lambda a: a.std(1, ddof=1)),
    ("logsumexp", lambda x, d: x.logsumexp(d), lambda a: _lse(a, 1)),
    ("flip", lambda x, d: x.flip(d), lambda a: a[:, ::-1]),
    ("gpugrad.flip", lambda x, d: gpugrad.flip(x, d), lambda a: a[:, ::-1]),
    ("roll dims", lambda x, d: x.roll(1, d), lambda a: np.roll(a, 1, 1)),
    ("rot90 dims", lambda x, d: x.rot90(1, (d, 2)), lambda a: np.rot90(a, 1, (1, 2))),
    ("count_nonzero", lambda x, d: gpugrad.count_nonzero(x > 3, dim=d).astype("float64"),
     lambda a: (a > 3).sum(1).astype(np.float64)),
    ("fft", lambda x, d: gpugrad.fft.fft(x, dim=d), lambda a: np.fft.fft(a, axis=1)),
    ("rfft", lambda x, d: gpugrad.fft.rfft(x, dim=d), lambda a: np.fft.rfft(a, axis=1)),
    ("fftshift", lambda x, d: gpugrad.fft.fftshift(x, dim=d),
     lambda a: np.fft.fftshift(a, axes=1)),
]


@pytest.mark.parametrize("name, call, reference", DIM_CASES, ids=[c[0] for c in DIM_CASES])
def test_integer_dims_of_every_kind_act_as_ints(name, call, reference):
    x = gpugrad.tensor(A, dtype=gpugrad.float64)
    for d in _int_kinds(1):
        np.testing.assert_allclose(call(x, d).numpy(), reference(A), rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name} with dim {d!r}")


def test_negative_0d_tensor_dims_count_from_the_end():
    x = gpugrad.tensor(A, dtype=gpugrad.float64)
    d = gpugrad.tensor(-1)
    np.testing.assert_allclose(x.sum(d).numpy(), A.sum(-1), rtol=1e-12)
    np.testing.assert_allclose(x.flip(d).numpy(), A[..., ::-1])
    np.testing.assert_allclose(gpugrad.fft.ifft(x, dim=d).numpy(), np.fft.ifft(A, axis=-1))


# (name, gpugrad call with the integer count c, float64 NumPy reference)
COUNT_CASES = [
    ("split size", lambda x, c: x.split(c, 2)[1], lambda a: a[:, :, 2:4], 2),
    ("split sizes", lambda x, c: gpugrad.split(x, [c, 2], 2)[1], lambda a: a[:, :, 2:], 2),
    ("chunk", lambda x, c: x.chunk(c, 2)[1], lambda a: a[:, :, 2:], 2),
    ("repeat", lambda x, c: x.repeat(c, 1, 1), lambda a: np.tile(a, (2, 1, 1)), 2),
    ("repeat tuple", lambda x, c: x.repeat((1, c, 1)), lambda a: np.tile(a, (1, 2, 1)), 2),
    ("tile", lambda x, c: x.tile(c), lambda a: np.tile(a, 2), 2),
    ("diff n", lambda x, c: gpugrad.diff(x, n=c, dim=2), lambda a: np.diff(a, 2, axis=2), 2),
    ("unfold size", lambda x, c: x.unfold(2, c, 1),
     lambda a: np.stack([a[:, :, i:i + 2] for i in range(3)], 2), 2),
    ("unfold step", lambda x, c: x.unfold(2, 2, c),
     lambda a: np.stack([a[:, :, 0:2], a[:, :, 2:4]], 2), 2),
    ("roll shifts", lambda x, c: x.roll(c, 2), lambda a: np.roll(a, 2, 2), 2),
    ("rot90 k", lambda x, c: x.rot90(c, (1, 2)), lambda a: np.rot90(a, 2, (1, 2)), 2),
    ("tril diagonal", lambda x, c: x.tril(c), lambda a: np.tril(a, 2), 2),
    ("pad", lambda x, c: F.pad(x, (c, 1)),
     lambda a: np.pad(a, ((0, 0), (0, 0), (2, 1))), 2),
    ("fft n", lambda x, c: gpugrad.fft.fft(x, n=c), lambda a: np.fft.fft(a, 6), 6),
    ("fftn s", lambda x, c: gpugrad.fft.fftn(x, s=(c, 5), dim=(1, 2)),
     lambda a: np.fft.fftn(a, (6, 5), (1, 2)), 6),
    ("irfft n", lambda x, c: gpugrad.fft.irfft(x, n=c), lambda a: np.fft.irfft(a, 6), 6),
    ("fftfreq n", lambda x, c: gpugrad.fft.fftfreq(c, dtype=gpugrad.float64),
     lambda a: np.fft.fftfreq(6), 6),
    ("tensordot dims", lambda x, c: gpugrad.tensordot(x, x[0], dims=c),
     lambda a: np.tensordot(a, a[0], 2), 2),
    ("var correction", lambda x, c: x.var(2, correction=c),
     lambda a: a.var(2, ddof=2), 2),
]


@pytest.mark.parametrize("name, call, reference, value", COUNT_CASES,
                         ids=[c[0] for c in COUNT_CASES])
def test_integer_counts_of_every_kind_act_as_ints(name, call, reference, value):
    x = gpugrad.tensor(A, dtype=gpugrad.float64)
    for c in _int_kinds(value):
        np.testing.assert_allclose(call(x, c).numpy(), reference(A), rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name} with {c!r}")


def test_integer_counts_of_integer_ops():
    v = gpugrad.tensor([0, 1, 1, 3])
    for c in _int_kinds(6):
        assert gpugrad.bincount(v, minlength=c).tolist() == [1, 2, 0, 1, 0, 0]
        assert F.one_hot(v, c).tolist() == [[1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0],
                                            [0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0]]
    for c in _int_kinds(4):                 # bins of width 6 over [0, 24]: 6 values each
        assert gpugrad.histc(gpugrad.arange(24.0), bins=c, min=0, max=24).tolist() == [6.0] * 4
    assert F.one_hot(v, gpugrad.tensor(-1)).shape == (4, 4)      # -1: inferred


BAD_INTS = [True, 2.0, gpugrad.tensor(2.0), gpugrad.tensor(True), "2"]


@pytest.mark.parametrize("bad", BAD_INTS, ids=["True", "2.0", "tensor(2.0)", "tensor(True)",
                                                "'2'"])
def test_bools_floats_and_non_scalars_are_refused(bad):
    x = gpugrad.ones(2, 3, 4)
    calls = [lambda: x.sum(bad), lambda: x.flip(bad), lambda: x.roll(1, bad),
             lambda: x.roll(bad, 1), lambda: x.chunk(bad), lambda: x.repeat(bad, 1, 1),
             lambda: gpugrad.diff(x, n=bad), lambda: x.unfold(2, bad, 1),
             lambda: gpugrad.histc(x, bins=bad), lambda: F.pad(x, (bad, 1)),
             lambda: gpugrad.fft.fft(x, n=bad), lambda: gpugrad.count_nonzero(x, dim=bad),
             lambda: gpugrad.bincount(gpugrad.tensor([1]), minlength=bad),
             lambda: F.one_hot(gpugrad.tensor([1]), bad), lambda: x.tril(bad),
             lambda: x.split(bad, 2), lambda: x.var(2, correction="2"),
             lambda: gpugrad.tensordot(x, x, dims=bad)]
    for i, call in enumerate(calls):
        with pytest.raises(TypeError):
            call()


def test_hsplit_and_unflatten_take_0d_tensors_as_ints():
    x = gpugrad.tensor(A[0], dtype=gpugrad.float64)             # (3, 4)
    pieces = gpugrad.hsplit(x, gpugrad.tensor(2))
    np.testing.assert_allclose(pieces[1].numpy(), A[0][:, 2:])
    with pytest.raises(RuntimeError):           # 4 columns into 3 equal pieces: refused
        gpugrad.hsplit(x, gpugrad.tensor(3))
    assert x.unflatten(1, (gpugrad.tensor(2), np.int64(-1))).shape == (3, 2, 2)
    with pytest.raises(TypeError):
        x.unflatten(1, (True, 4))


def test_out_of_range_and_negative_counts_still_raise():
    x = gpugrad.ones(2, 3, 4)
    with pytest.raises(IndexError):
        x.sum(gpugrad.tensor(3))
    with pytest.raises(IndexError):
        x.flip(np.int64(-4))
    with pytest.raises(ValueError):
        gpugrad.diff(x, n=gpugrad.tensor(-1))
    with pytest.raises(ValueError):
        x.chunk(gpugrad.tensor(0))
    with pytest.raises(ValueError):
        gpugrad.bincount(gpugrad.tensor([1]), minlength=np.int64(-1))


# ---- integer powers -------------------------------------------------------------------------

I8 = [-3, -2, -1, 0, 1, 2, 3]


def _wrap(value, bits, signed):
    """Hand-derived C cast of an int into a ``bits``-bit integer."""
    value %= 1 << bits
    return value - (1 << bits) if signed and value >= 1 << (bits - 1) else value


def _torch_int_pow(base, exponent, bits=8, signed=True):
    """PyTorch's integer power, derived by hand: a negative exponent gives 1 for a base of
    1, (-1) ** exponent for -1 and 0 otherwise; else the power wrapped into the dtype."""
    base = _wrap(base, bits, signed)
    if exponent < 0:
        return 1 if base == 1 else (-1) ** exponent if base == -1 else 0
    return _wrap(base ** exponent, bits, signed)


@pytest.mark.parametrize("base", [-1, 0, 1, 2, 3, 300, np.int64(-1), np.int64(2),
                                  np.int32(300), np.uint8(3)], ids=repr)
def test_int_base_to_int_tensor_powers(base):
    e = gpugrad.tensor(I8, dtype=gpugrad.int8)
    out = base ** e
    assert out.dtype == np.dtype(np.int8)
    assert out.tolist() == [_torch_int_pow(int(base), k) for k in I8], base
    assert gpugrad.pow(base, e).tolist() == out.tolist()


def test_minus_one_to_int_tensor_parses_as_negated_power():
    e = gpugrad.tensor(I8, dtype=gpugrad.int8)
    assert (-1 ** e).tolist() == [-1] * len(I8)         # -(1 ** e)
    assert ((-1) ** e).tolist() == [-1, 1, -1, 1, -1, 1, -1]
    assert (True ** e).tolist() == [1] * len(I8)


def test_int_tensor_to_int_tensor_powers():
    bases = [b for b in I8 for _ in I8]
    exps = [k for _ in I8 for k in I8]
    a = gpugrad.tensor(bases, dtype=gpugrad.int8)
    b = gpugrad.tensor(exps, dtype=gpugrad.int8)
    assert (a ** b).tolist() == [_torch_int_pow(x, k) for x, k in zip(bases, exps)]
    big = gpugrad.tensor([-1, 1, 0, 2, -2, -1, 7])
    k = gpugrad.tensor([-3, -5, -1, -1, -2, -(2 ** 62), 1])
    assert (big ** k).tolist() == [-1, 1, 0, 0, 0, 1, 7]
    assert (gpugrad.tensor([2.0, 4.0]) ** gpugrad.tensor([-1, -2])).tolist() == [0.5, 0.0625]


@pytest.mark.parametrize("exponent", [np.int64(-1), np.int32(-2), np.int64(300),
                                      np.int64(256), np.int16(-200)], ids=repr)
def test_numpy_int_exponents_are_checked_as_python_ints(exponent):
    for dtype in (gpugrad.uint8, gpugrad.int8):
        t = gpugrad.tensor([0, 1, 2], dtype=dtype)
        with pytest.raises((ValueError, ScalarOverflowError)):
            t ** int(exponent)
        with pytest.raises((ValueError, ScalarOverflowError)):
            t ** exponent
        with pytest.raises((ValueError, ScalarOverflowError)):
            gpugrad.pow(t, exponent)


def test_numpy_int_exponents_that_fit_give_int_powers():
    u8 = gpugrad.tensor([0, 255, 44, 3], dtype=gpugrad.uint8)
    for e in (np.int64(3), np.int32(3), np.uint8(3)):
        out = u8 ** e
        assert out.dtype == np.dtype(np.uint8)
        assert out.tolist() == [_wrap(v ** 3, 8, False) for v in (0, 255, 44, 3)]


# ---- against PyTorch -------------------------------------------------------------------------

def test_integer_dims_and_counts_match_torch():
    torch = pytest.importorskip("torch")
    x, tx = gpugrad.tensor(A, dtype=gpugrad.float64), torch.tensor(A)
    calls = [lambda m, x, d: x.sum(d), lambda m, x, d: x.mean(d), lambda m, x, d: x.var(d),
             lambda m, x, d: x.std(d), lambda m, x, d: x.logsumexp(d),
             lambda m, x, d: x.flip(d), lambda m, x, d: x.roll(d, d),
             lambda m, x, d: m.count_nonzero(x > 3, dim=d),
             lambda m, x, d: m.fft.fft(x, n=d + 4, dim=d), lambda m, x, d: m.fft.fftshift(x, d),
             lambda m, x, d: m.fft.rfftn(x, s=(d + 2,), dim=(d,)),
             lambda m, x, d: x.split(d + 1, d)[1], lambda m, x, d: x.chunk(d + 1, d)[1],
             lambda m, x, d: x.repeat(d, d + 1, d), lambda m, x, d: m.diff(x, n=d, dim=d),
             lambda m, x, d: x.unfold(d, d + 1, d), lambda m, x, d: x.rot90(d, (d, 2)),
             lambda m, x, d: x.tril(d), lambda m, x, d: x.var(d, correction=d + 1),
             lambda m, x, d: m.nn.functional.pad(x, (d, d + 1)),
             lambda m, x, d: m.tensordot(x, x[0], dims=d + 1),
             lambda m, x, d: m.histc(x, bins=d + 3, min=0, max=10)]
    for i, call in enumerate(calls):
        expected = call(torch, tx, torch.tensor(1)).numpy()
        for d in (gpugrad.tensor(1), np.int64(1), 1):
            np.testing.assert_allclose(call(gpugrad, x, d).numpy(), expected, rtol=1e-12,
                                       atol=1e-12, err_msg=f"call {i} with {d!r}")
    v, tv = gpugrad.tensor([0, 1, 1, 3]), torch.tensor([0, 1, 1, 3])
    assert gpugrad.bincount(v, minlength=gpugrad.tensor(6)).tolist() == \
        torch.bincount(tv, minlength=torch.tensor(6)).tolist()
    assert F.one_hot(v, gpugrad.tensor(5)).tolist() == \
        torch.nn.functional.one_hot(tv, torch.tensor(5)).tolist()


def test_integer_powers_match_torch():
    torch = pytest.importorskip("torch")
    for dtype in ("int8", "uint8", "int64"):
        values = I8 if dtype != "uint8" else [0, 1, 2, 3, 255]
        e = gpugrad.tensor(values, dtype=dtype)
        te = torch.tensor(values, dtype=getattr(torch, dtype))
        for base in (-1, 0, 1, 2, 300, np.int64(-1), np.int64(300), np.int32(2), True):
            assert (base ** e).tolist() == (base ** te).tolist(), (base, dtype)
            assert str((base ** e).dtype) == str((base ** te).dtype).replace("torch.", "")
        assert (-1 ** e).tolist() == (-1 ** te).tolist()
        assert (e ** e).tolist() == (te ** te).tolist(), dtype
        for exponent in (np.int64(-1), np.int64(300), np.int64(2), -1, 300, 2):
            try:
                expected = (te ** exponent).tolist()
            except RuntimeError:            # (gpugrad: a ValueError for negative exponents)
                with pytest.raises((RuntimeError, ValueError)):
                    e ** exponent
                continue
            assert (e ** exponent).tolist() == expected, (dtype, exponent)
