"""Transforms, as ``torch.distributions.transforms``: invertible maps y = t(x) with
``t.inv(y)`` and ``t.log_abs_det_jacobian(x, y)``, for ``TransformedDistribution``.
The element-wise maps are here (``ExpTransform``, ``AffineTransform``, ``SigmoidTransform``,
``TanhTransform``, ``AbsTransform``, ``PowerTransform``, ``SoftplusTransform``); the maps onto
simplices and matrices (``SoftmaxTransform``, ``StickBreakingTransform``,
``LowerCholeskyTransform``, ``PositiveDefiniteTransform``, ``CorrCholeskyTransform``) are in
transforms_vector.py; the functors (``IndependentTransform``, ``ReshapeTransform``,
``CatTransform``, ``StackTransform``, ``CumulativeDistributionTransform``) in
transforms_structure.py; ``Transform``, ``ComposeTransform`` and ``identity_transform`` in
transform_base.py. All are importable from here, as torch's.

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
from .transform_base import (ComposeTransform, ParameterFreeTransform, Transform,
                             identity_transform)
from .transforms_structure import (CatTransform, CumulativeDistributionTransform,
                                   IndependentTransform, ReshapeTransform, StackTransform)
from .transforms_vector import (CorrCholeskyTransform, LowerCholeskyTransform,
                                PositiveDefiniteTransform, SoftmaxTransform,
                                StickBreakingTransform)
from .utils import broadcast_all, lazy_property

__all__ = ["AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform",
           "CorrCholeskyTransform", "CumulativeDistributionTransform", "ExpTransform",
           "IndependentTransform", "LowerCholeskyTransform", "PositiveDefiniteTransform",
           "PowerTransform", "ReshapeTransform", "SigmoidTransform", "SoftplusTransform",
           "TanhTransform", "SoftmaxTransform", "StackTransform", "StickBreakingTransform",
           "Transform", "identity_transform"]


class ExpTransform(ParameterFreeTransform):
    """y = exp(x), from the reals to the positive reals."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class SigmoidTransform(ParameterFreeTransform):
    """y = sigmoid(x), clipped into (0, 1) as torch's."""

    domain = constraints.real
    codomain = constraints.unit_interval
    bijective = True
    sign = +1

    def _call(self, x):
        info = finfo(x.dtype)
        return sigmoid(x).clamp(min=info.tiny, max=1.0 - info.eps)

    def _inverse(self, y):
        info = finfo(y.dtype)
        y = y.clamp(min=info.tiny, max=1.0 - info.eps)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


class TanhTransform(ParameterFreeTransform):
    """y = tanh(x), from the reals to (-1, 1) (the squashing of SAC's policies)."""

    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = +1

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return y.atanh()

    def log_abs_det_jacobian(self, x, y):
        # log(1 - tanh(x)^2), written stably (as torch's)
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AbsTransform(ParameterFreeTransform):
    """y = |x|, from the reals onto the positive reals; not bijective (``inv`` is the
    identity, the non-negative preimage), and without a log |det Jacobian| (as torch's).

    Example::

        >>> from gpugrad.distributions.transforms import AbsTransform
        >>> AbsTransform()(gpugrad.tensor([-2.0, 3.0])).tolist()
        [2.0, 3.0]
    """

    domain = constraints.real
    codomain = constraints.positive

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y


class PowerTransform(Transform):
    """y = x ** exponent on the positive reals; ``exponent`` a number or tensor (shape
    broadcast with x's), ``sign`` its sign.

    Example::

        >>> from gpugrad.distributions.transforms import PowerTransform
        >>> t = PowerTransform(2.0)
        >>> t(gpugrad.tensor([3.0])).tolist(), t.inv(gpugrad.tensor([16.0])).tolist()
        ([9.0], [4.0])
        >>> round(t.log_abs_det_jacobian(gpugrad.tensor(3.0), t(gpugrad.tensor(3.0))).item(), 4)
        1.7918
    """

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent, cache_size: int = 0):
        super().__init__(cache_size=cache_size)
        (self.exponent,) = broadcast_all(exponent)

    def with_cache(self, cache_size: int = 1):
        if self._cache_size == cache_size:
            return self
        return PowerTransform(self.exponent, cache_size=cache_size)

    @lazy_property
    def sign(self):
        return self.exponent.sign()

    def __eq__(self, other):
        if not isinstance(other, PowerTransform):
            return False
        return bool((self.exponent == other.exponent).all())

    __hash__ = Transform.__hash__

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        # |d x^a / dx| = |a x^(a-1)| = |a y / x|
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape):
        return broadcast_shapes(shape, tuple(self.exponent.shape))

    inverse_shape = forward_shape


class SoftplusTransform(ParameterFreeTransform):
    """y = log(1 + exp(x)) (linear past x > 20, as torch's), from the reals to the positive
    reals.

    Example::

        >>> from gpugrad.distributions.transforms import SoftplusTransform
        >>> t = SoftplusTransform()
        >>> round(t(gpugrad.tensor(0.0)).item(), 4), round(t.inv(t(gpugrad.tensor(2.0))).item(), 4)
        (0.6931, 2.0)
    """

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def _call(self, x):
        return softplus(x)

    def _inverse(self, y):
        # x = log(exp(y) - 1) = y + log(1 - exp(-y))
        return (-y).expm1().neg().log() + y

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x)           # log sigmoid(x)


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
