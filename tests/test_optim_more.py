"""RMSprop, Adagrad, Adadelta, Adamax, NAdam and RAdam against torch.optim (2.13) in float64:
16 steps of a matrix, a vector and a 0-d parameter in two groups with different learning
rates, some steps without some gradients, every documented option; the same signatures
(names, order, defaults), state entries and state-dict layout; a state dict saved halfway
(through gpugrad.save/load, or saved by torch) continuing the same run. The torch-free
checks (values by hand, errors, compile, capture) are in test_optim_more_by_hand.py."""

import inspect

import numpy as np
import pytest

import gpugrad

from optim_more_cases import (CASE_IDS, CASES, CLASSES, DEFAULT_LR, loss_of,
                              make_optimizer, make_params, train, value)

torch = pytest.importorskip("torch")

STEPS = 16
TORCH_ONLY = {"foreach", "capturable", "differentiable", "fused"}   # switches gpugrad skips


def assert_same_run(ours, theirs, opt, torch_opt):
    """Parameters and every state entry of every parameter equal within float64 rounding."""
    for p, q in zip(ours, theirs):
        assert p.shape == tuple(q.shape) and np.isfinite(p.numpy()).all()
        np.testing.assert_allclose(p.numpy(), value(q), rtol=1e-12, atol=1e-14)
        assert set(opt.state[p]) == set(torch_opt.state[q])
        for key, expected in torch_opt.state[q].items():
            got = opt.state[p][key]
            if key == "step":
                assert isinstance(got, int) and got == expected.item()
            elif key == "mu_product":
                assert isinstance(got, float) and got == expected.item()   # float32 bits
            else:
                assert isinstance(got, gpugrad.Tensor) and got.shape == p.shape, key
                np.testing.assert_allclose(value(got), value(expected), rtol=1e-12,
                                           atol=1e-14, err_msg=key)


@pytest.mark.parametrize("name, options", CASES, ids=CASE_IDS)
def test_sixteen_steps_agree_with_pytorch(name, options):
    ours, theirs = make_params(gpugrad), make_params(torch)
    opt = make_optimizer(gpugrad, name, options, ours)
    torch_opt = make_optimizer(torch, name, options, theirs)
    train(gpugrad, opt, ours, STEPS)
    train(torch, torch_opt, theirs, STEPS)
    assert_same_run(ours, theirs, opt, torch_opt)
    assert opt.state[ours[1]]["step"] == STEPS - 3            # b had no gradient 3 times
    assert not np.allclose(ours[0].numpy(), make_params(gpugrad)[0].numpy())    # it moved


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_signature_defaults_and_state_dict_layout_are_pytorchs(name):
    mine = inspect.signature(CLASSES[name].__init__).parameters
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert [(p.name, p.kind, p.default) for p in mine.values()] == \
        [(p.name, p.kind, p.default) for p in theirs.values()]
    ours, other = make_params(gpugrad), make_params(torch)
    opt, torch_opt = CLASSES[name](ours), getattr(torch.optim, name)(other)
    expected = {k: v for k, v in torch_opt.defaults.items() if k not in TORCH_ONLY}
    assert opt.defaults == expected and opt.defaults["lr"] == DEFAULT_LR[name]
    train(gpugrad, opt, ours, 2)
    train(torch, torch_opt, other, 2)
    mine_sd, their_sd = opt.state_dict(), torch_opt.state_dict()
    assert sorted(mine_sd["state"]) == sorted(their_sd["state"])
    for i, entry in their_sd["state"].items():
        assert set(mine_sd["state"][i]) == set(entry)
    for group, torch_group in zip(mine_sd["param_groups"], their_sd["param_groups"]):
        assert group == {k: v for k, v in torch_group.items() if k not in TORCH_ONLY}


