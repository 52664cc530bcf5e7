#!/usr/bin/env bash
# The one prepared GPU run (benchmarks/gpu_run.py): preflight, the cuda tests, the kernel
# and training benchmarks, gpugrad train, the rest of the suite, each stage with a time cap,
# every file written straight into OUTDIR (8 at most). From the repository root:
#     benchmarks/gpu_run.sh OUTDIR [--total-s 520] [--cpu-dry-run]
# On the device tool: benchmarks/gpu_run.sh "$OUT" (timeout_s about 540).
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=. PYTHONUNBUFFERED=1
exec "${PYTHON:-python3}" benchmarks/gpu_run.py "$@"
