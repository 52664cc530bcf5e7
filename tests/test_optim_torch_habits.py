"""Optimizer code written for PyTorch, run on gpugrad: 0-d and one-element parameters,
state dicts of them (through gpugrad.save/load and from torch itself), ``opt.state[p]``,
``step(closure)``, SGD's default lr, ``maximize`` and ``amsgrad`` (which the fused kernels
lack: such groups take the reference update). References: torch 2.x trajectories in float64
where the venv has torch, and values derived by hand from the documented updates."""

import copy

import numpy as np
import pytest

import gpugrad
from gpugrad import nn, optim
from gpugrad.optim import multi_tensor

from optim_emulation import launches

STARTS = {"0-d": 2.0, "1-element": [2.0], "vector": [1.0, -2.0, 0.5]}
CASES = [
    ("SGD", {}),                                                    # torch's default lr
    ("SGD", dict(momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.1)),
    ("Adam", dict(lr=0.1, weight_decay=0.1)),
    ("Adam", dict(lr=0.1, betas=(0.9, 0.5), amsgrad=True)),
    ("Adam", dict(lr=0.1, maximize=True)),
    ("Adam", dict(lr=0.1, betas=(0.8, 0.5), amsgrad=True, maximize=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.1)),
    ("AdamW", dict(lr=0.1, betas=(0.9, 0.5), amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.1, maximize=True)),
]
CASE_IDS = [f"{name}-{'-'.join(options) or 'defaults'}" for name, options in CASES]


def loss_of(p):
    """0.1 p^3 + 1.5 p^2 - 0.7 p summed; written with operators torch and gpugrad share."""
    return (p ** 3 * 0.1 + p * p * 1.5 - p * 0.7).sum()


def gradient(p):
    return 0.3 * p ** 2 + 3.0 * p - 0.7


def ours(start):
    return nn.Parameter(gpugrad.tensor(start, dtype="float64"))


def train(opt, p, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_of(p).backward()
        opt.step()


def torch_run(torch, name, options, start, steps):
    p = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    opt = getattr(torch.optim, name)([p], **options)
    train(opt, p, steps)
    return p, opt


@pytest.mark.parametrize("shape", sorted(STARTS))
@pytest.mark.parametrize("name, options", CASES, ids=CASE_IDS)
def test_twelve_steps_agree_with_pytorch(name, options, shape):
    torch = pytest.importorskip("torch")
    start = STARTS[shape]
    p = ours(start)
    opt = getattr(optim, name)([p], **options)
    train(opt, p, 5)
    opt.load_state_dict(opt.state_dict())       # 0-d state must stay a tensor
    train(opt, p, 7)
    theirs, torch_opt = torch_run(torch, name, options, start, 12)
    assert p.shape == tuple(theirs.shape)
    np.testing.assert_allclose(p.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert set(opt.state[p]) == set(torch_opt.state[theirs])
    for key, value in torch_opt.state[theirs].items():
        value = value.detach().numpy()
        got = opt.state[p][key]
        got = got.numpy() if isinstance(got, gpugrad.Tensor) else got
        np.testing.assert_allclose(got, value, rtol=1e-12, atol=1e-14, err_msg=key)


@pytest.mark.parametrize("name, options", CASES, ids=CASE_IDS)
def test_a_pytorch_state_dict_resumes_in_gpugrad(name, options):
    # torch's state dict: int keys, torch tensors, 'step' a 0-d float tensor
    torch = pytest.importorskip("torch")
    halfway = torch.nn.Parameter(torch.tensor(STARTS["vector"], dtype=torch.float64))
    opt = getattr(torch.optim, name)([halfway], **options)
    scalar = torch.nn.Parameter(torch.tensor(2.0, dtype=torch.float64))
    opt.add_param_group({"params": [scalar]})
    for _ in range(4):
        opt.zero_grad()
        (loss_of(halfway) + loss_of(scalar)).backward()
        opt.step()
    saved = opt.state_dict()
    a, b = ours(halfway.detach().numpy()), ours(scalar.item())
    mine = getattr(optim, name)([a], **options)
    mine.add_param_group({"params": [b]})
    mine.load_state_dict(saved)
    for _ in range(6):
        for o, x, y in ((opt, halfway, scalar), (mine, a, b)):
            o.zero_grad()
            (loss_of(x) + loss_of(y)).backward()
            o.step()
    np.testing.assert_allclose(a.numpy(), halfway.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.numpy(), scalar.detach().numpy(), rtol=1e-12, atol=1e-14)
    if "Adam" in name:
        assert mine.state[a]["step"] == 10 and isinstance(mine.state[b]["step"], int)


def test_closure_trajectories_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    for name, options in CASES[1::3]:
        results = []
        for lib, p in ((gpugrad, ours([1.0, -2.0, 0.5])),
                       (torch, torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5],
                                                               dtype=torch.float64)))):
            opt = getattr(lib.optim, name)([p], **options)

            def closure():
                opt.zero_grad()
                loss = loss_of(p)
                loss.backward()
                return loss
            losses = [float(opt.step(closure).item()) for _ in range(10)]
            results.append((losses, p.detach().numpy().copy()))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- torch-free, by hand
