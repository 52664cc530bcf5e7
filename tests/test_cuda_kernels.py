"""The fused CUDA kernels (kernels/*.cu, launched by gpugrad/cuda/launch.py) held to float64
NumPy references on a real GPU, kernel by kernel. Every test is marked ``cuda`` and skipped
where CUDA is not usable, so this file also collects on a machine without CuPy.

Each run draws fresh random inputs; the seed is in every failure message, and
GPUGRAD_TEST_SEED=<seed> replays it. Outputs are poisoned before the launch (inside
``nan_allocations`` every fresh CuPy allocation is NaN-filled; given ``out`` arrays are NaN),
so an element a kernel forgets to write fails. Sizes are off the block and vector widths, 1,
empty, and one array is larger than 2**31 bytes. The ops layer: tests/test_cuda_ops.py.

Run on a GPU machine: PYTHONPATH=. python3 -m pytest -q tests/test_cuda_kernels.py
"""

import numpy as np
import pytest

from gpugrad.cuda import launch

from cuda_support import (CUDA_TESTS, ELEMENTWISE, FLOATS, GEMMS, LOGITS, MATRICES, REDUCTION,
                          SIZES, _assert_close, _device, _normal, _xent_reference,
                          nan_allocations)

pytestmark = CUDA_TESTS


def test_poisoned_allocations_are_nan(cp):
    with nan_allocations(cp):
        a, b = cp.empty(1000, cp.float32), cp.empty((3, 5), cp.float64)
    assert bool(cp.isnan(a).all()) and bool(cp.isnan(b).all())


# ------------------------------------------------------------------ element-wise kernels

@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_relu_forward_and_backward(cp, seed, dtype, size, offset):
    rng = np.random.default_rng(seed)
    x, gy = _normal(rng, size, dtype), _normal(rng, size, dtype)
    x[::97] = np.nan                                    # NaN passes through, as np.maximum
    xd, gyd = _device(cp, x, offset), _device(cp, gy, offset)
    with nan_allocations(cp):
        y = launch.relu_forward(xd)
        gx = launch.relu_backward(gyd, xd)              # x as the saved output: mask x > 0
    x64 = x.astype(np.float64)
    rtol, what = ELEMENTWISE[dtype], f"{dtype}[{size}] offset {offset}"
    _assert_close(y, np.maximum(x64, 0), rtol, seed, f"relu_forward {what}")
    _assert_close(gx, np.where(x64 <= 0, 0.0, gy), rtol, seed, f"relu_backward {what}")
    assert y.dtype == gx.dtype == dtype


@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_mse_backward(cp, seed, dtype, size, offset):
    rng = np.random.default_rng(seed)
    x, t = _normal(rng, size, dtype), _normal(rng, size, dtype)
    xd, td = _device(cp, x, offset), _device(cp, t, offset)
    one, each = _normal(rng, (), dtype), _normal(rng, size, dtype)
    for g, scale in ((one, 1.0 / max(size, 1)), (each, 1.0)):
        with nan_allocations(cp):
            gx = launch.mse_backward(xd, td, cp.asarray(g), scale)
        ref = 2 * scale * g.astype(np.float64) * (x.astype(np.float64) - t)
        _assert_close(gx, ref, ELEMENTWISE[dtype], seed,
                      f"mse_backward {dtype}[{size}] offset {offset}, g shape {g.shape}")


