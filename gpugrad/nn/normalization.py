"""Normalisation as PyTorch has it: ``layer_norm`` and the ``LayerNorm`` layer, ``normalize``
and ``cosine_similarity``. Composites of gpugrad ops (their gradients, tangents and batching
come from those).

Example::

    >>> ln = nn.LayerNorm(4)
    >>> y = ln(gpugrad.tensor([[1.0, 2.0, 3.0, 4.0]]))
    >>> [round(v, 4) for v in y[0].tolist()]           # (x - mean) / sqrt(var + eps)
    [-1.3416, -0.4472, 0.4472, 1.3416]
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import creation
from ..ops import reduce, shape, unary
from ..ops.norms import vector_norm
from .module import Module, Parameter

__all__ = ["layer_norm", "normalize", "cosine_similarity", "LayerNorm"]


def _as_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` over the last
    ``len(normalized_shape)`` dimensions (the biased variance), as ``F.layer_norm``.

    Shapes: ``input`` (..., *normalized_shape); ``weight`` and ``bias`` normalized_shape.

    Example::

        >>> y = F.layer_norm(gpugrad.tensor([[0.0, 2.0]]), (2,))
        >>> [round(v, 3) for v in y[0].tolist()]
        [-1.0, 1.0]
    """
    norm_shape = _as_shape(normalized_shape)
    k = len(norm_shape)
    if not k or input.ndim < k or tuple(input.shape[-k:]) != norm_shape:
        raise ValueError(f"layer_norm: the input's last dimensions must be normalized_shape "
                         f"{norm_shape}, got input of shape {tuple(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != norm_shape:
            raise ValueError(f"layer_norm: {name} must have shape {norm_shape}, got "
                             f"{tuple(t.shape)}")
    axes = tuple(range(input.ndim - k, input.ndim))
    centred = input - reduce.mean(input, axis=axes, keepdims=True)
    variance = reduce.mean(centred * centred, axis=axes, keepdims=True)
    out = centred / unary.sqrt(variance + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12):
    """``input / max(||input||_p, eps)`` along ``dim``, as ``F.normalize``.

    Example::

        >>> F.normalize(gpugrad.tensor([[3.0, 4.0]])).tolist()
        [[0.6000000238418579, 0.800000011920929]]
    """
    norm = vector_norm(input, p, dim, keepdim=True)
    return input / unary.clamp(norm, min=eps)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim`` (broadcast), each
    divided by ``max(||x||, eps)``, as ``F.cosine_similarity`` in PyTorch 2.

    Shapes: (..., D, ...) twice -> the broadcast shape without ``dim``.

    Example::

        >>> a, b = gpugrad.tensor([[1.0, 0.0]]), gpugrad.tensor([[1.0, 1.0]])
        >>> round(F.cosine_similarity(a, b).item(), 4)     # cos 45 degrees
        0.7071
    """
    common = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = shape.broadcast_to(x1, common), shape.broadcast_to(x2, common)
    n1 = unary.clamp(vector_norm(x1, 2, dim, keepdim=True), min=eps)
    n2 = unary.clamp(vector_norm(x2, 2, dim, keepdim=True), min=eps)
    return reduce.sum((x1 / n1) * (x2 / n2), axis=dim)


class LayerNorm(Module):
    """Layer normalisation over the last dimensions, with a learnable per-element scale
    (ones) and shift (zeros), as ``nn.LayerNorm``. Shapes: (..., *normalized_shape) kept.

    Example::

        >>> nn.LayerNorm((2, 3))(gpugrad.randn(4, 2, 3)).shape
        (4, 2, 3)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape, self.eps = _as_shape(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*self.normalized_shape, device=device,
                                                  dtype=dtype))
            if bias:
                self.bias = Parameter(creation.zeros(*self.normalized_shape, device=device,
                                                     dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
