"""use_deterministic_algorithms(True) refuses the ops that add with atomics on CUDA (as
PyTorch's alertNotDeterministic), and only there. No GPU here: an array module that is not
NumPy (NumPy's functions behind another object) stands in for CuPy in the raw forwards."""

import types

import numpy as np
import pytest

import gpugrad
from gpugrad.ops import counting
from gpugrad.ops.indexing import ScatterAdd
from gpugrad.ops.scatter_reduce import _reduce_at

FAKE_CUPY = types.SimpleNamespace(zeros=np.zeros, add=np.add, bincount=np.bincount,
                                  maximum=np.maximum, multiply=np.multiply)


@pytest.fixture
def deterministic():
    gpugrad.use_deterministic_algorithms(True)
    yield
    gpugrad.use_deterministic_algorithms(False)


def _scatter_add(xp):
    return ScatterAdd.forward(xp, np.ones(3), shape=(2,), index=(np.array([0, 0, 1]),),
                              scatter_free=False)


def test_atomic_adds_refused_on_cuda_when_deterministic(deterministic, monkeypatch):
    with pytest.raises(RuntimeError, match="index_add, scatter_add.*deterministic"):
        _scatter_add(FAKE_CUPY)
    monkeypatch.setattr(counting.backend, "xp_of", lambda array: FAKE_CUPY)
    with pytest.raises(RuntimeError, match="bincount with weights"):
        counting._bincount_raw(np.array([0, 1]), np.array([0.5, 1.0]), 0, np.float64)
    counting._bincount_raw(np.array([0, 1]), None, 0, np.int64)     # counts: exact ints
    with pytest.raises(RuntimeError, match="scatter_reduce"):
        _reduce_at(FAKE_CUPY, "add", np.zeros(2), (np.array([0, 0]),), np.ones(2))


def test_numpy_paths_stay_allowed_and_exact(deterministic):
    np.testing.assert_array_equal(_scatter_add(np), [2.0, 1.0])
    t = gpugrad.zeros(2, requires_grad=True)
    t[gpugrad.tensor([0, 0, 1])].sum().backward()          # ScatterAdd on the CPU
    assert t.grad.tolist() == [2.0, 1.0]
    assert gpugrad.bincount(gpugrad.tensor([0, 0]), gpugrad.tensor([0.5, 1.0])).tolist() == \
        [1.5]


def test_warn_only_warns_and_computes():
    gpugrad.use_deterministic_algorithms(True, warn_only=True)
    try:
        with pytest.warns(UserWarning, match="does not have a deterministic implementation"):
            out = _scatter_add(FAKE_CUPY)
        np.testing.assert_array_equal(out, [2.0, 1.0])
    finally:
        gpugrad.use_deterministic_algorithms(False)


def test_flag_off_allows_atomic_adds():
    assert not gpugrad.are_deterministic_algorithms_enabled()
    np.testing.assert_array_equal(_scatter_add(FAKE_CUPY), [2.0, 1.0])
