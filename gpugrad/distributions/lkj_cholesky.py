"""``LKJCholesky(dim, concentration=1.0)``, as torch's: the LKJ distribution over lower
Cholesky factors L of dim x dim correlation matrices, with density of L L^T proportional to
det(L L^T)^(concentration - 1) (Lewandowski, Kurowicka and Joe, 2009); concentration 1 is
uniform over correlation matrices. Sampled by the onion method (no rsample, as torch's);
``log_prob`` is differentiable in the concentration. The usual partner of
``biject_to(constraints.corr_cholesky)`` (``CorrCholeskyTransform``).

Example::

    >>> from gpugrad.distributions import LKJCholesky
    >>> d = LKJCholesky(3, 0.5)
    >>> L = d.sample()
    >>> L.shape, [round(v, 4) for v in (L @ L.mT).diagonal().tolist()]
    ((3, 3), [1.0, 1.0, 1.0])
"""

from __future__ import annotations

import math

from ..autograd.mode import no_grad
from ..creation import arange
from ..ops.diagonal import diag_embed
from ..ops.elementwise import where
from ..ops.shape import concatenate
from ..ops.special_gamma import lgamma, mvlgamma
from ..type_info import finfo
from . import constraints
from .dirichlet import Beta
from .distribution import Distribution
from .utils import _standard_normal, broadcast_all

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """LKJ over Cholesky factors of correlation matrices: event shape (dim, dim), batch
    shape the concentration's (eta > 0; a number gives ()).

    Example::

        >>> from gpugrad.distributions import LKJCholesky
        >>> eta = gpugrad.tensor([1.0, 2.0], dtype="float64")
        >>> [round(v, 4) for v in LKJCholesky(2, eta).log_prob(gpugrad.eye(2, dtype="float64")
        ...                                                     ).tolist()]
        [-0.6931, -0.2877]
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        # the Beta draws of the onion method, vectorised (Sec. 3.2 of the paper): row i of L
        # has squared norm below the diagonal ~ Beta(i / 2, eta + (dim - 2 - i) / 2)
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = arange(self.dim - 1, dtype=self.concentration.dtype,
                        device=self.concentration.device)
        offset = concatenate([offset.new_zeros((1,)), offset])
        self._beta = Beta(offset + 0.5, marginal_conc.unsqueeze(-1) - 0.5 * offset)
        super().__init__(tuple(self.concentration.shape), (dim, dim),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = tuple(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=()):
        """Cholesky factors of ``sample_shape + batch_shape + (dim, dim)``: the onion
        method, drawing only the rows w of L (row 0 is e_0; the diagonal completes each row
        to unit norm)."""
        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            shape = self._extended_shape(sample_shape)
            u_normal = _standard_normal(shape, dtype=y.dtype, device=y.device).tril(-1)
            norm = (u_normal * u_normal).sum(-1, keepdim=True).sqrt()
            first_row = (arange(self.dim, device=y.device) == 0).reshape(-1, 1)
            u_hypersphere = where(first_row, 0.0, u_normal / where(first_row, 1.0, norm))
            w = y.sqrt() * u_hypersphere
            tiny = finfo(w.dtype).tiny
            diag_elems = (1 - (w * w).sum(-1)).clamp(min=tiny).sqrt()
            return w + diag_embed(diag_elems)

    def log_prob(self, value):
        """sum_i (2 (eta - 1) + dim - i) log L_ii over i = 2 .. dim (the density of L L^T
        times the Jacobian of L -> L L^T), less the log normaliser."""
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = arange(2, self.dim + 1, dtype=self.concentration.dtype,
                       device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = (order * diag_elems.log()).sum(-1)
        # the normaliser (page 1999 of the paper): mvlgamma's pi constant is
        # (D - 1)(D - 2)/4 log pi, the paper's D (D - 1)/4 log pi; the difference is added
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normalize_term = (0.5 * dm1 * math.log(math.pi) + mvlgamma(alpha - 0.5, dm1)
                          - lgamma(alpha) * dm1)
        return unnormalized_log_pdf - normalize_term
