"""Mixed precision (gpugrad.amp): autocast's casts against float64 NumPy of the rounded
inputs, GradScaler's dynamic loss scaling step by step (and against PyTorch's, recorded in
tests/fixtures/grad_scaler_torch.json), and a teacher task trained in float16 + loss
scaling against float32."""

import threading
from pathlib import Path

import numpy as np
import pytest

import gpugrad
from gpugrad import amp, nn, optim
from gpugrad.data import synthetic
from gpugrad.nn import functional as F
from conftest import to_numpy

F16, F32, F64 = np.float16, np.float32, np.float64


def _rounded(a):
    """float64 copy of the float16 rounding of ``a`` (what autocast feeds the product)."""
    return to_numpy(a).astype(F16).astype(F64)


def _assert_fp16_close(out, ref, bound):
    """``out`` within two float16 roundings (2**-10 relative) of ``bound``, the sum of the
    magnitudes that went into each entry: the product's and the bias add's rounding."""
    err = np.abs(to_numpy(out).astype(F64) - ref)
    assert np.all(err <= 2.0**-10 * bound + 1e-7), err.max()


def _layer(device, rows=8, n_in=32, n_out=16):
    gen = np.random.default_rng(0)
    x = gpugrad.tensor(gen.standard_normal((rows, n_in)).astype(F32), device=device,
                       requires_grad=True)
    w = gpugrad.tensor(gen.standard_normal((n_out, n_in)).astype(F32), device=device,
                       requires_grad=True)
    b = gpugrad.tensor(gen.standard_normal(n_out).astype(F32), device=device,
                       requires_grad=True)
    return x, w, b


# ------------------------------------------------------------------------------ autocast

def test_matmul_family_runs_in_float16_on_the_rounded_inputs(device):
    x, w, b = _layer(device)
    x64, w64, b64 = _rounded(x), _rounded(w), _rounded(b)
    product = x64 @ w64.T
    bound = np.abs(x64) @ np.abs(w64).T + np.abs(b64)
    with amp.autocast("float16"):
        outs = {"linear": F.linear(x, w, b), "linear_relu": F.linear_relu(x, w, b),
                "matmul": gpugrad.matmul(x, w.T), "@": x @ w.T,
                "linear no bias": F.linear(x, w), "1-D @": x[0] @ w.T}
    assert {k: v.dtype for k, v in outs.items()} == {k: np.dtype(F16) for k in outs}
    _assert_fp16_close(outs["linear"], product + b64, bound)
    _assert_fp16_close(outs["linear_relu"], np.maximum(product + b64, 0), bound)
    for name in ("matmul", "@", "linear no bias"):
        _assert_fp16_close(outs[name], product, bound)
    _assert_fp16_close(outs["1-D @"], product[0], bound[0])


def test_float32_master_weights_get_float32_gradients_of_the_float16_products(device):
    x, w, b = _layer(device)
    g = np.random.default_rng(1).standard_normal((8, 16)).astype(F32)
    with amp.autocast("float16"):
        y = F.linear(x, w, b)
    (y * gpugrad.tensor(g, device=device).astype("float16")).sum().backward()
    assert (x.grad.dtype, w.grad.dtype, b.grad.dtype) == (F32, F32, F32)
    g64 = g.astype(F16).astype(F64)
    x64, w64 = _rounded(x), _rounded(w)
    _assert_fp16_close(w.grad, g64.T @ x64, np.abs(g64).T @ np.abs(x64))
    _assert_fp16_close(x.grad, g64 @ w64, np.abs(g64) @ np.abs(w64))
    _assert_fp16_close(b.grad, g64.sum(0), np.abs(g64).sum(0))


def test_losses_run_in_float32_under_autocast(device):
    gen = np.random.default_rng(2)
    logits = gpugrad.tensor(gen.standard_normal((6, 5)).astype(F16), device=device,
                            requires_grad=True)
    labels = gpugrad.tensor(gen.integers(0, 5, 6), device=device)
    target = gpugrad.tensor(gen.standard_normal((6, 5)).astype(F32), device=device)
    with amp.autocast("float16"):
        ce = F.cross_entropy(logits, labels)
        mse = F.mse_loss(logits, target)
        mse_half = F.mse_loss(logits, logits.detach() * 0.5)
    assert (ce.dtype, mse.dtype, mse_half.dtype) == (F32, F32, F32)
    z = to_numpy(logits).astype(F64)
    lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
    ce_ref = np.mean(lse - z[np.arange(6), to_numpy(labels)])
    assert ce.item() == pytest.approx(ce_ref, rel=1e-6)
    assert mse.item() == pytest.approx(np.mean((z - to_numpy(target)) ** 2), rel=1e-6)
    ce.backward()
    assert logits.grad.dtype == F16          # the cast's rule brings it back to float16


