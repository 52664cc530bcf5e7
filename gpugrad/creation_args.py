"""How the factories (creation.py, random_sampling.py) read their arguments: the device
(None: the default one), the shape (PyTorch's three spellings) and the finished tensor.

Example::

    >>> from gpugrad.creation_args import shape_from
    >>> shape_from((2, 3)), shape_from(((2, 3),)), shape_from((), size=[2, 3])
    ((2, 3), (2, 3), (2, 3))
"""

from __future__ import annotations

import numbers

from . import backend
from .tensor import Tensor

__all__ = ["device_or_default", "finish", "shape_from"]


def device_or_default(device) -> backend.Device:
    """``device`` as a Device; None means the default device."""
    return backend.get_default_device() if device is None else backend.Device(device)


def finish(array, requires_grad: bool) -> Tensor:
    """A new leaf tensor around ``array``, requiring grad if asked."""
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def shape_from(shape: tuple, size=None) -> tuple:
    """The shape from a factory's varargs and ``size=``: ``zeros(2, 3)``, ``zeros((2, 3))``,
    ``zeros([2, 3])`` or ``zeros(size=(2, 3))`` (NumPy ints count as ints)."""
    if size is not None:
        if shape:
            raise TypeError(f"give the shape either positionally {shape} or as size={size!r}, "
                            f"not both")
        shape = (size,)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0
               for n in shape):
        raise ValueError(f"a shape must be non-negative integers, got {shape}")
    return tuple(int(n) for n in shape)
