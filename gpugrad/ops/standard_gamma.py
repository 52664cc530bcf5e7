"""Standard gamma samples with implicit reparameterised gradients, as ``torch._standard_gamma``
and ``torch._standard_gamma_grad``: the record under ``Gamma.rsample`` (and so under Chi2,
Beta, Dirichlet and StudentT's).

``StandardGamma(alpha)`` draws x ~ Gamma(alpha, 1) element-wise from gpugrad's random stream
(one draw per call: ``gpugrad.manual_seed`` replays it). Its reverse rule is the implicit
derivative of the sample at a fixed quantile: with P(alpha, x) the regularised lower
incomplete gamma (the CDF), dx/dalpha = -(dP/dalpha) / (dP/dx). ``StandardGammaGrad`` computes
that in float64 (not differentiable again, as PyTorch's) from P's series, Q = 1 - P's
continued fraction or, for alpha >= 10 near the mean, Temme's uniform asymptotic expansion,
each differentiated in alpha (gpugrad/ops/incomplete_gamma.py): about 1e-14 relative for
every alpha, with a fixed amount of work per element (no host sync in the backward).

Example::

    >>> from gpugrad.ops.standard_gamma import standard_gamma, standard_gamma_grad
    >>> _ = gpugrad.manual_seed(0)
    >>> alpha = gpugrad.tensor([0.5, 2.0, 30.0], dtype="float64", requires_grad=True)
    >>> x = standard_gamma(alpha)
    >>> x.shape, bool((x > 0).all())
    ((3,), True)
    >>> x.sum().backward()                      # d x / d alpha at each sample's quantile
    >>> bool((alpha.grad == standard_gamma_grad(alpha.detach(), x.detach())).all())
    True
    >>> one = gpugrad.tensor([1.0], dtype="float64")      # a larger alpha moves every
    >>> round(standard_gamma_grad(one, one).item(), 10)   # quantile right
    1.1735630272
"""

from __future__ import annotations

import numpy as np

from .complex_node import refuse_complex
from ..type_info import finfo
from .incomplete_gamma import quantile_derivative, regularized_pair
from .pointwise_binary import operands
from .random_draws import draw_with, with_vmap_randomness
from .record import BROADCAST, ELEMENTWISE, Op, apply
from .pointwise_binary import xlogy
from .reduce import sum_to
from .special_gamma import lgamma
from .unary import _float, exp

__all__ = ["standard_gamma", "standard_gamma_grad", "regularized_gamma_p",
           "regularized_gamma_q"]


def _draw(xp, alpha):
    """Gamma(alpha, 1) samples of alpha's shape and dtype (float16 drawn in float32),
    clamped to the dtype's tiny (so logs stay finite, as PyTorch's)."""
    draw_dtype = np.float32 if alpha.dtype == np.float16 else alpha.dtype
    x = draw_with("standard_gamma", alpha.astype(draw_dtype, copy=False),
                  alpha.astype(draw_dtype, copy=False))
    return xp.maximum(x.astype(alpha.dtype, copy=False), finfo(alpha.dtype).tiny)


class StandardGamma(Op):
    """x ~ Gamma(alpha, 1), a draw; its reverse rule is the implicit derivative dx/dalpha
    (``StandardGammaGrad``) at the drawn sample."""

    save = "xs ans"
    vmap = BROADCAST            # every element (every example's) its own draw

    @staticmethod
    def forward(xp, alpha):
        return _draw(xp, alpha)

    @staticmethod
    def vjp(ctx, g):
        return g * apply(StandardGammaGrad, ctx.xs[0], ctx.ans)

    jvp = ELEMENTWISE


class StandardGammaGrad(Op):
    """dx/dalpha of a standard gamma sample x at fixed quantile (torch's
    ``_standard_gamma_grad``); its own derivative is not implemented (as PyTorch's): a second
    derivative through a Gamma-family ``rsample`` raises when it reaches here."""

    vmap = BROADCAST

    @staticmethod
    def vjp(ctx, g):
        raise NotImplementedError(
            "the derivative of standard_gamma_grad is not implemented (as in PyTorch): a "
            "second derivative through Gamma, Chi2, Beta, Dirichlet or StudentT rsample "
            "with respect to the concentration is not available; detach the concentration "
            "in the first gradient, or use a score-function estimator")

    @staticmethod
    def forward(xp, alpha, x):
        out = quantile_derivative(xp, alpha, x)
        return out.astype(np.result_type(alpha.dtype, x.dtype), copy=False)


