"""The fused CUDA kernels through gpugrad's ops on a real GPU: strided inputs through
gpugrad/ops/fused.py, cross-entropy's options and both linear backward routes against the
CPU, fused against unfused, float64 gradcheck on the GPU for every fused op, and the
launchers' argument checks. Marked ``cuda``: skipped where CUDA is not usable.

Run on a GPU machine: PYTHONPATH=. python3 -m pytest -q tests/test_cuda_ops.py
"""

import numpy as np
import pytest

import gpugrad
import gpugrad.cuda
from gpugrad import nn
from gpugrad.autograd import gradcheck, gradgradcheck
from gpugrad.autograd.gradcheck import GradcheckError
from gpugrad.cuda import launch
from gpugrad.nn import functional as F
from gpugrad.ops import fused
from gpugrad.ops.activation import ReluGrad
from gpugrad.ops.record import apply

import test_optimizer_rounding as rounding
from cuda_support import (CUDA_TESTS, ELEMENTWISE, FLOATS, REDUCTION, _assert_close, _normal,
                          _xent_reference)
from optimizer_reference import assert_within_rounding, trajectory

pytestmark = CUDA_TESTS


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
    """Loss and gradients (input, then each layer's W and b) of cross_entropy(MLP(x)), after
    one backward and after a second one accumulating into the first's."""
    model = nn.MLP(sizes, device=device, dtype=x.dtype)
    linears = [m for m in model.layers if isinstance(m, nn.Linear)]
    for layer, (w, b) in zip(linears, params):
        layer.weight.data = gpugrad.tensor(w, device=device)
        layer.bias.data = gpugrad.tensor(b, device=device)
    xt = gpugrad.tensor(x, device=device, requires_grad=True)
    loss = F.cross_entropy(model(xt), gpugrad.tensor(labels, device=device))
    leaves = [xt] + [p for layer in linears for p in (layer.weight, layer.bias)]
    loss.backward(retain_graph=True)
    first = [np.array(t.grad.numpy()) for t in leaves]     # a copy: .grad changes in place
    loss.backward()             # adds into the existing W.grad and b.grad, in place
    return [loss.numpy()] + first + [np.array(t.grad.numpy()) for t in leaves]


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
        "gemm_acc_shapes": (ValueError, lambda: launch.gemm_accumulate(m, m, cp.ones((3, 3), f32))),
        "gemm_acc_dtype": (TypeError, lambda: launch.gemm_accumulate(m, m.T.copy(),
                                                                     cp.ones((3, 3), f64))),
    }


@pytest.mark.parametrize("name", ["numpy_input", "int_input", "mixed_dtypes", "strided", "shapes",
                                  "bias_length", "bias_on_1d", "db_missing", "db_shape",
                                  "db_dtype", "gemm_rows", "gemm_w", "gemm_strided",
                                  "gemm_out", "labels_float", "labels_length", "labels_numpy",
                                  "labels_2d", "xent_g_shape", "xent_g_dtype", "mse_shapes",
                                  "mse_g_dtype", "mse_g_numpy", "gemm_acc_shapes",
                                  "gemm_acc_dtype"])
def test_launchers_reject_bad_arguments_before_launching(cp, monkeypatch, name):
    error, call = _bad_calls(cp)[name]

    def no_launch(family, *args, **kwargs):
        raise AssertionError(f"{name}: kernel {family} launched despite a bad argument")

    monkeypatch.setattr(launch, "_launch", no_launch)
    with pytest.raises(error):
        call()


# ------------------------------------------------------------------ multi-tensor optimizers

def _optimizer_run(name, fused_on, dtype, seed):
    """Parameters after the steps of tests/test_optimizer_rounding.py's problem on cuda, the
    kernels on or off: one parameter misses its gradient at step 2 and a scheduler halves
    the learning rate every two steps."""
    previous = gpugrad.cuda.set_fused(fused_on)
    try:
        p0, grads = rounding.problem(dtype, seed)
        params = [gpugrad.tensor(p, device="cuda", requires_grad=True) for p in p0]
        opt = rounding.make_optimizer(name, params)
        schedule = gpugrad.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        for step_grads in grads:
            for p, g in zip(params, step_grads):
                p.grad = None if g is None else gpugrad.tensor(g, device="cuda")
            opt.step()
            schedule.step()
        assert bool(opt.__dict__.get("_fused_buckets")) == fused_on     # the path it took
        return [p.numpy() for p in params]
    finally:
        gpugrad.cuda.set_fused(previous)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(rounding.CONFIGS))
def test_multi_tensor_kernels_match_the_reference_update(seed, dtype, name):
    """Fused and unfused updates on the GPU, each within the error rounding in ``dtype``
    can make of the exact trajectory (relative to the size of the update's terms, so FMA
    contraction passes near zero; tests/test_optimizer_rounding.py shows the judge rejects
    wrong updates)."""
    kind, hyper = rounding.CONFIGS[name]
    p0, grads = rounding.problem(dtype, seed)
    for fused_on in (True, False):
        got = _optimizer_run(name, fused_on, dtype, seed)
        for i, value in enumerate(got):
            exact, size = trajectory(kind, hyper, p0[i], [g[i] for g in grads],
                                     rounding.learning_rates(hyper["lr"]))
            assert_within_rounding(value, exact, size, dtype, rounding.STEPS,
                                   f"{name} {dtype} fused={fused_on} param {i} (seed {seed})")

