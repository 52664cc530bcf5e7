"""The CUDA sources, checked without a GPU: every file in kernels/ compiles with NVRTC (from
the nvidia-cuda-nvrtc wheel) for sm_80 and sm_90 with no error and no warning; the kernels
the launchers call and the kernels the sources define are the same set; an installed wheel
carries the sources and finds them from another folder."""

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gpugrad import backend
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


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("file", sources.source_files())
def test_every_kernel_file_compiles_cleanly(file, arch):
    _nvrtc_or_skip()
    options = sources.COMPILE_OPTIONS + sources.CUPY_ADDS          # as CuPy compiles them
    cubin, log = nvrtc.compile_cubin(sources.source(file), file, arch, options)
    assert log == "", f"NVRTC had something to say about {file} for {arch}:\n{log}"
    assert cubin[:4] == b"\x7fELF"
    for name in sources.defined_kernels(file):
        assert name.encode() in cubin, f"{name} missing from the {arch} binary of {file}"


def test_the_check_catches_errors_and_warnings():
    _nvrtc_or_skip()
    with pytest.raises(nvrtc.NvrtcError, match="undefined"):
        nvrtc.compile_cubin('extern "C" __global__ void k() { undefined_call(); }', "bad.cu",
                            "sm_90")
    _, log = nvrtc.compile_cubin('extern "C" __global__ void k() { int unused; }', "warn.cu",
                                 "sm_90")
    assert "warning" in log


def test_launchers_and_sources_name_the_same_kernels():
    defined = {name: file for file in sources.source_files()
               for name in sources.defined_kernels(file)}
    assert set(sources.MANIFEST) == set(sources.source_files())
    assert sources.declared_kernels() == defined
    text = Path(launch.__file__).read_text() + Path(launch_optim.__file__).read_text()
    launched = set(re.findall(r'(?:_launch|_masked_gemm|_run|kernel_name)\(\s*"(\w+)"', text))
    families = {family for names in sources.MANIFEST.values() for family in names}
    assert launched == families


def test_sources_are_self_contained_after_inlining():
    for file in sources.source_files():
        text = sources.source(file)
        assert "#include" not in text, f"{file} still includes a header after inlining"
        assert "aligned16" in text or file != "relu.cu"


def test_unknown_kernel_names_are_refused():
    with pytest.raises(KeyError, match="no gpugrad CUDA kernel is named 'relu_bwd_f16'"):
        sources.file_of("relu_bwd_f16")


def _numpy_launches():
    """Every launcher called with NumPy arrays, and the argument it checks first."""
    import numpy as np
    v, m = np.ones(4, np.float32), np.ones((2, 4), np.float32)
    labels, steps = np.zeros(2, np.int64), np.zeros(1, np.int64)
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
        "Table": (lambda: launch_optim.Table({"params": [v], "grads": [v]}), "params[0]"),
        "adam_count": (lambda: launch_optim.adam_count(steps), "steps"),
    }


def test_every_launcher_is_listed_for_the_numpy_check():
    public = set(launch.__all__) - {"Device", "using_device", "masked_gemm_fits"}
    assert public | {"Table", "adam_count"} == set(_numpy_launches())


@pytest.mark.parametrize("name", sorted(_numpy_launches()))
def test_launchers_refuse_numpy_arrays_before_any_launch(name, monkeypatch):
    """With or without CUDA, a NumPy array is refused by name, before CuPy is asked for."""
    def no_cupy():
        raise AssertionError("the launcher asked for CuPy before checking its arguments")

    monkeypatch.setattr(backend, "_require_cupy", no_cupy)
    call, argument = _numpy_launches()[name]
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
