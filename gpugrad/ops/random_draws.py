"""Draws whose law depends on a tensor's values (gamma, Poisson, binomial), as one record
each: the forward draws from gpugrad's random stream (one key per call, so
``gpugrad.manual_seed`` replays it) with the generator's own sampler, element-wise over the
parameters' broadcast shape. ``StandardGamma`` (ops/standard_gamma.py) is differentiable;
``PoissonDraw`` and ``BinomialDraw`` are not (counts carry no gradient, as torch's).

Inside ``vmap`` a draw follows ``randomness=`` as ``randn``'s does (``with_vmap_randomness``).

Example::

    >>> from gpugrad.ops.random_draws import poisson, binomial
    >>> _ = gpugrad.manual_seed(0)
    >>> poisson(gpugrad.tensor([0.0, 3.0])).shape, binomial(gpugrad.tensor([0.0, 5.0]),
    ...     gpugrad.tensor([0.5, 1.0])).tolist()
    ((2,), [0.0, 5.0])
"""

from __future__ import annotations

import numpy as np

from .. import backend, random
from ..autograd.mode import _state as _mode_state
from ..random_sampling import randn
from .record import BROADCAST, Op, apply

__all__ = ["poisson", "binomial", "draw_with", "with_vmap_randomness"]


def draw_with(name: str, like, *params, dtype=None, generator=None):
    """``random.draw_array(name, ...)`` (a standard gamma, Poisson or binomial draw from
    the next key of ``generator``, None: the global stream) on the device of array
    ``like``, as an array of ``dtype`` (default: ``like``'s)."""
    out = random.draw_array(name, backend.device_of(like), *params, generator=generator)
    return backend.xp_of(like).asarray(out).astype(dtype or like.dtype, copy=False)


def with_vmap_randomness(t):
    """``t`` batched, inside ``vmap``, at every level whose ``randomness`` is "different"
    (so a draw from its values differs per example); refused under "error". Outside vmap,
    ``t`` itself (no cost)."""
    if not _mode_state.vmap_levels:
        return t
    return t + 0.0 * randn((), dtype=t.dtype, device=t.device).abs()


class PoissonDraw(Op):
    """Counts k ~ Poisson(rate), element-wise, in rate's dtype."""

    differentiable = False
    vmap = BROADCAST

    @staticmethod
    def forward(xp, rate, generator=None):
        if not bool(xp.all(rate >= 0)):     # (NaN too: NumPy's "lam value too large")
            raise RuntimeError(
                f"poisson: invalid Poisson rate, expected rate to be non-negative, got "
                f"{rate[~(rate >= 0)].ravel()[:3].tolist()} among the rates; clamp them first, "
                f"e.g. rate.clamp(min=0), and replace NaN (rate.nan_to_num())")
        return draw_with("poisson", rate, rate, generator=generator)


class BinomialDraw(Op):
    """Counts k ~ Binomial(total_count, probs), element-wise (broadcast), in probs' dtype."""

    differentiable = False
    vmap = BROADCAST
    broadcasts = True

    @staticmethod
    def forward(xp, total_count, probs, generator=None):
        n, p = xp.broadcast_arrays(total_count, probs)
        counts = xp.maximum(xp.rint(n), 0).astype(np.int64)        # (torch: 0 below 0)
        return draw_with("binomial", p, counts, xp.clip(p, 0.0, 1.0), generator=generator)


def poisson(rate, generator=None):
    """Counts drawn from Poisson(``rate``) element-wise (``torch.poisson(input,
    generator=None)``), in ``rate``'s dtype, no gradient; ``generator``: a
    ``gpugrad.Generator`` (None: the global stream). A negative or NaN rate raises.

    Example::

        >>> from gpugrad.ops.random_draws import poisson
        >>> poisson(gpugrad.zeros(3)).tolist()
        [0.0, 0.0, 0.0]
    """
    rate = with_vmap_randomness(rate.detach())
    return apply(PoissonDraw, rate, generator=generator) if generator is not None \
        else apply(PoissonDraw, rate)


def binomial(total_count, probs, generator=None):
    """Counts drawn from Binomial(``total_count``, ``probs``) element-wise, broadcast
    (``torch.binomial(count, prob, generator=None)``), in ``probs``' dtype, no gradient;
    ``generator``: a ``gpugrad.Generator`` (None: the global stream).

    Example::

        >>> from gpugrad.ops.random_draws import binomial
        >>> binomial(gpugrad.tensor([3.0]), gpugrad.tensor([1.0])).tolist()
        [3.0]
    """
    probs = with_vmap_randomness(probs.detach())
    count = total_count.detach().astype(probs.dtype)
    return apply(BinomialDraw, count, probs, generator=generator) if generator is not None \
        else apply(BinomialDraw, count, probs)
