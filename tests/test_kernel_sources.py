"""The CUDA sources, checked without a GPU: every file in kernels/ compiles with NVRTC (from
the nvidia-cuda-nvrtc wheel) for sm_80 and sm_90 with no error and no warning, instantiating
every kernel by the name expression a launch asks for (``relu_bwd<float>``) and lowering it
to a symbol of the binary, as cupy.RawModule(name_expressions=...) does on a GPU; every
launcher, run for every dtype on a device that records names, asks only for those names; an
installed wheel carries the sources and finds them from another folder."""

import functools
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gpugrad import backend, cupy_import
from gpugrad.cuda import launch, launch_optim, nvrtc, sources

ROOT = Path(__file__).resolve().parent.parent
ARCHES = ("sm_80", "sm_90")


def _nvrtc_or_skip():
    try:
        nvrtc.library_path()
    except nvrtc.NvrtcError as exc:
        if backend.is_cuda_usable():        # a GPU machine: CuPy compiles in the cuda tests
            pytest.skip(str(exc))
        raise


@functools.cache
def _compiled(file: str, arch: str) -> nvrtc.Compiled:
    """``file`` compiled as CuPy compiles it, with every name expression it must define."""
    options = sources.COMPILE_OPTIONS + sources.CUPY_ADDS
    return nvrtc.compile_cubin(sources.source(file), file, arch, options,
                               name_expressions=sources.defined_kernels(file))


def _kernel_symbols(cubin: bytes) -> set:
    """The kernels in a cubin: each __global__ function has an ELF section .text.<symbol>."""
    return {s.decode() for s in re.findall(rb"\.text\.([\w$]+)\0", cubin)}


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("file", sources.source_files())
def test_every_kernel_file_compiles_cleanly(file, arch):
    _nvrtc_or_skip()
    cubin, log, lowered = _compiled(file, arch)
    assert log == "", f"NVRTC had something to say about {file} for {arch}:\n{log}"
    assert cubin[:4] == b"\x7fELF"
    assert list(lowered) == list(sources.defined_kernels(file)) != []
    # exactly the named instances are kernels of the binary: no stray __global__ function
    assert _kernel_symbols(cubin) == set(lowered.values()), \
        f"{file}: kernels in the {arch} binary differ from those named in sources.MANIFEST"


def test_the_check_catches_errors_warnings_and_unknown_names():
    _nvrtc_or_skip()
    with pytest.raises(nvrtc.NvrtcError, match="undefined"):
        nvrtc.compile_cubin('extern "C" __global__ void k() { undefined_call(); }', "bad.cu",
                            "sm_90")
    _, log, _ = nvrtc.compile_cubin('extern "C" __global__ void k() { int unused; }',
                                    "warn.cu", "sm_90")
    assert "warning" in log
    text = "template <typename T> __global__ void k(T* x) { x[0] = T(1); }"
    _, _, lowered = nvrtc.compile_cubin(text, "t.cu", "sm_90", ("-std=c++17",), ["k<float>"])
    assert lowered == {"k<float>": "_Z1kIfEvPT_"}
    with pytest.raises(nvrtc.NvrtcError, match='identifier "relu" is undefined'):
        nvrtc.compile_cubin(text, "t.cu", "sm_90", ("-std=c++17",), ["relu<float>"])


class _Recorder:
    """launch.py's Device on NumPy arrays that records the kernel name each launch asks for
    and runs nothing (the names, not the numbers, are under test)."""

    arrays = "a NumPy array"
    module = "numpy"

    def __init__(self):
        self.names = set()

    def array_type(self):
        return np.ndarray

    def device_id(self, a):
        return None

    def empty(self, device_id, shape, dtype):
        return np.zeros(shape, dtype)

    def multiprocessors(self, device_id) -> int:
        return 2

    def launch(self, name, device_id, grid, block, args, shared=0):
        self.names.add(name)


def _launchers(dtype=np.float32, labels_dtype=np.int64) -> dict:
    """Every launcher, called once on small arrays of ``dtype`` (labels of ``labels_dtype``):
    name -> (the call, the argument it checks first). The fused optimizers' launchers take a
    launch_optim.Table, which checks the arrays, so ``Table`` is listed too."""
    v, m = np.ones(4, dtype), np.ones((2, 4), dtype)
    labels, steps = np.zeros(2, labels_dtype), np.zeros(1, np.int64)

    def table(**roles):
        return launch_optim.Table({"params": [v], "grads": [v], **roles})

    return {
        "relu_forward": (lambda: launch.relu_forward(v), "x"),
        "relu_backward": (lambda: launch.relu_backward(v, v), "y"),
        "bias_relu_forward_": (lambda: launch.bias_relu_forward_(m, v), "y"),
        "relu_bias_backward": (lambda: launch.relu_bias_backward(m, m), "y"),
        "masked_gemm_weight": (lambda: launch.masked_gemm_weight(m, m, m), "y"),
        "masked_gemm_input": (lambda: launch.masked_gemm_input(m, m, m.T.copy()), "y"),
        "gemm_accumulate": (lambda: launch.gemm_accumulate(m, m.T.copy(), m), "out"),
        "softmax_xent_forward": (lambda: launch.softmax_xent_forward(m, labels, -1, 0.0), "x"),
        "softmax_xent_backward": (
            lambda: launch.softmax_xent_backward(m, labels, v[:1], -1, 0.0, 1.0), "x"),
        "mse_backward": (lambda: launch.mse_backward(v, v, v[:1], 1.0), "x"),
        "Table": (table, "params[0]"),
        "sgd_multi": (lambda: launch_optim.sgd_multi(table(bufs=[v.copy()]), np.zeros(4),
                                                     False, True), "params[0]"),
        "adam_count": (lambda: launch_optim.adam_count(steps), "steps"),
        "adam_multi": (lambda: launch_optim.adam_multi(
            table(exp_avg=[v.copy()], exp_avg_sq=[v.copy()]), steps, np.zeros(5), False),
            "params[0]"),
    }


