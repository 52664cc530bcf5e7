"""Where the CUDA sources are and which kernels they define.

The ``.cu`` files live in ``kernels/`` at the top of a source checkout; a built wheel carries
them as ``gpugrad/kernels/`` (copied by ``setup.py``). ``source(file)`` returns a file's text
with its ``#include "..."`` of sibling headers inlined, so that what is compiled (and what
CuPy's kernel cache keys on) is one self-contained string.

Every kernel is a ``__global__`` function template; a launch asks for one instance by its
C++ name, a *name expression* such as ``relu_bwd<float>``. ``MANIFEST`` lists the kernel
families of each file and ``kernel_name`` spells the instance for a family and dtypes. The
loader hands a file's names to ``cupy.RawModule(name_expressions=...)`` and the CI compile
check to NVRTC (``nvrtc.compile_cubin``), which instantiates each and reports its mangled
symbol, so every name a launch can ask for is proven to exist without a GPU. Example::

    >>> from gpugrad.cuda.sources import file_of, kernel_name
    >>> kernel_name("relu_bwd", "float32")
    'relu_bwd<float>'
    >>> kernel_name("softmax_xent_fwd", "float64", labels="int32")
    'softmax_xent_fwd<double, int>'
    >>> file_of("relu_bwd<float>")
    'relu.cu'
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

__all__ = ["MANIFEST", "FLOAT_TYPES", "LABEL_TYPES", "COMPILE_OPTIONS", "CUPY_ADDS",
           "kernel_dir", "source_files", "source", "defined_kernels", "declared_kernels",
           "kernel_name", "file_of"]

# file -> kernel families it defines: each a template over the float type T (both of
# FLOAT_TYPES), the ones in LABELED also over the label type L (both of LABEL_TYPES), the
# ones in PLAIN a plain function (its name is the family).
MANIFEST = {
    "relu.cu": ("relu_fwd", "relu_bwd"),
    "linear.cu": ("bias_relu_fwd", "relu_bias_bwd", "col_sum_partials", "masked_gemm_tn",
                  "masked_gemm_nn"),
    "loss.cu": ("softmax_xent_fwd", "softmax_xent_bwd", "mse_bwd"),
    "optim.cu": ("sgd_multi", "adam_count", "adam_multi"),
}
LABELED = frozenset({"softmax_xent_fwd", "softmax_xent_bwd"})
PLAIN = frozenset({"adam_count"})             # on int64 step counters, whatever the floats
FLOAT_TYPES = {"float32": "float", "float64": "double"}      # NumPy dtype -> C++ type
LABEL_TYPES = {"int32": "int", "int64": "long long"}
# NVRTC options gpugrad passes to CuPy at run time (a C++ standard is required with name
# expressions); CuPy adds -arch for the device and -ftz=true (float32 subnormals flush to
# zero). The CI check compiles with all of them.
COMPILE_OPTIONS = ("-std=c++17",)
CUPY_ADDS = ("-ftz=true",)

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


@lru_cache(maxsize=None)          # asked for at every launch: made once per combination
def kernel_name(family: str, dtype, labels=None) -> str:
    """The name expression of ``family`` for a float ``dtype`` (and label dtype)."""
    if family in PLAIN:
        return family
    types = [FLOAT_TYPES[str(dtype)]]
    if family in LABELED:
        types.append(LABEL_TYPES[str(labels)])
    return f"{family}<{', '.join(types)}>"


@lru_cache(maxsize=None)
def declared_kernels() -> dict[str, str]:
    """Every name expression the launchers may ask for -> the file that instantiates it."""
    names = {}
    for file, families in MANIFEST.items():
        for family in families:
            for dtype in ((None,) if family in PLAIN else FLOAT_TYPES):
                for labels in (LABEL_TYPES if family in LABELED else (None,)):
                    names[kernel_name(family, dtype, labels)] = file
    return names


def defined_kernels(file: str) -> tuple[str, ...]:
    """The name expressions of ``file``'s kernels, in MANIFEST's order: what the loader
    passes to ``cupy.RawModule(name_expressions=...)`` and the CI check to NVRTC."""
    return tuple(name for name, owner in declared_kernels().items() if owner == file)


def file_of(name: str) -> str:
    """The ``.cu`` file defining kernel ``name``; KeyError for a name not in MANIFEST."""
    files = declared_kernels()
    if name not in files:
        raise KeyError(f"no gpugrad CUDA kernel is named {name!r}; known: {sorted(files)}")
    return files[name]
