"""Shared set-up of the GPU tests of the fused kernels (tests/test_cuda_kernels.py and
tests/test_cuda_ops.py): the cuda marker and skip, fresh seeds, NaN-poisoned allocations,
a spy on kernel launches, tolerances and sizes, and the comparison helper. Its fixtures
(``cp``, ``seed``, ``launches``, ``fused_on_auto_route``) are registered for every test by
``pytest_plugins`` in conftest.py; the helpers are imported."""

import contextlib
import os

import numpy as np
import pytest

import gpugrad
import gpugrad.cuda
from gpugrad.cuda import launch

from conftest import CUDA_RUNS, REQUIRE_CUDA, fail_unless_cuda_is_usable

# the marks of every test module of the fused kernels (``pytestmark = CUDA_TESTS``): skipped
# where CUDA is not usable, unless GPUGRAD_REQUIRE_CUDA=1 (see conftest.py) makes them fail
CUDA_TESTS = [pytest.mark.cuda,
              pytest.mark.skipif(not CUDA_RUNS, reason="needs a usable CUDA GPU"),
              pytest.mark.usefixtures("cuda_usable", "fused_on_auto_route")]

FLOATS = ["float32", "float64"]
ELEMENTWISE = {"float32": 1e-6, "float64": 1e-13}       # relative error allowed
REDUCTION = {"float32": 1e-5, "float64": 1e-11}         # ... relative to the sum of |terms|
SIZES = [0, 1, 7, 255, 257, 4099, 1_000_003, 2**23 + 5]  # off the 256 threads and 4 lanes
MATRICES = [(0, 5), (5, 0), (1, 1), (7, 3), (255, 33), (257, 31), (1_000_003, 3), (3, 70_000)]
GEMMS = [(1, 1, 1), (7, 3, 5), (65, 63, 129), (257, 255, 17), (300, 1, 70), (0, 5, 4),
         (4, 0, 3), (4, 5, 0), (1000, 300, 200)]        # (rows, outs, ins), 64-wide tiles
LOGITS = [(0, 10), (1, 1), (1, 10), (7, 3), (33, 10), (257, 1000), (1000, 33), (3, 5000),
          (20_001, 10)]


@pytest.fixture
def cuda_usable():
    fail_unless_cuda_is_usable()


@pytest.fixture
def cp():
    if REQUIRE_CUDA:
        import cupy                     # a CuPy that fails to load fails the test
        return cupy
    return pytest.importorskip("cupy")


@pytest.fixture
def seed():
    fixed = os.environ.get("GPUGRAD_TEST_SEED")
    return int(fixed) if fixed else int.from_bytes(os.urandom(8), "little")


@pytest.fixture
def fused_on_auto_route():
    fused_before = gpugrad.cuda.set_fused(True)
    route_before = gpugrad.cuda.set_linear_route("auto")
    yield
    gpugrad.cuda.set_fused(fused_before)
    gpugrad.cuda.set_linear_route(route_before)


@pytest.fixture
def launches(monkeypatch):
    """The kernel families launched during the test, in order."""
    seen, real = [], launch._launch

    def spy(family, *args, **kwargs):
        seen.append(family)
        return real(family, *args, **kwargs)

    monkeypatch.setattr(launch, "_launch", spy)
    return seen


@contextlib.contextmanager
def nan_allocations(cp):
    """Every CuPy allocation inside comes filled with 0xFF bytes, a NaN in float32 and
    float64, so an output element that a kernel does not write stays NaN."""
    pool = cp.get_default_memory_pool()

    def malloc(size):
        memory = pool.malloc(size)
        if size:
            memory.memset_async(0xFF, size)
        return memory

    with cp.cuda.using_allocator(malloc):
        yield


def _host(a):
    return a.numpy() if isinstance(a, gpugrad.Tensor) else a if isinstance(a, np.ndarray) \
        else a.get()


def _assert_close(got, ref, rtol, seed, what, scale=0.0):
    """|got - ref| <= rtol * (|ref| + scale) everywhere (scale: the sum of |terms| of a
    reduction, broadcast), NaN only where ref has NaN, one shape."""
    got, ref = _host(got), np.asarray(ref, np.float64)
    where = f"{what} (seed {seed}; rerun with GPUGRAD_TEST_SEED={seed})"
    assert got.shape == ref.shape, f"{where}: shape {got.shape}, expected {ref.shape}"
    if not ref.size:
        return
    got = got.astype(np.float64)
    allowed = rtol * np.nan_to_num(np.abs(ref) + scale, nan=0.0) + 1e-30
    allowed = np.broadcast_to(allowed, ref.shape)
    ok = (np.abs(got - ref) <= allowed) | (np.isnan(got) & np.isnan(ref))
    if not ok.all():
        i = np.unravel_index(int(np.argmin(ok)), ok.shape)
        raise AssertionError(f"{where}: {int((~ok).sum())} of {ok.size} elements off; first "
                             f"at {i}: got {got[i]!r}, expected {ref[i]!r}, allowed error "
                             f"{allowed[i]:.3g}")


def _normal(rng, shape, dtype, scale=1.0):
    return np.asarray(rng.standard_normal(shape) * scale).astype(dtype)


def _device(cp, a, offset=0):
    """``a`` on the GPU; with ``offset``, a contiguous view that many elements into a larger
    buffer, so not 16-byte aligned (the kernels' scalar path)."""
    if not offset:
        return cp.asarray(a)
    flat = cp.empty(a.size + offset, a.dtype)
    view = flat[offset:].reshape(a.shape)
    view[...] = cp.asarray(a)
    return view


def _xent_reference(x, labels, ignore_index, smoothing):
    """Per-row loss and its error scale, softmax, smoothed targets and the row mask, in
    float64 (shifted by the row max, as the kernel computes it)."""
    x = x.astype(np.float64)
    rows, cols = x.shape
    m = x.max(axis=1, keepdims=True)
    e = np.exp(x - m)
    s = e.sum(axis=1, keepdims=True)
    valid = labels != ignore_index
    r, t = np.arange(rows), np.where(valid, labels, 0).astype(np.int64)
    log_s, picked, mean = np.log(s[:, 0]), x[r, t] - m[:, 0], x.mean(axis=1) - m[:, 0]
    loss = (1 - smoothing) * (log_s - picked) + smoothing * (log_s - mean)
    q = np.full((rows, cols), smoothing / cols)
    q[r, t] += 1 - smoothing
    return np.where(valid, loss, 0.0), log_s + abs(picked) + abs(mean), e / s, q, valid
