"""The fused CUDA kernels (kernels/*.cu, launched by gpugrad/cuda/launch.py) held to float64
NumPy references on a real GPU. Every test is marked ``cuda`` and skipped where CUDA is not
usable, so this file also imports and collects on a machine without CuPy.

Each run draws fresh random inputs; the seed is in every failure message, and
GPUGRAD_TEST_SEED=<seed> replays it. Outputs are poisoned before the launch (inside
``nan_allocations`` every fresh CuPy allocation is NaN-filled; given ``out`` arrays are NaN),
so an element a kernel forgets to write fails. Sizes are off the block and vector widths, 1,
empty, and one array is larger than 2**31 bytes. Also: strided inputs through
gpugrad/ops/fused.py, cross-entropy's options and both linear backward routes against the
CPU, fused against unfused, float64 gradcheck on the GPU for every fused op, and the
launchers' argument checks.

Run on a GPU machine: PYTHONPATH=. python3 -m pytest -q tests/test_cuda_kernels.py
"""

import contextlib
import os

import numpy as np
import pytest

import gpugrad
import gpugrad.cuda
from gpugrad import backend, nn
from gpugrad.autograd import gradcheck, gradgradcheck
from gpugrad.autograd.gradcheck import GradcheckError
from gpugrad.cuda import launch
from gpugrad.nn import functional as F
from gpugrad.ops import fused
from gpugrad.ops.activation import ReluGrad
from gpugrad.ops.record import apply

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not backend.is_cuda_usable(), reason="needs a usable CUDA GPU")]

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
def cp():
    return pytest.importorskip("cupy")


@pytest.fixture
def seed():
    fixed = os.environ.get("GPUGRAD_TEST_SEED")
    return int(fixed) if fixed else int.from_bytes(os.urandom(8), "little")


@pytest.fixture(autouse=True)
def _fused_on_auto_route():
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
    allowed = np.broadcast_to(rtol * (np.abs(ref) + scale) + 1e-30, ref.shape)
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
    _assert_close(gx, np.where(x64 > 0, gy, 0.0), rtol, seed, f"relu_backward {what}")
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
    gz = np.where(y > 0, gy.astype(np.float64), 0.0)
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
    gz = np.where(y > 0, gy.astype(np.float64), 0.0)
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


# ------------------------------------------------------------------ loss kernels

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


# ------------------------------------------------------------------ through the ops layer

