"""relu's gradient read from the output as ``g * !(y <= 0)``: a NaN input passes its
cotangent (gradient 1, not 0), as PyTorch's threshold_backward. (An inf or NaN cotangent
where the output is 0 gives NaN, where PyTorch's where gives 0: the multiply is what the
step's speed and the checkpoint planner's memory profile rest on.) The NumPy reference
(ops/fused.py), the relu kernel (kernels/relu.cu, run on the CPU emulator) and the fused
linear-relu record's reference path agree; relu6 / hardtanh / leaky_relu at NaN are as
PyTorch's too."""

import numpy as np
import pytest

import gpugrad
import gpugrad.nn.functional as F
from gpugrad import nn
from gpugrad.autograd import forward_ad
from gpugrad.ops import fused

NAN, INF = float("nan"), float("inf")
X = [NAN, -1.0, 0.0, 2.0, 7.0, INF, -INF]
G = [1.0, 2.0, 5.0, 3.0, NAN, 1.0, 1.0]
# threshold_backward by hand: g where NOT x <= 0 (NaN <= 0 is false), else 0
RELU_GRAD = [1.0, 0.0, 0.0, 3.0, NAN, 1.0, 0.0]

RELUS = {
    "gpugrad.relu": lambda x: gpugrad.relu(x),
    "F.relu": lambda x: F.relu(x),
    "nn.ReLU": lambda x: nn.ReLU()(x),
    "Tensor.relu": lambda x: x.relu(),
    "relu of a view": lambda x: gpugrad.relu(x * 1.0),
}


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("name", sorted(RELUS))
def test_relu_passes_the_gradient_at_nan(name, dtype):
    x = gpugrad.tensor(X, dtype=dtype, requires_grad=True)
    y = RELUS[name](x)
    y.backward(gpugrad.tensor(G, dtype=dtype))
    np.testing.assert_array_equal(x.grad.numpy(), np.array(RELU_GRAD, dtype))
    assert x.grad.dtype == dtype


def test_relu_nan_gradients_match_torch():
    torch = pytest.importorskip("torch")
    for name, call in RELUS.items():
        ours = gpugrad.tensor(X, dtype="float64", requires_grad=True)
        call(ours).backward(gpugrad.tensor(G, dtype="float64"))
        theirs = torch.tensor(X, dtype=torch.float64, requires_grad=True)
        torch.relu(theirs).backward(torch.tensor(G, dtype=torch.float64))
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy(), err_msg=name)


def test_relu_tangent_and_double_backward_at_nan():
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(gpugrad.tensor(X, dtype="float64"),
                                    gpugrad.tensor(G, dtype="float64"))
        tangent = forward_ad.unpack_dual(gpugrad.relu(dual)).tangent
    np.testing.assert_array_equal(tangent.numpy(), RELU_GRAD)
    x = gpugrad.tensor(X, dtype="float64", requires_grad=True)
    g = gpugrad.tensor(G, dtype="float64", requires_grad=True)
    (dx,) = gpugrad.autograd.grad(gpugrad.relu(x), x, g, create_graph=True)
    np.testing.assert_array_equal(dx.numpy(), RELU_GRAD)
    (dg,) = gpugrad.autograd.grad(dx, g, gpugrad.ones(len(X), dtype="float64"))
    np.testing.assert_array_equal(dg.numpy(), [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0])


# PyTorch's rules at NaN, by hand: hardtanh (relu6) passes g (NaN is neither <= low nor
# >= high); leaky_relu takes the negative branch (NaN > 0 is false): slope * g
PIECEWISE = {
    "relu6": (lambda m, x: m.nn.functional.relu6(x), 1.0),
    "nn.ReLU6": (lambda m, x: m.nn.ReLU6()(x), 1.0),
    "hardtanh": (lambda m, x: m.nn.functional.hardtanh(x, -2.0, 3.0), 1.0),
    "leaky_relu": (lambda m, x: m.nn.functional.leaky_relu(x, 0.25), 0.25),
    "nn.LeakyReLU": (lambda m, x: m.nn.LeakyReLU(0.25)(x), 0.25),
}


@pytest.mark.parametrize("name", sorted(PIECEWISE))
def test_relu6_hardtanh_leaky_relu_at_nan(name):
    call, expected = PIECEWISE[name]
    x = gpugrad.tensor([NAN, 1.0], requires_grad=True)
    y = call(gpugrad, x)
    assert np.isnan(y.numpy()[0])
    y.sum().backward()
    assert x.grad.tolist() == [expected, 1.0]


def test_relu6_hardtanh_leaky_relu_at_nan_match_torch():
    torch = pytest.importorskip("torch")
    for name, (call, _) in PIECEWISE.items():
        ours = gpugrad.tensor(X, dtype="float64", requires_grad=True)
        call(gpugrad, ours).backward(gpugrad.tensor(G, dtype="float64"))
        theirs = torch.tensor(X, dtype=torch.float64, requires_grad=True)
        call(torch, theirs).backward(torch.tensor(G, dtype=torch.float64))
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy(), err_msg=name)


def _linear_relu_case():
    """x (4, 3), w (5, 3), b (5,) with b[1] NaN (unit 1's output is NaN in every row) and
    unit 3 dead in every row."""
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    b = rng.standard_normal(5)
    b[1], b[3] = NAN, -50.0
    g = rng.standard_normal((4, 5))
    return x, w, b, g


def _linear_relu_reference(x, w, b, g):
    """The gradients in float64 NumPy: gz = where(y <= 0, 0, g), then the linear rule."""
    y = np.maximum(x @ w.T + b, 0)
    gz = np.where(y <= 0, 0.0, g)
    return gz @ w, gz.T @ x, gz.sum(axis=0)


def test_fused_linear_relu_record_at_nan():
    x, w, b, g = _linear_relu_case()
    ref_gx, ref_gw, ref_gb = _linear_relu_reference(x, w, b, g)
    assert np.isfinite(ref_gb).all()                    # NaN unit: its g passes, finite
    tx, tw, tb = (gpugrad.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.linear_relu(tx, tw, tb)
    assert out.grad_fn.op.__name__ == "LinearRelu"     # the fused record, not relu(linear)
    out.backward(gpugrad.tensor(g))
    np.testing.assert_allclose(tx.grad.numpy(), ref_gx, rtol=1e-12)
    np.testing.assert_allclose(tw.grad.numpy(), ref_gw, rtol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), ref_gb, rtol=1e-12)


def test_fused_linear_relu_reference_in_place_and_into_buffers():
    x, w, b, g = _linear_relu_case()
    y = np.maximum(x @ w.T + b, 0)
    ref_gx, ref_gw, ref_gb = _linear_relu_reference(x, w, b, g)
    scratch = g.copy()
    gw_into, gb_into = np.ones_like(w), np.ones_like(b)
    gx, gw, gb = fused.linear_relu_backward(np, scratch, y, x, w, (True, True, True),
                                            g_is_scratch=True, gw_into=gw_into,
                                            gb_into=gb_into)
    assert gw is gw_into and gb is gb_into
    np.testing.assert_allclose(gx, ref_gx, rtol=1e-12)
    np.testing.assert_allclose(gw, ref_gw + 1.0, rtol=1e-12)
    np.testing.assert_allclose(gb, ref_gb + 1.0, rtol=1e-12)


def test_fused_linear_relu_at_nan_matches_torch():
    torch = pytest.importorskip("torch")
    x, w, b, g = _linear_relu_case()
    ours = [gpugrad.tensor(a, requires_grad=True) for a in (x, w, b)]
    F.linear_relu(*ours).backward(gpugrad.tensor(g))
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    torch.relu(torch.nn.functional.linear(*theirs)).backward(torch.tensor(g))
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_an_inf_cotangent_where_relu_is_zero_gives_nan_as_the_multiply():
    """The one difference from PyTorch's where (which gives 0): inf * 0 in the multiply."""
    x = gpugrad.tensor([-1.0, 2.0], requires_grad=True)
    with np.errstate(invalid="ignore"):                 # (NumPy's warning for inf * 0)
        gpugrad.relu(x).backward(gpugrad.tensor([INF, INF]))
    assert np.isnan(x.grad[0].item()) and x.grad[1].item() == INF


def test_relu_kernel_on_the_emulator_matches_the_reference_at_nan_and_inf():
    from kernel_build import missing
    if missing() is not None:
        pytest.skip(f"the CPU kernel emulator cannot run: {missing()}")
    from gpugrad.cuda import launch
    from kernel_emulation import EmulatedDevice

    rng = np.random.default_rng(7)
    for dtype in ("float32", "float64"):
        for size, offset in ((37, 0), (37, 1), (4, 0)):
            y = np.maximum(rng.standard_normal(size), 0).astype(dtype)
            gy = rng.standard_normal(size).astype(dtype)
            y[::5], y[1::7] = np.nan, 0.0
            gy[1::7] = np.inf
            gy[3::11] = np.nan
            with np.errstate(invalid="ignore"):         # inf where y is 0: NaN, alike
                expected = (gy * ~(y <= 0)).astype(dtype)
                np.testing.assert_array_equal(fused.relu_backward(np, gy, y), expected)
            for sms in (2, 0):
                device = EmulatedDevice(multiprocessors=sms)
                with launch.using_device(device):
                    got = launch.relu_backward(device.array(gy, offset),
                                               device.array(y, offset))
                np.testing.assert_array_equal(np.asarray(got), expected,
                                              err_msg=f"{dtype}[{size}] offset {offset}")


@pytest.mark.parametrize("name, scale", [("elu", 1.0), ("celu", 1.0),
                                         ("selu", 1.0507009873554805)])
def test_elu_family_passes_the_positive_sides_gradient_at_nan(name, scale):
    """PyTorch's elu_backward takes the x > 0 side unless x <= 0, so a NaN input gets the
    positive side's slope (1, or selu's scale), and its value stays NaN; the other values
    keep their gradients: exp(x) below 0 (times selu's scale * alpha), the slope above."""
    x = gpugrad.tensor([np.nan, -1.0, 2.0], dtype="float64", requires_grad=True)
    y = getattr(F, name)(x)
    y.sum().backward()
    assert np.isnan(y[0].item())
    alpha_scale = 1.0 if name != "selu" else 1.0507009873554805 * 1.6732632423543772
    np.testing.assert_allclose(x.grad.numpy(), [scale, alpha_scale * np.exp(-1.0), scale],
                               rtol=1e-12)
