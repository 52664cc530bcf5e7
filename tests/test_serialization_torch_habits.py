"""gpugrad.save/load the way torch.save/torch.load are called: map_location, weights_only,
file objects, a read-only file, and what a round trip keeps (requires_grad, Parameter,
OrderedDict, tied tensors), with files in the earlier format still loading.

Each check runs without PyTorch; the comparisons with torch.save skip where it is absent."""

import io
import json
import os
from collections import OrderedDict

import numpy as np
import pytest

import gpugrad
from gpugrad import nn, serialization

from conftest import requires_cuda


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------------- load's arguments
def test_map_location_and_weights_only_are_accepted(tmp_path):
    path = tmp_path / "ck.npz"
    gpugrad.save({"w": gpugrad.ones(2)}, path)
    for kwargs in ({"map_location": "cpu"}, {"map_location": gpugrad.Device("cpu")},
                   {"weights_only": True}, {"weights_only": False},
                   {"map_location": "cpu", "weights_only": True}, {"device": "cpu"},
                   {"map_location": "cpu", "device": "cpu"}):
        back = gpugrad.load(path, **kwargs)
        assert back["w"].tolist() == [1.0, 1.0] and back["w"].device == "cpu"
    assert gpugrad.load(path, "cpu")["w"].device == "cpu"      # positional, as torch.load


def test_map_location_as_torch_tutorials_write_it_a_function_or_a_dict(tmp_path):
    """``lambda storage, loc: storage`` keeps tensors where they are loaded (the CPU); a
    dict naming one device is that device; what names no single device is refused."""
    path = tmp_path / "ck.npz"
    gpugrad.save({"w": gpugrad.ones(2) * 3}, path)
    for where in ({"cuda:0": "cpu"}, lambda storage, location: storage):
        loaded = gpugrad.load(path, map_location=where)["w"]
        assert loaded.device == "cpu" and loaded.tolist() == [3.0, 3.0]
    with pytest.raises(TypeError, match="several devices"):
        gpugrad.load(path, map_location={"cuda:0": "cpu", "cuda:1": "cuda:0"})
    with pytest.raises(TypeError, match="returned a value of type int"):
        gpugrad.load(path, map_location=lambda storage, location: 0)


@requires_cuda
@pytest.mark.usefixtures("cuda_usable")
def test_map_location_and_device_must_agree(tmp_path):
    gpugrad.save({"w": gpugrad.ones(2)}, tmp_path / "ck.npz")
    assert gpugrad.load(tmp_path / "ck.npz", map_location="cuda")["w"].device.type == "cuda"
    with pytest.raises(TypeError, match="different devices"):
        gpugrad.load(tmp_path / "ck.npz", map_location="cpu", device="cuda:0")


def test_map_location_takes_a_torch_device(tmp_path, torch):
    gpugrad.save({"w": gpugrad.ones(2)}, tmp_path / "ck.npz")
    assert gpugrad.load(tmp_path / "ck.npz", map_location=torch.device("cpu"))["w"].device \
        == "cpu"


# ---------------------------------------------------------------------- file objects
def test_save_and_load_through_file_objects(tmp_path):
    state = {"w": gpugrad.arange(3.0), "step": 4}
    buffer = io.BytesIO()
    gpugrad.save(state, buffer)
    buffer.seek(0)
    back = gpugrad.load(buffer)
    assert back["w"].tolist() == [0.0, 1.0, 2.0] and back["step"] == 4
    with open(tmp_path / "f.npz", "wb") as f:
        gpugrad.save(state, f)
    with open(tmp_path / "f.npz", "rb") as f:
        assert gpugrad.load(f, map_location="cpu")["step"] == 4
    assert gpugrad.load(tmp_path / "f.npz")["step"] == 4       # the same file format


