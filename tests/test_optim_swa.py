"""``gpugrad.optim.swa_utils`` (review s22, F10): AveragedModel (running mean, EMA by
``multi_avg_fn`` or ``avg_fn``, ``use_buffers``), SWALR and update_bn, against values
derived by hand and in float64 NumPy, and against torch's swa_utils where installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad import nn, optim
from gpugrad.optim.swa_utils import (SWALR, AveragedModel, get_ema_avg_fn, get_ema_multi_avg_fn,
                                     get_swa_avg_fn, update_bn)

WEIGHTS = [np.array([[1.0, -2.0]]), np.array([[3.0, 0.5]]), np.array([[-1.0, 4.0]]),
           np.array([[2.0, 2.0]])]


def _set(model, lib, values):
    with lib.no_grad():
        model.weight.copy_(lib.tensor(values, dtype=model.weight.dtype))


def _averaged(make, lib=gpugrad, model=None):
    """The averaged weight after each of WEIGHTS, with ``make(model)`` the AveragedModel."""
    model = model if model is not None else (nn if lib is gpugrad else lib.nn).Linear(
        2, 1, bias=False)
    averaged = make(model)
    out = []
    for values in WEIGHTS:
        _set(model, lib, values)
        averaged.update_parameters(model)
        out.append(np.array(averaged.module.weight.detach().numpy()))
    return out, averaged


def test_the_default_is_the_running_mean():
    got, averaged = _averaged(AveragedModel)
    for k, value in enumerate(got):
        np.testing.assert_allclose(value, np.mean(WEIGHTS[:k + 1], axis=0), rtol=1e-6)
    assert int(averaged.n_averaged) == 4 and str(averaged.n_averaged.dtype) == "int64"
    x = gpugrad.tensor([[1.0, 1.0]])
    assert averaged(x).item() == pytest.approx(float(np.mean(WEIGHTS, axis=0).sum()))


@pytest.mark.parametrize("kind", ["multi", "single"])
def test_ema_by_hand(kind):
    decay = 0.75
    make = (lambda m: AveragedModel(m, multi_avg_fn=get_ema_multi_avg_fn(decay))) \
        if kind == "multi" else (lambda m: AveragedModel(m, avg_fn=get_ema_avg_fn(decay)))
    got, _ = _averaged(make)
    ema = WEIGHTS[0]
    np.testing.assert_allclose(got[0], ema)
    for value, w in zip(got[1:], WEIGHTS[1:]):
        ema = decay * ema + (1 - decay) * w
        np.testing.assert_allclose(value, ema, rtol=1e-6)


def test_a_swa_avg_fn_equals_the_default():
    got, _ = _averaged(lambda m: AveragedModel(m, avg_fn=get_swa_avg_fn()))
    want, _ = _averaged(AveragedModel)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        AveragedModel(nn.Linear(1, 1), avg_fn=get_swa_avg_fn(),
                      multi_avg_fn=get_ema_multi_avg_fn())
    with pytest.raises(ValueError, match=r"in \[0,1\] range"):
        get_ema_multi_avg_fn(1.5)


def test_buffers_are_copied_or_averaged():
    model = nn.BatchNorm1d(1)
    copied = AveragedModel(model)
    averaged = AveragedModel(model, use_buffers=True)
    for mean in (2.0, 4.0):
        with gpugrad.no_grad():
            model.running_mean.fill_(mean)
        copied.update_parameters(model)
        averaged.update_parameters(model)
    assert copied.module.running_mean.item() == 4.0             # the model's, as it is
    assert averaged.module.running_mean.item() == 3.0           # the mean of 2 and 4


def test_update_bn_recomputes_the_statistics_in_one_pass():
    model = nn.Sequential(nn.Linear(1, 1), nn.BatchNorm1d(1))
    with gpugrad.no_grad():
        model[0].weight.fill_(2.0)
        model[0].bias.fill_(1.0)
        model[1].running_mean.fill_(100.0)
    model.eval()
    data = [np.array([[0.0], [1.0]]), np.array([[2.0], [5.0], [8.0]])]
    loader = [(gpugrad.tensor(x, dtype="float32"), 0) for x in data]      # (input, label)
    update_bn(loader, model)
    bn = model[1]
    hidden = [2 * x + 1 for x in data]              # cumulative average over the 2 batches
    mean = np.mean([h.mean() for h in hidden])
    var = np.mean([h.var(ddof=1) for h in hidden])
    assert bn.running_mean.item() == pytest.approx(mean, rel=1e-6)
    assert bn.running_var.item() == pytest.approx(var, rel=1e-6)
    assert bn.momentum == 0.1 and not model.training
    update_bn(loader, nn.Linear(1, 1))               # no BatchNorm: nothing to do


def _swalr_lrs(lib, strategy, anneal_epochs, steps=8, swa_lr=0.05):
    w = lib.zeros(1, requires_grad=True)
    opt = lib.optim.SGD([w], lr=1.0)
    swa = (SWALR if lib is gpugrad else lib.optim.swa_utils.SWALR)(
        opt, swa_lr=swa_lr, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()
        swa.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def test_swalr_by_hand():
    # linear, 4 epochs: lr_k = swa_lr * k/4 + 1 * (1 - k/4), then swa_lr
    want = [1.0] + [0.05 * min(k, 4) / 4 + (1 - min(k, 4) / 4) for k in range(1, 9)]
    np.testing.assert_allclose(_swalr_lrs(gpugrad, "linear", 4), want, rtol=1e-12)
    cos = [1.0] + [0.05 * a + (1 - a) for a in
                   ((1 - np.cos(np.pi * min(k, 4) / 4)) / 2 for k in range(1, 9))]
    np.testing.assert_allclose(_swalr_lrs(gpugrad, "cos", 4), cos, rtol=1e-12)
    np.testing.assert_allclose(_swalr_lrs(gpugrad, "cos", 0, steps=2), [0.05] * 3)  # at once
    with pytest.raises(ValueError, match="anneal_strategy"):
        _swalr_lrs(gpugrad, "step", 4)


def test_swalr_state_dict_round_trip():
    opt = optim.SGD([gpugrad.zeros(1, requires_grad=True)], lr=1.0)
    sched = SWALR(opt, swa_lr=[0.1], anneal_epochs=3, anneal_strategy="linear")
    opt.step()
    sched.step()
    saved = sched.state_dict()
    assert "anneal_func" not in saved and saved["_anneal_strategy"] == "linear"
    other = SWALR(opt, swa_lr=0.1, anneal_epochs=3)
    other.load_state_dict(saved)
    assert other.anneal_func(0.5) == 0.5 and other._step_count == sched._step_count


def test_swa_agrees_with_torch():
    torch = pytest.importorskip("torch")
    for strategy, epochs in (("cos", 3), ("linear", 5), ("cos", 0)):
        np.testing.assert_allclose(_swalr_lrs(gpugrad, strategy, epochs),
                                   _swalr_lrs(torch, strategy, epochs), rtol=1e-13)
    swa = torch.optim.swa_utils
    cases = [(AveragedModel, swa.AveragedModel),
             (lambda m: AveragedModel(m, multi_avg_fn=get_ema_multi_avg_fn(0.9)),
              lambda m: swa.AveragedModel(m, multi_avg_fn=swa.get_ema_multi_avg_fn(0.9))),
             (lambda m: AveragedModel(m, avg_fn=get_ema_avg_fn(0.6)),
              lambda m: swa.AveragedModel(m, avg_fn=swa.get_ema_avg_fn(0.6)))]
    for mine, theirs in cases:
        got, _ = _averaged(mine)
        want, _ = _averaged(theirs, torch)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_running_mean_on_each_device(device, dtype):
    # (re-review C, R4: the count divides the device's arrays as a scalar, which CuPy takes;
    # a 0-d NumPy array, as before, is refused by CuPy)
    model = nn.Linear(2, 1, bias=False).to(device=device, dtype=dtype)
    averaged = AveragedModel(model)
    for values in WEIGHTS:
        with gpugrad.no_grad():
            model.weight.copy_(gpugrad.tensor(values, dtype=dtype, device=device))
        averaged.update_parameters(model)
    weight = averaged.module.weight
    assert str(weight.device).startswith(device) and str(weight.dtype) == dtype
    np.testing.assert_allclose(weight.detach().cpu().numpy(), np.mean(WEIGHTS, axis=0),
                               rtol=1e-6)
