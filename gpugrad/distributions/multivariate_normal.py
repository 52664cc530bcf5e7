"""``MultivariateNormal(loc, covariance_matrix=, precision_matrix=, scale_tril=)``, as
torch's: the Gaussian on R^n (event shape (n,)) given by exactly one of the covariance, the
precision or the lower Cholesky factor L of the covariance (covariance = L L^T). Everything
is computed through L: ``rsample`` = loc + L eps, differentiable in loc and in the matrix.

Example::

    >>> from gpugrad.distributions import MultivariateNormal
    >>> cov = gpugrad.tensor([[2.0, 0.0], [0.0, 0.5]])
    >>> d = MultivariateNormal(gpugrad.zeros(2), covariance_matrix=cov)
    >>> round(d.log_prob(gpugrad.zeros(2)).item(), 4)                # -log(2 pi)
    -1.8379
    >>> [round(v, 4) for v in d.variance.tolist()]
    [2.0, 0.5]
"""

from __future__ import annotations

import math

from ..creation import eye
from ..ops.linalg import matmul
from ..ops.matrix_functions import cholesky
from ..ops.matrix_triangular import solve_triangular
from ..ops.rearrange import broadcast_shapes, flip
from . import constraints
from .distribution import Distribution
from .utils import _standard_normal, lazy_property

__all__ = ["MultivariateNormal"]


def _batch_mv(bmat, bvec):
    """Matrix (..., n, n) times vector (..., n), batches broadcast."""
    return matmul(bmat, bvec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(L, x):
    """x^T (L L^T)^-1 x = |L^-1 x|^2 for lower-triangular L (..., n, n), x (..., n)."""
    n = x.shape[-1]
    if L.ndim == 2:         # one matrix: solve for every vector at once, as columns
        z = solve_triangular(L, x.reshape(-1, n).mT, upper=False)
        return z.pow(2).sum(-2).reshape(tuple(x.shape[:-1]))
    return solve_triangular(L, x.unsqueeze(-1), upper=False).squeeze(-1).pow(2).sum(-1)


def _precision_to_scale_tril(P):
    # L with L L^T = P^-1, lower-triangular: from the Cholesky factor of P reversed
    Lf = cholesky(flip(P, (-2, -1)))
    L_inv = flip(Lf, (-2, -1)).mT
    identity = eye(P.shape[-1], dtype=P.dtype, device=P.device)
    return solve_triangular(L_inv, identity, upper=False)


class MultivariateNormal(Distribution):
    """The multivariate normal with mean ``loc`` (..., n) and one of ``covariance_matrix``,
    ``precision_matrix``, ``scale_tril`` (..., n, n); batch shapes broadcast.

    Example::

        >>> from gpugrad.distributions import MultivariateNormal
        >>> L = gpugrad.tensor([[1.0, 0.0], [0.5, 2.0]])
        >>> d = MultivariateNormal(gpugrad.zeros(3, 2), scale_tril=L)
        >>> d.batch_shape, d.event_shape, d.rsample((4,)).shape
        (gpugrad.Size([3]), gpugrad.Size([2]), (4, 3, 2))
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [(name, m) for name, m in (("scale_tril", scale_tril),
                                           ("covariance_matrix", covariance_matrix),
                                           ("precision_matrix", precision_matrix))
                 if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        name, matrix = given[0]
        if matrix.ndim < 2:
            raise ValueError(f"{name} must be at least two-dimensional, with optional "
                             f"leading batch dimensions")
        if matrix.shape[-1] != loc.shape[-1] or matrix.shape[-2] != loc.shape[-1]:
            raise ValueError(f"{name} of shape {tuple(matrix.shape)} does not match loc of "
                             f"shape {tuple(loc.shape)}: it must be (..., n, n) with n = "
                             f"{loc.shape[-1]}")
        batch_shape = tuple(broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        self.loc = loc.expand(batch_shape + (-1,))
        super().__init__(batch_shape, tuple(self.loc.shape[-1:]), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = tuple(batch_shape)
        cov_shape = batch_shape + self._event_shape + self._event_shape
        new.loc = self.loc.expand(batch_shape + self._event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(
            self._batch_shape + self._event_shape + self._event_shape)

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return matmul(L, L.mT).expand(self._batch_shape + self._event_shape + self._event_shape)

    @lazy_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        identity = eye(L.shape[-1], dtype=L.dtype, device=L.device)
        L_inv = solve_triangular(L, identity, upper=False)
        return matmul(L_inv.mT, L_inv).expand(
            self._batch_shape + self._event_shape + self._event_shape)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - self._half_log_det()

    def entropy(self):
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return H if not self._batch_shape else H.expand(self._batch_shape)
