"""The CPU benchmark suite: every (library, workload) in its own process, checked against
float64 before it is timed; prints a Markdown table and writes JSON.

Run: make bench   (or: python benchmarks/suite.py [--libs numpy,gpugrad,torch,jax]
                   [--workloads mlp-large,...] [--out FILE.json])
PyTorch (pip install torch==2.13.0) and JAX (pip install jax) are measured when installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

import common

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIBS = ["numpy", "gpugrad", "torch", "jax"]
UNITS = {"mlp-tiny": ("us/step", 1e6), "scalar": ("us/eval", 1e6), "hessian": ("ms", 1e3)}


def available(lib: str) -> bool:
    return lib in ("numpy", "gpugrad") or importlib.util.find_spec(lib) is not None


def measure(lib: str, workload: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, HERE]))
    done = subprocess.run([sys.executable, os.path.join(HERE, "run_one.py"), lib, workload],
                          capture_output=True, text=True, env=env, cwd=HERE)
    if done.returncode != 0:
        return {"lib": lib, "workload": workload,
                "error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: list, libs: list, workloads: list) -> str:
    by = {(r["lib"], r["workload"]): r for r in results}
    names = {lib: next((r.get("name", lib) for r in results if r["lib"] == lib), lib)
             for lib in libs}
    header = "| workload | " + " | ".join(names[lib] for lib in libs)
    ratio = "gpugrad" in libs
    header += (" | gpugrad / numpy floor" + (" | gpugrad / pytorch" if "torch" in libs else "")
               if ratio else "") + " |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for workload in workloads:
        unit, scale = UNITS.get(workload, ("ms/step", 1e3))
        cells = []
        for lib in libs:
            r = by.get((lib, workload), {})
            if "seconds" not in r:
                cells.append(r.get("error", "-")[:40])
                continue
            text = f"{r['seconds'] * scale:.2f}" if scale == 1e6 and r['seconds'] < 1e-5 \
                else f"{r['seconds'] * scale:.1f}"
            if "peak_step_mib" in r:
                text += f" ({r['peak_step_mib']:.0f} MiB)"
            elif "rss_increase_first_step_mib" in r:
                text += f" (rss +{r['rss_increase_first_step_mib']:.0f} MiB)"
            cells.append(text)
        row = f"| {workload} ({unit}) | " + " | ".join(cells)
        if ratio:
            mine = by.get(("gpugrad", workload), {}).get("seconds")
            for other in ["numpy"] + (["torch"] if "torch" in libs else []):
                theirs = by.get((other, workload), {}).get("seconds")
                row += f" | {mine / theirs:.2f}x" if mine and theirs else " | -"
        lines.append(row + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--libs", default=",".join(LIBS))
    parser.add_argument("--workloads", default=",".join(common.WORKLOADS))
    parser.add_argument("--out", default=None, help="JSON file for the raw results")
    args = parser.parse_args(argv)
    libs = [lib for lib in args.libs.split(",") if available(lib)]
    workloads = args.workloads.split(",")
    results = []
    for workload in workloads:
        for lib in libs:
            result = measure(lib, workload)
            results.append(result)
            shown = f"{result['seconds'] * 1e3:.3f} ms" if "seconds" in result else \
                result.get("error")
            print(f"{workload:>22} {lib:>8}: {shown}", file=sys.stderr, flush=True)
    print(f"\nMachine: {json.dumps(common.machine())}")
    versions = {r["lib"]: r["version"] for r in results if "version" in r}
    print(f"Versions: {json.dumps(versions)}\n")
    print(table(results, libs, workloads))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                       "machine": common.machine(), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