def test_zero_d_adam_and_sgd_by_hand():
    # Adam's first step is lr * g / (|g| + eps); SGD momentum: b = g, then b = 0.9 b + g
    s = ours(2.0)
    opt = optim.Adam([s], lr=0.1)
    (s * s).backward()
    opt.step()
    assert s.shape == () and s.item() == pytest.approx(2.0 - 0.1 * 4.0 / (4.0 + 1e-8),
                                                       rel=1e-15)
    s = ours(2.0)
    opt = optim.SGD([s], lr=0.1, momentum=0.9)
    (s * s).backward()                          # g = 4, b = 4, s = 1.6
    opt.step()
    opt.load_state_dict(opt.state_dict())
    assert isinstance(opt.state[s]["momentum_buffer"], gpugrad.Tensor)
    opt.zero_grad()
    (s * s).backward()                          # g = 3.2, b = 3.6 + 3.2, s = 1.6 - 0.68
    opt.step()
    assert s.item() == pytest.approx(0.92, rel=1e-14)
    assert opt.state[s]["momentum_buffer"].item() == pytest.approx(6.8, rel=1e-14)


def test_sgd_default_lr_and_maximize_by_hand():
    p = ours([1.0, -3.0])
    opt = optim.SGD([p])
    assert opt.defaults["lr"] == 1e-3 and opt.defaults["maximize"] is False
    (p * p).sum().backward()                    # g = 2p
    opt.step()
    np.testing.assert_allclose(p.numpy(), [1.0 - 2e-3, -3.0 + 6e-3], rtol=1e-15)
    q = ours([1.0, -3.0])
    opt = optim.SGD([q], lr=0.1, weight_decay=0.5, maximize=True)
    (q * q).sum().backward()                    # p - lr * (-g + 0.5 p) = p + 0.2 p - 0.05 p
    opt.step()
    np.testing.assert_allclose(q.numpy(), [1.15, -3.45], rtol=1e-15)


def test_adam_maximize_and_amsgrad_by_hand():
    # maximize: the first step moves by +lr * sign(g). amsgrad: after a step with g = 0 the
    # second moment falls, but the denominator keeps the largest one (0.5 * 16 = 8)
    p = ours([3.0])
    opt = optim.Adam([p], lr=0.5, maximize=True)
    (p * 4.0).sum().backward()
    opt.step()
    assert p.item() == pytest.approx(3.0 + 0.5 * 4.0 / (4.0 + 1e-8), rel=1e-15)
    finals = {}
    for amsgrad in (False, True):
        p = ours([3.0])
        opt = optim.Adam([p], lr=0.5, betas=(0.5, 0.5), amsgrad=amsgrad)
        for g in (4.0, 0.0):
            p.grad = gpugrad.tensor([g], dtype="float64")
            opt.step()
        finals[amsgrad] = p.item()
    m2, c1, c2 = 0.5 * 0.5 * 4.0, 1 - 0.5 ** 2, 1 - 0.5 ** 2
    first = 3.0 - 0.5 * 4.0 / (4.0 + 1e-8)
    for amsgrad, v in ((False, 0.5 * 8.0), (True, 8.0)):
        want = first - 0.5 * (m2 / c1) / (np.sqrt(v / c2) + 1e-8)
        assert finals[amsgrad] == pytest.approx(want, rel=1e-14)
    assert set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert opt.state[p]["max_exp_avg_sq"].item() == 8.0


def test_state_is_keyed_by_the_parameters():
    a, b, c = ours([1.0, 2.0]), ours(3.0), ours([0.0])
    opt = optim.Adam([a, b, c], lr=0.1)
    assert a not in opt.state and len(opt.state) == 0
    loss_of(a).backward()
    loss_of(b).backward()
    opt.step()
    assert [p is q for p, q in zip(opt.state, (a, b))] == [True, True] and len(opt.state) == 2
    assert a in opt.state and c not in opt.state
    assert [(p is a, s["step"]) for p, s in opt.state.items()] == [(True, 1), (False, 1)]
    assert opt.state[b]["exp_avg"].shape == ()
    # ids still read the same entries (code written when the state was keyed by ids)
    assert opt.state[id(a)] is opt.state[a] and id(b) in opt.state and id(c) not in opt.state
    assert opt.state.get(id(c)) is None and opt.state.get(c, 5) == 5
    with pytest.raises(KeyError):
        opt.state[id(c)]                    # an id that is no key: no entry to make
    assert opt.state[c] == {} and c in opt.state    # a tensor: defaultdict(dict), as torch
    del opt.state[c]
    with pytest.raises(TypeError, match=r"keyed by the parameter tensors.*opt.state\[p\]"):
        opt.state[id(c)] = {}
    with pytest.raises(TypeError, match="keyed by the parameter tensors"):
        opt.state.setdefault("w", {})
    (a2, b2), opt2 = copy.deepcopy(((a, b), opt))
    assert [p is q for p, q in zip(opt2.state, (a2, b2))] == [True, True]
    assert opt2.state[a2]["exp_avg"] is not opt.state[a]["exp_avg"]
    assert opt.state.pop(id(b))["step"] == 1 and b not in opt.state


@pytest.mark.parametrize("keys", [str, int])
@pytest.mark.parametrize("name, options", [("SGD", dict(lr=0.1, momentum=0.9)),
                                           ("Adam", dict(lr=0.1, amsgrad=True)),
                                           ("AdamW", dict(lr=0.1))])
