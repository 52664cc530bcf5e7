"""What the location-scale families (Normal, Laplace) share: ``loc`` and ``scale``
broadcast together into the batch shape, ``expand``, and the mean and mode at ``loc``.

Example::

    >>> from gpugrad.distributions import Laplace, Normal
    >>> tuple(Normal(gpugrad.zeros(3), 2.0).batch_shape), Laplace(1.0, 2.0).mode.item()
    ((3,), 1.0)
"""

from __future__ import annotations

import numbers

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["LocationScale"]


class LocationScale(Distribution):
    """A family with a real location ``loc`` and a positive ``scale`` (broadcast together;
    the batch shape is theirs, () for two numbers), reparameterised."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        if isinstance(loc, numbers.Number) and isinstance(scale, numbers.Number):
            batch_shape = ()
        else:
            batch_shape = tuple(self.loc.shape)
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(_family(type(self)), _instance)
        batch_shape = tuple(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc


def _family(cls):
    """The family class (Normal, Laplace) that ``cls`` is or derives from: a subclass with
    its own ``__init__`` must bring its own ``expand``, as PyTorch's rule."""
    return next(c for c in cls.__mro__ if LocationScale in c.__bases__)
