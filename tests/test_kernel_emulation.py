"""Every CUDA kernel of kernels/*.cu, unchanged, executed on the CPU thread by thread (the
emulator of tests/kernel_emulation.py) through gpugrad/cuda/launch.py's real launchers, and
held to the float64 NumPy references of the GPU tests (tests/cuda_support.py), in every
dtype variant. Runs in CI on every machine with g++; no GPU needed.

Outputs come NaN-poisoned from the emulated device (an element a kernel forgets to write
stays NaN) inside fenced buffers (a write past an array fails the launch); sizes sit on and
off the warp, block and 16-byte vector widths, empty included; inputs are aligned (the
vector path) and one element off (the scalar path). Each case runs on two emulated devices:
grids as launch.py sizes them for a 2-SM GPU, and for a 0-SM one, where every grid-stride
grid is one block, so every grid-stride loop takes many turns. The multi-tensor optimizer
kernels take three steps over one table of several tensors, the last ending in a chunk tail,
against the exact trajectories of tests/optimizer_reference.py. Seeds are fixed per test.
What this proves and what only a GPU run proves: kernels/README.md.
"""

import os
import zlib

import numpy as np
import pytest

from gpugrad.cuda import launch, launch_optim, sources

from cuda_support import ELEMENTWISE, FLOATS, REDUCTION, _assert_close, _normal, _xent_reference
from kernel_build import kernel_folder, missing
from kernel_emulation import EmulatedDevice
from optimizer_reference import assert_within_rounding, trajectory

pytestmark = pytest.mark.skipif(missing() is not None,
                                reason=f"the CPU kernel emulator cannot run: {missing()}")

SANITIZE = bool(os.environ.get("GPUGRAD_EMU_SANITIZE"))     # set by test_kernel_emulator.py
SIZES = [0, 1, 7, 31, 32, 33, 255, 257, 4099]
OFFSETS = [0, 1]                                            # aligned, one element off
MATRICES = [(0, 5), (5, 0), (1, 1), (7, 3), (31, 33), (33, 257), (257, 31), (255, 1)]
GEMMS = [(1, 1, 1), (7, 3, 5), (17, 65, 33), (65, 63, 129), (16, 64, 64), (100, 70, 1),
         (0, 5, 4), (4, 0, 3), (4, 5, 0)]                   # (rows, outs, ins); 64-wide tiles
LOGITS = [(0, 10), (1, 1), (1, 10), (7, 3), (33, 10), (5, 33), (9, 100), (40, 7)]


@pytest.fixture(params=[2, 0], ids=["grids_for_2_sms", "one_block_grids"])
def emu(request):
    device = EmulatedDevice(multiprocessors=request.param, sanitize=SANITIZE)
    with launch.using_device(device):
        yield device


@pytest.fixture
def seed(request):
    """Fixed per test (CI stays deterministic); named in every failure message."""
    return zlib.crc32(request.node.nodeid.encode())


def test_every_kernel_is_built_and_found():
    device = EmulatedDevice(sanitize=SANITIZE)
    libraries = device.libraries(sources.source_files())
    built = {name: file for file, library in libraries.items() for name in library.kernels}
    if kernel_folder() == sources.kernel_dir():
        assert built == sources.declared_kernels()
    assert libraries["linear.cu"].shared_arrays == 10     # 2 x (sums, and As, Bs twice)


def test_launch_py_sizes_the_grids_that_run(emu):
    x = emu.array(np.zeros(4099, np.float32))
    launch.relu_forward(x)
    launch.softmax_xent_forward(emu.array(np.zeros((40, 7))), emu.array(np.zeros(40, np.int64)),
                                -100, 0.0)
    blocks = (5, 5) if emu.sm else (1, 1)           # 1025 float4 vectors; 40 warps of 8
    assert emu.launches == [("relu_fwd<float>", (blocks[0], 1, 1), (256, 1, 1)),
                            ("softmax_xent_fwd<double, long long>", (blocks[1], 1, 1),
                             (256, 1, 1))]


# ------------------------------------------------------------------ element-wise kernels

