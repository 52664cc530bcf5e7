"""The one NumPy/CuPy switch.

Everything else in gpugrad is written once against ``xp``, the array module of its inputs.
This module (and ``cuda.py``) are the only places that know CuPy exists. CuPy is imported
lazily, the first time a CUDA device is asked for, so ``import gpugrad`` works without it.

Devices are ``"cpu"``, ``"cuda"`` (the current GPU), ``"cuda:N"`` and ``"auto"`` (cuda when a
GPU is usable, else cpu).

Example::

    >>> from gpugrad import backend
    >>> backend.Device("cpu")
    device('cpu')
    >>> backend.xp_of(np.zeros(3)) is np
    True
"""

from __future__ import annotations

import os
from contextlib import nullcontext

import numpy as np

__all__ = [
    "Device", "DeviceError", "CudaUnavailableError", "cuda_status", "is_cuda_usable",
    "xp_of", "device_of", "to_device", "array_module", "asarray",
    "get_default_device", "set_default_device", "new_generator", "check_same_device",
    "zeros_like_device", "use_device", "memory_pool_bytes", "cuda_memory_hook", "synchronize",
]


class DeviceError(RuntimeError):
    """Tensors on different devices met in one op, or a device string was malformed."""


class CudaUnavailableError(DeviceError):
    """A CUDA device was asked for but CuPy or a GPU is not usable on this machine."""


# ---------------------------------------------------------------------------------------------
# CuPy, imported lazily
# ---------------------------------------------------------------------------------------------

_cupy = None            # the cupy module once a CUDA device has been used
_cuda_status = None     # cached (usable: bool, reason: str)


def _import_cupy():
    """Import CuPy, or return the ImportError that stopped it."""
    try:
        import cupy
    except Exception as exc:  # ImportError, or a broken install raising something else
        return None, exc
    return cupy, None


def cuda_status() -> tuple[bool, str]:
    """Whether CUDA is usable here and, if not, why (with the fix), checked once and cached.

    "Usable" means CuPy imports AND ``cupy.cuda.is_available()`` is true: CuPy imports fine on
    machines with no driver, so importability alone is not enough.

    Example::

        >>> usable, reason = gpugrad.backend.cuda_status()
        >>> usable == gpugrad.is_cuda_usable(), isinstance(reason, str)
        (True, True)
    """
    global _cuda_status, _cupy
    if _cuda_status is not None:
        return _cuda_status
    cupy, error = _import_cupy()
    if cupy is None:
        _cuda_status = (False, (
            f"CuPy is not installed ({type(error).__name__}: {error}). Install the extra that "
            "matches your CUDA driver: pip install 'gpugrad[cuda12]' or 'gpugrad[cuda13]'. "
            "Or use device='cpu'."))
        return _cuda_status
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        usable = count > 0 and bool(cupy.cuda.is_available())
        detail = f"CUDA reports {count} devices"
    except Exception as exc:  # CUDARuntimeError: no driver, insufficient driver, no device
        usable, detail = False, f"{type(exc).__name__}: {exc}"
    if usable:
        _cupy = cupy
        _cuda_status = (True, f"CuPy {cupy.__version__}, {detail}")
    else:
        _cuda_status = (False, (
            f"CuPy {cupy.__version__} is installed but no GPU is usable ({detail}). Check that "
            "this machine has an NVIDIA GPU and a driver recent enough for this CuPy build "
            "(nvidia-smi should list the GPU), or use device='cpu'."))
    return _cuda_status


def is_cuda_usable() -> bool:
    """True when CuPy imports and a GPU with a working driver is present."""
    return cuda_status()[0]


def _require_cupy():
    if _cupy is None:
        usable, reason = cuda_status()
        if not usable:
            raise CudaUnavailableError(f"CUDA was asked for but is not usable: {reason}")
    return _cupy


# ---------------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------------

