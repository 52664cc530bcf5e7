"""PyTorch names for what gpugrad already does, each a line or two over existing ops:
the functions ``t``, ``ravel``, ``concat`` and ``asarray``; the Tensor methods ``isnan``,
``isfinite``, ``ravel``, ``byte``/``short``/``char``, ``is_cpu``, ``get_device``,
``nanmedian``/``fmax``/``fmin``/``msort`` (nan_statistics.py), and the
in-place ``random_`` and ``fill_diagonal_``, and the special functions in place
(``erfinv_``, ``lgamma_``, ``digamma_``, ``polygamma_(n)``, ``mvlgamma_(p)``, ``erf_``,
``erfc_``, ``i0_``, ``log1p_``, ``expm1_``).

Example::

    >>> x = gpugrad.tensor([[1.0, float("nan")], [3.0, 4.0]])
    >>> x.isnan().tolist(), gpugrad.t(x).ravel().tolist()[:2]
    ([[False, True], [False, False]], [1.0, 3.0])
    >>> gpugrad.zeros(2, 3).fill_diagonal_(7.0).tolist()
    [[7.0, 0.0, 0.0], [0.0, 7.0, 0.0]]
"""

from __future__ import annotations

import numpy as np

from .. import backend, creation, random_sampling
from ..tensor import Tensor
from . import compare, inplace, selection, shape, special, special_bessel, special_erf, unary
from . import nan_statistics, special_gamma

__all__ = ["t", "ravel", "concat", "asarray"]


def t(input):
    """The transpose of a matrix (0-d and 1-d tensors as they are), as ``torch.t``:
    (m, n) -> (n, m).

    Example::

        >>> gpugrad.t(gpugrad.zeros(2, 3)).shape
        (3, 2)
    """
    return input.t()


def ravel(input):
    """``input`` flattened to 1-d, as ``torch.ravel`` (a view where the layout allows it).

    Example::

        >>> gpugrad.ravel(gpugrad.tensor([[1, 2], [3, 4]])).tolist()
        [1, 2, 3, 4]
    """
    return shape.reshape(input, (-1,))


def concat(tensors, dim: int = 0):
    """``torch.concat``: the same as ``cat`` (and ``concatenate``).

    Example::

        >>> gpugrad.concat([gpugrad.ones(1), gpugrad.zeros(2)]).tolist()
        [1.0, 0.0, 0.0]
    """
    return shape.cat(tensors, dim)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """``obj`` (a tensor, NumPy/CuPy array, number or nested list) as a tensor, as
    ``torch.asarray``: memory is shared when no conversion is needed (a tensor with the
    same dtype and device comes back as itself); ``copy=True`` always copies and
    ``copy=False`` refuses to. ``requires_grad``: as given, else a tensor's own (as PyTorch
    2.13), else False.

    Example::

        >>> a = np.zeros(2, dtype=np.float32)
        >>> t = gpugrad.asarray(a)
        >>> a[0] = 3.0; t.tolist()                 # shared
        [3.0, 0.0]
        >>> gpugrad.asarray(a, copy=True) is t
        False
    """
    if copy is False and not _shares(obj, dtype, device):
        raise ValueError(f"asarray: copy=False, but {type(obj).__name__} cannot be used "
                         f"without a copy (dtype={dtype}, device={device}); leave copy=None "
                         f"to copy only when needed")
    out = creation.as_tensor(obj, dtype=dtype, device=device)
    if copy and (out is obj or _same_memory(out, obj)):
        out = unary.clone(out) if isinstance(obj, Tensor) else creation.tensor(
            out._array.copy(), device=out.device)
    if requires_grad is False and out.requires_grad:
        out = out.detach()
    elif requires_grad and not out.requires_grad:
        out.requires_grad_(True)
    return out


def _same_memory(out, obj) -> bool:
    array = obj._array if isinstance(obj, Tensor) else obj
    if not hasattr(array, "shape") or isinstance(array, np.generic):
        return False
    if out._array is array or not out._array.size:
        return out._array is array
    return bool(backend.xp_of(out._array).shares_memory(out._array, array))