def test_float64_integers_and_other_ops_are_left_alone():
    a = gpugrad.randn(3, 4, dtype="float64")
    with amp.autocast("float16"):
        assert (a @ a.T).dtype == F64                # float64 is never cast, as PyTorch
        assert (gpugrad.randn(3) + 1).dtype == F32   # not on the list: as given
        assert F.relu(gpugrad.randn(3)).dtype == F32
        labels = gpugrad.tensor([0, 1])
        assert amp.cast_inputs(labels, None, 2.0) == (labels, None, 2.0)


def test_nesting_decorator_and_threads():
    assert not amp.is_autocast_enabled() and amp.get_autocast_dtype() == gpugrad.float16
    w = gpugrad.randn(4, 4)
    seen = []
    with amp.autocast("float16"):
        assert amp.is_autocast_enabled() and (w @ w).dtype == F16
        with amp.autocast(enabled=False):
            assert not amp.is_autocast_enabled() and (w @ w).dtype == F32
        assert (w @ w).dtype == F16
        thread = threading.Thread(target=lambda: seen.append(amp.is_autocast_enabled()))
        thread.start()
        thread.join()
    assert not amp.is_autocast_enabled() and (w @ w).dtype == F32
    assert seen == [False]                           # per thread, as PyTorch

    @amp.autocast(gpugrad.float16)
    def product(a):
        return a @ a
    assert product(w).dtype == F16 and not amp.is_autocast_enabled()


def test_disabled_autocast_is_an_exact_no_op():
    model = nn.MLP([8, 16, 3])
    x, y = gpugrad.randn(5, 8), gpugrad.tensor([0, 1, 2, 0, 1])
    plain = F.cross_entropy(model(x), y)
    plain.backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    with amp.autocast("float16", enabled=False):
        assert amp.cast_inputs(x, y)[0] is x and amp.cast_inputs_float32(x)[0] is x
        off = F.cross_entropy(model(x), y)
    off.backward()
    assert off.dtype == plain.dtype and off.item() == plain.item()
    for p, g in zip(model.parameters(), grads):
        assert np.array_equal(p.grad.numpy(), g)


def test_bad_dtypes_say_what_to_use():
    for bad in ("float8", "float32", gpugrad.float64, "int8"):
        with pytest.raises(ValueError, match="pass 'float16'"):
            amp.autocast(bad)
        with pytest.raises(ValueError, match="pass 'float16'"):
            amp.autocast("cpu", dtype=bad)
    with pytest.raises(ValueError, match="device_type must be 'cpu' or 'cuda'"):
        amp.autocast("tpu", dtype="float16")
    with pytest.raises(TypeError, match=r"not supported by NumPy.*autocast\('float16'\)"):
        with amp.autocast("bfloat16"):           # raises on entry without a GPU,
            gpugrad.ones(2, 2) @ gpugrad.ones(2, 2)    # and on the CPU tensors with one
    assert not amp.is_autocast_enabled()
    with amp.autocast("bfloat16", enabled=False):    # disabled: nothing to refuse
        assert amp.get_autocast_dtype() == "bfloat16"


def test_backward_inside_autocast_still_gives_float32_gradients():
    w = gpugrad.randn(4, 4, requires_grad=True)
    with amp.autocast("float16"):
        (gpugrad.randn(2, 4) @ w).sum().backward()
    assert w.grad.dtype == F32


# ------------------------------------------------------------------------------ GradScaler

def _one_param(value=1.0):
    """A one-element parameter whose loss ``w * c`` has gradient ``c`` (set per step)."""
    w = gpugrad.tensor([value], requires_grad=True)
    return w, optim.SGD([w], lr=1.0)


def _iteration(scaler, w, opt, c):
    scaler.scale((w * c).sum()).backward()
    scaler.step(opt)
    scaler.update()
    opt.zero_grad()


