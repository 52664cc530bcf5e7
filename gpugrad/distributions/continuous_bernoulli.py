"""``ContinuousBernoulli(probs=None, logits=None, lims=(0.499, 0.501))``, as torch's: the
density C(p) p^x (1 - p)^(1 - x) on [0, 1] (Loaiza-Ganem and Cunningham, 2019), with the
normaliser C(p) = 2 artanh(1 - 2p) / (1 - 2p). ``probs`` is not a probability here, nor
``logits`` a log-odds, but they are named as Bernoulli's. Near p = 1/2 (inside ``lims``)
the normaliser, mean and variance are Taylor expansions, as torch's (the closed forms are
0 / 0 there). ``rsample`` is the inverse cdf of a uniform draw: differentiable in the
parameter.

Example::

    >>> from gpugrad.distributions.continuous_bernoulli import ContinuousBernoulli
    >>> d = ContinuousBernoulli(gpugrad.tensor([0.5, 0.2], dtype="float64"))
    >>> [round(v, 4) for v in d.mean.tolist()]
    [0.5, 0.388]
    >>> [round(v, 4) for v in d.log_prob(gpugrad.tensor([0.5, 0.5], dtype="float64")).tolist()]
    [0.0, -0.0788]
"""

from __future__ import annotations

import math
import numbers

from ..autograd.mode import no_grad
from ..nn.activation_functions import log1p_exp
from ..ops.elementwise import where
from . import constraints
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .utils import (_check_all_true, _uniform, broadcast_all, clamp_probs, lazy_property,
                    logits_to_probs, probs_to_logits)

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """The continuous Bernoulli on [0, 1] with parameter ``probs`` in (0, 1) or ``logits``
    (sigmoid(logits) = probs); batch shape: the parameter's. ``probs`` is clamped to
    [eps, 1 - eps] of its dtype, as torch's (after it is validated).

    Example::

        >>> from gpugrad.distributions.continuous_bernoulli import ContinuousBernoulli
        >>> d = ContinuousBernoulli(logits=gpugrad.zeros(3))
        >>> d.batch_shape, [round(v, 4) for v in d.variance.tolist()]
        (gpugrad.Size([3]), [0.0833, 0.0833, 0.0833])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, numbers.Number)
            (self.probs,) = broadcast_all(probs)
            # checked before the clamp, which would make any value pass
            if validate_args if validate_args is not None else self._validate_args:
                _check_all_true(constraints.unit_interval.check(self.probs),
                                f"Expected parameter probs (Tensor of shape "
                                f"{tuple(self.probs.shape)}) of distribution "
                                f"ContinuousBernoulli to be in [0, 1], but found invalid "
                                f"values", self.probs)
            self.probs = clamp_probs(self.probs)
        else:
            is_scalar = isinstance(logits, numbers.Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = () if is_scalar else tuple(self._param.shape)
        self._lims = lims
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ContinuousBernoulli, _instance)
        new._lims = self._lims
        batch_shape = tuple(batch_shape)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(batch_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(batch_shape)
            new._param = new.logits
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self):
        return tuple(self._param.shape)

    def _outside_unstable_region(self):
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        """probs, with lims[0] inside the unstable region (no 0 / 0 in either branch)."""
        return where(self._outside_unstable_region(), self.probs, self._lims[0])

    def _cont_bern_log_norm(self):
        """log C(probs), the log normalising constant."""
        cut = self._cut_probs()
        below = where(cut <= 0.5, cut, 0.0)
        above = where(cut >= 0.5, cut, 1.0)
        log_norm = ((((-cut).log1p() - cut.log()).abs()).log()
                    - where(cut <= 0.5, (-2.0 * below).log1p(), (2.0 * above - 1.0).log()))
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self):
        return self.variance.sqrt()

    @property
    def variance(self):
        cut = self._cut_probs()
        variances = (cut * (cut - 1.0) / (1.0 - 2.0 * cut).pow(2)
                     + 1.0 / ((-cut).log1p() - cut.log()).pow(2))
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return where(self._outside_unstable_region(), variances, taylor)

    def sample(self, sample_shape=()):
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        """The inverse cdf of uniform draws: ``sample_shape + batch_shape``, differentiable
        in the parameter."""
        shape = self._extended_shape(sample_shape)
        u = _uniform(shape, dtype=self.probs.dtype, device=self.probs.device)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # -binary_cross_entropy_with_logits(logits, value) + log C; log1p_exp (no threshold)
        # has the gradient sigmoid(logits), 1/2 at logits = 0
        return value * logits - log1p_exp(logits) + self._cont_bern_log_norm()

    def cdf(self, value):
        """(p^x (1 - p)^(1 - x) + p - 1) / (2p - 1), x itself near p = 1/2; 0 below 0 and 1
        above 1."""
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (cut.pow(value) * (1.0 - cut).pow(1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = where(self._outside_unstable_region(), cdfs, value)
        return where(value <= 0.0, 0.0, where(value >= 1.0, 1.0, unbounded))

    def icdf(self, value):
        cut = self._cut_probs()
        inverse = (((-cut + value * (2.0 * cut - 1.0)).log1p() - (-cut).log1p())
                   / (cut.log() - (-cut).log1p()))
        return where(self._outside_unstable_region(), inverse, value)

    def entropy(self):
        log_probs0, log_probs1 = (-self.probs).log1p(), self.probs.log()
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        """log C as a function of the natural parameter ``x`` (the logits)."""
        unstable_low, unstable_high = self._lims[0] - 0.5, self._lims[1] - 0.5
        outside = (x <= unstable_low) | (x > unstable_high)
        cut = where(outside, x, unstable_low)
        log_norm = cut.expm1().abs().log() - cut.abs().log()
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return where(outside, log_norm, taylor)
