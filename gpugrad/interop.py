"""Hand-offs to the rest of the array ecosystem: ``__array__``, DLPack both ways,
``__cuda_array_interface__``, ``__index__`` and pickling (``pickle``, ``copy.deepcopy``,
``multiprocessing``).

DLPack shares memory with no copy: a CPU tensor with NumPy, PyTorch and JAX; a CUDA tensor with
CuPy, PyTorch and JAX on the same GPU. The consumer passes its stream and the producer makes
that stream wait for its own work, as the DLPack specification says; gpugrad's CUDA tensors
live on CuPy's current stream, so CuPy does that side for them.

Pickling copies the values, dtype, device and ``requires_grad``; never the graph (the copy is
a leaf), the hooks or the gradient (``copy.deepcopy`` copies ``.grad`` too, as PyTorch does,
except for an ``nn.Parameter``'s; ``copy.copy`` gives a leaf over the same memory, with no
``.grad``, as PyTorch's).

Example::

    >>> x = gpugrad.arange(3.0)
    >>> a = np.from_dlpack(x)           # a NumPy array over x's memory
    >>> a[0] = 7.0
    >>> x
    tensor([7., 1., 2.], device='cpu', dtype=float32)
    >>> gpugrad.from_dlpack(a).tolist()
    [7.0, 1.0, 2.0]
"""

from __future__ import annotations

import copy as _copy

import numpy as np

from . import backend
from .autograd.capture_mode import refuse_host_sync
from .graph_cut import copying
from .tensor import Tensor

__all__ = ["from_dlpack"]

_DLPACK_CPU, _DLPACK_CUDA = 1, 2
_DLPACK_DEVICE_NAMES = {1: "CPU", 2: "CUDA", 3: "CUDA host (pinned)", 4: "OpenCL", 7: "Vulkan",
                        8: "Metal", 10: "ROCm", 13: "CUDA managed", 14: "oneAPI"}


def from_dlpack(obj, *, device=None, copy=None) -> Tensor:
    """A tensor over the memory of ``obj``, any array with ``__dlpack__``: NumPy, CuPy,
    PyTorch, JAX (and gpugrad) arrays on the CPU or a CUDA GPU. No copy is made unless
    ``copy=True`` or ``device`` names another device (``copy=False`` then refuses). The
    result does not require grad.

    Shapes: obj (...) -> tensor (...), same dtype.

    Example::

        >>> a = np.arange(4.0)
        >>> t = gpugrad.from_dlpack(a)
        >>> t += 1                          # writes into a's memory
        >>> a
        array([1., 2., 3., 4.])
    """
    if isinstance(obj, Tensor):
        array = obj.detach()._array
    elif not (hasattr(obj, "__dlpack__") and hasattr(obj, "__dlpack_device__")):
        raise TypeError(
            f"from_dlpack needs an array with __dlpack__ and __dlpack_device__ (a NumPy, CuPy, "
            f"PyTorch or JAX array); got {type(obj).__name__}. Pass the array itself, not a "
            f"DLPack capsule, or make a copy with gpugrad.tensor(data)")
    elif is_bfloat16(obj):
        raise TypeError(bfloat16_message("from_dlpack"))
    else:
        array = _import_array(obj)
    target = backend.device_of(array) if device is None else backend.Device(device)
    moves = target != backend.device_of(array)
    if moves and copy is False:
        raise ValueError(f"from_dlpack(copy=False): the array is on {backend.device_of(array)}"
                         f" and device={target} asks for a copy; pass copy=None or True")
    if moves:
        array = backend.to_device(array, target)
    elif copy:
        array = _copied(array)
    return Tensor._wrap(array)


