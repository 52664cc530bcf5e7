"""Is glibc's allocator costing the mlp-large step time? Page faults, system time and step
time per step, for the NumPy floor and gpugrad, with glibc's defaults and with freed memory
kept (MALLOC_TRIM_THRESHOLD_/MALLOC_MMAP_THRESHOLD_), in interleaved fresh processes.

Run: python benchmarks/allocator.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

import common

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CHILD = """
import json, resource, statistics, sys, time
import common, impl_{lib} as impl
sizes, batch, _ = common.MLP_WORKLOADS["mlp-large"]
step = impl.mlp(*common.mlp_setup(sizes, batch), 0)
for _ in range(3):
    step()
before, times = resource.getrusage(resource.RUSAGE_SELF), []
for _ in range(15):
    start = time.perf_counter(); step(); times.append(time.perf_counter() - start)
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"ms": statistics.median(times) * 1e3,
                   "faults": (after.ru_minflt - before.ru_minflt) / 15,
                   "sys_ms": (after.ru_stime - before.ru_stime) / 15 * 1e3}}))
"""


def run(lib: str, tuned: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, HERE]))
    if tuned:
        env.update(common.TUNED_ALLOCATOR)
    done = subprocess.run([sys.executable, "-c", CHILD.format(lib=lib)], env=env, cwd=HERE,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    configs = [(lib, tuned) for lib in ("numpy", "gpugrad") for tuned in (False, True)]
    runs = {config: [] for config in configs}
    for _ in range(args.rounds):
        for config in configs:
            runs[config].append(run(*config))
    print("| library | allocator | ms/step (median of rounds) | minor faults/step | "
          "system ms/step |")
    print("|---|---|---|---|---|")
    for (lib, tuned), results in runs.items():
        each = ", ".join(f"{r['ms']:.1f}" for r in results)
        print(f"| {lib} | {'freed memory kept' if tuned else 'glibc defaults'} | "
              f"{statistics.median(r['ms'] for r in results):.1f} ({each}) | "
              f"{statistics.median(r['faults'] for r in results):.1f} | "
              f"{statistics.median(r['sys_ms'] for r in results):.2f} |")


if __name__ == "__main__":
    main()
