"""The bookkeeping of the fused multi-tensor optimizer path (gpugrad/optim/multi_tensor.py)
checked without a GPU: which parameters share a launch, the first momentum step, Adam's
per-tensor step counts, the hyperparameters, learning rates changed by a scheduler, and
what a recorded CUDA graph does around each replay.

The device side is NumPy (tests/optim_emulation.py, the ``emulated`` fixture): the real
slots of gpugrad/optim/multi_tensor.py on NumPy arrays, tables that hand the kernels the
arrays themselves, and kernels that do what kernels/optim.cu's comments say. While
"recording", the emulated kernels are not run but kept, as a CUDA graph keeps them, and
every replay runs them again on whatever the arrays hold then. Trajectories must equal the
reference optimizer (``_update``, one parameter at a time). The kernels themselves still
owe a run on a GPU against the same reference.
"""

import functools

import numpy as np
import pytest

import gpugrad
from gpugrad import optim
from gpugrad.autograd import capture_mode
from gpugrad.cuda import CaptureError
from gpugrad.optim import multi_tensor

from optim_emulation import launches, recorded


def model_params(rng):
    params = [gpugrad.tensor(rng.standard_normal(s), requires_grad=True)
              for s in ((3, 4), (4,), (2, 2))]
    params.append(gpugrad.tensor(rng.standard_normal(5), dtype="float32", requires_grad=True))
    return params


def set_grads(params, rng, skip=()):
    for i, p in enumerate(params):
        p.grad = None if i in skip else gpugrad.tensor(rng.standard_normal(p.shape),
                                                       dtype=p.dtype)


def trajectory(make_optimizer, steps=4):
    """Parameters after each step; the second parameter misses its gradient at step 2, so
    it joins the momentum / step-count state one step late."""
    rng = np.random.default_rng(0)
    params = model_params(rng)
    opt = make_optimizer(params)
    schedule = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = []
    for step in range(steps):
        set_grads(params, rng, skip=(1,) if step == 1 else ())
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


def reference(name, run):
    with pytest.MonkeyPatch.context() as undo:
        undo.setattr(multi_tensor, "fusable", lambda p: False)
        return run(OPTIMIZERS[name])


def assert_same(fused, expected):
    for f_step, r_step in zip(fused, expected):
        for f, r in zip(f_step, r_step):
            np.testing.assert_allclose(f, r, rtol=1e-6 if f.dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fused_bookkeeping_gives_the_reference_trajectory(name, emulated):
    fused, opt, params = trajectory(OPTIMIZERS[name])
    assert launches, "the fused path did not run"
    expected, _, _ = reference(name, trajectory)
    assert_same(fused, expected)
    if name.startswith("adam"):
        assert [opt.state[id(p)]["step"] for p in params] == [4, 3, 4, 4]


def test_one_bucket_per_group_device_and_dtype(emulated):
    trajectory(OPTIMIZERS["adam"], steps=2)
    # each step: float64 (3 tensors, 2 when one has no gradient) and float32 (1)
    assert launches == [("adam", 3), ("adam", 1), ("adam", 2), ("adam", 1)]
    launches.clear()
    trajectory(OPTIMIZERS["sgd_nesterov"], steps=2)   # new buffers: one launch of their own
    assert launches == [("sgd", 3), ("sgd", 1), ("sgd", 2), ("sgd", 1)]


def recorded_trajectory(make_optimizer, eager_steps=2, replays=4):
    """Eager steps, then one recorded step and replays of it with fresh gradients written
    into the same buffers, a scheduler changing the learning rate in between."""
    rng = np.random.default_rng(1)
    params = model_params(rng)
    opt = make_optimizer(params)
    schedule = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = []
    for _ in range(eager_steps):
        set_grads(params, rng)
        opt.step()
        schedule.step()
        history.append([p.numpy().copy() for p in params])
    records = None
    graphed = multi_tensor.fusable(params[0])         # False: the reference, all eager
    for i in range(replays + 1):
        fresh = [rng.standard_normal(p.shape).astype(p.dtype) for p in params]
        for p, g in zip(params, fresh):
            p.grad._array[...] = g                    # the graph's static gradient buffers
        if not graphed:
            opt.step()
            schedule.step()
            history.append([p.numpy().copy() for p in params])
            continue
        if records is None:
            with capture_mode.capture_rules(recording=True):
                opt.step()                            # kept, not run
                records = capture_mode.recorded_participants()
        for participant in records:
            participant.before_replay()
        for run in recorded:
            run()
        for participant in records:
            participant.after_replay()
        schedule.step()
        history.append([p.numpy().copy() for p in params])
    return history, opt, params


@pytest.mark.parametrize("eager_steps", [1, 2])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_replays_follow_the_learning_rate_and_count_their_steps(name, eager_steps, emulated):
    """One eager step before the recording is what graph()'s default warm-up gives: the
    state buffers are new at that step (SGD's momentum: buf = grad), and the recording must
    still find the steady-state table ready."""
    run = functools.partial(recorded_trajectory, eager_steps=eager_steps)
    fused, opt, params = run(OPTIMIZERS[name])
    expected, _, _ = reference(name, run)
    assert len(fused) == eager_steps + 5
    assert_same(fused, expected)
    if name.startswith("adam"):
        assert all(opt.state[id(p)]["step"] == eager_steps + 5 for p in params)


def test_recording_refuses_what_it_cannot_replay(emulated):
    rng = np.random.default_rng(2)
    params = model_params(rng)
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    set_grads(params, rng)
    recording = capture_mode.capture_rules
    with recording(True), pytest.raises(CaptureError, match="eager step first"):
        opt.step()                                    # momentum buffers do not exist yet
    opt.step()
    set_grads(params, rng)                            # new gradient buffers: a new table
    with recording(True), pytest.raises(CaptureError, match="differ from the eager step"):
        opt.step()
    adam = optim.Adam(params, lr=0.1)
    with recording(True), pytest.raises(CaptureError, match="eager step first"):
        adam.step()


def test_kernels_off_means_the_reference_path(emulated, monkeypatch):
    monkeypatch.setattr(gpugrad.cuda, "_fused", False)
    trajectory(OPTIMIZERS["sgd"], steps=1)
    assert launches == []