@pytest.mark.parametrize("offset", OFFSETS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_relu_forward_and_backward(emu, seed, dtype, size, offset):
    rng = np.random.default_rng(seed)
    x, gy = _normal(rng, size, dtype), _normal(rng, size, dtype)
    x[::97] = np.nan
    xd, gyd = emu.array(x, offset), emu.array(gy, offset)
    y = launch.relu_forward(xd)
    gx = launch.relu_backward(gyd, xd)
    x64 = x.astype(np.float64)
    what, rtol = f"{dtype}[{size}] offset {offset}", ELEMENTWISE[dtype]
    _assert_close(y, np.maximum(x64, 0), rtol, seed, f"relu_forward {what}")
    _assert_close(gx, np.where(x64 <= 0, 0.0, gy), rtol, seed, f"relu_backward {what}")


@pytest.mark.parametrize("offset", OFFSETS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_mse_backward(emu, seed, dtype, size, offset):
    rng = np.random.default_rng(seed)
    x, t = _normal(rng, size, dtype), _normal(rng, size, dtype)
    xd, td = emu.array(x, offset), emu.array(t, offset)
    for g, scale in ((_normal(rng, (), dtype), 1.0 / max(size, 1)),
                     (_normal(rng, size, dtype), 1.0)):
        gx = launch.mse_backward(xd, td, emu.array(g, offset), scale)
        ref = 2 * scale * g.astype(np.float64) * (x.astype(np.float64) - t)
        _assert_close(gx, ref, ELEMENTWISE[dtype], seed,
                      f"mse_backward {dtype}[{size}] offset {offset}, g shape {g.shape}")


# ------------------------------------------------------------------ the MLP block's kernels

@pytest.mark.parametrize("shape", MATRICES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_bias_relu_forward_in_place(emu, seed, dtype, shape):
    rng = np.random.default_rng(seed)
    y, b = _normal(rng, shape, dtype), _normal(rng, shape[1], dtype)
    y[::13, ::7] = np.nan
    yd = emu.array(y)
    assert launch.bias_relu_forward_(yd, emu.array(b)) is yd
    _assert_close(yd, np.maximum(y.astype(np.float64) + b, 0), ELEMENTWISE[dtype], seed,
                  f"bias_relu_forward_ {dtype}{shape}")


@pytest.mark.parametrize("shape", MATRICES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_relu_bias_backward(emu, seed, dtype, shape):
    rng = np.random.default_rng(seed)
    gy, y = _normal(rng, shape, dtype), _normal(rng, shape, dtype)
    y.flat[::7] = np.nan                  # a NaN output passes gy, as torch's rule
    gz = np.where(y <= 0, 0.0, gy.astype(np.float64))
    db, db_scale = gz.sum(axis=0), np.abs(gz).sum(axis=0)
    gyd, yd = emu.array(gy), emu.array(y)
    what, rtol = f"relu_bias_backward {dtype}{shape}", REDUCTION[dtype]
    got_gz, got_db = launch.relu_bias_backward(gyd, yd)
    _assert_close(got_gz, gz, ELEMENTWISE[dtype], seed, f"{what} gz")
    _assert_close(got_db, db, rtol, seed, f"{what} db", db_scale)
    out = emu.array(np.full(shape[1], np.nan, dtype))
    none, got_db = launch.relu_bias_backward(gyd, yd, want_gz=False, db=out)
    assert none is None and got_db is out
    _assert_close(out, db, rtol, seed, f"{what} db into out", db_scale)
    before = _normal(rng, shape[1], dtype)
    acc = emu.array(before)
    launch.relu_bias_backward(gyd, yd, want_gz=False, db=acc, accumulate=True)
    _assert_close(acc, before + db, rtol, seed, f"{what} db accumulated",
                  np.abs(before) + db_scale)


@pytest.mark.parametrize("sizes", GEMMS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_masked_gemms(seed, dtype, sizes):
    rows, outs, ins = sizes
    rng = np.random.default_rng(seed)
    emu = EmulatedDevice(sanitize=SANITIZE)                 # tiles, not SMs, size its grid
    gy, y = _normal(rng, (rows, outs), dtype), _normal(rng, (rows, outs), dtype)
    x, w = _normal(rng, (rows, ins), dtype), _normal(rng, (outs, ins), dtype)
    y.flat[::7] = np.nan                  # a NaN output passes gy, as torch's rule
    gz = np.where(y <= 0, 0.0, gy.astype(np.float64))
    cases = [("masked_gemm_weight", launch.masked_gemm_weight, x, gz.T @ x, abs(gz).T @ abs(x)),
             ("masked_gemm_input", launch.masked_gemm_input, w, gz @ w, abs(gz) @ abs(w))]
    rtol = REDUCTION[dtype]
    with launch.using_device(emu):
        gyd, yd = emu.array(gy), emu.array(y)
        for name, fn, other, ref, scale in cases:
            what, od = f"{name} {dtype} rows, outs, ins = {sizes}", emu.array(other)
            _assert_close(fn(gyd, yd, od), ref, rtol, seed, what, scale)
            out = emu.array(np.full(ref.shape, np.nan, dtype))
            assert fn(gyd, yd, od, out=out) is out
            _assert_close(out, ref, rtol, seed, f"{what} into out", scale)
            before = _normal(rng, ref.shape, dtype)
            acc = emu.array(before)
            fn(gyd, yd, od, out=acc, accumulate=True)
            _assert_close(acc, before + ref, rtol, seed, f"{what} accumulated",
                          abs(before) + scale)


# ------------------------------------------------------------------ loss kernels

def _check_xent(emu, seed, x, labels, ignore_index, smoothing, g_per_row, what):
    """Forward and backward of one case against _xent_reference; rows whose label is out of
    range (neither a class nor ignore_index) must come out NaN, never read out of bounds."""
    rows, cols = x.shape
    dtype = x.dtype.name
    bad = (labels != ignore_index) & ((labels < 0) | (labels >= cols))
    safe = np.where(bad, ignore_index, labels)
    loss, loss_scale, probs, q, valid = _xent_reference(x, safe, ignore_index, smoothing)
    loss[bad] = np.nan
    xd, ld = emu.array(x), emu.array(labels)
    rtol = REDUCTION[dtype]
    got = launch.softmax_xent_forward(xd, ld, ignore_index, smoothing)
    _assert_close(got, loss, rtol, seed, f"softmax_xent_forward {what}", loss_scale)
    scale = 1.0 / max(int(valid.sum()), 1)
    rng = np.random.default_rng(seed + 1)
    g = _normal(rng, rows if g_per_row else (), dtype)
    coef = np.where(valid, g.astype(np.float64) * scale, 0.0)[:, None]
    coef[bad] = np.nan
    gx = launch.softmax_xent_backward(xd, ld, emu.array(g), ignore_index, smoothing, scale)
    _assert_close(gx, coef * (probs - q), rtol, seed,
                  f"softmax_xent_backward {what}, g shape {g.shape}", np.nan_to_num(abs(coef)))


@pytest.mark.parametrize("labels_dtype", ["int32", "int64"])
@pytest.mark.parametrize("shape", LOGITS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_xent_forward_and_backward(emu, seed, dtype, shape, labels_dtype):
    rows, cols = shape
    rng = np.random.default_rng(seed)
    for ignore_index, smoothing, shift in ((-100, 0.0, 0.0), (1, 0.1, 1e4)):
        x = (rng.standard_normal(shape) * 3 + rng.uniform(-shift, shift, (rows, 1))).astype(dtype)
        labels = rng.integers(0, cols, rows)
        labels[rng.random(rows) < 0.2] = ignore_index
        if rows >= 3 and not smoothing:
            x[rows // 2, cols // 2] = np.nan
        what = f"{dtype}{shape} {labels_dtype} ignore {ignore_index} smoothing {smoothing}"
        for g_per_row in (False, True):
            _check_xent(emu, seed, x, labels.astype(labels_dtype), ignore_index, smoothing,
                        g_per_row, what)


@pytest.mark.parametrize("labels_dtype", ["int32", "int64"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_xent_labels_at_and_past_the_edges(emu, seed, dtype, labels_dtype):
    rows, cols = 9, 37
    x = _normal(np.random.default_rng(seed), (rows, cols), dtype)
    labels = np.array([0, cols - 1, -100, cols, -1, 2**31 - 1, -(2**31), 5, -100])
    for ignore_index, smoothing in ((-100, 0.0), (-100, 0.2), (-1, 0.0), (cols - 1, 0.1)):
        _check_xent(emu, seed, x, labels.astype(labels_dtype), ignore_index, smoothing, True,
                    f"{dtype} labels {labels.tolist()} ignore {ignore_index} smoothing "
                    f"{smoothing}")


# ------------------------------------------------------------------ multi-tensor optimizers

TENSORS = [1, 7, 257, launch_optim.CHUNK + 3]       # several tensors; the last ends in a tail
OPTIMIZERS = {
    "sgd": ("sgd", dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)),
    "sgd_momentum_decay": ("sgd", dict(momentum=0.9, dampening=0.25, weight_decay=0.01,
                                       nesterov=False)),
    "sgd_nesterov": ("sgd", dict(momentum=0.8, dampening=0.0, weight_decay=0.0, nesterov=True)),
    "adam": ("adam", dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, decoupled=False)),
    "adamw": ("adam", dict(betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, decoupled=True)),
}


def _optimizer_steps(emu, kind, hyper, params, grads, lrs):
    """Run len(lrs) steps of the kernels on one table of every tensor, through
    launch_optim's launchers; the roles' arrays are updated in place."""
    n = len(params)
    new = [emu.array(np.zeros_like(p)) for p in params]
    roles = {"params": params, "grads": grads}
    if kind == "sgd" and hyper["momentum"]:
        roles["bufs"] = new
    if kind == "adam":
        roles.update(exp_avg=new, exp_avg_sq=[emu.array(np.zeros_like(p)) for p in params])
    table = launch_optim.Table(roles)
    steps = emu.array(np.zeros(n, np.int64))
    for s, lr in enumerate(lrs):
        for k, g in enumerate(grads):
            g[...] = _step_gradient(g.dtype, g.size, k, s)
        if kind == "sgd":
            values = [lr, hyper["momentum"], hyper["dampening"], hyper["weight_decay"]]
            launch_optim.sgd_multi(table, emu.array(np.array(values)), hyper["nesterov"],
                                   first=s == 0)
        else:
            launch_optim.adam_count(steps)
            values = [lr, *hyper["betas"], hyper["eps"], hyper["weight_decay"]]
            launch_optim.adam_multi(table, steps, emu.array(np.array(values)),
                                    hyper["decoupled"])
    if kind == "adam":
        assert steps.tolist() == [len(lrs)] * n


def _step_gradient(dtype, size, k, s):
    return _normal(np.random.default_rng([k, s, size]), size, dtype)


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("dtype", FLOATS)
def test_multi_tensor_optimizer_kernels(seed, dtype, optimizer):
    kind, hyper = OPTIMIZERS[optimizer]
    emu = EmulatedDevice(sanitize=SANITIZE)         # the chunks, not SMs, size these grids
    rng = np.random.default_rng(seed)
    p0 = [_normal(rng, size, dtype) for size in TENSORS]
    lrs = [0.1, 0.05, 0.2]
    with launch.using_device(emu):
        params = [emu.array(p) for p in p0]
        grads = [emu.allocate(p.shape, dtype) for p in p0]
        _optimizer_steps(emu, kind, hyper, params, grads, lrs)
    for k, (p, start) in enumerate(zip(params, p0)):
        step_grads = [_step_gradient(dtype, start.size, k, s) for s in range(len(lrs))]
        exact, size = trajectory(kind, hyper, start, step_grads, lrs)
        assert_within_rounding(p, exact, size, dtype, len(lrs),
                               f"{optimizer} {dtype} tensor {k} of {TENSORS} (seed {seed})")
