"""``gpugrad.testing``: ``torch.testing``'s helpers for tests. ``assert_close`` compares
tensors, NumPy arrays, Python numbers and nested sequences/mappings of them with PyTorch's
default tolerances by dtype and PyTorch's error messages; ``make_tensor`` draws a random
tensor of a shape, dtype and range, as PyTorch's.

Example::

    >>> from gpugrad.testing import assert_close, make_tensor
    >>> x = make_tensor(2, 3, dtype=gpugrad.float32, low=-1, high=1)
    >>> assert_close(x * 1.0000001, x)                   # float32: rtol 1.3e-6, atol 1e-5
    >>> assert_close({"w": [x]}, {"w": [x + 1]})
    Traceback (most recent call last):
    ...
    AssertionError: Tensor-likes are not close!
    <BLANKLINE>
    Mismatched elements: 6 / 6 (100.0%)
    ...
    The failure occurred for item ['w'][0]
"""

from __future__ import annotations

import collections.abc
import math
import numbers
import warnings

import numpy as np

from . import dtypes
from .creation import as_tensor
from .random_sampling import rand, randint
from .tensor import Tensor

__all__ = ["assert_close", "make_tensor", "assert_allclose"]

# PyTorch's default (rtol, atol) by dtype name; every other dtype (ints, bool) is compared
# exactly.
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5),
               "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7),
               "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


class _Mismatch(Exception):
    """One failed comparison: the exception type to raise and its message."""

    def __init__(self, kind, message: str):
        super().__init__(message)
        self.kind, self.message, self.path = kind, message, ()


def _default_tolerances(*dtypes_) -> tuple:
    pairs = [_TOLERANCES.get(np.dtype(d).name, (0.0, 0.0)) for d in dtypes_]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _is_array_like(value) -> bool:
    return isinstance(value, (Tensor, np.ndarray))


def _is_number(value) -> bool:
    return isinstance(value, (numbers.Number, np.generic)) and not _is_array_like(value)


def _diff_line(kind: str, diff, index, tolerance, equality: bool) -> str:
    line = (f"{kind.title()} difference: {diff}" if index is None
            else f"Greatest {kind} difference: {diff} at index {index}")
    return line + ("" if equality else f" (up to {tolerance} allowed)") + "\n"


def _mismatch_message(identifier: str, extra: str, abs_diff, abs_index, rel_diff, rel_index,
                      rtol, atol) -> str:
    equality = rtol == 0 and atol == 0
    message = f"{identifier} are not {'equal' if equality else 'close'}!\n\n{extra}\n"
    message += _diff_line("absolute", abs_diff, abs_index, atol, equality)
    message += _diff_line("relative", rel_diff, rel_index, rtol, equality)
    return message.strip()


def _python(value):
    """A NumPy scalar as the Python number PyTorch's ``.item()`` prints."""
    return value.item() if isinstance(value, np.generic) else value


def _compare_numbers(actual, expected, rtol, atol, equal_nan, check_dtype):
    # (a NumPy scalar compares as the Python number it holds, as torch's: np.float64(1.0)
    # and 1.0 have the same type there)
    same_type = type(_python(actual)) is type(_python(expected))
    if isinstance(actual, (bool, np.bool_)) or isinstance(expected, (bool, np.bool_)):
        if check_dtype and not same_type:
            raise _Mismatch(AssertionError, f"The (d)types do not match: {type(actual)} != "
                                            f"{type(expected)}.")
        if bool(actual) is not bool(expected):
            raise _Mismatch(AssertionError, f"Booleans mismatch: {bool(actual)} is not "
                                            f"{bool(expected)}")
        return
    if check_dtype and not same_type:
        raise _Mismatch(AssertionError, f"The (d)types do not match: {type(actual)} != "
                                        f"{type(expected)}.")
    if rtol is None:
        kind = complex if isinstance(actual, complex) or isinstance(expected, complex) else (
            float if isinstance(actual, (float, np.floating))
            or isinstance(expected, (float, np.floating)) else int)
        rtol, atol = (1e-7, 1e-7) if kind is not int else (0.0, 0.0)
    a, e = _python(actual), _python(expected)
    if a == e or (equal_nan and _isnan(a) and _isnan(e)):
        return
    if not (_isinf(a) or _isinf(e)) and abs(a - e) <= atol + rtol * abs(e):
        return
    abs_diff = abs(a - e)
    rel_diff = abs_diff / abs(e) if e != 0 else math.inf
    raise _Mismatch(AssertionError, _mismatch_message(
        "Scalars", f"Expected {e} but got {a}.", abs_diff, None, rel_diff, None, rtol, atol))


