"""Functions of two inputs, as PyTorch's: ``pairwise_distance`` and ``bilinear`` with their
modules PairwiseDistance and Bilinear, and the CosineSimilarity module (its function is
``normalization.cosine_similarity``). Composites of gpugrad ops.

Example::

    >>> from gpugrad.nn.pairwise import pairwise_distance
    >>> a, b = gpugrad.tensor([[3.0, 0.0]]), gpugrad.tensor([[0.0, 4.0]])
    >>> round(pairwise_distance(a, b, eps=0.0).item(), 6)       # ||a - b||
    5.0
"""

from __future__ import annotations

import math

import numpy as np

from .. import creation
from ..ops.einsum import einsum
from ..ops.norms import vector_norm
from ..ops.unary import _float
from . import init
from .module import Module, Parameter
from .normalization import cosine_similarity

__all__ = ["pairwise_distance", "bilinear", "PairwiseDistance", "CosineSimilarity", "Bilinear"]


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """The ``p``-norm of ``x1 - x2 + eps`` along the last axis (of the broadcast shape), as
    PyTorch's (``eps`` keeps the gradient finite where ``x1 == x2``).

    Shapes: (N, D) and (N, D) (or broadcasting to one shape) -> (N,), or (N, 1) with
    ``keepdim``; (D,) and (D,) -> ().

    Example::

        >>> from gpugrad.nn.pairwise import pairwise_distance
        >>> pairwise_distance(gpugrad.tensor([[1.0, 1.0]]), gpugrad.zeros(1, 2), p=1, eps=0.0)
        tensor([2.], device='cpu', dtype=float32)
    """
    ndim = max(x1.ndim, x2.ndim)
    if ndim == 0:
        raise ValueError("pairwise_distance: the inputs are 0-d; give vectors (D,) or "
                         "batches of vectors (N, D)")
    try:
        np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise ValueError(f"pairwise_distance: x1 of shape {tuple(x1.shape)} and x2 of shape "
                         f"{tuple(x2.shape)} do not broadcast; give them one shape") from None
    return vector_norm(_float(x1) - _float(x2) + eps, p, dim=-1, keepdim=keepdim)


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]``.

    Shapes: input1 (..., in1), input2 (..., in2), weight (out, in1, in2), bias (out,) ->
    (..., out).

    Example::

        >>> from gpugrad.nn.pairwise import bilinear
        >>> w = gpugrad.ones(1, 2, 3)
        >>> bilinear(gpugrad.tensor([[1.0, 2.0]]), gpugrad.ones(1, 3), w)      # 3 * (1 + 2)
        tensor([[9.]], device='cpu', dtype=float32)
    """
    if weight.ndim != 3:
        raise ValueError(f"bilinear: weight must be 3-d (out, in1, in2), got shape "
                         f"{tuple(weight.shape)}")
    out, in1, in2 = weight.shape
    if input1.ndim == 0 or input1.shape[-1] != in1 or input2.ndim == 0 or \
            input2.shape[-1] != in2 or tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise ValueError(f"bilinear: input1 of shape {tuple(input1.shape)} and input2 of shape "
                         f"{tuple(input2.shape)} must be (..., {in1}) and (..., {in2}) with "
                         f"the same leading shape, for weight of shape {tuple(weight.shape)}")
    if bias is not None and tuple(bias.shape) != (out,):
        raise ValueError(f"bilinear: bias must have shape ({out},), got {tuple(bias.shape)}")
    y = einsum("...i,oij,...j->...o", _float(input1), weight, _float(input2))
    return y if bias is None else y + bias


class PairwiseDistance(Module):
    """``pairwise_distance(x1, x2, p, eps, keepdim)``.

    Example::

        >>> from gpugrad.nn.pairwise import PairwiseDistance
        >>> PairwiseDistance(p=1.0)
        PairwiseDistance()
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """``cosine_similarity(x1, x2, dim, eps)``: (..., D, ...) twice -> without ``dim``.

    Example::

        >>> from gpugrad.nn.pairwise import CosineSimilarity
        >>> CosineSimilarity(dim=0)(gpugrad.tensor([1.0, 0.0]), gpugrad.tensor([2.0, 0.0]))
        tensor(1., device='cpu', dtype=float32)
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return cosine_similarity(x1, x2, self.dim, self.eps)


class Bilinear(Module):
    """``y = x1^T W x2 + b`` with W of shape (out, in1, in2) and b of shape (out,), both
    initialised uniform in [-1/sqrt(in1), 1/sqrt(in1)] as PyTorch's.

    Shapes: (..., in1) and (..., in2) -> (..., out).

    Example::

        >>> layer = nn.Bilinear(3, 4, 5)
        >>> layer(gpugrad.randn(2, 3), gpugrad.randn(2, 4)).shape, layer
        ((2, 5), Bilinear(in1_features=3, in2_features=4, out_features=5, bias=True))
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty(out_features, in1_features, in2_features,
                                               device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight and bias drawn again uniform in [-1/sqrt(in1), 1/sqrt(in1)], in place."""
        bound = 1.0 / math.sqrt(self.in1_features) if self.in1_features else 0.0
        for p in (self.weight, self.bias):
            if p is not None:
                init.uniform_(p, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