NOT_OURS = {"gemm_accumulate"}         # cuBLAS: it runs no kernel of kernels/


def test_launches_ask_only_for_kernels_the_sources_instantiate():
    """Every launcher in every dtype, on a device that records the names it asks for: they
    are exactly sources.declared_kernels(), and NVRTC lowered each in its file, so a launch
    cannot ask CuPy for a kernel that the .cu files do not define."""
    assert set(sources.MANIFEST) == set(sources.source_files())
    recorder = _Recorder()
    with launch.using_device(recorder):
        for dtype in sources.FLOAT_TYPES:
            for labels_dtype in sources.LABEL_TYPES:
                for name, (call, _) in _launchers(dtype, labels_dtype).items():
                    if name not in NOT_OURS:
                        call()
    declared = set(sources.declared_kernels())
    assert recorder.names == declared, f"asked for but not declared: " \
        f"{sorted(recorder.names - declared)}; declared, never asked for: " \
        f"{sorted(declared - recorder.names)}"
    _nvrtc_or_skip()
    lowered = {name for file in sources.source_files() for name in _compiled(file, "sm_90")[2]}
    assert recorder.names <= lowered, sorted(recorder.names - lowered)


def test_kernel_names_are_cpp_name_expressions():
    assert sources.kernel_name("relu_bwd", np.dtype("float64")) == "relu_bwd<double>"
    assert sources.kernel_name("softmax_xent_bwd", "float32", np.dtype("int64")) == \
        "softmax_xent_bwd<float, long long>"
    assert sources.kernel_name("adam_count", "int64") == "adam_count"
    assert sources.defined_kernels("relu.cu") == (
        "relu_fwd<float>", "relu_fwd<double>", "relu_bwd<float>", "relu_bwd<double>")


def test_sources_are_self_contained_after_inlining():
    for file in sources.source_files():
        text = sources.source(file)
        assert "#include" not in text, f"{file} still includes a header after inlining"
        assert "aligned16" in text or file != "relu.cu"


def test_unknown_kernel_names_are_refused():
    with pytest.raises(KeyError, match=re.escape("no gpugrad CUDA kernel is named "
                                                 "'relu_bwd<half>'")):
        sources.file_of("relu_bwd<half>")


def test_every_launcher_is_listed_for_the_numpy_check():
    public = set(launch.__all__) - {"Device", "using_device", "masked_gemm_fits"}
    optimizers = set(launch_optim.__all__) - {"CHUNK", "chunk_layout"}
    assert {"Table", "adam_count"} <= optimizers
    assert public | optimizers == set(_launchers())


@pytest.mark.parametrize("name", sorted(_launchers()))
def test_launchers_refuse_numpy_arrays_before_any_launch(name, monkeypatch):
    """With or without CUDA, a NumPy array is refused by name, before CuPy is asked for."""
    def no_cupy():
        raise AssertionError("the launcher asked for CuPy before checking its arguments")

    monkeypatch.setattr(cupy_import, "require_cupy", no_cupy)
    call, argument = _launchers()[name]
    message = f"^{re.escape(argument)} must be a CuPy array on a GPU, got ndarray$"
    with pytest.raises(TypeError, match=message):
        call()


def test_an_installed_wheel_finds_its_kernels(tmp_path):
    checkout = tmp_path / "checkout"             # a copy, so the build leaves ROOT as it was
    checkout.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(ROOT / name, checkout / name)
    for folder in ("gpugrad", "kernels"):
        shutil.copytree(ROOT / folder, checkout / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(checkout), "--no-deps",
         "--no-build-isolation", "-q", "-w", str(wheels)], capture_output=True, text=True,
        cwd=tmp_path)
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("gpugrad-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for file in sources.source_files() + ["common.cuh"]:
        assert f"gpugrad/kernels/{file}" in names
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = ("from gpugrad.cuda import sources; print(sources.kernel_dir()); "
            "print(len(sources.source('loss.cu')))")
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    folder, size = run.stdout.split()
    assert Path(folder) == target / "gpugrad" / "kernels" and int(size) > 1000
