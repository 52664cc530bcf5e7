"""Making tensors: ``tensor``, ``as_tensor``, ``zeros``, ``ones``, ``full``, ``*_like``,
``arange``, ``linspace``, ``eye``, ``rand``, ``randn``.

New tensors go to the default device (cpu unless ``set_default_device`` or
``GPUGRAD_DEVICE`` say otherwise). Python floats become float32, ints int64, bools bool.

Example::

    >>> gpugrad.zeros(2, 3).shape
    (2, 3)
    >>> gpugrad.tensor([1.0, 2.0], requires_grad=True).dtype
    dtype('float32')
"""

from __future__ import annotations

import numbers

import numpy as np

from . import backend, random
from .autograd.compile_mode import _state as _compiling, note_reads, recorded
from .autograd.mode import _state as _vmap_state
from .dtypes import as_dtype, get_default_dtype
from .graph_cut import copying, warn_graph_cut
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
           "full_like", "arange", "linspace", "eye", "rand", "randn", "randint"]


def _device(device) -> backend.Device:
    return backend.get_default_device() if device is None else backend.Device(device)


def _finish(array, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


_PYTHON_SCALARS = (float, int, bool)


def _is_device_array(data) -> bool:
    return data.__class__ not in _PYTHON_SCALARS and not isinstance(data, np.ndarray) and \
        hasattr(data, "__cuda_array_interface__")


def _infer_dtype(data, dtype):
    """Python floats (and lists of them) default to float32, as in PyTorch."""
    if dtype is not None:
        return as_dtype(dtype)
    kind = data.__class__
    if kind is float:                   # (exact Python numbers first: the abstract checks
        return get_default_dtype()      # below are slow)
    if kind is int:
        return np.dtype(np.int64)
    if kind is bool:
        return np.dtype(bool)
    if isinstance(data, (np.ndarray, np.generic)) or _is_device_array(data):
        return None
    if isinstance(data, bool):
        return np.dtype(bool)
    if isinstance(data, numbers.Integral):
        return np.dtype(np.int64)
    if isinstance(data, numbers.Real):
        return get_default_dtype()
    inferred = np.asarray(data).dtype   # nested lists
    if inferred == np.float64:
        return get_default_dtype()
    if inferred.kind not in "biufc":
        raise TypeError(f"cannot make a tensor from {type(data).__name__} data of NumPy dtype "
                        f"{inferred}; use numbers, nested lists of numbers or arrays")
    return inferred


def tensor(data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python scalars, nested lists, NumPy or CuPy
    arrays, or a Tensor).

    ``device=None`` means the default device, except for CuPy arrays and tensors, which keep
    theirs. Example::

        >>> gpugrad.tensor([[1.0, 2.0]], requires_grad=True)   # shape (1, 2), float32
        tensor([[1., 2.]], device='cpu', dtype=float32, requires_grad=True)
        >>> gpugrad.tensor([1, 2]).dtype                        # Python ints: int64
        dtype('int64')
    """
    if data.__class__ is float and dtype is None and device is None and \
            _compiling.recorder is None and backend.get_default_device().type == "cpu":
        # the common case, spelled out: a Python float on the CPU (a compiled step's
        # recording takes the path below, which writes the factory down)
        return _finish(np.array(data, get_default_dtype()), requires_grad)
    if data.__class__ is list or data.__class__ is tuple:
        return _tensor_from_sequence(data, dtype, device, requires_grad)
    is_tensor = isinstance(data, Tensor)
    if is_tensor and data._requires_grad:
        warn_graph_cut("gpugrad.tensor(t)", "t.clone()")
    source = data._array if is_tensor else data
    on_device = _is_device_array(source)
    if device is not None:
        target = backend.Device(device)
    elif is_tensor or on_device:
        target = backend.device_of(source)
    else:
        target = backend.get_default_device()
    moved = _host_or_same(source, target, on_device)
    if is_tensor:
        note_reads(data)
    array = recorded(backend.asarray)(moved, dtype=_infer_dtype(source, dtype),
                                      device=target, copy=moved is source)
    return _finish(array, requires_grad)


def _tensor_from_sequence(data, dtype, device, requires_grad) -> Tensor:
    """``tensor(data)`` of a list or tuple, warning when it held a tensor that requires
    grad (``Tensor.__array__`` notes one while ``copying.depth`` is up)."""
    copying.depth += 1
    try:
        array = recorded(backend.asarray)(data, dtype=_infer_dtype(data, dtype),
                                          device=_device(device), copy=True)
        return _finish(array, requires_grad)
    finally:
        copying.depth -= 1
        if copying.cut and not copying.depth:
            copying.cut = False
            warn_graph_cut("gpugrad.tensor([...])", "gpugrad.stack([...]) (as JAX's "
                           "jnp.array)", stacklevel=4)


def _host_or_same(source, target: backend.Device, on_device=None):
    """Arrays already on some device move explicitly; everything else goes through asarray.
    ``on_device``: whether ``source`` is a device array, when the caller knows already."""
    if on_device is None:
        on_device = _is_device_array(source)
    if on_device or isinstance(source, np.ndarray):
        return backend.to_device(source, target)
    return source


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor``, but shares memory with ``data`` when no copy is needed.

    Example::

        >>> a = np.zeros(2, dtype=np.float32)
        >>> t = gpugrad.as_tensor(a)
        >>> a[0] = 5.0                      # t sees the change: no copy was made
        >>> t.tolist()
        [5.0, 0.0]
    """
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, Tensor):
        note_reads(data)
        data = data._array
    target = (backend.device_of(data) if device is None and _is_device_array(data)
              else _device(device))
    array = recorded(backend.asarray)(_host_or_same(data, target),
                                      dtype=_infer_dtype(data, dtype), device=target)
    return _finish(array, False)


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, numbers.Integral) and n >= 0 for n in shape):
        raise ValueError(f"a shape must be non-negative integers, got {shape}")
    return tuple(int(n) for n in shape)


