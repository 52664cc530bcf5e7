"""Transforms onto simplices and matrices, as ``torch.distributions.transforms``:
``SoftmaxTransform``, ``StickBreakingTransform`` (reals^(K-1) onto the K-simplex),
``LowerCholeskyTransform``, ``PositiveDefiniteTransform`` and ``CorrCholeskyTransform``
(reals^(D(D-1)/2) onto Cholesky factors of D x D correlation matrices). Import them from
``gpugrad.distributions.transforms``.

Example::

    >>> from gpugrad.distributions.transforms import StickBreakingTransform
    >>> t = StickBreakingTransform()
    >>> y = t(gpugrad.zeros(2))                  # (..., K-1) -> (..., K)
    >>> [round(v, 4) for v in y.tolist()], t.forward_shape((5, 2))
    ([0.3333, 0.3333, 0.3333], (5, 3))
"""

from __future__ import annotations

import math

import numpy as np

from ..creation import eye
from ..nn.activation_functions import logsigmoid, softplus
from ..nn.padding import pad
from ..ops.matrix_functions import cholesky
from ..ops.shape import concatenate
from ..type_info import finfo
from . import constraints
from .transform_base import ParameterFreeTransform

__all__ = ["SoftmaxTransform", "StickBreakingTransform", "LowerCholeskyTransform",
           "PositiveDefiniteTransform", "CorrCholeskyTransform"]


def _clipped_sigmoid(x):
    info = finfo(x.dtype)
    return x.sigmoid().clamp(min=info.tiny, max=1.0 - info.eps)


def _needs_last_dim(shape):
    if len(shape) < 1:
        raise ValueError("Too few dimensions on input: the transform acts on the last "
                         "dimension; give a shape of at least one dimension")


class SoftmaxTransform(ParameterFreeTransform):
    """y = exp(x) / sum(exp(x)) over the last dimension: reals^K onto the K-simplex. Not
    bijective (``inv`` is log, one preimage); no log |det Jacobian| (as torch's).

    Example::

        >>> from gpugrad.distributions.transforms import SoftmaxTransform
        >>> SoftmaxTransform()(gpugrad.tensor([0.0, 0.0])).tolist()
        [0.5, 0.5]
    """

    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x):
        probs = (x - x.max(-1, True)[0]).exp()
        return probs / probs.sum(-1, True)

    def _inverse(self, y):
        return y.log()

    def forward_shape(self, shape):
        _needs_last_dim(shape)
        return shape

    inverse_shape = forward_shape


