"""Making tensors: ``tensor``, ``as_tensor``, ``zeros``, ``ones``, ``full``, ``empty``,
``*_like``, ``arange``, ``linspace``, ``logspace``, ``eye``, and the legacy constructor
``Tensor(2, 3)``. The random ones (``rand``, ``randn``, ``randint``...) are in
random_sampling.py (also reachable from here).

New tensors go to the default device (cpu unless ``set_default_device`` or
``GPUGRAD_DEVICE`` say otherwise). Python floats become the default float dtype (float32,
see ``set_default_dtype``), ints int64, bools bool. Shapes are given as PyTorch's: varargs
``zeros(2, 3)``, one sequence ``zeros((2, 3))`` or the keyword ``zeros(size=(2, 3))``.

Example::

    >>> gpugrad.zeros(2, 3).shape
    (2, 3)
    >>> gpugrad.tensor([1.0, 2.0], requires_grad=True).dtype
    dtype('float32')
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from . import backend, interop
from .autograd.compile_mode import _state as _compiling, note_reads, recorded
from .creation_args import (device_or_default as _device, finish as _finish,
                            integer_array as _integer_array, infer_dtype as _infer_dtype,
                            fill_dtype as _fill_dtype,
                            is_device_array as _is_device_array, shape_from as _shape)
from .dtypes import as_dtype, get_default_dtype
from .graph_cut import copying, warn_graph_cut
from .scalar_casts import WRITTEN_NUMBERS, checked_scalar
from .random_sampling import rand, randint, randn  # noqa: F401  (their old home)
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
           "full_like", "empty_like", "arange", "linspace", "logspace", "eye", "rand", "randn",
           "randint"]


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
    if dtype is not None and data.__class__ in WRITTEN_NUMBERS:   # (np.int64 as an int)
        data = checked_scalar(data, as_dtype(dtype), "tensor")  # (-1 into uint8 is 255)
    if data.__class__ is list or data.__class__ is tuple:
        return _tensor_from_sequence(data, dtype, device, requires_grad)
    is_tensor = isinstance(data, Tensor)
    if is_tensor and data._requires_grad:
        warn_graph_cut("gpugrad.tensor(t)", "t.clone()")
    elif not is_tensor and interop.is_bfloat16(data):
        raise TypeError(interop.bfloat16_message("tensor"))
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
        dtype = _infer_dtype(data, dtype)
        if dtype is not None and dtype.kind in "iu":    # PyTorch's casts (-1 into uint8 is
            data = _integer_array(data, dtype)          # 255; 300.5 or -0.5 raise)
        array = recorded(backend.asarray)(data, dtype=dtype, device=_device(device),
                                          copy=True)
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
    if dtype is not None and (data.__class__ in WRITTEN_NUMBERS or data.__class__ is list or
                              data.__class__ is tuple) and as_dtype(dtype).kind in "iu":
        return tensor(data, dtype, device)  # (no memory to share: PyTorch's casts, as tensor)
    if isinstance(data, Tensor):
        note_reads(data)
        data = data._array
    elif interop.is_bfloat16(data):
        raise TypeError(interop.bfloat16_message("as_tensor"))
    target = (backend.device_of(data) if device is None and _is_device_array(data)
              else _device(device))
    array = recorded(backend.asarray)(_host_or_same(data, target),
                                      dtype=_infer_dtype(data, dtype), device=target)
    return _finish(array, False)


def _filled(fill, shape, dtype, device, requires_grad):
    target = _device(device)
    xp = backend.array_module(target)
    dtype = as_dtype(dtype) or _infer_dtype(fill, None) or _fill_dtype(fill)
    if dtype.kind in "iu" and fill.__class__ in WRITTEN_NUMBERS and not 0 <= fill <= 127:
        fill = checked_scalar(fill, dtype, "full")  # (-1 into uint8 is 255; 256 raises)
    with backend.use_device(target):
        array = recorded(xp.full)(shape, fill, dtype=dtype)
    return _finish(array, requires_grad)


def zeros(*shape, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``.
    Default dtype float32.

    Example::

        >>> gpugrad.zeros(2, dtype=gpugrad.int64).tolist(), gpugrad.zeros(size=(1, 2)).shape
        ([0, 0], (1, 2))
    """
    return _filled(0.0, _shape(shape, size), dtype or get_default_dtype(), device,
                   requires_grad)


