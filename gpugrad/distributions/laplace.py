"""``Laplace(loc, scale)``, as ``torch.distributions.Laplace``: density
exp(-|x - loc| / scale) / (2 scale), reparameterised (inverse-cdf ``rsample``).

Example::

    >>> from gpugrad.distributions import Laplace
    >>> d = Laplace(gpugrad.tensor([0.0]), gpugrad.tensor([2.0]))
    >>> d.variance.tolist(), [round(v, 4) for v in d.log_prob(gpugrad.tensor([1.0])).tolist()]
    ([8.0], [-1.8863])
"""

from __future__ import annotations


from ..ops.compare import sign
from ..type_info import finfo
from .location_scale import LocationScale
from .utils import _uniform

__all__ = ["Laplace"]


class Laplace(LocationScale):
    """The Laplace distribution (batch shape: loc and scale broadcast).

    Example::

        >>> from gpugrad.distributions import Laplace
        >>> Laplace(0.0, 1.0).cdf(gpugrad.tensor([0.0])).tolist()
        [0.5]
    """

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return (2 ** 0.5) * self.scale

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = finfo(self.loc.dtype).eps
        # u uniform in [eps - 1, 1), as torch's: |u| < 1, so the log stays finite
        u = _uniform(shape, dtype=self.loc.dtype, device=self.loc.device) * (2 - eps) + (eps - 1)
        return self.loc - self.scale * sign(u) * (-u.abs()).log1p()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        return 0.5 - 0.5 * sign(diff) * (-diff.abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * sign(term) * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()
