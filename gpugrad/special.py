"""``gpugrad.special``: special functions under ``torch.special``'s names. Every function is
element-wise (any shape, float dtype kept, integers become the default float dtype) and
differentiable as PyTorch's; the records live in gpugrad/ops/special*.py (erf family, gamma
family, Bessel J/Y/I/K and Airy, orthogonal polynomials, Hurwitz zeta, entropy terms) and
gpugrad/ops/pointwise.py, and this module gathers them.

Example::

    >>> from gpugrad import special
    >>> x = gpugrad.tensor([0.5, 2.0], dtype="float64", requires_grad=True)
    >>> [round(v, 12) for v in special.gammaln(x).tolist()]      # log Gamma(x)
    [0.572364942925, 0.0]
    >>> special.gammaln(x).sum().backward()
    >>> [round(v, 12) for v in x.grad.tolist()]                 # digamma(x)
    [-1.963510026021, 0.422784335098]
    >>> round(special.ndtri(gpugrad.tensor(0.975, dtype="float64")).item(), 10)
    1.9599639845
"""

from __future__ import annotations

from .ops import activation as _activation
from .ops import reduce as _reduce
from .ops.activation import sigmoid as expit
from .ops.pointwise import exp2, logit, round, sinc
from .ops.pointwise_binary import xlogy
from .ops.special import erf, expm1, log1p
from .ops.special_bessel import i0, i0e, i1, i1e
from .ops.special_bessel_k import (modified_bessel_i0, modified_bessel_i1, modified_bessel_k0,
                                   modified_bessel_k1, scaled_modified_bessel_k0,
                                   scaled_modified_bessel_k1)
from .ops.special_bessel_more import (airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1,
                                      spherical_bessel_j0)
from .ops.special_entropy import entr, xlog1py
from .ops.special_erf import erfc, erfcx, erfinv, log_ndtr, ndtr, ndtri
from .ops.special_gamma import digamma, lgamma as gammaln, mvlgamma, polygamma
from .ops.standard_gamma import regularized_gamma_p as gammainc
from .ops.special_polynomials import (chebyshev_polynomial_t, chebyshev_polynomial_u,
                                      chebyshev_polynomial_v, chebyshev_polynomial_w,
                                      hermite_polynomial_h, hermite_polynomial_he,
                                      laguerre_polynomial_l, legendre_polynomial_p,
                                      shifted_chebyshev_polynomial_t,
                                      shifted_chebyshev_polynomial_u,
                                      shifted_chebyshev_polynomial_v,
                                      shifted_chebyshev_polynomial_w)
from .ops.special_zeta import zeta
from .ops.standard_gamma import regularized_gamma_q as gammaincc

__all__ = ["expit", "logit", "erf", "erfc", "erfcx", "erfinv", "gammaln", "digamma", "psi",
           "polygamma", "multigammaln", "xlogy", "xlog1py", "entr", "ndtr", "ndtri",
           "log_ndtr", "logsumexp", "softmax", "log_softmax", "log1p", "expm1", "exp2",
           "sinc", "round", "i0", "i0e", "i1", "i1e", "gammainc", "gammaincc",
           "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
           "airy_ai", "zeta", "chebyshev_polynomial_t", "chebyshev_polynomial_u",
           "chebyshev_polynomial_v", "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p"]

psi = digamma


def multigammaln(input, p: int):
    """The multivariate log-gamma of dimension ``p`` (``torch.special.multigammaln``, the
    same as ``gpugrad.mvlgamma``): sum over i < p of lgamma(x - i/2) + p (p-1)/4 log(pi).

    Example::

        >>> round(gpugrad.special.multigammaln(gpugrad.tensor(2.5), 3).item(), 4)
        1.881
    """
    return mvlgamma(input, p)


def logsumexp(input, dim, keepdim: bool = False):
    """log(sum(exp(x))) over ``dim`` (an int or a tuple of ints), without overflow
    (``torch.special.logsumexp``).

    Example::

        >>> x = gpugrad.tensor([[0.0, 0.0], [1e4, 1e4]], dtype="float64")
        >>> [round(v, 6) for v in gpugrad.special.logsumexp(x, 1).tolist()]
        [0.693147, 10000.693147]
    """
    return _reduce.logsumexp(input, dim=dim, keepdim=keepdim)


def softmax(input, dim: int, *, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim`` (``torch.special.softmax``); ``dtype``: ``input``
    is cast to it first.

    Example::

        >>> gpugrad.special.softmax(gpugrad.tensor([0.0, 0.0]), 0).tolist()
        [0.5, 0.5]
    """
    return _activation.softmax(input, dim, dtype)


def log_softmax(input, dim: int, *, dtype=None):
    """log(softmax(x)) along ``dim``, stable for large logits
    (``torch.special.log_softmax``); ``dtype``: ``input`` is cast to it first.

    Example::

        >>> out = gpugrad.special.log_softmax(gpugrad.tensor([0.0, 0.0]), 0)
        >>> [round(v, 6) for v in out.tolist()]
        [-0.693147, -0.693147]
    """
    return _activation.log_softmax(input, dim, dtype)
