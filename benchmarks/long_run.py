"""Long-run check: does memory stay flat over many training steps?

Trains an MLP with Adam for ``--steps`` steps (20,000 by default) on a small fixed data set
(a new batch tensor every step, the loss read with ``.item()`` every step, as a training
loop does) and every ``--every`` steps samples:

- the process's resident memory (RSS, from /proc/self/statm; elsewhere the peak RSS that
  ``resource`` reports);
- the bytes gpugrad.memory.track sees allocated since the start, net of what was freed
  (tracemalloc on CPU, which sees NumPy's buffers and every Python object; CuPy's allocation
  hook on CUDA);
- on CUDA, the CuPy memory pool's used and total bytes;
- the number of live Python objects and of live gpugrad tensors.

The first ``--every`` steps are the warm-up (Adam's moment buffers, caches): growth is
reported from the sample after them to the last sample, and to the largest. Writes a table
(``--out``, default benchmarks/results/long_run_<device>.txt) and the raw samples next to it
(.json).

    python benchmarks/long_run.py                          # CPU, about 5 minutes on 2 cores
    python benchmarks/long_run.py --device cuda
    python benchmarks/long_run.py --steps 200 --every 100 --out /tmp/x.txt     # a dry run

Example::

    >>> result = run("cpu", steps=20, every=10, sizes=(8, 16, 4), batch=4)
    >>> [s["step"] for s in result["samples"]]
    [0, 10, 20]
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import sys
import time

import common  # this checkout's gpugrad first on sys.path; the machine's description
import gpu_common

import numpy as np

import gpugrad
from gpugrad import nn, optim
from gpugrad.nn import functional as F

MIB = 2 ** 20


def rss_bytes() -> int:
    """The resident set size of this process now (its peak where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _pool(device) -> dict:
    if device.type != "cuda":
        return {}
    import cupy
    gpugrad.backend.synchronize(device)
    pool = cupy.get_default_memory_pool()
    return {"pool_used_bytes": int(pool.used_bytes()), "pool_total_bytes": int(pool.total_bytes())}


def _live_counts() -> dict:
    gc.collect()
    objects = gc.get_objects()
    return {"python_objects": len(objects),
            "tensors": sum(isinstance(o, gpugrad.Tensor) for o in objects)}


def run(device: str = "cpu", steps: int = 20_000, every: int = 1_000, sizes=(64, 256, 256, 10),
        batch: int = 32, track: bool = True, seed: int = 0, log=None) -> dict:
    """Train and sample (see the module docstring); returns the configuration, the samples
    and the growth summary."""
    if steps < 1 or every < 1:
        raise ValueError(f"steps and every must be >= 1, got {steps} and {every}")
    device = gpugrad.backend.Device(device)
    gpugrad.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((64 * batch, sizes[0])).astype(np.float32)
    labels = rng.integers(0, sizes[-1], size=len(data))
    model = nn.MLP(list(sizes), device=device)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    tracker = gpugrad.memory.track(device) if track else None
    samples = []

    def sample(step, loss, started):
        row = {"step": step, "seconds": round(time.perf_counter() - started, 3),
               "loss": loss, "rss_bytes": rss_bytes()}
        if tracker is not None:
            row["tracked_bytes"] = tracker.mark(f"step {step}")
        row.update(_pool(device))
        row.update(_live_counts())
        samples.append(row)
        if log is not None:
            log(_row_text(row))

    if tracker is not None:
        tracker.__enter__()
    try:
        started = time.perf_counter()
        sample(0, None, started)
        for step in range(1, steps + 1):
            start = (step * batch) % len(data)
            x = gpugrad.tensor(data[start:start + batch], device=device)
            y = gpugrad.tensor(labels[start:start + batch], device=device)
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            value = loss.item()
            if step % every == 0 or step == steps:
                sample(step, round(value, 6), started)
    finally:
        if tracker is not None:
            tracker.__exit__(None, None, None)
    return {"config": {"device": str(device), "steps": steps, "every": every,
                       "sizes": list(sizes), "batch": batch, "optimizer": "Adam(lr=1e-3)",
                       "tracked": track},
            "samples": samples, "growth": growth(samples)}


METRICS = ("rss_bytes", "tracked_bytes", "pool_used_bytes", "pool_total_bytes",
           "python_objects", "tensors")


def growth(samples: list) -> dict:
    """Per metric: the value after the warm-up (the second sample), the last value, and
    last - first and max - first over the samples from there on."""
    after = samples[1:] if len(samples) > 1 else samples
    out = {}
    for key in METRICS:
        if key not in after[0]:
            continue
        values = [s[key] for s in after]
        out[key] = {"after_warmup": values[0], "last": values[-1],
                    "growth": values[-1] - values[0], "max_growth": max(values) - values[0]}
    return out


def _row_text(row: dict) -> str:
    parts = [f"step {row['step']:>6}", f"{row['seconds']:8.1f} s",
             f"rss {row['rss_bytes'] / MIB:8.2f} MiB"]
    if "tracked_bytes" in row:
        parts.append(f"tracked {row['tracked_bytes'] / MIB:8.3f} MiB")
    if "pool_used_bytes" in row:
        parts.append(f"pool used {row['pool_used_bytes'] / MIB:8.2f} / total "
                     f"{row['pool_total_bytes'] / MIB:8.2f} MiB")
    parts.append(f"objects {row['python_objects']:>7}  tensors {row['tensors']:>4}")
    if row["loss"] is not None:
        parts.append(f"loss {row['loss']:.4f}")
    return "  ".join(parts)


def _machine_text(env: dict) -> str:
    """``common.machine()``'s fields (and the card, on CUDA) in one line."""
    blas = f" ({env['numpy_blas']})" if env.get("numpy_blas") else ""
    return (f"{env['machine']}, {env['cpus']} cores ({env['processor']}), Python "
            f"{env['python']}, NumPy {env['numpy']}{blas}"
            + "".join(f", {k}={v}" for k, v in env.items() if k.isupper())
            + (f", {env['card']}" if env.get("card") else ""))


def report(result: dict, env: dict) -> str:
    c = result["config"]
    lines = [f"# benchmarks/long_run.py: {c['steps']} Adam steps of MLP {c['sizes']}, batch "
             f"{c['batch']}, on {c['device']}; memory sampled every {c['every']} steps.",
             f"# {env['date']}, commit {env['commit']}, {_machine_text(env)}", ""]
    lines += [_row_text(row) for row in result["samples"]]
    first = result["samples"][min(1, len(result["samples"]) - 1)]["step"]
    lines += ["", f"Growth from step {first} (after the warm-up) to the last step, and to the "
                  f"largest sample:"]
    span = max(result["samples"][-1]["step"] - first, 1)
    for key, g in result["growth"].items():
        if key in ("python_objects", "tensors"):
            lines.append(f"    {key:<18} {g['after_warmup']:12d} -> {g['last']:12d}: "
                         f"{g['growth']:+d} (max {g['max_growth']:+d})")
            continue
        lines.append(f"    {key:<18} {g['after_warmup'] / MIB:8.3f} MiB -> "
                     f"{g['last'] / MIB:8.3f} MiB: {g['growth'] / MIB:+.3f} MiB (max "
                     f"{g['max_growth'] / MIB:+.3f} MiB; {g['growth'] / span:+.1f} bytes a step)")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=1_000)
    parser.add_argument("--sizes", default="64,256,256,10", help="MLP sizes (default %(default)s)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--no-track", action="store_true",
                        help="skip gpugrad.memory.track (tracemalloc on CPU slows each step)")
    parser.add_argument("--out", help="the table (default benchmarks/results/long_run_<device>"
                                      ".txt); the samples go next to it as .json")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not gpu_common.gpu_usable("long_run.py --device cuda"):
        return gpu_common.NO_GPU_EXIT
    kind = args.device.split(":")[0]
    out = args.out or os.path.join(gpu_common.ROOT, "benchmarks", "results",
                                   f"long_run_{kind}.txt")
    env = {"date": f"{datetime.datetime.now():%Y-%m-%d %H:%M}",
           "commit": gpu_common.commit(mark_uncommitted=True), **common.machine()}
    if kind == "cuda":
        import cupy
        env["card"] = gpu_common.card(cupy)["card"]
    result = run(args.device, args.steps, args.every,
                 tuple(int(s) for s in args.sizes.split(",")), args.batch,
                 track=not args.no_track, log=lambda text: print(text, flush=True))
    text = report(result, env)
    print()
    print(text, end="")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)
    with open(os.path.splitext(out)[0] + ".json", "w") as f:
        json.dump({"env": env, **result}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