def _isnan(v) -> bool:
    return isinstance(v, (float, complex)) and v != v


def _isinf(v) -> bool:
    return isinstance(v, (float, complex)) and not _isnan(v) and math.isinf(abs(v))


def _host(value):
    """(array on the host, device name, dtype) of a tensor or a NumPy array."""
    if isinstance(value, Tensor):
        return value.detach().numpy(), str(value.device), value.dtype
    return value, "cpu", value.dtype


def _compare_arrays(actual, expected, rtol, atol, equal_nan, check_device, check_dtype):
    a, a_device, a_dtype = _host(actual)
    e, e_device, e_dtype = _host(expected)
    if a.shape != e.shape:
        raise _Mismatch(AssertionError, f"The values for attribute 'shape' do not match: "
                                        f"{tuple(a.shape)} != {tuple(e.shape)}.")
    if check_device and a_device != e_device:
        raise _Mismatch(AssertionError, f"The values for attribute 'device' do not match: "
                                        f"{a_device} != {e_device}.")
    if check_dtype and a_dtype != e_dtype:
        raise _Mismatch(AssertionError, f"The values for attribute 'dtype' do not match: "
                                        f"{a_dtype} != {e_dtype}.")
    if rtol is None:
        rtol, atol = _default_tolerances(a_dtype, e_dtype)
    if a_dtype != e_dtype:
        common = np.result_type(a, e)
        a, e = a.astype(common), e.astype(common)
    exact = a.dtype.kind not in "fc"
    if exact:
        matches = (a == e) if a.dtype.kind == "b" else (
            np.isclose(a, e, rtol=rtol, atol=atol) if rtol or atol else a == e)
    else:
        matches = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if matches.all():
        return
    if a.ndim == 0:
        raise _Mismatch(AssertionError, _mismatch_message(
            "Scalars", f"Expected {e.item()} but got {a.item()}.", *_scalar_diffs(a, e),
            rtol, atol))
    raise _Mismatch(AssertionError, _array_message(a, e, matches, rtol, atol))


def _scalar_diffs(a, e) -> tuple:
    if a.dtype.kind in "biu":
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        abs_diff = np.abs(a - e)
        rel_diff = abs_diff / np.abs(e) if a.dtype.kind in "fc" else (
            abs_diff.astype(np.float32) / np.abs(e).astype(np.float32))
    return abs_diff.item(), None, rel_diff.item(), None


def _array_message(a, e, matches, rtol, atol) -> str:
    """PyTorch's: the count of mismatched elements and the greatest absolute and relative
    differences among them (NaN first), with their indices."""
    total, bad = matches.size, int(matches.size - matches.sum())
    extra = f"Mismatched elements: {bad} / {total} ({bad / total:.1%})"
    a_flat, e_flat, ok = a.reshape(-1), e.reshape(-1), matches.reshape(-1)
    if a.dtype.kind in "biu":           # (integers in int64, their ratio in float32)
        a_flat, e_flat = a_flat.astype(np.int64), e_flat.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        abs_diff = np.abs(a_flat - e_flat)
        abs_diff[ok] = 0
        denominator = np.abs(e_flat)
        rel_diff = (abs_diff / denominator if a.dtype.kind in "fc"
                    else abs_diff.astype(np.float32) / denominator.astype(np.float32))
        rel_diff[ok] = 0
    i, j = int(np.argmax(abs_diff)), int(np.argmax(rel_diff))
    return _mismatch_message("Tensor-likes", extra, abs_diff[i].item(), _unravel(i, a.shape),
                             rel_diff[j].item(), _unravel(j, a.shape), rtol, atol)