def test_fused_functions_take_strided_inputs(cp, seed, launches):
    rng = np.random.default_rng(seed)
    for dtype in FLOATS:
        el, red = ELEMENTWISE[dtype], REDUCTION[dtype]
        x, g, y = (_normal(rng, s, dtype) for s in ((30, 40), (40, 60), (30, 40)))
        xd, gd, yd = cp.asarray(x).T, cp.asarray(g)[:, ::2], cp.asarray(y).T
        x64, g64, y64 = x.T.astype(np.float64), g[:, ::2].astype(np.float64), y.T
        _assert_close(fused.relu_forward(cp, xd), np.maximum(x64, 0), el, seed, "relu fwd")
        _assert_close(fused.relu_backward(cp, gd, yd), np.where(y64 > 0, g64, 0), el, seed,
                      "relu bwd")
        _assert_close(fused.mse_backward(cp, xd, gd, cp.asarray(g)[:, 1::2], 0.5),
                      (x64 - g64) * g[:, 1::2], el, seed, "mse bwd")
        logits, labels = _normal(rng, (21, 22), dtype, 3.0), rng.integers(0, 11, 42)
        rows_g = _normal(rng, 42, dtype)
        ld, td, rg = cp.asarray(logits)[:, ::2], cp.asarray(labels)[::2], cp.asarray(rows_g)[::2]
        loss, loss_scale, probs, q, _ = _xent_reference(logits[:, ::2], labels[::2], -100, 0.1)
        _assert_close(fused.softmax_xent_forward(cp, ld, td, -100, 0.1), loss, red, seed,
                      "xent fwd", loss_scale)
        coef = rows_g[::2, None].astype(np.float64) * 0.25
        _assert_close(fused.softmax_xent_backward(cp, ld, td, rg, -100, 0.1, 0.25),
                      coef * (probs - q), red, seed, "xent bwd", abs(coef))
        xs, w, b = (_normal(rng, s, dtype) for s in ((20, 33), (17, 40), 34))
        xsd, wd, bd = cp.asarray(xs).T, cp.asarray(w)[:, ::2], cp.asarray(b)[::2]
        xs64, w64 = xs.T.astype(np.float64), w[:, ::2].astype(np.float64)
        _assert_close(fused.linear_relu_forward(cp, xsd, wd, bd),
                      np.maximum(xs64 @ w64.T + b[::2], 0), red, seed, "linear_relu fwd",
                      abs(xs64) @ abs(w64.T) + abs(b[::2]))
        gy, ys = _normal(rng, (33, 34), dtype), _normal(rng, (17, 33), dtype)
        gyd, ysd = cp.asarray(gy)[:, ::2], cp.asarray(ys).T
        gz = np.where(ys.T > 0, gy[:, ::2].astype(np.float64), 0.0)
        refs = [(gz @ w64, abs(gz) @ abs(w64)), (gz.T @ xs64, abs(gz).T @ abs(xs64)),
                (gz.sum(axis=0), abs(gz).sum(axis=0))]
        for route in ("cublas", "rawkernel"):
            gpugrad.cuda.set_linear_route(route)
            got = fused.linear_relu_backward(cp, gyd, ysd, xsd, wd, (True, True, True))
            for name, value, (ref, scale) in zip(("gx", "gw", "gb"), got, refs):
                _assert_close(value, ref, red, seed, f"linear_relu {route} {name} {dtype}", scale)
    assert {"relu_fwd", "relu_bwd", "mse_bwd", "softmax_xent_fwd", "softmax_xent_bwd",
            "bias_relu_fwd", "relu_bias_bwd", "masked_gemm_tn", "masked_gemm_nn"} <= set(launches)


def test_zero_dim_tensors_keep_their_shape(seed, launches):
    rng = np.random.default_rng(seed)
    for dtype in FLOATS:
        x = gpugrad.tensor(rng.standard_normal(()) + 2, dtype=dtype, device="cuda",
                           requires_grad=True)
        t = gpugrad.tensor(rng.standard_normal(()), dtype=dtype, device="cuda")
        y = gpugrad.relu(x)
        loss = F.mse_loss(y, t, reduction="none")
        assert y.shape == () and loss.shape == (), (y.shape, loss.shape)
        loss.backward()
        assert x.grad.shape == (), x.grad.shape
    assert {"relu_fwd", "relu_bwd", "mse_bwd"} <= set(launches)


