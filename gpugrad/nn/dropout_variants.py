"""Dropout variants as PyTorch's: channel dropout (``dropout1d``/``2d``/``3d``: a whole
channel zeroed at once) and alpha dropout for SELU networks (``alpha_dropout``,
``feature_alpha_dropout``: dropped values set to SELU's negative limit, then an affine map
that keeps a zero mean and unit variance), with their modules. Masks come from gpugrad's
generator; in eval mode (``training=False``), with ``p=0`` or on an empty input each is
the identity, and ``p=1`` gives ``input * 0``, as PyTorch's. ``inplace=True`` writes the
result into the input and returns it.

Example::

    >>> from gpugrad.nn.dropout_variants import dropout1d
    >>> out = dropout1d(gpugrad.ones(2, 100, 3), p=0.5)
    >>> bool(((out[:, :, 0:1] == out).all()).item())     # whole channels kept or dropped
    True
    >>> sorted(set(out.flatten().tolist()))
    [0.0, 2.0]
"""

from __future__ import annotations

import warnings

from .. import creation
from ..ops.inplace import written_back
from ..ops.shape import squeeze, unsqueeze
from .module import Module

__all__ = ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
           "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]

_SELU_LIMIT = 1.7580993408473766        # -SELU(-inf) = scale * alpha


def check_probability(name: str, p) -> None:
    """ValueError naming ``name`` unless 0 <= ``p`` <= 1 (every dropout's check)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def dropped(x, p: float, alpha: bool = False, feature: bool = False):
    """``x`` with PyTorch's dropout noise, drawn from gpugrad's generator: per element, or
    per (batch, channel) when ``feature`` (x at least 2-d); plain (the kept scaled by
    1/(1-p)) or alpha; ``p=1``: ``x * 0`` (NaN stays NaN), no draw. F.dropout's and the
    variants'. Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.dropout_variants import dropped
        >>> sorted(set(dropped(gpugrad.ones(100), 0.5).tolist()))
        [0.0, 2.0]
    """
    if p == 1.0:
        return x * 0.0
    if feature and x.ndim < 2:
        raise ValueError(f"Feature dropout requires at least 2 dimensions in the input, got "
                         f"shape {tuple(x.shape)} (as PyTorch's); use dropout for a vector")
    shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2) if feature else tuple(x.shape)
    keep = (creation.rand(*shape, device=x.device) >= p).astype(x.dtype)
    if not alpha:
        return x * keep * (1.0 / (1.0 - p))
    a = 1.0 / ((_SELU_LIMIT ** 2 * p + 1.0) * (1.0 - p)) ** 0.5
    # a (x keep - limit (1 - keep)) + a limit p: mean 0 and variance 1 kept for SELU outputs
    return x * (keep * a) + (keep - 1.0) * (_SELU_LIMIT * a) + _SELU_LIMIT * a * p


def _apply(x, p, training, inplace, alpha, feature):
    if not training or p == 0.0 or 0 in tuple(x.shape):
        return x
    if inplace:
        return written_back(x, dropped, p, alpha, feature)
    return dropped(x, p, alpha, feature)


def _channels(name, x, p, training, inplace, batched_ndim):
    """Channel dropout of ``x`` (N, C, *spatial), or unbatched (C, *spatial)."""
    check_probability(name, p)
    if not training or p == 0.0 or 0 in tuple(x.shape):
        return x
    if x.ndim != batched_ndim:                  # one sample: its channels along axis 0

        def drop(t):
            return squeeze(dropped(unsqueeze(t, 0), p, False, True), 0)
    else:

        def drop(t):
            return dropped(t, p, False, True)
    return written_back(x, drop) if inplace else drop(x)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Each channel of ``input`` (N, C, L) or (C, L) zeroed with probability ``p`` (the rest
    scaled by 1/(1-p)) when ``training``. Shapes: unchanged.

    Example::

        >>> from gpugrad.nn.dropout_variants import dropout1d
        >>> dropout1d(gpugrad.ones(1, 2, 3), training=False).shape
        (1, 2, 3)
    """
    if input.ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected 2D or 3D input, but received a {input.ndim}D "
                         f"input of shape {tuple(input.shape)}; dropout1d drops channels of "
                         f"(N, C, L) or (C, L) inputs (use dropout for element-wise dropout)")
    return _channels("dropout1d", input, p, training, inplace, 3)