def _filled(fill, shape, dtype, device, requires_grad):
    target = _device(device)
    xp = backend.array_module(target)
    dtype = as_dtype(dtype) or _infer_dtype(fill, None)
    with backend.use_device(target):
        array = recorded(xp.full)(shape, fill, dtype=dtype)
    return _finish(array, requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``. Default dtype float32."""
    return _filled(0.0, _shape(shape), dtype or get_default_dtype(), device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``. Default dtype float32."""
    return _filled(1.0, _shape(shape), dtype or get_default_dtype(), device, requires_grad)


def empty(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An uninitialised tensor (its values are whatever the memory held)."""
    target = _device(device)
    xp = backend.array_module(target)
    with backend.use_device(target):
        array = recorded(xp.empty)(_shape(shape), dtype=as_dtype(dtype) or get_default_dtype())
    return _finish(array, requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (its dtype inferred from the value).

    Example::

        >>> t = gpugrad.full((2, 2), 7)
        >>> t.dtype, t.tolist()
        (dtype('int64'), [[7, 7], [7, 7]])
    """
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    return _filled(fill_value, _shape(shape), dtype, device, requires_grad)


def _like(t: Tensor, fill, dtype, device, requires_grad) -> Tensor:
    if t._batched:                  # inside vmap: batched like t (written per example)
        from .autograd.batched import BatchedTensor
        value = _like(t._value, fill, dtype, device, False)
        return BatchedTensor._make(value, t._level).requires_grad_(requires_grad)
    return _filled(fill, tuple(t.shape), dtype or t.dtype, device or t.device, requires_grad)


def zeros_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros with the shape (and, unless given, dtype and device) of ``t``.

    Example::

        >>> gpugrad.zeros_like(gpugrad.arange(3)).tolist()      # int64, as arange's
        [0, 0, 0]
    """
    return _like(t, 0, dtype, device, requires_grad)


def ones_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones with the shape (and, unless given, dtype and device) of ``t``."""
    return _like(t, 1, dtype, device, requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``fill_value`` with the shape (and, unless given, dtype and device) of ``t``.

    Example::

        >>> gpugrad.full_like(gpugrad.zeros(2), 3.0).tolist()
        [3.0, 3.0]
    """
    return _like(t, fill_value, dtype, device, requires_grad)


def arange(start, stop=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Evenly spaced values in [start, stop): int64 for integer arguments, else float32.

    Example::

        >>> gpugrad.arange(3).tolist()
        [0, 1, 2]
    """
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, stop, step))
        dtype = np.int64 if ints else get_default_dtype()
    target = _device(device)
    xp = backend.array_module(target)
    with backend.use_device(target):
        array = recorded(xp.arange)(start, stop, step, dtype=as_dtype(dtype))
    return _finish(array, requires_grad)


def linspace(start, stop, num: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (float32).

    Example::

        >>> gpugrad.linspace(0, 1, 5).tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    target = _device(device)
    xp = backend.array_module(target)
    with backend.use_device(target):
        array = recorded(xp.linspace)(start, stop, num,
                                      dtype=as_dtype(dtype) or get_default_dtype())
    return _finish(array, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The ``n`` x ``m`` identity matrix (``m`` defaults to ``n``).

    Example::

        >>> gpugrad.eye(2).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    target = _device(device)
    xp = backend.array_module(target)
    with backend.use_device(target):
        array = recorded(xp.eye)(n, m, dtype=as_dtype(dtype) or get_default_dtype())
    return _finish(array, requires_grad)


def _random(draw, shape, dtype, device, requires_grad) -> Tensor:
    dtype = as_dtype(dtype) or get_default_dtype()
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"random tensors are float32 or float64, not {dtype}")
    return _draw(draw, _shape(shape), dtype, device, requires_grad)


def _draw(draw, shape, dtype, device, requires_grad) -> Tensor:
    """``draw(shape, dtype, device)`` as a tensor; inside vmap, as its randomness= says."""
    levels = _vmap_state.vmap_levels
    if levels:
        return _random_in_vmap(draw, shape, dtype, _device(device), levels, requires_grad)
    return _finish(draw(shape, dtype, _device(device)), requires_grad)


def randint(*args, low=None, high=None, size=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Integers uniform in [low, high), seeded by ``gpugrad.manual_seed``, as PyTorch's:
    ``randint(high, size)``, ``randint(low, high, size)`` or with keywords (``size`` a
    tuple), int64 unless ``dtype`` says otherwise (a float dtype may require grad).

    Example::

        >>> gpugrad.manual_seed(0)
        >>> labels = gpugrad.randint(0, 10, (4,))
        >>> labels.shape, labels.dtype, bool(((labels >= 0) & (labels < 10)).all())
        ((4,), dtype('int64'), True)
    """
    if size is None and args:
        args, size = args[:-1], args[-1]
    bounds = args + tuple(v for v in (low, high) if v is not None)
    if len(bounds) not in (1, 2) or not isinstance(size, (tuple, list)) or (
            low is not None and (args or high is None)):
        raise TypeError("randint takes (high, size) or (low, high, size), with size a tuple "
                        "of ints, e.g. gpugrad.randint(0, 10, (32,))")
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
    if not all(isinstance(v, numbers.Integral) for v in (low, high)):
        raise TypeError(f"randint: low and high must be ints, got {low!r} and {high!r}")
    if low >= high:
        raise ValueError(f"randint draws from [low, high): low ({low}) must be less than "
                         f"high ({high})")
    dtype = as_dtype(dtype) or np.dtype(np.int64)
    shape = _shape(tuple(size))

    def draw(shape, dtype, device):         # NumPy and CuPy draw integer dtypes only
        drawn = dtype if dtype.kind in "iu" else np.dtype(np.int64)
        return random.integers_array(int(low), int(high), shape, drawn, device).astype(
            dtype, copy=False)

    return _draw(draw, shape, dtype, device, requires_grad)


def _random_in_vmap(draw, shape, dtype, device, levels, requires_grad) -> Tensor:
    """A draw inside vmap: refused with randomness="error"; one draw for every example
    with "same"; with "different", a batch dimension per such level (each example its own
    values)."""
    from .autograd.batched import BatchedTensor
    if any(level.randomness == "error" for level in levels):
        raise RuntimeError(
            "vmap: a random draw (randn, rand, dropout...) inside vmap with randomness='error' "
            "(the default). Say what each example should get: vmap(f, randomness='different') "
            "draws separately per example, randomness='same' draws once for all of them.")
    different = [level for level in levels if level.randomness == "different"]
    batch = tuple(level.size for level in different)
    out = Tensor._wrap(draw(batch + shape, dtype, device))
    for level in different:             # outermost first: its batch is dimension 0
        out = BatchedTensor._make(out, level)
    return out.requires_grad_(requires_grad) if requires_grad else out


def rand(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform values in [0, 1), seeded by ``gpugrad.manual_seed``.

    Example::

        >>> gpugrad.manual_seed(0)
        >>> u = gpugrad.rand(1000)
        >>> u.dtype, bool(((u >= 0) & (u < 1)).all())
        (dtype('float32'), True)
    """
    return _random(random.uniform_array, shape, dtype, device, requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal values, seeded by ``gpugrad.manual_seed``.

    Example::

        >>> gpugrad.manual_seed(0)
        >>> x = gpugrad.randn(2, 3, requires_grad=True)
        >>> x.shape, x.dtype, x.requires_grad
        ((2, 3), dtype('float32'), True)
    """
    return _random(random.normal_array, shape, dtype, device, requires_grad)