def test_scale_grows_after_growth_interval_clean_steps():
    w, opt = _one_param()
    scaler = amp.GradScaler(init_scale=4.0, growth_interval=3)
    scales = []
    for _ in range(7):
        _iteration(scaler, w, opt, 0.25)
        scales.append(scaler.get_scale())
    assert scales == [4.0, 4.0, 8.0, 8.0, 8.0, 16.0, 16.0]
    assert w.item() == 1.0 - 7 * 0.25                # every step taken, on true gradients
    assert scaler.state_dict()["_growth_tracker"] == 1


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_non_finite_gradient_skips_the_step_and_backs_off(bad):
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    v = gpugrad.tensor([3.0], requires_grad=True)
    opt = optim.SGD([w, v], lr=0.1, momentum=0.9)
    scaler = amp.GradScaler(init_scale=8.0, growth_interval=2)
    _iteration(scaler, w, opt, gpugrad.tensor([1.0, 1.0]))          # clean: tracker 1
    before = [w.numpy().copy(), v.numpy().copy()]
    momentum = opt.state[id(w)]["momentum_buffer"].numpy().copy()
    scaler.scale((w * gpugrad.tensor([1.0, bad])).sum() + v.sum()).backward()
    assert scaler.step(opt) is None
    scaler.update()
    assert np.array_equal(w.numpy(), before[0]) and np.array_equal(v.numpy(), before[1])
    assert np.array_equal(opt.state[id(w)]["momentum_buffer"].numpy(), momentum)
    assert id(v) not in opt.state                    # never stepped
    assert scaler.get_scale() == 4.0 and scaler.state_dict()["_growth_tracker"] == 0
    opt.zero_grad()
    for expected in (4.0, 8.0):                      # growth_interval clean steps again
        _iteration(scaler, w, opt, gpugrad.tensor([1.0, 1.0]))
        assert scaler.get_scale() == expected


def test_unscale_twice_or_after_step_raises_as_pytorch():
    w, opt = _one_param()
    scaler = amp.GradScaler()
    with pytest.raises(RuntimeError, match="scaler.scale"):
        scaler.step(opt)
    scaler.scale((w * 2.0).sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="Closure"):
        scaler.step(opt, closure=lambda: None)
    scaler.update()
    with pytest.raises(RuntimeError, match="no inf checks"):
        scaler.update()


def test_step_after_a_manual_unscale_does_not_unscale_again():
    w, opt = _one_param(value=10.0)
    scaler = amp.GradScaler(init_scale=2.0**10)
    scaler.scale((w * 3.0).sum()).backward()
    assert w.grad.item() == 3.0 * 2**10
    scaler.unscale_(opt)
    assert w.grad.item() == 3.0                      # the true gradient, e.g. to clip it
    scaler.step(opt)
    assert w.grad.item() == 3.0 and w.item() == 7.0


def test_update_with_new_scale_and_scaling_a_list():
    w, opt = _one_param()
    scaler = amp.GradScaler(init_scale=16.0)
    a, b = scaler.scale([w * 1.0, w * 2.0])
    assert (a.item(), b.item()) == (16.0, 32.0)
    scaler.scale((w * 1.0).sum()).backward()
    scaler.step(opt)
    scaler.update(new_scale=3.0)
    assert scaler.get_scale() == 3.0
    with pytest.raises(TypeError, match="tensor or a list"):
        scaler.scale(3.0)


def test_state_dict_round_trip():
    w, opt = _one_param()
    scaler = amp.GradScaler(init_scale=32.0, growth_factor=4.0, backoff_factor=0.25,
                            growth_interval=3)
    with np.errstate(invalid="ignore"):             # inf * 0 in the backward
        for c in (1.0, np.inf, 1.0):
            _iteration(scaler, w, opt, c)
    saved = scaler.state_dict()
    assert saved == {"scale": 8.0, "growth_factor": 4.0, "backoff_factor": 0.25,
                     "growth_interval": 3, "_growth_tracker": 1}
    other = amp.GradScaler()
    other.load_state_dict(saved)
    assert other.state_dict() == saved
    for c in (1.0, 1.0):                             # both go on alike: grow after two more
        _iteration(scaler, w, opt, c)
        _iteration(other, w, opt, c)
    assert scaler.state_dict() == other.state_dict() and other.get_scale() == 32.0
    with pytest.raises(RuntimeError, match="disabled instance"):
        other.load_state_dict(amp.GradScaler(enabled=False).state_dict())


def test_disabled_scaler_is_an_exact_no_op():
    def train(scaler):
        gpugrad.manual_seed(3)
        model = nn.MLP([6, 8, 3])
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x, y = gpugrad.randn(10, 6), gpugrad.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
        for _ in range(4):
            loss = F.cross_entropy(model(x), y)
            if scaler is None:
                loss.backward()
                opt.step()
            else:
                assert scaler.scale(loss) is loss
                loss.backward()
                scaler.unscale_(opt)
                scaler.step(opt)
                scaler.update()
            opt.zero_grad()
        return [p.numpy().copy() for p in model.parameters()]

    scaler = amp.GradScaler(enabled=False)
    for a, b in zip(train(None), train(scaler)):
        assert np.array_equal(a, b)
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}


