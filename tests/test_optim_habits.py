"""optimizer.add_param_group, as PyTorch's: defaults filled in, a parameter in one group
only, state made lazily, state dicts with several groups, and the fused multi-tensor path
picking up new groups. References: float64 NumPy written from the documented updates, and
PyTorch where the venv has it (an optional extra check)."""

import copy
import pickle

import numpy as np
import pytest

import gpugrad
from gpugrad import optim

from optim_emulation import launches
from test_optim import adam_reference, gradient, loss_of, sgd_reference

OPTIONS = {"SGD": dict(lr=0.05, momentum=0.9), "Adam": dict(lr=0.1),
           "AdamW": dict(lr=0.1, weight_decay=0.05)}
GROUP = {"SGD": dict(lr=0.01), "Adam": dict(lr=0.02, betas=(0.8, 0.99)),
         "AdamW": dict(lr=0.03)}


def leaf(values=(1.0, 1.0, 1.0)):
    return gpugrad.tensor(list(values), dtype="float64", requires_grad=True)


def step_all(opt, params):
    opt.zero_grad()
    for p in params:
        loss_of(p).backward()
    opt.step()


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_add_param_group_fills_defaults_and_keeps_overrides(name):
    cls = getattr(optim, name)
    a, b = leaf(), leaf()
    opt = cls([a], **OPTIONS[name])
    assert opt.add_param_group({"params": b, **GROUP[name]}) is None      # a single tensor
    first, second = opt.param_groups
    assert len(second["params"]) == 1 and second["params"][0] is b
    assert set(second) == set(first)                                     # every default
    for key, value in first.items():
        if key != "params":
            assert second[key] == GROUP[name].get(key, opt.defaults[key]), key
    assert b not in opt.state                                            # made lazily


def test_add_param_group_errors_say_what_is_wrong():
    a, b = leaf(), leaf()
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match=r"shape \(3,\) is already in parameter group 0"):
        opt.add_param_group({"params": [b, a]})
    assert len(opt.param_groups) == 1                    # nothing was added
    with pytest.raises(ValueError, match="appears twice in the same parameter group"):
        opt.add_param_group({"params": [b, b]})
    with pytest.raises(TypeError, match="takes a dict"):
        opt.add_param_group([b])
    with pytest.raises(KeyError, match="no 'params' key"):
        opt.add_param_group({"lr": 0.1})
    with pytest.raises(TypeError, match="ordered collection"):
        opt.add_param_group({"params": {b}})
    with pytest.raises(ValueError, match="leaf tensors"):
        opt.add_param_group({"params": [b * 2]})
    with pytest.raises(ValueError, match="already in parameter group 0"):
        optim.Adam([{"params": [a]}, {"params": [a]}])


def test_new_group_trains_with_its_own_hyperparameters_from_its_first_step():
    # a: SGD momentum from step 1; b joins at step 3 with lr 0.01: its momentum buffer
    # starts then (b = g at its first step), as in PyTorch
    a, b = leaf(), leaf((2.0, -1.0, 0.5))
    opt = optim.SGD([a], lr=0.05, momentum=0.9)
    for _ in range(2):
        step_all(opt, [a])
    opt.add_param_group({"params": [b], "lr": 0.01})
    for _ in range(3):
        step_all(opt, [a, b])
    np.testing.assert_allclose(a.numpy(), sgd_reference(0.05, momentum=0.9, steps=5),
                               rtol=1e-13)
    expected, buf = np.array([2.0, -1.0, 0.5]), None
    for _ in range(3):
        g = gradient(expected)
        buf = g if buf is None else 0.9 * buf + g
        expected = expected - 0.01 * buf
    np.testing.assert_allclose(b.numpy(), expected, rtol=1e-13)


