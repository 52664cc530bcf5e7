"""Integer arguments as PyTorch takes them: a NumPy integer or a 0-d integer tensor as a
``dim`` (or ``k``, or a size), NumPy integers on the left of an operator, and numbers cast
into an integer dtype by ``tensor`` / ``as_tensor`` (wrapped, truncated or refused as
PyTorch's). Torch-free checks use NumPy (float64) and hand-derived values; the torch
comparisons skip without torch."""

from __future__ import annotations

import operator

import numpy as np
import pytest

import gpugrad
from gpugrad.scalar_casts import ScalarOverflowError

A = np.arange(24.0).reshape(2, 3, 4)
IDX = np.array([[[0], [1], [2]], [[3], [0], [1]]])


def _int_kinds(value):
    """``value`` as each kind of integer PyTorch takes for an int argument."""
    return [np.int64(value), np.int32(value), np.uint8(value) if value >= 0 else np.int8(value),
            gpugrad.tensor(value)]


# (name, gpugrad call with the integer d, NumPy float64 reference)
DIM_CASES = [
    ("softmax", lambda x, d: x.softmax(d),
     lambda a: np.exp(a) / np.exp(a).sum(1, keepdims=True)),
    ("log_softmax", lambda x, d: gpugrad.nn.functional.log_softmax(x, dim=d),
     lambda a: a - np.log(np.exp(a).sum(1, keepdims=True))),
    ("nn.Softmax", lambda x, d: gpugrad.nn.Softmax(d)(x),
     lambda a: np.exp(a) / np.exp(a).sum(1, keepdims=True)),
    ("transpose", lambda x, d: x.transpose(d, 2), lambda a: np.swapaxes(a, 1, 2)),
    ("permute", lambda x, d: x.permute(2, d, 0), lambda a: np.transpose(a, (2, 1, 0))),
    ("movedim", lambda x, d: x.movedim(d, 0), lambda a: np.moveaxis(a, 1, 0)),
    ("unsqueeze", lambda x, d: x.unsqueeze(d), lambda a: a[:, None]),
    ("squeeze", lambda x, d: x[:, :1].squeeze(d), lambda a: a[:, 0]),
    ("stack", lambda x, d: gpugrad.stack([x, x + 1], d), lambda a: np.stack([a, a + 1], 1)),
    ("cat", lambda x, d: gpugrad.cat([x, x], dim=d), lambda a: np.concatenate([a, a], 1)),
    ("flatten", lambda x, d: x.flatten(d), lambda a: a.reshape(2, 12)),
    ("nn.Flatten", lambda x, d: gpugrad.nn.Flatten(0, d)(x), lambda a: a.reshape(6, 4)),
    ("narrow", lambda x, d: x.narrow(d, 1, 2), lambda a: a[:, 1:3]),
    ("select", lambda x, d: x.select(d, 2), lambda a: a[:, 2]),
    ("index_select", lambda x, d: x.index_select(d, gpugrad.tensor([2, 0])),
     lambda a: a[:, [2, 0]]),
    ("cumsum", lambda x, d: x.cumsum(d), lambda a: np.cumsum(a, 1)),
    ("sort", lambda x, d: x.sort(d, descending=True).values, lambda a: a[:, ::-1]),
    ("unbind", lambda x, d: x.unbind(d)[2], lambda a: a[:, 2]),
    ("gather", lambda x, d: x.gather(d + 1, gpugrad.tensor(IDX)),
     lambda a: np.take_along_axis(a, IDX, 2)),
]


@pytest.mark.parametrize("name, call, reference", DIM_CASES, ids=[c[0] for c in DIM_CASES])
def test_numpy_and_tensor_integer_dims_act_as_ints(name, call, reference):
    x = gpugrad.tensor(A, dtype=gpugrad.float64)
    for d in _int_kinds(1):
        np.testing.assert_allclose(call(x, d).numpy(), reference(A), rtol=1e-12,
                                   err_msg=f"{name} with dim {d!r}")


def test_negative_numpy_dims_count_from_the_end():
    x = gpugrad.tensor(A, dtype=gpugrad.float64)
    for d in _int_kinds(-1):
        assert x.transpose(0, d).shape == (4, 3, 2)
        assert x.unsqueeze(d).shape == (2, 3, 4, 1)
        np.testing.assert_allclose(x.softmax(d).numpy().sum(-1), np.ones((2, 3)))