def test_scaler_errors_name_the_fix():
    for kwargs in ({"init_scale": 0.0}, {"growth_factor": 1.0}, {"backoff_factor": 1.5},
                   {"growth_interval": 0}):
        with pytest.raises(ValueError, match="GradScaler"):
            amp.GradScaler(**kwargs)
    w = gpugrad.tensor([1.0], dtype="float16", requires_grad=True)
    v = gpugrad.tensor([2.0], requires_grad=True)
    opt = optim.SGD([v, w], lr=0.1)
    scaler = amp.GradScaler(init_scale=8.0)
    scaler.scale((w * 1.0).sum() + v.sum()).backward()
    with pytest.raises(ValueError, match="float16 gradient.*float32 \\(master weights\\)"):
        scaler.step(opt)
    assert v.grad.item() == 8.0                      # nothing unscaled before the error


def _torch_record():
    """tests/fixtures/make_grad_scaler_fixture.py (its driver) and the record it wrote."""
    import importlib.util
    import json
    path = Path(__file__).parent / "fixtures" / "make_grad_scaler_fixture.py"
    spec = importlib.util.spec_from_file_location("make_grad_scaler_fixture", path)
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    return maker, json.loads(maker.FIXTURE.read_text())


def test_scale_sequence_matches_the_recorded_pytorch_gradscaler():
    """Scales, growth tracker, skipped steps, parameters, gradients and momentum step by
    step against torch.amp.GradScaler's, recorded in tests/fixtures (no torch needed)."""
    maker, fixture = _torch_record()
    assert fixture["version"].startswith("2.13.0") and fixture["scenarios"] == maker.SCENARIOS
    assert any(s["skipped"] for r in fixture["records"] for s in r["steps"])
    for scenario, theirs in zip(fixture["scenarios"], fixture["records"]):
        with np.errstate(all="ignore"):                  # inf * 0, overflow in the backward
            maker.assert_same_record(maker.run(scenario, maker.GpugradApi()), theirs)


def test_the_gradscaler_fixture_is_what_pytorch_does_now():
    """Where torch is installed: its GradScaler still gives the recorded sequence."""
    torch = pytest.importorskip("torch")
    maker, fixture = _torch_record()
    for scenario, theirs in zip(fixture["scenarios"], fixture["records"]):
        with np.errstate(all="ignore"):
            maker.assert_same_record(maker.run(scenario, maker.TorchApi(torch)), theirs)


# ------------------------------------------------------------------------------ training

def _train_teacher(mixed: bool, steps: int = 60, batch: int = 128):
    X, y = synthetic(n=1024, features=16, classes=4, hidden=32, seed=0)
    gpugrad.manual_seed(7)
    model = nn.MLP([16, 64, 64, 4])
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = amp.GradScaler(enabled=mixed)
    Xt, yt = gpugrad.tensor(X), gpugrad.tensor(y)
    first = None
    for step in range(steps):
        i = (step * batch) % len(X)
        with amp.autocast("float16", enabled=mixed):
            loss = F.cross_entropy(model(Xt[i:i + batch]), yt[i:i + batch])
        assert loss.dtype == F32
        first = loss.item() if first is None else first
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
    assert all(p.dtype == F32 for p in model.parameters())
    return first, F.cross_entropy(model(Xt), yt).item()      # scored in float32


def test_float16_training_with_loss_scaling_matches_float32():
    """60 SGD steps on a 16-64-64-4 MLP: the float32 final loss is about 0.217 (from 1.39)
    and float16 + GradScaler lands within 0.002 of it; the test allows 0.02."""
    first32, final32 = _train_teacher(mixed=False)
    first16, final16 = _train_teacher(mixed=True)
    assert first16 == pytest.approx(first32, abs=5e-3)
    assert final32 < 0.3 * first32
    assert abs(final16 - final32) < 0.02, (final16, final32)


def test_checkpointed_layers_recompute_under_the_autocast_of_their_first_run():
    gpugrad.manual_seed(0)
    model = gpugrad.nn.MLP([8, 16, 16, 4], checkpoint=2)
    x = gpugrad.randn(5, 8)
    labels = gpugrad.tensor([0, 1, 2, 3, 0])
    with gpugrad.amp.autocast("float16"):
        loss = gpugrad.nn.functional.cross_entropy(model(x), labels)
    loss.backward()                                 # recomputes outside the autocast block
    checkpointed = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    model.checkpoint = None
    with gpugrad.amp.autocast("float16"):
        loss = gpugrad.nn.functional.cross_entropy(model(x), labels)
    loss.backward()
    for a, p in zip(checkpointed, model.parameters()):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, p.grad.numpy())
