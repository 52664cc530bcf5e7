"""Families on bounded sets built as ``TransformedDistribution``s, as torch's:
``Kumaraswamy`` (a Beta-like law on (0, 1) with a closed-form cdf) and ``LogisticNormal``
(a Normal pushed onto the simplex by stick breaking).

Example::

    >>> from gpugrad.distributions import Kumaraswamy, LogisticNormal
    >>> Kumaraswamy(1.0, 1.0).mean.item()                         # the uniform law
    0.5
    >>> LogisticNormal(gpugrad.zeros(3), gpugrad.ones(3)).event_shape
    gpugrad.Size([4])
"""

from __future__ import annotations

import math

from ..creation import full_like
from ..ops.elementwise import where
from ..ops.special_gamma import digamma, lgamma
from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform, StickBreakingTransform
from .uniform import Uniform
from .utils import broadcast_all, euler_constant

__all__ = ["Kumaraswamy", "LogisticNormal"]


def _moments(a, b, n):
    """E[X^n] of Kumaraswamy(a, b) = b B(1 + n / a, b)."""
    arg1 = 1 + n / a
    return b * (lgamma(arg1) + lgamma(b) - lgamma(arg1 + b)).exp()


class Kumaraswamy(TransformedDistribution):
    """Density a b x^(a-1) (1 - x^a)^(b-1) on (0, 1), a = concentration1,
    b = concentration0; samples (1 - U^(1/b))^(1/a) for U uniform.

    Example::

        >>> from gpugrad.distributions import Kumaraswamy
        >>> d = Kumaraswamy(gpugrad.tensor([2.0]), gpugrad.tensor([1.0]))      # density 2x
        >>> round(d.log_prob(gpugrad.tensor([0.5])).item(), 4), round(d.mean.item(), 4)
        (0.0, 0.6667)
    """

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1,
                                                                 concentration0)
        base_dist = Uniform(full_like(self.concentration0, 0),
                            full_like(self.concentration0, 1), validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Kumaraswamy, _instance)
        new.concentration1 = self.concentration1.expand(tuple(batch_shape))
        new.concentration0 = self.concentration0.expand(tuple(batch_shape))
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        return _moments(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        # ((a - 1) / (a b - 1))^(1 / a) where a, b >= 1 (not both 1); NaN elsewhere, as
        # torch's mask. (torch 2.13's own formula takes log1p(-b) and is NaN everywhere.)
        a, b = self.concentration1, self.concentration0
        mode = ((a - 1) / (a * b - 1)) ** a.reciprocal()
        return where((b < 1) | (a < 1), math.nan, mode)

    @property
    def variance(self):
        return _moments(self.concentration1, self.concentration0, 2) - self.mean.pow(2)

    def entropy(self):
        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        h0 = digamma(self.concentration0 + 1) + euler_constant
        return t0 + t1 * h0 - self.concentration1.log() - self.concentration0.log()


class LogisticNormal(TransformedDistribution):
    """StickBreakingTransform of Normal(loc, scale) (the last dimension an event of K - 1
    coordinates): values on the K-simplex.

    Example::

        >>> from gpugrad.distributions import LogisticNormal
        >>> d = LogisticNormal(gpugrad.zeros(2), gpugrad.ones(2))
        >>> d.rsample((5,)).shape, round(d.sample().sum().item(), 4)
        ((5, 3), 1.0)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base_dist = Normal(loc, scale, validate_args=validate_args)
        if not base_dist._batch_shape:
            base_dist = base_dist.expand((1,))
        super().__init__(base_dist, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogisticNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self):
        return self.base_dist.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.base_dist.scale
