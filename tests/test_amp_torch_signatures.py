"""Mixed-precision code written for PyTorch (review s22, F2, F3, F10, F11):
``autocast(device_type, dtype=..., enabled=..., cache_enabled=...)`` as a context manager
and a decorator, ``is_autocast_enabled(device_type)``, ``GradScaler("cpu")`` /
``GradScaler(device=...)`` and its setters, ``custom_fwd`` / ``custom_bwd``. References:
the dtypes and values derived by hand; torch's behaviour where installed."""

import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import amp, backend
from gpugrad.amp import GradScaler, autocast, custom_bwd, custom_fwd

X, W = gpugrad.ones(2, 3), gpugrad.ones(3, 4)


def _dtype_inside(region) -> str:
    with region:
        return str((X @ W).dtype)


def test_torchs_autocast_signature_casts_matmuls():
    for region in (autocast("cpu", dtype="float16"), autocast("cpu", gpugrad.float16),
                   autocast(device_type="cpu", dtype=np.float16),
                   autocast("cpu", dtype="float16", cache_enabled=False),
                   autocast("cpu"),                         # the dtype defaults to float16
                   autocast("float16"), autocast(dtype="float16"),      # gpugrad's older ones
                   autocast("float16", cache_enabled=False)):
        assert _dtype_inside(region) == "float16"
    for region in (autocast("cpu", dtype="float16", enabled=False),
                   autocast("float16", False), autocast("float16", enabled=False)):
        assert _dtype_inside(region) == "float32"
    assert str((X @ W).dtype) == "float32"


def test_autocast_as_a_decorator_in_torchs_spelling():
    @autocast("cpu", dtype="float16")
    def product(a, b):
        return a @ b

    @autocast("cpu", enabled=False)
    def full(a, b):
        return a @ b

    assert str(product(X, W).dtype) == "float16"
    with autocast("cpu", dtype="float16"):
        assert str(full(X, W).dtype) == "float32"


def test_is_autocast_enabled_takes_a_device_type():
    assert not amp.is_autocast_enabled("cpu") and not amp.is_autocast_enabled()
    with autocast("cpu", dtype="float16"):
        assert amp.is_autocast_enabled() and amp.is_autocast_enabled("cpu")
        assert not amp.is_autocast_enabled("cuda")
        assert amp.get_autocast_dtype("cpu") == np.float16
    with autocast("float16"):                          # no device type: every device
        assert amp.is_autocast_enabled("cpu") and amp.is_autocast_enabled("cuda")
    with pytest.raises(ValueError, match="'cpu' or 'cuda'"):
        amp.is_autocast_enabled("tpu")


def test_autocast_takes_torchs_dtypes():
    torch = pytest.importorskip("torch")
    assert _dtype_inside(autocast("cpu", dtype=torch.float16)) == "float16"
    with pytest.raises(ValueError, match="pass 'float16'"):
        autocast("cpu", dtype=torch.float32)


@pytest.mark.skipif(backend.is_cuda_usable(), reason="checks the no-GPU behaviour")
def test_cuda_autocast_without_a_gpu_warns_and_disables_like_torch():
    with pytest.warns(UserWarning, match="CUDA is not usable"):
        region = autocast("cuda", dtype="float16")
    assert _dtype_inside(region) == "float32"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        autocast("cuda", enabled=False)                 # disabled anyway: no warning


def test_grad_scaler_takes_a_device_first():
    for scaler, scale in ((GradScaler("cpu"), 65536.0), (GradScaler(device="cpu"), 65536.0),
                          (GradScaler("cpu", 1024.0), 1024.0),
                          (GradScaler(1024.0), 1024.0),         # gpugrad's older order
                          (GradScaler(init_scale=1024.0), 1024.0)):
        assert scaler.is_enabled() and scaler.get_scale() == scale
    with pytest.raises(ValueError, match="'cpu' or 'cuda'"):
        GradScaler("tpu")
    with pytest.raises(TypeError, match="by keyword"):
        GradScaler(1024.0, 2048.0)


@pytest.mark.skipif(backend.is_cuda_usable(), reason="checks the no-GPU behaviour")
def test_cuda_grad_scaler_without_a_gpu_disables_like_torch():
    with pytest.warns(UserWarning, match="CUDA is not usable"):
        scaler = GradScaler("cuda")
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0
    assert GradScaler().is_enabled()                    # left out: on everywhere (gpugrad's)


def test_grad_scaler_setters_change_the_schedule():
    w = gpugrad.tensor([1.0], requires_grad=True)
    opt = gpugrad.optim.SGD([w], lr=0.0)
    scaler = GradScaler("cpu", init_scale=8.0, growth_interval=5)
    scaler.set_growth_factor(3.0)
    scaler.set_backoff_factor(0.25)
    scaler.set_growth_interval(1)
    assert (scaler.get_growth_factor(), scaler.get_backoff_factor(),
            scaler.get_growth_interval()) == (3.0, 0.25, 1)
    scales = []
    for bad in (False, True, False):
        opt.zero_grad()
        scaler.scale((w * (float("inf") if bad else 1.0)).sum()).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    assert scales == [24.0, 6.0, 18.0]                  # 8 * 3, then * 0.25, then * 3


def test_grad_scaler_setters_agree_with_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.amp.GradScaler("cpu", init_scale=8.0)
    mine = GradScaler("cpu", init_scale=8.0)
    for scaler in (theirs, mine):
        scaler.set_growth_factor(3.0)
        scaler.set_backoff_factor(0.25)
        scaler.set_growth_interval(7)
    assert mine.state_dict() == {k: (float(v) if k == "scale" else v)
                                 for k, v in theirs.state_dict().items()}


class _Square(gpugrad.autograd.Function):
    @staticmethod
    @custom_fwd(device_type="cpu", cast_inputs=gpugrad.float32)
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.forward_autocast = amp.is_autocast_enabled()
        return x * x

    @staticmethod
    @custom_bwd(device_type="cpu")
    def backward(ctx, g):
        x, = ctx.saved_tensors
        ctx.backward_autocast = amp.is_autocast_enabled()
        return 2 * x * g


class _Product(gpugrad.autograd.Function):
    @staticmethod
    @custom_fwd(device_type="cpu")
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b                                    # autocast as it is: float16 here

    @staticmethod
    @custom_bwd(device_type="cpu")
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ctx.seen = amp.is_autocast_enabled()             # the forward's state: on
        return g @ b.T, a.T @ g


def test_custom_fwd_casts_inputs_and_turns_autocast_off():
    x = gpugrad.tensor([3.0], dtype="float16", requires_grad=True)
    with autocast("cpu", dtype="float16"):
        y = _Square.apply(x)
    assert str(y.dtype) == "float32" and y.item() == 9.0
    assert y.grad_fn.forward_autocast is False
    y.sum().backward()
    assert y.grad_fn.backward_autocast is False         # cast_inputs: forward ran without
    assert x.grad.item() == 6.0 and str(x.grad.dtype) == "float16"
    z = _Square.apply(x)                                # outside autocast: nothing is cast
    assert str(z.dtype) == "float16"


def test_custom_bwd_runs_under_the_forwards_autocast_state():
    a = gpugrad.ones(2, 3, requires_grad=True)
    b = gpugrad.ones(3, 4, requires_grad=True)
    with autocast("cpu", dtype="float16"):
        out = _Product.apply(a, b)
    assert str(out.dtype) == "float16"
    out.float().sum().backward()
    assert out.grad_fn.seen is True and not amp.is_autocast_enabled()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 4.0))
    with pytest.raises(ValueError, match="'cpu' or 'cuda'"):
        custom_fwd(device_type="tpu")