def ones(*shape, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)``, ``ones((2, 3))`` or ``ones(size=(2, 3))``.
    Default dtype float32.

    Example::

        >>> gpugrad.ones(2).tolist(), gpugrad.ones((2, 3)).shape
        ([1.0, 1.0], (2, 3))
    """
    return _filled(1.0, _shape(shape, size), dtype or get_default_dtype(), device,
                   requires_grad)


def empty(*shape, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An uninitialised tensor (its values are whatever the memory held), shaped as
    ``zeros`` takes it.

    Example::

        >>> e = gpugrad.empty(2, 3, dtype=gpugrad.float64)
        >>> e.shape, e.dtype
        ((2, 3), dtype('float64'))
    """
    target = _device(device)
    xp = backend.array_module(target)
    with backend.use_device(target):
        array = recorded(xp.empty)(_shape(shape, size),
                                   dtype=as_dtype(dtype) or get_default_dtype())
    return _finish(array, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value`` (its dtype inferred from the
    value). Into an integer dtype the value must fit, as PyTorch's, except that a negative
    int wraps into an unsigned dtype (``scalar_casts.checked_scalar``).

    Example::

        >>> t = gpugrad.full((2, 2), 7)
        >>> t.dtype, t.tolist()
        (dtype('int64'), [[7, 7], [7, 7]])
        >>> gpugrad.full((2,), -1, dtype=gpugrad.uint8).tolist()
        [255, 255]
    """
    size = (size,) if isinstance(size, numbers.Integral) else tuple(size)
    return _filled(fill_value, _shape(size), dtype, device, requires_grad)


def _like(t: Tensor, fill, dtype, device, requires_grad) -> Tensor:
    if t._batched:                  # inside vmap: batched like t (written per example)
        from .autograd.batched import BatchedTensor
        value = _like(t._value, fill, dtype, device, False)
        return BatchedTensor._make(value, t._level).requires_grad_(requires_grad)
    return _filled(fill, tuple(t.shape), dtype or t.dtype, device or t.device, requires_grad)


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros with the shape (and, unless given, dtype and device) of ``input``.

    Example::

        >>> gpugrad.zeros_like(gpugrad.arange(3)).tolist()      # int64, as arange's
        [0, 0, 0]
    """
    return _like(input, 0, dtype, device, requires_grad)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones with the shape (and, unless given, dtype and device) of ``input``."""
    return _like(input, 1, dtype, device, requires_grad)


def full_like(input: Tensor, fill_value, dtype=None, device=None,
              requires_grad=False) -> Tensor:
    """``fill_value`` with the shape (and, unless given, dtype and device) of ``input``.

    Example::

        >>> gpugrad.full_like(gpugrad.zeros(2), 3.0).tolist()
        [3.0, 3.0]
    """
    return _like(input, fill_value, dtype, device, requires_grad)


def empty_like(input: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor with the shape (and, unless given, dtype and device) of ``input``, as
    ``torch.empty_like`` (gpugrad fills it with zeros).

    Example::

        >>> gpugrad.empty_like(gpugrad.ones(2, 3, dtype=gpugrad.int64)).shape
        (2, 3)
    """
    return _like(input, 0, dtype, device, requires_grad)


def _number(value, name: str):
    """An ``arange``/``linspace`` bound as a Python number: 0-d (one-element) tensors and
    NumPy scalars are read, as PyTorch does."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise TypeError(f"{name} must be a number or a one-element tensor, got a tensor of "
                            f"shape {tuple(value.shape)}")
        return value.item()
    if isinstance(value, (np.generic, np.ndarray)):
        return value.item()
    if not isinstance(value, numbers.Number) or isinstance(value, complex):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    return value


def arange(start=0, end=None, step=1, *, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """Evenly spaced values in [start, end), as ``torch.arange``: ``arange(end)``,
    ``arange(start, end, step)`` or with keywords. int64 when start, end and step are all
    integers (ints, NumPy ints, integer 0-d tensors), else the default float dtype; with an
    integer ``dtype`` the bounds are truncated to integers first, as PyTorch's.

    Example::

        >>> gpugrad.arange(3).tolist()
        [0, 1, 2]
        >>> gpugrad.arange(gpugrad.tensor(4)).dtype, gpugrad.arange(0, end=1, step=0.5).dtype
        (dtype('int64'), dtype('float32'))
    """
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, n) for v, n in ((start, "start"), (end, "end"),
                                                     (step, "step")))
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = np.int64 if ints else get_default_dtype()
    dtype = as_dtype(dtype)
    if dtype.kind in "iub":
        start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    target = _device(device)
    xp = backend.array_module(target)
    with backend.use_device(target):
        if dtype.kind in "iu" and dtype.itemsize < 8:   # (wrapping into it, as PyTorch's:
            array = recorded(_wrapped_arange)(xp, start, end, step, dtype)  # uint8 -1 = 255)
        else:
            array = recorded(xp.arange)(start, end, step, dtype=dtype)
    return _finish(array, requires_grad)


def _wrapped_arange(xp, start, end, step, dtype):
    return xp.arange(start, end, step, dtype=np.int64).astype(dtype)


def _steps(steps) -> int:
    try:
        steps = operator.index(steps)
    except TypeError:
        raise TypeError(f"steps must be an int, got {type(steps).__name__} {steps!r}") from None
    if steps < 0:
        raise ValueError(f"number of steps must be non-negative, got {steps}")
    return steps


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (default float
    dtype), as ``torch.linspace``; an integer ``dtype`` truncates the float values toward
    zero, as PyTorch's (NumPy's would round toward -inf).

    Example::

        >>> gpugrad.linspace(0, 1, steps=5).tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0]
        >>> gpugrad.linspace(-10, 0, 4, dtype=gpugrad.int64).tolist()
        [-10, -6, -3, 0]
    """
    start, end, steps = _number(start, "start"), _number(end, "end"), _steps(steps)
    dtype = as_dtype(dtype) or get_default_dtype()
    target = _device(device)
    xp = backend.array_module(target)
    with backend.use_device(target):
        if dtype.kind in "iu":
            array = recorded(_truncated_linspace)(xp, start, end, steps, dtype)
        else:
            array = recorded(xp.linspace)(start, end, steps, dtype=dtype)
    return _finish(array, requires_grad)


def _truncated_linspace(xp, start, end, steps, dtype):
    return xp.linspace(start, end, steps, dtype=np.float64).astype(dtype)   # toward zero


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None,
             requires_grad=False) -> Tensor:
    """``steps`` values ``base ** x`` for x evenly spaced from ``start`` to ``end``
    inclusive (default float dtype), as ``torch.logspace``.

    Example::

        >>> gpugrad.logspace(0, 2, 3).tolist(), gpugrad.logspace(0, 3, 4, base=2).tolist()
        ([1.0, 10.0, 100.0], [1.0, 2.0, 4.0, 8.0])
    """
    start, end, steps = _number(start, "start"), _number(end, "end"), _steps(steps)
    base = _number(base, "base")
    target = _device(device)
    xp = backend.array_module(target)
    with backend.use_device(target):
        powers = recorded(xp.linspace)(start, end, steps, dtype=np.float64)
        array = recorded(xp.power)(float(base), powers).astype(
            as_dtype(dtype) or get_default_dtype())
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