@pytest.mark.parametrize("labels_dtype", ["int32", "int64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_matches_cpu(seed, dtype, reduction, labels_dtype, launches):
    rng = np.random.default_rng(seed)
    cases = [((37, 10), -100, 0.0, 0.2), ((64, 1000), -100, 0.2, 0.2), ((9, 5), 2, 0.1, 0.3),
             ((5, 3), -100, 0.0, 1.0), ((0, 4), -100, 0.1, 0.0)]   # all ignored; no rows
    for shape, ignore_index, smoothing, ignored in cases:
        x = _normal(rng, shape, dtype, 3.0)
        labels = rng.integers(0, shape[1], shape[0])
        labels[rng.random(shape[0]) < ignored] = ignore_index
        g = _normal(rng, shape[0] if reduction == "none" else (), dtype)
        results = {}
        for device in ("cpu", "cuda"):
            xt = gpugrad.tensor(x, device=device, requires_grad=True)
            lt = gpugrad.tensor(labels.astype(labels_dtype), device=device)
            loss = F.cross_entropy(xt, lt, reduction=reduction, label_smoothing=smoothing,
                                   ignore_index=ignore_index)
            loss.backward(gpugrad.tensor(g, device=device))
            grad = xt.grad.numpy() if xt.grad is not None else np.zeros_like(x)
            results[device] = (loss.numpy(), grad)
        for name, got, ref in zip(("loss", "grad"), results["cuda"], results["cpu"]):
            scale = np.abs(ref[~np.isnan(ref)]).max() if np.isfinite(ref).any() else 0.0
            _assert_close(got, ref, REDUCTION[dtype], seed, f"cross_entropy {name} {dtype}"
                          f"{shape} {reduction} {labels_dtype} ignore {ignore_index} "
                          f"smoothing {smoothing}", scale)
    assert {"softmax_xent_fwd", "softmax_xent_bwd"} <= set(launches)


def _tame_mlp(rng, sizes, dtype):
    """(W, b) per layer, with every hidden pre-activation in [2, 4] or [-4, -2] for inputs
    in [-1, 1]: no relu kink within rounding, so every device agrees on every mask."""
    params, bound = [], 1.0                     # bound: the largest |input| of the layer
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = rng.uniform(-1, 1, (n_out, n_in)) / (n_in * bound)      # |x @ w.T| <= 1
        hidden = i < len(sizes) - 2
        b = np.where(np.arange(n_out) % 2, -3.0, 3.0) if hidden else rng.uniform(-1, 1, n_out)
        params.append((w.astype(dtype), b.astype(dtype)))
        bound = 4.0
    return params


def _mlp_results(sizes, params, x, labels, device):
    """Loss and gradients (input, then each layer's W and b) of cross_entropy(MLP(x))."""
    model = nn.MLP(sizes, device=device, dtype=x.dtype)
    linears = [m for m in model.layers if isinstance(m, nn.Linear)]
    for layer, (w, b) in zip(linears, params):
        layer.weight.data = gpugrad.tensor(w, device=device)
        layer.bias.data = gpugrad.tensor(b, device=device)
    xt = gpugrad.tensor(x, device=device, requires_grad=True)
    loss = F.cross_entropy(model(xt), gpugrad.tensor(labels, device=device))
    loss.backward()
    return [loss.numpy(), xt.grad.numpy()] + [p.grad.numpy() for layer in linears
                                              for p in (layer.weight, layer.bias)]


def _compare_all(got, ref, rtol, seed, what):
    for i, (a, b) in enumerate(zip(got, ref)):
        _assert_close(a, b, rtol, seed, f"{what}, result {i}", np.abs(b).max(initial=0.0))


@pytest.mark.parametrize("route", ["cublas", "rawkernel"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_mlp_backward_on_each_linear_route_matches_cpu(seed, dtype, route, launches):
    rng = np.random.default_rng(seed)
    sizes, batch = [37, 65, 129, 10], 67
    params = _tame_mlp(rng, sizes, dtype)
    x = rng.uniform(-1, 1, (batch, sizes[0])).astype(dtype)
    labels = rng.integers(0, sizes[-1], batch)
    cpu = _mlp_results(sizes, params, x, labels, "cpu")
    gpugrad.cuda.set_linear_route(route)
    cuda = _mlp_results(sizes, params, x, labels, "cuda")
    _compare_all(cuda, cpu, REDUCTION[dtype], seed, f"MLP {dtype} {route} route")
    assert ("masked_gemm_tn" in launches) == (route == "rawkernel"), sorted(set(launches))
    assert "relu_bias_bwd" in launches


def _loss_suite(rng_seed, dtype):
    """Values and gradients of relu, mse_loss (each reduction) and a smoothed cross-entropy
    on cuda, from inputs drawn from ``rng_seed``."""
    rng = np.random.default_rng(rng_seed)
    out = []
    a, b = _normal(rng, (33, 17), dtype), _normal(rng, (33, 17), dtype)
    for reduction in ("mean", "sum", "none"):
        at = gpugrad.tensor(a, device="cuda", requires_grad=True)
        bt = gpugrad.tensor(b, device="cuda", requires_grad=True)
        loss = F.mse_loss(gpugrad.relu(at), bt, reduction=reduction)
        loss.backward(gpugrad.tensor(_normal(rng, loss.shape, dtype), device="cuda"))
        out += [loss.numpy(), at.grad.numpy(), bt.grad.numpy()]
    xt = gpugrad.tensor(_normal(rng, (40, 12), dtype, 3.0), device="cuda", requires_grad=True)
    labels = rng.integers(-1, 12, 40)
    F.cross_entropy(xt, gpugrad.tensor(labels, device="cuda"), label_smoothing=0.1,
                    ignore_index=-1).backward()
    return out + [xt.grad.numpy()]


@pytest.mark.parametrize("dtype", FLOATS)
def test_fused_and_unfused_paths_agree(seed, dtype, launches):
    rng = np.random.default_rng(seed)
    sizes, batch = [29, 70, 65, 7], 45
    params = _tame_mlp(rng, sizes, dtype)
    x = rng.uniform(-1, 1, (batch, sizes[0])).astype(dtype)
    labels = rng.integers(0, sizes[-1], batch)
    results = {}
    for enabled in (True, False):
        gpugrad.cuda.set_fused(enabled)
        before = len(launches)
        results[enabled] = (_mlp_results(sizes, params, x, labels, "cuda")
                            + _loss_suite(seed, dtype))
        assert (len(launches) > before) == enabled, launches[before:]
    _compare_all(results[True], results[False], REDUCTION[dtype], seed, f"fused/unfused {dtype}")


# ------------------------------------------------------------------ gradcheck on the GPU

def _cuda64(rng, shape, low=-2.0, high=2.0, away=0.0):
    """A float64 cuda leaf requiring grad; with ``away``, every |value| >= away."""
    values = rng.uniform(low, high, shape)
    values = np.sign(values) * (away + np.abs(values)) if away else values
    return gpugrad.tensor(values, dtype="float64", device="cuda", requires_grad=True)


def _gradcheck_case(case, rng):
    """(function, inputs, the kernel family its first-order backward must launch)."""
    if case == "relu":
        return gpugrad.relu, (_cuda64(rng, (3, 4), away=0.1),), "relu_bwd"
    if case == "relu_grad":
        return (lambda g, y: apply(ReluGrad, g, y),
                (_cuda64(rng, (3, 4)), _cuda64(rng, (3, 4), away=0.1)), "relu_bwd")
    if case.startswith("linear_relu_"):
        route = case[len("linear_relu_"):]
        gpugrad.cuda.set_linear_route(route)
        offsets = gpugrad.tensor([6.0, -6.0, 6.0], dtype="float64", device="cuda")
        inputs = (_cuda64(rng, (5, 4), -1, 1), _cuda64(rng, (3, 4), -0.5, 0.5),
                  _cuda64(rng, (3,), -1, 1))                # pre-activations 6 +- 3, -6 +- 3
        return (lambda x, w, b: F.linear_relu(x, w, b + offsets), inputs,
                "masked_gemm_tn" if route == "rawkernel" else "relu_bias_bwd")
    kind, reduction = case.rsplit("_", 1)
    if kind == "cross_entropy":
        labels = rng.integers(0, 5, 4)
        labels[1] = -100
        lt = gpugrad.tensor(labels, device="cuda")
        return (lambda x: F.cross_entropy(x, lt, reduction=reduction, label_smoothing=0.1),
                (_cuda64(rng, (4, 5), -3, 3),), "softmax_xent_bwd")
    return (lambda a, b: F.mse_loss(a, b, reduction=reduction),
            (_cuda64(rng, (3, 4)), _cuda64(rng, (3, 4))), "mse_bwd")


@pytest.mark.parametrize("case", ["relu", "relu_grad", "linear_relu_cublas",
                                  "linear_relu_rawkernel", "cross_entropy_mean",
                                  "cross_entropy_sum", "cross_entropy_none", "mse_mean",
                                  "mse_sum", "mse_none"])
def test_gradcheck_float64_on_gpu(seed, case, launches):
    fn, inputs, family = _gradcheck_case(case, np.random.default_rng(seed))
    try:
        gradcheck(fn, inputs)
        gradgradcheck(fn, inputs)
    except GradcheckError as error:
        raise AssertionError(f"{case} (seed {seed}; rerun with GPUGRAD_TEST_SEED={seed}): "
                             f"{error}") from error
    assert family in launches, sorted(set(launches))


# ------------------------------------------------------------------ argument checks

def _bad_calls(cp):
    f32, f64, i64 = cp.float32, cp.float64, cp.int64
    m, g1, v4 = cp.ones((3, 4), f32), cp.ones((), f32), cp.ones(4, f32)
    labels = cp.zeros(3, i64)
    return {
        "numpy_input": (TypeError, lambda: launch.relu_forward(np.ones(4, np.float32))),
        "int_input": (TypeError, lambda: launch.relu_forward(cp.ones(4, cp.int32))),
        "mixed_dtypes": (TypeError, lambda: launch.relu_backward(cp.ones(4, f64), v4)),
        "strided": (ValueError, lambda: launch.relu_backward(cp.ones(8, f32)[::2], v4)),
        "shapes": (ValueError, lambda: launch.relu_backward(v4, cp.ones(5, f32))),
        "bias_length": (ValueError, lambda: launch.bias_relu_forward_(m, cp.ones(5, f32))),
        "bias_on_1d": (ValueError, lambda: launch.bias_relu_forward_(cp.ones(4, f32), m[0])),
        "db_missing": (ValueError, lambda: launch.relu_bias_backward(m, m, accumulate=True)),
        "db_shape": (ValueError, lambda: launch.relu_bias_backward(m, m, db=cp.ones(5, f32))),
        "db_dtype": (TypeError, lambda: launch.relu_bias_backward(m, m, db=cp.ones(4, f64))),
        "gemm_rows": (ValueError, lambda: launch.masked_gemm_weight(m, m, cp.ones((5, 2), f32))),
        "gemm_w": (ValueError, lambda: launch.masked_gemm_input(m, m, cp.ones((5, 2), f32))),
        "gemm_strided": (ValueError,
                         lambda: launch.masked_gemm_weight(m, m, cp.ones((2, 3), f32).T)),
        "gemm_out": (ValueError,
                     lambda: launch.masked_gemm_weight(m, m, cp.ones((3, 2), f32),
                                                       out=cp.ones((2, 4), f32))),
        "labels_float": (TypeError,
                         lambda: launch.softmax_xent_forward(m, cp.ones(3, f32), -100, 0.0)),
        "labels_length": (ValueError,
                          lambda: launch.softmax_xent_forward(m, cp.zeros(4, i64), -100, 0.0)),
        "labels_numpy": (TypeError,
                         lambda: launch.softmax_xent_forward(m, np.zeros(3, np.int64), -100, 0)),
        "labels_2d": (ValueError,
                      lambda: launch.softmax_xent_forward(m, cp.zeros((3, 1), i64), -100, 0)),
        "xent_g_shape": (ValueError, lambda: launch.softmax_xent_backward(
            m, labels, cp.ones(2, f32), -100, 0.0, 1.0)),
        "xent_g_dtype": (TypeError, lambda: launch.softmax_xent_backward(
            m, labels, cp.ones((), f64), -100, 0.0, 1.0)),
        "mse_shapes": (ValueError, lambda: launch.mse_backward(m, m[:2], g1, 1.0)),
        "mse_g_dtype": (TypeError, lambda: launch.mse_backward(m, m, cp.ones((), f64), 1.0)),
        "mse_g_numpy": (TypeError, lambda: launch.mse_backward(m, m, np.ones((), np.float32), 1.0)),
    }


@pytest.mark.parametrize("name", ["numpy_input", "int_input", "mixed_dtypes", "strided", "shapes",
                                  "bias_length", "bias_on_1d", "db_missing", "db_shape",
                                  "db_dtype", "gemm_rows", "gemm_w", "gemm_strided",
                                  "gemm_out", "labels_float", "labels_length", "labels_numpy",
                                  "labels_2d", "xent_g_shape", "xent_g_dtype", "mse_shapes",
                                  "mse_g_dtype", "mse_g_numpy"])
def test_launchers_reject_bad_arguments_before_launching(cp, monkeypatch, name):
    error, call = _bad_calls(cp)[name]

    def no_launch(family, *args, **kwargs):
        raise AssertionError(f"{name}: kernel {family} launched despite a bad argument")

    monkeypatch.setattr(launch, "_launch", no_launch)
    with pytest.raises(error):
        call()
