"""Where the CUDA sources are and which kernels they define.

The ``.cu`` files live in ``kernels/`` at the top of a source checkout; a built wheel carries
them as ``gpugrad/kernels/`` (copied by ``setup.py``). ``source(file)`` returns a file's text
with its ``#include "..."`` of sibling headers inlined, so that what is compiled (and what
CuPy's kernel cache keys on) is one self-contained string.

``MANIFEST`` lists every kernel the launchers may call, by family; ``kernel_name`` turns a
family and dtypes into the ``extern "C"`` name. Example::

    >>> from gpugrad.cuda.sources import file_of, kernel_name
    >>> kernel_name("relu_bwd", "float32")
    'relu_bwd_f32'
    >>> kernel_name("softmax_xent_fwd", "float64", labels="int32")
    'softmax_xent_fwd_f64_i32'
    >>> file_of("relu_bwd_f32")
    'relu.cu'
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

__all__ = ["MANIFEST", "COMPILE_OPTIONS", "CUPY_ADDS", "kernel_dir", "source_files", "source",
           "defined_kernels", "declared_kernels", "kernel_name", "file_of"]

# file -> kernel families it defines; each family exists for float32 and float64, and the
# ones in LABELED also for int32 and int64 labels.
MANIFEST = {
    "relu.cu": ("relu_fwd", "relu_bwd"),
    "linear.cu": ("bias_relu_fwd", "relu_bias_bwd", "col_sum_partials", "masked_gemm_tn",
                  "masked_gemm_nn"),
    "loss.cu": ("softmax_xent_fwd", "softmax_xent_bwd", "mse_bwd"),
    "optim.cu": ("sgd_multi", "adam_count", "adam_multi"),
}
LABELED = frozenset({"softmax_xent_fwd", "softmax_xent_bwd"})
COUNTERS = frozenset({"adam_count"})          # on int64 counters only: suffix _i64
FLOAT_SUFFIX = {"float32": "f32", "float64": "f64"}
LABEL_SUFFIX = {"int32": "i32", "int64": "i64"}
# NVRTC options gpugrad passes to CuPy at run time; CuPy adds -arch for the device and
# -ftz=true (float32 subnormals flush to zero). The CI check compiles with all of them.
COMPILE_OPTIONS = ("-std=c++17",)
CUPY_ADDS = ("-ftz=true",)

_DEFINITION = re.compile(
    r'extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?(\w+)\s*\(')
_INCLUDE = re.compile(r'^#include\s+"([\w.]+)"\s*$', re.MULTILINE)


def kernel_dir() -> Path:
    """The folder holding the ``.cu`` files: the installed package's copy, else the source
    checkout's ``kernels/``."""
    here = Path(__file__).resolve().parent.parent          # .../gpugrad
    for candidate in (here / "kernels", here.parent / "kernels"):
        if (candidate / "relu.cu").is_file():
            return candidate
    raise FileNotFoundError(
        f"gpugrad's CUDA sources (relu.cu and the others) are in neither {here / 'kernels'} "
        f"nor {here.parent / 'kernels'}; reinstall gpugrad (pip install gpugrad) or run from "
        f"a full source checkout")


def source_files() -> list[str]:
    """The ``.cu`` files of ``kernels/``, sorted."""
    return sorted(p.name for p in kernel_dir().glob("*.cu"))


@lru_cache(maxsize=None)
def source(file: str) -> str:
    """The text of ``kernels/<file>`` with its local ``#include "x.cuh"`` lines inlined."""
    folder = kernel_dir()

    def inline(match):
        header = folder / match.group(1)
        text = header.read_text()
        return text.replace("#pragma once\n", "")

    return _INCLUDE.sub(inline, (folder / file).read_text())


def defined_kernels(file: str) -> list[str]:
    """The ``extern "C" __global__`` names the file defines, in order."""
    return _DEFINITION.findall(source(file))


def kernel_name(family: str, dtype, labels=None) -> str:
    """The ``extern "C"`` name of ``family`` for a float ``dtype`` (and label dtype)."""
    if family in COUNTERS:
        return f"{family}_{LABEL_SUFFIX[str(dtype)]}"
    name = f"{family}_{FLOAT_SUFFIX[str(dtype)]}"
    if family in LABELED:
        name += f"_{LABEL_SUFFIX[str(labels)]}"
    return name


@lru_cache(maxsize=None)
def declared_kernels() -> dict[str, str]:
    """Every kernel name the launchers may call -> the file that must define it."""
    names = {}
    for file, families in MANIFEST.items():
        for family in families:
            for dtype in (("int64",) if family in COUNTERS else FLOAT_SUFFIX):
                if family in LABELED:
                    for labels in LABEL_SUFFIX:
                        names[kernel_name(family, dtype, labels)] = file
                else:
                    names[kernel_name(family, dtype)] = file
    return names


def file_of(name: str) -> str:
    """The ``.cu`` file defining kernel ``name``; KeyError for a name not in MANIFEST."""
    files = declared_kernels()
    if name not in files:
        raise KeyError(f"no gpugrad CUDA kernel is named {name!r}; known: {sorted(files)}")
    return files[name]
