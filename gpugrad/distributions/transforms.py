"""Transforms, as ``torch.distributions.transforms``: invertible maps y = t(x) with
``t.inv(y)`` and ``t.log_abs_det_jacobian(x, y)``, for ``TransformedDistribution``.
Here: ``ExpTransform``, ``AffineTransform``, ``SigmoidTransform``, ``TanhTransform``,
``ComposeTransform`` and ``identity_transform``.

Example::

    >>> from gpugrad.distributions.transforms import AffineTransform, ExpTransform
    >>> t = ExpTransform()
    >>> x = gpugrad.tensor([0.0, 1.0])
    >>> [round(v, 4) for v in t(x).tolist()], [round(v, 4) for v in t.inv(t(x)).tolist()]
    ([1.0, 2.7183], [0.0, 1.0])
    >>> AffineTransform(1.0, 2.0)(x).tolist()
    [1.0, 3.0]
"""

from __future__ import annotations

import math
import numbers

from ..creation import full_like
from ..nn.activation_functions import softplus
from ..ops.activation import sigmoid
from ..ops.rearrange import broadcast_shapes
from ..type_info import finfo
from . import constraints
from .transform_base import ComposeTransform, Transform, identity_transform

__all__ = ["Transform", "ComposeTransform", "ExpTransform", "AffineTransform",
           "SigmoidTransform", "TanhTransform", "identity_transform"]


class ExpTransform(Transform):
    """y = exp(x), from the reals to the positive reals."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def __eq__(self, other):
        return isinstance(other, ExpTransform)

    __hash__ = Transform.__hash__

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class SigmoidTransform(Transform):
    """y = sigmoid(x), clipped into (0, 1) as torch's."""

    domain = constraints.real
    codomain = constraints.unit_interval
    bijective = True
    sign = +1

    def __eq__(self, other):
        return isinstance(other, SigmoidTransform)

    __hash__ = Transform.__hash__

    def _call(self, x):
        info = finfo(x.dtype)
        return sigmoid(x).clamp(min=info.tiny, max=1.0 - info.eps)

    def _inverse(self, y):
        info = finfo(y.dtype)
        y = y.clamp(min=info.tiny, max=1.0 - info.eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    """y = tanh(x), from the reals to (-1, 1) (the squashing of SAC's policies)."""

    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = +1

    def __eq__(self, other):
        return isinstance(other, TanhTransform)

    __hash__ = Transform.__hash__

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return y.atanh()

    def log_abs_det_jacobian(self, x, y):
        # log(1 - tanh(x)^2), written stably (as torch's)
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AffineTransform(Transform):
    """y = loc + scale * x; ``event_dim``: how many rightmost dimensions form an event.

    Example::

        >>> from gpugrad.distributions.transforms import AffineTransform
        >>> t = AffineTransform(0.0, gpugrad.tensor([2.0, -4.0]))
        >>> [round(v, 4) for v in t.log_abs_det_jacobian(gpugrad.zeros(2), None).tolist()]
        [0.6931, 1.3863]
    """

    bijective = True

    def __init__(self, loc, scale, event_dim: int = 0, cache_size: int = 0):
        super().__init__(cache_size=cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    @property
    def event_dim(self) -> int:
        return self._event_dim

    @property
    def domain(self):
        if self.event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self.event_dim)

    codomain = domain

    def with_cache(self, cache_size: int = 1):
        if self._cache_size == cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self.event_dim, cache_size=cache_size)

    def __eq__(self, other):
        if not isinstance(other, AffineTransform):
            return False
        for a, b in ((self.loc, other.loc), (self.scale, other.scale)):
            if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
                if a != b:
                    return False
            elif not bool((a == b).all()):
                return False
        return True

    __hash__ = Transform.__hash__

    @property
    def sign(self):
        if isinstance(self.scale, numbers.Number):
            return 1 if self.scale > 0 else -1 if self.scale < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        shape = tuple(x.shape)
        if isinstance(self.scale, numbers.Number):
            result = full_like(x, math.log(abs(self.scale)))
        else:
            result = self.scale.abs().log()
        if self.event_dim:
            result = result.reshape(tuple(result.shape[:-self.event_dim]) + (-1,)).sum(-1)
            shape = shape[:-self.event_dim]
        return result.expand(shape)

    def forward_shape(self, shape):
        return broadcast_shapes(shape, getattr(self.loc, "shape", ()),
                                getattr(self.scale, "shape", ()))

    inverse_shape = forward_shape
