"""Build hook: copy the CUDA sources (kernels/*.cu, *.cuh) into the built package as
``gpugrad/kernels/``, so that an installed gpugrad finds them (gpugrad/cuda/sources.py);
a source checkout reads ``kernels/`` directly. Everything else is in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

KERNELS = Path(__file__).resolve().parent / "kernels"


class BuildPyWithKernels(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "gpugrad" / "kernels"
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted(KERNELS.glob("*.cu")) + sorted(KERNELS.glob("*.cuh")):
            shutil.copy2(source, target / source.name)


setup(cmdclass={"build_py": BuildPyWithKernels})
