"""``gpugrad.distributions``: probability distributions, as ``torch.distributions``
(names, signatures, shapes and numbers): ``Normal``, ``Uniform``, ``Bernoulli``,
``Categorical``, ``OneHotCategorical``, ``Exponential``, ``Laplace``, ``LogNormal``,
``Gamma``, ``Chi2``, ``Beta``, ``Dirichlet``, ``StudentT``, ``Cauchy``, ``Gumbel``,
``HalfNormal``, ``Poisson``, ``Binomial``, ``Geometric``, ``MultivariateNormal``,
``Independent``, ``TransformedDistribution``, and those built from transforms: ``HalfCauchy``,
``Pareto``, ``Weibull``, ``InverseGamma``, ``Kumaraswamy``, ``LogisticNormal``,
``RelaxedBernoulli``, ``RelaxedOneHotCategorical`` (with ``LogitRelaxedBernoulli`` and
``ExpRelaxedCategorical``); ``ContinuousBernoulli``, ``NegativeBinomial``, ``FisherSnedecor``,
``VonMises``, ``Multinomial``, ``LowRankMultivariateNormal``, ``MixtureSameFamily``,
``OneHotCategoricalStraightThrough``, ``LKJCholesky``, ``GeneralizedPareto``; the
``ExponentialFamily`` base; ``kl_divergence`` and
``register_kl``; ``constraints``, ``transforms`` (every transform also importable from here),
``biject_to`` and ``transform_to``.

Samples come from gpugrad's random stream (``gpugrad.manual_seed`` replays them; inside
``vmap`` they follow its ``randomness=``); ``rsample`` is differentiable where torch's is,
and ``log_prob``, ``entropy`` and ``kl_divergence`` are differentiable in the parameters.

Example::

    >>> from gpugrad.distributions import Normal, kl_divergence
    >>> mu = gpugrad.tensor([0.5], requires_grad=True)
    >>> kl_divergence(Normal(mu, 1.0), Normal(0.0, 1.0)).sum().backward()   # mu^2 / 2
    >>> mu.grad.tolist()
    [0.5]
"""

from . import constraints, transforms
from . import kl_families as _kl_families  # noqa: F401  (registers its KL pairs)
from . import kl_transformed as _kl_transformed  # noqa: F401  (registers its KL pairs)
from . import kl_more as _kl_more  # noqa: F401  (registers its KL pairs)
from .bernoulli import Bernoulli
from .bounded import Kumaraswamy, LogisticNormal
from .categorical import Categorical, OneHotCategorical, OneHotCategoricalStraightThrough
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .cauchy import Cauchy
from .dirichlet import Beta, Dirichlet
from .discrete import Binomial, Geometric, Poisson
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .fisher_snedecor import FisherSnedecor
from .gamma import Chi2, Gamma
from .generalized_pareto import GeneralizedPareto
from .gumbel import Gumbel, HalfNormal
from .heavy_tails import HalfCauchy, InverseGamma, Pareto, Weibull
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .lkj_cholesky import LKJCholesky
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .relaxed import (ExpRelaxedCategorical, LogitRelaxedBernoulli, RelaxedBernoulli,
                      RelaxedOneHotCategorical)
from .student_t import StudentT
from .transformed_distribution import LogNormal, TransformedDistribution
from .transforms import (AbsTransform, AffineTransform, CatTransform, ComposeTransform,
                         CorrCholeskyTransform, CumulativeDistributionTransform, ExpTransform,
                         IndependentTransform, LowerCholeskyTransform,
                         PositiveDefiniteTransform, PowerTransform, ReshapeTransform,
                         SigmoidTransform, SoftmaxTransform, SoftplusTransform,
                         StackTransform, StickBreakingTransform, TanhTransform, Transform,
                         identity_transform)
from .uniform import Uniform
from .von_mises import VonMises

__all__ = ["Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Dirichlet",
           "Distribution", "Exponential", "ExponentialFamily", "Gamma", "Geometric", "Gumbel",
           "HalfCauchy", "HalfNormal", "Independent", "InverseGamma", "Kumaraswamy",
           "Laplace", "LogNormal", "LogisticNormal", "MultivariateNormal", "Normal",
           "OneHotCategorical", "Pareto", "Poisson", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "StudentT", "TransformedDistribution", "Uniform",
           "Weibull", "biject_to", "constraints", "kl_divergence", "register_kl",
           "transform_to", "transforms",
           "AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform",
           "CorrCholeskyTransform", "CumulativeDistributionTransform", "ExpTransform",
           "IndependentTransform", "LowerCholeskyTransform", "PositiveDefiniteTransform",
           "PowerTransform", "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform",
           "SoftplusTransform", "StackTransform", "StickBreakingTransform", "TanhTransform",
           "Transform", "identity_transform",
           # (torch keeps these two in relaxed_bernoulli / relaxed_categorical)
           "ExpRelaxedCategorical", "LogitRelaxedBernoulli",
           "ContinuousBernoulli", "FisherSnedecor", "LowRankMultivariateNormal",
           "MixtureSameFamily", "Multinomial", "NegativeBinomial", "VonMises",
           "GeneralizedPareto", "LKJCholesky", "OneHotCategoricalStraightThrough"]
