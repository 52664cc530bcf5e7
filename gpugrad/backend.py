"""The one NumPy/CuPy switch: devices and array modules.

Everything else in gpugrad is written once against ``xp``, the array module of its inputs:
``xp_of(array)`` and ``array_module(device)`` say which, ``asarray``, ``to_device`` and
``use_device`` put arrays on a device, ``synchronize`` and the memory-pool functions look at
one. Devices are ``"cpu"``, ``"cuda"`` (the current GPU), ``"cuda:N"`` and ``"auto"`` (cuda
when a GPU is usable, else cpu).

CuPy itself is imported by ``cupy_import.py`` (lazily, the first time a CUDA device is asked
for, so ``import gpugrad`` works without it); ``cuda_status``, ``is_cuda_usable`` and the
device errors are defined there and re-exported here. The other modules that take ``cupy``
from ``cupy_import.require_cupy()``: ``cuda/`` (kernels and matmul precision), ``graphs.py``
(CUDA graph capture), ``random.py`` (the Philox generator on CUDA) and
``distributed/nccl.py`` (NCCL collectives).

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

from . import cupy_import
from .cupy_import import CudaUnavailableError, DeviceError, cuda_status, is_cuda_usable

__all__ = [
    "Device", "DeviceError", "CudaUnavailableError", "cuda_status", "is_cuda_usable",
    "xp_of", "device_of", "is_array", "to_device", "array_module", "asarray",
    "get_default_device", "set_default_device", "check_same_device", "on_the_only_gpu",
    "names_a_device",
    "zeros_like_device", "use_device", "memory_pool_bytes", "cuda_memory_hook", "synchronize",
    "scatter_extreme",
]


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
            text = "cuda" if cupy_import.is_cuda_usable() else "cpu"
        kind, _, index = text.partition(":")
        if kind == "cpu" and not index:
            self.type, self.index = "cpu", None
            return
        if kind != "cuda" or (index and not index.isdigit()):
            raise DeviceError(
                f"unknown device {spec!r}: use 'cpu', 'cuda', 'cuda:N' (N a GPU number) or 'auto'")
        cupy = cupy_import.require_cupy()
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


def names_a_device(value) -> bool:
    """Whether ``value`` names a device (a Device, or "cpu", "cuda:1", "auto"...) rather
    than a dtype: ``t.to(x)`` takes either."""
    if isinstance(value, Device):
        return True
    return isinstance(value, str) and value.split(":")[0].strip().lower() in ("cpu", "cuda",
                                                                             "auto")


def device_of(array) -> Device:
    """The device an array lives on."""
    if isinstance(array, (np.ndarray, np.generic)):
        return CPU
    return Device._make("cuda", array.device.id)


def is_array(data) -> bool:
    """Whether ``data`` is a NumPy array or a CUDA array (CuPy's, or any with
    ``__cuda_array_interface__``); a NumPy scalar or a list is not one. (A gpugrad Tensor
    on a GPU has that interface too: callers that take tensors test for them first.)

    Example::

        >>> from gpugrad.backend import is_array
        >>> is_array(np.zeros(2)), is_array(np.float32(1)), is_array([1.0])
        (True, False, False)
    """
    return isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__")


def xp_of(array):
    """The array module (numpy or cupy) of ``array``."""
    if array.__class__ is np.ndarray or isinstance(array, (np.ndarray, np.generic)):
        return np
    return cupy_import.require_cupy()


def array_module(device: Device):
    """The array module for ``device``: numpy for cpu, cupy for cuda."""
    return np if device.type == "cpu" else cupy_import.require_cupy()


def _cuda_context(device: Device):
    return cupy_import.require_cupy().cuda.Device(device.index)


def asarray(data, dtype=None, device: Device | None = None, copy: bool = False):
    """``data`` (scalars, nested lists, NumPy or CuPy arrays) as an array on ``device``."""
    device = get_default_device() if device is None else device
    if device.type == "cpu":
        if hasattr(data, "__cuda_array_interface__") and not isinstance(data, np.ndarray):
            data = data.get()
        return np.array(data, dtype=dtype, copy=True) if copy else np.asarray(data, dtype=dtype)
    cupy = cupy_import.require_cupy()
    with _cuda_context(device):
        return cupy.array(data, dtype=dtype, copy=copy) if copy else cupy.asarray(data, dtype=dtype)


def to_device(array, device: Device):
    """A copy of ``array`` on ``device`` (the array itself when it already lives there)."""
    source = device_of(array)
    if source == device:
        return array
    if device.type == "cpu":
        return array.get()
    cupy = cupy_import.require_cupy()
    with _cuda_context(device):
        return cupy.asarray(array)


def zeros_like_device(like, shape: tuple, dtype):
    """Zeros of ``shape`` and ``dtype`` on the device of array ``like``."""
    if isinstance(like, np.ndarray):
        return np.zeros(shape, dtype=dtype)
    with like.device:
        return cupy_import.require_cupy().zeros(shape, dtype=dtype)


def on_the_only_gpu(arrays) -> bool:
    """Whether every array is a CuPy array and this process sees one GPU: then they share
    its device, which is the current one (``cupy_import.only_gpu_array_type``)."""
    only = cupy_import.only_gpu_array_type()
    if only is None:
        return False
    for a in arrays:
        if a.__class__ is not only:
            return False
    return True


def check_same_device(op_name: str, arrays) -> None:
    """Raise ``DeviceError`` naming both devices when ``arrays`` do not all share one device."""
    first = arrays[0]
    first_type = first.__class__
    if first_type is np.ndarray and all(a.__class__ is np.ndarray for a in arrays):
        return
    if on_the_only_gpu(arrays):
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
        return int(cupy_import.require_cupy().get_default_memory_pool().total_bytes())


def cuda_memory_hook(on_change):
    """A context manager under which ``on_change(device_index, bytes)`` is called for every
    block CuPy's memory pool hands out (+) or takes back (-): in-use memory, unlike the
    pool's size. Only one can be active at a time (CuPy refuses two of one name)."""
    cupy = cupy_import.require_cupy()

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
            cupy_import.require_cupy().cuda.Device().synchronize()