def test_integer_k_of_topk_and_kthvalue():
    x = gpugrad.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    for k in _int_kinds(2):
        assert x.topk(k).values.tolist() == [[3.0, 2.0], [5.0, 4.0]]
        assert x.kthvalue(k, dim=np.int64(1)).values.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("dim", [True, 1.0, gpugrad.tensor(1.0), gpugrad.tensor(True),
                                 gpugrad.tensor([1]), "1"])
def test_bool_float_and_non_scalar_dims_are_refused(dim):
    x = gpugrad.zeros(2, 3)
    for call in (lambda: x.softmax(dim), lambda: x.unsqueeze(dim), lambda: x.transpose(dim, 0),
                 lambda: x.flatten(dim), lambda: x.narrow(dim, 0, 1),
                 lambda: gpugrad.stack([x, x], dim)):
        with pytest.raises(TypeError):
            call()


def test_sizes_may_be_numpy_ints_and_0d_tensors():
    assert gpugrad.zeros(gpugrad.tensor(2), np.int64(3)).shape == (2, 3)
    assert gpugrad.ones((np.int32(2), gpugrad.tensor(1, dtype=gpugrad.uint8))).shape == (2, 1)
    assert gpugrad.full((gpugrad.tensor(2),), 7).tolist() == [7, 7]
    for bad in ((gpugrad.tensor(2.0),), (True, 2), (-1,), (gpugrad.tensor(-1),)):
        with pytest.raises((ValueError, TypeError)):
            gpugrad.zeros(bad)


# ---- NumPy integers on the left of an operator ----------------------------------------------

U8 = [0, 255, 44]
I8 = [-128, 5, 127]


def _wrap(value, bits, signed):
    """Hand-derived C cast of an int into a ``bits``-bit integer (PyTorch's operand wrap)."""
    value %= 1 << bits
    return value - (1 << bits) if signed and value >= 1 << (bits - 1) else value


@pytest.mark.parametrize("scalar", [np.int64(-1), np.int64(300), np.int32(5), np.int16(-200),
                                    np.uint8(3), np.int64(255)])
@pytest.mark.parametrize("op", [operator.eq, operator.ne, operator.lt, operator.le,
                                operator.gt, operator.ge, operator.and_, operator.or_,
                                operator.xor, operator.add, operator.mul, operator.sub])
def test_numpy_int_on_the_left_wraps_as_on_the_right(scalar, op):
    for values, dtype, signed in ((U8, gpugrad.uint8, False), (I8, gpugrad.int8, True)):
        t = gpugrad.tensor(values, dtype=dtype)
        c = _wrap(int(scalar), 8, signed)

        def expected(pairs):
            out = [op(a, b) for a, b in pairs]
            return out if isinstance(out[0], bool) else [_wrap(e, 8, signed) for e in out]
        left, right = op(scalar, t), op(t, scalar)
        assert isinstance(left, gpugrad.Tensor), (scalar, op)
        assert left.dtype == right.dtype
        assert left.dtype == (np.dtype(bool) if op(1, 1) is True or op(1, 1) is False
                              else np.dtype(dtype))
        assert left.tolist() == expected([(c, v) for v in values]), (scalar, op, values)
        assert right.tolist() == expected([(v, c) for v in values]), (scalar, op, values)


def test_numpy_int_on_the_left_hand_values():
    u8 = gpugrad.tensor(U8, dtype=gpugrad.uint8)
    assert (np.int64(-1) == u8).tolist() == [False, True, False]      # -1 is 255
    assert (np.int64(300) + u8).tolist() == [44, 43, 88]              # 300 is 44
    assert (np.int32(5) > gpugrad.tensor(I8, dtype=gpugrad.int8)).tolist() == [True, False,
                                                                                False]
    assert (np.int16(-200) | u8).tolist() == [56, 255, 60]            # -200 is 56
    assert (np.float64(2.5) * u8).dtype == np.dtype(np.float32)       # a Python float


# ---- numbers cast into an integer dtype ------------------------------------------------------

