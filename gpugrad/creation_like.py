"""Factories PyTorch names after another tensor or array: ``randn_like``, ``rand_like``
(``zeros_like``... are in creation.py), the ``Tensor.new_*`` methods
(``new_zeros``, ``new_ones``, ``new_full``, ``new_empty``, ``new_tensor``: this tensor's
dtype and device unless given), ``from_numpy``, ``Tensor(...)``'s legacy forms; and ``is_tensor``, ``is_floating_point``
and ``numel``. Built on creation.py's and random_sampling.py's factories.

Example::

    >>> x = gpugrad.zeros(2, dtype=gpugrad.float64)
    >>> x.new_ones(3).tolist(), x.new_ones(3).dtype
    ([1.0, 1.0, 1.0], dtype('float64'))
"""

from __future__ import annotations

import numbers

import numpy as np

from . import creation, random_sampling
from .creation_args import shape_from as _shape
from .dtypes import get_default_dtype
from .tensor import Tensor
from .type_info import Size

__all__ = ["new_zeros", "new_ones", "new_full", "new_empty", "new_tensor", "randn_like",
           "rand_like", "from_numpy", "is_tensor", "is_floating_point", "numel",
           "legacy_tensor"]


def new_zeros(self, *shape, size=None, dtype=None, device=None,
              requires_grad=False) -> Tensor:
    """Zeros of the shape ``t.new_zeros(2, 3)``, ``t.new_zeros((2, 3))`` or
    ``t.new_zeros(size=(2, 3))``, with this tensor's dtype and device (unless given).

    Example::

        >>> gpugrad.arange(3).new_zeros(2).tolist()         # int64, as the tensor
        [0, 0]
    """
    return creation.zeros(*shape, size=size, dtype=dtype or self.dtype,
                          device=device or self.device, requires_grad=requires_grad)


def new_ones(self, *shape, size=None, dtype=None, device=None,
             requires_grad=False) -> Tensor:
    """Ones of the shape (as ``new_zeros`` takes it) with this tensor's dtype and device
    (unless given).

    Example::

        >>> gpugrad.arange(3).new_ones(size=(2,)).tolist()
        [1, 1]
    """
    return creation.ones(*shape, size=size, dtype=dtype or self.dtype,
                         device=device or self.device, requires_grad=requires_grad)


def new_empty(self, *shape, size=None, dtype=None, device=None,
              requires_grad=False) -> Tensor:
    """An uninitialised tensor of the shape (as ``new_zeros`` takes it) with this tensor's
    dtype and device (unless given).

    Example::

        >>> e = gpugrad.zeros(1, dtype=gpugrad.float64).new_empty(2, 3)
        >>> e.shape, e.dtype
        ((2, 3), dtype('float64'))
    """
    return creation.empty(*shape, size=size, dtype=dtype or self.dtype,
                          device=device or self.device, requires_grad=requires_grad)


def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``fill_value`` in the shape ``size`` with this tensor's dtype and device.

    Example::

        >>> gpugrad.zeros(1).new_full((2,), 7).tolist()       # float32, as the tensor
        [7.0, 7.0]
    """
    return creation.full(tuple(size), fill_value, dtype=dtype or self.dtype,
                         device=device or self.device, requires_grad=requires_grad)


def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor of ``data`` (copied) with this tensor's dtype and device unless given,
    as PyTorch's ``t.new_tensor(data)``.

    Example::

        >>> t = gpugrad.zeros(1, dtype=gpugrad.float64).new_tensor([1, 2])
        >>> t.tolist(), t.dtype
        ([1.0, 2.0], dtype('float64'))
    """
    return creation.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                           requires_grad=requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False, *,
               generator=None) -> Tensor:
    """Standard normal values with the shape (and, unless given, dtype and device) of
    ``input``, from gpugrad's generator.

    Example::

        >>> gpugrad.randn_like(gpugrad.zeros(2, 3, dtype=gpugrad.float64)).dtype
        dtype('float64')
    """
    return random_sampling.randn(*input.shape, dtype=dtype or input.dtype,
                                 device=device or input.device, requires_grad=requires_grad,
                                 generator=generator)


