"""Constraints, as ``torch.distributions.constraints``: the sets a distribution's parameters
and values live in. ``c.check(value)`` is a boolean tensor of ``value``'s shape less the
constraint's ``event_dim`` rightmost dimensions; ``is_discrete`` and ``event_dim`` describe
the set.

Names: ``real``, ``real_vector``, ``positive``, ``nonnegative``, ``unit_interval``,
``boolean``, ``one_hot``, ``simplex``, ``nonnegative_integer``, ``positive_integer``,
``lower_triangular``, ``lower_cholesky``, ``square``, ``symmetric``, ``positive_definite``,
``positive_semidefinite``, ``corr_cholesky``, and the factories ``greater_than``,
``greater_than_eq``, ``less_than``, ``interval``, ``half_open_interval``,
``integer_interval``, ``multinomial``, ``independent``, ``cat``, ``stack``,
``MixtureSameFamilyConstraint``, ``dependent``, ``dependent_property``, ``is_dependent``.

Example::

    >>> from gpugrad.distributions import constraints
    >>> constraints.positive.check(gpugrad.tensor([1.0, 0.0, -1.0])).tolist()
    [True, False, False]
    >>> constraints.simplex.check(gpugrad.tensor([0.25, 0.75])).item()
    True
"""

from __future__ import annotations

from ..ops.compare import isclose
from ..ops.matrix_decompositions import eigvalsh
from ..ops.norms import vector_norm
from ..ops.rearrange import tril
from ..ops.elementwise import where
from ..ops.shape import concatenate, stack as _stack
from ..creation import arange
from ..type_info import finfo
from .constraint_base import (Constraint, _Dependent, _DependentProperty,  # noqa: F401
                              _IndependentConstraint, is_dependent)

__all__ = ["Constraint", "MixtureSameFamilyConstraint", "boolean", "cat", "corr_cholesky",
           "dependent", "dependent_property", "greater_than", "greater_than_eq",
           "half_open_interval", "independent", "integer_interval", "interval",
           "is_dependent", "less_than", "lower_cholesky", "lower_triangular", "multinomial",
           "nonnegative", "nonnegative_integer", "one_hot", "positive", "positive_definite",
           "positive_integer", "positive_semidefinite", "real", "real_vector", "simplex",
           "square", "stack", "symmetric", "unit_interval"]


class MixtureSameFamilyConstraint(Constraint):
    """The support of ``MixtureSameFamily``: ``base_constraint`` (the components') checked
    with the mixture dimension put back, then all of it per event."""

    def __init__(self, base_constraint):
        if not isinstance(base_constraint, Constraint):
            raise TypeError(f"MixtureSameFamilyConstraint takes a Constraint, got "
                            f"{type(base_constraint).__name__}")
        self.base_constraint = base_constraint

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim

    def check(self, value):
        if value.ndim < self.event_dim:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {value.ndim}")
        result = self.base_constraint.check(value.unsqueeze(-1 - self.event_dim))
        keep = value.ndim - self.event_dim
        return result.reshape(tuple(result.shape[:keep]) + (-1,)).all(-1)

    def __repr__(self):
        return f"{type(self).__name__}({self.base_constraint!r})"


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        return (value == 0) | (value == 1)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value):
        is_boolean = (value == 0) | (value == 1)
        return is_boolean.all(-1) & (value.sum(-1) == 1)


class _Bounded(Constraint):
    """The interval-like constraints: bounds kept as given (numbers or tensors)."""

    def __init__(self, lower_bound=None, upper_bound=None):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def __repr__(self):
        bounds = [f"{name}={getattr(self, name)}" for name in ("lower_bound", "upper_bound")
                  if getattr(self, name) is not None]
        return f"{type(self).__name__[1:]}({', '.join(bounds)})"


class _IntegerInterval(_Bounded):
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & (self.lower_bound <= value) & (value <= self.upper_bound)


class _IntegerGreaterThan(_Bounded):
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & (value >= self.lower_bound)


class _Real(Constraint):
    def check(self, value):
        return value == value           # False for NaN


class _GreaterThan(_Bounded):
    def check(self, value):
        return value > self.lower_bound


class _GreaterThanEq(_Bounded):
    def check(self, value):
        return value >= self.lower_bound


class _LessThan(_Bounded):
    def __init__(self, upper_bound):
        super().__init__(None, upper_bound)

    def check(self, value):
        return value < self.upper_bound


class _Interval(_Bounded):
    def check(self, value):
        return (value >= self.lower_bound) & (value <= self.upper_bound)