class StickBreakingTransform(ParameterFreeTransform):
    """Reals^(K-1) onto the K-simplex by stick breaking: z_i = sigmoid(x_i - log(K - i)),
    y_i = z_i * prod_{j<i} (1 - z_j), y_K the rest. Bijective (x = 0 maps to the uniform
    point); the log |det Jacobian| is of the map onto the first K-1 coordinates.

    Example::

        >>> from gpugrad.distributions.transforms import StickBreakingTransform
        >>> StickBreakingTransform().inv(gpugrad.tensor([0.25, 0.25, 0.5])).shape
        (2,)
    """

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    @staticmethod
    def _offset_log(x, k):
        # log(K - i) for i = 0..K-2, where k = K - 1 = x.shape[-1]
        return (k + 1 - x.new_ones(k).cumsum(-1)).log()

    def _call(self, x):
        z = _clipped_sigmoid(x - self._offset_log(x, x.shape[-1]))
        z_cumprod = (1 - z).cumprod(-1)
        return pad(z, [0, 1], value=1.0) * pad(z_cumprod, [1, 0], value=1.0)

    def _inverse(self, y):
        y_crop = y[..., :-1]
        offset = y.shape[-1] - y.new_ones(y_crop.shape[-1]).cumsum(-1)
        # the stick left; clamped positive (it can round to 0 when y_K ~ 0)
        sf = (1 - y_crop.cumsum(-1)).clamp(min=finfo(y.dtype).tiny)
        return y_crop.log() - sf.log() + offset.log()

    def log_abs_det_jacobian(self, x, y):
        x = x - self._offset_log(x, x.shape[-1])
        # 1 - sigmoid(x) = exp(-x) sigmoid(x)
        return (-x + logsigmoid(x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        _needs_last_dim(shape)
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        _needs_last_dim(shape)
        return tuple(shape[:-1]) + (shape[-1] - 1,)


def _diag_embed_exp_or_log(y, fn):
    return y.tril(-1) + getattr(y.diagonal(dim1=-2, dim2=-1), fn)().diag_embed()


class LowerCholeskyTransform(ParameterFreeTransform):
    """Square matrices (..., D, D) onto lower triangular ones with a positive diagonal: the
    strict lower triangle kept, the diagonal exponentiated. Not bijective.

    Example::

        >>> from gpugrad.distributions.transforms import LowerCholeskyTransform
        >>> LowerCholeskyTransform()(gpugrad.tensor([[0.0, 5.0], [2.0, 0.0]])).tolist()
        [[1.0, 0.0], [2.0, 1.0]]
    """

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x):
        return _diag_embed_exp_or_log(x, "exp")

    def _inverse(self, y):
        return _diag_embed_exp_or_log(y, "log")


class PositiveDefiniteTransform(ParameterFreeTransform):
    """Square matrices onto positive definite ones: L L^T with L = LowerCholeskyTransform(x);
    ``inv`` through the Cholesky factor. Not bijective.

    Example::

        >>> from gpugrad.distributions.transforms import PositiveDefiniteTransform
        >>> PositiveDefiniteTransform()(gpugrad.tensor([[0.0, 0.0], [1.0, 0.0]])).tolist()
        [[1.0, 1.0], [1.0, 2.0]]
    """

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _call(self, x):
        x = LowerCholeskyTransform()(x)
        return x @ x.mT

    def _inverse(self, y):
        return LowerCholeskyTransform().inv(cholesky(y))


def _tril_size(n: int) -> int:
    """D with D (D - 1) / 2 == n, or ValueError."""
    d = round((0.25 + 2 * n) ** 0.5 + 0.5)
    if d * (d - 1) // 2 != n:
        raise ValueError(f"A vector of length {n} is not the strict lower triangle of a "
                         f"square matrix (lengths are D (D - 1) / 2: 1, 3, 6, 10, ...)")
    return d


def _vec_to_strict_tril(vec):
    """(..., D(D-1)/2) -> (..., D, D), the entries in row order below the diagonal."""
    n = vec.shape[-1]
    d = _tril_size(n)
    index = np.full((d, d), n)
    rows, cols = np.tril_indices(d, -1)
    index[rows, cols] = np.arange(n)
    padded = concatenate([vec, vec.new_zeros(tuple(vec.shape[:-1]) + (1,))], -1)
    return padded[..., index]


def _strict_tril_to_vec(mat, diag: int = -1):
    rows, cols = np.tril_indices(mat.shape[-1], diag)
    return mat[..., rows, cols]


class CorrCholeskyTransform(ParameterFreeTransform):
    """Reals^(D(D-1)/2) onto Cholesky factors of D x D correlation matrices (lower
    triangular, positive diagonal, rows of unit norm): tanh, then a signed stick breaking per
    row (Stan's). The log |det Jacobian| is of the map onto the strict lower triangle.

    Example::

        >>> from gpugrad.distributions.transforms import CorrCholeskyTransform
        >>> t = CorrCholeskyTransform()
        >>> L = t(gpugrad.tensor([0.5, -1.0, 2.0]))      # 3 = D (D - 1) / 2: D = 3
        >>> L.shape, [round(v, 4) for v in (L * L).sum(-1).tolist()]
        ((3, 3), [1.0, 1.0, 1.0])
    """

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x):
        eps = finfo(x.dtype).eps
        r = _vec_to_strict_tril(x.tanh().clamp(min=-1 + eps, max=1 - eps))
        # y = sign(r) sqrt(z prod(1 - z)) with z = r^2, = r sqrt(prod(1 - z))
        z1m_cumprod_sqrt = (1 - r * r).sqrt().cumprod(-1)
        r = r + eye(r.shape[-1], dtype=r.dtype, device=r.device)
        return r * pad(z1m_cumprod_sqrt[..., :-1], [1, 0], value=1.0)

    def _inverse(self, y):
        y_cumsum = 1 - (y * y).cumsum(-1)
        y_cumsum_shifted = pad(y_cumsum[..., :-1], [1, 0], value=1.0)
        t = _strict_tril_to_vec(y) / _strict_tril_to_vec(y_cumsum_shifted).sqrt()
        return (t.log1p() - (-t).log1p()) / 2        # atanh

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        y1m_cumsum = 1 - (y * y).cumsum(-1)
        # diag=-2 reads the stick left before each entry without a shift
        stick_breaking_logdet = 0.5 * _strict_tril_to_vec(y1m_cumsum, -2).log().sum(-1)
        tanh_logdet = -2 * (x + softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick_breaking_logdet + tanh_logdet

    def forward_shape(self, shape):
        _needs_last_dim(shape)
        d = _tril_size(shape[-1])
        return tuple(shape[:-1]) + (d, d)

    def inverse_shape(self, shape):
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input: CorrCholeskyTransform.inv takes "
                             "(..., D, D) matrices")
        if shape[-2] != shape[-1]:
            raise ValueError(f"CorrCholeskyTransform.inv takes square matrices, got shape "
                             f"{tuple(shape)}")
        d = shape[-1]
        return tuple(shape[:-2]) + (d * (d - 1) // 2,)
