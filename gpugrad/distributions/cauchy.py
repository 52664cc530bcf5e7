"""``Cauchy(loc, scale)``, as ``torch.distributions.Cauchy``: density
1 / (pi scale (1 + ((x - loc) / scale)^2)), with no mean (NaN) and infinite variance;
reparameterised (``rsample`` = loc + scale tan(pi (u - 1/2))).

Example::

    >>> from gpugrad.distributions import Cauchy
    >>> d = Cauchy(0.0, 1.0)
    >>> round(d.log_prob(gpugrad.tensor(0.0)).item(), 4), d.cdf(gpugrad.tensor(1.0)).item()
    (-1.1447, 0.75)
"""

from __future__ import annotations

import math

from ..creation import full_like
from .location_scale import LocationScale
from .utils import _uniform

__all__ = ["Cauchy"]


class Cauchy(LocationScale):
    """The Cauchy (Lorentz) distribution, batch shape: loc and scale broadcast.

    Example::

        >>> from gpugrad.distributions import Cauchy
        >>> round(Cauchy(0.0, 2.0).entropy().item(), 4)          # log(4 pi scale)
        3.2242
    """

    @property
    def mean(self):
        return full_like(self.loc, math.nan)

    @property
    def variance(self):
        return full_like(self.loc, math.inf)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = _uniform(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + self.scale * (math.pi * (u - 0.5)).tan()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (-math.log(math.pi) - self.scale.log()
                - ((value - self.loc) / self.scale).pow(2).log1p())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
