"""``gpugrad.fft``: discrete Fourier transforms under ``torch.fft``'s names and arguments,
differentiable (PyTorch's convention for complex gradients; the records and their rules are
in gpugrad/ops/fft.py). float32 inputs give complex64, float64 complex128; integer and bool
inputs are taken as the default float dtype. ``norm`` is "backward" (None: scale the inverse
by 1/n), "ortho" (1/sqrt(n) both ways) or "forward" (scale the forward transform by 1/n).

Example::

    >>> x = gpugrad.tensor([1.0, 0.0, 0.0, 0.0])
    >>> gpugrad.fft.fft(x).tolist()
    [(1+0j), (1+0j), (1+0j), (1+0j)]
    >>> gpugrad.fft.rfft(gpugrad.tensor([1.0, 2.0, 3.0, 4.0])).tolist()
    [(10+0j), (-2+2j), (-2+0j)]
    >>> gpugrad.fft.fftfreq(4).tolist()
    [0.0, 0.25, -0.5, -0.25]
"""

from __future__ import annotations

import numpy as np

from .creation import arange
from .dtypes import get_default_dtype
from .scalar_casts import as_int
from .ops.complex_parts import conj
from .ops.fft import DFT, IRFFT, dual_norm
from .ops.rearrange import roll
from .ops.record import apply
from .ops.shape_errors import as_dims, checked_dim
from .ops.unary import astype

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
           "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn",
           "fftfreq", "rfftfreq", "fftshift", "ifftshift"]


def _norm(norm, name: str) -> str:
    if norm is None:
        return "backward"
    if norm not in ("backward", "ortho", "forward"):
        raise ValueError(f"{name}: invalid normalization mode {norm!r}; use \"backward\" "
                         f"(the default), \"ortho\" or \"forward\"")
    return norm


def _inexact(input, name: str, real_only: bool = False):
    kind = input.dtype.kind
    if kind == "c" and real_only:
        raise RuntimeError(f"{name} expects a real input tensor, but got {input.dtype}; "
                           f"use {name[1:]} for complex inputs")
    if kind == "f" and input.dtype.itemsize < 4:
        raise TypeError(f"{name}: {input.dtype} is not supported (as on PyTorch's CPU); "
                        f"cast to float32 first (x.float())")
    if kind not in "fc":
        input = astype(input, get_default_dtype())
    return input


def _axes_and_sizes(input, s, dim, name: str, may_be_empty: bool):
    """The transformed axes (negative indices, in order) and their lengths (None: as
    they are), from ``s``/``dim`` as ``torch.fft.fftn`` reads them."""
    if dim is not None:
        dim = as_dims(dim)          # (one dim or many: ints, NumPy ints, 0-d tensors)
    if s is not None:
        s = tuple(as_int(n, name, "n (or s)") for n in as_dims(s))
    if dim is None:
        count = len(s) if s is not None else input.ndim
        dims = tuple(range(input.ndim - count, input.ndim))
    else:
        if input.ndim == 0 and dim:
            raise IndexError(f"{name}: dimension specified as {dim[0]} but the tensor has no "
                             f"dimensions (a 0-d tensor); reshape it to 1-d first")
        dims = tuple(checked_dim(input, d, name) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"{name}: dims must be unique, got {tuple(dim)}")
    if s is not None:
        if len(s) != len(dims):
            raise RuntimeError(f"{name}: when given, shape and dim must have the same length "
                               f"(got s={s}, dim={tuple(dim) if dim is not None else None})")
        s = tuple(n if n != -1 else input.shape[d] for n, d in zip(s, dims))
        for n in s:
            if n < 1:
                raise RuntimeError(f"{name}: invalid number of data points ({n}) specified")
    if not dims and not may_be_empty:
        raise RuntimeError(f"{name} must transform at least one axis")
    return tuple(d - input.ndim for d in dims), s


