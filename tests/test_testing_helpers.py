"""gpugrad.testing: assert_close's tolerances, checks and messages (PyTorch's, written out
here, and compared with torch.testing's where torch is installed) and make_tensor's ranges,
dtypes and layouts."""

import math
import re
import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad.testing import assert_allclose, assert_close, make_tensor


def message_of(actual, expected, **options):
    with pytest.raises(AssertionError) as failure:
        assert_close(actual, expected, **options)
    return str(failure.value)


def test_default_tolerances_by_dtype():
    x = gpugrad.tensor([1.0, 100.0])
    assert_close(x * (1 + 1.2e-6), x)                          # float32: rtol 1.3e-6
    with pytest.raises(AssertionError):
        assert_close(x * (1 + 5e-6), x)
    y = x.double()
    assert_close(y * (1 + 9e-8), y)                            # float64: rtol 1e-7
    with pytest.raises(AssertionError):
        assert_close(y * (1 + 3e-7), y)
    h = gpugrad.tensor([100.0]).half()
    assert_close(h + 0.0625, h)                                # float16: rtol 1e-3 (at 100)
    with pytest.raises(AssertionError):
        assert_close(h + 0.25, h)
    with pytest.raises(AssertionError, match="not equal"):     # integers: exactly
        assert_close(gpugrad.tensor([1, 2]), gpugrad.tensor([1, 3]))
    assert_close(x, x + 0.5, rtol=0.0, atol=0.5)


def test_message_as_torch_for_tensors():
    message = message_of(gpugrad.tensor([1.0, 2.0, 3.0]), gpugrad.tensor([1.0, 2.5, 3.0]))
    assert message == ("Tensor-likes are not close!\n\n"
                       "Mismatched elements: 1 / 3 (33.3%)\n"
                       "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n"
                       "Greatest relative difference: 0.20000000298023224 at index (1,) "
                       "(up to 1.3e-06 allowed)")
    message = message_of(gpugrad.tensor([[1, 2], [3, 4]]), gpugrad.tensor([[1, 2], [3, 7]]))
    assert message == ("Tensor-likes are not equal!\n\n"
                       "Mismatched elements: 1 / 4 (25.0%)\n"
                       "Greatest absolute difference: 3 at index (1, 1)\n"
                       "Greatest relative difference: 0.4285714328289032 at index (1, 1)")
    message = message_of(gpugrad.tensor(1.0, dtype="float64"),
                         gpugrad.tensor(1.5, dtype="float64"))
    assert message.startswith("Scalars are not close!\n\nExpected 1.5 but got 1.0.\n"
                              "Absolute difference: 0.5 (up to 1e-07 allowed)")


def test_nan_inf_and_equal_nan():
    nan = gpugrad.tensor([1.0, math.nan])
    assert "Greatest absolute difference: nan at index (1,)" in message_of(nan, nan)
    assert_close(nan, nan, equal_nan=True)
    inf = gpugrad.tensor([math.inf])
    assert_close(inf, inf)
    with pytest.raises(AssertionError):
        assert_close(inf, -inf)


def test_checks_of_shape_dtype_and_types():
    assert message_of(gpugrad.ones(2), gpugrad.ones(3)) == (
        "The values for attribute 'shape' do not match: (2,) != (3,).")
    assert message_of(gpugrad.ones(2), gpugrad.ones(2).double()) == (
        "The values for attribute 'dtype' do not match: float32 != float64.")
    assert_close(gpugrad.ones(2), gpugrad.ones(2).double(), check_dtype=False)
    assert message_of(1, 1.0) == "The (d)types do not match: <class 'int'> != <class 'float'>."
    assert_close(1, 1.0, check_dtype=False)
    assert message_of(True, False) == "Booleans mismatch: True is not False"
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(gpugrad.ones(1), [1.0])
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(gpugrad.ones(1), np.ones(1))
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol'"):
        assert_close(gpugrad.ones(1), gpugrad.ones(1), rtol=0.1)
    assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]))
    assert_close(gpugrad.ones(3)[::2], gpugrad.ones(2), check_stride=True)     # ignored


