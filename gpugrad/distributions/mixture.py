"""``MixtureSameFamily(mixture_distribution, component_distribution)``, as torch's: a
mixture of k components of one family, chosen by a ``Categorical`` over k; the components
are one distribution whose rightmost batch dimension (of size k) indexes them. ``log_prob``
is logsumexp over the components of log_softmax(weights) + the component's log density;
``mean``, ``variance`` (the law of total variance) and ``cdf`` are the weighted sums;
``sample`` picks a component per draw (no gradient; there is no ``rsample``, as torch's).

Example::

    >>> from gpugrad.distributions import Categorical, Normal
    >>> from gpugrad.distributions.mixture import MixtureSameFamily
    >>> mix = Categorical(probs=gpugrad.tensor([0.5, 0.5]))
    >>> gmm = MixtureSameFamily(mix, Normal(gpugrad.tensor([-1.0, 1.0]), gpugrad.ones(2)))
    >>> gmm.batch_shape, gmm.mean.item(), gmm.variance.item()                  # 1 + 1
    (gpugrad.Size([]), 0.0, 2.0)
    >>> round(gmm.cdf(gpugrad.tensor(0.0)).item(), 4)
    0.5
"""

from __future__ import annotations

from ..autograd.mode import no_grad
from ..ops.activation import log_softmax
from . import constraints
from .categorical import Categorical
from .distribution import Distribution

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    """A (batch of) mixture(s): ``mixture_distribution`` a ``Categorical`` over k with batch
    shape () or ``component_distribution.batch_shape[:-1]`` (broadcastable), and
    ``component_distribution`` any distribution of batch shape ``(..., k)``. Batch shape:
    the components' less the last; event shape: the components'.

    Example::

        >>> from gpugrad.distributions import Categorical, Independent, Normal
        >>> from gpugrad.distributions.mixture import MixtureSameFamily
        >>> mix = Categorical(logits=gpugrad.zeros(3, 5))
        >>> comp = Independent(Normal(gpugrad.zeros(3, 5, 2), gpugrad.ones(3, 5, 2)), 1)
        >>> gmm = MixtureSameFamily(mix, comp)
        >>> gmm.batch_shape, gmm.event_shape, gmm.sample((4,)).shape
        (gpugrad.Size([3]), gpugrad.Size([2]), (4, 3, 2))
        >>> gmm.log_prob(gpugrad.zeros(4, 3, 2)).shape
        (4, 3)
    """

    arg_constraints = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(f"The mixture distribution must be a "
                             f"gpugrad.distributions.Categorical, got "
                             f"{type(mixture_distribution).__name__}")
        if not isinstance(component_distribution, Distribution):
            raise ValueError(f"The component distribution must be a "
                             f"gpugrad.distributions.Distribution, got "
                             f"{type(component_distribution).__name__}")
        mdbs = mixture_distribution._batch_shape
        cdbs = component_distribution._batch_shape[:-1]
        for size1, size2 in zip(reversed(mdbs), reversed(cdbs)):
            if size1 != 1 and size2 != 1 and size1 != size2:
                raise ValueError(f"`mixture_distribution.batch_shape` ({mdbs}) is not "
                                 f"compatible with `component_distribution.batch_shape` "
                                 f"({cdbs}): they must broadcast, after dropping the "
                                 f"components' last (mixture) dimension")
        km = mixture_distribution.logits.shape[-1]
        kc = component_distribution._batch_shape[-1] if component_distribution._batch_shape \
            else None
        if km != kc:
            raise ValueError(f"`mixture_distribution` has {km} components but "
                             f"`component_distribution.batch_shape[-1]` is {kc}: the "
                             f"components' rightmost batch dimension indexes the mixture")
        self._num_component = km
        event_shape = component_distribution._event_shape
        self._event_ndims = len(event_shape)
        super().__init__(cdbs, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = tuple(batch_shape)
        new = self._get_checked_instance(MixtureSameFamily, _instance)
        new._component_distribution = self._component_distribution.expand(
            batch_shape + (self._num_component,))
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._num_component = self._num_component
        new._event_ndims = self._event_ndims
        Distribution.__init__(new, batch_shape, new._component_distribution._event_shape,
                              validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property
    def support(self):
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    @property
    def mixture_distribution(self):
        return self._mixture_distribution

    @property
    def component_distribution(self):
        return self._component_distribution

    @property
    def mean(self):
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        return (probs * self.component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        # Var = E[Var(X | component)] + Var(E[X | component])
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        comp = self.component_distribution
        mean_cond_var = (probs * comp.variance).sum(-1 - self._event_ndims)
        var_cond_mean = (probs * (comp.mean - self._pad(self.mean)).pow(2.0)).sum(
            -1 - self._event_ndims)
        return mean_cond_var + var_cond_mean

    def cdf(self, x):
        """sum_k w_k F_k(x), of shape ``sample_shape + batch_shape`` (components with a
        ``cdf``, event shape ())."""
        cdf_x = self.component_distribution.cdf(self._pad(x))
        return (cdf_x * self.mixture_distribution.probs).sum(-1)

    def log_prob(self, x):
        """log sum_k w_k p_k(x), by logsumexp over the components."""
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self.component_distribution.log_prob(self._pad(x))   # [S, B, k]
        log_mix_prob = log_softmax(self.mixture_distribution.logits, -1)    # [B, k]
        return (log_prob_x + log_mix_prob).logsumexp(-1)                    # [S, B]

    def sample(self, sample_shape=()):
        """Draws of ``sample_shape + batch_shape + event_shape``: a component index per
        draw from the mixture, then that component's draw (all components are drawn)."""
        sample_shape = tuple(sample_shape)
        with no_grad():
            gather_dim = len(sample_shape) + len(self._batch_shape)
            es = self._event_shape
            mix = self.mixture_distribution
            if mix._batch_shape != self._batch_shape:   # a draw of its own per batch entry
                mix = mix.expand(self._batch_shape)
            mix_sample = mix.sample(sample_shape)                               # [S, B]
            comp_samples = self.component_distribution.sample(sample_shape)  # [S, B, k, E]
            index = mix_sample.reshape(tuple(mix_sample.shape) + (1,) * (len(es) + 1))
            index = index.expand(tuple(mix_sample.shape) + (1,) + es)
            return comp_samples.gather(gather_dim, index).squeeze(gather_dim)

    def _pad(self, x):
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture_dimensions(self, x):
        dist_batch_ndims = len(self._batch_shape)
        cat_batch_ndims = len(self.mixture_distribution._batch_shape)
        pad_ndims = 0 if cat_batch_ndims == 1 else dist_batch_ndims - cat_batch_ndims
        xs = tuple(x.shape)
        return x.reshape(xs[:-1] + (1,) * pad_ndims + xs[-1:] + (1,) * self._event_ndims)

    def __repr__(self):
        return (f"MixtureSameFamily(\n  {self.mixture_distribution},\n  "
                f"{self.component_distribution})")