def _shares(obj, dtype, device) -> bool:
    """Whether ``obj`` can become a tensor of ``dtype`` on ``device`` without a copy."""
    if isinstance(obj, Tensor):
        array = obj._array
    elif backend.is_array(obj):
        array = obj
    else:
        return False
    if dtype is not None and np.dtype(dtype) != array.dtype:
        return False
    return device is None or backend.Device(device) == backend.device_of(array)


def _cast(name: str, dtype: str):
    def method(self):
        return unary.astype(self, dtype)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"This tensor as {dtype}, as PyTorch's ``t.{name}()``."
    return method


def _random(self, from_=0, to=None, *, generator=None):
    """Integers drawn uniformly into ``self``, as PyTorch's ``t.random_()``: from [0, to) with
    one bound, [from, to) with two, and with none from [0, 2**mantissa] for floats, [0,
    max] for integers, {0, 1} for bool."""
    if to is None and from_ != 0:
        from_, to = 0, from_
    if to is None:
        kind = self.dtype.kind
        if kind == "f":
            to = 2 ** (np.finfo(self.dtype).nmant + 1) + 1
        elif kind == "b":
            to = 2
        else:
            to = int(np.iinfo(self.dtype).max) + 1     # (exclusive: max itself is drawn)
    if not from_ < to:
        raise ValueError(f"random_ expects 'from' to be less than 'to', but got from={from_} "
                         f">= to={to}")
    values = random_sampling.randint(int(from_), int(to), tuple(self.shape),
                                     generator=generator, device=self.device)
    return unary.astype(values, self.dtype)


def _fill_diagonal(self, fill_value, wrap: bool = False):
    """``self`` with ``fill_value`` on its main diagonal, as PyTorch's ``t.fill_diagonal_``
    (all dimensions equal when more than 2; ``wrap``: a tall matrix's diagonal starts again
    every ``cols + 1`` rows)."""
    sizes = tuple(self.shape)
    if len(sizes) < 2:
        raise ValueError(f"fill_diagonal_: dimensions must be larger than 1, got shape "
                         f"{sizes}")
    if len(sizes) > 2 and len(set(sizes)) != 1:
        raise ValueError(f"fill_diagonal_: all dimensions of input must be of equal length, "
                         f"got shape {sizes}")
    numel = int(np.prod(sizes))
    step = sum(int(np.prod(sizes[i + 1:])) for i in range(len(sizes)))
    stop = numel if wrap and len(sizes) == 2 else min(sizes) * step
    mask = np.zeros(numel, dtype=bool)
    mask[0:stop:step] = True
    mask = creation.as_tensor(mask.reshape(sizes), device=self.device)
    return selection.masked_fill(self, mask, fill_value)


METHODS = {
    "isnan": compare.isnan, "isfinite": compare.isfinite, "ravel": ravel,
    "byte": _cast("byte", "uint8"), "short": _cast("short", "int16"),
    "char": _cast("char", "int8"),
    "is_cpu": property(lambda self: self.device.type == "cpu",
                       doc="Whether the tensor is in host memory, as PyTorch's t.is_cpu."),
    "get_device": lambda self: -1 if self.device.type == "cpu" else int(self.device.index),
    "random_": inplace.in_place_method(_random, "random", reads=False),
    "fill_diagonal_": inplace.in_place_method(_fill_diagonal, "fill_diagonal"),
}
METHODS.update(nan_statistics.METHODS)      # nanmedian, fmax, fmin, msort
# the special functions in place (torch's trunc_normal_ recipe calls t.erfinv_())
METHODS.update({name + "_": inplace.in_place_method(fn, name) for name, fn in (
    ("erf", special.erf), ("erfc", special_erf.erfc), ("erfinv", special_erf.erfinv),
    ("log1p", special.log1p), ("expm1", special.expm1), ("lgamma", special_gamma.lgamma),
    ("digamma", special_gamma.digamma), ("mvlgamma", special_gamma.mvlgamma),
    ("polygamma", lambda self, n: special_gamma.polygamma(n, self)),
    ("i0", special_bessel.i0))})
