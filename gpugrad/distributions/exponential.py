"""``Exponential(rate)``, as ``torch.distributions.Exponential``: density rate exp(-rate x)
on x >= 0, reparameterised (``rsample`` = -log(1 - u) / rate).

Example::

    >>> from gpugrad.distributions import Exponential
    >>> d = Exponential(gpugrad.tensor([0.5, 2.0]))
    >>> d.mean.tolist(), d.variance.tolist()
    ([2.0, 0.5], [4.0, 0.25])
    >>> [round(v, 4) for v in d.log_prob(gpugrad.tensor([1.0, 1.0])).tolist()]
    [-1.1931, -1.3069]
"""

from __future__ import annotations

import numbers

from ..creation import zeros_like
from . import constraints
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .utils import _uniform, broadcast_all

__all__ = ["Exponential"]


class Exponential(ExponentialFamily):
    """The exponential distribution with ``rate`` (batch shape: rate's).

    Example::

        >>> from gpugrad.distributions import Exponential
        >>> round(Exponential(2.0).cdf(gpugrad.tensor(1.0)).item(), 4)      # 1 - e^-2
        0.8647
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = () if isinstance(rate, numbers.Number) else tuple(self.rate.shape)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Exponential, _instance)
        batch_shape = tuple(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = _uniform(shape, dtype=self.rate.dtype, device=self.rate.device)
        return -(-u).log1p() / self.rate            # u < 1: finite

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        return -(-value).log1p() / self.rate

    def entropy(self):
        return 1.0 - self.rate.log()

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -(-x).log()
