#!/usr/bin/env bash
# Run gpugrad's whole test suite on a GPU machine (every `device` test runs on cpu and cuda,
# and the `cuda` tests of the fused kernels), the fused-kernel benchmark and a short GPU smoke
# check; record the card, driver, versions, every test's outcome and every timing.
# Writes, in OUTDIR, gpu_check_<card>_<date>_<commit>.txt (the whole log) and
# gpu_kernels_<card>_<date>_<commit>.json / .md (benchmarks/gpu_kernels.py's results).
# Expected run time on an H100/H200: about 4-5 minutes (test suite ~1.5-2 min, kernel
# benchmark ~1-1.5 min, smoke, training and checkpoint runs ~1.5 min); keep it under 6.
#
# Usage, from the repository root on a machine with a GPU, CuPy and pytest (no network
# needed; gpugrad runs from the working tree; GPUGRAD_COMMIT names the commit where the
# checkout has no .git):
#     benchmarks/gpu_check.sh [OUTDIR] [--training]   # default OUTDIR: benchmarks/results
# --training adds benchmarks/gpu_training.py (gpugrad eager / unfused / CUDA graph against
# PyTorch eager, PyTorch CUDA graphs and JAX jit, float32 / TF32 / float16; about 3 more
# minutes, capped by --budget-s), written as gpu_training_<card>_<date>_<commit>.json / .md.
set -uo pipefail
out=${1:-benchmarks/results}
training=${2:-}
mkdir -p "$out"
card=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1 | tr -c 'A-Za-z0-9\n' '-')
commit=${GPUGRAD_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
stem="${card}_$(date -u +%Y-%m-%d)_${commit}"
log="$out/gpu_check_${stem}.txt"
export PYTHONPATH=. PYTHONUNBUFFERED=1
{
    echo "# gpugrad GPU check, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    python3 - <<'PY'
import sys, numpy, cupy
rt, drv = cupy.cuda.runtime.runtimeGetVersion(), cupy.cuda.runtime.driverGetVersion()
print(f"python {sys.version.split()[0]}, numpy {numpy.__version__}, cupy {cupy.__version__}, "
      f"CUDA runtime {rt}, driver API {drv}")
PY
    python3 -m pytest -v -p no:cacheprovider --tb=short --durations=10 tests
    echo "pytest exit status: $?"
    echo "## fused kernels: bandwidth against a copy, unfused and PyTorch, MLP steps"
    python3 benchmarks/gpu_kernels.py --out-json "$out/gpu_kernels_${stem}.json" \
        --out-md "$out/gpu_kernels_${stem}.md"
    echo "gpu_kernels exit status: $?"
    python3 benchmarks/gpu_smoke.py
    echo "## gpugrad train on cuda: digits, then 200,000 synthetic rows"
    python3 -m gpugrad train --data digits --device cuda --no-progress --out "$out/train_digits"
    python3 -m gpugrad train --data synthetic --synthetic-size 200000 --batch-size 1024 \
        --hidden 512,512 --epochs 3 --device cuda --no-progress --out "$out/train_synthetic"
    if [ "$training" = "--training" ]; then
        echo "## training steps against PyTorch and JAX (benchmarks/gpu_training.py)"
        python3 benchmarks/gpu_training.py --budget-s 180 \
            --out-json "$out/gpu_training_${stem}.json" --out-md "$out/gpu_training_${stem}.md"
        echo "gpu_training exit status: $?"
    fi
    echo "## gpugrad experiment checkpoint on cuda"
    python3 -m gpugrad experiment checkpoint --device cuda --depth 64 --width 1024 \
        --batch 256 --every 4 --budgets 0.2,0.3,0.5 --out "$out/checkpoint_cuda"
} 2>&1 | tee "$log"
echo "written: $log"
