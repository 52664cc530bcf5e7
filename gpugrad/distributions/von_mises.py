"""``VonMises(loc, concentration)``, as torch's: the circular distribution with density
exp(k cos(x - loc)) / (2 pi I0(k)) on angles (``loc`` and values may be any real numbers,
read modulo 2 pi). ``log_prob`` takes log I0(k) = log(i0e(k)) + k (the exponentially scaled
Bessel function of gpugrad/ops/special_bessel.py: exact, and differentiable in k), where
torch evaluates a polynomial fit (they agree to about 1e-7). Samples come from torch's
rejection scheme (Best and Fisher, 1979), run in float64, with no gradient. ``mean`` and
``variance`` are the circular ones: ``loc`` and 1 - I1(k) / I0(k).

Example::

    >>> from gpugrad.distributions.von_mises import VonMises
    >>> d = VonMises(gpugrad.tensor([0.0]), gpugrad.tensor([1.0]))
    >>> [round(v, 4) for v in d.log_prob(gpugrad.tensor([0.0])).tolist()]   # 1 - log 2pi I0(1)
    [-1.0738]
    >>> [round(v, 4) for v in d.variance.tolist()]                          # 1 - I1(1) / I0(1)
    [0.5536]
"""

from __future__ import annotations

import math

from ..autograd.mode import no_grad
from ..creation import zeros
from ..ops.elementwise import where
from ..ops.special_bessel import i0e, i1e
from . import constraints
from .distribution import Distribution
from .utils import _uniform, broadcast_all, lazy_property

__all__ = ["VonMises"]


def _log_i0(k):
    """log I0(k) for k >= 0, without overflow: log(e^-k I0(k)) + k."""
    return i0e(k).log() + k


def _rejection_sample(loc, concentration, proposal_r, shape):
    """Best and Fisher's rejection sampler (torch's loop): every element redrawn until
    accepted; angles wrapped to [-pi, pi). All float64."""
    x = zeros(shape, dtype=loc.dtype, device=loc.device)
    done = zeros(shape, dtype="bool", device=loc.device)
    while not bool(done.all().item()):
        u = _uniform((3,) + tuple(shape), dtype=loc.dtype, device=loc.device)
        u1, u2, u3 = u[0], u[1], u[2]
        z = (math.pi * u1).cos()
        f = (1 + proposal_r * z) / (proposal_r + z)
        c = concentration * (proposal_r - f)
        accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
        accept = accept & ~done
        x = where(accept, (u3 - 0.5).sign() * f.acos(), x)
        done = done | accept
    return (x + math.pi + loc) % (2 * math.pi) - math.pi


class VonMises(Distribution):
    """The von Mises distribution with mean angle ``loc`` (radians) and ``concentration``
    k > 0, broadcast together: the batch shape.

    Example::

        >>> from gpugrad.distributions.von_mises import VonMises
        >>> _ = gpugrad.manual_seed(0)
        >>> x = VonMises(gpugrad.zeros(2), gpugrad.tensor([1.0, 50.0])).sample((1000,))
        >>> x.shape, bool((x.abs() <= 3.1416).all())
        ((1000, 2), True)
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(tuple(self.loc.shape), (), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(VonMises, _instance)
        batch_shape = tuple(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        k = self.concentration
        return k * (value - self.loc).cos() - math.log(2 * math.pi) - _log_i0(k)

    @lazy_property
    def _loc(self):
        return self.loc.astype("float64")

    @lazy_property
    def _concentration(self):
        return self.concentration.astype("float64")

    @lazy_property
    def _proposal_r(self):
        kappa = self._concentration
        tau = 1 + (1 + 4 * kappa.pow(2)).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
        proposal_r = (1 + rho.pow(2)) / (2 * rho)
        # second order Taylor expansion around 0 for small kappa
        return where(kappa < 1e-5, 1 / kappa + kappa, proposal_r)

    def sample(self, sample_shape=()):
        """Angles in [-pi, pi) of shape ``sample_shape + batch_shape``, in the parameters'
        dtype (drawn in float64: in float32 the sampler stalls for k below about 1e-4, as
        torch's notes). Reads ``done`` on the host once per round of the rejection loop."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            x = _rejection_sample(self._loc.detach(), self._concentration.detach(),
                                  self._proposal_r.detach(), shape)
            return x.astype(self.loc.dtype)

    @property
    def mean(self):
        """The circular mean, ``loc``."""
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        """The circular variance, 1 - I1(k) / I0(k)."""
        k = self.concentration
        return 1 - i1e(k) / i0e(k)
