"""Functional forms of the layers and losses: linear, linear_relu, relu, tanh, sigmoid, softmax,
log_softmax, dropout, cross_entropy, mse_loss.

Example::

    >>> import gpugrad.nn.functional as F
    >>> F.cross_entropy(logits, labels, label_smoothing=0.1)
"""

from __future__ import annotations

from .. import creation
from ..ops.activation import log_softmax, relu, sigmoid, softmax, tanh
from ..ops.linalg import linear, linear_relu
from ..ops.loss import cross_entropy, mse_loss

__all__ = ["linear", "linear_relu", "relu", "tanh", "sigmoid", "softmax", "log_softmax", "dropout",
           "cross_entropy", "mse_loss"]



def dropout(x, p: float = 0.5, training: bool = True):
    """Each element zeroed with probability ``p`` and the rest scaled by 1/(1-p) when
    ``training``; ``x`` unchanged otherwise. The mask comes from gpugrad's generator."""
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    keep = creation.rand(*x.shape, device=x.device) >= p
    return x * keep.astype(x.dtype) * (1.0 / (1.0 - p))
