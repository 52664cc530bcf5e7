"""The relaxed (Concrete / Gumbel-softmax) families, as torch's: ``LogitRelaxedBernoulli``
and ``RelaxedBernoulli`` (values in (0, 1)), ``ExpRelaxedCategorical`` and
``RelaxedOneHotCategorical`` (values on the simplex); ``temperature`` a tensor (or a Python
number, which ``log_prob`` also takes, where torch's raises), and one of ``probs`` /
``logits``. Their rsample is differentiable in the logits (Maddison et al. 2017,
Jang et al. 2017).

Example::

    >>> from gpugrad.distributions import RelaxedOneHotCategorical
    >>> d = RelaxedOneHotCategorical(gpugrad.tensor(0.5), logits=gpugrad.zeros(3))
    >>> x = d.rsample((4,))
    >>> x.shape, [round(v, 4) for v in x.sum(-1).tolist()]
    ((4, 3), [1.0, 1.0, 1.0, 1.0])
"""

from __future__ import annotations

import numbers

from ..creation import full_like, tensor
from ..tensor import Tensor
from . import constraints
from .categorical import Categorical
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform, SigmoidTransform
from .utils import BinaryParameter, _uniform, broadcast_all, clamp_probs

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli", "ExpRelaxedCategorical",
           "RelaxedOneHotCategorical"]


def _check_temperature(temperature, name: str):
    if not isinstance(temperature, (Tensor, numbers.Number)):
        raise TypeError(f"{name}: temperature must be a gpugrad.Tensor or a Python number, "
                        f"got {type(temperature).__name__}; pass e.g. gpugrad.tensor(0.5)")
    return temperature


def _temperature_tensor(temperature, like):
    """``temperature`` as a tensor of ``like``'s dtype and device (a number converted)."""
    if isinstance(temperature, Tensor):
        return temperature
    return tensor(float(temperature), dtype=like.dtype, device=like.device)


class LogitRelaxedBernoulli(BinaryParameter, Distribution):
    """The logit of a RelaxedBernoulli: samples (logit(U) + logits) / temperature, U uniform.

    Example::

        >>> from gpugrad.distributions import LogitRelaxedBernoulli
        >>> d = LogitRelaxedBernoulli(gpugrad.tensor(1.0), probs=gpugrad.tensor([0.5]))
        >>> round(d.log_prob(gpugrad.tensor([0.0])).item(), 4)     # log(1/4), the logistic
        -1.3863
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.temperature = _check_temperature(temperature, "LogitRelaxedBernoulli")
        super().__init__(self._set_parameter(probs, logits), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogitRelaxedBernoulli, _instance)
        return self._expanded(new, batch_shape)

    @property
    def param_shape(self):
        return self._param.shape

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(shape))
        uniforms = clamp_probs(_uniform(shape, probs.dtype, probs.device))
        return (uniforms.log() - (-uniforms).log1p() + probs.log() - (-probs).log1p()
                ) / self.temperature

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        temperature = _temperature_tensor(self.temperature, logits)
        diff = logits - value * temperature
        return temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(TransformedDistribution):
    """sigmoid of a LogitRelaxedBernoulli: a relaxed Bernoulli with values in (0, 1).

    Example::

        >>> from gpugrad.distributions import RelaxedBernoulli
        >>> d = RelaxedBernoulli(gpugrad.tensor(2.0), probs=gpugrad.tensor([0.1, 0.9]))
        >>> x = d.rsample((3,))
        >>> x.shape, bool(((x > 0) & (x < 1)).all())
        ((3, 2), True)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base_dist = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base_dist, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(RelaxedBernoulli, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs


class ExpRelaxedCategorical(Distribution):
    """The log of a RelaxedOneHotCategorical sample: log_softmax((logits + G) / temperature),
    G standard Gumbel; event shape (K,).

    Example::

        >>> from gpugrad.distributions import ExpRelaxedCategorical
        >>> d = ExpRelaxedCategorical(gpugrad.tensor(1.0), probs=gpugrad.tensor([0.5, 0.5]))
        >>> round(d.rsample().exp().sum().item(), 4), d.event_shape
        (1.0, gpugrad.Size([2]))
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector     # (the true support is a submanifold of it)
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        self.temperature = _check_temperature(temperature, "ExpRelaxedCategorical")
        batch_shape = tuple(self._categorical.batch_shape)
        event_shape = tuple(self._categorical.param_shape[-1:])
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ExpRelaxedCategorical, _instance)
        batch_shape = tuple(batch_shape)
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        uniforms = clamp_probs(_uniform(shape, self.logits.dtype, self.logits.device))
        gumbels = -((-(uniforms.log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value):
        k = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        temperature = _temperature_tensor(self.temperature, logits)
        # log Gamma(K) + (K - 1) log temperature
        log_scale = full_like(temperature, float(k)).lgamma() + (k - 1) * temperature.log()
        score = logits - value * temperature
        score = (score - score.logsumexp(-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """exp of an ExpRelaxedCategorical: a relaxed one-hot vector on the simplex (the
    Gumbel-softmax).

    Example::

        >>> from gpugrad.distributions import RelaxedOneHotCategorical
        >>> d = RelaxedOneHotCategorical(gpugrad.tensor(1.0), probs=gpugrad.tensor([0.2, 0.8]))
        >>> d.batch_shape, d.event_shape
        (gpugrad.Size([]), gpugrad.Size([2]))
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base_dist = ExpRelaxedCategorical(temperature, probs, logits,
                                          validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(RelaxedOneHotCategorical, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs
