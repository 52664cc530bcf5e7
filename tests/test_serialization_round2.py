"""save/load fixes of the second review: a reused or shared file object holds exactly the
archive written there; torch.load's pickle_module and mmap arguments."""

import io

import numpy as np
import pytest

import gpugrad
from gpugrad.serialization_format import archive_end


def test_reused_buffer_holds_only_the_new_state():
    b = io.BytesIO()
    gpugrad.save({"w": gpugrad.ones(1000), "tag": "old"}, b)
    b.seek(0)
    gpugrad.save({"w": gpugrad.zeros(3), "tag": "new"}, b)
    assert len(b.getvalue()) == b.tell()               # cut after the new archive
    b.seek(0)
    r = gpugrad.load(b)
    assert r["tag"] == "new" and r["w"].tolist() == [0.0, 0.0, 0.0]


def test_overwritten_file_without_truncation_loads_the_first_archive(tmp_path):
    small, big = io.BytesIO(), io.BytesIO()
    gpugrad.save({"tag": "new"}, small)
    gpugrad.save({"w": gpugrad.ones(1000), "tag": "old"}, big)
    raw = small.getvalue() + big.getvalue()[len(small.getvalue()):]   # as r+b left it
    assert gpugrad.load(io.BytesIO(raw)) == {"tag": "new"}
    path = tmp_path / "c.npz"
    path.write_bytes(raw)
    with open(path, "rb") as f:
        assert gpugrad.load(f) == {"tag": "new"}


def test_two_archives_in_one_stream_load_in_order():
    b = io.BytesIO()
    gpugrad.save({"a": 1}, b)
    gpugrad.save({"b": 2}, b)
    b.seek(0)
    assert gpugrad.load(b) == {"a": 1}
    assert gpugrad.load(b) == {"b": 2}
    assert b.tell() == len(b.getvalue())


def test_archive_end_hand_checked():
    one, two = io.BytesIO(), io.BytesIO()
    np.savez(one, a=np.ones(2))
    np.savez(two, b=np.zeros(3))
    n = len(one.getvalue())
    assert archive_end(one.getvalue()) == n
    assert archive_end(one.getvalue() + two.getvalue()) == n
    assert archive_end(one.getvalue()[:-1]) is None                     # truncated
    inner = io.BytesIO()                      # an archive's bytes saved inside an archive
    np.savez(inner, x=np.frombuffer(one.getvalue(), np.uint8))
    assert archive_end(inner.getvalue()) == len(inner.getvalue())


def test_load_takes_torch_signature(tmp_path):
    path = str(tmp_path / "s.npz")
    gpugrad.save({"w": gpugrad.ones(2)}, path)
    assert gpugrad.load(path, None, None, mmap=True, weights_only=True)["w"].tolist() == [1, 1]
    import pickle
    with pytest.raises(TypeError, match="no pickle"):
        gpugrad.load(path, None, pickle)
    with open(path, "rb") as f, pytest.raises(ValueError, match="file path .* mmap"):
        gpugrad.load(f, mmap=True)


def test_buffer_reuse_matches_torch_for_two_saves():
    torch = pytest.importorskip("torch")
    b = io.BytesIO()
    torch.save({"a": 1}, b)
    torch.save({"b": 2}, b)
    b.seek(0)
    theirs = torch.load(b)
    ours = io.BytesIO()
    gpugrad.save({"a": 1}, ours)
    gpugrad.save({"b": 2}, ours)
    ours.seek(0)
    assert gpugrad.load(ours) == theirs
