"""Each error a user can hit says what happened and what to do."""

import contextlib
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import gpugrad
from gpugrad import backend, cupy_import
from gpugrad.tensor import Tensor

from conftest import requires_cuda

ROOT = Path(__file__).resolve().parents[1]


class FakeGpuArray:
    """Stands in for a CuPy array on GPU ``index`` so device checks run without a GPU."""

    def __init__(self, index, shape=(2,)):
        self.device = SimpleNamespace(id=index)
        self.shape, self.dtype, self.ndim, self.size = shape, np.dtype("float32"), 1, 2


def test_mixing_cpu_and_gpu_names_both_devices():
    cpu = gpugrad.ones(2)
    gpu = Tensor._wrap(FakeGpuArray(0))
    with pytest.raises(backend.DeviceError) as info:
        cpu + gpu
    message = str(info.value)
    assert "cpu" in message and "cuda:0" in message and ".to(" in message


def test_mixing_two_gpus_names_both_devices():
    with pytest.raises(backend.DeviceError, match=r"cuda:0 and cuda:1.*\.to\("):
        backend.check_same_device("add", [FakeGpuArray(0), FakeGpuArray(1)])


@requires_cuda
def test_mixing_devices_on_a_real_gpu():
    with pytest.raises(backend.DeviceError, match="cpu and cuda:0"):
        gpugrad.ones(2) * gpugrad.ones(2, device="cuda")


@pytest.fixture
def cuda_status_reset():
    saved = cupy_import._cuda_status, cupy_import._cupy
    cupy_import._cuda_status, cupy_import._cupy = None, None  # as if CuPy had never been loaded
    yield
    cupy_import._cuda_status, cupy_import._cupy = saved


def test_cuda_without_cupy_says_how_to_install(monkeypatch, cuda_status_reset):
    monkeypatch.setattr(cupy_import, "_import_cupy",
                        lambda: (None, ImportError("No module named 'cupy'")))
    with pytest.raises(backend.CudaUnavailableError) as info:
        gpugrad.set_default_device("cuda")
    message = str(info.value)
    assert "CuPy is not installed" in message and "gpugrad[cuda12]" in message
    assert backend.Device("auto") == "cpu"


def test_cuda_without_driver_shows_the_cuda_error(monkeypatch, cuda_status_reset):
    def no_driver():
        raise RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient")
    fake_cupy = SimpleNamespace(
        __version__="14.0.0",
        cuda=SimpleNamespace(is_available=lambda: False,
                             runtime=SimpleNamespace(getDeviceCount=no_driver)))
    monkeypatch.setattr(cupy_import, "_import_cupy", lambda: (fake_cupy, None))
    with pytest.raises(backend.CudaUnavailableError) as info:
        gpugrad.zeros(3, device="cuda:0")
    message = str(info.value)
    assert "cudaErrorInsufficientDriver" in message and "nvidia-smi" in message
    assert "device='cpu'" in message


class _OnlyGpuArray(np.ndarray):
    """Stands in for cupy.ndarray on a one-GPU machine."""


def test_arrays_on_the_only_gpu_skip_the_device_check_and_switch(monkeypatch):
    """With one GPU, ops on CuPy arrays neither compare devices nor switch the current one
    (each costs host time per launch); anything else takes the checked path."""
    monkeypatch.setattr(cupy_import, "_only_gpu_array", _OnlyGpuArray)
    monkeypatch.setattr(cupy_import, "require_cupy", lambda: np)     # the array module
    a, b = (np.arange(3.0).view(_OnlyGpuArray), np.ones(3).view(_OnlyGpuArray))
    assert backend.on_the_only_gpu([a, b])
    backend.check_same_device("Mul", [a, b])                        # no device read
    with monkeypatch.context() as patched:                           # an op: no check at all
        patched.setattr(backend, "check_same_device",
                        lambda *args: pytest.fail("an op on the one GPU checked devices"))
        out = gpugrad.Tensor._wrap(a) * gpugrad.Tensor._wrap(b)
    np.testing.assert_array_equal(np.asarray(out._array), [0.0, 1.0, 2.0])
    looked_up = []
    monkeypatch.setattr(backend, "device_of", lambda x: looked_up.append(x) or backend.CPU)
    assert not backend.on_the_only_gpu([a, np.ones(3)])             # a CPU array: checked
    backend.check_same_device("Mul", [a, np.ones(3)])
    assert len(looked_up) == 2
    monkeypatch.setattr(cupy_import, "_only_gpu_array", None)       # several GPUs: checked
    assert not backend.on_the_only_gpu([a, b])


