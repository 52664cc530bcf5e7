"""Data-parallel training: the shard sampler and hooks in this process; DataParallel
against a counting fake group (no_sync, the 25 MiB buckets, the overlap with backward,
sync_gradients); and the real thing under ``mpiexec -n 2`` and ``-n 4``
(tests/mpi_worker.py): P ranks end where one process with the same global batch ends,
collectives give the right values, a mismatched model is named, and a failing rank stops
the others instead of leaving them waiting."""

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import gpugrad
from gpugrad import distributed as dist
from gpugrad import nn, optim
from gpugrad.data import DataLoader
from mpi_support import ROOT, mpirun, needs_mpi

WORKER = os.path.join(ROOT, "tests", "mpi_worker.py")


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


@pytest.mark.parametrize("together", [False, True])
def test_the_abort_hook_aborts_only_for_an_error_of_one_rank(monkeypatch, capfd, together):
    """An error of one rank: it reports and calls MPI_Abort (the others may be waiting for
    it). An error every rank raised together (mark_raised_together): rank 0 alone reports
    it, and no rank aborts (nobody waits; an abort can lose what was written)."""
    error = ValueError("the ranks disagree")
    if together:
        dist.group.mark_raised_together(error)
    reports = {}
    for r in (0, 1):
        aborted, passed_on = [], []
        monkeypatch.setattr(sys, "excepthook", lambda *exc: passed_on.append(exc))
        group = SimpleNamespace(rank=r, size=2, comm=SimpleNamespace(Abort=aborted.append))
        dist.group._install_abort_hook(group)
        sys.excepthook(ValueError, error, None)
        reports[r] = (capfd.readouterr().err, aborted, len(passed_on))
    if together:
        assert reports[0] == ("gpugrad.distributed: every rank of 2 stopped with this error; "
                              "rank 0 reports it\nValueError: the ranks disagree\n", [], 0)
        assert reports[1] == ("", [], 0)
    else:
        for r in (0, 1):
            assert reports[r] == (f"gpugrad.distributed: rank {r} of 2 failed; aborting every "
                                  f"rank\nValueError: the ranks disagree\n", [1], 1)


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
# DataParallel against a counting fake group (no MPI needed): which collectives run, when
# ---------------------------------------------------------------------------------------------

PEER = 3.0      # the other rank's gradients are 3 times this one's: the mean is 2 times ours
MIB = 2 ** 20


class FakeComm:
    """rank 0 of 2, in one process: every collective is appended to ``events``, which the
    tests' own hooks append to as well, so the log shows what happened when."""

    def __init__(self, events: list):
        self.events = events

    def Get_rank(self):
        return 0

    def Get_size(self):
        return 2

    def Allgather(self, mine, everyone):
        everyone[...] = mine                       # the other rank holds the same model

    def Bcast(self, array, root):
        self.events.append(("broadcast", array.nbytes))

    def Iallreduce(self, in_place, array, op):
        self.events.append(("start", array.nbytes))
        return FakeRequest(self.events, array)


class FakeRequest:
    def __init__(self, events, array):
        self.events, self.array = events, array

    def Wait(self):
        self.array *= 1.0 + PEER                   # the sum of ours and the other rank's
        self.events.append(("wait", self.array.nbytes))


@pytest.fixture
def events(monkeypatch):
    log = []
    mpi = SimpleNamespace(SUM="sum", MAX="max", MIN="min", IN_PLACE="in place")
    monkeypatch.setattr(dist.group, "_group", dist.group._Group(mpi, FakeComm(log)))
    return log


def kinds(log, kind):
    return [size for k, size in log if k == kind]


class Vectors(nn.Module):
    """Parameters of the given lengths, all zeros; forward(xs) = sum_i p_i . xs[i], so the
    gradient of p_i is xs[i]."""

    def __init__(self, *lengths, dtype="float64"):
        super().__init__()
        for i, n in enumerate(lengths):
            setattr(self, f"p{i}", nn.Parameter(gpugrad.zeros(n, dtype=dtype)))

    def forward(self, xs):
        return sum((p * x).sum() for p, x in zip(self.parameters(), xs))


def inputs(*values):
    return [gpugrad.tensor(v, dtype="float64") for v in values]


def test_no_sync_skips_the_all_reduce_and_the_next_backward_averages_the_sums(events):
    model = dist.DataParallel(Vectors(3, 2), bucket_mib=1e-6)       # a bucket per parameter
    a, b = inputs([1.0, 2.0, 3.0], [4.0, 5.0]), inputs([0.5, 0.0, -1.0], [1.0, 1.0])
    events.clear()
    with model.no_sync():
        model(a).backward()
        model(a).backward()
    assert events == []                                          # no collective at all
    assert [p.grad.tolist() for p in model.parameters()] == [[2.0, 4.0, 6.0], [8.0, 10.0]]
    model(b).backward()
    assert kinds(events, "start") == [16, 24] and kinds(events, "wait") == [16, 24]
    assert model.communication == {"collectives": 2, "bytes": 40}
    # (2a + b) on this rank, 3 times that on the other: the mean is 2 (2a + b)
    assert [p.grad.tolist() for p in model.parameters()] == [[5.0, 8.0, 10.0], [18.0, 22.0]]


