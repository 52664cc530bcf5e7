"""``StudentT(df, loc=0.0, scale=1.0)``, as ``torch.distributions.StudentT``: the Student
t distribution with ``df`` degrees of freedom, location ``loc`` and scale ``scale``
(broadcast together: the batch shape). Reparameterised: a sample is
loc + scale * z / sqrt(v / df) with z standard normal and v ~ Chi2(df), differentiable in df
through the chi-squared draw's implicit gradient.

Example::

    >>> from gpugrad.distributions import StudentT
    >>> d = StudentT(gpugrad.tensor([1.0, 3.0]))
    >>> d.mean.tolist(), d.variance.tolist()       # no mean at df = 1; df / (df - 2)
    ([nan, 0.0], [nan, 3.0])
    >>> [round(v, 4) for v in d.log_prob(gpugrad.tensor([0.0, 0.0])).tolist()]  # log 1/pi
    [-1.1447, -1.0009]
"""

from __future__ import annotations

import math
import numbers

from ..ops.elementwise import where
from ..ops.special_gamma import digamma, lgamma
from . import constraints
from .distribution import Distribution
from .gamma import Chi2
from .utils import _standard_normal, broadcast_all

__all__ = ["StudentT"]

_LGAMMA_HALF = 0.5 * math.log(math.pi)          # lgamma(1/2)


class StudentT(Distribution):
    """The Student t distribution (batch shape: df, loc and scale broadcast).

    Example::

        >>> from gpugrad.distributions import StudentT
        >>> round(StudentT(2.0).entropy().item(), 3)
        1.96
    """

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        if all(isinstance(v, numbers.Number) for v in (df, loc, scale)):
            batch_shape = ()
        else:
            batch_shape = tuple(self.df.shape)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(StudentT, _instance)
        batch_shape = tuple(batch_shape)
        new.df = self.df.expand(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new._chi2 = self._chi2.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return where(self.df > 1, self.loc, math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """scale^2 df / (df - 2) for df > 2, inf for 1 < df <= 2, NaN for df <= 1."""
        finite = self.scale.pow(2) * self.df / (self.df - 2)
        return where(self.df > 2, finite, where(self.df > 1, math.inf, math.nan))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        z = _standard_normal(shape, dtype=self.df.dtype, device=self.df.device)
        v = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * z * (v / self.df).rsqrt()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * self.df.log() + _LGAMMA_HALF + lgamma(0.5 * self.df)
             - lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * (y.pow(2) / self.df).log1p() - z

    def entropy(self):
        half_df, half_df1 = 0.5 * self.df, 0.5 * (self.df + 1.0)
        lbeta = lgamma(half_df) + _LGAMMA_HALF - lgamma(half_df1)
        return (self.scale.log() + half_df1 * (digamma(half_df1) - digamma(half_df))
                + 0.5 * self.df.log() + lbeta)
