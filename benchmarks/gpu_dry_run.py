"""``--cpu-dry-run`` of benchmarks/gpu_kernels.py: the benchmark's own code, on the CPU, at
tiny sizes, so a GPU session does not fail on a typo (the numbers mean nothing).

CuPy is stood in for by NumPy (``NumpyAsCupy``: the few functions the benchmark calls), and
the fused kernels really run: gpugrad/cuda/launch.py's launchers execute kernels/*.cu
thread by thread on the CPU through the emulated device of tests/kernel_emulation.py
(g++ builds them). The MLP steps run on the CPU device, where gpugrad takes its reference
paths. Example::

    >>> with emulated_gpu() as cp:
    ...     y = launch.relu_forward(cp.random.standard_normal(1024, dtype=cp.float32))
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from types import SimpleNamespace

import numpy as np

import gpu_common

SIZES_MB = (1 / 256,)                                   # 1024 float32 elements
LINEAR = (((9, 17, 33), "float32"), ((5, 7, 3), "float64"))
MLPS = (("64-32-10, batch 8", [64, 32, 10], 8),)


class NumpyAsCupy:
    """The parts of CuPy the kernel benchmark uses, on NumPy arrays."""

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.random = SimpleNamespace(standard_normal=rng.standard_normal,
                                      randint=lambda low, high, size: rng.integers(low, high,
                                                                                    size))

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def get_default_memory_pool():
        return SimpleNamespace(free_all_blocks=lambda: None)


@contextlib.contextmanager
def emulated_gpu():
    """Inside: launch.py's launchers run the kernels on the CPU; yields a NumpyAsCupy."""
    sys.path.insert(0, os.path.join(gpu_common.ROOT, "tests"))
    from kernel_emulation import EmulatedDevice
    from gpugrad.cuda import launch
    with launch.using_device(EmulatedDevice()):
        yield NumpyAsCupy()


def environment() -> dict:
    """The fields of gpu_kernels.py's environment, for the dry run."""
    none = "- (dry run)"
    return {"card": "cpu dry run (kernels emulated; numbers mean nothing)",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "driver": none,
            "cuda_runtime": none, "cupy": none, "torch": none, "numpy": np.__version__,
            "python": sys.version.split()[0], "commit": gpu_common.commit(),
            "timing": "host clock"}
