"""Discrete Fourier transforms as op records: ``DFT`` (complex-to-complex, and real-to-half-
spectrum) and ``IRFFT`` (half-spectrum-to-real). ``gpugrad.fft`` (gpugrad/fft.py) gives them
``torch.fft``'s names and arguments.

Gradients follow PyTorch's convention for complex tensors: for a real loss L of a complex
z, the gradient is dL/dRe(z) + i dL/dIm(z). A transform is linear, so its reverse rule is its
adjoint (conjugate transpose) applied to the cotangent, itself a transform:

- ``DFT`` pads or cuts each transformed axis to length ``n`` (as NumPy's ``s``), transforms
  (``inverse``: the inverse transform), then optionally cuts or pads to ``after`` and keeps
  the real part (``real_out``). Its adjoint is ``DFT`` again, with the steps reversed: the
  cotangent is cut or padded back to ``n``, transformed the other way with the dual norm
  (the adjoint of an unscaled transform is the inverse scaled by ``n``, NumPy's
  ``norm="forward"`` inverse), cut or padded to the input's sizes, and its real part kept
  for a real input. ``rfftn`` is the full transform of a real input cut to the half
  spectrum (``after``), computed by NumPy's ``rfftn``.
- ``IRFFT`` completes a half spectrum (..., m) to a Hermitian one and inverts it to real
  values of length ``n`` on its last axis (``irfftn``). Each bin k other than 0 and n/2
  stands for itself and its mirror, so the adjoint is ``rfftn`` of the cotangent with the
  dual norm, those bins doubled, cut or padded back to the input's sizes.

Example::

    >>> x = gpugrad.tensor([1.0, 2.0, 3.0, 4.0], dtype="float64", requires_grad=True)
    >>> y = gpugrad.fft.irfft(gpugrad.fft.rfft(x), n=4)           # back to x
    >>> y.tolist()
    [1.0, 2.0, 3.0, 4.0]
    >>> (y * gpugrad.tensor([1.0, 0.0, 0.0, 0.0], dtype="float64")).sum().backward()
    >>> x.grad.tolist()
    [1.0, 0.0, 0.0, 0.0]
"""

from __future__ import annotations

import numpy as np

from ..creation import tensor
from .op_class import OWN_RULES
from .record import BROADCAST, LINEAR, Op, apply

__all__ = ["DFT", "IRFFT", "dual_norm"]

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def dual_norm(norm: str) -> str:
    """The norm whose inverse transform is the adjoint of a ``norm`` transform."""
    return _DUAL[norm]


def _resize(xp, y, axes: tuple, sizes: tuple):
    """``y`` cut or zero-padded at the end of each of ``axes`` to ``sizes``."""
    for axis, size in zip(axes, sizes):
        have = y.shape[axis]
        if have > size:
            index = [slice(None)] * y.ndim
            index[axis] = slice(0, size)
            y = y[tuple(index)]
        elif have < size:
            widths = [(0, 0)] * y.ndim
            widths[axis] = (0, size - have)
            y = xp.pad(y, widths)
    return y


def _complex_dtype(dtype):
    return np.result_type(dtype, np.complex64)


class DFT(Op):
    """Input (...) real or complex -> (...) complex (or real, ``real_out``): each of ``axes``
    (negative indices) padded or cut to ``n`` (None: as it is), transformed, then cut or
    padded to ``after`` (None: as it is)."""

    vmap = BROADCAST            # (the axes count from the end: a batch in front is outside)
    complex_grad = OWN_RULES    # (the rules below are PyTorch's adjoints)

    @staticmethod
    def forward(xp, x, n, after, axes, norm, inverse, real_out):
        if not inverse and x.dtype.kind != "c" and after is not None and \
                after[:-1] == (n or tuple(x.shape[a] for a in axes))[:-1] and \
                after[-1] == (n[-1] if n else x.shape[axes[-1]]) // 2 + 1:
            y = xp.fft.rfftn(x, s=n, axes=axes, norm=norm)          # the half spectrum
        else:
            y = (xp.fft.ifftn if inverse else xp.fft.fftn)(x, s=n, axes=axes, norm=norm)
            if after is not None:
                y = _resize(xp, y, axes, after)
        y = y.astype(_complex_dtype(x.dtype), copy=False)           # (CuPy may widen)
        if real_out:
            return xp.ascontiguousarray(y.real)
        return y

    @staticmethod
    def vjp(ctx, g):
        shape, real_in = ctx.shapes[0], ctx.dtypes[0].kind != "c"
        sizes = tuple(shape[a] for a in ctx.axes)
        n = ctx.n or sizes
        return apply(DFT, g, n=n if ctx.after is not None else None,
                     after=sizes if sizes != n else None, axes=ctx.axes,
                     norm=dual_norm(ctx.norm), inverse=not ctx.inverse, real_out=real_in)

    jvp = LINEAR


class IRFFT(Op):
    """Half spectrum (..., m) complex -> (..., n) real along ``axes`` (negative, the last one
    halved): the other axes padded or cut to ``n[:-1]``, transformed back as NumPy's
    ``irfftn(x, s=n)``."""

    vmap = BROADCAST
    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, x, n, axes, norm):
        y = xp.fft.irfftn(x, s=n, axes=axes, norm=norm)
        return y.astype(np.empty(0, x.dtype).real.dtype, copy=False)

    @staticmethod
    def vjp(ctx, g):
        shape = ctx.shapes[0]
        half = ctx.n[-1] // 2 + 1
        spectrum = apply(DFT, g, n=None, after=ctx.n[:-1] + (half,), axes=ctx.axes,
                         norm=dual_norm(ctx.norm), inverse=False, real_out=False)
        weights = np.full(half, 2.0)
        weights[0] = 1.0
        if ctx.n[-1] % 2 == 0:
            weights[-1] = 1.0                           # the Nyquist bin has no mirror
        weights = weights.reshape((half,) + (1,) * (-ctx.axes[-1] - 1))
        spectrum = spectrum * tensor(weights, dtype=g.dtype, device=g.device)
        sizes = tuple(shape[a] for a in ctx.axes)
        if sizes == ctx.n[:-1] + (half,):
            return spectrum
        return apply(_Resize, spectrum, axes=ctx.axes, sizes=sizes)

    jvp = LINEAR


class _Resize(Op):
    """Cut or zero-pad each of ``axes`` to ``sizes`` (IRFFT's adjoint, back to its input)."""

    name = "FFTResize"
    vmap = BROADCAST
    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, x, axes, sizes):
        return xp.ascontiguousarray(_resize(xp, x, axes, sizes))

    @staticmethod
    def vjp(ctx, g):
        return apply(_Resize, g, axes=ctx.axes, sizes=tuple(ctx.shapes[0][a] for a in ctx.axes))

    jvp = LINEAR
