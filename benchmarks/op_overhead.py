"""What one eager op costs gpugrad above NumPy's own call for the same op, per op family.

Each row times one small op (64 float32 values, or 8x8 matrices) as NumPy runs it on raw
arrays and as gpugrad runs it on tensors that do not require grad; the difference is
gpugrad's host overhead per op, which the target holds to at most 1.5 us (issue 17). A
second column, for information, times the same op on tensors that require grad (the op is
recorded in the graph; in-place ops on such tensors are refused, as in PyTorch).

The calls alternate (NumPy's batch, then gpugrad's, ...) and each figure is the fastest
batch, as ``timeit`` advises: on a shared machine the slower batches measure the other
processes, and alternating lets a quiet moment serve both sides alike.

Run: python benchmarks/op_overhead.py [--quick] [--repeat 21] [--number 1000]
(``make bench`` writes it to benchmarks/results/cpu_op_overhead.md and prints it;
``--quick`` runs a few calls of each, for tests: its timings mean nothing.)
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import common  # noqa: F401  (first: puts this checkout's gpugrad on sys.path)
import gpugrad  # noqa: E402

TARGET_US = 1.5
HEADER = ["family", "op", "NumPy us", "gpugrad us", "overhead us", "meets 1.5 us",
          "gpugrad us (requires_grad)"]


def _operands(requires_grad: bool) -> dict:
    """The raw arrays and the tensors over them (64 values; 8x8 matrices)."""
    rng = np.random.default_rng(0)
    a, b = rng.random(64, np.float32) + 0.5, rng.random(64, np.float32) + 0.5
    m, n = rng.random((8, 8), np.float32), rng.random((8, 8), np.float32)
    tensors = {k: gpugrad.tensor(v, requires_grad=requires_grad)
               for k, v in dict(a=a, b=b, m=m, n=n).items()}
    return dict(a=a, b=b, m=m, n=n, **{"t" + k: v for k, v in tensors.items()})


# (family, op, NumPy's call, gpugrad's call); each takes the operands of _operands
CASES = [
    ("binary, tensor", "a + b", lambda o: o["a"] + o["b"], lambda o: o["ta"] + o["tb"]),
    ("binary, tensor", "a * b", lambda o: o["a"] * o["b"], lambda o: o["ta"] * o["tb"]),
    ("binary, scalar", "a + 1.0", lambda o: o["a"] + 1.0, lambda o: o["ta"] + 1.0),
    ("binary, scalar", "a * 2.0", lambda o: o["a"] * 2.0, lambda o: o["ta"] * 2.0),
    ("unary", "exp(a)", lambda o: np.exp(o["a"]), lambda o: o["ta"].exp()),
    ("unary", "tanh(a)", lambda o: np.tanh(o["a"]), lambda o: o["ta"].tanh()),
    ("unary", "-a", lambda o: -o["a"], lambda o: -o["ta"]),
    ("comparison", "a > b", lambda o: o["a"] > o["b"], lambda o: o["ta"] > o["tb"]),
    ("comparison", "a > 0.5", lambda o: o["a"] > 0.5, lambda o: o["ta"] > 0.5),
    ("reduction", "a.sum()", lambda o: o["a"].sum(), lambda o: o["ta"].sum()),
    ("reduction", "a.mean()", lambda o: o["a"].mean(), lambda o: o["ta"].mean()),
    ("shape", "a.reshape(8, 8)", lambda o: o["a"].reshape(8, 8),
     lambda o: o["ta"].reshape(8, 8)),
    ("shape", "m.T", lambda o: o["m"].T, lambda o: o["tm"].T),
    ("matmul", "m @ n (8x8)", lambda o: o["m"] @ o["n"], lambda o: o["tm"] @ o["tn"]),
    ("in-place", "a += b (add_)", lambda o: np.add(o["a"], o["b"], out=o["a"]),
     lambda o: o["ta"].add_(o["tb"])),
    ("in-place", "a *= 1.0 (mul_)", lambda o: np.multiply(o["a"], 1.0, out=o["a"]),
     lambda o: o["ta"].mul_(1.0)),
]


def _batch_us(fn, operands, number: int) -> float:
    """Microseconds per call of ``fn(operands)``, over ``number`` calls."""
    clock = time.perf_counter
    start = clock()
    for _ in range(number):
        fn(operands)
    return (clock() - start) / number * 1e6


def measure(repeat: int, number: int) -> list:
    """One row per case: (family, op, NumPy us, gpugrad us, gpugrad us with grad or None)."""
    plain, grad = _operands(False), _operands(True)      # (in-place cases come last)
    rows = []
    for family, name, numpy_call, gpugrad_call in CASES:
        in_place = family == "in-place"
        times = {"numpy": [], "gpugrad": [], "grad": []}
        numpy_call(plain), gpugrad_call(plain)                  # warm up
        for _ in range(repeat):
            times["numpy"].append(_batch_us(numpy_call, plain, number))
            times["gpugrad"].append(_batch_us(gpugrad_call, plain, number))
            if not in_place:
                times["grad"].append(_batch_us(gpugrad_call, grad, number))
        with_grad = min(times["grad"]) if times["grad"] else None
        rows.append((family, name, min(times["numpy"]), min(times["gpugrad"]), with_grad))
    return rows


def table(rows) -> str:
    """The Markdown table of ``rows`` (from ``measure``) and a line per family."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    worst = {}
    for family, name, numpy_us, gpugrad_us, grad_us in rows:
        over = gpugrad_us - numpy_us
        worst[family] = max(worst.get(family, over), over)
        lines.append(f"| {family} | `{name}` | {numpy_us:.2f} | {gpugrad_us:.2f} | "
                     f"{over:.2f} | {'yes' if over <= TARGET_US else 'no'} | "
                     f"{'n/a (refused)' if grad_us is None else f'{grad_us:.2f}'} |")
    met = [f for f, w in worst.items() if w <= TARGET_US]
    lines += ["", f"Families within {TARGET_US} us of NumPy (worst op of each): "
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
    args = parser.parse_args(argv)
    repeat, number = (1, 3) if args.quick else (args.repeat, args.number)
    machine = common.machine()
    print(f"### Eager overhead per op: 64 float32 values (8x8 matrices), fastest of {repeat} "
          f"alternating batches of {number} calls ({machine['processor']}, "
          f"{machine['cpus']} CPUs, Python {machine['python']}, NumPy {machine['numpy']})")
    print()
    print(table(measure(repeat, number)))


if __name__ == "__main__":
    main()
