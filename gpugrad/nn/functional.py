"""Functional forms of the layers and losses: linear, linear_relu, tanh, sigmoid, softmax,
log_softmax, dropout, cross_entropy, mse_loss; gelu, silu, softplus, leaky_relu, elu,
hardtanh, relu6, logsigmoid, mish, selu, celu, softsign, tanhshrink, glu, softmin
(activation_functions.py); relu (with ``inplace``), threshold, hardshrink, softshrink,
hardsigmoid, hardswish, prelu, rrelu (piecewise_activations.py); pairwise_distance, bilinear
(pairwise.py); dropout1d/2d/3d, alpha_dropout, feature_alpha_dropout (dropout_variants.py);
margin_ranking_loss, hinge_embedding_loss, cosine_embedding_loss, triplet_margin_loss,
soft_margin_loss, multilabel_soft_margin_loss, multi_margin_loss, multilabel_margin_loss
(margin_losses.py); triplet_margin_with_distance_loss (triplet_distance.py);
poisson_nll_loss, gaussian_nll_loss (likelihood_losses.py); l1_loss, smooth_l1_loss,
huber_loss, binary_cross_entropy(_with_logits), nll_loss, kl_div (loss_functions.py);
embedding and one_hot (embedding.py); layer_norm, rms_norm, group_norm, normalize and
cosine_similarity (normalization.py); batch_norm (batch_norm.py); instance_norm
(instance_norm.py);
pad (padding.py).

Example (with ``label_smoothing=0.1`` the target of two classes is [0.05, 0.95], so the loss
is -(0.05 log(1/4) + 0.95 log(3/4)))::

    >>> import gpugrad.nn.functional as F
    >>> logits = gpugrad.tensor([[0.0, np.log(3.0)]])      # softmax: [1/4, 3/4]
    >>> labels = gpugrad.tensor([1])
    >>> round(F.cross_entropy(logits, labels).item(), 4)    # -log(3/4)
    0.2877
    >>> round(F.cross_entropy(logits, labels, label_smoothing=0.1).item(), 4)
    0.3426
"""

from __future__ import annotations

import numpy as np

from ..ops.activation import functional_log_softmax as log_softmax
from ..ops.activation import functional_softmax as softmax
from ..ops.activation import sigmoid, tanh
from ..ops.inplace import written_back
from ..ops import compare as _compare
from ..creation import arange
from ..random_sampling import rand as _rand
from ..ops.linalg import linear, linear_relu
from .activation_functions import (celu, elu, gelu, glu, hardtanh, leaky_relu, logsigmoid, mish,
                                   relu6, selu, silu, softmin, softplus, softsign, tanhshrink)
from .batch_norm import batch_norm
from .dropout_variants import (alpha_dropout, check_probability, dropout1d, dropout2d,
                               dropout3d, dropped, feature_alpha_dropout)
from .embedding import embedding, one_hot
from .instance_norm import instance_norm
from .likelihood_losses import gaussian_nll_loss, poisson_nll_loss
from .loss_functions import (binary_cross_entropy, binary_cross_entropy_with_logits, huber_loss,
                             kl_div, l1_loss, mse_loss, nll_loss, smooth_l1_loss)
from .losses import cross_entropy
from .margin_losses import (cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss,
                            multi_margin_loss, multilabel_margin_loss,
                            multilabel_soft_margin_loss, soft_margin_loss, triplet_margin_loss)
from .normalization import cosine_similarity, group_norm, layer_norm, normalize, rms_norm
from .padding import pad
from .pairwise import bilinear, pairwise_distance
from .triplet_distance import triplet_margin_with_distance_loss
from .piecewise_activations import (hardshrink, hardsigmoid, hardswish, prelu, relu, relu_,
                                    rrelu, rrelu_, softshrink, threshold, threshold_)

