"""Data-parallel scaling of the large MLP (784-1024-1024-1024-10, float32, SGD): samples per
second with 1 and 2 ranks (and more with --ranks), the bytes each rank sends and the number
of collectives per step. Weak scaling keeps 256 rows per rank; strong scaling splits a
global batch of 256. Each configuration runs under its own ``mpiexec``, with the same BLAS
threads per rank (cores / the largest rank count) so that efficiency shows what the
gradient averaging costs.

Run: python benchmarks/distributed_scaling.py [--ranks 1,2] [--device cpu|cuda]
(needs mpi4py and mpiexec: pip install '.[distributed]')
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIZES = [784, 1024, 1024, 1024, 10]


def worker(rows_per_rank: int, device: str, steps: int) -> None:
    sys.path.insert(0, ROOT)
    import numpy as np

    import gpugrad
    from gpugrad import distributed as dist
    from gpugrad import nn, optim
    dist.init()
    if device == "cuda":
        device = f"cuda:{dist.rank() % gpugrad.backend.cuda_device_count()}"
    gpugrad.manual_seed(0)
    model = dist.DataParallel(nn.MLP(SIZES, device=device))
    opt = optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(dist.rank())
    x = gpugrad.tensor(rng.standard_normal((rows_per_rank, SIZES[0])).astype(np.float32),
                       device=device)
    y = gpugrad.tensor(rng.integers(0, SIZES[-1], rows_per_rank), device=device)

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        model.sync_gradients()
        opt.step()
        return loss.item()                  # a device sync on cuda

    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        dist.barrier()
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    slowest = gpugrad.tensor([statistics.median(times)], dtype="float64")
    dist.all_reduce(slowest, op="max")
    if dist.is_main():
        seconds = slowest.item()
        print(json.dumps({"ranks": dist.world_size(), "rows_per_rank": rows_per_rank,
                          "seconds_per_step": seconds,
                          "samples_per_second": rows_per_rank * dist.world_size() / seconds,
                          "collectives_per_step": model.communication["collectives"],
                          "bytes_per_rank_per_step": model.communication["bytes"],
                          "parameters": sum(p.size for p in model.parameters())}))


def run(ranks: int, rows_per_rank: int, device: str, steps: int, threads: str | None) -> dict:
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    mpiexec = mpiexec if os.path.exists(mpiexec) else shutil.which("mpiexec")
    env = dict(os.environ, PYTHONPATH=ROOT)
    if threads:
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = threads
    done = subprocess.run([mpiexec, "-n", str(ranks), sys.executable, __file__, "--worker",
                           str(rows_per_rank), "--device", device, "--steps", str(steps)],
                          env=env, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["blas_threads"] = threads or "default"
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", default="1,2")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        return worker(args.worker, args.device, args.steps)
    cores = os.cpu_count() or 1
    counts = [int(n) for n in args.ranks.split(",")]
    # every configuration gets the same cores per rank, so efficiency measures what
    # communication costs, not how BLAS threads share the machine
    threads = str(max(1, cores // max(counts))) if args.device == "cpu" else None
    rows = []
    for ranks in counts:
        rows.append(("weak", run(ranks, 256, args.device, args.steps, threads)))
        rows.append(("strong", run(ranks, 256 // ranks, args.device, args.steps, threads)))
    base = {kind: r["samples_per_second"] for kind, r in rows if r["ranks"] == 1}
    print(f"device {args.device}, {cores} cores; BLAS threads per rank: {threads or 'default'}\n")
    print("| scaling | ranks | rows per rank | ms/step | samples/s | efficiency | collectives/step "
          "| MiB all-reduced per step |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, r in rows:
        efficiency = r["samples_per_second"] / (r["ranks"] * base[kind]) if kind in base else None
        print(f"| {kind} | {r['ranks']} | {r['rows_per_rank']} | "
              f"{r['seconds_per_step'] * 1e3:.1f} | {r['samples_per_second']:,.0f} | "
              f"{'-' if efficiency is None else f'{efficiency:.0%}'} | "
              f"{r['collectives_per_step']} | {r['bytes_per_rank_per_step'] / 2**20:.1f} |")
    print(f"\nparameters: {rows[0][1]['parameters']:,} (float32); default buckets of 25 MiB")


if __name__ == "__main__":
    main()