class _Stream:
    """A reader that cannot seek (a pipe, a socket)."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def read(self, n=-1):
        return self._data.read(n)


def test_load_from_a_stream_and_errors_name_the_object():
    buffer = io.BytesIO()
    gpugrad.save({"step": 9}, buffer)
    assert gpugrad.load(_Stream(buffer.getvalue()))["step"] == 9
    with pytest.raises(serialization.CorruptFileError, match="BytesIO is a text file"):
        gpugrad.load(io.BytesIO(b"hello"))


# ---------------------------------------------------------------------- read-only files
@pytest.mark.skipif(os.name == "nt" or (hasattr(os, "geteuid") and os.geteuid() == 0),
                    reason="POSIX permissions (root may write anything)")
def test_saving_over_a_read_only_file_raises_permission_error(tmp_path):
    path = tmp_path / "ro.npz"
    gpugrad.save({"v": 1}, path)
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError, match="not writable"):
        gpugrad.save({"v": 2}, path)
    assert gpugrad.load(path)["v"] == 1


def test_a_file_the_user_may_not_write_is_left_alone(tmp_path, monkeypatch):
    """As open(path, "wb") would refuse it (checked with os.access, which root passes)."""
    path = tmp_path / "ro.npz"
    gpugrad.save({"v": 1}, path)
    monkeypatch.setattr(os, "access", lambda p, mode: str(p) != str(path))
    with pytest.raises(PermissionError, match="ro.npz exists and is not writable"):
        gpugrad.save({"v": 2}, path)
    assert gpugrad.load(path)["v"] == 1 and sorted(os.listdir(tmp_path)) == ["ro.npz"]


# ---------------------------------------------------------------------- what survives
def _state():
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    return x, {"x": x, "y": x * 2, "p": nn.Parameter(gpugrad.ones(2)),
               "frozen": nn.Parameter(gpugrad.zeros(2), requires_grad=False),
               "ints": gpugrad.arange(3), "tied": [x, x],
               "ordered": OrderedDict([("b", 1), ("a", gpugrad.ones(1))]),
               "ordered_ints": OrderedDict([(2, "two"), (1, "one")])}


def test_requires_grad_parameters_order_and_ties_survive(tmp_path):
    _, state = _state()
    gpugrad.save(state, tmp_path / "s.npz")
    back = gpugrad.load(tmp_path / "s.npz")
    assert type(back["x"]) is gpugrad.Tensor and back["x"].requires_grad
    assert back["y"].requires_grad and back["y"].is_leaf and back["y"].tolist() == [2.0, 4.0]
    assert type(back["p"]) is nn.Parameter and back["p"].requires_grad
    assert type(back["frozen"]) is nn.Parameter and not back["frozen"].requires_grad
    assert not back["ints"].requires_grad
    assert back["tied"][0] is back["tied"][1] is back["x"]
    assert type(back["ordered"]) is OrderedDict and list(back["ordered"]) == ["b", "a"]
    assert type(back["ordered_ints"]) is OrderedDict and list(back["ordered_ints"]) == [2, 1]
    assert type(back) is dict
    (back["x"] * back["x"]).sum().backward()                  # a leaf that trains
    assert back["x"].grad.tolist() == [2.0, 4.0]


def test_a_state_dict_comes_back_as_an_ordered_dict_of_plain_tensors(tmp_path):
    model = nn.Linear(2, 3)
    gpugrad.save(model.state_dict(), tmp_path / "m.npz")
    back = gpugrad.load(tmp_path / "m.npz")
    assert type(back) is OrderedDict and list(back) == list(model.state_dict())
    assert all(type(t) is gpugrad.Tensor and not t.requires_grad for t in back.values())


def test_a_tied_tensor_is_stored_once(tmp_path):
    big = gpugrad.zeros(1000)
    gpugrad.save([big] * 5, tmp_path / "one.npz")
    gpugrad.save([big], tmp_path / "single.npz")
    assert abs(os.path.getsize(tmp_path / "one.npz") - os.path.getsize(tmp_path / "single.npz")
               ) < 1000


def test_files_in_the_earlier_format_still_load(tmp_path):
    """The manifest as gpugrad.save wrote it before requires_grad, Parameter, OrderedDict and
    ties were recorded: every tensor its own entry, plain tensors, plain dicts."""
    manifest = {"format": "gpugrad-state/1", "root": {"dict": {
        "w": {"tensor": "a0", "path": "w", "is_tensor": True},
        "pair": {"list": [{"tensor": "a1", "path": "pair[0]", "is_tensor": True},
                          {"tensor": "a2", "path": "pair[1]", "is_tensor": False}]},
        "opt": {"items": [[0, {"value": 1.5}]]}, "epoch": {"value": 3}}}}
    np.savez(tmp_path / "old.npz", a0=np.ones(2, np.float32), a1=np.ones(2, np.float32),
             a2=np.arange(3), __gpugrad_manifest__=np.frombuffer(
                 json.dumps(manifest).encode(), dtype=np.uint8))
    back = gpugrad.load(tmp_path / "old.npz")
    assert type(back) is dict and back["epoch"] == 3 and back["opt"] == {0: 1.5}
    assert type(back["w"]) is gpugrad.Tensor and not back["w"].requires_grad
    assert back["pair"][0] is not back["w"] and isinstance(back["pair"][1], np.ndarray)


def test_a_round_trip_keeps_what_torch_save_keeps(tmp_path, torch):
    ours_x, ours = _state()
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    theirs = {"x": tx, "y": tx * 2, "p": torch.nn.Parameter(torch.ones(2)),
              "frozen": torch.nn.Parameter(torch.zeros(2), requires_grad=False),
              "ints": torch.arange(3), "tied": [tx, tx],
              "ordered": OrderedDict([("b", 1), ("a", torch.ones(1))]),
              "ordered_ints": OrderedDict([(2, "two"), (1, "one")])}
    gpugrad.save(ours, tmp_path / "s.npz")
    buffer = io.BytesIO()
    torch.save(theirs, buffer)
    buffer.seek(0)
    ours_back = gpugrad.load(tmp_path / "s.npz", map_location="cpu", weights_only=True)
    theirs_back = torch.load(buffer, map_location="cpu", weights_only=True)
    for key in theirs:
        o, t = ours_back[key], theirs_back[key]
        assert type(o).__name__ == type(t).__name__, key
        if hasattr(t, "requires_grad"):
            assert (o.requires_grad, o.is_leaf) == (t.requires_grad, t.is_leaf), key
            np.testing.assert_array_equal(o.numpy(), t.detach().numpy())
    assert (ours_back["tied"][0] is ours_back["x"]) == (theirs_back["tied"][0] is
                                                       theirs_back["x"])
    assert list(ours_back["ordered_ints"]) == list(theirs_back["ordered_ints"])