def test_relu_forward_over_2_gib(cp, seed):
    n = 2**29 + 3                           # 2 GiB + 12 bytes of float32, as much again out
    x = cp.random.RandomState(seed % 2**32).standard_normal(n, dtype=cp.float32)
    y = None
    assert x.nbytes > 2**31
    try:
        with nan_allocations(cp):
            y = launch.relu_forward(x)
        wrong = int(cp.count_nonzero(y != cp.maximum(x, 0)))      # NaN != anything
        assert wrong == 0, f"{wrong} of {n} elements wrong (seed {seed})"
        for part in (slice(0, 4099), slice(n // 2 - 9, n // 2 + 9), slice(n - 4099, n)):
            ref = np.maximum(x[part].get().astype(np.float64), 0)
            _assert_close(y[part], ref, ELEMENTWISE["float32"], seed, f"relu_forward {part}")
    finally:
        x = y = None
        cp.get_default_memory_pool().free_all_blocks()


def test_relu_forward_over_2_31_elements(cp, seed):
    """Indices past 2**31 (a 32-bit index would wrap): 2**31 + 3 float32 elements, 8 GiB in
    and 8 GiB out, the vector loop and the scalar tail both beyond the boundary."""
    n = 2**31 + 3
    x = cp.random.RandomState(seed % 2**32).standard_normal(n, dtype=cp.float32)
    y = None
    try:
        with nan_allocations(cp):
            y = launch.relu_forward(x)
        wrong = int(cp.count_nonzero(y != cp.maximum(x, 0)))      # NaN != anything
        assert wrong == 0, f"{wrong} of {n} elements wrong (seed {seed})"
        for part in (slice(2**31 - 9, 2**31 + 9), slice(n - 4099, n)):
            ref = np.maximum(x[part].get().astype(np.float64), 0)
            _assert_close(y[part], ref, ELEMENTWISE["float32"], seed, f"relu_forward {part}")
    finally:
        x = y = None
        cp.get_default_memory_pool().free_all_blocks()


# ------------------------------------------------------------------ the MLP block's kernels

@pytest.mark.parametrize("shape", MATRICES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_bias_relu_forward_in_place(cp, seed, dtype, shape):
    rng = np.random.default_rng(seed)
    y, b = _normal(rng, shape, dtype), _normal(rng, shape[1], dtype)
    y[::13, ::7] = np.nan
    yd = cp.asarray(y)
    assert launch.bias_relu_forward_(yd, cp.asarray(b)) is yd
    ref = np.maximum(y.astype(np.float64) + b, 0)
    _assert_close(yd, ref, ELEMENTWISE[dtype], seed, f"bias_relu_forward_ {dtype}{shape}")


@pytest.mark.parametrize("shape", MATRICES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_relu_bias_backward(cp, seed, dtype, shape):
    rng = np.random.default_rng(seed)
    gy, y = _normal(rng, shape, dtype), _normal(rng, shape, dtype)
    y.flat[::7] = np.nan                  # a NaN output passes gy, as torch's rule
    gz = np.where(y <= 0, 0.0, gy.astype(np.float64))
    db, db_scale = gz.sum(axis=0), np.abs(gz).sum(axis=0)
    gyd, yd = cp.asarray(gy), cp.asarray(y)
    what = f"relu_bias_backward {dtype}{shape}"
    with nan_allocations(cp):
        got_gz, got_db = launch.relu_bias_backward(gyd, yd)
    _assert_close(got_gz, gz, ELEMENTWISE[dtype], seed, f"{what} gz")
    _assert_close(got_db, db, REDUCTION[dtype], seed, f"{what} db", db_scale)
    out = cp.full(shape[1], np.nan, dtype)
    none, got_db = launch.relu_bias_backward(gyd, yd, want_gz=False, db=out)
    assert none is None and got_db is out
    _assert_close(out, db, REDUCTION[dtype], seed, f"{what} db into out", db_scale)
    before = _normal(rng, shape[1], dtype)
    acc = cp.asarray(before)
    launch.relu_bias_backward(gyd, yd, want_gz=False, db=acc, accumulate=True)
    _assert_close(acc, before + db, REDUCTION[dtype], seed, f"{what} db accumulated",
                  np.abs(before) + db_scale)


@pytest.mark.parametrize("sizes", GEMMS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_masked_gemms(cp, seed, dtype, sizes):
    rows, outs, ins = sizes
    rng = np.random.default_rng(seed)
    gy, y = _normal(rng, (rows, outs), dtype), _normal(rng, (rows, outs), dtype)
    x, w = _normal(rng, (rows, ins), dtype), _normal(rng, (outs, ins), dtype)
    y.flat[::7] = np.nan                  # a NaN output passes gy, as torch's rule
    gz = np.where(y <= 0, 0.0, gy.astype(np.float64))
    gyd, yd = cp.asarray(gy), cp.asarray(y)
    cases = [("masked_gemm_weight", launch.masked_gemm_weight, x, gz.T @ x, abs(gz).T @ abs(x)),
             ("masked_gemm_input", launch.masked_gemm_input, w, gz @ w, abs(gz) @ abs(w))]
    rtol = REDUCTION[dtype]
    for name, fn, other, ref, scale in cases:
        what, od = f"{name} {dtype} rows, outs, ins = {sizes}", cp.asarray(other)
        with nan_allocations(cp):
            got = fn(gyd, yd, od)
        _assert_close(got, ref, rtol, seed, what, scale)
        out = cp.full(ref.shape, np.nan, dtype)
        assert fn(gyd, yd, od, out=out) is out
        _assert_close(out, ref, rtol, seed, f"{what} into out", scale)
        before = _normal(rng, ref.shape, dtype)
        acc = cp.asarray(before)
        fn(gyd, yd, od, out=acc, accumulate=True)
        _assert_close(acc, before + ref, rtol, seed, f"{what} accumulated", abs(before) + scale)


@pytest.mark.parametrize("sizes", [(1, 1, 1), (65, 63, 129), (0, 5, 4), (4, 0, 3), (4, 5, 0)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_gemm_accumulate(cp, seed, dtype, sizes):
    m, k, n = sizes
    rng = np.random.default_rng(seed)
    b, before = _normal(rng, (k, n), dtype), _normal(rng, (m, n), dtype)
    for transpose_a in (False, True):
        a = _normal(rng, (k, m) if transpose_a else (m, k), dtype)
        op_a = a.T.astype(np.float64) if transpose_a else a.astype(np.float64)
        out = cp.asarray(before)
        assert launch.gemm_accumulate(cp.asarray(a), cp.asarray(b), out, transpose_a) is out
        _assert_close(out, before + op_a @ b, REDUCTION[dtype], seed,
                      f"gemm_accumulate {dtype} m, k, n = {sizes} transpose_a {transpose_a}",
                      abs(before) + abs(op_a) @ abs(b))


# ------------------------------------------------------------------ loss kernels

@pytest.mark.parametrize("labels_dtype", ["int32", "int64"])
@pytest.mark.parametrize("shape", LOGITS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_xent_forward_and_backward(cp, seed, dtype, shape, labels_dtype):
    rows, cols = shape
    rng = np.random.default_rng(seed)
    rtol = REDUCTION[dtype]
    for ignore_index, smoothing, shift in ((-100, 0.0, 0.0), (1, 0.1, 1e4)):
        x = (rng.standard_normal(shape) * 3 + rng.uniform(-shift, shift, (rows, 1))).astype(dtype)
        labels = rng.integers(0, cols, rows)
        labels[rng.random(rows) < 0.2] = ignore_index
        labels = labels.astype(labels_dtype)
        if rows >= 3 and not smoothing:
            x[rows // 2, cols // 2] = np.nan                 # a NaN row stays NaN (or 0)
        loss, loss_scale, probs, q, valid = _xent_reference(x, labels, ignore_index, smoothing)
        what = f"{dtype}{shape} {labels_dtype} ignore {ignore_index} smoothing {smoothing}"
        xd, ld = cp.asarray(x), cp.asarray(labels)
        with nan_allocations(cp):
            got = launch.softmax_xent_forward(xd, ld, ignore_index, smoothing)
        _assert_close(got, loss, rtol, seed, f"softmax_xent_forward {what}", loss_scale)
        scale = 1.0 / max(int(valid.sum()), 1)
        for g in (_normal(rng, (), dtype), _normal(rng, rows, dtype)):
            coef = np.where(valid, g.astype(np.float64) * scale, 0.0)[:, None]
            with nan_allocations(cp):
                gx = launch.softmax_xent_backward(xd, ld, cp.asarray(g), ignore_index,
                                                  smoothing, scale)
            _assert_close(gx, coef * (probs - q), rtol, seed,
                          f"softmax_xent_backward {what}, g shape {g.shape}", abs(coef))


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_xent_rows_beyond_one_grid(cp, seed, dtype):
    """More rows than one grid of warps covers (the grid is capped at 32 blocks of 8 warps
    per SM), so every warp takes several rows in its grid-stride loop."""
    from gpugrad.cuda import loader
    rows = loader.multiprocessors(0) * 32 * 8 * 3 + 5
    rng = np.random.default_rng(seed)
    x = _normal(rng, (rows, 10), dtype, 3.0)
    labels = rng.integers(0, 10, rows)
    loss, loss_scale, probs, q, _ = _xent_reference(x, labels, -100, 0.0)
    xd, ld = cp.asarray(x), cp.asarray(labels)
    with nan_allocations(cp):
        got = launch.softmax_xent_forward(xd, ld, -100, 0.0)
        gx = launch.softmax_xent_backward(xd, ld, cp.asarray(np.ones((), dtype)), -100, 0.0,
                                          1.0)
    _assert_close(got, loss, REDUCTION[dtype], seed, f"xent fwd {rows} rows", loss_scale)
    _assert_close(gx, probs - q, REDUCTION[dtype], seed, f"xent bwd {rows} rows", 1.0)


@pytest.mark.parametrize("labels_dtype", ["int32", "int64"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_xent_labels_out_of_range_give_nan(cp, seed, dtype, labels_dtype):
    """A label out of range (neither a class nor ignore_index) gives a NaN loss and a NaN
    gradient row, never a read out of bounds; the other rows are exact."""
    rng = np.random.default_rng(seed)
    x = _normal(rng, (6, 5), dtype)
    labels = np.array([0, 5, -1, -100, 4, 2**30], labels_dtype)
    bad = np.array([False, True, True, False, False, True])
    fixed = np.where(bad, 0, labels)
    loss, loss_scale, probs, q, valid = _xent_reference(x, fixed, -100, 0.0)
    xd, ld = cp.asarray(x), cp.asarray(labels)
    with nan_allocations(cp):
        got = launch.softmax_xent_forward(xd, ld, -100, 0.0).get()
        gx = launch.softmax_xent_backward(xd, ld, cp.asarray(np.ones((), dtype)), -100, 0.0,
                                          1.0).get()
    assert np.isnan(got[bad]).all() and np.isnan(gx[bad]).all()
    _assert_close(got[~bad], loss[~bad], REDUCTION[dtype], seed, "xent fwd, good rows",
                  loss_scale[~bad])
    ref = np.where(valid[:, None], probs - q, 0.0)
    _assert_close(gx[~bad], ref[~bad], REDUCTION[dtype], seed, "xent bwd, good rows", 1.0)
