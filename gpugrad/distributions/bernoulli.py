"""``Bernoulli(probs=None, logits=None)``, as ``torch.distributions.Bernoulli``: 1 with
probability ``probs`` (or sigmoid(``logits``)), else 0. Give exactly one of the two; the
other is computed on first read.

Example::

    >>> from gpugrad.distributions import Bernoulli
    >>> d = Bernoulli(probs=gpugrad.tensor([0.25, 0.5]))
    >>> [round(v, 4) for v in d.log_prob(gpugrad.tensor([1.0, 0.0])).tolist()]
    [-1.3863, -0.6931]
    >>> [round(v, 4) for v in Bernoulli(logits=gpugrad.tensor([0.0])).entropy().tolist()]
    [0.6931]
"""

from __future__ import annotations

import math

from ..autograd.mode import no_grad
from ..creation import arange
from ..nn.activation_functions import softplus
from ..ops.elementwise import where
from . import constraints
from .exp_family import ExponentialFamily
from .utils import BinaryParameter, _uniform, broadcast_all, probs_to_logits

__all__ = ["Bernoulli"]


class Bernoulli(BinaryParameter, ExponentialFamily):
    """The Bernoulli distribution over {0, 1} (batch shape: the parameter's).

    Example::

        >>> from gpugrad.distributions import Bernoulli
        >>> Bernoulli(probs=gpugrad.tensor([0.0, 1.0])).sample().tolist()
        [0.0, 1.0]
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None):
        super().__init__(self._set_parameter(probs, logits), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(self._get_checked_instance(Bernoulli, _instance), batch_shape)

    @property
    def param_shape(self):
        return tuple(self._param.shape)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).astype(self.probs.dtype)
        return where(self.probs == 0.5, math.nan, mode)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            probs = self.probs.detach()
            u = _uniform(shape, dtype=probs.dtype, device=probs.device)
            return (u < probs).astype(probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # -binary_cross_entropy_with_logits(logits, value)
        return value * logits - softplus(logits)

    def entropy(self):
        return softplus(self.logits) - self.probs * self.logits

    @property
    def _natural_params(self):
        return (probs_to_logits(self.probs, is_binary=True),)    # torch's logit(probs)

    def _log_normalizer(self, x):
        return softplus(x, threshold=float("inf"))               # log(1 + e^x)

    def enumerate_support(self, expand: bool = True):
        values = arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + self._batch_shape)
        return values