def _import_array(obj):
    kind, index = obj.__dlpack_device__()
    kind = int(kind)
    if kind == _DLPACK_CPU:
        return np.from_dlpack(obj)
    if kind == _DLPACK_CUDA:
        cupy = backend.array_module(backend.Device(f"cuda:{int(index)}"))
        with cupy.cuda.Device(int(index)):
            return cupy.from_dlpack(obj)
    name = _DLPACK_DEVICE_NAMES.get(kind, f"type {kind}")
    raise ValueError(f"from_dlpack: the array lives on a {name} device (DLPack device type "
                     f"{kind}); gpugrad reads CPU and CUDA memory only. Move it to the CPU or a "
                     f"CUDA GPU first")


def is_bfloat16(obj) -> bool:
    """Whether ``obj`` is a bfloat16 array of another library (PyTorch, JAX...)."""
    return str(getattr(obj, "dtype", "")).rsplit(".", 1)[-1] == "bfloat16"


def bfloat16_message(what: str) -> str:
    """Why ``what`` cannot take a bfloat16 array, and what to do instead."""
    return (f"{what}: the array is bfloat16, and gpugrad has no bfloat16 tensors (NumPy has "
            f"no bfloat16 dtype); convert it to float32 first: gpugrad.{what}(t.float()) for "
            f"a PyTorch tensor, gpugrad.{what}(x.astype('float32')) for a JAX array")


def _copied(array):
    with backend.use_device(backend.device_of(array)):
        return array.copy()


def dlpack(t: Tensor, *, stream=None, max_version=None, dl_device=None, copy=None):
    """``Tensor.__dlpack__``: a DLPack capsule over ``t``'s memory, made by its array's
    own ``__dlpack__`` (NumPy's on the CPU, CuPy's on a GPU, which handles ``stream``)."""
    if t._requires_grad:
        raise BufferError("can't export a tensor that requires grad through DLPack (the "
                          "consumer would bypass autograd); use t.detach() first")
    extras = {name: value for name, value in (("max_version", max_version),
                                              ("dl_device", dl_device), ("copy", copy))
              if value is not None}
    return t._array.__dlpack__(stream=stream, **extras)


def dlpack_device(t: Tensor) -> tuple:
    """``Tensor.__dlpack_device__``: (1, 0) on the CPU, (2, N) on cuda:N."""
    device = backend.device_of(t._array)
    if device.type == "cpu":
        return (_DLPACK_CPU, 0)
    return (_DLPACK_CUDA, device.index)


def cuda_array_interface(t: Tensor) -> dict:
    """``Tensor.__cuda_array_interface__`` (version 3), defined for CUDA tensors only, so
    ``hasattr`` tells CUDA tensors apart as it does for CuPy and PyTorch."""
    array = t._array
    if isinstance(array, (np.ndarray, np.generic)):
        raise AttributeError("__cuda_array_interface__ is only defined for CUDA tensors; this "
                             "one is on the cpu (use np.from_dlpack(t) or t.numpy())")
    if t._requires_grad:
        raise AttributeError("__cuda_array_interface__ is not available on a tensor that "
                             "requires grad (the reader would bypass autograd); use "
                             "t.detach() first")
    return array.__cuda_array_interface__


def to_numpy_array(t: Tensor, dtype=None, copy=None) -> np.ndarray:
    """``Tensor.__array__`` (``np.asarray(t)``, ``np.array(t)``): a CPU tensor's values,
    shared unless ``copy`` (or a new ``dtype``) needs a copy; ``copy=False`` then refuses.
    A CUDA tensor is refused: reading it is a copy to the host, made explicit by
    ``.numpy()``."""
    refuse_host_sync("np.asarray(t), np.array(t) (Tensor.__array__)")
    if t._requires_grad and copying.depth:
        copying.cut = True                  # gpugrad.tensor([t, ...]) will warn
    array = t._array
    if not isinstance(array, np.ndarray):
        raise TypeError(f"implicit conversion of a {t.device} tensor to a NumPy array is not "
                        f"allowed; call .numpy() (which copies to the host) or .cpu()")
    needs_copy = dtype is not None and np.dtype(dtype) != array.dtype
    if copy is False and needs_copy:
        raise ValueError(f"np.asarray(t, dtype={np.dtype(dtype)}, copy=False): the tensor is "
                         f"{array.dtype}, so a copy is needed")
    if needs_copy:
        return array.astype(dtype)
    return array.copy() if copy else array


