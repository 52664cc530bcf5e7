"""Functional forms of the layers and losses: linear, linear_relu, relu, tanh, sigmoid, softmax,
log_softmax, dropout, cross_entropy, mse_loss.

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

__all__ = ["linear", "linear_relu", "relu", "tanh", "sigmoid", "softmax", "log_softmax", "dropout",
           "cross_entropy", "mse_loss"]



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
