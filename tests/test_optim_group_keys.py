"""PyTorch's implementation switches in every optimizer's defaults and param groups
(``foreach``, ``differentiable``, ``fused``, ``capturable``, where torch's optimizer has them,
with its defaults): read, set, saved and loaded as PyTorch's; steps unchanged by them.
Checked against a table written from torch 2.13, and against torch where installed."""

import copy

import numpy as np
import pytest

import gpugrad
from gpugrad import optim

# torch 2.13's switches per optimizer, with its defaults (LBFGS has none)
NONE, FALSE = None, False
SWITCHES = {
    "SGD": dict(foreach=NONE, differentiable=FALSE, fused=NONE),
    "Adam": dict(foreach=NONE, capturable=FALSE, differentiable=FALSE, fused=NONE),
    "AdamW": dict(foreach=NONE, capturable=FALSE, differentiable=FALSE, fused=NONE),
    "RMSprop": dict(capturable=FALSE, foreach=NONE, differentiable=FALSE),
    "Adagrad": dict(foreach=NONE, differentiable=FALSE, fused=NONE),
    "Adadelta": dict(capturable=FALSE, foreach=NONE, differentiable=FALSE),
    "Adamax": dict(foreach=NONE, differentiable=FALSE, capturable=FALSE),
    "NAdam": dict(foreach=NONE, capturable=FALSE, differentiable=FALSE),
    "RAdam": dict(foreach=NONE, capturable=FALSE, differentiable=FALSE),
    "Rprop": dict(foreach=NONE, differentiable=FALSE, capturable=FALSE),
    "ASGD": dict(foreach=NONE, differentiable=FALSE, capturable=FALSE),
    "LBFGS": {},
}
KWARGS = {"SGD": dict(lr=0.1, momentum=0.9)}


def params(lib=gpugrad):
    if lib is gpugrad:
        return [gpugrad.tensor([1.0, -2.0], dtype="float64", requires_grad=True)]
    return [lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)]


def make(name, lib=gpugrad, ps=None, **kwargs):
    return getattr(lib.optim, name)(params(lib) if ps is None else ps,
                                    **{**KWARGS.get(name, {}), **kwargs})


def one_step(opt, ps):
    opt.zero_grad()
    loss = (ps[0] * ps[0] * ps[0]).sum()
    loss.backward()
    opt.step(lambda: loss) if isinstance(opt, optim.LBFGS) else opt.step()


@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_defaults_groups_state_dict_and_repr_hold_torchs_switches(name):
    opt = make(name)
    for key, value in SWITCHES[name].items():
        assert key in opt.defaults and opt.defaults[key] is value
        assert opt.param_groups[0][key] is value
        assert opt.state_dict()["param_groups"][0][key] is value
        assert f"    {key}: {value}\n" in repr(opt)
    if name == "LBFGS":
        assert not {"foreach", "fused", "capturable", "differentiable"} & set(opt.defaults)


@pytest.mark.parametrize("name", [n for n in sorted(SWITCHES) if n != "LBFGS"])
def test_switches_given_are_kept_and_change_no_step(name):
    """foreach=True (and capturable=True where it exists) are stored as given; the step is
    the same as without them (float64, bit for bit)."""
    given = {"foreach": True}
    if "capturable" in SWITCHES[name]:
        given["capturable"] = True
    plain, switched = params(), params()
    a, b = make(name, ps=plain), make(name, ps=switched, **given)
    assert all(b.param_groups[0][k] is v for k, v in given.items())
    b.param_groups[0]["foreach"] = False                # code may set them: still a dict key
    for _ in range(3):
        one_step(a, plain)
        one_step(b, switched)
    assert plain[0].tolist() == switched[0].tolist()
    assert plain[0].tolist() != [1.0, -2.0]


