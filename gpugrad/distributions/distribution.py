"""``Distribution``, the base of every family, as ``torch.distributions.Distribution``.

Shapes: a sample has shape ``sample_shape + batch_shape + event_shape``; ``log_prob`` of a
value has shape ``sample_shape + batch_shape``. Arguments and values are checked against
``arg_constraints`` and ``support`` unless validation is off (``validate_args=False``, or
``Distribution.set_default_validate_args(False)``; on by default, as torch's unless Python
runs with -O). Checks read values back to the host, once per construction or ``log_prob``.

Example::

    >>> from gpugrad.distributions import Normal
    >>> d = Normal(gpugrad.zeros(3), 1.0)
    >>> d.batch_shape, d.event_shape, d.sample((2,)).shape
    (gpugrad.Size([3]), gpugrad.Size([]), (2, 3))
"""

from __future__ import annotations

import warnings

from ..autograd.mode import no_grad
from ..tensor import Tensor
from ..type_info import Size
from . import constraints
from .utils import _check_all_true, lazy_property

__all__ = ["Distribution"]


class Distribution:
    """The base of the distributions: ``sample``, ``rsample``, ``log_prob``, ``entropy``,
    ``mean``, ``mode``, ``variance``, ``stddev``, ``cdf``, ``icdf``, ``expand``, with the
    shapes ``batch_shape`` and ``event_shape``.

    Example::

        >>> from gpugrad.distributions import Distribution, Normal
        >>> isinstance(Normal(0.0, 1.0), Distribution), Distribution._validate_args
        (True, True)
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument and value validation on or off for every distribution made without
        ``validate_args=`` (torch's default: on).

        Example::

            >>> from gpugrad.distributions import Distribution
            >>> Distribution.set_default_validate_args(True)
        """
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args takes True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_args()

    def _check_args(self):
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            arg_constraints = {}
            warnings.warn(f"{type(self)} does not define `arg_constraints`. Please set "
                          "`arg_constraints = {}` or initialize the distribution with "
                          "`validate_args=False` to turn off validation.", stacklevel=3)
        for param, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue                    # cannot be checked
            if param not in self.__dict__ and isinstance(getattr(type(self), param, None),
                                                         lazy_property):
                continue                    # not given: computed from another parameter
            value = getattr(self, param)
            _check_all_true(constraint.check(value),
                            f"Expected parameter {param} ({type(value).__name__} of shape "
                            f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                            f"constraint {constraint!r}, but found invalid values", value)

    def expand(self, batch_shape, _instance=None):
        """A new distribution with its batch shape expanded to ``batch_shape`` (parameters
        are expanded views, not copies)."""
        raise NotImplementedError

    @property
    def batch_shape(self) -> Size:
        """The shape over which parameters are batched."""
        return Size(self._batch_shape)

    @property
    def event_shape(self) -> Size:
        """The shape of a single sample (without batching)."""
        return Size(self._event_shape)

    @property
    def arg_constraints(self) -> dict:
        """The constraint each parameter must satisfy, by name."""
        raise NotImplementedError

    @property
    def support(self):
        """The constraint values (samples) satisfy."""
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError

    @property
    def stddev(self):
        """The standard deviation, ``variance.sqrt()``."""
        return self.variance.sqrt()

    def sample(self, sample_shape=()):
        """A sample of shape ``sample_shape + batch_shape + event_shape``, not differentiable
        (drawn from gpugrad's random stream: ``gpugrad.manual_seed`` replays it)."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        """A reparameterised sample: differentiable in the parameters (``has_rsample``)."""
        raise NotImplementedError(f"{type(self).__name__} has no rsample (has_rsample is "
                                  f"False); use sample(), which carries no gradient")

    def sample_n(self, n: int):
        """``sample((n,))`` (deprecated in torch)."""
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.",
                      FutureWarning, stacklevel=2)
        return self.sample((n,))

    def log_prob(self, value):
        """The log density (or mass) of ``value``, of shape ``sample_shape + batch_shape``."""
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def perplexity(self):
        """``exp(entropy())``."""
        return self.entropy().exp()

    def _extended_shape(self, sample_shape=()) -> tuple:
        if isinstance(sample_shape, int):
            raise TypeError(f"sample_shape is a tuple of ints, e.g. ({sample_shape},); got "
                            f"the int {sample_shape}")
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def _validate_sample(self, value):
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        actual = tuple(value.shape)
        start = len(actual) - len(self._event_shape)
        if actual[start:] != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{actual} vs {self._event_shape}.")
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{actual} vs {expected}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f"{type(self)} does not define `support` to enable sample "
                          "validation. Please initialize the distribution with "
                          "`validate_args=False` to turn off validation.", stacklevel=3)
            return
        _check_all_true(support.check(value),
                        f"Expected value argument ({type(value).__name__} of shape {actual}) "
                        f"to be within the support ({support!r}) of the distribution "
                        f"{self!r}, but found invalid values", value)

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom "
                f"__init__ method must also define a custom .expand() method.")
        return type(self).__new__(type(self)) if _instance is None else _instance

    def __repr__(self):
        try:
            names = [k for k in self.arg_constraints if k in self.__dict__]
        except NotImplementedError:
            names = []
        args = []
        for name in names:
            value = self.__dict__[name]
            args.append(f"{name}: {value if value.numel() == 1 else Size(value.shape)}")
        return f"{type(self).__name__}({', '.join(args)})"
