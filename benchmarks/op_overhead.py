"""What one eager op costs gpugrad above NumPy's own call for the same op, per op family.

Each row times one small op (64 float32 values, or 8x8 matrices) as NumPy runs it on raw
arrays and as gpugrad runs it on tensors that do not require grad; the difference is
gpugrad's host overhead per op, which the target holds to at most 1.5 us (issue 17). A
second column, for information, times the same op on tensors that require grad (the op is
recorded in the graph; in-place ops on such tensors are refused, as in PyTorch).

The calls alternate (NumPy's batch, then gpugrad's, ...) and each figure is the fastest
batch, as ``timeit`` advises: on a shared machine the slower batches measure the other
processes, and alternating lets a quiet moment serve both sides alike.

``--device cuda`` runs the same ops on a GPU: the raw side is then CuPy's call, and each
batch ends with a device synchronisation (counted in the batch), so the figure is the host
cost of issuing the op, which is what a small model pays per launch. ``--torch`` adds a
column: PyTorch eager running the same call on its own tensors on the same device.

Run: python benchmarks/op_overhead.py [--device cpu|cuda] [--torch] [--quick]
[--repeat 21] [--number 1000] (``make bench`` writes the CPU table to
benchmarks/results/cpu_op_overhead.md and prints it; ``--quick`` runs a few calls of each,
for tests: its timings mean nothing.)
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import common  # noqa: F401  (first: puts this checkout's gpugrad on sys.path)
import gpugrad  # noqa: E402

TARGET_US = 1.5


def _header(raw: str, torch_column: bool) -> list:
    return (["family", "op", f"{raw} us", "gpugrad us", "overhead us", "meets 1.5 us",
             "gpugrad us (requires_grad)"] + (["PyTorch us"] if torch_column else []))


def _values() -> dict:
    """The operands' values as NumPy arrays (64 values; 8x8 matrices)."""
    rng = np.random.default_rng(0)
    return dict(a=rng.random(64, np.float32) + 0.5, b=rng.random(64, np.float32) + 0.5,
                m=rng.random((8, 8), np.float32), n=rng.random((8, 8), np.float32))


def _operands(requires_grad: bool, device: str = "cpu") -> dict:
    """The raw arrays (``xp``: their module, NumPy or CuPy) and gpugrad tensors over the
    same values (``ta``, ``tb``, ``tm``, ``tn``), on ``device``."""
    values = _values()
    xp = np
    if device != "cpu":
        import cupy as xp
    tensors = {"t" + k: gpugrad.tensor(v, requires_grad=requires_grad, device=device)
               for k, v in values.items()}
    return dict(xp=xp, **{k: xp.asarray(v) for k, v in values.items()}, **tensors)


def _torch_operands(device: str) -> dict:
    """PyTorch tensors under the same keys as gpugrad's: the gpugrad calls run on them."""
    import torch
    return {"t" + k: torch.tensor(v, device=device) for k, v in _values().items()}


# (family, op, NumPy's call, gpugrad's call); each takes the operands of _operands
CASES = [
    ("binary, tensor", "a + b", lambda o: o["a"] + o["b"], lambda o: o["ta"] + o["tb"]),
    ("binary, tensor", "a * b", lambda o: o["a"] * o["b"], lambda o: o["ta"] * o["tb"]),
    ("binary, scalar", "a + 1.0", lambda o: o["a"] + 1.0, lambda o: o["ta"] + 1.0),
    ("binary, scalar", "a * 2.0", lambda o: o["a"] * 2.0, lambda o: o["ta"] * 2.0),
    ("unary", "exp(a)", lambda o: o["xp"].exp(o["a"]), lambda o: o["ta"].exp()),
    ("unary", "tanh(a)", lambda o: o["xp"].tanh(o["a"]), lambda o: o["ta"].tanh()),
    ("unary", "-a", lambda o: -o["a"], lambda o: -o["ta"]),
    ("comparison", "a > b", lambda o: o["a"] > o["b"], lambda o: o["ta"] > o["tb"]),
    ("comparison", "a > 0.5", lambda o: o["a"] > 0.5, lambda o: o["ta"] > 0.5),
    ("reduction", "a.sum()", lambda o: o["a"].sum(), lambda o: o["ta"].sum()),
    ("reduction", "a.mean()", lambda o: o["a"].mean(), lambda o: o["ta"].mean()),
    ("shape", "a.reshape(8, 8)", lambda o: o["a"].reshape(8, 8),
     lambda o: o["ta"].reshape(8, 8)),
    ("shape", "m.T", lambda o: o["m"].T, lambda o: o["tm"].T),
    ("matmul", "m @ n (8x8)", lambda o: o["m"] @ o["n"], lambda o: o["tm"] @ o["tn"]),
    ("in-place", "a += b (add_)", lambda o: o["xp"].add(o["a"], o["b"], out=o["a"]),
     lambda o: o["ta"].add_(o["tb"])),
    ("in-place", "a *= 1.0 (mul_)", lambda o: o["xp"].multiply(o["a"], 1.0, out=o["a"]),
     lambda o: o["ta"].mul_(1.0)),
]


