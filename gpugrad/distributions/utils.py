"""Helpers shared by the distributions, as ``torch.distributions.utils``: ``broadcast_all``,
``logits_to_probs``, ``probs_to_logits``, ``clamp_probs``, ``lazy_property``,
``tril_matrix_to_vec``, ``vec_to_tril_matrix``; and the private
pieces the families share (the standard draws, ``_sum_rightmost``, ``_check_all_true``).

Example::

    >>> from gpugrad.distributions.utils import broadcast_all, probs_to_logits
    >>> loc, scale = broadcast_all(gpugrad.zeros(3), 2.0)
    >>> scale.shape, scale.dtype
    ((3,), dtype('float32'))
    >>> probs_to_logits(gpugrad.tensor([0.5]), is_binary=True).tolist()
    [0.0]
"""

from __future__ import annotations

import functools
import numbers

import numpy as np

from ..autograd.batched import innermost_array
from ..autograd.capture_mode import refuse_host_sync
from ..autograd.compile_mode import is_compiling, kernel, refuse_in_compile
from ..autograd.mode import enable_grad
from ..creation import tensor
from ..dtypes import get_default_dtype
from ..ops.activation import sigmoid, softmax
from ..ops.rearrange import broadcast_tensors
from ..ops.shape import concatenate
from ..random_sampling import rand, randn
from ..tensor import Tensor
from ..type_info import finfo

__all__ = ["broadcast_all", "logits_to_probs", "probs_to_logits", "clamp_probs",
           "lazy_property", "euler_constant", "tril_matrix_to_vec", "vec_to_tril_matrix"]

euler_constant = 0.57721566490153286060


def broadcast_all(*values):
    """Tensors and numbers broadcast together, as torch's: numbers become tensors of the first
    tensor's dtype and device (the default dtype when all are numbers).

    Example::

        >>> from gpugrad.distributions.utils import broadcast_all
        >>> [t.shape for t in broadcast_all(gpugrad.zeros(2, 1), gpugrad.zeros(3), 1.0)]
        [(2, 3), (2, 3), (2, 3)]
    """
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number or gpugrad.Tensor, "
                         f"got {[type(v).__name__ for v in values]}")
    first = next((v for v in values if isinstance(v, Tensor)), None)
    if first is None:
        options = dict(dtype=get_default_dtype())
    else:
        options = dict(dtype=first.dtype, device=first.device)
    values = [v if isinstance(v, Tensor) else tensor(float(v), **options) for v in values]
    if len(values) == 1:
        return tuple(values)
    return tuple(broadcast_tensors(*values))


def logits_to_probs(logits, is_binary: bool = False):
    """Probabilities from logits: sigmoid when ``is_binary``, else softmax over the last
    dimension (the logits are unnormalised log probabilities).

    Example::

        >>> from gpugrad.distributions.utils import logits_to_probs
        >>> logits_to_probs(gpugrad.tensor([0.0, 0.0])).tolist()
        [0.5, 0.5]
    """
    if is_binary:
        return sigmoid(logits)
    return softmax(logits, -1)


def clamp_probs(probs):
    """``probs`` clamped to [eps, 1 - eps] (eps of its dtype), so their logs are finite.

    Example::

        >>> from gpugrad.distributions.utils import clamp_probs
        >>> clamp_probs(gpugrad.tensor([0.0, 1.0], dtype="float64")).tolist()
        [2.220446049250313e-16, 0.9999999999999998]
    """
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary: bool = False):
    """Logits from probabilities (clamped first): log-odds when ``is_binary``, else log.

    Example::

        >>> from gpugrad.distributions.utils import probs_to_logits
        >>> round(probs_to_logits(gpugrad.tensor([0.75]), is_binary=True).item(), 4)
        1.0986
    """
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


class lazy_property:
    """A property computed on first read (with grad enabled, as torch's) and then stored on
    the instance, so ``probs``/``logits`` given as the other are computed once.

    Example::

        >>> from gpugrad.distributions.utils import lazy_property
        >>> class Box:
        ...     @lazy_property
        ...     def double(self):
        ...         return 2 * 21
        >>> Box().double
        42
    """

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value