def as_index(t: Tensor) -> int:
    """``Tensor.__index__``: a 0-d integer (or bool) tensor as a Python int, so it can index
    lists and ranges (``names[t.argmax()]``), as in PyTorch. (Only 0-d: NumPy would read a
    shape (1,) tensor used as an index as an int instead of an array of indices.)"""
    if t.dtype.kind not in "iub" or t.ndim != 0:
        raise TypeError(f"only 0-d integer tensors can be converted to an index; this one is "
                        f"{t.dtype} with shape {tuple(t.shape)}. Pass int(t.item()) for the "
                        f"value of a one-element tensor (PyTorch also takes a one-element "
                        f"integer tensor; gpugrad does not, as NumPy would read it as an "
                        f"array of indices)")
    return int(t.item())


def reduce_tensor(t: Tensor, protocol: int):
    """``Tensor.__reduce_ex__``: the values (as a NumPy array), dtype, device and
    ``requires_grad``; a computed tensor comes back as a leaf.

    Example::

        >>> import pickle
        >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        >>> pickle.loads(pickle.dumps(x * 2))          # the graph is not pickled
        tensor([2., 4.], device='cpu', dtype=float32, requires_grad=True)
    """
    array = t._array
    host = backend.to_device(array, backend.CPU)
    return (rebuild_tensor, (type(t), host, str(backend.device_of(array)), t._requires_grad))


def rebuild_tensor(cls, host: np.ndarray, device: str, requires_grad: bool) -> Tensor:
    """The inverse of ``reduce_tensor`` (unpickling)."""
    if device.startswith("cuda") and not backend.is_cuda_usable():
        raise backend.CudaUnavailableError(
            f"unpickling a tensor that was on {device}, but CUDA is not usable here: "
            f"{backend.cuda_status()[1]} Move tensors (and models) to the cpu before "
            f"pickling them (t.cpu(), model.to('cpu')), or unpickle where a GPU is usable")
    t = cls._wrap(backend.to_device(host, backend.Device(device)))
    if requires_grad:
        t.requires_grad_(True)
    return t


def deepcopy_tensor(t: Tensor, memo: dict) -> Tensor:
    """``Tensor.__deepcopy__``: a new leaf with a copy of the values (same device),
    ``requires_grad`` and a deep copy of ``.grad``."""
    if id(t) in memo:
        return memo[id(t)]
    out = type(t)._wrap(_copied(t._array))
    memo[id(t)] = out
    if t._requires_grad:
        out.requires_grad_(True)
    if t._grad is not None:                 # (._grad: a non-leaf's .grad read warns)
        out.grad = _copy.deepcopy(t._grad, memo)
    return out


def copy_tensor(t: Tensor) -> Tensor:
    """``Tensor.__copy__`` (``copy.copy``): a new leaf over the same memory, on every
    device, keeping ``requires_grad``, with no ``.grad`` (as PyTorch's)."""
    out = type(t)._wrap(t._array)
    out._version_counter = t._version_counter   # writes through either are seen by saved values
    if t._requires_grad:
        out.requires_grad_(True)
    return out


def install(cls) -> None:
    """Give ``Tensor`` its DLPack, CUDA array interface and pickling methods."""
    cls.__array__ = to_numpy_array
    cls.__index__ = as_index
    cls.__dlpack__ = dlpack
    cls.__dlpack_device__ = dlpack_device
    cls.__cuda_array_interface__ = property(cuda_array_interface)
    cls.__reduce_ex__ = reduce_tensor
    cls.__deepcopy__ = deepcopy_tensor
    cls.__copy__ = copy_tensor


install(Tensor)