def _unravel(flat: int, shape) -> tuple:
    return tuple(int(k) for k in np.unravel_index(flat, shape))


def _index_text(path) -> str:
    return "".join(f"[{key!r}]" for key in path)


def _compare(actual, expected, path, options):
    """Compare recursively; raises _Mismatch with the path of the failing item."""
    try:
        _compare_one(actual, expected, path, options)
    except _Mismatch as failure:
        failure.path = failure.path or path
        raise


def _compare_one(actual, expected, path, options):
    if actual is None or expected is None:          # (torch: a None pair is equal)
        if actual is expected:
            return
        raise _Mismatch(AssertionError, f"None mismatch: {actual} is not {expected}")
    if _is_array_like(actual) and _is_array_like(expected) and (
            isinstance(actual, Tensor) == isinstance(expected, Tensor)):
        return _compare_arrays(actual, expected, *options)
    if _is_number(actual) and _is_number(expected):
        rtol, atol, equal_nan, _, check_dtype = options
        return _compare_numbers(actual, expected, rtol, atol, equal_nan, check_dtype)
    sequence = (collections.abc.Sequence, )
    if (isinstance(actual, sequence) and isinstance(expected, sequence)
            and not isinstance(actual, str) and not isinstance(expected, str)):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, f"The length of the sequences mismatch: "
                                            f"{len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, path + (i,), options)
        return
    if (isinstance(actual, collections.abc.Mapping)
            and isinstance(expected, collections.abc.Mapping)):
        if set(actual) != set(expected):
            missing = sorted(set(expected) - set(actual), key=repr)
            extra = sorted(set(actual) - set(expected), key=repr)
            raise _Mismatch(AssertionError,
                            f"The keys of the mappings do not match:\nMissing keys in the "
                            f"actual mapping: {missing}\nAdditional keys in the actual "
                            f"mapping: {extra}")
        for key in expected:
            _compare(actual[key], expected[key], path + (key,), options)
        return
    raise _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type "
                               f"{type(actual)} and {type(expected)}.")


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Assert that ``actual`` and ``expected`` are close, as ``torch.testing.assert_close``:
    |actual - expected| <= atol + rtol * |expected| element-wise, with PyTorch's default
    tolerances by dtype when neither is given (float16 1e-3/1e-5, bfloat16 1.6e-2/1e-5,
    float32 1.3e-6/1e-5, float64 1e-7/1e-7; integers and bools exactly). Inputs: tensors,
    NumPy arrays, Python numbers, and sequences or mappings of them (compared item by item);
    shapes, devices (``check_device``) and dtypes (``check_dtype``; False compares in the
    common dtype) must match. ``equal_nan``: NaN equals NaN. ``msg``: a string that replaces
    the message, or a callable that maps the generated message to one. ``allow_subclasses``,
    ``check_layout`` and ``check_stride`` are accepted and ignored (gpugrad has one layout,
    and strides follow NumPy's). Raises AssertionError on a mismatch (with the count of
    mismatched elements and the greatest differences and their indices), TypeError for
    inputs it cannot compare (a tensor against a list...), ValueError for half a tolerance.

    Example::

        >>> from gpugrad.testing import assert_close
        >>> assert_close(gpugrad.tensor([1.0, 2.0]), gpugrad.tensor([1.0, 2.000001]))
        >>> assert_close(1, 1.0, check_dtype=False)
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but "
                         f"got no {'rtol' if rtol is None else 'atol'}.")
    options = (rtol, atol, equal_nan, check_device, check_dtype)
    try:
        _compare(actual, expected, (), options)
    except _Mismatch as failure:
        message = failure.message
        if failure.path:
            message += f"\n\nThe failure occurred for item {_index_text(failure.path)}"
        if failure.kind is AssertionError:
            if callable(msg):
                message = msg(message)
            elif msg is not None:
                message = msg
        raise failure.kind(message) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated in PyTorch (use ``assert_close``); kept for old tests: warns, then
    compares as ``assert_close`` without dtype or device checks, NaN equal to NaN.

    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     gpugrad.testing.assert_allclose(gpugrad.ones(2), [1.0, 1.0])
    """
    warnings.warn("gpugrad.testing.assert_allclose() is deprecated, as PyTorch's: use "
                  "gpugrad.testing.assert_close() instead", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = as_tensor(actual)
    if not isinstance(expected, Tensor):
        expected = as_tensor(expected, dtype=actual.dtype)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_device=False, check_dtype=False, msg=msg or None)


def _bounds(low, high, dtype, lowest, highest, default_low, default_high, integral):
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"make_tensor: `low` and `high` cannot be NaN, but got low={low} and "
                         f"high={high}")
    if low >= high and not (low == high and not integral):
        raise ValueError(f"make_tensor: `low` must be less than `high`, but got {low} >= "
                         f"{high}")
    if high < lowest or low >= highest:
        raise ValueError(f"make_tensor: the value interval specified by `low` and `high` is "
                         f"[{low}, {high}), but {dtype} only supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    return (math.ceil(low), math.ceil(high)) if integral else (low, high)


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A random tensor of ``shape`` (ints, or one tuple) and ``dtype``, uniform in
    [low, high), as ``torch.testing.make_tensor``. Default ranges by dtype, as PyTorch's:
    bool [0, 2), unsigned [0, 10), signed integers [-9, 10), floats and complex [-9, 9);
    bounds outside the dtype's range are clamped to it. ``noncontiguous``: a strided view
    (every second element of a wider tensor); ``exclude_zero``: zeros become 1 (integers,
    bools) or the dtype's smallest normal number (floats); ``requires_grad`` for float
    dtypes only. ``device``: the default device when None. Draws from gpugrad's generator
    (``gpugrad.manual_seed``).

    Example::

        >>> from gpugrad.testing import make_tensor
        >>> x = make_tensor((2, 3), dtype=gpugrad.int64, low=0, high=3)
        >>> x.shape, x.dtype, bool(((x >= 0) & (x < 3)).all())
        ((2, 3), dtype('int64'), True)
    """
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(int(s) for s in shape)
    dtype = dtypes.as_dtype(dtype)
    if noncontiguous and memory_format is not None:
        raise ValueError("make_tensor: the parameters `noncontiguous` and `memory_format` are "
                         "mutually exclusive")
    integral = dtype.kind in "biu"
    if requires_grad and integral:
        raise ValueError(f"make_tensor: `requires_grad=True` is not supported for boolean and "
                         f"integral dtypes, but got dtype={dtype}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    drawn_shape = shape[:-1] + (2 * shape[-1],) if noncontiguous else shape
    if dtype.kind == "b":
        low, high = _bounds(low, high, dtype, 0, 2, 0, 2, True)
        result = randint(low, high, drawn_shape, device=device).array.astype(np.bool_)
    elif integral:
        info = np.iinfo(dtype)
        low, high = _bounds(low, high, dtype, int(info.min),
                            int(info.max) + (0 if dtype == np.int64 else 1), -9, 10, True)
        result = randint(low, high, drawn_shape, device=device).array.astype(dtype)
    elif dtype.kind in "fc":
        info = np.finfo(dtype)
        low, high = _bounds(low, high, dtype, float(info.min), float(info.max), -9, 9, False)
        parts = 2 if dtype.kind == "c" else 1
        u = rand(*(drawn_shape + (parts,)), dtype=np.float64, device=device).array
        values = low / 2 + (high / 2 - low / 2) * u         # (halves: no overflow of the span)
        values = (values * 2).astype(info.dtype)
        result = (values[..., 0] + 1j * values[..., 1] if parts == 2
                  else values[..., 0]).astype(dtype)
    else:
        raise TypeError(f"make_tensor: the dtype {dtype} is not supported; use a bool, "
                        f"integer, float or complex dtype")
    if noncontiguous:
        result = result[..., 1::2]
    if exclude_zero:
        result[result == 0] = 1 if integral else np.finfo(dtype).tiny
    out = as_tensor(result)
    return out.requires_grad_() if requires_grad and not integral else out
