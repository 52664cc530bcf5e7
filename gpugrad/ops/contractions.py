"""Products and distances of vectors and tensors, as PyTorch spells them: ``outer``,
``dot``, ``vdot``, ``inner``, ``tensordot``, ``kron``, ``cross``, ``cdist``, ``dist``.
Composites of the broadcasting multiply, permute/reshape, matmul, einsum and norm records:
their gradients, tangents and batching rules are those records'.

Example::

    >>> a = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    >>> b = gpugrad.tensor([3.0, 4.0, 5.0])
    >>> gpugrad.outer(a, b).tolist()
    [[3.0, 4.0, 5.0], [6.0, 8.0, 10.0]]
    >>> gpugrad.outer(a, b).sum().backward()
    >>> a.grad.tolist()                 # each row's sum of b
    [12.0, 12.0]
"""

from __future__ import annotations

import math
import numbers

from . import compare, complex_parts, elementwise, linalg, norms, reduce, shape, unary
from . import indexing
from .einsum import einsum
from .shape_errors import as_dims, checked_dim
from ..scalar_casts import as_int
from ..tensor import Tensor

__all__ = ["outer", "ger", "dot", "vdot", "inner", "tensordot", "kron", "cross", "cdist",
           "dist"]


def _vector(x, op: str, name: str = "input") -> None:
    if x.ndim != 1:
        raise ValueError(f"{op}: {name} must be a 1-d vector, got shape {tuple(x.shape)}; "
                         f"for matrices use matmul or @ (NumPy's and jnp.dot's meaning)")


def outer(input, vec2):
    """The outer product of two vectors, as ``torch.outer``: (n,), (m,) -> (n, m).

    Example::

        >>> gpugrad.outer(gpugrad.tensor([1, 2]), gpugrad.tensor([1, 10])).tolist()
        [[1, 10], [2, 20]]
    """
    _vector(input, "outer")
    _vector(vec2, "outer", "vec2")
    return shape.reshape(input, (-1, 1)) * shape.reshape(vec2, (1, -1))


ger = outer


def dot(input, tensor):
    """The inner product of two 1-d tensors of one length and dtype, as ``torch.dot``:
    (n,), (n,) -> ().

    Example::

        >>> gpugrad.dot(gpugrad.tensor([1.0, 2.0]), gpugrad.tensor([3.0, 4.0])).item()
        11.0
    """
    _vector(input, "dot")
    _vector(tensor, "dot", "tensor")
    if input.shape[0] != tensor.shape[0]:
        raise ValueError(f"dot: the vectors must have one length, got {input.shape[0]} and "
                         f"{tensor.shape[0]}")
    if input.dtype != tensor.dtype:
        raise TypeError(f"dot: the vectors must have one dtype, got {input.dtype} and "
                        f"{tensor.dtype}")
    return einsum("i,i->", input, tensor)


def vdot(input, other):
    """``dot`` with the first vector conjugated, as ``torch.vdot`` (for real tensors the
    same as ``dot``): (n,), (n,) -> (); ``sum(conj(input) * other)``.

    Example::

        >>> gpugrad.vdot(gpugrad.tensor([1.0, 2.0]), gpugrad.tensor([3.0, 4.0])).item()
        11.0
        >>> gpugrad.vdot(gpugrad.tensor([1j, 2.0]), gpugrad.tensor([1j, 1.0])).item()
        (3+0j)
    """
    if input.dtype.kind == "c":
        input = complex_parts.conj(input)
    return dot(input, other)


