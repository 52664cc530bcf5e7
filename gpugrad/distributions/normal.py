"""``Normal(loc, scale)``, as ``torch.distributions.Normal``: the Gaussian with mean ``loc``
and standard deviation ``scale`` (broadcast together: the batch shape), reparameterised
(``rsample`` = loc + scale * eps, differentiable in both).

Example::

    >>> from gpugrad.distributions import Normal
    >>> d = Normal(gpugrad.tensor([0.0, 1.0]), gpugrad.tensor([1.0, 2.0]))
    >>> [round(v, 4) for v in d.log_prob(gpugrad.tensor([0.0, 1.0])).tolist()]
    [-0.9189, -1.6121]
    >>> [round(v, 4) for v in d.entropy().tolist()]
    [1.4189, 2.1121]
"""

from __future__ import annotations

import math

from ..ops.special import erf
from .exp_family import ExponentialFamily
from .location_scale import LocationScale
from ..ops.special_erf import erfinv
from .utils import _standard_normal

__all__ = ["Normal"]


class Normal(LocationScale, ExponentialFamily):
    """The normal distribution N(loc, scale^2), batch shape: loc and scale broadcast.

    Example::

        >>> from gpugrad.distributions import Normal
        >>> loc = gpugrad.tensor(0.5, requires_grad=True)
        >>> Normal(loc, 2.0).rsample((4,)).sum().backward()   # d(loc + 2 eps)/dloc = 1
        >>> loc.grad.item()
        4.0
    """

    _mean_carrier_measure = 0

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale ** 2
        return (-((value - self.loc) ** 2) / (2 * var) - self.scale.log()
                - math.log(math.sqrt(2 * math.pi)))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        """The quantile at probability ``value``."""
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    @property
    def _natural_params(self):
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, x, y):
        return -0.25 * x.pow(2) / y + 0.5 * (-math.pi / y).log()