def cuda_device_count() -> int:
    """How many GPUs this process can see (raises ``CudaUnavailableError`` without CUDA;
    ``gpugrad.cuda.device_count()`` is 0 there instead)."""
    return cupy_import.require_cupy().cuda.runtime.getDeviceCount()


# ---------------------------------------------------------------------------------------------
# Scatter max/min on CuPy
# ---------------------------------------------------------------------------------------------

def _cupyx_scatter(ufunc_name: str):
    import cupyx                                # (with CuPy, on the GPU only)
    return cupyx.scatter_max if ufunc_name == "maximum" else cupyx.scatter_min


def _order_keys(xp, dtype, ufunc_name: str):
    """``(to_key, from_key)``: an exact map of ``dtype`` onto int32, uint32 or uint64 (the
    types cupyx's scatter_max/min reduce exactly) that keeps the order; floats by their bits
    (negative ones flipped), with NaN sent to the end that wins; None for complex."""
    kind, size = dtype.kind, dtype.itemsize
    if kind == "b" or (kind in "iu" and size < 4) or (kind == "i" and size == 4):
        return (lambda a: a.astype(np.int32)), (lambda k: k.astype(dtype))
    if kind == "u":
        return (lambda a: a.astype(dtype)), (lambda k: k)
    if kind == "i":
        sign = np.uint64(1 << 63)
        return (lambda a: a.view(np.uint64) ^ sign), (lambda k: (k ^ sign).view(dtype))
    if kind != "f":
        return None
    width = np.float64 if size == 8 else np.float32     # (float16 widens exactly)
    unsigned = np.uint64 if size == 8 else np.uint32
    sign = unsigned(1 << (8 * np.dtype(width).itemsize - 1))
    nan_key = unsigned(np.iinfo(unsigned).max if ufunc_name == "maximum" else 0)

    def to_key(a):
        a = a.astype(width)
        bits = a.view(unsigned)
        keys = xp.where(bits & sign, ~bits, bits | sign)
        return xp.where(xp.isnan(a), nan_key, keys)

    def from_key(k):
        return xp.where(k & sign, k ^ sign, ~k).view(width).astype(dtype)
    return to_key, from_key


def scatter_extreme(xp, ufunc_name: str, out, index, values, scatter=None) -> bool:
    """``numpy.<ufunc_name>.at(out, index, values)`` for "maximum" or "minimum" (repeated
    places reduce in turn; a NaN wins) without a host read: ``cupyx.scatter_max`` /
    ``scatter_min`` on keys of the same order, since CuPy's own float versions drop NaN
    (fmax) and round float64 through float32. False where there is no key (complex): the
    caller falls back. ``scatter(keys, index, key_values)`` stands for cupyx's (tests).

    Example::

        >>> from gpugrad.backend import scatter_extreme
        >>> out = np.array([1.0, -2.0])
        >>> scatter_extreme(np, "maximum", out, (np.array([1, 1]),), np.array([-3.0, 5.0]),
        ...                 scatter=np.maximum.at)
        True
        >>> out.tolist()
        [1.0, 5.0]
    """
    keys = _order_keys(xp, out.dtype, ufunc_name)
    if keys is None:
        return False
    to_key, from_key = keys
    scatter = _cupyx_scatter(ufunc_name) if scatter is None else scatter
    key_out = to_key(out)
    scatter(key_out, index, to_key(xp.asarray(values, dtype=out.dtype)))
    out[...] = from_key(key_out)
    return True
