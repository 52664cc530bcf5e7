"""gpugrad.save/load: round trips, atomic writes, and clear errors for bad files."""

import errno
import os
import zipfile

import numpy as np
import pytest

import gpugrad
from gpugrad import nn, optim
from gpugrad import serialization
from gpugrad.serialization import CorruptFileError


def test_round_trip_of_nested_state(tmp_path, device):
    state = {
        "model": {"w": gpugrad.randn(3, 2, device=device), "step": gpugrad.tensor(7)},
        "scalars": [1, 2.5, True, None, "adam"],
        "pair": (gpugrad.tensor(2.0, dtype="float64"), np.arange(3)),
        "odd key/with.dots": 3,
    }
    path = tmp_path / "state.npz"
    gpugrad.save(state, path)
    loaded = gpugrad.load(path, device=device)
    np.testing.assert_array_equal(loaded["model"]["w"].numpy(), state["model"]["w"].numpy())
    assert loaded["model"]["w"].dtype == np.float32 and loaded["model"]["w"].device == device
    assert loaded["model"]["step"].item() == 7 and loaded["model"]["step"].dtype == np.int64
    assert loaded["scalars"] == [1, 2.5, True, None, "adam"]
    assert isinstance(loaded["pair"], tuple) and loaded["pair"][0].dtype == np.float64
    assert isinstance(loaded["pair"][1], np.ndarray) and loaded["pair"][1].tolist() == [0, 1, 2]
    assert loaded["odd key/with.dots"] == 3


