"""state_dict / load_state_dict as PyTorch's: per-module _save_to_state_dict and
_load_from_state_dict (overridable), the four state-dict hook kinds, extra state, and all
load errors collected into one message."""

from collections import OrderedDict

import numpy as np
import pytest

import gpugrad
from gpugrad import nn


class _Counter(nn.Module):
    """A module with extra (non-tensor) state."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)
        self.steps = 0

    def get_extra_state(self):
        return {"steps": self.steps}

    def set_extra_state(self, state):
        self.steps = state["steps"]


def test_extra_state_round_trip_and_strictness():
    a = nn.Sequential(_Counter())
    a[0].steps = 5
    state = a.state_dict()
    assert list(state) == ["0._extra_state", "0.fc.weight", "0.fc.bias"]     # own first
    assert state["0._extra_state"] == {"steps": 5}
    b = nn.Sequential(_Counter())
    assert b.load_state_dict(state) == ([], []) and b[0].steps == 5
    del state["0._extra_state"]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: '
                                           '"0._extra_state"'):
        b.load_state_dict(state)
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: '
                                           '"_extra_state"'):
        nn.Linear(2, 1).load_state_dict({**nn.Linear(2, 1).state_dict(), "_extra_state": 1})


def test_overridden_save_and_load_of_a_child_are_used():
    class Scaled(nn.Linear):
        """Saves its weight doubled, loads it halved (a layout conversion)."""

        def _save_to_state_dict(self, destination, prefix, keep_vars):
            super()._save_to_state_dict(destination, prefix, keep_vars)
            destination[prefix + "weight"] = destination[prefix + "weight"] * 2

        def _load_from_state_dict(self, state_dict, prefix, *rest):
            state_dict[prefix + "weight"] = state_dict[prefix + "weight"] / 2
            super()._load_from_state_dict(state_dict, prefix, *rest)

    model = nn.Sequential(Scaled(2, 1, bias=False))
    with gpugrad.no_grad():
        model[0].weight.copy_(gpugrad.tensor([[1.0, 3.0]]))
    state = model.state_dict()
    assert state["0.weight"].tolist() == [[2.0, 6.0]]
    other = nn.Sequential(Scaled(2, 1, bias=False))
    other.load_state_dict(state)
    assert other[0].weight.tolist() == [[1.0, 3.0]]


def test_state_dict_hooks_are_called_in_order():
    calls = []
    model = nn.Sequential(nn.Linear(2, 1))
    child = model[0]
    child.register_state_dict_pre_hook(lambda m, prefix, keep: calls.append(("pre", prefix)))

    def post(m, state, prefix, meta):
        calls.append(("post", prefix, meta["version"]))
        state[prefix + "note"] = gpugrad.zeros(1)

    child.register_state_dict_post_hook(post)
    state = model.state_dict()
    assert calls == [("pre", "0."), ("post", "0.", 1)]
    assert list(state) == ["0.weight", "0.bias", "0.note"]
    assert state._metadata[""] == {"version": 1} and state._metadata["0"] == {"version": 1}
    model.register_state_dict_post_hook(lambda *args: {"replaced": 1})
    with pytest.raises(RuntimeError, match="must return None"):
        model.state_dict()
    plain = nn.Linear(2, 1)
    plain._register_state_dict_hook(lambda m, state, prefix, meta: {"only": 1})
    assert plain.state_dict() == {"only": 1}                # (the old form replaces it)


def test_load_state_dict_hooks():
    layer, seen = nn.Linear(2, 1), []

    def rename(module, state, prefix, meta, strict, missing, unexpected, errors):
        seen.append((module is layer, prefix, strict))
        if prefix + "w" in state:
            state[prefix + "weight"] = state.pop(prefix + "w")

    handle = layer.register_load_state_dict_pre_hook(rename)
    result = layer.load_state_dict({"w": gpugrad.zeros(1, 2), "bias": gpugrad.ones(1)})
    assert repr(result) == "<All keys matched successfully>"
    assert layer.weight.tolist() == [[0.0, 0.0]] and seen == [(True, "", True)]
    handle.remove()
    layer._register_load_state_dict_pre_hook(lambda state, prefix, *rest: seen.append(prefix))
    layer.load_state_dict(layer.state_dict())
    assert seen[-1] == ""

    def forgive(module, keys):
        keys.missing_keys.clear()

    layer.register_load_state_dict_post_hook(forgive)       # strict judges what is left
    layer.load_state_dict({"weight": gpugrad.ones(1, 2)})
    assert layer.weight.tolist() == [[1.0, 1.0]]


def test_load_errors_are_collected_into_one_message():
    wrong = {"weight": gpugrad.zeros(3, 2), "extra": gpugrad.zeros(1)}
    with pytest.raises(RuntimeError) as info:
        nn.Linear(2, 2).load_state_dict(wrong)
    assert str(info.value) == (
        "Error(s) in loading state_dict for Linear:\n\t"
        'Missing key(s) in state_dict: "bias". \n\t'
        'Unexpected key(s) in state_dict: "extra". \n\t'
        "size mismatch for weight: copying a param with shape (3, 2) from checkpoint, the "
        "shape in current model is (2, 2).")
    assert isinstance(info.value, (KeyError)) and isinstance(info.value, ValueError)
    with pytest.raises(ValueError, match="size mismatch for weight"):
        nn.Linear(2, 2).load_state_dict(wrong, strict=False)
    state = nn.Linear(2, 1).state_dict()
    assert nn.Linear(2, 1).load_state_dict(state) == ([], [])
    with pytest.raises(TypeError, match="dict-like"):
        nn.Linear(2, 1).load_state_dict([("weight", 1)])


def test_scalar_loads_from_a_one_element_vector():
    m = nn.Module()
    m.register_buffer("scale", gpugrad.tensor(1.0))
    m.load_state_dict({"scale": np.array([3.0])})
    assert m.scale.shape == () and m.scale.item() == 3.0


def test_state_dict_positional_arguments_warn_and_work():
    dest = OrderedDict()
    with pytest.warns(FutureWarning):
        out = nn.Linear(2, 1).state_dict(dest, "layer.")
    assert out is dest and list(dest) == ["layer.weight", "layer.bias"]


def test_messages_and_hooks_match_torch():
    torch = pytest.importorskip("torch")
    wrong = {"weight": np.zeros((3, 2), np.float32), "extra": np.zeros(1, np.float32)}
    with pytest.raises(RuntimeError) as ours:
        nn.Linear(2, 2).load_state_dict({k: gpugrad.tensor(v) for k, v in wrong.items()})
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.Linear(2, 2).load_state_dict({k: torch.tensor(v) for k, v in wrong.items()})
    assert str(ours.value) == str(theirs.value).replace("torch.Size([3, 2])", "(3, 2)") \
        .replace("torch.Size([2, 2])", "(2, 2)")
    t_calls, g_calls = [], []
    for lib, calls in ((torch.nn, t_calls), (nn, g_calls)):
        model = lib.Sequential(lib.Linear(2, 1), lib.Sequential(lib.Linear(1, 1)))
        for name, m in model.named_modules():
            m.register_state_dict_pre_hook(lambda m, p, k, n=name: calls.append(("pre", n, p)))
            m.register_state_dict_post_hook(lambda m, s, p, meta, n=name:
                                            calls.append(("post", n, p, len(s))))
            m.register_load_state_dict_post_hook(lambda m, keys, n=name:
                                                 calls.append(("load", n)))
        model.load_state_dict(model.state_dict())
    assert g_calls == t_calls