def test_zero_d_state_through_save_and_load(tmp_path, name, options, keys):
    def fresh():
        params = [ours(2.0), ours([1.0, -1.0])]
        return params, getattr(optim, name)(params, **options)

    def steps(opt, params, n):
        for _ in range(n):
            opt.zero_grad()
            sum(loss_of(p) for p in params).backward()
            opt.step()

    straight, opt = fresh()
    steps(opt, straight, 8)
    first, opt = fresh()
    steps(opt, first, 3)
    saved = opt.state_dict()
    assert sorted(saved["state"]) == [0, 1]                 # positions, as PyTorch's
    gpugrad.save(saved, tmp_path / "opt.npz")
    loaded = gpugrad.load(tmp_path / "opt.npz")
    loaded["state"] = {keys(k): v for k, v in loaded["state"].items()}
    second = [ours(p.numpy()) for p in first]
    resumed = getattr(optim, name)(second, **options)
    resumed.load_state_dict(loaded)
    for key, value in resumed.state[second[0]].items():
        assert isinstance(value, int if key == "step" else gpugrad.Tensor), key
    steps(resumed, second, 5)
    for p, q in zip(second, straight):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_load_state_dict_names_a_bad_state_key():
    p = ours([1.0])
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(KeyError, match="keyed by parameter position"):
        opt.load_state_dict({"state": {"w": {}}, "param_groups": opt.state_dict()[
            "param_groups"]})


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_step_closure_runs_with_grad_enabled_and_returns_its_loss(name):
    p = ours([1.0, -2.0])
    opt = getattr(optim, name)([p], lr=0.1)
    calls = []

    def closure():
        calls.append(gpugrad.is_grad_enabled())
        opt.zero_grad()
        loss = loss_of(p)
        loss.backward()
        return loss

    reference = ours([1.0, -2.0])
    plain = getattr(optim, name)([reference], lr=0.1)
    with gpugrad.no_grad():
        for _ in range(3):
            loss = opt.step(closure)
            expected = loss_of(reference)
            assert loss.item() == expected.item()
            with gpugrad.enable_grad():
                plain.zero_grad()
                loss_of(reference).backward()
            plain.step()
    opt.zero_grad()
    assert calls == [True] * 3 and opt.step() is None       # (no gradients: no update)
    np.testing.assert_array_equal(p.numpy(), reference.numpy())


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_a_closure_inside_a_compiled_step(name):
    def trained(compiled):
        p = ours([1.0, -2.0, 0.5])
        opt = getattr(optim, name)([p], lr=0.05, momentum=0.9) if name == "SGD" else \
            optim.Adam([p], lr=0.05)

        def step(x):
            def closure():
                opt.zero_grad()
                loss = (loss_of(p) * x).sum()
                loss.backward()
                return loss
            return opt.step(closure)

        run = gpugrad.compile(step) if compiled else step
        losses = [run(gpugrad.tensor([w], dtype="float64")).item() for w in (1.0, 0.5, 2.0,
                                                                             1.5, 1.0)]
        return losses, p.numpy()

    losses, final = trained(True)
    expected_losses, expected = trained(False)
    assert losses == expected_losses
    np.testing.assert_array_equal(final, expected)


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_a_closure_inside_an_emulated_captured_step(optimizer, emulated_gpu):
    from gpugrad.cuda import graph

    def run(captured):
        gpugrad.manual_seed(3)
        model = nn.Linear(3, 2)
        opt = (optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "sgd"
               else optim.AdamW(model.parameters(), lr=0.01))

        def step(x):
            def closure():
                opt.zero_grad(set_to_none=False)
                loss = (model(x) ** 2).sum()
                loss.backward()
                return loss
            return opt.step(closure)

        if captured:
            step = graph(step, gpugrad.ones(4, 3))
        rng = np.random.default_rng(0)
        losses = [step(gpugrad.tensor(rng.standard_normal((4, 3)), dtype="float32")).item()
                  for _ in range(5)]
        return losses, [p.numpy().copy() for p in model.parameters()]

    losses, params = run(True)
    assert launches                             # the fused kernels ran
    expected_losses, expected = run(False)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-5)
    for got, want in zip(params, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, options", [("SGD", dict(lr=0.05, maximize=True)),
                                           ("Adam", dict(lr=0.1, amsgrad=True)),
                                           ("Adam", dict(lr=0.1, maximize=True)),
                                           ("AdamW", dict(lr=0.1, amsgrad=True))])
def test_options_the_kernels_lack_take_the_reference_update(name, options, emulated):
    def run(fused):
        with pytest.MonkeyPatch.context() as undo:
            if not fused:
                undo.setattr(multi_tensor, "fusable", lambda p: False)
            a, b = ours([1.0, -2.0, 0.5]), ours(2.0)
            opt = getattr(optim, name)([a], **options)
            opt.add_param_group({"params": [b], "amsgrad": False, "maximize": False})
            for _ in range(4):
                opt.zero_grad()
                (loss_of(a) + loss_of(b)).backward()
                opt.step()
            return a.numpy(), b.numpy()

    launches.clear()
    fused = run(True)
    kind = "sgd" if name == "SGD" else "adam"
    assert launches == [(kind, 1)] * 4          # the plain group (0-d b) only
    launches.clear()
    expected = run(False)
    for got, want in zip(fused, expected):
        np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_sgd_and_adam_take_pytorchs_implementation_switches(name):
    """foreach/fused/capturable change no result (the same step as without them); a
    differentiable step is refused."""
    cls = getattr(gpugrad.optim, name)
    results = []
    for flags in ({}, {"foreach": True, "fused": False}, {"foreach": False, "fused": True}):
        if name != "SGD":
            flags = dict(flags, capturable=True)
        w = gpugrad.tensor([1.0, -2.0], dtype="float64", requires_grad=True)
        opt = cls([w], lr=0.1, **flags)
        (w * w).sum().backward()
        opt.step()
        results.append(w.tolist())
    assert results[0] == results[1] == results[2]
    with pytest.raises(ValueError, match=rf"{name}: differentiable=True is not supported"):
        cls([gpugrad.zeros(1, requires_grad=True)], differentiable=True)
