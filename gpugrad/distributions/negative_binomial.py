"""``NegativeBinomial(total_count, probs=None, logits=None)``, as torch's: the number of
successes, each of probability ``probs`` (or sigmoid(``logits``)), before ``total_count``
failures; the pmf Gamma(r + k) / (k! Gamma(r)) p^k (1 - p)^r (r may be any real >= 0).
Samples are counts (floats, as torch's) drawn as Poisson(Gamma(r, rate = (1 - p) / p)),
with no gradient; ``log_prob``, ``mean`` and ``variance`` are differentiable.

Example::

    >>> from gpugrad.distributions.negative_binomial import NegativeBinomial
    >>> d = NegativeBinomial(3.0, probs=gpugrad.tensor([0.5]))
    >>> d.mean.tolist(), d.variance.tolist(), d.mode.tolist()
    ([3.0], [6.0], [2.0])
    >>> round(d.log_prob(gpugrad.tensor([2.0])).exp().item(), 4)     # C(4, 2) / 2^5
    0.1875
"""

from __future__ import annotations

from ..autograd.mode import no_grad
from ..nn.activation_functions import logsigmoid
from ..ops.activation import sigmoid
from ..ops.elementwise import where
from ..ops.random_draws import poisson
from ..ops.special_gamma import lgamma
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import BinaryParameter, lazy_property

__all__ = ["NegativeBinomial"]


class NegativeBinomial(BinaryParameter, Distribution):
    """The negative binomial with ``total_count`` r >= 0 and ``probs`` in [0, 1) (or
    ``logits``), broadcast together: the batch shape; support 0, 1, 2...

    Example::

        >>> from gpugrad.distributions.negative_binomial import NegativeBinomial
        >>> _ = gpugrad.manual_seed(0)
        >>> d = NegativeBinomial(gpugrad.tensor([2.0, 5.0]), logits=gpugrad.zeros(2))
        >>> d.batch_shape, d.sample((4,)).shape
        (gpugrad.Size([2]), (4, 2))
    """

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        batch_shape = self._set_parameter(probs, logits, total_count)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(self._get_checked_instance(NegativeBinomial, _instance), batch_shape)

    @property
    def param_shape(self):
        return tuple(self._param.shape)

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / sigmoid(-self.logits)

    @lazy_property
    def _gamma(self):
        # not validated: total_count may be 0 (a point mass at 0)
        return Gamma(concentration=self.total_count, rate=(-self.logits).exp(),
                     validate_args=False)

    def sample(self, sample_shape=()):
        with no_grad():
            rate = self._gamma.sample(sample_shape)
            return poisson(rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        r, logits = self.total_count, self.logits
        log_unnormalized = r * logsigmoid(-logits) + value * logsigmoid(logits)
        # r = 0 and k = 0: probability 1, though lgamma(0) is infinite (read at 1 instead)
        certain = r + value == 0.0
        log_normalization = (-lgamma(where(certain, 1.0, r + value)) + lgamma(1.0 + value)
                             + lgamma(where(certain, 1.0, r)))
        log_normalization = where(certain, 0.0, log_normalization)
        return log_unnormalized - log_normalization
