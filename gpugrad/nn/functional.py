"""Functional forms of the layers and losses: linear, linear_relu, relu, tanh, sigmoid, softmax,
log_softmax, dropout, cross_entropy, mse_loss; gelu, silu, softplus, leaky_relu, elu,
hardtanh, relu6 (activation_functions.py); l1_loss, smooth_l1_loss, huber_loss,
binary_cross_entropy(_with_logits), nll_loss, kl_div (loss_functions.py); embedding and
one_hot (embedding.py); layer_norm, normalize and cosine_similarity (normalization.py);
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

from .. import creation
from ..ops.activation import log_softmax, relu, sigmoid, softmax, tanh
from ..ops.linalg import linear, linear_relu
from ..ops.loss import cross_entropy, mse_loss
from .activation_functions import elu, gelu, hardtanh, leaky_relu, relu6, silu, softplus
from .embedding import embedding, one_hot
from .loss_functions import (binary_cross_entropy, binary_cross_entropy_with_logits, huber_loss,
                             kl_div, l1_loss, nll_loss, smooth_l1_loss)
from .normalization import cosine_similarity, layer_norm, normalize
from .padding import pad

__all__ = ["linear", "linear_relu", "relu", "tanh", "sigmoid", "softmax", "log_softmax", "dropout",
           "cross_entropy", "mse_loss", "embedding", "one_hot", "cosine_similarity",
           "layer_norm", "normalize", "elu", "gelu", "hardtanh", "leaky_relu", "relu6", "silu",
           "softplus", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "huber_loss", "kl_div", "l1_loss", "nll_loss", "smooth_l1_loss", "pad"]


def dropout(x, p: float = 0.5, training: bool = True):
    """Each element zeroed with probability ``p`` and the rest scaled by 1/(1-p) when
    ``training``; ``x`` unchanged otherwise. The mask comes from gpugrad's generator.

    Example::

        >>> sorted(set(F.dropout(gpugrad.ones(1000), p=0.5).tolist()))   # 0, or 1 / (1 - p)
        [0.0, 2.0]
        >>> F.dropout(gpugrad.ones(3), p=0.5, training=False)
        tensor([1., 1., 1.], device='cpu', dtype=float32)
    """
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    keep = creation.rand(*x.shape, device=x.device) >= p
    return x * keep.astype(x.dtype) * (1.0 / (1.0 - p))
