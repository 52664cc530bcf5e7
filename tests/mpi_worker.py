"""Run by tests/test_distributed.py under ``mpiexec -n P``: one scenario per call, exit
status 0 when every check on this rank passed.

    mpiexec -n 2 python tests/mpi_worker.py equivalence float64
"""

import os
import sys

import numpy as np

import gpugrad
from gpugrad import distributed as dist
from gpugrad import nn, optim
from gpugrad.data import DataLoader

SIZES = [6, 16, 16, 4]
GLOBAL_BATCH = 8
ROWS = 52               # 6 full global batches and a short one of 4 rows


def data(dtype):
    rng = np.random.default_rng(7)
    return rng.standard_normal((ROWS, SIZES[0])).astype(dtype), rng.integers(0, 4, ROWS)


def model(dtype, seed):
    gpugrad.manual_seed(seed)
    return nn.MLP(SIZES, dtype=dtype)


def train(net, loader, opt, epochs: int):
    for _ in range(epochs):
        for xb, yb in loader:
            loss = nn.functional.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()


def equivalence(dtype_name: str, overlap: str = "overlap"):
    """P ranks with a shard of every global batch end where one process with the whole
    batch ends; ranks start from different seeds, so the broadcast must work too."""
    dtype = np.dtype(dtype_name)
    X, y = data(dtype)
    local = model(dtype, seed=dist.rank())          # rank 0's weights must win
    reference = model(dtype, seed=0)
    parallel = dist.DataParallel(local, bucket_mib=0.0005, overlap=overlap == "overlap")
    opt = optim.SGD(parallel.parameters(), lr=0.1, momentum=0.9)
    ref_opt = optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    shard = DataLoader(X, y, GLOBAL_BATCH, shuffle=True, seed=3, rank=dist.rank(),
                       world_size=dist.world_size())
    whole = DataLoader(X, y, GLOBAL_BATCH, shuffle=True, seed=3)
    for _ in range(2):
        for xb, yb in shard:
            loss = nn.functional.cross_entropy(parallel(xb), yb)
            opt.zero_grad()
            loss.backward()
            parallel.sync_gradients()
            opt.step()
    train(reference, whole, ref_opt, epochs=2)
    tolerance = 1e-10 if dtype == np.float64 else 1e-5
    for (name, a), b in zip(local.named_parameters(), reference.parameters()):
        error = np.abs(a.numpy() - b.numpy()).max() / np.abs(b.numpy()).max()
        assert error < tolerance, f"rank {dist.rank()}: {name} differs by {error:.1e}"
    buckets = len(parallel._buckets)
    assert buckets > 1 and parallel.communication["collectives"] == buckets, \
        (buckets, parallel.communication)
    assert parallel.communication["bytes"] == sum(p.numpy().nbytes for p in local.parameters())


def collectives():
    r, p = dist.rank(), dist.world_size()
    t = gpugrad.tensor([float(r), 2.0 * r + 1.0])
    dist.all_reduce(t)
    expected = [sum(range(p)), sum(2.0 * k + 1 for k in range(p))]
    assert t.tolist() == expected, (t.tolist(), expected)
    m = gpugrad.tensor([float(r)])
    assert dist.all_reduce(m, op="mean").tolist() == [(p - 1) / 2]
    assert dist.all_reduce(gpugrad.tensor([float(r)]), op="max").tolist() == [p - 1.0]
    strided = gpugrad.arange(12.0).reshape(3, 4)[:, ::2] * (r + 1)    # not contiguous
    dist.all_reduce(strided)
    assert strided.tolist() == (gpugrad.arange(12.0).reshape(3, 4)[:, ::2]
                                * (p * (p + 1) / 2)).tolist()
    b = gpugrad.full((2, 2), float(r))
    dist.broadcast(b, src=p - 1)
    assert b.tolist() == [[p - 1.0] * 2] * 2
    dist.barrier()


def mismatch():
    sizes = SIZES if dist.rank() == 0 else [6, 16, 15, 4]
    dist.DataParallel(nn.MLP(sizes))


def fail():
    if dist.rank() == 1:
        raise ValueError("rank 1 fails on purpose")
    dist.barrier()          # the other ranks would wait here forever without the abort


def die():
    if dist.rank() == 1:
        os._exit(3)         # killed without a word: no exception, no MPI_Abort
    dist.barrier()


if __name__ == "__main__":
    dist.init()
    scenario, args = sys.argv[1], sys.argv[2:]
    {"equivalence": equivalence, "collectives": collectives, "mismatch": mismatch,
     "fail": fail, "die": die}[scenario](*args)
    print(f"rank {dist.rank()}: ok", flush=True)