class _HalfOpenInterval(_Bounded):
    def check(self, value):
        return (value >= self.lower_bound) & (value < self.upper_bound)


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value):
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _Multinomial(Constraint):
    """Nonnegative integer vectors summing to at most ``upper_bound`` (torch's weaker check)."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, x):
        return (x >= 0).all(-1) & (x.sum(-1) <= self.upper_bound)


class _LowerTriangular(Constraint):
    event_dim = 2

    def check(self, value):
        same = tril(value) == value
        return same.reshape(tuple(value.shape[:-2]) + (-1,)).all(-1)


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        positive = (value.diagonal(dim1=-2, dim2=-1) > 0).all(-1)
        return _LowerTriangular().check(value) & positive


class _CorrCholesky(Constraint):
    """Lower Cholesky factors whose rows have unit Euclidean norm (of correlation matrices)."""

    event_dim = 2

    def check(self, value):
        tol = finfo(value.dtype).eps * value.shape[-1] * 10     # torch's fudge factor
        row_norm = vector_norm(value.detach(), dim=-1)
        unit_rows = ((row_norm - 1.0).abs() <= tol).all(-1)
        return _LowerCholesky().check(value) & unit_rows


class _Square(Constraint):
    event_dim = 2

    def check(self, value):
        square = value.shape[-2] == value.shape[-1]
        return value.new_full(tuple(value.shape[:-2]), square).bool()


class _Symmetric(_Square):
    def check(self, value):
        if value.shape[-2] != value.shape[-1]:
            return super().check(value)
        return isclose(value, value.mT, atol=1e-6).all(-2).all(-1)


class _PositiveSemidefinite(_Symmetric):
    def check(self, value):
        symmetric = super().check(value)
        return symmetric & (eigvalsh(_symmetric_or_eye(value, symmetric)) >= 0).all(-1)


class _PositiveDefinite(_Symmetric):
    def check(self, value):
        # torch asks cholesky_ex; the smallest eigenvalue says the same without raising
        symmetric = super().check(value)
        return symmetric & (eigvalsh(_symmetric_or_eye(value, symmetric)) > 0).all(-1)


class _Cat(Constraint):
    """``cseq[i]`` on the ``lengths[i]`` slices along ``dim``, as ``cat`` joins them."""

    def __init__(self, cseq, dim: int = 0, lengths=None):
        _check_constraints(cseq, "cat")
        self.cseq = list(cseq)
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise ValueError(f"constraints.cat: {len(self.lengths)} lengths for "
                             f"{len(self.cseq)} constraints; give one length per constraint")
        self.dim = dim

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        return max(c.event_dim for c in self.cseq)

    def check(self, value):
        _check_dim(self.dim, value, "constraints.cat")
        checks, start = [], 0
        for constraint, length in zip(self.cseq, self.lengths):
            checks.append(constraint.check(value.narrow(self.dim, start, length)))
            start = start + length
        return concatenate(checks, self.dim)


class _Stack(Constraint):
    """``cseq[i]`` on the i-th slice along ``dim``, as ``stack`` joins them."""

    def __init__(self, cseq, dim: int = 0):
        _check_constraints(cseq, "stack")
        self.cseq, self.dim = list(cseq), dim

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        dim = max(c.event_dim for c in self.cseq)
        if self.dim + dim < 0:
            dim += 1
        return dim

    def check(self, value):
        _check_dim(self.dim, value, "constraints.stack")
        slices = [value.select(self.dim, i) for i in range(value.shape[self.dim])]
        return _stack([c.check(v) for v, c in zip(slices, self.cseq)], self.dim)


def _check_constraints(cseq, name):
    if not all(isinstance(c, Constraint) for c in cseq):
        raise TypeError(f"constraints.{name} takes a sequence of Constraints, got "
                        f"{[type(c).__name__ for c in cseq]}")


def _check_dim(dim, value, name):
    if not -value.ndim <= dim < value.ndim:
        raise ValueError(f"{name}: dim {dim} is out of range for a value of shape "
                         f"{tuple(value.shape)}")


def _symmetric_or_eye(value, symmetric):
    """``value`` where ``symmetric`` holds, the identity elsewhere (NaN included): what the
    eigenvalue checks read, with no branch on a value (no host read; compiled steps)."""
    if value.shape[-2] != value.shape[-1]:
        return value.new_zeros(tuple(value.shape[:-2]) + (1, 1)) + 1.0     # (all False)
    eye = (arange(value.shape[-1], device=value.device)[:, None]
           == arange(value.shape[-1], device=value.device)).astype(value.dtype)
    return where(symmetric[..., None, None], value, eye)


dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
multinomial = _Multinomial
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
cat = _Cat
stack = _Stack
