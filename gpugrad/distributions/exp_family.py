"""``ExponentialFamily``, as torch's: the base of families with density
exp(<t(x), theta> - F(theta) + k(x)); from ``_natural_params`` (theta), ``_log_normalizer``
(F) and ``_mean_carrier_measure`` (E[k(x)]) it gives ``entropy()`` and, between two of the
same family, ``kl_divergence`` (a Bregman divergence of F, by autograd).

Example::

    >>> from gpugrad.distributions import ExponentialFamily
    >>> class UnitNormal(ExponentialFamily):        # N(mu, 1): theta = mu, F = theta^2 / 2
    ...     arg_constraints = {}
    ...     def __init__(self, mu):
    ...         self.mu = mu
    ...         super().__init__(tuple(mu.shape))
    ...     _natural_params = property(lambda self: (self.mu,))
    ...     _log_normalizer = staticmethod(lambda theta: theta * theta / 2)
    ...     _mean_carrier_measure = -0.5 * (1 + 1.8378770664093453)   # -(1 + log 2 pi) / 2
    >>> round(UnitNormal(gpugrad.zeros(1)).entropy().item(), 4)      # (1 + log 2 pi) / 2
    1.4189
"""

from __future__ import annotations

from ..autograd.engine import grad
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Subclasses give ``_natural_params`` (a tuple of tensors), ``_log_normalizer(*theta)``
    and ``_mean_carrier_measure``; ``entropy`` and same-family KL follow."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """-E[k(x)] + F(theta) - <theta, grad F(theta)>, per batch element."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for theta, g in zip(nparams, gradients):
            result = result - (theta * g).reshape(self._batch_shape + (-1,)).sum(-1)
        return result
