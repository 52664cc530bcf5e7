"""Where gpugrad's time goes, per op record, for the overhead-bound workloads (mlp-tiny and
scalar): how often each record's forward and reverse rule run per step, the time inside the
forward (the arithmetic NumPy does) and inside the rule, and the time in gpugrad's own
machinery (recording, the backward engine, tensor wrapping) by function.

Run: python benchmarks/profile_overhead.py [--steps 500]

cProfile adds a cost to every Python call, so absolute numbers are inflated; read the
columns as shares of the step.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats

import common  # first: puts this checkout's gpugrad on sys.path
import impl_gpugrad  # noqa: E402
from gpugrad.ops import REGISTRY  # noqa: E402


def _rule_codes() -> dict:
    """code object -> (op name, "forward" or "vjp")."""
    codes = {}
    for name, op in REGISTRY.items():
        for kind in ("forward", "vjp"):
            fn = getattr(op.__dict__.get(kind), "__func__", op.__dict__.get(kind))
            if fn is not None and hasattr(fn, "__code__"):      # (rules are staticmethods)
                codes[fn.__code__] = (name, kind)
    return codes


def profile(fn, steps: int) -> pstats.Stats:
    for _ in range(20):
        fn()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        fn()
    profiler.disable()
    return pstats.Stats(profiler)


def report(title: str, stats: pstats.Stats, steps: int) -> str:
    codes = _rule_codes()
    per_op = {}
    machinery = []
    total = stats.total_tt
    for (path, line, func), (_, calls, tottime, cumtime, _) in stats.stats.items():
        match = next((v for code, v in codes.items()
                      if code.co_filename == path and code.co_firstlineno == line), None)
        if match:
            entry = per_op.setdefault(match[0], {"forward": [0, 0.0], "vjp": [0, 0.0]})
            entry[match[1]] = [calls, tottime if match[1] == "forward" else cumtime]
        elif "gpugrad" in path:
            machinery.append((tottime, calls, f"{os.path.relpath(path)}:{line}({func})"))
    lines = [f"### {title}: {total / steps * 1e6:.0f} us/step under cProfile", "",
             "| op record | forward calls/step | forward us/step | rule calls/step | "
             "rule us/step (incl. the ops it runs) |", "|---|---|---|---|---|"]
    for name, entry in sorted(per_op.items(), key=lambda kv: -kv[1]["forward"][1]):
        (fc, ft), (vc, vt) = entry["forward"], entry["vjp"]
        lines.append(f"| {name} | {fc / steps:.0f} | {ft / steps * 1e6:.1f} | "
                     f"{vc / steps:.0f} | {vt / steps * 1e6:.1f} |")
    arithmetic = sum(e["forward"][1] for e in per_op.values())
    lines += ["", f"Arithmetic inside op forwards (NumPy): {arithmetic / steps * 1e6:.0f} "
              f"us/step ({arithmetic / total:.0%}); the rest is Python: gpugrad's machinery "
              f"and NumPy's per-call cost.", "",
              "| gpugrad function (own time) | us/step | calls/step |", "|---|---|---|"]
    for tottime, calls, where in sorted(machinery, reverse=True)[:12]:
        lines.append(f"| {where} | {tottime / steps * 1e6:.1f} | {calls / steps:.1f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args(argv)
    sizes, batch, _ = common.MLP_WORKLOADS["mlp-tiny"]
    tiny = impl_gpugrad.mlp(*common.mlp_setup(sizes, batch), 0)
    print(report("mlp-tiny (64-64-64-10, batch 32, one SGD step)", profile(tiny, args.steps),
                 args.steps))
    print()
    scalar = impl_gpugrad.scalar()
    print(report("scalar (z = x**2 * y + y**3 and its gradient)",
                 profile(scalar, args.steps * 4), args.steps * 4))


if __name__ == "__main__":
    main()
