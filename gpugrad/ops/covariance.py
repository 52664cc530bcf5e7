"""Covariance and correlation matrices, as ``torch.cov`` and ``torch.corrcoef``:
composites of sums and products (so differentiable, in the input and in ``aweights``, to any
order). Rows are variables and columns observations, as there.

Example::

    >>> from gpugrad.ops.covariance import corrcoef, cov
    >>> x = gpugrad.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    >>> cov(x).tolist(), corrcoef(x).tolist()
    ([[1.0, -1.0], [-1.0, 1.0]], [[1.0, -1.0], [-1.0, 1.0]])
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.capture_mode import is_step_capturing, refuse_host_sync
from ..autograd.compile_mode import is_compiling, kernel
from ..tensor import Tensor
from .complex_parts import complex as make_complex, conj, imag, real
from .diagonal import diagonal
from .linalg import matmul
from .reduce import sum as _sum
from .unary import _float, clamp, sqrt

__all__ = ["cov", "corrcoef"]


def _weights(name, weights, n, integral):
    if weights is None:
        return None
    if not isinstance(weights, Tensor):
        raise TypeError(f"cov: {name} must be a tensor, not {type(weights).__name__}")
    if weights.ndim != 1 or weights.shape[0] != n:
        raise ValueError(f"cov: expected {name} to be a 1-d tensor of {n} (the number of "
                         f"observations), got shape {tuple(weights.shape)}")
    if integral and weights.dtype.kind not in "iu":
        raise TypeError(f"cov: fweights must be integral, got {weights.dtype}")
    if not integral and weights.dtype.kind != "f":
        raise TypeError(f"cov: aweights must be floating point, got {weights.dtype}")
    raw = weights._array
    if raw.__class__ is np.ndarray:             # free to read: checked (at replays too)
        kernel(_refuse_negative, raw, name)
    elif not (is_compiling() or is_step_capturing()):   # a GPU: one sync, as torch's
        refuse_host_sync(f"cov's check that {name} are not negative")
        _refuse_negative(raw, name)
    return weights


def _refuse_negative(raw, name) -> None:
    if bool((raw < 0).any()):
        raise ValueError(f"cov: {name} cannot be negative, got {name} with a value of "
                         f"{raw.min().item()}")


def cov(input, *, correction: int = 1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of ``input`` (observations in
    columns; a 1-d input is one variable), as ``torch.cov``: (v, n) -> (v, v), or a 0-d
    tensor for one variable. ``correction``: subtracted from the number of observations
    (1: Bessel's); ``fweights``: integer repeat counts and ``aweights``: float importance
    weights of the observations (numpy.cov's formula; negative ones are refused, as there).
    Integer input gives float32; complex input gives ``centred @ centred.mH`` (Hermitian),
    as PyTorch's.

    Example::

        >>> x = gpugrad.tensor([1.0, 2.0, 4.0], dtype="float64")
        >>> round(gpugrad.cov(x).item(), 6)        # ((4/3)^2 + (1/3)^2 + (5/3)^2) / 2
        2.333333
    """
    if input.ndim > 2:
        raise ValueError(f"cov: expected input to have two or fewer dimensions, got shape "
                         f"{tuple(input.shape)}")
    x = _float(input)
    x = x.reshape(1, -1) if x.ndim < 2 else x
    n = x.shape[1]
    fw = _weights("fweights", fweights, n, integral=True)
    aw = _weights("aweights", aweights, n, integral=False)
    wtype = x.dtype if x.dtype.kind != "c" else "float32" if x.dtype.itemsize == 8 else "float64"
    w = fw.astype(wtype) if fw is not None else None
    if aw is not None:
        w = aw.astype(wtype) if w is None else w * aw.astype(wtype)
    if w is None:
        total = float(n)
        average = x.mean(axis=1, keepdims=True)
        norm = total - correction
    else:
        total = _sum(w)
        average = _sum(x * w, axis=1, keepdims=True) / total
        norm = total - correction if aw is None or correction == 0 else \
            total - correction * _sum(w * aw.astype(wtype)) / total
    if not isinstance(norm, Tensor) and norm <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
    norm = max(norm, 0.0) if not isinstance(norm, Tensor) else clamp(norm, min=0.0)
    centred = x - average
    weighted = centred if w is None else centred * w
    out = matmul(weighted, (conj(centred) if centred.dtype.kind == "c" else centred).mT)
    out = out / norm
    return out.reshape(()) if out.shape == (1, 1) else out


def corrcoef(input):
    """The Pearson correlation coefficients of the variables in the rows of ``input``, as
    ``torch.corrcoef``: ``cov(input)`` divided by the outer product of the standard
    deviations, clipped to [-1, 1] (complex: the real and imaginary parts each): (v, n) ->
    (v, v), a 0-d tensor for one variable.

    Example::

        >>> gpugrad.corrcoef(gpugrad.tensor([[1.0, 2.0, 4.0], [2.0, 4.0, 8.0]])).tolist()
        [[1.0, 1.0], [1.0, 1.0]]
    """
    c = cov(input)
    if c.ndim == 0:
        return c / c
    complex_ = c.dtype.kind == "c"
    deviations = sqrt(real(diagonal(c)) if complex_ else diagonal(c))
    c = c / deviations.reshape(-1, 1)
    c = c / deviations.reshape(1, -1)
    if complex_:                # each part clipped, as PyTorch's
        return make_complex(clamp(real(c), -1.0, 1.0), clamp(imag(c), -1.0, 1.0))
    return clamp(c, -1.0, 1.0)


METHODS = {"cov": cov, "corrcoef": corrcoef}
