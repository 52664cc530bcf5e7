"""The CPU benchmark suite: every (library, workload) in its own process, checked against
float64 before it is timed; prints a Markdown table and writes JSON.

Run: make bench   (or: python benchmarks/suite.py [--libs numpy,gpugrad,torch,jax]
                   [--workloads mlp-large,...] [--rounds 2] [--out FILE.json])

PyTorch (pip install torch==2.13.0) and JAX (pip install jax) are measured when installed.
Rounds interleave the libraries (round 1: all of them, then round 2...) and each cell is the
median over rounds of the per-process medians, so a noisy minute on a shared machine hits
every library alike. mlp-large is also run by the NumPy floor and gpugrad with glibc's
allocator tuned (MALLOC_TRIM_THRESHOLD_/MALLOC_MMAP_THRESHOLD_), to show what the allocator
is worth. A last line divides each library's per-example-grads by its batched-grad: what
per-example gradients cost over one ordinary gradient of the same batch.
"""

from __future__ import annotations

import argparse
import ast
import functools
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

import common

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TUNED_SUFFIX = "+tuned-malloc"
LIBS = ["numpy", "gpugrad", "gpugrad_compiled", "torch", "jax"]
MINE = ["gpugrad", "gpugrad_compiled"]        # the rows' ratios are of these
# what each of MINE is divided by (those present): gpugrad by every other library, the
# compiled step only by the NumPy floor and JAX's jit (its fellow compiler)
AGAINST = {"gpugrad": ["numpy", "numpy" + TUNED_SUFFIX, "torch", "jax"],
           "gpugrad_compiled": ["numpy", "jax"]}
UNITS = {"mlp-tiny": ("us/step", 1e6), "scalar": ("us/eval", 1e6), "hessian": ("ms", 1e3),
         "per-example-grads": ("ms", 1e3), "batched-grad": ("ms", 1e3)}


def available(lib: str) -> bool:
    return lib in ["numpy"] + MINE or importlib.util.find_spec(lib) is not None


@functools.lru_cache(maxsize=None)
def _functions(lib: str) -> frozenset:
    """The top-level functions of ``impl_<lib>.py``, read from its source (no import: the
    suite process stays free of torch and jax)."""
    with open(os.path.join(HERE, f"impl_{lib}.py")) as f:
        tree = ast.parse(f.read())
    return frozenset(node.name for node in tree.body if isinstance(node, ast.FunctionDef))


def implements(lib: str, workload: str) -> bool:
    """Whether ``impl_<lib>.py`` has the workload's function: ``mlp`` for the MLP workloads,
    else the workload's name with underscores (``scalar``, ``per_example_grads``...)."""
    name = "mlp" if workload in common.MLP_WORKLOADS else workload.replace("-", "_")
    return name in _functions(lib)