@pytest.mark.parametrize("name, options", CASES[1::2], ids=CASE_IDS[1::2])
def test_a_state_dict_saved_halfway_continues_the_same_run(tmp_path, name, options):
    straight = make_params(gpugrad)
    opt = make_optimizer(gpugrad, name, options, straight)
    train(gpugrad, opt, straight, STEPS)
    first = make_params(gpugrad)
    opt = make_optimizer(gpugrad, name, options, first)
    train(gpugrad, opt, first, 7)
    gpugrad.save(opt.state_dict(), tmp_path / "opt.npz")
    for saved in (opt.state_dict(), gpugrad.load(tmp_path / "opt.npz")):
        starts = dict(zip("Wbs", (p.numpy() for p in first)))
        second = make_params(gpugrad, starts)
        resumed = make_optimizer(gpugrad, name, dict(options, lr=0.123), second)
        resumed.load_state_dict(saved)                       # the saved lrs come back
        for p in second:
            for key, entry in resumed.state[p].items():
                assert isinstance(entry, {"step": int, "mu_product": float}.get(
                    key, gpugrad.Tensor)), key
        train(gpugrad, resumed, second, STEPS - 7, first=7)
        for p, q in zip(second, straight):
            np.testing.assert_array_equal(p.numpy(), q.numpy())
    theirs = make_params(torch)
    torch_opt = make_optimizer(torch, name, options, theirs)
    train(torch, torch_opt, theirs, STEPS)
    assert_same_run(second, theirs, resumed, torch_opt)


@pytest.mark.parametrize("name, options", CASES[::3], ids=CASE_IDS[::3])
def test_a_pytorch_state_dict_resumes_in_gpugrad(name, options):
    theirs = make_params(torch)
    torch_opt = make_optimizer(torch, name, options, theirs)
    train(torch, torch_opt, theirs, 6)
    starts = dict(zip("Wbs", (value(p) for p in theirs)))
    ours = make_params(gpugrad, starts)
    opt = make_optimizer(gpugrad, name, options, ours)
    opt.load_state_dict(torch_opt.state_dict())             # int keys, torch tensors
    train(gpugrad, opt, ours, STEPS - 6, first=6)
    train(torch, torch_opt, theirs, STEPS - 6, first=6)
    assert_same_run(ours, theirs, opt, torch_opt)


def test_adagrad_state_is_made_at_construction_from_the_optimizers_initial_value():
    # torch fills "sum" with the constructor's initial_accumulator_value even for a group
    # that names its own (kept in the group, never read), and for a group added later too
    ours, theirs = make_params(gpugrad), make_params(torch)
    second = {"initial_accumulator_value": 2.0, "lr_decay": 0.5}
    opt = make_optimizer(gpugrad, "Adagrad", dict(lr=0.1, initial_accumulator_value=0.3),
                         ours[:2], second)
    torch_opt = make_optimizer(torch, "Adagrad", dict(lr=0.1, initial_accumulator_value=0.3),
                               theirs[:2], second)
    assert len(opt.state) == len(torch_opt.state) == 2
    assert opt.state_dict()["state"][0]["step"] == 0
    np.testing.assert_array_equal(value(opt.state[ours[1]]["sum"]), [0.3, 0.3, 0.3])
    opt.add_param_group({"params": [ours[2]], "initial_accumulator_value": 5.0})
    torch_opt.add_param_group({"params": [theirs[2]], "initial_accumulator_value": 5.0})
    assert ours[2] not in opt.state and len(torch_opt.state) == 2
    train(gpugrad, opt, ours, STEPS)
    train(torch, torch_opt, theirs, STEPS)
    assert_same_run(ours, theirs, opt, torch_opt)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_closure_and_positional_arguments_as_in_pytorch(name):
    # the first positional options after params, in torch's order
    args = {"RMSprop": (0.01, 0.9, 1e-6, 0.1, 0.5, True), "Adagrad": (0.1, 0.01, 0.1, 0.2),
            "Adadelta": (0.5, 0.8, 1e-5, 0.1), "Adamax": (0.05, (0.8, 0.9), 1e-6, 0.1),
            "NAdam": (0.05, (0.8, 0.9), 1e-6, 0.1, 0.01, True),
            "RAdam": (0.05, (0.8, 0.9), 1e-6, 0.1, True)}[name]
    results = []
    for lib in (gpugrad, torch):
        params = make_params(lib)
        cls = CLASSES[name] if lib is gpugrad else getattr(torch.optim, name)
        opt = cls(params, *args)

        def closure():
            opt.zero_grad()
            loss = loss_of(lib, params)
            loss.backward()
            return loss
        losses = [float(opt.step(closure).item()) for _ in range(10)]
        results.append((losses, [value(p).copy() for p in params]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    for p, q in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)
