"""The ops with fused CUDA kernels, through their reference paths (what runs on NumPy):
ReluGrad, LinearRelu, SoftmaxCrossEntropy and MseLoss, their raw-array functions in
gpugrad/ops/fused.py against float64 formulas worked out here, their fast first-order rules
against their differentiable ones, and the switches that pick a path.

The kernels themselves are held to these references on a GPU by tests/test_cuda_kernels.py.
"""

import numpy as np
import pytest

import gpugrad
import gpugrad.cuda
from gpugrad import nn
from gpugrad.autograd import gradcheck, gradgradcheck
from gpugrad.nn import functional as F
from gpugrad.ops import fused
from gpugrad.ops.activation import ReluGrad
from gpugrad.ops.record import apply

from conftest import to_numpy

rng = np.random.default_rng(7)


def softmax64(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def xent_rows64(x, labels, ignore_index=-100, smoothing=0.0):
    """Per-row smoothed cross-entropy in float64, written from the definition."""
    shifted = x - x.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    out = np.zeros(len(labels))
    for r, t in enumerate(labels):
        if t != ignore_index:
            out[r] = -(1 - smoothing) * logp[r, t] - smoothing * logp[r].mean()
    return out


# ------------------------------------------------------------------ raw-array references

def test_relu_forward_keeps_nan_and_zeroes_negatives():
    x = np.array([-2.0, -0.0, 0.0, 3.0, np.nan], np.float32)
    out = fused.relu_forward(np, x)
    np.testing.assert_array_equal(out[[0, 1, 2, 3]], [0, 0, 0, 3])
    assert np.isnan(out[4]) and out.dtype == np.float32


def test_relu_backward_is_the_output_mask():
    g = rng.standard_normal((3, 5)).astype(np.float32)
    y = np.maximum(rng.standard_normal((3, 5)), 0).astype(np.float32)
    out = fused.relu_backward(np, g, y)
    expected = [[g[i, j] if y[i, j] > 0 else 0.0 for j in range(5)] for i in range(3)]
    np.testing.assert_array_equal(out, np.array(expected, np.float32))
    assert out.dtype == np.float32


@pytest.mark.parametrize("scratch", [False, True])
@pytest.mark.parametrize("needs", [(True, True, True), (False, True, True), (True, False, False)])
def test_linear_relu_backward_matches_float64(needs, scratch):
    x, w, b = (rng.standard_normal(s) for s in ((6, 4), (3, 4), (3,)))
    y = np.maximum(x @ w.T + b, 0)
    g = rng.standard_normal((6, 3))
    gz = g * (y > 0)
    expected = (gz @ w, gz.T @ x, gz.sum(axis=0))
    got = fused.linear_relu_backward(np, g.copy(), y, x, w, needs, g_is_scratch=scratch)
    for need, value, reference in zip(needs, got, expected):
        if need:
            np.testing.assert_allclose(value, reference, rtol=1e-12, atol=1e-12)
        else:
            assert value is None


def test_linear_relu_forward_matches_float64():
    x, w, b = (rng.standard_normal(s) for s in ((5, 4), (3, 4), (3,)))
    np.testing.assert_allclose(fused.linear_relu_forward(np, x, w, b),
                               np.maximum(x @ w.T + b, 0), rtol=1e-12)


@pytest.mark.parametrize("labels_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_softmax_xent_forward_and_backward_match_float64(labels_dtype, smoothing):
    x = rng.standard_normal((5, 7)) * 3
    labels = np.array([2, -100, 6, 0, 3], labels_dtype)
    rows = fused.softmax_xent_forward(np, x, labels, -100, smoothing)
    np.testing.assert_allclose(rows, xent_rows64(x, labels, -100, smoothing), rtol=1e-12)
    g = rng.standard_normal(5)
    gx = fused.softmax_xent_backward(np, x, labels, g, -100, smoothing, 0.25)
    q = np.full((5, 7), smoothing / 7)
    q[np.arange(5), np.where(labels == -100, 0, labels)] += 1 - smoothing
    expected = (softmax64(x) - q) * (g * 0.25 * (labels != -100))[:, None]
    np.testing.assert_allclose(gx, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("divisor", [None, 3, np.asarray(3.0), np.asarray(3.0, np.float32)])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("checked", [False, True])
def test_the_gradient_from_the_kept_softmax_matches_float64(divisor, smoothing, checked):
    """``softmax_xent_grad_from_probs``: g / divisor * (softmax - q) (a mean; g alone for a
    sum), from the softmax the forward kept, for one g or one per row; ignored rows 0, and
    (labels not checked) rows whose label is out of range NaN."""
    x = rng.standard_normal((5, 7)) * 3
    labels = np.array([2, -100, 6, 0, 3] if checked else [2, -100, 6, 9, -3])
    loss, probs = fused.softmax_xent_forward(np, x, labels, -100, smoothing, checked,
                                             divisor, keep_probs=True)
    np.testing.assert_allclose(probs, softmax64(x), rtol=1e-12)
    bad = (labels != -100) & ((labels < 0) | (labels >= 7))
    good = np.where(bad, -100, labels)
    np.testing.assert_allclose(loss[~bad], xent_rows64(x, good, -100, smoothing)[~bad],
                               rtol=1e-12)
    assert np.isnan(loss[bad]).all()
    q = np.full((5, 7), smoothing / 7)
    q[np.arange(5), np.where((labels == -100) | bad, 0, labels)] += 1 - smoothing
    for g in (np.asarray(0.75), rng.standard_normal(5)):
        gx = fused.softmax_xent_grad_from_probs(np, probs, labels, g, -100, smoothing, checked,
                                                divisor, mean=divisor is not None)
        scale = g * (labels != -100) / (1.0 if divisor is None else 3.0)
        expected = (softmax64(x) - q) * np.broadcast_to(scale, (5,))[:, None]
        np.testing.assert_allclose(gx[~bad], expected[~bad], rtol=1e-12, atol=1e-15)
        assert np.isnan(gx[bad]).all() and gx.shape == x.shape


@pytest.mark.parametrize("divisor", [0, np.asarray(0.0)])
def test_the_gradient_of_a_mean_over_no_rows_is_zero(divisor):
    x = rng.standard_normal((2, 3))
    labels = np.array([-100, -100])
    _, probs = fused.softmax_xent_forward(np, x, labels, -100, 0.0, True, divisor,
                                          keep_probs=True)
    gx = fused.softmax_xent_grad_from_probs(np, probs, labels, np.asarray(1.0), -100, 0.0,
                                            True, divisor, mean=True)
    assert np.array_equal(gx, np.zeros((2, 3)))


@pytest.mark.parametrize("counted", [4, np.asarray(4.0), np.asarray(4.0, np.float32)])
def test_a_count_of_checked_labels_keeps_ignored_rows_out(counted):
    """With labels checked, the count the check made says whether every row counts: 4 of
    5 here, so the ignored row is still found and left out; with all 5 counting, the
    shortcut gives the same rows and gradients as the full path."""
    x = rng.standard_normal((5, 7))
    labels = np.array([2, -100, 6, 0, 3])
    g = rng.standard_normal(5)
    assert not fused._counts_every_row(counted, 5)
    rows = fused.softmax_xent_forward(np, x, labels, -100, 0.0, True, counted)
    gx = fused.softmax_xent_backward(np, x, labels, g, -100, 0.0, 1.0, True, counted)
    np.testing.assert_allclose(rows, xent_rows64(x, labels, -100, 0.0), rtol=1e-12)
    np.testing.assert_allclose(gx, fused.softmax_xent_backward(np, x, labels, g, -100, 0.0,
                                                               1.0), rtol=1e-12)
    every = np.array([2, 1, 6, 0, 3])
    for count in (5, np.asarray(5.0, np.float32)):
        assert fused._counts_every_row(count, 5)
        np.testing.assert_allclose(fused.softmax_xent_forward(np, x, every, -100, 0.0, True,
                                                              count),
                                   xent_rows64(x, every, -100, 0.0), rtol=1e-12)
        np.testing.assert_allclose(
            fused.softmax_xent_backward(np, x, every, g, -100, 0.0, 1.0, True, count),
            fused.softmax_xent_backward(np, x, every, g, -100, 0.0, 1.0), rtol=1e-12)


def test_cross_entropy_hands_its_label_count_to_the_reference_path(monkeypatch):
    """The count the label check made reaches the reference path: eagerly an int, for the
    forward and the backward; in a compiled step a 0-d array, read at every replay."""
    seen = []
    real = fused._label_rows
    monkeypatch.setattr(fused, "_label_rows",
                        lambda *args: seen.append(args[-1]) or real(*args))
    x = gpugrad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    labels = gpugrad.tensor(np.array([0, 2, 1, 2]))
    gpugrad.nn.functional.cross_entropy(x, labels).backward()
    assert seen == [4, 4]
    seen.clear()
    step = gpugrad.compile(lambda x, y: gpugrad.nn.functional.cross_entropy(x, y))
    for _ in range(3):
        step(x.detach().requires_grad_(), labels)
    assert len(seen) == 3 and all(np.ndim(c) == 0 and float(c) == 4 for c in seen)


def test_a_float_count_is_trusted_only_where_it_is_exact():
    assert fused._counts_every_row(np.asarray(2048.0, np.float16), 2048)
    assert not fused._counts_every_row(np.asarray(4100.0, np.float16), 4100)  # 4099 rounds so
    assert fused._counts_every_row(np.asarray(4100.0, np.float32), 4100)
    assert not fused._counts_every_row(None, 3) and not fused._counts_every_row(2, 3)


def test_softmax_xent_stays_finite_for_huge_logits_in_float32():
    x = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], np.float32)
    labels = np.array([1, 2])
    rows = fused.softmax_xent_forward(np, x, labels, -100, 0.1)
    gx = fused.softmax_xent_backward(np, x, labels, np.float32(1.0), -100, 0.1, 0.5)
    assert np.isfinite(rows).all() and np.isfinite(gx).all()
    np.testing.assert_allclose(rows, xent_rows64(x.astype(np.float64), labels, -100, 0.1),
                               rtol=1e-6)
    assert rows.dtype == gx.dtype == np.float32


def test_mse_backward_matches_float64():
    x, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(fused.mse_backward(np, x, t, np.float64(1.5), 1 / 12),
                               2 * (x - t) * 1.5 / 12, rtol=1e-14)
    g = rng.standard_normal((3, 4))
    np.testing.assert_allclose(fused.mse_backward(np, x, t, g, 1.0), 2 * (x - t) * g,
                               rtol=1e-14)


# ------------------------------------------------------------------ the ops

def layer_inputs(device, dtype="float64"):
    x = gpugrad.tensor(rng.standard_normal((6, 4)), dtype=dtype, device=device,
                       requires_grad=True)
    w = gpugrad.tensor(rng.standard_normal((3, 4)), dtype=dtype, device=device,
                       requires_grad=True)
    b = gpugrad.tensor(rng.standard_normal(3), dtype=dtype, device=device, requires_grad=True)
    return x, w, b


def test_linear_relu_equals_linear_then_relu(device):
    x, w, b = layer_inputs(device)
    fused_out = F.linear_relu(x, w, b)
    assert fused_out.grad_fn.name() == "LinearReluBackward"
    g = rng.standard_normal((6, 3))
    fused_grads = gpugrad.autograd.grad(fused_out, (x, w, b), gpugrad.tensor(g, device=device))
    plain_out = F.relu(F.linear(x, w, b))
    plain_grads = gpugrad.autograd.grad(plain_out, (x, w, b), gpugrad.tensor(g, device=device))
    np.testing.assert_allclose(to_numpy(fused_out), to_numpy(plain_out), rtol=1e-12)
    for a, e in zip(fused_grads, plain_grads):
        np.testing.assert_allclose(to_numpy(a), to_numpy(e), rtol=1e-12, atol=1e-14)


def test_fused_ops_pass_gradcheck_and_gradgradcheck(device):
    x, w, b = layer_inputs(device)
    offsets = gpugrad.tensor([5.0, -5.0, 5.0], device=device)    # away from the relu kink
    layer = lambda x, w, b: F.linear_relu(x, w, b + offsets)     # noqa: E731
    assert gradcheck(layer, (x, w, b)) and gradgradcheck(layer, (x, w, b))
    labels = gpugrad.tensor([0, 2, 1, 2, -100, 0], device=device)
    for reduction in ("mean", "sum", "none"):
        loss = lambda z: F.cross_entropy(z, labels, reduction=reduction,    # noqa: E731
                                         label_smoothing=0.1)
        logits = gpugrad.tensor(rng.standard_normal((6, 3)), device=device,
                                requires_grad=True)
        assert gradcheck(loss, (logits,)) and gradgradcheck(loss, (logits,))
        target = gpugrad.tensor(rng.standard_normal((6, 3)), device=device,
                                requires_grad=True)
        mse = lambda a, t: F.mse_loss(a, t, reduction=reduction)       # noqa: E731
        assert gradcheck(mse, (logits, target)) and gradgradcheck(mse, (logits, target))


def test_relu_grad_is_its_own_derivative(device):
    g = gpugrad.tensor(rng.standard_normal((4, 5)), device=device, requires_grad=True)
    y = gpugrad.tensor(np.maximum(rng.standard_normal((4, 5)), 0), device=device)
    v = gpugrad.tensor(rng.standard_normal((4, 5)), device=device, requires_grad=True)
    (gg,) = gpugrad.autograd.grad(apply(ReluGrad, g, y), (g,), v, create_graph=True)
    assert gg.grad_fn is not None and gg.grad_fn.name() == "ReluGradBackward"
    mask = (to_numpy(y) > 0).astype(np.float64)
    np.testing.assert_array_equal(to_numpy(gg), to_numpy(v) * mask)
    c = rng.standard_normal((4, 5))
    (gv,) = gpugrad.autograd.grad((gg * gpugrad.tensor(c, device=device)).sum(), (v,))
    np.testing.assert_array_equal(to_numpy(gv), c * mask)


def test_first_order_fast_rules_equal_the_recorded_ones(device):
    """The raw fast path (no create_graph) and the differentiable composite give one answer."""
    x, w, b = layer_inputs(device)
    labels = gpugrad.tensor([1, 0, 2, 2, 1, -100], device=device)

    def loss():
        hidden = F.linear_relu(x, w, b)
        return F.cross_entropy(hidden, labels, label_smoothing=0.2) + \
            F.mse_loss(hidden, gpugrad.ones(6, 3, device=device, dtype="float64"))

    fast = gpugrad.autograd.grad(loss(), (x, w, b))
    recorded = gpugrad.autograd.grad(loss(), (x, w, b), create_graph=True)
    assert all(r.grad_fn is not None for r in recorded)
    for a, e in zip(fast, recorded):
        np.testing.assert_allclose(to_numpy(a), to_numpy(e), rtol=1e-12, atol=1e-14)


def test_mse_target_gets_the_opposite_gradient(device):
    a = gpugrad.tensor(rng.standard_normal(5), device=device, requires_grad=True)
    t = gpugrad.tensor(rng.standard_normal(5), device=device, requires_grad=True)
    F.mse_loss(a, t, reduction="sum").backward()
    expected = 2 * (to_numpy(a) - to_numpy(t))
    np.testing.assert_allclose(to_numpy(a.grad), expected, rtol=1e-14)
    np.testing.assert_allclose(to_numpy(t.grad), -expected, rtol=1e-14)


def test_mse_of_mixed_dtypes_and_empty_inputs_keep_the_old_rules():
    a = gpugrad.tensor([1.0, 2.0], dtype="float32")
    t = gpugrad.tensor([0.0, 0.0], dtype="float64")
    assert F.mse_loss(a, t).dtype == np.float64 and F.mse_loss(a, t).item() == 2.5
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        assert np.isnan(F.mse_loss(gpugrad.zeros(0), gpugrad.zeros(0)).item())


# ------------------------------------------------------------------ the scratch cotangent

def mlp_batch():
    gpugrad.manual_seed(3)
    model = nn.MLP([4, 8, 8, 3], dtype="float64")
    x = gpugrad.tensor(rng.standard_normal((5, 4)))
    return model, x, gpugrad.tensor([0, 1, 2, 1, 0])


def test_mlp_fuses_linear_relu_pairs_and_matches_unfused_layers():
    model, x, labels = mlp_batch()
    out = model(x)
    assert out.grad_fn.name() == "LinearBackward"
    assert out.grad_fn.next_functions[0][0].name() == "LinearReluBackward"
    F.cross_entropy(out, labels).backward()
    fused_grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    hidden = x
    for layer in model.layers:                   # the same layers, one op each
        hidden = layer(hidden)
    F.cross_entropy(hidden, labels).backward()
    for a, p in zip(fused_grads, model.parameters()):
        np.testing.assert_allclose(a, p.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_retained_and_hooked_cotangents_are_never_overwritten():
    model, x, labels = mlp_batch()
    hidden = model.layers[0].forward(x)
    hidden = F.linear_relu(hidden, model.layers[2].weight, model.layers[2].bias)
    hidden.retain_grad()
    seen = []
    hidden.register_hook(lambda g: seen.append(g))
    out = F.linear(hidden, model.layers[4].weight, model.layers[4].bias)
    F.cross_entropy(out, labels).backward()
    probs = softmax64(out.detach().numpy())
    probs[np.arange(5), labels.numpy()] -= 1
    expected = probs / 5 @ model.layers[4].weight.detach().numpy()
    np.testing.assert_allclose(hidden.grad.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(seen[0].numpy(), expected, rtol=1e-12)


# ------------------------------------------------------------------ switches

def test_set_fused_and_the_linear_route_switch():
    previous = gpugrad.cuda.set_fused(False)
    try:
        assert gpugrad.cuda.fused_enabled() is False
    finally:
        gpugrad.cuda.set_fused(previous)
    assert gpugrad.cuda.fused_enabled() is previous
    with pytest.raises(ValueError, match="route must be one of"):
        gpugrad.cuda.set_linear_route("fast")
    before = gpugrad.cuda.set_linear_route("rawkernel")
    try:
        assert gpugrad.cuda.linear_backward_route(256, 1024, 1024, "float32") == "rawkernel"
    finally:
        gpugrad.cuda.set_linear_route(before)
    assert before == "auto"
    # The H100 run measured cuBLAS at least as fast at every size: "auto" is cuBLAS.
    assert gpugrad.cuda.ROUTES_MEASURED_ON.startswith("NVIDIA H100")
    assert gpugrad.cuda.LINEAR_BACKWARD_ROUTES == ()
    for dtype in ("float32", "float64"):
        assert gpugrad.cuda.linear_backward_route(256, 1024, 1024, dtype) == "cublas"


def test_auto_route_reads_the_first_matching_row_of_the_table(monkeypatch):
    table = (("float32", 64 * 64 * 64, "rawkernel"), ("float32", 10 ** 9, "cublas"),
             ("float64", 10 ** 12, "rawkernel"))
    monkeypatch.setattr(gpugrad.cuda, "LINEAR_BACKWARD_ROUTES", table)
    route = gpugrad.cuda.linear_backward_route
    assert route(64, 64, 64, "float32") == "rawkernel"        # work == largest still matches
    assert route(64, 64, 65, "float32") == "cublas"           # just past it: the next row
    assert route(2000, 1000, 1000, "float32") == "cublas"     # past every float32 row
    assert route(8, 8, 8, np.dtype("float64")) == "rawkernel"  # rows are keyed by dtype name
    assert route(8, 8, 8, "float16") == "cublas"              # no row for the dtype
    before = gpugrad.cuda.set_linear_route("cublas")          # a forced route beats the table
    try:
        assert route(8, 8, 8, "float64") == "cublas"
    finally:
        gpugrad.cuda.set_linear_route(before)


@pytest.mark.parametrize("value, chosen", [("rawkernel", "rawkernel"), (" CUBLAS ", "cublas"),
                                           ("auto", "cublas"), ("fast", "ValueError")])
def test_gpugrad_linear_route_environment_variable(value, chosen):
    import subprocess
    import sys
    code = ("import gpugrad.cuda as c\ntry: print(c.linear_backward_route(64, 64, 64, 'float32'))"
            "\nexcept ValueError as e: print('ValueError', e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"GPUGRAD_LINEAR_ROUTE": value, "PATH": ""}, check=True)
    assert out.stdout.split()[0] == chosen
    if chosen == "ValueError":
        assert "GPUGRAD_LINEAR_ROUTE must be one of" in out.stdout


@pytest.mark.parametrize("value, enabled", [("0", False), ("off", False), ("1", True),
                                            ("", True)])
def test_gpugrad_fused_environment_variable(value, enabled):
    import subprocess
    import sys
    code = "import gpugrad.cuda as c; print(c.fused_enabled())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"GPUGRAD_FUSED": value, "PATH": ""}, check=True)
    assert out.stdout.strip() == str(enabled)


def test_numpy_arrays_never_reach_the_kernels(monkeypatch):
    """On NumPy the reference runs even with the kernels on: the launchers are not called."""
    import gpugrad.cuda.launch as launch

    def refuse(*args, **kwargs):
        raise AssertionError("a kernel launcher was called for NumPy arrays")

    for name in launch.__all__:
        monkeypatch.setattr(launch, name, refuse)
    model, x, labels = mlp_batch()
    F.cross_entropy(model(x), labels).backward()
    F.mse_loss(model(x), gpugrad.zeros(5, 3, dtype="float64")).backward()


# ------------------------------------------------------------------ adding into .grad

def test_block_gradients_are_added_into_existing_grads_in_place(monkeypatch):
    """With .grad buffers present (zero_grad(set_to_none=False)), the linear+relu rule adds
    its weight and bias gradients into them itself; the engine stores nothing more for them
    and still runs their post-accumulate hooks."""
    from gpugrad.autograd import graph
    model, x, labels = mlp_batch()
    F.cross_entropy(model(x), labels).backward()
    once = [p.grad.numpy().copy() for p in model.parameters()]
    buffers = [p.grad._array for p in model.parameters()]
    stored, hooked = [], []
    real_store = graph.store_grad
    monkeypatch.setattr(graph, "store_grad",
                        lambda t, *a, **k: (stored.append(id(t)), real_store(t, *a, **k)))
    for p in model.parameters():
        p.register_post_accumulate_grad_hook(lambda p: hooked.append(id(p)))
    F.cross_entropy(model(x), labels).backward()
    params = list(model.parameters())
    for p, g, buffer in zip(params, once, buffers):
        np.testing.assert_allclose(p.grad.numpy(), 2 * g, rtol=1e-12)
        assert p.grad._array is buffer
    block_params = {id(p) for p in params[:4]}                # the two Linear+ReLU layers
    assert not block_params & set(stored)
    assert set(stored) == {id(p) for p in params[4:]}         # the last Linear: the engine
    assert sorted(hooked) == sorted(id(p) for p in params)


def shared_weight_grads64(x, w, b):
    """d/dw and d/db of sum(relu(relu(x w^T + b) w^T + b) @ w), backpropagated by hand."""
    a1 = x @ w.T + b
    h1 = np.maximum(a1, 0)
    a2 = h1 @ w.T + b
    h2 = np.maximum(a2, 0)
    g_out = np.ones((len(x), w.shape[1]))
    dw = h2.T @ g_out                             # out = h2 @ w
    da2 = (g_out @ w.T) * (a2 > 0)
    dw += da2.T @ h1                              # a2 = h1 @ w^T + b
    da1 = (da2 @ w) * (a1 > 0)
    dw += da1.T @ x                               # a1 = x @ w^T + b
    return dw, da2.sum(axis=0) + da1.sum(axis=0)


def test_shared_hooked_and_functional_gradients_stay_exact():
    r = np.random.default_rng(3)      # both relus have live and dead units, none near 0
    w = gpugrad.tensor(r.standard_normal((4, 4)), requires_grad=True)
    b = gpugrad.tensor(r.standard_normal(4), requires_grad=True)
    x = gpugrad.tensor(r.standard_normal((3, 4)))

    def loss():                                   # one weight used by two blocks and a matmul
        return (F.linear_relu(F.linear_relu(x, w, b), w, b) @ w).sum()

    expected_w, expected_b = shared_weight_grads64(x.numpy(), w.numpy(), b.numpy())
    w.grad, b.grad = gpugrad.zeros(4, 4, dtype="float64"), gpugrad.ones(4, dtype="float64")
    loss().backward()
    np.testing.assert_allclose(w.grad.numpy(), expected_w, rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), expected_b + 1, rtol=1e-12)
    seen = []
    w.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 0)   # replaces w's grad
    loss().backward()
    np.testing.assert_allclose(w.grad.numpy(), expected_w, rtol=1e-12)
    np.testing.assert_allclose(sum(seen), expected_w, rtol=1e-12)
    before = w.grad.numpy().copy()
    gpugrad.autograd.grad(loss(), (w,))                       # grad() leaves .grad alone
    np.testing.assert_array_equal(w.grad.numpy(), before)


def test_zero_dim_tensors_keep_their_shape_through_the_fused_ops(device):
    x = gpugrad.tensor(1.5, device=device, requires_grad=True)
    t = gpugrad.tensor(0.5, device=device)
    y = gpugrad.relu(x)
    loss = F.mse_loss(y, t, reduction="none")
    assert y.shape == () and loss.shape == ()
    loss.backward()
    assert x.grad.shape == () and x.grad.item() == pytest.approx(2.0)


@pytest.mark.parametrize("fused_on", [True, False], ids=["kernels", "reference"])
def test_cross_entropy_gradient_with_and_without_the_kept_softmax_on_each_device(device,
                                                                               fused_on):
    """Cross-entropy's first-order gradient against float64, on each device, with the
    fused kernels on (CUDA: no softmax kept, the kernel recomputes) and off (the reference
    path keeps it, CuPy's included), below and above the size limit for keeping it."""
    from gpugrad.ops import loss as loss_module
    previous = gpugrad.cuda.set_fused(fused_on)
    try:
        for rows, limit in ((6, loss_module.KEEP_SOFTMAX_UP_TO), (6, 5)):
            saved, loss_module.KEEP_SOFTMAX_UP_TO = loss_module.KEEP_SOFTMAX_UP_TO, limit
            try:
                logits = rng.standard_normal((rows, 5)) * 2
                labels = np.array([4, 0, -100, 2, 2, 1])
                x = gpugrad.tensor(logits, device=device, requires_grad=True)
                loss = F.cross_entropy(x, gpugrad.tensor(labels, device=device),
                                       label_smoothing=0.1)
                kept = loss.grad_fn.aux is not None
                loss.backward()
            finally:
                loss_module.KEEP_SOFTMAX_UP_TO = saved
            on_kernels = fused_on and device != "cpu"
            assert kept == (not on_kernels and limit >= logits.size)
            valid = labels != -100
            q = np.full((rows, 5), 0.1 / 5)
            q[np.arange(rows), np.where(valid, labels, 0)] += 0.9
            expected = (softmax64(logits) - q) * (valid / valid.sum())[:, None]
            np.testing.assert_allclose(to_numpy(x.grad), expected, rtol=1e-10, atol=1e-12)
    finally:
        gpugrad.cuda.set_fused(previous)