__all__ = ["linear", "linear_relu", "relu", "tanh", "sigmoid", "softmax", "log_softmax",
           "dropout", "cross_entropy", "mse_loss", "embedding", "one_hot", "cosine_similarity",
           "layer_norm", "rms_norm", "group_norm", "batch_norm", "normalize", "elu", "gelu",
           "hardtanh", "leaky_relu", "relu6", "silu", "softplus", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "huber_loss", "kl_div", "l1_loss", "nll_loss",
           "smooth_l1_loss", "pad", "logsigmoid", "mish", "selu", "celu", "softsign",
           "tanhshrink", "glu", "softmin", "relu_", "threshold", "threshold_", "hardshrink",
           "softshrink", "hardsigmoid", "hardswish", "prelu", "rrelu", "rrelu_",
           "pairwise_distance", "bilinear", "dropout1d", "dropout2d", "dropout3d",
           "alpha_dropout", "feature_alpha_dropout", "margin_ranking_loss",
           "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss",
           "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
           "multilabel_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
           "gumbel_softmax", "instance_norm", "elu_", "leaky_relu_", "hardtanh_", "celu_",
           "selu_", "triplet_margin_with_distance_loss"]


def dropout(x, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Each element zeroed with probability ``p`` and the rest scaled by 1/(1-p) when
    ``training`` (``p=1``: all zeros, and a zero gradient); ``x`` unchanged otherwise. The
    mask comes from gpugrad's generator. ``inplace``: the result is written into ``x``
    (which must allow an in-place write) and ``x`` returned.

    Example::

        >>> sorted(set(F.dropout(gpugrad.ones(1000), p=0.5).tolist()))   # 0, or 1 / (1 - p)
        [0.0, 2.0]
        >>> F.dropout(gpugrad.ones(3), p=0.5, training=False)
        tensor([1., 1., 1.], device='cpu', dtype=float32)
        >>> F.dropout(gpugrad.ones(2), p=1.0)
        tensor([0., 0.], device='cpu', dtype=float32)
    """
    check_probability("dropout", p)
    if not training or p == 0.0:
        return x
    if inplace:
        return written_back(x, dropped, p)
    return dropped(x, p)


def gumbel_softmax(logits, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1):
    """A sample from the Gumbel-softmax distribution, as PyTorch's:
    ``softmax((logits + g) / tau, dim)`` with g standard Gumbel noise (from gpugrad's
    generator); with ``hard=True`` the one-hot of its argmax along ``dim`` in the forward
    pass and the soft sample's gradient in the backward pass (straight-through).
    ``eps`` is unused, as there. Shapes: any -> the same.

    Example::

        >>> y = F.gumbel_softmax(gpugrad.zeros(4, 3), tau=0.5, hard=True)
        >>> sorted(set(round(v, 6) for v in y.flatten().tolist()))    # one-hot rows
        [0.0, 1.0]
    """
    uniform = _rand(*logits.shape, dtype=logits.dtype, device=logits.device)
    exponential = -(1.0 - uniform).log()                    # Exponential(1), as exponential_
    gumbels = -exponential.clamp(min=float(np.finfo(logits.dtype).tiny)).log()
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    largest = soft.detach().argmax(dim=dim, keepdim=True)
    positions = _arange_along(soft, dim)
    one_hot = _compare.equal(positions, largest).astype(soft.dtype)
    return one_hot - soft.detach() + soft


def _arange_along(x, dim):
    """0, 1, ... along ``dim`` of ``x``, shaped to broadcast against it."""
    dim = dim % x.ndim
    shape = [1] * x.ndim
    shape[dim] = x.shape[dim]
    return arange(x.shape[dim], device=x.device).reshape(shape)


def elu_(input, alpha: float = 1.0):
    """``elu(input, alpha, inplace=True)``, as PyTorch's ``F.elu_``."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope: float = 0.01):
    """``leaky_relu(input, negative_slope, inplace=True)``, as PyTorch's."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0):
    """``hardtanh(input, min_val, max_val, inplace=True)``, as PyTorch's."""
    return hardtanh(input, min_val, max_val, inplace=True)


def celu_(input, alpha: float = 1.0):
    """``celu(input, alpha, inplace=True)``, as PyTorch's."""
    return celu(input, alpha, inplace=True)


def selu_(input):
    """``selu(input, inplace=True)``, as PyTorch's."""
    return selu(input, inplace=True)