def rand_like(input, dtype=None, device=None, requires_grad=False, *,
              generator=None) -> Tensor:
    """Uniform values in [0, 1) with the shape (and, unless given, dtype and device) of
    ``input``.

    Example::

        >>> u = gpugrad.rand_like(gpugrad.zeros(2, 3, dtype=gpugrad.float16))
        >>> u.shape, u.dtype, bool(((u >= 0) & (u < 1)).all())
        ((2, 3), dtype('float16'), True)
    """
    return random_sampling.rand(*input.shape, dtype=dtype or input.dtype,
                                device=device or input.device, requires_grad=requires_grad,
                                generator=generator)


def from_numpy(ndarray) -> Tensor:
    """A CPU tensor sharing ``ndarray``'s memory and keeping its dtype (a float64 array
    stays float64), as ``torch.from_numpy``: writes to either show in the other.

    Example::

        >>> a = np.zeros(2)
        >>> t = gpugrad.from_numpy(a)
        >>> a[0] = 5.0
        >>> t.tolist(), t.dtype
        ([5.0, 0.0], dtype('float64'))
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy takes a NumPy array, got {type(ndarray).__name__} "
                        f"(gpugrad.tensor(data) copies anything array-like)")
    if ndarray.dtype.kind not in "biuf" or ndarray.dtype.byteorder == ">":
        raise TypeError(f"from_numpy: gpugrad has no tensors of dtype {ndarray.dtype}; "
                        f"convert the array first (a.astype(np.float32))")
    return creation.as_tensor(ndarray, device="cpu")


def is_tensor(obj) -> bool:
    """Whether ``obj`` is a gpugrad tensor (or a Parameter), as ``torch.is_tensor``.

    Example::

        >>> gpugrad.is_tensor(gpugrad.zeros(1)), gpugrad.is_tensor(np.zeros(1))
        (True, False)
    """
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:
    """Whether ``input`` holds floating-point numbers (float16, float32, float64), as
    ``torch.is_floating_point``.

    Example::

        >>> gpugrad.is_floating_point(gpugrad.zeros(1)), gpugrad.is_floating_point(
        ...     gpugrad.arange(2))
        (True, False)
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"is_floating_point takes a tensor, got {type(input).__name__}")
    return input.dtype.kind == "f"


def numel(input) -> int:
    """The number of elements of ``input``, as ``torch.numel``.

    Example::

        >>> gpugrad.numel(gpugrad.zeros(2, 3))
        6
    """
    return input.numel()


def legacy_tensor(*args, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``gpugrad.Tensor(...)``, PyTorch's legacy constructor: ``Tensor(2, 3)`` (ints: a
    shape; zero-filled, where PyTorch leaves it uninitialised), ``Tensor()`` (shape (0,)),
    ``Tensor(data)`` (a sequence or array, copied as the default float dtype unless
    ``dtype`` says otherwise), ``Tensor(tensor)`` (a copy keeping its dtype).

    Example::

        >>> gpugrad.Tensor([1, 2]).dtype, gpugrad.Tensor(2, 3).shape
        (dtype('float32'), (2, 3))
    """
    ints = all(isinstance(a, numbers.Integral) and not isinstance(a, (bool, np.bool_))
               for a in args)
    if ints or (len(args) == 1 and isinstance(args[0], Size)):
        return creation.zeros(_shape(args or (0,)), dtype=dtype, device=device,
                     requires_grad=requires_grad)
    if len(args) != 1:
        raise TypeError(f"Tensor(...) takes ints (a shape) or one sequence of data, got "
                        f"{args!r}; for a shape from a list write Tensor(*shape)")
    data = args[0]
    if isinstance(data, (numbers.Number, np.bool_)):
        raise TypeError(f"Tensor(data): data must be a sequence, got {type(data).__name__} "
                        f"{data!r}; use gpugrad.tensor({data!r}) for a 0-d tensor")
    if isinstance(data, Tensor):
        return creation.tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
    return creation.tensor(data, dtype=dtype or get_default_dtype(), device=device,
                  requires_grad=requires_grad)