def test_nested_containers_name_the_failing_item():
    actual = {"w": [gpugrad.ones(2), 1.0], "b": (2.0,)}
    assert_close(actual, {"w": [gpugrad.ones(2), 1.0], "b": [2.0]})
    message = message_of(actual, {"w": [gpugrad.ones(2), 1.5], "b": (2.0,)})
    assert message.endswith("\n\nThe failure occurred for item ['w'][1]")
    assert message_of([1.0], [1.0, 2.0]) == "The length of the sequences mismatch: 1 != 2"
    assert message_of({"a": 1}, {"b": 1}) == (
        "The keys of the mappings do not match:\nMissing keys in the actual mapping: ['b']\n"
        "Additional keys in the actual mapping: ['a']")


def test_msg_replaces_or_edits_the_message():
    assert message_of(gpugrad.ones(1), gpugrad.zeros(1), msg="custom") == "custom"
    assert message_of(gpugrad.ones(1), gpugrad.zeros(1),
                      msg=lambda m: "ctx: " + m).startswith("ctx: Tensor-likes are not close!")


def test_assert_allclose_warns_and_compares_loosely():
    with pytest.warns(FutureWarning, match="assert_close"):
        assert_allclose(gpugrad.ones(2), [1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(AssertionError):
            assert_allclose(gpugrad.ones(2), [1.0, 2.0])


CASES = [
    ([1.0, 2.0, 3.0], [1.0, 2.5, 3.0], {}),
    ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, math.nan]], {}),
    ([1.0, math.inf], [1.0, -math.inf], {}),
    ([0.0, 1.0], [1e-6, 1.0], {}),
    ([1.0, 2.0], [1.0, 2.5], dict(rtol=0.1, atol=0.0)),
    (1.0, 2.0, {}),
]


@pytest.mark.parametrize("actual,expected,options", CASES)
def test_messages_match_torch_testing(actual, expected, options):
    torch = pytest.importorskip("torch")

    def outcome(fn, a, e):
        try:
            fn(a, e, **options)
            return "ok"
        except AssertionError as failure:
            return str(failure)
    ours = outcome(assert_close, gpugrad.tensor(actual), gpugrad.tensor(expected))
    theirs = outcome(torch.testing.assert_close, torch.tensor(actual), torch.tensor(expected))
    assert ours == theirs


def test_make_tensor_default_ranges_and_dtypes():
    gpugrad.manual_seed(0)
    for dtype, low, high in [("float32", -9, 9), ("float64", -9, 9), ("int64", -9, 9),
                             ("uint8", 0, 9), ("bool", False, True)]:
        x = make_tensor(4, 50, dtype=dtype)
        assert x.shape == (4, 50) and x.dtype == np.dtype(dtype)
        values = x.numpy()
        assert values.min() >= low and values.max() <= high, dtype
        if dtype != "bool":
            assert values.max() - values.min() > (high - low) / 2      # spread, not constant
    z = make_tensor((3,), dtype="complex64")
    assert z.dtype == np.complex64 and np.abs(z.numpy().imag).max() > 0


def test_make_tensor_options():
    x = make_tensor((2, 3), dtype="float32", low=-1, high=1, noncontiguous=True,
                    requires_grad=True)
    assert x.shape == (2, 3) and not x.array.flags.c_contiguous
    assert x.requires_grad and x.is_leaf and np.abs(x.detach().numpy()).max() <= 1
    nz = make_tensor(200, dtype="int64", low=-1, high=2, exclude_zero=True)
    assert set(nz.tolist()) <= {-1, 1}
    tiny = make_tensor(200, dtype="float32", low=0, high=1e-30, exclude_zero=True)
    assert (tiny.numpy() != 0).all()
    assert make_tensor(3, dtype="uint8", low=-5, high=3).numpy().min() >= 0     # clamped
    with pytest.raises(ValueError, match="requires_grad"):
        make_tensor(2, dtype="int64", requires_grad=True)
    with pytest.raises(ValueError, match=re.escape("`low` must be less than `high`")):
        make_tensor(2, dtype="float32", low=2, high=1)
    huge = make_tensor(100, dtype="float32", low=-3e38, high=3e38)
    assert np.isfinite(huge.numpy()).all()
