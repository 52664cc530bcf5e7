"""``Gumbel(loc, scale)`` and ``HalfNormal(scale)``, as torch's (written directly rather than
as torch's TransformedDistribution subclasses; the numbers are the same). Gumbel: density
exp(-(z + e^-z)) / scale, z = (x - loc) / scale; HalfNormal: |N(0, scale^2)| on x >= 0.
Both reparameterised.

Example::

    >>> from gpugrad.distributions import Gumbel, HalfNormal
    >>> round(Gumbel(0.0, 1.0).log_prob(gpugrad.tensor(0.0)).item(), 4)        # -1
    -1.0
    >>> round(HalfNormal(1.0).log_prob(gpugrad.tensor(0.0)).item(), 4)        # log(2 / sqrt(2 pi))
    -0.2258
"""

from __future__ import annotations

import math
import numbers

from ..creation import zeros_like
from ..ops.elementwise import where
from ..ops.special import erf
from ..ops.special_erf import erfinv
from ..type_info import finfo
from . import constraints
from .distribution import Distribution
from .location_scale import LocationScale
from .utils import _standard_normal, _uniform, broadcast_all, euler_constant

__all__ = ["Gumbel", "HalfNormal"]


class Gumbel(LocationScale):
    """The Gumbel (type-I extreme value) distribution, batch shape: loc and scale broadcast.

    Example::

        >>> from gpugrad.distributions import Gumbel
        >>> round(Gumbel(0.0, 1.0).mean.item(), 4), round(Gumbel(0.0, 1.0).cdf(
        ...     gpugrad.tensor(0.0)).item(), 4)                       # Euler's gamma, 1/e
        (0.5772, 0.3679)
    """

    @property
    def mean(self):
        return self.loc + self.scale * euler_constant

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        info = finfo(self.loc.dtype)
        # u uniform in [tiny, 1 - eps), as torch's base Uniform: both logs stay finite
        u = _uniform(shape, dtype=self.loc.dtype, device=self.loc.device)
        u = (u * (1 - info.eps - info.tiny) + info.tiny).clamp(max=1 - info.eps)
        return self.loc - self.scale * (-u.log()).log()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (-(-(value - self.loc) / self.scale).exp()).exp()

    def icdf(self, value):
        return self.loc - self.scale * (-value.log()).log()

    def entropy(self):
        return self.scale.log() + (1 + euler_constant)


class HalfNormal(Distribution):
    """The half-normal distribution |N(0, scale^2)| (batch shape: scale's).

    Example::

        >>> from gpugrad.distributions import HalfNormal
        >>> round(HalfNormal(2.0).mean.item(), 4), round(HalfNormal(2.0).cdf(
        ...     gpugrad.tensor(2.0)).item(), 4)
        (1.5958, 0.6827)
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (self.scale,) = broadcast_all(scale)
        batch_shape = () if isinstance(scale, numbers.Number) else tuple(self.scale.shape)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfNormal, _instance)
        batch_shape = tuple(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self):
        return zeros_like(self.scale)

    @property
    def variance(self):
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, dtype=self.scale.dtype, device=self.scale.device)
        return (eps * self.scale).abs()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        normal = (-(value.pow(2)) / (2 * self.scale.pow(2)) - self.scale.log()
                  - 0.5 * math.log(2 * math.pi))
        return where(value >= 0, normal + math.log(2), -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return erf(value / (self.scale * math.sqrt(2)))

    def icdf(self, prob):
        return self.scale * erfinv(prob) * math.sqrt(2)

    def entropy(self):
        return 0.5 * math.log(0.5 * math.pi * math.e) + self.scale.log()