@pytest.mark.parametrize("make", [gpugrad.tensor, gpugrad.as_tensor])
def test_integer_dtype_casts_wrap_truncate_or_refuse(make):
    u8, i8 = gpugrad.uint8, gpugrad.int8
    assert make(-1, dtype=u8).tolist() == 255                         # a negative int wraps
    assert make([[1, -1], [2, 255]], dtype=u8).tolist() == [[1, 255], [2, 255]]
    assert make((-1, 255), dtype=u8).tolist() == [255, 255]
    assert make([1.5, -1], dtype=u8).tolist() == [1, 255]             # -1 an int: wraps
    assert make([2.9, 0.9], dtype=u8).tolist() == [2, 0]              # truncated
    assert make([0.9, -0.9], dtype=i8).tolist() == [0, 0]
    assert make([np.int16(-200)], dtype=u8).tolist() == [56]
    assert make(np.int64(-1), dtype=u8).tolist() == 255
    assert make(2.9, dtype=u8).tolist() == 2
    assert make([], dtype=u8).shape == (0,)
    for bad in (256, 300, -1.5, 300.7, [-0.5], [-0.5, 300.7], [255.9],
                [np.float64(300.5)], [np.int64(300)], np.float64(300.5), np.int64(256),
                [float("nan")], float("inf"), [1.0, 2 ** 40]):
        with pytest.raises(ScalarOverflowError):
            make(bad, dtype=u8)
    with pytest.raises(RuntimeError):                                 # as PyTorch's class
        make([-128.9], dtype=i8)
    with pytest.raises(RuntimeError):
        make(np.uint8(200), dtype=i8)


def test_int64_lists_beyond_float_precision_stay_exact():
    big = 2 ** 62 + 1
    assert gpugrad.tensor([1.5, big], dtype=gpugrad.int64).tolist() == [1, big]
    assert gpugrad.tensor([big, -big], dtype=gpugrad.int64).tolist() == [big, -big]


def test_as_tensor_still_shares_memory_with_arrays():
    a = np.zeros(2, dtype=np.uint8)
    t = gpugrad.as_tensor(a, dtype=gpugrad.uint8)
    a[0] = 7
    assert t.tolist() == [7, 0]


# ---- against PyTorch -------------------------------------------------------------------------

def test_integer_dims_match_torch():
    torch = pytest.importorskip("torch")
    x, tx = gpugrad.tensor(A, dtype=gpugrad.float64), torch.tensor(A)
    calls = [lambda m, x, d: x.softmax(d), lambda m, x, d: x.transpose(d, 0),
             lambda m, x, d: x.movedim(d, 2), lambda m, x, d: x.unsqueeze(d),
             lambda m, x, d: m.stack([x, x], d), lambda m, x, d: m.cat([x, x], d),
             lambda m, x, d: x.narrow(d, 1, 1), lambda m, x, d: x.flatten(d),
             lambda m, x, d: x.topk(2, d).values, lambda m, x, d: x.kthvalue(2, d).values,
             lambda m, x, d: x.select(d, 0), lambda m, x, d: x.cumsum(d)]
    for call in calls:
        for d in (np.int64(1), np.int32(-1)):
            np.testing.assert_allclose(call(gpugrad, x, d).numpy(), call(torch, tx, d).numpy())
        np.testing.assert_allclose(call(gpugrad, x, gpugrad.tensor(1)).numpy(),
                                   call(torch, tx, torch.tensor(1)).numpy())


def test_numpy_scalars_on_the_left_match_torch():
    torch = pytest.importorskip("torch")
    ops = [operator.eq, operator.ne, operator.lt, operator.ge, operator.add, operator.sub,
           operator.mul, operator.and_, operator.or_, operator.xor]
    for values, dt in ((U8, "uint8"), (I8, "int8")):
        t, tt = gpugrad.tensor(values, dtype=dt), torch.tensor(values, dtype=getattr(torch, dt))
        for scalar in (np.int64(-1), np.int64(300), np.int32(5), np.int16(-200)):
            for op in ops:
                ours, theirs = op(scalar, t), op(scalar, tt)
                assert ours.tolist() == theirs.tolist(), (scalar, op, dt)
                assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")


def test_integer_dtype_casts_match_torch():
    torch = pytest.importorskip("torch")
    cases = [(-1, "uint8"), ([[1, -1], [2, 255]], "uint8"), ([1.5, -1], "uint8"),
             ([2.9, 0.9], "uint8"), ([0.9, -0.9], "int8"), ([np.int16(-200)], "uint8"),
             (np.int64(-1), "uint8"), (256, "uint8"), ([-0.5], "uint8"), ([255.9], "uint8"),
             ([np.float64(300.5)], "uint8"), (np.float64(300.5), "uint8"),
             ([np.int64(300)], "uint8"), (np.uint8(200), "int8"), ([float("nan")], "int32")]
    for make in ("tensor", "as_tensor"):
        for data, dt in cases:
            try:
                expected = getattr(torch, make)(data, dtype=getattr(torch, dt)).tolist()
            except RuntimeError:
                with pytest.raises(RuntimeError):
                    getattr(gpugrad, make)(data, dtype=getattr(gpugrad, dt))
                continue
            assert getattr(gpugrad, make)(data, dtype=getattr(gpugrad, dt)).tolist() == \
                expected, (make, data, dt)
