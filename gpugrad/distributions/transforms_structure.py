"""Transforms built from other transforms or from a distribution, as
``torch.distributions.transforms``: ``IndependentTransform`` (more dimensions in each event),
``ReshapeTransform`` (the event reshaped), ``CatTransform`` and ``StackTransform`` (one
transform per slice along a dimension) and ``CumulativeDistributionTransform`` (a
distribution's cdf). Import them from ``gpugrad.distributions.transforms``.

Example::

    >>> from gpugrad.distributions.transforms import (CatTransform, ExpTransform,
    ...                                                identity_transform)
    >>> t = CatTransform([ExpTransform(), identity_transform], dim=0, lengths=[1, 2])
    >>> t(gpugrad.tensor([0.0, 5.0, 6.0])).tolist()
    [1.0, 5.0, 6.0]
"""

from __future__ import annotations

import math

from ..ops.shape import concatenate, stack
from . import constraints
from .transform_base import Transform
from .utils import _sum_rightmost

__all__ = ["IndependentTransform", "ReshapeTransform", "CatTransform", "StackTransform",
           "CumulativeDistributionTransform"]


def _check_transforms(tseq, name):
    if not all(isinstance(t, Transform) for t in tseq):
        raise TypeError(f"{name} takes a sequence of Transforms, got "
                        f"{[type(t).__name__ for t in tseq]}")


class IndependentTransform(Transform):
    """``base_transform`` with ``reinterpreted_batch_ndims`` more rightmost dimensions in
    each event: the same map, its log |det Jacobian| summed over those dimensions.

    Example::

        >>> from gpugrad.distributions.transforms import ExpTransform, IndependentTransform
        >>> t = IndependentTransform(ExpTransform(), 1)
        >>> x = gpugrad.tensor([[1.0, 2.0]])                       # (batch, event) = (1, 2)
        >>> t.log_abs_det_jacobian(x, t(x)).tolist(), t.event_dim
        ([3.0], 1)
    """

    def __init__(self, base_transform, reinterpreted_batch_ndims: int, cache_size: int = 0):
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def with_cache(self, cache_size: int = 1):
        if self._cache_size == cache_size:
            return self
        return IndependentTransform(self.base_transform, self.reinterpreted_batch_ndims,
                                    cache_size=cache_size)

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        return constraints.independent(self.base_transform.domain,
                                       self.reinterpreted_batch_ndims)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        return constraints.independent(self.base_transform.codomain,
                                       self.reinterpreted_batch_ndims)

    @property
    def bijective(self):
        return self.base_transform.bijective

    @property
    def sign(self):
        return self.base_transform.sign

    def _call(self, x):
        if x.ndim < self.domain.event_dim:
            raise ValueError(f"Too few dimensions on input: {tuple(x.shape)} for an event of "
                             f"{self.domain.event_dim} dimensions")
        return self.base_transform(x)

    def _inverse(self, y):
        if y.ndim < self.codomain.event_dim:
            raise ValueError(f"Too few dimensions on input: {tuple(y.shape)} for an event of "
                             f"{self.codomain.event_dim} dimensions")
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x, y):
        return _sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y),
                              self.reinterpreted_batch_ndims)

    def __repr__(self):
        return f"{type(self).__name__}({self.base_transform!r}, " \
               f"{self.reinterpreted_batch_ndims})"

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)


class ReshapeTransform(Transform):
    """The rightmost ``in_shape`` of a tensor reshaped to ``out_shape`` (same number of
    elements); its log |det Jacobian| is 0 (of the batch shape).

    Example::

        >>> from gpugrad.distributions.transforms import ReshapeTransform
        >>> t = ReshapeTransform((4,), (2, 2))
        >>> t(gpugrad.zeros(3, 4)).shape, t.inverse_shape((3, 2, 2))
        ((3, 2, 2), (3, 4))
    """

    bijective = True

    def __init__(self, in_shape, out_shape, cache_size: int = 0):
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        if math.prod(self.in_shape) != math.prod(self.out_shape):
            raise ValueError(f"ReshapeTransform: in_shape {self.in_shape} and out_shape "
                             f"{self.out_shape} have different numbers of elements")
        super().__init__(cache_size=cache_size)

    @constraints.dependent_property
    def domain(self):
        return constraints.independent(constraints.real, len(self.in_shape))

    @constraints.dependent_property
    def codomain(self):
        return constraints.independent(constraints.real, len(self.out_shape))

    def with_cache(self, cache_size: int = 1):
        if self._cache_size == cache_size:
            return self
        return ReshapeTransform(self.in_shape, self.out_shape, cache_size=cache_size)

    def _call(self, x):
        batch_shape = tuple(x.shape[:x.ndim - len(self.in_shape)])
        return x.reshape(batch_shape + self.out_shape)

    def _inverse(self, y):
        batch_shape = tuple(y.shape[:y.ndim - len(self.out_shape)])
        return y.reshape(batch_shape + self.in_shape)

    def log_abs_det_jacobian(self, x, y):
        return x.new_zeros(tuple(x.shape[:x.ndim - len(self.in_shape)]))

    @staticmethod
    def _swap(shape, old, new):
        shape = tuple(shape)
        if len(shape) < len(old):
            raise ValueError(f"Too few dimensions on input: {shape} for an event of shape "
                             f"{old}")
        cut = len(shape) - len(old)
        if shape[cut:] != old:
            raise ValueError(f"Shape mismatch: expected {shape[cut:]} but got {old}")
        return shape[:cut] + new

    def forward_shape(self, shape):
        return self._swap(shape, self.in_shape, self.out_shape)

    def inverse_shape(self, shape):
        return self._swap(shape, self.out_shape, self.in_shape)