@pytest.mark.parametrize("last_mib, expected", [
    (12, [25 * MIB, 4 * MIB]),                    # 1 + 12 + 12 = 25 MiB: just fits
    (12 + 4 / MIB, [13 * MIB + 4, 16 * MIB]),      # 4 bytes more: the second 12 moves on
])
def test_default_buckets_are_25_mib_of_gradients_in_backward_order(events, last_mib, expected):
    # float32 parameters of 4, 12, x and 1 MiB; backward order (and buckets) from the end
    lengths = [int(mib * MIB) // 4 for mib in (4, 12, last_mib, 1)]
    model = dist.DataParallel(Vectors(*lengths, dtype="float32"))
    events.clear()
    model([1.0] * 4).backward()
    assert kinds(events, "start") == expected
    assert model.communication["collectives"] == 2
    assert all((p.grad.numpy() == 2.0).all() for p in model.parameters())


@pytest.mark.parametrize("overlap", [True, False])
def test_buckets_start_while_backward_goes_on(events, overlap):
    gpugrad.manual_seed(0)
    mlp = nn.MLP([4, 5, 6, 3], dtype="float64")
    model = dist.DataParallel(mlp, bucket_mib=1e-6, overlap=overlap)     # 6 buckets
    mlp.layers[0].weight.register_hook(lambda g: events.append(("layer 0's gradient", 0)))
    events.clear()
    (model(gpugrad.randn(7, 4, dtype="float64")) ** 2).sum().backward()
    started = kinds(events[:events.index(("layer 0's gradient", 0))], "start")
    if overlap:     # float64 bytes of layer 4's weight (3 x 6) and bias, layer 2's (6 x 5)...
        assert {144, 24, 240, 48} <= set(started) and 160 not in started     # ...not layer 0's
    else:
        assert started == [] and kinds(events, "start") == []
        model.sync_gradients()
    assert sorted(kinds(events, "start")) == sorted(kinds(events, "wait")) == \
        [24, 40, 48, 144, 160, 240]


def local_gradients(model, xs):
    model.zero_grad()
    model(xs).backward()
    return [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]


def test_sync_gradients_is_a_no_op_when_backward_averaged_everything(events):
    model = dist.DataParallel(Vectors(3, 2), bucket_mib=1e-6)
    xs = inputs([1.0, 2.0, 3.0], [4.0, 5.0])
    local_gradients(model, xs)
    done = list(events)
    versions = [p.grad._version for p in model.parameters()]
    model.sync_gradients()
    model.sync_gradients()
    assert events == done and len(kinds(done, "start")) == 2
    assert [p.grad._version for p in model.parameters()] == versions
    assert [p.grad.tolist() for p in model.parameters()] == [[2.0, 4.0, 6.0], [8.0, 10.0]]


def test_sync_gradients_finishes_what_backward_left(events):
    model = dist.DataParallel(Vectors(3, 2, 1), bucket_mib=1e-6)
    xs = inputs([1.0, 2.0, 3.0], [4.0, 5.0])
    events.clear()
    local_gradients(model, xs)                       # p2 unused: its bucket never starts
    assert kinds(events, "start") == [16, 24] and kinds(events, "wait") == []
    model.sync_gradients()                           # starts p2's bucket, waits for all 3
    assert kinds(events, "start") == [16, 24, 8] and len(kinds(events, "wait")) == 3
    assert [p.grad.tolist() for p in model.parameters()] == [[2.0, 4.0, 6.0], [8.0, 10.0],
                                                             [0.0]]
    model.sync_gradients()                           # nothing left
    assert len(kinds(events, "start")) == 3


def test_without_overlap_sync_gradients_does_all_of_it_once(events):
    model = dist.DataParallel(Vectors(3, 2), bucket_mib=1e-6, overlap=False)
    xs = inputs([1.0, 2.0, 3.0], [4.0, 5.0])
    events.clear()
    assert local_gradients(model, xs)[1].tolist() == [4.0, 5.0] and events == []
    grad = model.module.p0.grad
    saved_by_a_graph = grad * gpugrad.ones(3, dtype="float64", requires_grad=True)
    model.sync_gradients()
    model.sync_gradients()
    assert len(kinds(events, "start")) == len(kinds(events, "wait")) == 2
    assert grad.tolist() == [2.0, 4.0, 6.0]          # averaged in place...
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        saved_by_a_graph.sum().backward()             # ...which counts as an in-place write


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
    # every rank finds the mismatch in the same collective check and raises the same error:
    # rank 0 reports it, once, and the ranks end without MPI_Abort (which could lose it)
    done = mpirun(2, WORKER, "mismatch")
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("parameter 2 is 'layers.2.weight' of shape (16, 16), float32 on "
                             "rank 0 but 'layers.2.weight' of shape (15, 16), float32 on "
                             "rank 1") == 1, done.stderr
    assert "every rank of 2 stopped with this error; rank 0 reports it" in done.stderr
    assert "MPI_Abort" not in done.stderr and "ok" not in done.stdout


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
