"""``LowRankMultivariateNormal(loc, cov_factor, cov_diag)``, as torch's: the Gaussian on R^n
whose covariance is W W^T + diag(D), for ``cov_factor`` W (..., n, m) and ``cov_diag`` D
(..., n). ``log_prob`` and ``entropy`` never form the n x n covariance: they go through the
m x m "capacitance" C = I + W^T D^-1 W (Woodbury's identity for the inverse, the matrix
determinant lemma for the determinant), O(n m^2). ``rsample`` = loc + W e1 + sqrt(D) e2,
differentiable in all three parameters.

Example::

    >>> from gpugrad.distributions.lowrank_multivariate_normal import (
    ...     LowRankMultivariateNormal)
    >>> d = LowRankMultivariateNormal(gpugrad.zeros(2), gpugrad.tensor([[1.0], [0.0]]),
    ...                               gpugrad.ones(2))
    >>> d.covariance_matrix.tolist(), d.variance.tolist()
    ([[2.0, 0.0], [0.0, 1.0]], [2.0, 1.0])
    >>> round(d.log_prob(gpugrad.zeros(2)).item(), 4)          # -log(2 pi) - log(2) / 2
    -2.1845
"""

from __future__ import annotations

import math

from ..creation import eye
from ..ops.diagonal import diag_embed
from ..ops.linalg import matmul
from ..ops.matrix_functions import cholesky
from ..ops.matrix_triangular import solve_triangular
from ..ops.rearrange import broadcast_tensors
from . import constraints
from .distribution import Distribution
from .multivariate_normal import _batch_mahalanobis, _batch_mv
from .utils import _standard_normal, lazy_property

__all__ = ["LowRankMultivariateNormal"]


def _add_identity(K):
    return K + eye(K.shape[-1], dtype=K.dtype, device=K.device)


def _batch_capacitance_tril(W, D):
    """The Cholesky factor of C = I + W^T D^-1 W (..., m, m)."""
    Wt_Dinv = W.mT / D.unsqueeze(-2)
    return cholesky(_add_identity(matmul(Wt_Dinv, W)))


def _batch_lowrank_logdet(W, D, capacitance_tril):
    """log|W W^T + D| = log|C| + log|D| (the matrix determinant lemma)."""
    return (2 * capacitance_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
            + D.log().sum(-1))


def _batch_lowrank_mahalanobis(W, D, x, capacitance_tril):
    """x^T (W W^T + D)^-1 x by Woodbury: x^T D^-1 x - |L_C^-1 W^T D^-1 x|^2."""
    Wt_Dinv = W.mT / D.unsqueeze(-2)
    Wt_Dinv_x = _batch_mv(Wt_Dinv, x)
    return (x.pow(2) / D).sum(-1) - _batch_mahalanobis(capacitance_tril, Wt_Dinv_x)


def _batch_trace_XXT(bmat):
    """trace(X X^T) of each matrix: the sum of its squares."""
    return bmat.pow(2).sum((-2, -1))


class LowRankMultivariateNormal(Distribution):
    """The multivariate normal with mean ``loc`` (..., n) and covariance
    ``cov_factor @ cov_factor.mT + diag(cov_diag)`` (W (..., n, m), D (..., n) positive);
    the batch shapes broadcast; event shape (n,).

    Example::

        >>> from gpugrad.distributions.lowrank_multivariate_normal import (
        ...     LowRankMultivariateNormal)
        >>> d = LowRankMultivariateNormal(gpugrad.zeros(3, 4), gpugrad.ones(4, 2),
        ...                               gpugrad.ones(4))
        >>> d.batch_shape, d.event_shape, d.rsample((5,)).shape
        (gpugrad.Size([3]), gpugrad.Size([4]), (5, 3, 4))
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.ndim < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape "
                             f"{event_shape[0]} x m, got {tuple(cov_factor.shape)}")
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}, "
                             f"got {tuple(cov_diag.shape)}")
        try:
            loc_, self.cov_factor, cov_diag_ = broadcast_tensors(
                loc.unsqueeze(-1), cov_factor, cov_diag.unsqueeze(-1))
        except (ValueError, RuntimeError) as e:
            raise ValueError(f"Incompatible batch shapes: loc {tuple(loc.shape)}, cov_factor "
                             f"{tuple(cov_factor.shape)}, cov_diag "
                             f"{tuple(cov_diag.shape)}") from e
        self.loc = loc_[..., 0]
        self.cov_diag = cov_diag_[..., 0]
        batch_shape = tuple(self.loc.shape[:-1])
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = _batch_capacitance_tril(cov_factor, cov_diag)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LowRankMultivariateNormal, _instance)
        batch_shape = tuple(batch_shape)
        loc_shape = batch_shape + self._event_shape
        new.loc = self.loc.expand(loc_shape)
        new.cov_diag = self.cov_diag.expand(loc_shape)
        new.cov_factor = self.cov_factor.expand(loc_shape + tuple(self.cov_factor.shape[-1:]))
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        new._capacitance_tril = self._capacitance_tril
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return (W.pow(2).sum(-1) + D).expand(self._batch_shape + self._event_shape)

    @lazy_property
    def scale_tril(self):
        # W W^T + D = D^1/2 (I + D^-1/2 W W^T D^-1/2) D^1/2: the middle factor's eigenvalues
        # are >= 1, so its Cholesky factor is well conditioned (GPML, section 3.4.3)
        n = self._event_shape[0]
        sqrt_d = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        Dinvsqrt_W = self._unbroadcasted_cov_factor / sqrt_d
        scale_tril = sqrt_d * cholesky(_add_identity(matmul(Dinvsqrt_W, Dinvsqrt_W.mT)))
        return scale_tril.expand(self._batch_shape + (n, n))

    @lazy_property
    def covariance_matrix(self):
        W = self._unbroadcasted_cov_factor
        cov = matmul(W, W.mT) + diag_embed(self._unbroadcasted_cov_diag)
        return cov.expand(self._batch_shape + self._event_shape + self._event_shape)

    @lazy_property
    def precision_matrix(self):
        # (W W^T + D)^-1 = D^-1 - D^-1 W C^-1 W^T D^-1 = D^-1 - A^T A, A = L_C^-1 W^T D^-1
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        A = solve_triangular(self._capacitance_tril, W.mT / D.unsqueeze(-2), upper=False)
        precision = diag_embed(D.reciprocal()) - matmul(A.mT, A)
        return precision.expand(self._batch_shape + self._event_shape + self._event_shape)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        W_shape = shape[:-1] + tuple(self.cov_factor.shape[-1:])
        eps_W = _standard_normal(W_shape, dtype=self.loc.dtype, device=self.loc.device)
        eps_D = _standard_normal(shape, dtype=self.loc.dtype, device=self.loc.device)
        return (self.loc + _batch_mv(self._unbroadcasted_cov_factor, eps_W)
                + self._unbroadcasted_cov_diag.sqrt() * eps_D)

    def _logdet(self):
        return _batch_lowrank_logdet(self._unbroadcasted_cov_factor,
                                     self._unbroadcasted_cov_diag, self._capacitance_tril)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        M = _batch_lowrank_mahalanobis(self._unbroadcasted_cov_factor,
                                       self._unbroadcasted_cov_diag, value - self.loc,
                                       self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + self._logdet() + M)

    def entropy(self):
        H = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._logdet())
        return H if not self._batch_shape else H.expand(self._batch_shape)