def test_adam_group_added_later_counts_its_own_steps():
    a, b = leaf(), leaf()
    opt = optim.Adam([a], lr=0.1)
    for _ in range(3):
        step_all(opt, [a])
    opt.add_param_group({"params": [b], "lr": 0.05})
    for _ in range(4):
        step_all(opt, [a, b])
    assert opt.state[a]["step"] == 7 and opt.state[b]["step"] == 4
    np.testing.assert_allclose(a.numpy(), adam_reference(0.1, steps=7), rtol=1e-12)
    np.testing.assert_allclose(b.numpy(), adam_reference(0.05, steps=4), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_state_dict_round_trip_with_several_groups(name):
    cls = getattr(optim, name)

    def build(params):
        opt = cls([params[0]], **OPTIONS[name])
        opt.add_param_group({"params": [params[1]], **GROUP[name]})
        opt.add_param_group({"params": [params[2]], "weight_decay": 0.1})
        return opt

    straight = [leaf(), leaf((0.0, 2.0, -1.0)), leaf((3.0, 3.0, 3.0))]
    opt = build(straight)
    for _ in range(6):
        step_all(opt, straight)
    first = [leaf(), leaf((0.0, 2.0, -1.0)), leaf((3.0, 3.0, 3.0))]
    opt = build(first)
    for _ in range(3):
        step_all(opt, first)
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1], [2]]
    assert saved["param_groups"][1]["lr"] == GROUP[name]["lr"]
    second = [leaf(p.numpy()) for p in first]
    resumed = cls([second[0]], **OPTIONS[name])          # groups added, then loaded
    resumed.add_param_group({"params": [second[1]]})
    resumed.add_param_group({"params": [second[2]]})
    resumed.load_state_dict(saved)
    assert [g["lr"] for g in resumed.param_groups] == [g["lr"] for g in opt.param_groups]
    for _ in range(3):
        step_all(resumed, second)
    for p, q in zip(second, straight):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    fewer = cls([leaf()], **OPTIONS[name])
    with pytest.raises(ValueError, match="3 parameter groups, this optimizer has 1"):
        fewer.load_state_dict(saved)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_optimizer_keeps_the_state_of_the_copied_parameters(how):
    # state is keyed by the parameters; a copy made together with them (as PyTorch's
    # copy.deepcopy((model, opt))) continues exactly as the original
    a, b = leaf(), leaf((0.0, 2.0, -1.0))
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.05})
    for _ in range(2):
        step_all(opt, [a, b])
    duplicate = copy.deepcopy if how == "deepcopy" else (
        lambda obj: pickle.loads(pickle.dumps(obj)))
    (a2, b2), opt2 = duplicate(([a, b], opt))
    assert opt2.state[a2]["step"] == 2 and opt2.state[b2]["step"] == 2
    assert opt2.state[a2]["exp_avg"] is not opt.state[a]["exp_avg"]
    for _ in range(3):
        step_all(opt, [a, b])
        step_all(opt2, [a2, b2])
    np.testing.assert_array_equal(a2.numpy(), a.numpy())
    np.testing.assert_array_equal(b2.numpy(), b.numpy())
    assert opt.state[a]["step"] == 5 == opt2.state[a2]["step"]


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_fused_path_picks_up_a_new_group(name, emulated):
    def trajectory(use_fused):
        from gpugrad.optim import multi_tensor
        with pytest.MonkeyPatch.context() as undo:
            if not use_fused:
                undo.setattr(multi_tensor, "fusable", lambda p: False)
            a, b = leaf(), leaf((2.0, -1.0, 0.5))
            opt = getattr(optim, name)([a], **OPTIONS[name])
            step_all(opt, [a])
            opt.add_param_group({"params": [b], **GROUP[name]})
            for _ in range(3):
                step_all(opt, [a, b])
            return a.numpy(), b.numpy()

    launches.clear()
    fused = trajectory(True)
    kind = name.lower()
    # one launch (of one tensor) for the first step, then one per group each step: the
    # new group has a bucket of its own from its first step
    assert launches == [(kind, 1)] * (1 + 2 * 3)
    launches.clear()
    expected = trajectory(False)
    assert not launches
    for f, r in zip(fused, expected):
        np.testing.assert_allclose(f, r, rtol=1e-13)


def test_add_param_group_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    start_a, start_b = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.3])
    ours_a, ours_b = leaf(start_a), leaf(start_b)
    theirs_a = torch.tensor(start_a, requires_grad=True)
    theirs_b = torch.tensor(start_b, requires_grad=True)
    for cls, torch_cls in ((optim.SGD, torch.optim.SGD), (optim.Adam, torch.optim.Adam)):
        options = dict(lr=0.1, momentum=0.9) if cls is optim.SGD else dict(lr=0.1)
        ours = cls([ours_a], **options)
        theirs = torch_cls([theirs_a], **options)
        for opt, params, lib in ((ours, (ours_a, ours_b), gpugrad),
                                 (theirs, (theirs_a, theirs_b), torch)):
            opt.add_param_group({"params": [params[1]], "lr": 0.02})
            for _ in range(4):
                opt.zero_grad()
                ((params[0] ** 2).sum() + (lib.exp(params[1]) * params[1]).sum()).backward()
                opt.step()
        assert [g["lr"] for g in ours.param_groups] == [g["lr"] for g in theirs.param_groups]
        np.testing.assert_allclose(ours_a.numpy(), theirs_a.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours_b.numpy(), theirs_b.detach().numpy(), rtol=1e-12)
