"""``Uniform(low, high)``, as ``torch.distributions.Uniform``: uniform on [low, high),
reparameterised (``rsample`` = low + u (high - low)).

Example::

    >>> from gpugrad.distributions import Uniform
    >>> d = Uniform(gpugrad.tensor([0.0, 1.0]), gpugrad.tensor([2.0, 5.0]))
    >>> d.mean.tolist(), [round(v, 4) for v in d.entropy().tolist()]
    ([1.0, 3.0], [0.6931, 1.3863])
    >>> d.log_prob(gpugrad.tensor([1.0, 0.5])).tolist()[1]          # outside: refused
    Traceback (most recent call last):
    ...
    ValueError: Expected value argument (Tensor of shape (2,)) to be within the support ...
    >>> Uniform(0.0, 2.0, validate_args=False).log_prob(gpugrad.tensor(3.0)).item()
    -inf
"""

from __future__ import annotations

import math
import numbers

from ..ops.compare import less
from . import constraints
from .distribution import Distribution
from .utils import _check_all_true, _uniform, broadcast_all

__all__ = ["Uniform"]


class Uniform(Distribution):
    """The uniform distribution on [low, high) (batch shape: low and high broadcast).

    Example::

        >>> from gpugrad.distributions import Uniform
        >>> Uniform(0.0, 4.0).cdf(gpugrad.tensor([1.0, 3.0])).tolist()
        [0.25, 0.75]
    """

    arg_constraints = {"low": constraints.dependent(is_discrete=False, event_dim=0),
                       "high": constraints.dependent(is_discrete=False, event_dim=0)}
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        if isinstance(low, numbers.Number) and isinstance(high, numbers.Number):
            batch_shape = ()
        else:
            batch_shape = tuple(self.low.shape)
        super().__init__(batch_shape, validate_args=validate_args)
        if self._validate_args:
            _check_all_true(less(self.low, self.high), "Uniform is not defined when low>= high")

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Uniform, _instance)
        batch_shape = tuple(batch_shape)
        new.low = self.low.expand(batch_shape)
        new.high = self.high.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return math.nan * self.high

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = _uniform(shape, dtype=self.low.dtype, device=self.low.device)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        lb = (self.low <= value).astype(self.low.dtype)
        ub = (self.high > value).astype(self.low.dtype)
        return (lb * ub).log() - (self.high - self.low).log()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return (self.high - self.low).log()