def _warn_rank(name: str, ndim: int) -> None:
    """PyTorch's deprecation warning for a feature dropout of an input of another rank,
    pointing at the caller of ``name``."""
    warnings.warn(f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will "
                  f"result in an error in a future release. To retain the behavior and "
                  f"silence this warning, please use dropout instead.", stacklevel=3)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Each channel of ``input`` (N, C, H, W) zeroed with probability ``p`` (the rest scaled
    by 1/(1-p)) when ``training``. As PyTorch's: a 3-d input is taken as (N, C, L), with a
    warning, and other ranks warn (they drop along axes 0 and 1; a 1-d input is refused
    while dropping). Shapes: unchanged.

    Example::

        >>> from gpugrad.nn.dropout_variants import dropout2d
        >>> dropout2d(gpugrad.ones(1, 2, 3, 3), p=1.0).sum().item()
        0.0
    """
    if input.ndim not in (3, 4):
        _warn_rank("dropout2d", input.ndim)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.",
                      stacklevel=2)
    check_probability("dropout2d", p)
    return _apply(input, p, training, inplace, False, True)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Each channel of ``input`` (N, C, D, H, W) or (C, D, H, W) zeroed with probability
    ``p`` (the rest scaled by 1/(1-p)) when ``training``; other ranks warn and, as
    PyTorch's, are taken as one sample (masked per index of axis 0). Shapes: unchanged.

    Example::

        >>> from gpugrad.nn.dropout_variants import dropout3d
        >>> dropout3d(gpugrad.ones(2, 1, 1, 1), p=0.0).sum().item()
        2.0
    """
    if input.ndim not in (4, 5):
        _warn_rank("dropout3d", input.ndim)
    return _channels("dropout3d", input, p, training, inplace, 5)


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Alpha dropout (for SELU networks) when ``training`` (note PyTorch's default False):
    each element dropped with probability ``p`` is set to SELU's negative limit -1.7581,
    then all are mapped by ``a x + b`` so that zero-mean, unit-variance inputs keep those
    moments. Shapes: unchanged.

    Example::

        >>> from gpugrad.nn.dropout_variants import alpha_dropout
        >>> out = alpha_dropout(gpugrad.zeros(1000), p=0.2, training=True)
        >>> len(set(out.tolist()))                  # kept zeros and dropped ones: 2 values
        2
    """
    check_probability("alpha_dropout", p)
    return _apply(input, p, training, inplace, True, False)


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False,
                          inplace: bool = False):
    """Alpha dropout of whole channels: ``input`` (N, C, *) masked per (sample, channel)
    (as PyTorch's, a 0- or 1-d input is refused while dropping). Shapes: unchanged.

    Example::

        >>> from gpugrad.nn.dropout_variants import feature_alpha_dropout
        >>> feature_alpha_dropout(gpugrad.ones(2, 3, 4), training=False).shape
        (2, 3, 4)
    """
    check_probability("feature_alpha_dropout", p)
    return _apply(input, p, training, inplace, True, True)


class _DropoutNd(Module):
    _function = None

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        check_probability(type(self).__name__, p)
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return type(self)._function(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """``dropout1d`` while training; the identity in eval mode. (N, C, L) or (C, L).

    Example::

        >>> from gpugrad.nn.dropout_variants import Dropout1d
        >>> Dropout1d(0.2)
        Dropout1d(p=0.2, inplace=False)
    """

    _function = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    """``dropout2d`` while training; the identity in eval mode. (N, C, H, W)."""

    _function = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    """``dropout3d`` while training; the identity in eval mode. (N, C, D, H, W)."""

    _function = staticmethod(dropout3d)


class AlphaDropout(_DropoutNd):
    """``alpha_dropout`` while training; the identity in eval mode. Any shape.

    Example::

        >>> from gpugrad.nn.dropout_variants import AlphaDropout
        >>> AlphaDropout(0.1).eval()(gpugrad.ones(2)).tolist()
        [1.0, 1.0]
    """

    _function = staticmethod(alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """``feature_alpha_dropout`` while training; the identity in eval mode. (N, C, *)."""

    _function = staticmethod(feature_alpha_dropout)