class BinaryParameter:
    """The ``probs``/``logits`` pair of a success-or-failure distribution (Bernoulli,
    Binomial, Geometric): whichever was given, the other computed on first read."""

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    def _expand_parameter(self, new, batch_shape: tuple) -> None:
        """Give ``new`` this one's probs or logits (whichever it holds) at ``batch_shape``."""
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(batch_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(batch_shape)
            new._param = new.logits

    def _set_parameter(self, probs, logits, total_count=None) -> tuple:
        """Keep whichever of ``probs``/``logits`` was given (exactly one) as a tensor, and
        ``total_count`` (Binomial's, NegativeBinomial's) broadcast with it, in its dtype.
        Returns the batch shape."""
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = probs if logits is None else logits
        if total_count is None:
            (self._param,) = broadcast_all(given)
        else:
            count, self._param = broadcast_all(total_count, given)
            self.total_count = count.astype(self._param.dtype)
        if logits is None:
            self.probs = self._param
        else:
            self.logits = self._param
        return tuple(self._param.shape)

    def _expanded(self, new, batch_shape):
        """``new`` (from ``_get_checked_instance``) made this distribution at
        ``batch_shape``: its probs or logits, its ``total_count`` and ``temperature`` if it
        has them, the shape and the validation setting."""
        batch_shape = tuple(batch_shape)
        if "total_count" in self.__dict__:
            new.total_count = self.total_count.expand(batch_shape)
        if "temperature" in self.__dict__:
            new.temperature = self.temperature
        self._expand_parameter(new, batch_shape)
        super(BinaryParameter, new).__init__(batch_shape, validate_args=False)  # (Distribution's)
        new._validate_args = self._validate_args
        return new


def tril_matrix_to_vec(mat, diag: int = 0):
    """The entries of ``mat`` on and below its ``diag``-th diagonal, row by row, as torch's:
    (..., n, n) -> (..., m), m = how many there are (n (n + 1) / 2 for ``diag=0``).
    Differentiable; the inverse of ``vec_to_tril_matrix``.

    Example::

        >>> from gpugrad.distributions.utils import tril_matrix_to_vec
        >>> m = gpugrad.arange(9.0).reshape(3, 3)
        >>> tril_matrix_to_vec(m).tolist(), tril_matrix_to_vec(m, diag=-1).tolist()
        ([0.0, 3.0, 4.0, 6.0, 7.0, 8.0], [3.0, 6.0, 7.0])
    """
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = np.nonzero(np.tri(n, n, diag, dtype=bool))      # row-major, as torch's mask
    return mat[..., rows, cols]


def vec_to_tril_matrix(vec, diag: int = 0):
    """The (..., n, n) matrix with ``vec``'s (..., m) entries on and below its ``diag``-th
    diagonal, row by row, and zeros elsewhere, as torch's (n from m and ``diag``; m must be
    such a count: 1, 3, 6, 10, ... for ``diag=0``). Differentiable.

    Example::

        >>> from gpugrad.distributions.utils import vec_to_tril_matrix
        >>> vec_to_tril_matrix(gpugrad.tensor([1.0, 2.0, 3.0])).tolist()
        [[1.0, 0.0], [2.0, 3.0]]
    """
    m = vec.shape[-1]
    # the positive root of n^2 + (1 + 2 diag) n - |diag| (diag + 1) - 2 m = 0
    b = 1 + 2 * diag
    n = round((-b + (b * b + 8 * m + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2)
    mask = np.tri(max(n, 0), max(n, 0), diag, dtype=bool)
    if n < 1 or int(mask.sum()) != m:
        raise ValueError(f"The size of last dimension is {m} which cannot be expressed as the "
                         f"lower triangular part of a square D x D matrix (diag={diag}); "
                         f"for diag=0 the sizes are D (D + 1) / 2: 1, 3, 6, 10, ...")
    index = np.full((n, n), m)
    index[mask] = np.arange(m)
    padded = concatenate([vec, vec.new_zeros(tuple(vec.shape[:-1]) + (1,))], -1)
    return padded[..., index]


def _sum_rightmost(value, dim: int):
    """``value`` with its ``dim`` rightmost dimensions summed out."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def _check_all_true(valid, message: str, value=None) -> None:
    """Raise ValueError(``message``, then ``value`` shown) unless every element of the
    boolean tensor ``valid`` is true (every example's, inside vmap). Reads ``valid`` on the
    host: free on NumPy; refused while a CUDA graph is captured; inside ``gpugrad.compile``
    the check is a line of the step, run again (on NumPy) at every replay, or refused (CuPy),
    as the losses' label checks (``ops/loss_checks.py``)."""
    if not isinstance(valid, Tensor):
        if not bool(valid):
            raise ValueError(message + (f":\n{value}" if value is not None else ""))
        return
    raw = innermost_array(valid)
    if is_compiling():
        if raw.__class__ is not np.ndarray:
            refuse_in_compile("distribution argument validation (a host read)",
                              "pass validate_args=False (or call Distribution."
                              "set_default_validate_args(False)) for compiled steps")
        kernel(_raise_unless_all, raw, message + " (in a compiled step)")
        return
    if raw.__class__ is not np.ndarray:
        refuse_host_sync("distribution argument validation (validate_args=True)")
    _raise_unless_all(raw, message + (f":\n{value}" if value is not None else ""))


def _raise_unless_all(raw, message: str) -> None:
    if not bool(raw.all()):
        raise ValueError(message)


def _standard_normal(shape, dtype, device):
    """Standard normal draws of ``shape`` from gpugrad's stream (vmap's randomness rules)."""
    return randn(tuple(shape), dtype=dtype, device=device)


def _uniform(shape, dtype, device):
    """Uniform draws in [0, 1) of ``shape`` from gpugrad's stream."""
    return rand(tuple(shape), dtype=dtype, device=device)
