"""``GeneralizedPareto(loc, scale, concentration)``, as torch's (after TensorFlow
Probability): survival function (1 + xi z)^(-1/xi), z = (x - loc) / scale, on
[loc, loc - scale / xi] when xi < 0 and [loc, inf) otherwise; exp(-z) at xi = 0 (where
|xi| <= 1e-8, torch's isclose). Exponential (loc = 0, xi = 0), Pareto (xi > 0,
loc = scale / xi) and Uniform (xi = -1) are special cases. ``rsample`` is the inverse cdf of a
uniform draw: differentiable in all three parameters.

Example::

    >>> from gpugrad.distributions import GeneralizedPareto
    >>> d = GeneralizedPareto(0.0, 1.0, 0.0)                  # Exponential(1)
    >>> round(d.log_prob(gpugrad.tensor(2.0)).item(), 4), d.mean.item()
    (-2.0, 1.0)
"""

from __future__ import annotations

import math
import numbers

from ..ops.elementwise import where
from . import constraints
from .distribution import Distribution
from .utils import _uniform, broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """The generalized Pareto distribution; ``loc``, ``scale`` > 0 and ``concentration``
    (xi) broadcast together: the batch shape (() for three numbers).

    Example::

        >>> from gpugrad.distributions import GeneralizedPareto
        >>> d = GeneralizedPareto(gpugrad.tensor([0.0, 1.0]), 2.0, -0.5)
        >>> d.support.upper_bound.tolist(), [round(v, 4) for v in d.cdf(
        ...     gpugrad.tensor([1.0, 2.0])).tolist()]
        ([4.0, 5.0], [0.4375, 0.4375])
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        if all(isinstance(v, numbers.Number) for v in (loc, scale, concentration)):
            batch_shape = ()
        else:
            batch_shape = tuple(self.loc.shape)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = tuple(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _zero_and_safe(self):
        """(xi == 0 as torch's isclose, xi with 1 in its place there)."""
        eq_zero = self.concentration.abs() <= 1e-8
        return eq_zero, where(eq_zero, 1.0, self.concentration)

    def _z(self, x):
        return (x - self.loc) / self.scale

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return self.icdf(_uniform(shape, dtype=self.loc.dtype, device=self.loc.device))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe = self._zero_and_safe()
        y = 1 / safe + 1
        nonzero = where(y == 0, y, y * (safe * z).log1p())
        return -self.scale.log() - where(eq_zero, z, nonzero)

    def log_survival_function(self, value):
        """log P(X > value)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe = self._zero_and_safe()
        return where(eq_zero, -z, -(safe * z).log1p() / safe)

    def log_cdf(self, value):
        """log P(X <= value)."""
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value):
        return self.log_cdf(value).exp()

    def icdf(self, value):
        eq_zero, safe = self._zero_and_safe()
        logu = (-value).log1p()
        nonzero = self.loc + self.scale / safe * (-safe * logu).expm1()
        return where(eq_zero, self.loc - self.scale * logu, nonzero)

    @property
    def mean(self):
        """loc + scale / (1 - xi) where xi < 1, else NaN."""
        valid = self.concentration < 1
        safe = where(valid, self.concentration, 0.5)
        return where(valid, self.loc + self.scale / (1 - safe), math.nan)

    @property
    def variance(self):
        """scale^2 / ((1 - xi)^2 (1 - 2 xi)) where xi < 1/2, else NaN."""
        valid = self.concentration < 0.5
        safe = where(valid, self.concentration, 0.25)
        return where(valid, self.scale.pow(2) / ((1 - safe).pow(2) * (1 - 2 * safe)), math.nan)

    @property
    def mode(self):
        return self.loc

    def entropy(self):
        return (self.scale.log() + self.concentration + 1).expand(self._batch_shape)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        negative = self.concentration < 0
        upper = where(negative, lower - self.scale / where(negative, self.concentration, -1.0),
                      math.inf)
        return constraints.interval(lower, upper)
