"""``Categorical``, ``OneHotCategorical`` and ``OneHotCategoricalStraightThrough``, as
torch's: a choice among K categories with probabilities ``probs`` (normalised over the last
dimension) or ``logits`` (normalised as torch: logits - logsumexp(logits)). Batch shape: the
parameter's shape but the last.

Example::

    >>> from gpugrad.distributions import Categorical
    >>> d = Categorical(probs=gpugrad.tensor([1.0, 1.0, 2.0]))      # -> [0.25, 0.25, 0.5]
    >>> [round(v, 4) for v in d.log_prob(gpugrad.tensor([0, 2])).tolist()]
    [-1.3863, -0.6931]
    >>> round(d.entropy().item(), 4), d.sample((5,)).shape
    (1.0397, (5,))
"""

from __future__ import annotations

import math

from ..autograd.mode import no_grad
from ..creation import arange, eye, full
from ..ops.rearrange import broadcast_tensors
from ..ops.searching import searchsorted
from ..type_info import finfo
from . import constraints
from .distribution import Distribution
from .utils import _uniform, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Categorical", "OneHotCategorical", "OneHotCategoricalStraightThrough"]


class Categorical(Distribution):
    """A distribution over the indices 0 .. K-1 (samples are int64, event shape ()).

    Example::

        >>> from gpugrad.distributions import Categorical
        >>> d = Categorical(logits=gpugrad.tensor([[0.0, 0.0], [0.0, 100.0]]))
        >>> d.batch_shape, d.mode.tolist()
        (gpugrad.Size([2]), [0, 1])
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        batch_shape = tuple(self._param.shape[:-1])
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = tuple(batch_shape)
        param_shape = batch_shape + (self._num_events,)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(param_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(param_shape)
            new._param = new.logits
        new._num_events = self._num_events
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return tuple(self._param.shape)

    @property
    def mean(self):
        return full(self._extended_shape(), math.nan, dtype=self.probs.dtype,
                    device=self.probs.device)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return full(self._extended_shape(), math.nan, dtype=self.probs.dtype,
                    device=self.probs.device)

    def sample(self, sample_shape=()):
        # inverse cdf: the index is how many cdf values are <= u (a binary search,
        # searchsorted right); the cdf is divided by its last value, which is then exactly
        # 1 > u, and a zero-probability category repeats the value before it, so it is never
        # chosen. O(samples log K), as torch's multinomial; inside vmap (no searchsorted
        # there) the count of cdf <= u, O(samples K)
        with no_grad():
            probs = self.probs.detach()
            cdf = probs.cumsum(-1)
            cdf = cdf / cdf[..., -1:]
            u = _uniform(self._extended_shape(sample_shape), dtype=probs.dtype,
                         device=probs.device)
            if cdf._batched or u._batched:
                return (cdf <= u.unsqueeze(-1)).sum(-1).astype("int64")
            batch = cdf.ndim - 1
            if batch == 0:
                return searchsorted(cdf, u, right=True)
            samples = u.ndim - batch            # (*sample, *batch) -> (*batch, samples)
            queries = u.reshape((-1,) + tuple(u.shape[samples:])).movedim(0, -1)
            found = searchsorted(cdf, queries.contiguous(), right=True)
            return found.movedim(-1, 0).reshape(u.shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True):
        values = arange(self._num_events, dtype="int64", device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + self._batch_shape)
        return values


class OneHotCategorical(Distribution):
    """A categorical distribution whose samples are one-hot vectors (event shape (K,)).

    Example::

        >>> from gpugrad.distributions import OneHotCategorical
        >>> d = OneHotCategorical(probs=gpugrad.tensor([0.0, 1.0, 0.0]))
        >>> d.sample().tolist(), d.event_shape
        ([0.0, 1.0, 0.0], gpugrad.Size([3]))
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        batch_shape = self._categorical._batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = tuple(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        probs = self._categorical.probs
        return self._one_hot(probs.argmax(-1), probs.dtype)

    @property
    def variance(self):
        return self._categorical.probs * (1 - self._categorical.probs)

    def _one_hot(self, indices, dtype):
        classes = arange(self._categorical._num_events, device=indices.device)
        return (indices.unsqueeze(-1) == classes).astype(dtype)

    def sample(self, sample_shape=()):
        indices = self._categorical.sample(sample_shape)
        return self._one_hot(indices, self._categorical.probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True):
        n = self._event_shape[0]
        values = eye(n, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((n,) + (1,) * len(self._batch_shape) + (n,))
        if expand:
            values = values.expand((n,) + self._batch_shape + (n,))
        return values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """A OneHotCategorical with a straight-through ``rsample`` (Bengio et al., 2013): the
    value is a one-hot sample, the gradient that of ``probs`` (sample + probs - probs
    detached), as torch's. Shapes as OneHotCategorical's.

    Example::

        >>> from gpugrad.distributions import OneHotCategoricalStraightThrough
        >>> logits = gpugrad.zeros(3, requires_grad=True)
        >>> d = OneHotCategoricalStraightThrough(logits=logits)
        >>> x = d.rsample()
        >>> x.sum().item(), x.requires_grad
        (1.0, True)
    """

    has_rsample = True

    def rsample(self, sample_shape=()):
        """One-hot samples of ``sample_shape + batch_shape + (K,)`` that carry the gradient
        of ``probs`` (the straight-through estimator)."""
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
