"""The bookkeeping of the fused multi-tensor optimizer path (gpugrad/optim/multi_tensor.py)
checked without a GPU: which parameters share a launch, the first momentum step, Adam's
step counts, the order of the hyperparameters, learning rates changed by a scheduler.

The kernel launches are replaced by NumPy code that does what kernels/optim.cu's comments
say each kernel does, on the same tables; trajectories must equal the reference optimizer
(``_update``, one parameter at a time). The kernels themselves are held to the reference
on a GPU by tests/test_cuda_kernels.py.
"""

import numpy as np
import pytest

import gpugrad
from gpugrad import optim
from gpugrad.cuda import launch_optim
from gpugrad.optim import multi_tensor

launches = []


def sgd_multi(table, hyper, nesterov, first):
    launches.append(("sgd", len(table["params"])))
    lr, momentum, dampening, decay = hyper
    for k, p in enumerate(table["params"]):
        g = table["grads"][k] + decay * p if decay else table["grads"][k]
        if "bufs" in table:
            b = table["bufs"][k]
            b[...] = g if first else b * momentum + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p -= lr * g


def adam_prepare(hyper, steps):
    steps[0] += 1
    hyper[5] = 1 - hyper[1] ** steps[0]
    hyper[6] = 1 - hyper[2] ** steps[0]


def adam_multi(table, hyper, decoupled):
    launches.append(("adam", len(table["params"])))
    lr, beta1, beta2, eps, decay, c1, c2 = hyper
    for k, p in enumerate(table["params"]):
        g = table["grads"][k]
        if decay and decoupled:
            p *= 1 - lr * decay
        elif decay:
            g = g + decay * p
        m, v = table["exp_avg"][k], table["exp_avg_sq"][k]
        m[...] = m * beta1 + (1 - beta1) * g
        v[...] = v * beta2 + (1 - beta2) * g * g
        p -= (m / (np.sqrt(v / c2) + eps)) * (lr / c1)


@pytest.fixture
def emulated(monkeypatch):
    """The fused path on NumPy arrays, with the launches emulated."""
    launches.clear()
    monkeypatch.setattr(multi_tensor, "fusable", lambda p: True)
    monkeypatch.setattr(multi_tensor, "table_for", lambda slot, roles: roles)

    def upload(slot, values, like, capturing):
        slot.hyper = np.array(values, np.float64)
        return slot.hyper

    def step_counter(slot, t, like, capturing):
        slot.steps = np.array([t], np.int64)
        return slot.steps

    monkeypatch.setattr(multi_tensor, "upload", upload)
    monkeypatch.setattr(multi_tensor, "step_counter", step_counter)
    for name, fn in (("sgd_multi", sgd_multi), ("adam_prepare", adam_prepare),
                     ("adam_multi", adam_multi)):
        monkeypatch.setattr(launch_optim, name, fn)


def trajectory(make_optimizer, steps=4):
    """Parameters after each step of a model whose second parameter misses a gradient at
    step 2 (so it joins the momentum / step-count state one step late)."""
    rng = np.random.default_rng(0)
    params = [gpugrad.tensor(rng.standard_normal(s), requires_grad=True)
              for s in ((3, 4), (4,), (2, 2))]
    params.append(gpugrad.tensor(rng.standard_normal(5), dtype="float32", requires_grad=True))
    opt = make_optimizer(params)
    schedule = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = []
    for step in range(steps):
        for i, p in enumerate(params):
            p.grad = None if (step == 1 and i == 1) else gpugrad.tensor(
                rng.standard_normal(p.shape), dtype=p.dtype)
        opt.step()
        schedule.step()
        history.append([p.numpy().copy() for p in params])
    return history, opt, params


OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd_momentum_decay": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1,
                                               weight_decay=0.01),
    "sgd_nesterov": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.1),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01, betas=(0.8, 0.99)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fused_bookkeeping_gives_the_reference_trajectory(name, emulated):
    fused, opt, params = trajectory(OPTIMIZERS[name])
    assert launches, "the fused path did not run"
    with pytest.MonkeyPatch.context() as undo:
        undo.setattr(multi_tensor, "fusable", lambda p: False)
        reference, ref_opt, _ = trajectory(OPTIMIZERS[name])
    for f_step, r_step in zip(fused, reference):
        for f, r in zip(f_step, r_step):
            np.testing.assert_allclose(f, r, rtol=1e-6 if f.dtype == np.float32 else 1e-13)
    if name.startswith("adam"):
        assert [opt.state[id(p)]["step"] for p in params] == [4, 3, 4, 4]


def test_one_launch_per_dtype_and_state(emulated):
    trajectory(OPTIMIZERS["adam"], steps=2)
    # step 1: float64 (3 tensors) and float32 (1); step 2: float64 at t=1 (2), the tensor
    # that skipped step 2 has no launch, float32 (1)
    assert launches == [("adam", 3), ("adam", 1), ("adam", 2), ("adam", 1)]


def test_kernels_off_means_the_reference_path(emulated, monkeypatch):
    monkeypatch.setattr(gpugrad.cuda, "_fused", False)
    trajectory(OPTIMIZERS["sgd"], steps=1)
    assert launches == []


def test_moved_gradients_inside_a_capture_are_refused(monkeypatch):
    from gpugrad.cuda import graphs
    slot = multi_tensor._Slot()
    monkeypatch.setattr(graphs._state, "active", True)
    with pytest.raises(graphs.CaptureError, match="set_to_none=False"):
        multi_tensor.table_for(slot, {"params": [], "grads": []})