class Device:
    """A place where arrays live: ``cpu`` or ``cuda:N``.

    ``Device("cuda")`` means the current GPU; ``Device("auto")`` resolves to cuda when a GPU is
    usable, else cpu. Devices compare equal to their strings: ``Device("cpu") == "cpu"``.

    Example::

        >>> gpugrad.Device("cpu").type, gpugrad.Device("cpu") == "cpu"
        ('cpu', True)
    """

    __slots__ = ("type", "index")

    def __init__(self, spec: "str | Device" = "cpu"):
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise DeviceError(
                f"a device must be a string such as 'cpu', 'cuda', 'cuda:0' or 'auto', "
                f"or a gpugrad Device; got {spec!r} of type {type(spec).__name__}")
        text = spec.strip().lower()
        if text == "auto":
            text = "cuda" if is_cuda_usable() else "cpu"
        kind, _, index = text.partition(":")
        if kind == "cpu" and not index:
            self.type, self.index = "cpu", None
            return
        if kind != "cuda" or (index and not index.isdigit()):
            raise DeviceError(
                f"unknown device {spec!r}: use 'cpu', 'cuda', 'cuda:N' (N a GPU number) or 'auto'")
        cupy = _require_cupy()
        n = int(index) if index else cupy.cuda.runtime.getDevice()
        count = cupy.cuda.runtime.getDeviceCount()
        if n >= count:
            raise CudaUnavailableError(
                f"device 'cuda:{n}' does not exist: this machine has {count} GPU(s), "
                f"numbered 0 to {count - 1}")
        self.type, self.index = "cuda", n

    @classmethod
    def _make(cls, kind: str, index: int | None) -> "Device":
        device = object.__new__(cls)
        device.type, device.index = kind, index
        return device

    def __str__(self) -> str:
        return "cpu" if self.type == "cpu" else f"cuda:{self.index}"

    def __repr__(self) -> str:
        return f"device('{self}')"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = Device(other)
            except DeviceError:
                return False
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = Device._make("cpu", None)
_default_device: Device | None = None


def get_default_device() -> Device:
    """The device new tensors go to: cpu, unless ``set_default_device`` or the environment
    variable ``GPUGRAD_DEVICE`` says otherwise."""
    global _default_device
    if _default_device is None:
        _default_device = Device(os.environ.get("GPUGRAD_DEVICE", "cpu"))
    return _default_device


def set_default_device(device: "str | Device") -> Device:
    """Make new tensors go to ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``).

    Raises ``CudaUnavailableError`` (saying why and how to fix it) when cuda is asked for but
    not usable. Returns the resolved device.

    Example::

        >>> gpugrad.set_default_device("cpu")
        device('cpu')
        >>> gpugrad.get_default_device(), gpugrad.zeros(2).device
        (device('cpu'), device('cpu'))
    """
    global _default_device
    _default_device = Device(device)
    return _default_device


def device_of(array) -> Device:
    """The device an array lives on."""
    if isinstance(array, (np.ndarray, np.generic)):
        return CPU
    return Device._make("cuda", array.device.id)


def xp_of(array):
    """The array module (numpy or cupy) of ``array``."""
    if array.__class__ is np.ndarray or isinstance(array, (np.ndarray, np.generic)):
        return np
    return _require_cupy()


def array_module(device: Device):
    """The array module for ``device``: numpy for cpu, cupy for cuda."""
    return np if device.type == "cpu" else _require_cupy()


def _cuda_context(device: Device):
    return _require_cupy().cuda.Device(device.index)


def asarray(data, dtype=None, device: Device | None = None, copy: bool = False):
    """``data`` (scalars, nested lists, NumPy or CuPy arrays) as an array on ``device``."""
    device = get_default_device() if device is None else device
    if device.type == "cpu":
        if hasattr(data, "__cuda_array_interface__") and not isinstance(data, np.ndarray):
            data = data.get()
        return np.array(data, dtype=dtype, copy=True) if copy else np.asarray(data, dtype=dtype)
    cupy = _require_cupy()
    with _cuda_context(device):
        return cupy.array(data, dtype=dtype, copy=copy) if copy else cupy.asarray(data, dtype=dtype)


def to_device(array, device: Device):
    """A copy of ``array`` on ``device`` (the array itself when it already lives there)."""
    source = device_of(array)
    if source == device:
        return array
    if device.type == "cpu":
        return array.get()
    cupy = _require_cupy()
    with _cuda_context(device):
        return cupy.asarray(array)


def zeros_like_device(like, shape: tuple, dtype):
    """Zeros of ``shape`` and ``dtype`` on the device of array ``like``."""
    if isinstance(like, np.ndarray):
        return np.zeros(shape, dtype=dtype)
    with like.device:
        return _require_cupy().zeros(shape, dtype=dtype)


def check_same_device(op_name: str, arrays) -> None:
    """Raise ``DeviceError`` naming both devices when ``arrays`` do not all share one device."""
    first = arrays[0]
    first_type = first.__class__
    if first_type is np.ndarray and all(a.__class__ is np.ndarray for a in arrays):
        return
    devices = [device_of(a) for a in arrays]
    for device in devices[1:]:
        if device != devices[0]:
            raise DeviceError(
                f"{op_name}: expected all tensors on the same device, but found {devices[0]} "
                f"and {device}. gpugrad never copies silently: move one of them first, e.g. "
                f"x.to('{devices[0]}') or x.to('{device}').")


def use_device(device: Device):
    """A context manager that makes ``device`` current for CuPy allocations (no-op on cpu)."""
    if device.type == "cpu":
        return nullcontext()
    return _cuda_context(device)