def test_adam_step_by_hand_with_the_switches():
    """The first Adam step moves each element by lr against its gradient's sign."""
    w = params()
    opt = optim.Adam(w, lr=0.1, foreach=False, fused=False, capturable=False)
    one_step(opt, w)                                    # grad 3 w**2 = [3, 12]
    np.testing.assert_allclose(w[0].numpy(), [0.9, -2.1], rtol=1e-7)
    assert opt.state[w[0]]["step"] == 1 and isinstance(opt.state[w[0]]["step"], int)


def test_add_param_group_takes_the_switches_and_refuses_a_differentiable_step():
    a, b, c = params(), params(), params()
    opt = optim.SGD(a, lr=0.1)
    opt.add_param_group({"params": b, "foreach": True})
    assert opt.param_groups[1]["foreach"] is True and opt.param_groups[1]["fused"] is None
    with pytest.raises(ValueError, match="differentiable=True is not supported"):
        opt.add_param_group({"params": c, "differentiable": True})


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_an_older_state_dict_without_the_switches_still_loads(name):
    ps = params()
    opt = make(name, ps=ps)
    one_step(opt, ps)
    old = copy.deepcopy(opt.state_dict())
    for group in old["param_groups"]:
        for key in SWITCHES[name]:
            del group[key]
    resumed_params = [gpugrad.tensor(ps[0].tolist(), dtype="float64", requires_grad=True)]
    resumed = make(name, ps=resumed_params, foreach=True)
    resumed.load_state_dict(old)
    assert resumed.param_groups[0]["foreach"] is True           # not in the file: kept
    one_step(opt, ps)
    one_step(resumed, resumed_params)
    assert ps[0].tolist() == resumed_params[0].tolist()


def test_a_torch_shaped_state_dict_with_the_switches_loads():
    """Written by hand as torch's Adam saves it: 0-d float32 step, the switches in the
    group."""
    ps = params()
    opt = optim.Adam(ps, lr=0.1)
    saved = {"state": {0: {"step": gpugrad.tensor(1.0),
                           "exp_avg": gpugrad.tensor([0.3, 1.2], dtype="float64"),
                           "exp_avg_sq": gpugrad.tensor([9e-3, 0.144], dtype="float64")}},
             "param_groups": [dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                                   amsgrad=False, maximize=False, foreach=True,
                                   capturable=False, differentiable=False, fused=None,
                                   decoupled_weight_decay=False, params=[0])]}
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["foreach"] is True and opt.state[ps[0]]["step"] == 1
    assert opt.state_dict()["param_groups"][0] == saved["param_groups"][0]


@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_defaults_and_repr_equal_torchs(name):
    torch = pytest.importorskip("torch")
    ours, theirs = make(name), make(name, torch)
    assert list(ours.defaults.items()) == list(theirs.defaults.items())
    assert repr(ours) == repr(theirs)
    if name != "LBFGS":
        given = dict(foreach=False)
        if "fused" in SWITCHES[name]:
            given["fused"] = False
        ours, theirs = make(name, **given), make(name, torch, **given)
        assert ours.param_groups[0].keys() == theirs.param_groups[0].keys()
        assert {k: v for k, v in ours.param_groups[0].items() if k != "params"} == \
            {k: v for k, v in theirs.param_groups[0].items() if k != "params"}


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam"])
def test_torchs_own_state_dict_loads_and_the_runs_agree(name):
    torch = pytest.importorskip("torch")
    theirs, ours = params(torch), params()
    t_opt, o_opt = make(name, torch, ps=theirs), make(name, ps=ours)
    one_step(t_opt, theirs)
    one_step(o_opt, ours)
    state = t_opt.state_dict()
    resumed = params()
    resumed[0].data = gpugrad.tensor(theirs[0].detach().numpy())
    r_opt = make(name, ps=resumed)
    r_opt.load_state_dict(state)
    assert {k: v for k, v in r_opt.param_groups[0].items() if k != "params"} == \
        {k: v for k, v in state["param_groups"][0].items() if k != "params"}
    one_step(t_opt, theirs)
    one_step(r_opt, resumed)
    np.testing.assert_allclose(resumed[0].numpy(), theirs[0].detach().numpy(), rtol=1e-12)
