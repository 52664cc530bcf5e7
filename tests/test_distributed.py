"""Data-parallel training: the shard sampler and hooks in this process, and the real thing
under ``mpiexec -n 2`` and ``-n 4`` (tests/mpi_worker.py): P ranks end where one process
with the same global batch ends, collectives give the right values, a mismatched model is
named, and a failing rank stops the others instead of leaving them waiting."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import gpugrad
from gpugrad import distributed as dist
from gpugrad import nn, optim
from gpugrad.data import DataLoader
from mpi_support import mpiexec, needs_mpi

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, "tests", "mpi_worker.py")


def mpirun(n: int, *args, timeout: int = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([mpiexec(), "-n", str(n), sys.executable, *args], env=env,
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


# ---------------------------------------------------------------------------------------------
# In this process
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("world", [2, 4])
def test_shards_of_every_global_batch_make_up_the_single_process_batches(world):
    X, y = np.arange(52.0)[:, None], np.arange(52)
    whole = [yb.tolist() for _, yb in DataLoader(X, y, 8, shuffle=True, seed=5)]
    shards = [[yb.tolist() for _, yb in DataLoader(X, y, 8, shuffle=True, seed=5, rank=r,
                                                   world_size=world)] for r in range(world)]
    assert all(len(s) == len(whole) for s in shards)
    for i, batch in enumerate(whole):
        joined = [v for r in range(world) for v in shards[r][i]]
        assert joined == batch                       # 52 % 8 = 4 rows: 4 / world each
        assert len({len(shards[r][i]) for r in range(world)}) == 1


def test_short_tail_is_rounded_down_to_a_multiple_of_the_world_size():
    X = np.arange(11.0)[:, None]
    shards = [list(DataLoader(X, batch_size=4, rank=r, world_size=4)) for r in range(4)]
    assert [len(s) for s in shards] == [2] * 4           # the 3-row tail cannot be shared
    assert len(DataLoader(X, batch_size=4, rank=0, world_size=4)) == 2
    rows = sorted(v for s in shards for batch in s for v in batch.numpy()[:, 0])
    assert rows == list(range(8))


def test_a_global_batch_that_does_not_split_evenly_is_an_error():
    with pytest.raises(ValueError, match="global batch size 10 does not split evenly over "
                                         "4 ranks; use a multiple of 4"):
        DataLoader(np.zeros((20, 1)), batch_size=10, rank=0, world_size=4)
    with pytest.raises(ValueError, match="0 <= rank < world_size"):
        DataLoader(np.zeros((20, 1)), batch_size=4, rank=4, world_size=4)


def test_post_accumulate_grad_hook_sees_the_accumulated_gradient():
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * w).sum().backward()                 # 2w
    (w * 3.0).sum().backward()               # + 3, accumulated before the hook runs
    assert seen == [[2.0, 4.0], [5.0, 7.0]]
    handle.remove()
    (w * w).sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="leaf tensors that require grad"):
        (w * 2).register_post_accumulate_grad_hook(lambda p: None)


def test_without_mpi4py_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setattr(dist.group, "_group", None)
    with pytest.raises(dist.DistributedError, match=r"pip install 'gpugrad\[distributed\]'"):
        dist.init()
    with pytest.raises(dist.DistributedError, match="call gpugrad.distributed.init"):
        dist.rank()


@needs_mpi
def test_one_rank_in_process_trains_as_without_data_parallel():
    dist.init()
    assert (dist.rank(), dist.world_size(), dist.is_main()) == (0, 1, True)
    with pytest.raises(dist.DistributedError, match="asked for 2 processes .* without a "
                                                    "launcher .* mpiexec -n 2"):
        dist.init(world_size=2)
    X = np.random.default_rng(0).standard_normal((16, 5))
    y = np.arange(16) % 3
    gpugrad.manual_seed(1)
    plain = nn.MLP([5, 7, 3], dtype="float64")
    gpugrad.manual_seed(1)
    wrapped = dist.DataParallel(nn.MLP([5, 7, 3], dtype="float64"), bucket_mib=0.0002)
    for model in (plain, wrapped):
        opt = optim.Adam(model.parameters(), lr=0.01)
        for xb, yb in DataLoader(X, y, 4, shuffle=True, seed=2):
            opt.zero_grad()
            nn.functional.cross_entropy(model(gpugrad.tensor(xb.numpy())), yb).backward()
            opt.step()
    for a, b in zip(plain.parameters(), wrapped.parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    buckets = len(wrapped._buckets)
    assert 1 < buckets < 4 and wrapped.communication["collectives"] == buckets


# ---------------------------------------------------------------------------------------------
# Under mpiexec
# ---------------------------------------------------------------------------------------------

@needs_mpi
@pytest.mark.parametrize("ranks", [2, 4])
@pytest.mark.parametrize("scenario", [("equivalence", "float64"), ("equivalence", "float32"),
                                      ("equivalence", "float64", "no-overlap"),
                                      ("collectives",)], ids=" ".join)
def test_under_mpiexec(ranks, scenario):
    done = mpirun(ranks, WORKER, *scenario)
    assert done.returncode == 0, done.stdout + done.stderr
    for r in range(ranks):                          # (lines of ranks may interleave)
        assert done.stdout.count(f"rank {r}: ok") == 1, done.stdout


@needs_mpi
def test_mismatched_models_are_named():
    done = mpirun(2, WORKER, "mismatch")
    assert done.returncode != 0
    assert ("parameter 2 is 'layers.2.weight' of shape (16, 16), float32 on rank 0 but "
            "'layers.2.weight' of shape (15, 16), float32 on rank 1") in done.stderr


@needs_mpi
def test_a_failing_rank_stops_the_others():
    done = mpirun(3, WORKER, "fail", timeout=60)        # a hang would time out
    assert done.returncode != 0
    assert "rank 1 fails on purpose" in done.stderr
    assert "rank 0: ok" not in done.stdout


@needs_mpi
def test_a_rank_that_dies_stops_the_others():
    done = mpirun(3, WORKER, "die", timeout=60)         # a hang would time out
    assert done.returncode != 0
    assert "rank 0: ok" not in done.stdout


@needs_mpi
def test_gpugrad_train_distributed_matches_one_process_and_resumes(tmp_path):
    common = ["--data", "digits", "--hidden", "32", "--batch-size", "32", "--optimizer", "sgd",
              "--lr", "0.05", "--dtype", "float64", "--no-progress"]
    one = subprocess.run([sys.executable, "-m", "gpugrad", "train", *common, "--epochs", "2",
                          "--out", str(tmp_path / "one")], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=ROOT), cwd=ROOT, timeout=120)
    assert one.returncode == 0, one.stderr
    two = mpirun(2, "-m", "gpugrad", "train", "--distributed", *common, "--epochs", "1",
                 "--out", str(tmp_path / "two"))
    assert two.returncode == 0, two.stderr
    assert two.stdout.count("epoch 1/1") == 1                  # only rank 0 prints
    resumed = mpirun(2, "-m", "gpugrad", "train", "--distributed", *common, "--epochs", "2",
                     "--out", str(tmp_path / "two"), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    a = json.loads((tmp_path / "one" / "metrics.json").read_text())
    b = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert b["world_size"] == 2 and len(b["epochs"]) == 2
    for x, y in zip(a["epochs"], b["epochs"]):
        assert abs(x["train_loss"] - y["train_loss"]) <= 1e-10 * abs(x["train_loss"])
        assert x["test_accuracy"] == y["test_accuracy"]
    assert sorted(os.listdir(tmp_path / "two")) == sorted(os.listdir(tmp_path / "one"))
