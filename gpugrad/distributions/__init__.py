"""``gpugrad.distributions``: probability distributions, as ``torch.distributions``
(names, signatures, shapes and numbers): ``Normal``, ``Uniform``, ``Bernoulli``,
``Categorical``, ``OneHotCategorical``, ``Exponential``, ``Laplace``, ``LogNormal``,
``Gamma``, ``Chi2``, ``Beta``, ``Dirichlet``, ``StudentT``, ``Cauchy``, ``Gumbel``,
``HalfNormal``, ``Poisson``, ``Binomial``, ``Geometric``, ``MultivariateNormal``,
``Independent``, ``TransformedDistribution``; ``kl_divergence`` and ``register_kl``;
``constraints`` and ``transforms``.

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
from .bernoulli import Bernoulli
from .categorical import Categorical, OneHotCategorical
from .cauchy import Cauchy
from .dirichlet import Beta, Dirichlet
from .discrete import Binomial, Geometric, Poisson
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Chi2, Gamma
from .gumbel import Gumbel, HalfNormal
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .student_t import StudentT
from .transformed_distribution import LogNormal, TransformedDistribution
from .uniform import Uniform

__all__ = ["Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Dirichlet",
           "Distribution", "Exponential", "Gamma", "Geometric", "Gumbel", "HalfNormal",
           "Independent", "Laplace", "LogNormal", "MultivariateNormal", "Normal",
           "OneHotCategorical", "Poisson", "StudentT", "TransformedDistribution", "Uniform",
           "constraints", "kl_divergence", "register_kl", "transforms"]
