"""``Gamma(concentration, rate)`` and ``Chi2(df)``, as torch's: density
rate^c x^(c-1) e^(-rate x) / Gamma(c) on x >= 0 (Chi2(df) is Gamma(df/2, 1/2)),
reparameterised: ``rsample`` differentiates the sample in the concentration implicitly (at a
fixed quantile; gpugrad/ops/standard_gamma.py) and in the rate through x = s / rate.

Example::

    >>> from gpugrad.distributions import Chi2, Gamma
    >>> d = Gamma(gpugrad.tensor([2.0, 3.0]), gpugrad.tensor([1.0, 2.0]))
    >>> d.mean.tolist(), d.variance.tolist(), d.mode.tolist()
    ([2.0, 1.5], [2.0, 0.75], [1.0, 1.0])
    >>> [round(v, 4) for v in d.log_prob(gpugrad.tensor([1.0, 1.0])).tolist()]
    [-1.0, -0.6137]
    >>> Chi2(4.0).mean.item(), Chi2(4.0).variance.item()
    (4.0, 8.0)
"""

from __future__ import annotations

import numbers

from ..creation import as_tensor
from ..ops.pointwise_binary import xlogy
from ..ops.special_gamma import digamma, lgamma
from ..ops.standard_gamma import regularized_gamma_p, standard_gamma
from . import constraints
from .distribution import Distribution
from .exp_family import ExponentialFamily
from ..tensor import Tensor
from ..type_info import finfo
from .utils import broadcast_all

__all__ = ["Gamma", "Chi2"]


class Gamma(ExponentialFamily):
    """The gamma distribution with shape ``concentration`` and inverse scale ``rate``
    (broadcast together: the batch shape).

    Example::

        >>> from gpugrad.distributions import Gamma
        >>> c = gpugrad.tensor(2.0, requires_grad=True)
        >>> _ = gpugrad.manual_seed(0)
        >>> x = Gamma(c, 1.0).rsample((1000,))
        >>> x.mean().backward()                   # d E[x] / dc = 1 / rate, about
        >>> abs(c.grad.item() - 1.0) < 0.1
        True
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number):
            batch_shape = ()
        else:
            batch_shape = tuple(self.concentration.shape)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = tuple(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        """Samples of ``sample_shape + batch_shape``, differentiable in both parameters;
        at least the dtype's smallest normal number (a sample divided by a large rate would
        underflow to 0, whose log_prob is inf), as torch's: the clamp moves the value only,
        the gradient is the unclamped sample's."""
        shape = self._extended_shape(sample_shape)
        value = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return value + (value.clamp(min=finfo(value.dtype).tiny) - value).detach()

    def log_prob(self, value):
        """log density at ``value`` (a tensor or a Python number), in the parameters'
        dtype, as torch's (which converts ``value`` to the rate's dtype first)."""
        value = (value.astype(self.rate.dtype) if isinstance(value, Tensor)
                 else as_tensor(value, dtype=self.rate.dtype, device=self.rate.device))
        if self._validate_args:
            self._validate_sample(value)
        c, rate = self.concentration, self.rate
        return xlogy(c, rate) + xlogy(c - 1, value) - rate * value - lgamma(c)

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + lgamma(c) + (1.0 - c) * digamma(c)

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return lgamma(x + 1) + (x + 1) * (-y.reciprocal()).log()

    def cdf(self, value):
        """P(X <= value): the regularised lower incomplete gamma of (concentration,
        rate * value); differentiable in ``value`` and ``rate`` (in the concentration it
        raises, as torch's ``gammainc``)."""
        if self._validate_args:
            self._validate_sample(value)
        return regularized_gamma_p(self.concentration, self.rate * value)


class Chi2(Gamma):
    """The chi-squared distribution with ``df`` degrees of freedom: Gamma(df / 2, 1 / 2).

    Example::

        >>> from gpugrad.distributions import Chi2
        >>> round(Chi2(gpugrad.tensor([2.0])).log_prob(gpugrad.tensor([2.0])).item(), 4)
        -1.6931
    """

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        (df,) = broadcast_all(df) if isinstance(df, numbers.Number) else (df,)
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self):
        return self.concentration * 2