def _batch_us(fn, operands, number: int, sync) -> float:
    """Microseconds per call of ``fn(operands)``, over ``number`` calls and one ``sync``."""
    clock = time.perf_counter
    sync()
    start = clock()
    for _ in range(number):
        fn(operands)
    sync()
    return (clock() - start) / number * 1e6


def _synchronizer(device: str):
    if device == "cpu":
        return lambda: None
    import cupy
    return cupy.cuda.Device().synchronize


def measure(repeat: int, number: int, device: str = "cpu", with_torch: bool = False) -> list:
    """One row per case: (family, op, raw us, gpugrad us, gpugrad us with grad or None,
    PyTorch us or None). Raw is NumPy's call on the CPU, CuPy's on cuda."""
    plain, grad = _operands(False, device), _operands(True, device)   # in-place cases last
    theirs = _torch_operands(device) if with_torch else None
    sync = _synchronizer(device)
    if with_torch and device != "cpu":
        import torch
        torch_sync = torch.cuda.synchronize
    else:
        torch_sync = sync
    rows = []
    for family, name, raw_call, gpugrad_call in CASES:
        in_place = family == "in-place"
        times = {"raw": [], "gpugrad": [], "grad": [], "torch": []}
        raw_call(plain), gpugrad_call(plain)                    # warm up
        if theirs is not None:
            gpugrad_call(theirs)
        for _ in range(repeat):
            times["raw"].append(_batch_us(raw_call, plain, number, sync))
            times["gpugrad"].append(_batch_us(gpugrad_call, plain, number, sync))
            if not in_place:
                times["grad"].append(_batch_us(gpugrad_call, grad, number, sync))
            if theirs is not None:
                times["torch"].append(_batch_us(gpugrad_call, theirs, number, torch_sync))
        best = {k: (min(v) if v else None) for k, v in times.items()}
        rows.append((family, name, best["raw"], best["gpugrad"], best["grad"], best["torch"]))
    return rows


def table(rows, raw: str = "NumPy") -> str:
    """The Markdown table of ``rows`` (from ``measure``) and a line per family; ``raw``
    names the raw side (NumPy or CuPy)."""
    torch_column = any(row[5] is not None for row in rows)
    header = _header(raw, torch_column)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    worst = {}
    for family, name, raw_us, gpugrad_us, grad_us, torch_us in rows:
        over = gpugrad_us - raw_us
        worst[family] = max(worst.get(family, over), over)
        lines.append(f"| {family} | `{name}` | {raw_us:.2f} | {gpugrad_us:.2f} | "
                     f"{over:.2f} | {'yes' if over <= TARGET_US else 'no'} | "
                     f"{'n/a (refused)' if grad_us is None else f'{grad_us:.2f}'} |"
                     + (f" {torch_us:.2f} |" if torch_column else ""))
    met = [f for f, w in worst.items() if w <= TARGET_US]
    lines += ["", f"Families within {TARGET_US} us of {raw} (worst op of each): "
              f"{len(met)} of {len(worst)}"
              + ("" if len(met) == len(worst) else
                 "; not: " + ", ".join(f"{f} (+{w:.2f} us)" for f, w in worst.items()
                                       if w > TARGET_US))]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a few calls of each op (checks that it runs; timings mean nothing)")
    parser.add_argument("--repeat", type=int, default=21, help="alternating batches per op")
    parser.add_argument("--number", type=int, default=1000, help="calls per batch")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where the ops run (cuda: against CuPy's own call)")
    parser.add_argument("--torch", action="store_true",
                        help="add PyTorch eager's time for the same call on the same device")
    args = parser.parse_args(argv)
    repeat, number = (1, 3) if args.quick else (args.repeat, args.number)
    machine = common.machine()
    raw = "NumPy" if args.device == "cpu" else "CuPy"
    where = machine["processor"] if args.device == "cpu" else _gpu_name()
    print(f"### Eager overhead per op on {args.device}: 64 float32 values (8x8 matrices), "
          f"fastest of {repeat} alternating batches of {number} calls ({where}, "
          f"{machine['cpus']} CPUs, Python {machine['python']}, NumPy {machine['numpy']})")
    print()
    print(table(measure(repeat, number, args.device, args.torch), raw))


def _gpu_name() -> str:
    import cupy
    return cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()


if __name__ == "__main__":
    main()
