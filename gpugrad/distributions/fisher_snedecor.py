"""``FisherSnedecor(df1, df2)``, as torch's: the F distribution, the ratio of two scaled
chi-squared variables (X1 / df1) / (X2 / df2), with density
x^(d1/2 - 1) (d1/d2)^(d1/2) (1 + d1 x / d2)^(-(d1 + d2)/2) / B(d1/2, d2/2) on x > 0.
Reparameterised: ``rsample`` is a ratio of two gamma samples (gpugrad/distributions/
gamma.py), differentiable in both degrees of freedom. The mean is NaN where df2 <= 2, the
variance where df2 <= 4 and the mode where df1 <= 2, as torch's.

Example::

    >>> from gpugrad.distributions.fisher_snedecor import FisherSnedecor
    >>> d = FisherSnedecor(gpugrad.tensor([4.0, 1.0]), gpugrad.tensor([6.0, 2.0]))
    >>> d.mean.tolist()[0], d.mode.tolist()[0], d.variance.tolist()[0]
    (1.5, 0.375, 4.5)
    >>> round(d.log_prob(gpugrad.tensor([1.0, 1.0])).tolist()[1], 4)     # log(1 / 3^1.5)
    -1.6479
"""

from __future__ import annotations

import math
import numbers

from ..ops.elementwise import where
from ..ops.special_gamma import lgamma
from ..type_info import finfo
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import broadcast_all

__all__ = ["FisherSnedecor"]


class FisherSnedecor(Distribution):
    """The F distribution with ``df1`` and ``df2`` degrees of freedom (positive, broadcast
    together: the batch shape).

    Example::

        >>> from gpugrad.distributions.fisher_snedecor import FisherSnedecor
        >>> df1 = gpugrad.tensor(5.0, requires_grad=True)
        >>> _ = gpugrad.manual_seed(0)
        >>> x = FisherSnedecor(df1, 10.0).rsample((3,))
        >>> x.shape, x.requires_grad
        ((3,), True)
    """

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        # not validated here: this distribution checks df1 and df2 with its own names
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1, validate_args=False)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2, validate_args=False)
        if isinstance(df1, numbers.Number) and isinstance(df2, numbers.Number):
            batch_shape = ()
        else:
            batch_shape = tuple(self.df1.shape)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(FisherSnedecor, _instance)
        batch_shape = tuple(batch_shape)
        new.df1 = self.df1.expand(batch_shape)
        new.df2 = self.df2.expand(batch_shape)
        new._gamma1 = self._gamma1.expand(batch_shape)
        new._gamma2 = self._gamma2.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        valid = self.df2 > 2
        df2 = where(valid, self.df2, 3.0)       # (no 0 / 0 in the unused branch's gradient)
        return where(valid, df2 / (df2 - 2), math.nan)

    @property
    def mode(self):
        valid = self.df1 > 2
        df1 = where(valid, self.df1, 3.0)
        return where(valid, (df1 - 2) / df1 * self.df2 / (self.df2 + 2), math.nan)

    @property
    def variance(self):
        valid = self.df2 > 4
        df2 = where(valid, self.df2, 5.0)
        variance = (2 * df2.pow(2) * (self.df1 + df2 - 2)
                    / (self.df1 * (df2 - 2).pow(2) * (df2 - 4)))
        return where(valid, variance, math.nan)

    def rsample(self, sample_shape=()):
        """X1 / X2 for X1 ~ Gamma(df1/2, df1), X2 ~ Gamma(df2/2, df2): ``sample_shape +
        batch_shape``, at least the dtype's smallest normal number, as torch's."""
        shape = self._extended_shape(sample_shape)
        x1 = self._gamma1.rsample(sample_shape).reshape(shape)
        x2 = self._gamma2.rsample(sample_shape).reshape(shape)
        tiny = finfo(x2.dtype).tiny
        return (x1 / x2.clamp(min=tiny)).clamp(min=tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        ct1, ct2 = self.df1 * 0.5, self.df2 * 0.5
        ct3 = self.df1 / self.df2
        t1 = lgamma(ct1 + ct2) - lgamma(ct1) - lgamma(ct2)
        t2 = ct1 * ct3.log() + (ct1 - 1) * value.log()
        t3 = (ct1 + ct2) * (ct3 * value).log1p()
        return t1 + t2 - t3