class RegularizedGamma(Op):
    """P(alpha, x) = gammainc(alpha, x), the regularised lower incomplete gamma (the
    Gamma(alpha, 1) CDF), or Q = gammaincc = 1 - P (``upper``). Differentiable in x (dP/dx
    = x^(alpha-1) e^-x / Gamma(alpha)); in alpha not implemented, as PyTorch's (raises when
    a gradient needs it)."""

    save = "xs"
    vmap = BROADCAST

    @staticmethod
    def forward(xp, alpha, x, upper):
        out = regularized_pair(xp, alpha, x)[1 if upper else 0]
        return out.astype(np.result_type(alpha.dtype, x.dtype), copy=False)

    @staticmethod
    def vjp(ctx, g):
        _refuse_alpha(ctx)
        alpha, x = ctx.xs
        density = exp(xlogy(alpha - 1.0, x) - x - lgamma(alpha))
        return None, sum_to(g * (-density if ctx.upper else density), ctx.shapes[1])

    @staticmethod
    def jvp(ctx, t_alpha, t_x):
        if t_alpha is not None:
            _refuse_alpha(ctx)
        alpha, x = ctx.xs
        density = exp(xlogy(alpha - 1.0, x) - x - lgamma(alpha))
        return t_x * (-density if ctx.upper else density)


def _refuse_alpha(ctx):
    if ctx.needs(0):
        raise NotImplementedError(
            f"the derivative of {'gammaincc' if ctx.upper else 'gammainc'}(a, x) with "
            f"respect to a is not implemented (as in PyTorch; Gamma.cdf and Chi2.cdf reach "
            f"it through the concentration or df); detach a if only x needs a gradient")


def standard_gamma(alpha):
    """Samples x ~ Gamma(alpha, 1) of ``alpha``'s shape and dtype (``torch._standard_gamma``),
    differentiable in ``alpha`` by implicit reparameterisation. Inside ``vmap`` the draw
    follows ``randomness=`` ("error" refuses it, "different" gives each example its own).

    Example::

        >>> from gpugrad.ops.standard_gamma import standard_gamma
        >>> _ = gpugrad.manual_seed(0)
        >>> standard_gamma(gpugrad.full((2, 3), 4.0)).shape
        (2, 3)
    """
    return apply(StandardGamma, with_vmap_randomness(_float(alpha)))


def standard_gamma_grad(alpha, x):
    """dx/dalpha of standard gamma samples ``x`` at ``alpha`` (``torch._standard_gamma_grad``),
    element-wise, broadcast; not differentiable.

    Example::

        >>> from gpugrad.ops.standard_gamma import standard_gamma_grad
        >>> a = gpugrad.tensor([1.0], dtype="float64")
        >>> round(standard_gamma_grad(a, gpugrad.tensor([2.0], dtype="float64")).item(), 8)
        1.63169146
    """
    return apply(StandardGammaGrad, *operands("standard_gamma_grad", alpha, x))


def regularized_gamma_p(alpha, x):
    """The regularised lower incomplete gamma P(alpha, x) (``torch.special.gammainc``),
    element-wise, broadcast (a Python number is taken as a tensor); differentiable in x (in
    alpha, as PyTorch's, not implemented). NaN where alpha < 0, x < 0 or alpha = x = 0, as
    PyTorch's.

    Example::

        >>> from gpugrad.ops.standard_gamma import regularized_gamma_p
        >>> a = gpugrad.tensor([1.0], dtype="float64")            # 1 - e^-x
        >>> round(regularized_gamma_p(a, gpugrad.tensor([2.0], dtype="float64")).item(), 10)
        0.8646647168
    """
    return apply(RegularizedGamma, *_real_operands("gammainc", alpha, x), upper=False)


def regularized_gamma_q(alpha, x):
    """The regularised upper incomplete gamma Q(alpha, x) = 1 - P(alpha, x)
    (``torch.special.gammaincc``), computed without cancellation; differentiable in x.

    Example::

        >>> from gpugrad.ops.standard_gamma import regularized_gamma_q
        >>> a = gpugrad.tensor([1.0], dtype="float64")            # e^-x
        >>> x = gpugrad.tensor([50.0], dtype="float64")
        >>> round(regularized_gamma_q(a, x).item() / 1.9287498479639178e-22, 12)
        1.0
    """
    return apply(RegularizedGamma, *_real_operands("gammaincc", alpha, x), upper=True)


def _real_operands(name: str, alpha, x):
    a, b = operands(name, alpha, x)
    if a.dtype.kind == "c":
        refuse_complex(name, a, ordered=False)
    return a, b
