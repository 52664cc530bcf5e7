"""Families built as ``TransformedDistribution``s, as torch's: ``HalfCauchy`` (|Cauchy|),
``Pareto`` (scale * exp(Exponential(alpha))), ``Weibull`` (scale * Exponential(1) ** (1/k)) and
``InverseGamma`` (1 / Gamma); their rsample is differentiable in the parameters.

Example::

    >>> from gpugrad.distributions import Pareto
    >>> d = Pareto(gpugrad.tensor([1.0]), gpugrad.tensor([3.0]))       # scale, alpha
    >>> d.mean.tolist(), round(d.log_prob(gpugrad.tensor([2.0])).item(), 4)   # log(3 / 16)
    ([1.5], -1.674)
"""

from __future__ import annotations

import math

from ..creation import full, ones_like, zeros_like
from ..ops.elementwise import where
from ..ops.special_gamma import digamma, lgamma
from . import constraints
from .cauchy import Cauchy
from .exponential import Exponential
from .gamma import Gamma
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform, AffineTransform, ExpTransform, PowerTransform
from .utils import broadcast_all, euler_constant

__all__ = ["HalfCauchy", "Pareto", "Weibull", "InverseGamma"]


class HalfCauchy(TransformedDistribution):
    """|X| for X ~ Cauchy(0, scale); support [0, inf).

    Example::

        >>> from gpugrad.distributions import HalfCauchy
        >>> d = HalfCauchy(gpugrad.tensor([1.0]))
        >>> x = gpugrad.tensor([1.0])
        >>> round(d.log_prob(x).item(), 4), d.cdf(x).tolist()       # log(1 / pi)
        (-1.1447, [0.5])
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        base_dist = Cauchy(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfCauchy, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return full(self._extended_shape(), math.inf, dtype=self.scale.dtype,
                    device=self.scale.device)

    @property
    def mode(self):
        return zeros_like(self.scale)

    @property
    def variance(self):
        return self.base_dist.variance

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = _as_tensor_like(value, self.scale)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return where(value >= 0, log_prob, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)


def _as_tensor_like(value, like):
    if hasattr(value, "shape"):
        return value
    return full((), float(value), dtype=like.dtype, device=like.device)


class Pareto(TransformedDistribution):
    """Pareto type I: density alpha scale^alpha / x^(alpha + 1) on [scale, inf).

    Example::

        >>> from gpugrad.distributions import Pareto
        >>> Pareto(2.0, 3.0).support.lower_bound.item(), Pareto(2.0, 3.0).mode.item()
        (2.0, 2.0)
    """

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base_dist = Exponential(self.alpha, validate_args=validate_args)
        transforms = [ExpTransform(), AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Pareto, _instance)
        new.scale = self.scale.expand(tuple(batch_shape))
        new.alpha = self.alpha.expand(tuple(batch_shape))
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        a = self.alpha.clamp(min=1)          # inf where alpha <= 1
        return a * self.scale / (a - 1)

    @property
    def mode(self):
        return self.scale

    @property
    def variance(self):
        a = self.alpha.clamp(min=2)          # inf where alpha <= 2
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    def entropy(self):
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())


class Weibull(TransformedDistribution):
    """Weibull(scale lambda, concentration k): density (k / lambda) (x / lambda)^(k - 1)
    exp(-(x / lambda)^k) on x > 0.

    Example::

        >>> from gpugrad.distributions import Weibull
        >>> d = Weibull(gpugrad.tensor([2.0]), gpugrad.tensor([1.0]))    # Exponential(1/2)
        >>> d.mean.tolist(), round(d.log_prob(gpugrad.tensor([2.0])).item(), 4)
        ([2.0], -1.6931)
    """

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base_dist = Exponential(ones_like(self.scale), validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration_reciprocal),
                      AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Weibull, _instance)
        batch_shape = tuple(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.concentration_reciprocal = new.concentration.reciprocal()
        base_dist = self.base_dist.expand(batch_shape)
        transforms = [PowerTransform(exponent=new.concentration_reciprocal),
                      AffineTransform(loc=0, scale=new.scale)]
        TransformedDistribution.__init__(new, base_dist, transforms, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.scale * lgamma(1 + self.concentration_reciprocal).exp()

    @property
    def mode(self):
        k = self.concentration
        return self.scale * ((k - 1) / k) ** k.reciprocal()

    @property
    def variance(self):
        r = self.concentration_reciprocal
        return self.scale.pow(2) * (lgamma(1 + 2 * r).exp() - (2 * lgamma(1 + r)).exp())

    def entropy(self):
        r = self.concentration_reciprocal
        return euler_constant * (1 - r) + (self.scale * r).log() + 1


class InverseGamma(TransformedDistribution):
    """1 / X for X ~ Gamma(concentration, rate): density rate^a / Gamma(a) x^(-a-1)
    exp(-rate / x) on x > 0.

    Example::

        >>> from gpugrad.distributions import InverseGamma
        >>> d = InverseGamma(gpugrad.tensor([3.0]), gpugrad.tensor([2.0]))
        >>> d.mean.tolist(), d.mode.tolist(), d.variance.tolist()
        ([1.0], [0.5], [1.0])
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base_dist = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = -base_dist.rate.new_ones(())
        super().__init__(base_dist, PowerTransform(neg_one), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def concentration(self):
        return self.base_dist.concentration

    @property
    def rate(self):
        return self.base_dist.rate

    @property
    def mean(self):
        result = self.rate / (self.concentration - 1)
        return where(self.concentration > 1, result, math.inf)

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        a = self.concentration
        result = self.rate.square() / ((a - 1).square() * (a - 2))
        return where(a > 2, result, math.inf)

    def entropy(self):
        a = self.concentration
        return a + self.rate.log() + lgamma(a) - (1 + a) * digamma(a)
