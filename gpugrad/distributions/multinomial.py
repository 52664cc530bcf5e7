"""``Multinomial(total_count=1, probs=None, logits=None)``, as torch's: the counts of each of
K categories in ``total_count`` independent draws of a categorical (event shape (K,)).
``probs`` are normalised over the last dimension and ``logits`` are unnormalised log
probabilities, as ``Categorical``'s. ``sample`` needs the one int ``total_count``;
``log_prob`` takes n from each value (its sum), so any total works there. Samples are
float counts with no gradient; ``log_prob`` and ``entropy`` are differentiable.

Example::

    >>> from gpugrad.distributions.multinomial import Multinomial
    >>> d = Multinomial(4, probs=gpugrad.tensor([1.0, 1.0, 2.0]))
    >>> d.mean.tolist(), d.variance.tolist()
    ([1.0, 1.0, 2.0], [0.75, 0.75, 1.0])
    >>> round(d.log_prob(gpugrad.tensor([1.0, 1.0, 2.0])).exp().item(), 4)  # 12 / 4^2 / 4
    0.1875
"""

from __future__ import annotations

import math

from ..autograd.mode import no_grad
from ..creation import ones_like, tensor, zeros
from ..ops.elementwise import where
from ..ops.scatter_ops import scatter_add
from ..ops.special_gamma import lgamma
from . import constraints
from .categorical import Categorical
from .discrete import Binomial
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    """The multinomial distribution with ``total_count`` trials (a Python int) over the
    categories of ``probs`` or ``logits`` (..., K); batch shape: the parameter's but the
    last dimension.

    Example::

        >>> from gpugrad.distributions.multinomial import Multinomial
        >>> _ = gpugrad.manual_seed(0)
        >>> x = Multinomial(10, logits=gpugrad.zeros(2, 3)).sample((4,))
        >>> x.shape, x.sum(-1).tolist()[0]
        ((4, 2, 3), [10.0, 10.0])
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int) or isinstance(total_count, bool):
            raise NotImplementedError(
                f"inhomogeneous total_count is not supported: Multinomial takes one Python "
                f"int total_count (got {type(total_count).__name__}); for per-batch totals "
                f"call log_prob, which reads n from each value's sum")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs,
                                  validate_args=False)
        batch_shape = self._categorical._batch_shape
        event_shape = tuple(self._categorical.param_shape[-1:])
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = tuple(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        new._binomial = Binomial(total_count=new.total_count, probs=new.probs,
                                 validate_args=False)
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        """Counts of shape ``sample_shape + batch_shape + (K,)`` summing to total_count:
        ``total_count`` categorical draws per sample, counted (as torch's)."""
        sample_shape = tuple(sample_shape)
        with no_grad():
            draws = self._categorical.sample((self.total_count,) + sample_shape)
            draws = draws.movedim(0, -1)                # (*sample, *batch, total_count)
            dtype = self.probs.dtype
            counts = zeros(self._extended_shape(sample_shape), dtype=dtype,
                           device=self.probs.device)
            if self.total_count == 0:
                return counts
            return scatter_add(counts, -1, draws, ones_like(draws, dtype=dtype))

    def entropy(self):
        n = tensor(float(self.total_count), dtype=self.probs.dtype, device=self.probs.device)
        term1 = n * self._categorical.entropy() - lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = lgamma(support + 1)
        return term1 + (binomial_probs * weights).sum((0, -1))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = lgamma(value.sum(-1) + 1)
        log_factorial_xs = lgamma(value + 1).sum(-1)
        # a category of probability 0 drawn 0 times contributes 0 (not 0 * -inf)
        logits = where((value == 0) & (logits == -math.inf), 0.0, logits)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)
