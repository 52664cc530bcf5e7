"""``Dirichlet(concentration)`` and ``Beta(concentration1, concentration0)``, as torch's:
the Dirichlet density Gamma(a0) / prod Gamma(a_i) prod x_i^(a_i - 1) on the simplex
(a0 = sum a_i; event shape: the last dimension of ``concentration``), and Beta, the
Dirichlet of [concentration1, concentration0] seen through its first coordinate.
Reparameterised: a sample is g / sum(g) for standard gamma draws g, each differentiable in
its concentration implicitly (gpugrad/ops/standard_gamma.py).

Example::

    >>> from gpugrad.distributions import Beta, Dirichlet
    >>> d = Dirichlet(gpugrad.tensor([1.0, 2.0, 1.0]))
    >>> d.mean.tolist(), d.batch_shape, d.event_shape
    ([0.25, 0.5, 0.25], gpugrad.Size([]), gpugrad.Size([3]))
    >>> round(d.log_prob(gpugrad.tensor([0.25, 0.5, 0.25])).item(), 4)        # log(6 * 0.5)
    1.0986
    >>> b = Beta(2.0, 2.0)
    >>> b.mean.item(), round(b.variance.item(), 6), round(b.log_prob(gpugrad.tensor(0.5)).item(), 4)
    (0.5, 0.05, 0.4055)
"""

from __future__ import annotations

import numbers

from ..creation import arange, tensor
from ..ops.elementwise import where
from ..ops.pointwise_binary import xlogy
from ..ops.shape import stack
from ..ops.special_gamma import digamma, lgamma
from ..ops.standard_gamma import standard_gamma
from . import constraints
from .distribution import Distribution
from .exp_family import ExponentialFamily
from ..type_info import finfo
from .utils import broadcast_all

__all__ = ["Dirichlet", "Beta"]


class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution over the simplex, ``concentration`` of shape
    ``batch_shape + (K,)``, all positive.

    Example::

        >>> from gpugrad.distributions import Dirichlet
        >>> _ = gpugrad.manual_seed(0)
        >>> x = Dirichlet(gpugrad.ones(2, 3)).rsample((4,))
        >>> x.shape, [round(v, 5) for v in x.sum(-1).flatten().tolist()][:2]
        ((4, 2, 3), [1.0, 1.0])
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = tuple(concentration.shape)
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = tuple(batch_shape)
        new.concentration = self.concentration.expand(batch_shape + self._event_shape)
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        """Samples of ``sample_shape + batch_shape + event_shape``, each coordinate in
        [tiny, 1 - eps/2] of its dtype, as torch's: with small concentrations g / sum(g)
        rounds to exactly 0 or 1, whose log_prob is infinite. The clamp moves the value
        only; the gradient is the unclamped sample's."""
        shape = self._extended_shape(sample_shape)
        gammas = standard_gamma(self.concentration.expand(shape))
        x = gammas / gammas.sum(-1, keepdim=True)
        info = finfo(x.dtype)
        return x + (x.clamp(min=info.tiny, max=1.0 - info.eps / 2) - x).detach()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return (xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        """(a - 1) / sum(a - 1) with a - 1 clamped at 0; where every a < 1 (0 / 0), the
        first corner [1, 0, ...], as torch's (its argmax of that row of NaN)."""
        shifted = (self.concentration - 1).clamp(min=0)
        all_small = (self.concentration < 1).all(-1, keepdim=True)
        total = shifted.sum(-1, keepdim=True)
        mode = shifted / where(all_small, 1.0, total)        # (no 0/0, nor its NaN gradient)
        k = self._event_shape[0]
        corner = (arange(k, device=mode.device) == 0).astype(mode.dtype)
        return where(all_small, corner, mode)

    @property
    def variance(self):
        c = self.concentration
        total = c.sum(-1, keepdim=True)
        return c * (total - c) / (total.pow(2) * (total + 1))

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        total = c.sum(-1)
        return (lgamma(c).sum(-1) - lgamma(total) - (k - total) * digamma(total)
                - ((c - 1.0) * digamma(c)).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))


class Beta(ExponentialFamily):
    """The beta distribution on [0, 1] with density x^(c1 - 1) (1 - x)^(c0 - 1) / B(c1, c0)
    (``concentration1`` c1, ``concentration0`` c0 broadcast: the batch shape).

    Example::

        >>> from gpugrad.distributions import Beta
        >>> Beta(gpugrad.tensor([1.0, 3.0]), 1.0).mean.tolist()
        [0.5, 0.75]
    """

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        if isinstance(concentration1, numbers.Number) and \
                isinstance(concentration0, numbers.Number):
            both = tensor([float(concentration1), float(concentration0)])
        else:
            c1, c0 = broadcast_all(concentration1, concentration0)
            both = stack([c1, c0], -1)
        self._dirichlet = Dirichlet(both, validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = tuple(batch_shape)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def concentration1(self):
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self):
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        heads_tails = stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self):
        return self._dirichlet.entropy()

    @property
    def _natural_params(self):
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x, y):
        return lgamma(x) + lgamma(y) - lgamma(x + y)

    def __repr__(self):
        c1, c0 = self.concentration1, self.concentration0
        show = [f"{n}: {v if v.numel() == 1 else tuple(v.shape)}"
                for n, v in (("concentration1", c1), ("concentration0", c0))]
        return f"Beta({', '.join(show)})"