def tensordot(a, b, dims=2):
    """Sums of products over dimensions of ``a`` and ``b``, as ``torch.tensordot``: ``dims``
    an int (the last ``dims`` of ``a`` with the first ``dims`` of ``b``) or a pair of
    lists of dimensions (or a tensor: one integer element is the int, else two rows). The
    free dimensions of ``a`` come first, then ``b``'s.

    Example::

        >>> a, b = gpugrad.ones(2, 3, 4), gpugrad.ones(4, 3, 5)
        >>> gpugrad.tensordot(a, b, dims=([1, 2], [1, 0])).shape
        (2, 5)
        >>> gpugrad.tensordot(gpugrad.ones(2, 3), gpugrad.ones(3, 4), 1).shape
        (2, 4)
    """
    if isinstance(dims, Tensor):          # (as PyTorch's: one element, or two rows)
        dims = dims.tolist() if dims.numel() > 1 else as_int(dims.reshape(()), "tensordot",
                                                              "dims")
    if isinstance(dims, numbers.Integral):
        dims = as_int(dims, "tensordot", "dims")
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims={dims} must be from 0 to the smaller number "
                             f"of dimensions ({min(a.ndim, b.ndim)})")
        dims_a = list(range(a.ndim - dims, a.ndim))
        dims_b = list(range(dims))
    else:
        if isinstance(dims, str) or not hasattr(dims, "__len__") or len(dims) != 2:
            raise TypeError(f"tensordot: dims must be an int or a pair of dimension lists "
                            f"(dims_a, dims_b), got {dims!r}")
        dims_a, dims_b = list(as_dims(dims[0])), list(as_dims(dims[1]))
    if len(dims_a) != len(dims_b):
        raise ValueError(f"tensordot: both tensors need the same number of dimensions to "
                         f"contract, got {dims_a} and {dims_b}")
    dims_a = [checked_dim(a, d, "tensordot") for d in dims_a]
    dims_b = [checked_dim(b, d, "tensordot") for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise ValueError(f"tensordot: dimension {da} of a (size {a.shape[da]}) and "
                             f"dimension {db} of b (size {b.shape[db]}) must match")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    size = math.prod(a.shape[d] for d in dims_a)
    left = shape.reshape(shape.permute(a, free_a + dims_a) if a.ndim else a,
                         (math.prod(a.shape[d] for d in free_a), size))
    right = shape.reshape(shape.permute(b, dims_b + free_b) if b.ndim else b,
                          (size, math.prod(b.shape[d] for d in free_b)))
    out = linalg.matmul(left, right)
    return shape.reshape(out, tuple(a.shape[d] for d in free_a) +
                         tuple(b.shape[d] for d in free_b))


def inner(input, other):
    """Sums of products over the last dimension of both, as ``torch.inner`` (a 0-d operand
    multiplies): (..., n), (..., n) -> input's leading shape + other's leading shape.

    Example::

        >>> gpugrad.inner(gpugrad.ones(2, 3), gpugrad.ones(4, 3)).shape
        (2, 4)
    """
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise ValueError(f"inner: the last dimensions must match, got shapes "
                         f"{tuple(input.shape)} and {tuple(other.shape)}")
    return tensordot(input, other, ([input.ndim - 1], [other.ndim - 1]))


def kron(input, other):
    """The Kronecker product, as ``torch.kron``: the operands padded with leading 1s to one
    number of dimensions; (a0, a1, ...), (b0, b1, ...) -> (a0 * b0, a1 * b1, ...).

    Example::

        >>> gpugrad.kron(gpugrad.tensor([1, 2]), gpugrad.tensor([1, 10])).tolist()
        [1, 10, 2, 20]
    """
    ndim = max(input.ndim, other.ndim)
    sa = (1,) * (ndim - input.ndim) + tuple(input.shape)
    sb = (1,) * (ndim - other.ndim) + tuple(other.shape)
    a = shape.reshape(input, tuple(s for n in sa for s in (n, 1)))
    b = shape.reshape(other, tuple(s for n in sb for s in (1, n)))
    return shape.reshape(a * b, tuple(m * n for m, n in zip(sa, sb)))


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (the two broadcast), as
    ``torch.cross``; ``dim=None`` takes the first dimension of size 3 (as PyTorch's
    deprecated default; ``torch.linalg.cross`` uses -1).

    Example::

        >>> gpugrad.cross(gpugrad.tensor([1.0, 0.0, 0.0]), gpugrad.tensor([0.0, 1.0, 0.0]),
        ...               dim=0).tolist()
        [0.0, 0.0, 1.0]
    """
    if tuple(input.shape) != tuple(other.shape):
        from .rearrange import broadcast_tensors
        input, other = broadcast_tensors(input, other)
    if dim is None:
        dim = next((d for d, n in enumerate(input.shape) if n == 3), None)
        if dim is None:
            raise ValueError(f"cross: no dimension of size 3 in shape {tuple(input.shape)}")
    axis = checked_dim(input, dim, "cross")
    if input.ndim == 0 or input.shape[axis] != 3:
        raise ValueError(f"cross: dimension {dim} must have size 3, got shape "
                         f"{tuple(input.shape)}")
    lead = (slice(None),) * axis

    def turned(x, order):
        return indexing.getitem(x, lead + (list(order),))

    return turned(input, (1, 2, 0)) * turned(other, (2, 0, 1)) - \
        turned(input, (2, 0, 1)) * turned(other, (1, 2, 0))


def _euclidean_by_matmul(x1, x2):
    """PyTorch's matmul form of Euclidean distances: |a|^2 + |b|^2 - 2 a.b, clamped at 0;
    zero distances (and their gradients) are 0."""
    n1 = reduce.sum(x1 * x1, axis=-1, keepdims=True)                   # (..., P, 1)
    n2 = reduce.sum(x2 * x2, axis=-1, keepdims=True)                   # (..., R, 1)
    squared = n1 + shape.transpose(n2, -2, -1) - 2.0 * linalg.matmul(x1, shape.transpose(
        x2, -2, -1))
    squared = unary.clamp(squared, min=0.0)
    zero = compare.equal(squared, 0)
    return elementwise.where(zero, 0.0, unary.sqrt(elementwise.where(zero, 1.0, squared)))


_COMPUTE_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                  "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"):
    """The ``p``-norm distance between each row of ``x1`` and each row of ``x2``, as
    ``torch.cdist`` (batch dimensions broadcast). For ``p=2`` PyTorch's ``compute_mode``
    decides between a matmul form (faster, less exact; by default when either has more than
    25 rows) and differences; the gradient at a zero distance is 0, as PyTorch's.

    Shapes: (..., P, M), (..., R, M) -> (..., P, R).

    Example::

        >>> a = gpugrad.tensor([[0.0, 0.0], [3.0, 4.0]])
        >>> gpugrad.cdist(a, a).tolist()
        [[0.0, 5.0], [5.0, 0.0]]
    """
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"cdist: x1 and x2 must be at least 2-d with the same number of "
                         f"columns, got shapes {tuple(x1.shape)} and {tuple(x2.shape)}")
    if x1.dtype.kind != "f" or x2.dtype.kind != "f":
        raise TypeError(f"cdist: float tensors only, got {x1.dtype} and {x2.dtype}")
    if getattr(p, "ndim", None) == 0:                   # a 0-d tensor or array: its number
        p = p.item()
    if not isinstance(p, numbers.Real) or p < 0:
        raise ValueError(f"cdist: p must be a non-negative number, got {p!r}")
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"cdist: compute_mode must be one of {_COMPUTE_MODES}, got "
                         f"{compute_mode!r}")
    batch = _batch_shape(x1.shape[:-2], x2.shape[:-2])
    x1 = shape.expand_to(x1, batch + tuple(x1.shape[-2:]))
    x2 = shape.expand_to(x2, batch + tuple(x2.shape[-2:]))
    rows1, rows2 = x1.shape[-2], x2.shape[-2]
    by_matmul = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == "use_mm_for_euclid_dist_if_necessary" and (rows1 > 25 or rows2 > 25)))
    if by_matmul:
        return _euclidean_by_matmul(x1, x2)
    differences = shape.unsqueeze(x1, -2) - shape.unsqueeze(x2, -3)       # (..., P, R, M)
    return norms.vector_norm(differences, p, dim=-1)


def _batch_shape(a, b) -> tuple:
    from .rearrange import broadcast_shapes
    return broadcast_shapes(tuple(a), tuple(b))


def dist(input, other, p: float = 2):
    """The ``p``-norm of ``input - other`` (broadcast), as ``torch.dist``: a 0-d tensor;
    its gradient at zero is 0.

    Example::

        >>> gpugrad.dist(gpugrad.tensor([0.0, 0.0]), gpugrad.tensor([3.0, 4.0])).item()
        5.0
    """
    return norms.vector_norm(input - other, p)


METHODS: dict = {
    "outer": outer, "ger": ger, "dot": dot, "vdot": vdot, "inner": inner,
    "kron": kron, "cross": cross, "dist": dist,
}
