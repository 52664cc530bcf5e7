"""The counting distributions ``Poisson(rate)``, ``Binomial(total_count=1, probs=None,
logits=None)`` and ``Geometric(probs=None, logits=None)``, as torch's: samples are counts
(floats, as torch's), drawn from gpugrad's random stream, with no gradient; ``log_prob``,
``entropy``, ``mean`` and ``variance`` are differentiable in the parameters.

Example::

    >>> from gpugrad.distributions import Binomial, Geometric, Poisson
    >>> [round(v, 4) for v in Poisson(gpugrad.tensor([2.0])).log_prob(
    ...     gpugrad.tensor([3.0])).tolist()]                # log(e^-2 2^3 / 3!)
    [-1.7123]
    >>> d = Binomial(4, probs=gpugrad.tensor([0.5]))
    >>> d.mean.tolist(), round(d.log_prob(gpugrad.tensor([2.0])).exp().item(), 4)     # 6/16
    ([2.0], 0.375)
    >>> Geometric(probs=gpugrad.tensor([0.25])).mean.tolist()                  # failures
    [3.0]
"""

from __future__ import annotations

import numbers

from ..autograd.mode import no_grad
from ..creation import arange, zeros_like
from ..nn.activation_functions import softplus
from ..ops.elementwise import where
from ..ops.pointwise_binary import xlogy
from ..ops.random_draws import binomial, poisson
from ..ops.special_gamma import lgamma
from ..type_info import finfo
from . import constraints
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .utils import BinaryParameter, _check_all_true, _uniform, broadcast_all

__all__ = ["Poisson", "Binomial", "Geometric"]


class Poisson(ExponentialFamily):
    """The Poisson distribution with ``rate`` >= 0 (batch shape: rate's).

    Example::

        >>> from gpugrad.distributions import Poisson
        >>> Poisson(gpugrad.tensor([1.5])).mode.tolist(), Poisson(3.0).variance.item()
        ([1.0], 3.0)
    """

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = () if isinstance(rate, numbers.Number) else tuple(self.rate.shape)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Poisson, _instance)
        batch_shape = tuple(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return poisson(self.rate.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return xlogy(value, rate) - rate - lgamma(value + 1)

    @property
    def _natural_params(self):
        return (self.rate.log(),)

    def _log_normalizer(self, x):
        return x.exp()


def _clamp_by_zero(x):
    """max(x, 0) with gradient 1/2 at 0 (torch's choice for Binomial)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(BinaryParameter, Distribution):
    """The number of successes in ``total_count`` independent trials, each with probability
    ``probs`` (or sigmoid(``logits``)); total_count and the parameter broadcast together.

    Example::

        >>> from gpugrad.distributions import Binomial
        >>> d = Binomial(gpugrad.tensor([2.0]), logits=gpugrad.tensor([0.0]))
        >>> d.enumerate_support().flatten().tolist(), [round(v, 4) for v in d.entropy().tolist()]
        ([0.0, 1.0, 2.0], [1.0397])
    """

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        batch_shape = self._set_parameter(probs, logits, total_count)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(self._get_checked_instance(Binomial, _instance), batch_shape)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def param_shape(self):
        return tuple(self._param.shape)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return binomial(self.total_count.expand(shape), self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        # k log p + (n - k) log(1 - p) = k logit - n max(logit, 0) - n log1p(e^-|logit|)
        normalize = (n * _clamp_by_zero(logits) + n * (-logits.abs()).exp().log1p()
                     - lgamma(n + 1))
        return value * logits - lgamma(value + 1) - lgamma(n - value + 1) - normalize

    def _homogeneous_count(self, what: str) -> int:
        with no_grad():
            largest = int(self.total_count.max().item())
            if not self.total_count.min().item() == largest:
                raise NotImplementedError(f"Inhomogeneous total count not supported by "
                                          f"`{what}`.")
        return largest

    def entropy(self):
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True):
        total = self._homogeneous_count("enumerate_support")
        values = arange(1 + total, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + self._batch_shape)
        return values


class Geometric(BinaryParameter, Distribution):
    """The number of failures before the first success in trials of probability ``probs``
    (or sigmoid(``logits``)), 0 < probs <= 1; support 0, 1, 2...

    Example::

        >>> from gpugrad.distributions import Geometric
        >>> d = Geometric(probs=gpugrad.tensor([0.5]))
        >>> d.variance.tolist(), [round(v, 4) for v in d.log_prob(gpugrad.tensor([2.0])).tolist()]
        ([2.0], [-2.0794])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        super().__init__(self._set_parameter(probs, logits), validate_args=validate_args)
        if self._validate_args and probs is not None:
            _check_all_true(self.probs > 0,
                            f"Expected parameter probs ({type(self.probs).__name__} of shape "
                            f"{tuple(self.probs.shape)}) of distribution {self!r} to be "
                            f"positive but found invalid values", self.probs)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(self._get_checked_instance(Geometric, _instance), batch_shape)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            probs = self.probs.detach()
            tiny = finfo(probs.dtype).tiny
            u = _uniform(shape, dtype=probs.dtype, device=probs.device).clamp(min=tiny)
            return (u.log() / (-probs).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # p = 1 and k = 0: 0 * log(0) is 0 (the certain outcome), not NaN
        probs = where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        # binary_cross_entropy_with_logits(logits, probs) / probs
        logits, probs = self.logits, self.probs
        return (softplus(logits) - probs * logits) / probs