def measure(lib: str, workload: str, tuned: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, HERE]))
    if tuned:
        env.update(common.TUNED_ALLOCATOR)
    done = subprocess.run([sys.executable, os.path.join(HERE, "run_one.py"), lib, workload],
                          capture_output=True, text=True, env=env, cwd=HERE)
    name = lib + (TUNED_SUFFIX if tuned else "")
    if done.returncode != 0:
        return {"lib": name, "workload": workload,
                "error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["lib"] = name
    if tuned:
        result["name"] += " (tuned malloc)"
    return result


def combine(rounds: list) -> dict:
    """One result from the same configuration's rounds: the median time, the last memory."""
    ok = [r for r in rounds if "seconds" in r]
    if not ok:
        return rounds[-1]
    result = dict(ok[-1])
    result["round_seconds"] = [r["seconds"] for r in ok]
    result["seconds"] = statistics.median(result["round_seconds"])
    if "gflops" in result:
        result["gflops"] = statistics.median(r["gflops"] for r in ok)
    return result


def _cell(r: dict, scale: float) -> str:
    if "seconds" not in r:
        return r.get("error", "-")[:40]
    value = r["seconds"] * scale
    text = f"{value:.2f}" if value < 10 else f"{value:.1f}"
    if "peak_step_mib" in r:
        text += f" ({r['peak_step_mib']:.0f} MiB peak)"
    if "rss_increase_first_step_mib" in r:
        text += f" (rss +{r['rss_increase_first_step_mib']:.0f} MiB)"
    if "gflops" in r and "deep" not in r["workload"]:
        text += f" ({r['gflops']:.0f} GFLOP/s)"
    return text


def table(results: list, libs: list, workloads: list) -> str:
    by = {(r["lib"], r["workload"]): r for r in results}
    names = {lib: next((r.get("name", lib) for r in results if r["lib"] == lib), lib)
             for lib in libs}
    pairs = [(mine, lib) for mine in MINE if mine in libs for lib in AGAINST[mine]
             if lib in libs]
    header = "| workload | " + " | ".join(names[lib] for lib in libs)
    header += "".join(f" | {names[mine]} / {names[lib]}" for mine, lib in pairs)
    lines = [header + " |", "|" + "---|" * (header.count("|"))]
    for workload in workloads:
        unit, scale = UNITS.get(workload, ("ms/step", 1e3))
        cells = [_cell(by.get((lib, workload), {}), scale) for lib in libs]
        row = f"| {workload} ({unit}) | " + " | ".join(cells)
        for mine, lib in pairs:
            ours = by.get((mine, workload), {}).get("seconds")
            theirs = by.get((lib, workload), {}).get("seconds")
            row += f" | {ours / theirs:.2f}x" if ours and theirs else " | -"
        lines.append(row + " |")
    return "\n".join(lines)


def ratios(results: list, libs: list) -> dict:
    """Per library: per-example-grads time / batched-grad time (where both ran).

    Example::

        >>> ratios([{"lib": "numpy", "workload": "per-example-grads", "seconds": 0.03},
        ...         {"lib": "numpy", "workload": "batched-grad", "seconds": 0.002}], ["numpy"])
        {'numpy': 15.0}
    """
    by = {(r["lib"], r["workload"]): r.get("seconds") for r in results}
    out = {}
    for lib in libs:
        per_example, batched = by.get((lib, "per-example-grads")), by.get((lib, "batched-grad"))
        if per_example and batched:
            out[lib] = per_example / batched
    return out


def ratios_line(results: list, libs: list) -> str:
    """The ratios as one line of text ("" when no library ran both workloads)."""
    names = {r["lib"]: r.get("name", r["lib"]) for r in results}
    found = ratios(results, libs)
    if not found:
        return ""
    return "per-example-grads / batched-grad: " + ", ".join(
        f"{names[lib]} {value:.1f}x" for lib, value in found.items())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--libs", default=",".join(LIBS))
    parser.add_argument("--workloads", default=",".join(common.WORKLOADS))
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per cell")
    parser.add_argument("--out", default=None, help="JSON file for the raw results")
    args = parser.parse_args(argv)
    libs = [lib for lib in args.libs.split(",") if available(lib)]
    workloads = args.workloads.split(",")
    unknown = sorted(set(workloads) - set(common.WORKLOADS))
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {common.WORKLOADS}")
    configs = [(lib, w, False) for w in workloads for lib in libs if implements(lib, w)]
    if "mlp-large" in workloads:
        configs += [(lib, "mlp-large", True) for lib in ("numpy", "gpugrad") if lib in libs]
    runs = {config: [] for config in configs}
    peak_before = common.gemm_gflops()
    for round_number in range(1, args.rounds + 1):
        for lib, workload, tuned in configs:
            result = measure(lib, workload, tuned)
            runs[(lib, workload, tuned)].append(result)
            shown = f"{result['seconds'] * 1e3:.3f} ms" if "seconds" in result else \
                result.get("error")
            print(f"round {round_number} {workload:>22} {result['lib']:>20}: {shown}",
                  file=sys.stderr, flush=True)
    results = [combine(rounds) for rounds in runs.values()]
    shown_libs = list(libs)
    for lib in ("numpy", "gpugrad"):
        if (lib, "mlp-large", True) in runs:
            shown_libs.insert(shown_libs.index(lib) + 1, lib + TUNED_SUFFIX)
    peak = max(peak_before, common.gemm_gflops())
    print(f"\nMachine: {json.dumps(common.machine())}")
    print(f"NumPy sgemm 1024^3: {peak_before:.0f} GFLOP/s before the runs, {peak:.0f} the "
          f"best of before and after (the practical peak; a drop means a busy host)")
    versions = {r["lib"]: r["version"] for r in results if "version" in r}
    print(f"Versions: {json.dumps(versions)}\n")
    print(table(results, shown_libs, workloads))
    ratio_text = ratios_line(results, libs)
    if ratio_text:
        print("\n" + ratio_text)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                       "command": "python " + " ".join([os.path.relpath(__file__, ROOT)]
                                                       + (argv or sys.argv[1:])),
                       "machine": common.machine(), "sgemm_gflops_before": peak_before,
                       "sgemm_gflops_best": peak,
                       "rounds": args.rounds, "results": results,
                       "per_example_over_batched": ratios(results, libs)}, f, indent=2)


if __name__ == "__main__":
    main()
