"""Checks for review mends: permute's axis bounds, VersionCounter's slots, the shared fast
paths of + - * / ** and cross-entropy's one reference backward."""

import numpy as np
import pytest

import gpugrad
from gpugrad.ops import fused
from gpugrad.tensor import VersionCounter


@pytest.mark.parametrize("axes", [(0, 3), (2, 1), (-3, 0), (0, -3)])
def test_permute_rejects_out_of_range_axes(axes):
    with pytest.raises(ValueError, match="is not a permutation"):
        gpugrad.ones(2, 3).permute(*axes)


def test_permute_accepts_negative_axes_in_range():
    assert gpugrad.ones(2, 3, 4).permute(-1, 0, -2).shape == (4, 2, 3)


def test_version_counter_has_slots():
    counter = VersionCounter()
    assert (counter.value, counter.rebased) == (0, 0)
    with pytest.raises(AttributeError):
        counter.rebase = 1


@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_arithmetic_dtypes_unchanged(dtype):
    a = gpugrad.tensor(np.arange(1, 5).astype(dtype))
    b = gpugrad.tensor(np.arange(2, 6).astype(dtype))
    assert (a / b).dtype == np.float32
    np.testing.assert_allclose((a / b).numpy(), np.arange(1, 5) / np.arange(2, 6), rtol=1e-6)
    assert (a + b).dtype == (a - b).dtype == (a * b).dtype == np.dtype(dtype)
    np.testing.assert_array_equal((a - 1).numpy(), np.arange(0, 4).astype(dtype))
    np.testing.assert_array_equal((2 - a).numpy(), (2 - np.arange(1, 5)).astype(dtype))
    assert (a * 2.0).dtype == np.float32
    np.testing.assert_allclose((a ** 2.0).numpy(), np.arange(1, 5) ** 2.0)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("labels_checked", [False, True])
def test_xent_backward_masks_ignored_rows(smoothing, labels_checked):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4)).astype(np.float64)
    labels = np.array([0, -100, 3, 1, -100])
    g = rng.standard_normal(5)
    gx = fused.softmax_xent_backward(np, x, labels, g, -100, smoothing, 0.5, labels_checked)
    p = np.exp(x - x.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    q = np.full_like(p, smoothing / 4)
    q[np.arange(5), np.where(labels >= 0, labels, 0)] += 1 - smoothing
    want = (p - q) * (g * 0.5 * (labels != -100))[:, None]
    np.testing.assert_allclose(gx, want, rtol=1e-12, atol=1e-15)


def test_xent_backward_out_of_range_rows_are_nan():
    x = np.zeros((3, 4))
    gx = fused.softmax_xent_backward(np, x, np.array([0, 7, 2]), np.float64(1.0), -100, 0.0,
                                     1.0)
    assert np.isnan(gx[1]).all() and np.isfinite(gx[[0, 2]]).all()