def test_kernel_launches_switch_devices_only_where_there_are_several(monkeypatch):
    from gpugrad.cuda import launch
    switched = []
    fake = SimpleNamespace(cuda=SimpleNamespace(Device=lambda i: switched.append(i) or
                                                contextlib.nullcontext()))
    monkeypatch.setattr(cupy_import, "_only_gpu_array", _OnlyGpuArray)
    with launch._on(fake, 0):
        pass
    assert switched == []
    monkeypatch.setattr(cupy_import, "_only_gpu_array", None)
    with launch._on(fake, 1):
        pass
    assert switched == [1]


def test_bad_device_string():
    with pytest.raises(backend.DeviceError, match="'cpu', 'cuda', 'cuda:N'"):
        gpugrad.zeros(2, device="gpu")


def test_broadcast_error_names_both_shapes(device):
    a, b = gpugrad.ones(2, 3, device=device), gpugrad.ones(4, device=device)
    for op in (lambda: a + b, lambda: a * b, lambda: gpugrad.maximum(a, b), lambda: a < b):
        with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\)"):
            op()


def test_matmul_error_names_the_inner_dimensions(device):
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\).*3 and 4"):
        gpugrad.ones(2, 3, device=device) @ gpugrad.ones(4, 5, device=device)


def test_reshape_error_names_shapes(device):
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\(4, 2\)"):
        gpugrad.ones(2, 3, device=device).reshape(4, 2)


def test_anomaly_names_the_op_and_the_forward_line(device):
    x = gpugrad.tensor([0.0, 1.0], device=device, requires_grad=True)
    with gpugrad.detect_anomaly():
        y = x.sqrt()     # THE-FORWARD-LINE: d sqrt(x)/dx is infinite at 0
        with np.errstate(divide="ignore"), pytest.raises(gpugrad.autograd.AnomalyError) as info:
            y.sum().backward()
    message = str(info.value)
    assert "SqrtBackward" in message and "NaN or Inf" in message
    assert "THE-FORWARD-LINE" in message and "test_errors.py" in message
    assert "gpugrad/ops" not in message          # only the user's frames are shown


def test_without_anomaly_mode_nan_gradients_pass_silently(device):
    x = gpugrad.tensor([0.0], device=device, requires_grad=True)
    with np.errstate(divide="ignore"):
        x.sqrt().sum().backward()
    assert np.isinf(x.grad.numpy()).all()


def _run(code, env_extra=None):
    env = {"PYTHONPATH": str(ROOT), "PATH": ""}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=ROOT)


def test_import_does_not_import_cupy():
    result = _run("import sys, gpugrad; gpugrad.ones(2) * 2; "
                  "assert 'cupy' not in sys.modules, 'cupy imported'")
    assert result.returncode == 0, result.stderr


def test_works_where_cupy_cannot_be_imported():
    code = """
import sys
class BlockCupy:
    def find_spec(self, name, path=None, target=None):
        if name == "cupy" or name.startswith("cupy."):
            raise ImportError("No module named 'cupy' (blocked by the test)")
sys.meta_path.insert(0, BlockCupy())
import gpugrad
x = gpugrad.tensor([2.0], requires_grad=True)
(x * x).sum().backward()
assert x.grad.item() == 4.0
assert not gpugrad.is_cuda_usable()
assert gpugrad.Device("auto") == "cpu"
try:
    gpugrad.zeros(1, device="cuda")
except gpugrad.CudaUnavailableError as e:
    print("ERROR:", e)
"""
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert "CuPy is not installed" in result.stdout


def test_default_device_from_environment():
    result = _run("import gpugrad; print(gpugrad.get_default_device(), gpugrad.ones(1).device)",
                  {"GPUGRAD_DEVICE": "cpu"})
    assert result.stdout.split() == ["cpu", "cpu"]
    if not backend.is_cuda_usable():
        result = _run("import gpugrad; gpugrad.ones(1)", {"GPUGRAD_DEVICE": "cuda"})
        assert result.returncode != 0 and "not usable" in result.stderr


def test_expand_error_names_both_shapes(device):
    with pytest.raises(ValueError, match=r"\(2, 3\) to \(4, 4\)"):
        gpugrad.ones(2, 3, device=device).expand(4, 4)


def test_read_only_hint_only_for_read_only_views():
    with pytest.raises(ValueError) as info:
        gpugrad.zeros(2).copy_(gpugrad.ones(3))
    assert "read-only" not in str(info.value)
    with pytest.raises(ValueError, match="read-only \\(a broadcast view"):
        gpugrad.zeros(1).expand(3).fill_(1.0)
