"""Normalisation as PyTorch has it: ``layer_norm``, ``rms_norm`` and ``group_norm`` and
their layers, ``normalize`` and ``cosine_similarity`` (batch norm: batch_norm.py).
Composites of gpugrad ops (their gradients, tangents and batching come from those).

Example::

    >>> ln = nn.LayerNorm(4)
    >>> y = ln(gpugrad.tensor([[1.0, 2.0, 3.0, 4.0]]))
    >>> [round(v, 4) for v in y[0].tolist()]           # (x - mean) / sqrt(var + eps)
    [-1.3416, -0.4472, 0.4472, 1.3416]
"""

from __future__ import annotations

import numbers

import numpy as np

from ..ops.complex_node import refuse_complex
from .. import creation
from ..ops import reduce, shape, unary
from ..ops.norms import vector_norm
from ..ops.shape_errors import ShapeError
from . import init
from .module import Module, Parameter

__all__ = ["layer_norm", "rms_norm", "group_norm", "normalize", "cosine_similarity",
           "LayerNorm", "RMSNorm", "GroupNorm"]


_PARTS = "normalise x.real and x.imag (or x.abs()) instead"


def _as_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


def _last_dims(input, normalized_shape, name: str) -> tuple:
    """The axes of ``input``'s last dimensions, checked to be ``normalized_shape``."""
    norm_shape = _as_shape(normalized_shape)
    k = len(norm_shape)
    if not k or input.ndim < k or tuple(input.shape[-k:]) != norm_shape:
        raise ShapeError(f"{name}: the input's last dimensions must be normalized_shape "
                         f"{norm_shape}, got input of shape {tuple(input.shape)}")
    return tuple(range(input.ndim - k, input.ndim))


def widened(input):
    """float16 ``input`` as float32, else ``input``: the normalisations take their
    statistics in float32 (float16's squares overflow at 65504) and give float16 back, as
    PyTorch's."""
    return input.astype("float32") if input.dtype == "float16" else input


def narrowed(out, input):
    """``out``, computed from ``widened(input)``, back in ``input``'s dtype (float16)."""
    return out.astype(input.dtype) if input.dtype == "float16" else out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` over the last
    ``len(normalized_shape)`` dimensions (the biased variance), as ``F.layer_norm``
    (float16 computed in float32; complex refused, as PyTorch's).

    Shapes: ``input`` (..., *normalized_shape); ``weight`` and ``bias`` normalized_shape.

    Example::

        >>> y = F.layer_norm(gpugrad.tensor([[0.0, 2.0]]), (2,))
        >>> [round(v, 3) for v in y[0].tolist()]
        [-1.0, 1.0]
    """
    refuse_complex("layer_norm", input, weight, bias, ordered=False, hint=_PARTS)
    axes = _last_dims(input, normalized_shape, "layer_norm")
    norm_shape = _as_shape(normalized_shape)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != norm_shape:
            raise ShapeError(f"layer_norm: {name} must have shape {norm_shape}, got "
                             f"{tuple(t.shape)}")
    work = widened(input)
    centred = work - reduce.mean(work, axis=axes, keepdims=True)
    variance = reduce.mean(centred * centred, axis=axes, keepdims=True)
    out = centred / unary.sqrt(variance + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return narrowed(out, input)


def rms_norm(input, normalized_shape, weight=None, eps: float | None = None):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the last ``len(normalized_shape)``
    dimensions, as ``F.rms_norm`` (``eps`` None: the machine epsilon of x's dtype, of
    float32 for float16, which is computed in float32, as PyTorch's).

    Example::

        >>> F.rms_norm(gpugrad.tensor([[3.0, 4.0]], dtype="float64"), (2,)).tolist()
        [[0.848528137423857, 1.131370849898476]]
    """
    axes = _last_dims(input, normalized_shape, "rms_norm")
    work = widened(input)
    if eps is None:
        eps = float(np.finfo(work.dtype).eps)
    out = work / unary.sqrt(reduce.mean(work * work, axis=axes, keepdims=True) + eps)
    return narrowed(out if weight is None else out * weight, input)


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Normalise ``input`` (N, C, ...) over each group of ``C / num_groups`` channels (and
    the remaining dimensions), with the biased variance, then scale and shift per channel
    by ``weight`` and ``bias`` (C,), as ``F.group_norm`` (float16 computed in float32;
    complex refused, as PyTorch's).

    Example::

        >>> x = gpugrad.tensor([[1.0, 3.0, 10.0, 30.0]], dtype="float64")
        >>> [round(v, 4) for v in F.group_norm(x, 2)[0].tolist()]
        [-1.0, 1.0, -1.0, 1.0]
    """
    refuse_complex("group_norm", input, weight, bias, ordered=False, hint=_PARTS)
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ShapeError(f"group_norm: input must be (N, C, ...) with C divisible by "
                         f"num_groups={num_groups}, got shape {tuple(input.shape)}")
    n, channels = input.shape[0], input.shape[1]
    grouped = shape.reshape(widened(input), (n, num_groups, -1))
    centred = grouped - reduce.mean(grouped, axis=2, keepdims=True)
    variance = reduce.mean(centred * centred, axis=2, keepdims=True)
    out = shape.reshape(centred / unary.sqrt(variance + eps), tuple(input.shape))
    view = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * shape.reshape(weight, view)
    if bias is not None:
        out = out + shape.reshape(bias, view)
    return narrowed(out, input)


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
    refuse_complex("cosine_similarity", x1, x2, ordered=False)
    common = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = shape.broadcast_to(x1, common), shape.broadcast_to(x2, common)
    n1 = unary.clamp(vector_norm(x1, 2, dim, keepdim=True), min=eps)
    n2 = unary.clamp(vector_norm(x2, 2, dim, keepdim=True), min=eps)
    return reduce.sum((x1 / n1) * (x2 / n2), axis=dim)


class _ScaleAndShift(Module):
    """A normalisation layer with an optional learnable scale (``weight``) and shift
    (``bias``)."""

    def reset_parameters(self) -> None:
        """The scale back to ones and the shift to zeros, in place (as at the start)."""
        for name, fill in (("weight", init.ones_), ("bias", init.zeros_)):
            p = getattr(self, name, None)
            if p is not None:
                fill(p)


class LayerNorm(_ScaleAndShift):
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

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(_ScaleAndShift):
    """Root-mean-square normalisation over the last dimensions with a learnable
    per-element scale (ones), as ``nn.RMSNorm``. Shapes: (..., *normalized_shape) kept.

    Example::

        >>> nn.RMSNorm(3)(gpugrad.randn(4, 3)).shape
        (4, 3)
    """

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape, self.eps = _as_shape(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.ones(*self.normalized_shape, device=device,
                                                  dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def forward(self, input):
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(_ScaleAndShift):
    """Group normalisation of (N, C, ...) inputs with a learnable per-channel scale (ones)
    and shift (zeros; none with ``bias=False``), as ``nn.GroupNorm``. Shapes: kept.

    Example::

        >>> nn.GroupNorm(2, 4)(gpugrad.randn(3, 4)).shape
        (3, 4)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        self.affine = affine
        if affine:
            self.weight = Parameter(creation.ones(num_channels, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(creation.zeros(num_channels, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ShapeError(f"GroupNorm({self.num_groups}, {self.num_channels}) got an input "
                             f"of shape {tuple(input.shape)}; expected "
                             f"(N, {self.num_channels}, ...)")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
