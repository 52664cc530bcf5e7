"""The KL divergences torch registers for ``ContinuousBernoulli`` and
``LowRankMultivariateNormal``: same-family closed forms, the low-rank / full-rank normal
pairs, and the mixed pairs with the families of kl.py and kl_families.py (inf where p's
support leaves q's). Importing this module registers them with ``kl_divergence``.

Where p's support and q's meet only at an end point, the result is finite: torch's
ContinuousBernoulli-Uniform and Uniform-ContinuousBernoulli pairs give inf there too (e.g.
KL(ContinuousBernoulli || Uniform(0, 1)), whose true value is -entropy).

Example::

    >>> from gpugrad.distributions import Uniform, kl_divergence
    >>> from gpugrad.distributions.continuous_bernoulli import ContinuousBernoulli
    >>> from gpugrad.distributions import kl_more
    >>> p = ContinuousBernoulli(gpugrad.tensor(0.3, dtype="float64"))
    >>> kl = kl_divergence(p, Uniform(0.0, 1.0)).item()
    >>> abs(kl + p.entropy().item()) < 1e-12
    True
"""

from __future__ import annotations

import math

from ..creation import full_like
from ..ops.diagonal import diag_embed
from ..ops.elementwise import where
from ..ops.linalg import matmul
from ..ops.matrix_triangular import solve_triangular
from ..ops.rearrange import broadcast_shapes
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Beta
from .exponential import Exponential
from .gamma import Gamma
from .gumbel import Gumbel
from .kl import register_kl
from .laplace import Laplace
from .lowrank_multivariate_normal import (LowRankMultivariateNormal, _batch_lowrank_logdet,
                                          _batch_lowrank_mahalanobis, _batch_trace_XXT)
from .multivariate_normal import MultivariateNormal, _batch_mahalanobis
from .normal import Normal
from .uniform import Uniform

__all__ = []


def _check_event_shapes(p, q):
    if p._event_shape != q._event_shape:
        raise ValueError(f"KL-divergence between two (Low Rank) Multivariate Normals with "
                         f"different event shapes cannot be computed: {p._event_shape} vs "
                         f"{q._event_shape}")


def _woodbury_factor(q):
    """A = L_C^-1 W^T D^-1 of q, so that q's precision is D^-1 - A^T A."""
    W, D = q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag
    return solve_triangular(q._capacitance_tril, W.mT / D.unsqueeze(-2), upper=False)


def _q_lowrank_terms(q, p_loc):
    """log|Sigma_q| and the Mahalanobis term (q.loc - p.loc) of a low-rank q."""
    W, D, C = q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag, q._capacitance_tril
    return _batch_lowrank_logdet(W, D, C), _batch_lowrank_mahalanobis(W, D, q.loc - p_loc, C)


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank_lowrank(p, q):
    _check_event_shapes(p, q)
    q_logdet, term3 = _q_lowrank_terms(q, p.loc)
    p_logdet = _batch_lowrank_logdet(p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag,
                                     p._capacitance_tril)
    # trace(Sigma_q^-1 Sigma_p) = trace((qD^-1 - A^T A)(pD + pW pW^T))
    A = _woodbury_factor(q)
    pW, pD, qD = p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag, \
        q._unbroadcasted_cov_diag
    term21 = (pD / qD).sum(-1)
    term22 = _batch_trace_XXT(pW * qD.rsqrt().unsqueeze(-1))
    term23 = _batch_trace_XXT(A * pD.sqrt().unsqueeze(-2))
    term24 = _batch_trace_XXT(matmul(A, pW))
    term2 = term21 + term22 - term23 - term24
    return 0.5 * (q_logdet - p_logdet + term2 + term3 - p._event_shape[0])


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_multivariatenormal_lowrank(p, q):
    _check_event_shapes(p, q)
    q_logdet, term3 = _q_lowrank_terms(q, p.loc)
    p_L = p._unbroadcasted_scale_tril
    p_logdet = 2 * p_L.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    # trace((qD^-1 - A^T A) pL pL^T)
    A = _woodbury_factor(q)
    term21 = _batch_trace_XXT(p_L * q._unbroadcasted_cov_diag.rsqrt().unsqueeze(-1))
    term22 = _batch_trace_XXT(matmul(A, p_L))
    return 0.5 * (q_logdet - p_logdet + term21 - term22 + term3 - p._event_shape[0])


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_lowrank_multivariatenormal(p, q):
    _check_event_shapes(p, q)
    q_L = q._unbroadcasted_scale_tril
    pW, pD = p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag
    term1 = (2 * q_L.diagonal(dim1=-2, dim2=-1).log().sum(-1)
             - _batch_lowrank_logdet(pW, pD, p._capacitance_tril))
    term3 = _batch_mahalanobis(q_L, q.loc - p.loc)
    # trace(Sigma_q^-1 (pW pW^T + pD)) = |qL^-1 pW|_F^2 + |qL^-1 pD^1/2|_F^2
    # (p's cov_diag batch too: torch's leaves it out and fails to expand a batched one)
    batch = tuple(broadcast_shapes(tuple(q_L.shape[:-2]), tuple(pW.shape[:-2]),
                                   tuple(pD.shape[:-1])))
    n, m = p._event_shape[0], pW.shape[-1]
    q_L = q_L.expand(batch + (n, n))
    term21 = _batch_trace_XXT(solve_triangular(q_L, pW.expand(batch + (n, m)), upper=False))
    term22 = _batch_trace_XXT(solve_triangular(q_L, diag_embed(pD.sqrt()).expand(
        batch + (n, n)), upper=False))
    return 0.5 * (term1 + term21 + term22 + term3 - n)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli_continuous_bernoulli(p, q):
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + (-p.probs).log1p()
    t3 = -q._cont_bern_log_norm() - (-q.probs).log1p()
    return t1 + t2 + t3


def _cross_entropy_to_continuous_bernoulli(p, q):
    """-E_p[log q(x)] for q continuous Bernoulli and p on [0, 1] (it reads p's mean only)."""
    return -p.mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p, q):
    return -p.entropy() + _cross_entropy_to_continuous_bernoulli(p, q)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p, q):
    result = -p.entropy() + _cross_entropy_to_continuous_bernoulli(p, q)
    return where((p.high > 1) | (p.low < 0), math.inf, result)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p, q):
    t1 = -p.entropy()
    t2 = 0.5 * (math.log(2.0 * math.pi) + (q.loc / q.scale).pow(2)) + q.scale.log()
    t3 = (p.variance + p.mean.pow(2) - 2.0 * q.loc * p.mean) / (2.0 * q.scale.pow(2))
    return t1 + t2 + t3


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    return where((q.low > 0) | (q.high < 1), math.inf, result)


@register_kl(Exponential, ContinuousBernoulli)
@register_kl(Gamma, ContinuousBernoulli)
@register_kl(Gumbel, ContinuousBernoulli)
@register_kl(Laplace, ContinuousBernoulli)
@register_kl(Normal, ContinuousBernoulli)
def _kl_continuous_bernoulli_infinity(p, q):
    """Infinite: p puts mass outside [0, 1]."""
    return full_like(p.rate if isinstance(p, Exponential) else
                     p.concentration if isinstance(p, Gamma) else p.loc, math.inf)