def memory_pool_bytes(device: Device) -> int:
    """Bytes CuPy's memory pool holds on ``device`` (it keeps freed blocks, so this bounds
    the peak of what was in use); 0 on cpu."""
    if device.type == "cpu":
        return 0
    with _cuda_context(device):
        return int(_require_cupy().get_default_memory_pool().total_bytes())


def cuda_memory_hook(on_change):
    """A context manager under which ``on_change(device_index, bytes)`` is called for every
    block CuPy's memory pool hands out (+) or takes back (-): in-use memory, unlike the
    pool's size. Only one can be active at a time (CuPy refuses two of one name)."""
    cupy = _require_cupy()

    class _Hook(cupy.cuda.MemoryHook):
        name = "gpugrad-memory"

        def malloc_postprocess(self, **kwargs):
            if kwargs.get("mem_ptr", 1):                    # 0: the allocation failed
                on_change(kwargs["device_id"], kwargs["mem_size"])

        def free_postprocess(self, **kwargs):
            on_change(kwargs["device_id"], -kwargs["mem_size"])

    return _Hook()


def synchronize(device: Device) -> None:
    """Wait for the work queued on ``device`` (nothing to wait for on cpu)."""
    if device.type != "cpu":
        with _cuda_context(device):
            _require_cupy().cuda.Device().synchronize()


# ---------------------------------------------------------------------------------------------
# Random numbers
# ---------------------------------------------------------------------------------------------

class _CupyGenerator:
    """Adapts ``cupy.random.RandomState`` (Philox) to the two NumPy Generator calls we use."""

    def __init__(self, cupy, seed: int):
        method = cupy.cuda.curand.CURAND_RNG_PSEUDO_PHILOX4_32_10
        self._state = cupy.random.RandomState(seed, method=method)

    def random(self, shape, dtype):
        return self._state.random_sample(shape, dtype=dtype)

    def standard_normal(self, shape, dtype):
        return self._state.standard_normal(shape, dtype=dtype)

    def integers(self, low, high, size, dtype):
        return self._state.randint(low, high, size=size, dtype=dtype)


def new_generator(device: Device, seed: int):
    """A fresh counter-based generator on ``device`` with ``.random``, ``.standard_normal``
    and ``.integers`` (NumPy's Generator calls).

    gpugrad derives one generator per draw from (seed, draw number), so a saved RNG state is
    just two integers and replays exactly on both backends.
    """
    if device.type == "cpu":
        return np.random.Generator(np.random.Philox(key=seed))
    cupy = _require_cupy()
    with _cuda_context(device):
        return _CupyGenerator(cupy, seed)


# ---------------------------------------------------------------------------------------------
# NCCL (GPU collectives for gpugrad.distributed), through CuPy's binding
# ---------------------------------------------------------------------------------------------

_NCCL_OPS = {"sum": "NCCL_SUM", "max": "NCCL_MAX", "min": "NCCL_MIN"}


def cuda_device_count() -> int:
    """How many GPUs this process can see."""
    return _require_cupy().cuda.runtime.getDeviceCount()


def nccl_unique_id() -> tuple:
    """A new NCCL unique id (rank 0 makes it; the others receive it over MPI)."""
    from cupy.cuda import nccl
    return nccl.get_unique_id()


def nccl_communicator(world_size: int, unique_id: tuple, rank: int, device: Device):
    """This rank's NCCL communicator for the group, on ``device``."""
    from cupy.cuda import nccl
    with _cuda_context(device):
        return nccl.NcclCommunicator(world_size, unique_id, rank)


def _nccl_dtype(array):
    from cupy.cuda import nccl
    names = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
             "int32": "NCCL_INT32", "int64": "NCCL_INT64", "uint8": "NCCL_UINT8"}
    if array.dtype.name not in names:
        raise TypeError(f"NCCL cannot reduce {array.dtype} arrays; use one of {sorted(names)}")
    return getattr(nccl, names[array.dtype.name])


def nccl_all_reduce(comm, array, op: str) -> None:
    """Reduce the contiguous CuPy ``array`` in place over the group, on the current stream."""
    from cupy.cuda import nccl
    stream = _require_cupy().cuda.get_current_stream().ptr
    comm.allReduce(array.data.ptr, array.data.ptr, array.size, _nccl_dtype(array),
                   getattr(nccl, _NCCL_OPS[op]), stream)


def nccl_broadcast(comm, array, root: int) -> None:
    """Overwrite the contiguous CuPy ``array`` with rank ``root``'s, on the current stream."""
    stream = _require_cupy().cuda.get_current_stream().ptr
    comm.bcast(array.data.ptr, array.size, _nccl_dtype(array), root, stream)