def _check_slices(dim, size, want, name, what):
    if not -len(size) <= dim < len(size):
        raise ValueError(f"{name}: dim {dim} is out of range for {what} of shape {size}")
    if size[dim] != want:
        raise ValueError(f"{name}: {what}.shape[{dim}] = {size[dim]} but the transforms "
                         f"cover {want}; give a tensor of that size along dim {dim}")


class CatTransform(Transform):
    """``tseq[i]`` applied to the ``lengths[i]`` slices along ``dim``, joined as ``cat``.

    Example::

        >>> from gpugrad.distributions.transforms import CatTransform, ExpTransform
        >>> t = CatTransform([ExpTransform(), ExpTransform()], dim=0, lengths=[1, 1])
        >>> x = gpugrad.tensor([0.0, 1.0])
        >>> t.log_abs_det_jacobian(x, t(x)).tolist()
        [0.0, 1.0]
    """

    def __init__(self, tseq, dim: int = 0, lengths=None, cache_size: int = 0):
        _check_transforms(tseq, "CatTransform")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        self.lengths = [1] * len(self.transforms) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise ValueError(f"CatTransform: {len(self.lengths)} lengths for "
                             f"{len(self.transforms)} transforms; give one per transform")
        self.dim = dim

    @property
    def event_dim(self):
        return max(t.event_dim for t in self.transforms)

    @property
    def length(self):
        return sum(self.lengths)

    def with_cache(self, cache_size: int = 1):
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _map(self, z, inverse):
        _check_slices(self.dim, tuple(z.shape), self.length, "CatTransform", "the input")
        out, start = [], 0
        for t, length in zip(self.transforms, self.lengths):
            piece = z.narrow(self.dim, start, length)
            out.append(t.inv(piece) if inverse else t(piece))
            start = start + length
        return concatenate(out, self.dim)

    def _call(self, x):
        return self._map(x, False)

    def _inverse(self, y):
        return self._map(y, True)

    def log_abs_det_jacobian(self, x, y):
        _check_slices(self.dim, tuple(x.shape), self.length, "CatTransform", "x")
        _check_slices(self.dim, tuple(y.shape), self.length, "CatTransform", "y")
        terms, start = [], 0
        for t, length in zip(self.transforms, self.lengths):
            term = t.log_abs_det_jacobian(x.narrow(self.dim, start, length),
                                          y.narrow(self.dim, start, length))
            if t.event_dim < self.event_dim:
                term = _sum_rightmost(term, self.event_dim - t.event_dim)
            terms.append(term)
            start = start + length
        # dim inside the batch: the pieces join along it; inside the event: they add
        dim = self.dim - x.ndim if self.dim >= 0 else self.dim
        dim = dim + self.event_dim
        if dim < 0:
            return concatenate(terms, dim)
        return sum(terms)

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @constraints.dependent_property
    def codomain(self):
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """``tseq[i]`` applied to the i-th slice along ``dim``, joined as ``stack``.

    Example::

        >>> from gpugrad.distributions.transforms import (ExpTransform, StackTransform,
        ...                                                identity_transform)
        >>> t = StackTransform([ExpTransform(), identity_transform], dim=1)
        >>> t(gpugrad.tensor([[0.0, 3.0]])).tolist()
        [[1.0, 3.0]]
    """

    def __init__(self, tseq, dim: int = 0, cache_size: int = 0):
        _check_transforms(tseq, "StackTransform")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms, self.dim = list(tseq), dim

    def with_cache(self, cache_size: int = 1):
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _slice(self, z, what):
        _check_slices(self.dim, tuple(z.shape), len(self.transforms), "StackTransform", what)
        return [z.select(self.dim, i) for i in range(z.shape[self.dim])]

    def _call(self, x):
        return stack([t(p) for p, t in zip(self._slice(x, "the input"), self.transforms)],
                     self.dim)

    def _inverse(self, y):
        return stack([t.inv(p) for p, t in zip(self._slice(y, "the input"), self.transforms)],
                     self.dim)

    def log_abs_det_jacobian(self, x, y):
        pieces = zip(self._slice(x, "x"), self._slice(y, "y"), self.transforms)
        return stack([t.log_abs_det_jacobian(a, b) for a, b, t in pieces], self.dim)

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @constraints.dependent_property
    def codomain(self):
        return constraints.stack([t.codomain for t in self.transforms], self.dim)


class CumulativeDistributionTransform(Transform):
    """y = distribution.cdf(x), from the distribution's support onto the unit interval
    (a copula's margins); its log |det Jacobian| is the log density.

    Example::

        >>> from gpugrad.distributions import Normal
        >>> from gpugrad.distributions.transforms import CumulativeDistributionTransform
        >>> t = CumulativeDistributionTransform(Normal(0.0, 1.0))
        >>> t(gpugrad.tensor([0.0])).tolist()
        [0.5]
    """

    bijective = True
    codomain = constraints.unit_interval
    sign = +1

    def __init__(self, distribution, cache_size: int = 0):
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    @property
    def domain(self):
        return self.distribution.support

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)

    def with_cache(self, cache_size: int = 1):
        if self._cache_size == cache_size:
            return self
        return CumulativeDistributionTransform(self.distribution, cache_size=cache_size)