def test_model_and_optimizer_round_trip(tmp_path):
    model = nn.MLP([4, 5, 3])
    opt = optim.Adam(model.parameters(), lr=0.01)
    nn.functional.cross_entropy(model(gpugrad.randn(6, 4)), gpugrad.tensor([0, 1, 2] * 2)
                                ).backward()
    opt.step()
    gpugrad.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "m")
    loaded = gpugrad.load(tmp_path / "m")
    fresh = nn.MLP([4, 5, 3])
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.5)
    fresh.load_state_dict(loaded["model"])
    fresh_opt.load_state_dict(loaded["optimizer"])
    assert fresh_opt.param_groups[0]["lr"] == 0.01
    for p, q in zip(model.parameters(), fresh.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        np.testing.assert_array_equal(opt.state[id(p)]["exp_avg"].numpy(),
                                      fresh_opt.state[id(q)]["exp_avg"].numpy())


def test_a_crash_mid_save_leaves_the_old_file_and_no_debris(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    gpugrad.save({"v": gpugrad.ones(3)}, path)
    before = path.read_bytes()

    def crash(f, **arrays):
        f.write(b"PK\x03\x04 half written")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        gpugrad.save({"v": gpugrad.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_truncated_and_corrupt_files_name_the_file(tmp_path):
    path = tmp_path / "good.npz"
    gpugrad.save({"w": gpugrad.randn(100, 100)}, path)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="truncated.npz"):
        gpugrad.load(truncated)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(os.urandom(1000))
    with pytest.raises(CorruptFileError, match="garbage.npz is truncated or corrupt"):
        gpugrad.load(garbage)
    with pytest.raises(FileNotFoundError, match="no such file"):
        gpugrad.load(tmp_path / "missing.npz")


def test_foreign_npz_and_missing_entries_are_named(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.zeros(2))
    with pytest.raises(CorruptFileError, match="not one written by gpugrad.save"):
        gpugrad.load(foreign)
    path = tmp_path / "state.npz"
    gpugrad.save({"layer": {"weight": gpugrad.ones(2)}}, path)
    damaged = tmp_path / "damaged.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            if not item.filename.startswith("a0"):
                dst.writestr(item, src.read(item.filename))
    with pytest.raises(CorruptFileError, match="'layer.weight' is missing"):
        gpugrad.load(damaged)


def test_no_pickle_and_unsupported_objects(tmp_path):
    with pytest.raises(TypeError, match="'bad' is a set"):
        gpugrad.save({"bad": {1, 2}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="only numeric arrays"):
        gpugrad.save({"objects": np.array([object()])}, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_damaged_manifests_are_reported_not_crashed_on(tmp_path):
    import json
    for i, manifest in enumerate([[1, 2], {"format": "gpugrad-state/1", "root": 5},
                                  {"format": "gpugrad-state/1", "root": {"dict": [1, 2]}}]):
        path = tmp_path / f"m{i}.npz"
        np.savez(path, __gpugrad_manifest__=np.frombuffer(json.dumps(manifest).encode(),
                                                           dtype=np.uint8))
        with pytest.raises(CorruptFileError, match=f"m{i}.npz"):
            gpugrad.load(path)


def test_permissions_symlinks_and_missing_folders(tmp_path):
    path = tmp_path / "private.npz"
    gpugrad.save({"v": 1}, path)
    os.chmod(path, 0o600)
    gpugrad.save({"v": 2}, path)
    assert os.stat(path).st_mode & 0o777 == 0o600 and gpugrad.load(path)["v"] == 2
    link = tmp_path / "link.npz"
    os.symlink(path, link)
    gpugrad.save({"v": 3}, link)
    assert os.path.islink(link) and gpugrad.load(path)["v"] == 3
    with pytest.raises(FileNotFoundError, match="missing/x.npz does not exist"):
        gpugrad.save({"v": 1}, tmp_path / "missing" / "x.npz")


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="POSIX links")
def test_links_that_loop_are_refused_and_stay_links(tmp_path):
    loop = tmp_path / "loop"
    os.symlink("loop", loop)                        # ln -s loop loop
    os.symlink("b", tmp_path / "a")                 # a -> b -> a
    os.symlink("a", tmp_path / "b")
    for name, chain in (("loop", "loop -> loop"), ("a", "a -> b -> a")):
        with pytest.raises(OSError, match=f"loops \\(.*{chain}\\) and never reaches a file") as \
                raised:
            gpugrad.save({"v": 1}, tmp_path / name)
        assert raised.value.errno == errno.ELOOP
        assert os.readlink(tmp_path / name) in ("loop", "a", "b")       # still a link
        with pytest.raises(FileNotFoundError, match=f"never reaches a file: .*{chain}"):
            gpugrad.load(tmp_path / name)
    assert sorted(os.listdir(tmp_path)) == ["a", "b", "loop"]           # no debris


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="POSIX links")
def test_dangling_links_are_written_through_and_folders_refused(tmp_path):
    # as open(path, "wb"): a link to a missing file in an existing folder creates the file
    os.symlink("target.npz", tmp_path / "dangling")
    gpugrad.save({"v": 5}, tmp_path / "dangling")
    assert os.path.islink(tmp_path / "dangling")
    assert gpugrad.load(tmp_path / "target.npz")["v"] == 5
    os.symlink("nowhere/x.npz", tmp_path / "far")
    with pytest.raises(FileNotFoundError, match="where the symbolic link .*far leads"):
        gpugrad.save({"v": 1}, tmp_path / "far")
    (tmp_path / "folder").mkdir()
    os.symlink("folder", tmp_path / "to_folder")
    for name in ("folder", "to_folder"):
        with pytest.raises(IsADirectoryError, match="is a folder; pass a file name"):
            gpugrad.save({"v": 1}, tmp_path / name)
    assert sorted(os.listdir(tmp_path)) == ["dangling", "far", "folder", "target.npz",
                                            "to_folder"]
    assert os.listdir(tmp_path / "folder") == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_a_new_file_gets_the_usual_permissions_not_mkstemps_private_ones(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setattr(serialization, "_UMASK", 0o022)    # as read at import
    gpugrad.save({"v": 1}, tmp_path / "new.npz")
    assert os.stat(tmp_path / "new.npz").st_mode & 0o777 == 0o644


def test_dicts_with_int_keys_round_trip(tmp_path):
    """An optimizer's state dict is keyed by parameter position (ints, as PyTorch's); a
    MultiStepLR's milestones too. Both keep their int keys through save and load."""
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    opt = gpugrad.optim.SGD([w], lr=0.1, momentum=0.9)
    sched = gpugrad.optim.MultiStepLR(opt, milestones=[2, 2, 5], gamma=0.5)
    (w * w).sum().backward()
    opt.step()
    sched.step()
    gpugrad.save({"opt": opt.state_dict(), "sched": sched.state_dict(),
                  "mixed": {1: "one", "two": 2}}, tmp_path / "state.npz")
    back = gpugrad.load(tmp_path / "state.npz")
    assert list(back["opt"]["state"]) == [0] and back["mixed"] == {1: "one", "two": 2}
    np.testing.assert_array_equal(back["opt"]["state"][0]["momentum_buffer"].numpy(),
                                  opt.state[w]["momentum_buffer"].numpy())
    fresh = gpugrad.optim.MultiStepLR(gpugrad.optim.SGD([w], lr=0.1), milestones=[9])
    fresh.load_state_dict(back["sched"])
    assert dict(fresh.milestones) == {2: 2, 5: 1}
    with pytest.raises(TypeError, match="dict keys must be strings or ints"):
        gpugrad.save({(1, 2): 3}, tmp_path / "bad.npz")