def _c2c(input, s, dim, norm, inverse: bool, name: str):
    input = _inexact(input, name)
    axes, n = _axes_and_sizes(input, s, dim, name, True)
    if not axes:                                # (no axis: the input itself, as complex)
        _norm(norm, name)
        return astype(input, np.result_type(input.dtype, np.complex64))
    return apply(DFT, input, n=n, after=None, axes=axes, norm=_norm(norm, name),
                 inverse=inverse, real_out=False)


def _r2c(input, s, dim, norm, name: str):
    input = _inexact(input, name, real_only=True)
    axes, n = _axes_and_sizes(input, s, dim, name, False)
    lengths = n or tuple(input.shape[a] for a in axes)
    return apply(DFT, input, n=n, after=lengths[:-1] + (lengths[-1] // 2 + 1,), axes=axes,
                 norm=_norm(norm, name), inverse=False, real_out=False)


def _c2r(input, s, dim, norm, name: str):
    input = _inexact(input, name)
    if input.dtype.kind != "c":                 # (a real half spectrum: imaginary parts 0)
        input = astype(input, np.result_type(input.dtype, np.complex64))
    axes, n = _axes_and_sizes(input, s, dim, name, False)
    if n is None:
        n = tuple(input.shape[a] for a in axes[:-1]) + (2 * (input.shape[axes[-1]] - 1),)
        if n[-1] < 1:
            raise RuntimeError(f"{name}: invalid number of data points ({n[-1]}) specified "
                               f"(a half spectrum of length 1 gives none; pass n)")
    return apply(IRFFT, input, n=n, axes=axes, norm=_norm(norm, name))


def fft(input, n=None, dim=-1, norm=None):
    """The 1-D discrete Fourier transform along ``dim``, padded or cut to ``n``.

    Shapes: (..., L, ...) -> (..., n or L, ...), complex.

    Example::

        >>> gpugrad.fft.fft(gpugrad.tensor([0.0, 1.0])).tolist()
        [(1+0j), (-1+0j)]
    """
    return _c2c(input, None if n is None else (n,), dim, norm, False, "fft")


def ifft(input, n=None, dim=-1, norm=None):
    """The 1-D inverse transform along ``dim`` (``fft``'s inverse).

    Example::

        >>> gpugrad.fft.ifft(gpugrad.tensor([1.0, -1.0])).tolist()
        [0j, (1+0j)]
    """
    return _c2c(input, None if n is None else (n,), dim, norm, True, "ifft")


def fft2(input, s=None, dim=(-2, -1), norm=None):
    """The 2-D transform over ``dim`` (the last two by default).

    Example::

        >>> gpugrad.fft.fft2(gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [[(10+0j), (-2+0j)], [(-4+0j), 0j]]
    """
    return _c2c(input, s, dim, norm, False, "fft2")


def ifft2(input, s=None, dim=(-2, -1), norm=None):
    """The 2-D inverse transform over ``dim``.

    Example::

        >>> x = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> gpugrad.fft.ifft2(gpugrad.fft.fft2(x)).real.tolist()
        [[1.0, 2.0], [3.0, 4.0]]
    """
    return _c2c(input, s, dim, norm, True, "ifft2")


def fftn(input, s=None, dim=None, norm=None):
    """The N-D transform over ``dim`` (None: every dimension, or the last ``len(s)``), each
    padded or cut to ``s``.

    Example::

        >>> gpugrad.fft.fftn(gpugrad.ones(2, 2)).tolist()
        [[(4+0j), 0j], [0j, 0j]]
    """
    return _c2c(input, s, dim, norm, False, "fftn")


def ifftn(input, s=None, dim=None, norm=None):
    """The N-D inverse transform over ``dim``.

    Example::

        >>> gpugrad.fft.ifftn(gpugrad.tensor([[4.0, 0.0], [0.0, 0.0]])).tolist()
        [[(1+0j), (1+0j)], [(1+0j), (1+0j)]]
    """
    return _c2c(input, s, dim, norm, True, "ifftn")


def rfft(input, n=None, dim=-1, norm=None):
    """The transform of a real input along ``dim``, its non-negative frequencies only.

    Shapes: (..., L, ...) real -> (..., n // 2 + 1, ...) complex (n: L by default).

    Example::

        >>> gpugrad.fft.rfft(gpugrad.tensor([1.0, 1.0, 1.0])).tolist()
        [(3+0j), 0j]
    """
    return _r2c(input, None if n is None else (n,), dim, norm, "rfft")


def irfft(input, n=None, dim=-1, norm=None):
    """``rfft``'s inverse: a half spectrum along ``dim`` -> ``n`` real values (default
    2 (m - 1) for m bins). The imaginary parts of bin 0 (and of bin n/2 for even n) are
    ignored, as the real signal's transform has none.

    Example::

        >>> gpugrad.fft.irfft(gpugrad.fft.rfft(gpugrad.tensor([1.0, 2.0, 3.0])), n=3).tolist()
        [1.0, 2.0, 3.0]
    """
    return _c2r(input, None if n is None else (n,), dim, norm, "irfft")


def rfft2(input, s=None, dim=(-2, -1), norm=None):
    """``rfftn`` over two dimensions (the last two by default).

    Example::

        >>> gpugrad.fft.rfft2(gpugrad.ones(2, 4)).shape            # the last halved
        (2, 3)
    """
    return _r2c(input, s, dim, norm, "rfft2")


def irfft2(input, s=None, dim=(-2, -1), norm=None):
    """``irfftn`` over two dimensions.

    Example::

        >>> x = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> gpugrad.fft.irfft2(gpugrad.fft.rfft2(x), s=(2, 2)).tolist()
        [[1.0, 2.0], [3.0, 4.0]]
    """
    return _c2r(input, s, dim, norm, "irfft2")


def rfftn(input, s=None, dim=None, norm=None):
    """The N-D transform of a real input, the last of ``dim`` halved to n // 2 + 1.

    Example::

        >>> gpugrad.fft.rfftn(gpugrad.ones(2, 4)).tolist()
        [[(8+0j), 0j, 0j], [0j, 0j, 0j]]
    """
    return _r2c(input, s, dim, norm, "rfftn")


def irfftn(input, s=None, dim=None, norm=None):
    """``rfftn``'s inverse: the last of ``dim`` gives ``s[-1]`` (default 2 (m - 1)) reals.

    Example::

        >>> x = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> gpugrad.fft.irfftn(gpugrad.fft.rfftn(x), s=(2, 2)).tolist()
        [[1.0, 2.0], [3.0, 4.0]]
    """
    return _c2r(input, s, dim, norm, "irfftn")


def hfft(input, n=None, dim=-1, norm=None):
    """The transform of a signal with Hermitian symmetry given by its first half (``input``,
    m values along ``dim``): ``n`` real values (default 2 (m - 1)); ``irfft`` of the
    conjugate with the dual norm.

    Example::

        >>> gpugrad.fft.hfft(gpugrad.tensor([1.0, 2.0, 3.0])).tolist()     # of [1, 2, 3, 2]
        [8.0, -2.0, 0.0, -2.0]
    """
    return _c2r(conj(_inexact(input, "hfft")), None if n is None else (n,), dim,
                dual_norm(_norm(norm, "hfft")), "hfft")


def ihfft(input, n=None, dim=-1, norm=None):
    """``hfft``'s inverse: the half spectrum (n // 2 + 1 values) of a real input's inverse
    transform; the conjugate of ``rfft`` with the dual norm.

    Example::

        >>> gpugrad.fft.ihfft(gpugrad.tensor([8.0, -2.0, 0.0, -2.0])).real.tolist()
        [1.0, 2.0, 3.0]
    """
    return conj(_r2c(input, None if n is None else (n,), dim,
                     dual_norm(_norm(norm, "ihfft")), "ihfft"))


def hfft2(input, s=None, dim=(-2, -1), norm=None):
    """``hfftn`` over two dimensions (the last two by default).

    Example::

        >>> gpugrad.fft.hfft2(gpugrad.tensor([[1.0, 0.0], [0.0, 0.0]])).tolist()
        [[1.0, 1.0], [1.0, 1.0]]
    """
    return _c2r(conj(_inexact(input, "hfft2")), s, dim, dual_norm(_norm(norm, "hfft2")),
                "hfft2")


def ihfft2(input, s=None, dim=(-2, -1), norm=None):
    """``ihfftn`` over two dimensions.

    Example::

        >>> gpugrad.fft.ihfft2(gpugrad.ones(2, 4)).shape
        (2, 3)
    """
    return conj(_r2c(input, s, dim, dual_norm(_norm(norm, "ihfft2")), "ihfft2"))


def hfftn(input, s=None, dim=None, norm=None):
    """The N-D ``hfft``: the last of ``dim`` holds the Hermitian half; real output.

    Example::

        >>> gpugrad.fft.hfftn(gpugrad.ones(2, 3)).shape          # 2 (3 - 1) on the last
        (2, 4)
    """
    return _c2r(conj(_inexact(input, "hfftn")), s, dim, dual_norm(_norm(norm, "hfftn")),
                "hfftn")


def ihfftn(input, s=None, dim=None, norm=None):
    """The N-D ``ihfft``: the conjugate of ``rfftn`` with the dual norm.

    Example::

        >>> gpugrad.fft.ihfftn(gpugrad.ones(2, 4)).shape
        (2, 3)
    """
    return conj(_r2c(input, s, dim, dual_norm(_norm(norm, "ihfftn")), "ihfftn"))


def fftfreq(n: int, d: float = 1.0, *, dtype=None, device=None, requires_grad=False):
    """The sample frequencies of an ``n``-point transform, spacing ``d``:
    [0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d n).

    Example::

        >>> gpugrad.fft.fftfreq(5, d=0.5).tolist()
        [0.0, 0.4000000059604645, 0.800000011920929, -0.800000011920929, -0.4000000059604645]
    """
    n = as_int(n, "fftfreq", "n")
    k = arange(n, dtype=dtype or get_default_dtype(), device=device)
    k = k - n * (k >= (n + 1) // 2).to(k.dtype)
    out = k * (1.0 / (n * d))                           # (as PyTorch rounds it)
    return out.requires_grad_() if requires_grad else out


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, device=None, requires_grad=False):
    """The non-negative sample frequencies of an ``n``-point real transform:
    [0, 1, ..., n // 2] / (d n).

    Example::

        >>> gpugrad.fft.rfftfreq(4).tolist()
        [0.0, 0.25, 0.5]
    """
    n = as_int(n, "rfftfreq", "n")
    out = arange(n // 2 + 1, dtype=dtype or get_default_dtype(), device=device) * (1.0 / (n * d))
    return out.requires_grad_() if requires_grad else out


def _shift(input, dim, sign: int):
    if dim is None:
        dim = tuple(range(input.ndim))
    dims = tuple(checked_dim(input, d, "fftshift") for d in as_dims(dim))
    shifts = tuple(sign * (input.shape[d] // 2) for d in dims)
    return roll(input, shifts, dims) if dims else input


def fftshift(input, dim=None):
    """Move the zero frequency to the middle: a roll by n // 2 along ``dim`` (None: all).

    Example::

        >>> gpugrad.fft.fftshift(gpugrad.fft.fftfreq(4)).tolist()
        [-0.5, -0.25, 0.0, 0.25]
    """
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    """``fftshift``'s inverse: a roll by -(n // 2).

    Example::

        >>> gpugrad.fft.ifftshift(gpugrad.tensor([-0.5, -0.25, 0.0, 0.25])).tolist()
        [0.0, 0.25, -0.5, -0.25]
    """
    return _shift(input, dim, -1)
