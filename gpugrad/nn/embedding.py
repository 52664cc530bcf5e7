"""Integer labels in, vectors out, as PyTorch has them: ``one_hot``, ``embedding`` and the
``Embedding`` layer (a row lookup whose gradient adds into the rows used).

Example::

    >>> table = nn.Embedding(10, 3)
    >>> table(gpugrad.tensor([[1, 2], [4, 1]])).shape     # (2, 2) indices -> (2, 2, 3)
    (2, 2, 3)
"""

from __future__ import annotations

import numpy as np

from .. import backend, creation
from ..ops import compare, elementwise, indexing, norms, scatter_ops
from ..ops.selection import check_index_range, integer_index
from ..ops.shape_errors import ShapeError
from ..scalar_casts import as_int
from ..autograd.compile_mode import kernel, written
from ..autograd.function import Function
from ..autograd.mode import no_grad
from ..tensor import Tensor
from . import init
from .module import Module, Parameter

__all__ = ["one_hot", "embedding", "Embedding"]


def one_hot(tensor, num_classes: int = -1):
    """``tensor`` of class indices (int) as one-hot rows: shape ``tensor.shape +
    (num_classes,)``, int64, as ``F.one_hot``. ``num_classes=-1``: the largest index + 1
    (a host read).

    Example::

        >>> F.one_hot(gpugrad.tensor([0, 2]), 3).tolist()
        [[1, 0, 0], [0, 0, 1]]
    """
    integer_index(tensor, "one_hot")
    num_classes = as_int(num_classes, "one_hot", "num_classes")     # (or a 0-d tensor)
    if num_classes == -1:
        if not tensor.numel():
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass it")
        num_classes = int(tensor.max().item()) + 1
    if num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive int or -1, got "
                         f"{num_classes!r}")
    check_index_range(tensor, num_classes, "one_hot", "the classes")
    classes = creation.arange(num_classes, device=tensor.device)
    return compare.equal(tensor.unsqueeze(-1), classes).astype("int64")


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False):
    """The rows of ``weight`` (num_embeddings, dim) at the integer ``input`` indices, as
    ``F.embedding``: shape ``input.shape + (dim,)``. The row at ``padding_idx`` gets no
    gradient. With ``max_norm``, each row looked up whose ``norm_type``-norm exceeds it is
    first scaled in place (under no_grad) to norm ``max_norm``, as PyTorch's; with
    ``scale_grad_by_freq``, a row's gradient is divided by how often its index occurs in
    ``input``. Both are shape-static (a compiled or captured step may hold them) and work
    inside ``vmap`` (per example). ``sparse`` gradients are not supported.

    Example::

        >>> w = gpugrad.tensor([[0.0, 0.0], [3.0, 4.0]])
        >>> F.embedding(gpugrad.tensor([1, 1, 0]), w).tolist()
        [[3.0, 4.0], [3.0, 4.0], [0.0, 0.0]]
        >>> F.embedding(gpugrad.tensor([1]), w, max_norm=1.0).tolist(), w[1].tolist()
        ([[0.6000000238418579, 0.800000011920929]], [0.6000000238418579, 0.800000011920929])
    """
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported; pass "
                                  "sparse=False (the gradient is a dense tensor)")
    integer_index(input, "embedding")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: the weight must be 2-d (num_embeddings, dim), got "
                         f"shape {tuple(weight.shape)}")
    check_index_range(input, weight.shape[0], "embedding", "the weight's rows")
    batched = input._batched or weight._batched         # (inside vmap: gpugrad ops)
    if max_norm is not None and batched:
        _renorm_rows_batched(weight, input, float(max_norm), float(norm_type))
    elif max_norm is not None:          # (one in-place write, as a compiled step's line)
        written(_renorm_rows, [weight._version_counter], weight._array, input._array,
                float(max_norm), float(norm_type))
    rows = indexing.getitem(weight, input)
    if scale_grad_by_freq and rows.requires_grad:
        scale = (_inverse_counts_batched(input, weight.shape[0], rows.dtype) if batched else
                 Tensor._wrap(kernel(_inverse_counts, input._array, weight.shape[0],
                                     rows.dtype)))
        rows = _ScaleGrad.apply(rows, scale)
    if padding_idx is None:
        return rows
    padding_idx = _padding_index(padding_idx, weight.shape[0])
    padded = compare.equal(input, padding_idx).unsqueeze(-1)
    return elementwise.where(padded, rows.detach(), rows)      # no gradient into that row


def _renorm_rows(weight, index, max_norm: float, norm_type: float) -> None:
    """Scale in place each row of the raw array ``weight`` that ``index`` looks up whose
    ``norm_type``-norm exceeds ``max_norm`` by ``max_norm / (norm + 1e-7)``, as PyTorch's
    ``embedding_renorm_``: the norm in the weight's dtype (float16's summed in float32), the
    factor in float64. Shape-static and sync-free (a compiled or captured step's line): a
    repeated index writes its row several times, each time with the same value."""
    xp = backend.xp_of(weight)
    rows = index.ravel()
    picked = weight[rows]
    summed = picked.astype(np.float32) if picked.dtype == np.float16 else picked
    norms = xp.linalg.norm(summed, ord=norm_type, axis=1).astype(np.float64)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    weight[rows] = picked * scale.astype(picked.dtype)[:, None]


def _inverse_counts(index, num_embeddings: int, dtype):
    """1 / (how often each element of the raw ``index`` occurs in it), shape index.shape +
    (1,): the gradient scale of ``scale_grad_by_freq``. Counted by a scatter-add into
    ``num_embeddings`` zeros: shape-static and sync-free, unlike ``bincount``."""
    xp = backend.xp_of(index)
    flat = index.ravel()
    counts = xp.zeros(num_embeddings, dtype=np.int32)
    xp.add.at(counts, flat, 1)                  # (integers: the same in any order)
    return (1.0 / counts[flat]).astype(dtype).reshape(index.shape + (1,))


def _renorm_rows_batched(weight, input, max_norm: float, norm_type: float) -> None:
    """``_renorm_rows`` in gpugrad ops, for a weight or input batched by ``vmap`` (each
    example renormalises the rows it looks up, in place, as PyTorch's)."""
    if not weight._batched:
        raise RuntimeError("embedding: max_norm renormalises the weight's rows in place, but "
                           "inside vmap here the weight is shared by every example while the "
                           "indices differ per example (PyTorch refuses it too); renormalise "
                           "once before vmap (F.embedding(all_indices, weight, max_norm=...) "
                           "under no_grad) and pass max_norm=None inside, or vmap the weight")
    with no_grad():
        flat = input.reshape(-1)
        picked = indexing.getitem(weight, flat)
        norm = norms.vector_norm(picked, norm_type, dim=1, keepdim=True).astype("float64")
        scale = elementwise.where(norm > max_norm, max_norm / (norm + 1e-7), 1.0)
        weight[flat] = picked * scale.astype(picked.dtype)


def _inverse_counts_batched(input, num_embeddings: int, dtype) -> Tensor:
    """``_inverse_counts`` in gpugrad ops, for an input batched by ``vmap`` (counts per
    example)."""
    flat = input.reshape(-1)
    ones = creation.ones(flat.shape[0], dtype=dtype, device=input.device)
    counts = scatter_ops.scatter_add(creation.zeros(num_embeddings, dtype=dtype,
                                                    device=input.device), 0, flat, ones)
    return (1.0 / indexing.getitem(counts, flat)).reshape(tuple(input.shape) + (1,))


class _ScaleGrad(Function):
    """The identity on ``x``, whose gradient is multiplied by ``scale`` (broadcast to x):
    ``scale_grad_by_freq``'s 1 / count of each looked-up index."""

    generate_vmap_rule = True

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x

    @staticmethod
    def backward(ctx, g):
        return g * ctx.scale, None

    @staticmethod
    def jvp(ctx, t, _):
        return t


def _padding_index(padding_idx, num_embeddings: int) -> int:
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"padding_idx must be within the {num_embeddings} embeddings, got "
                         f"{padding_idx}")
    return padding_idx % num_embeddings


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by integer
    index, as ``nn.Embedding``: initialised standard normal (the ``padding_idx`` row zero).
    Shapes: (...) int -> (..., embedding_dim).

    ``max_norm``, ``norm_type`` and ``scale_grad_by_freq``: see ``F.embedding``.

    Example::

        >>> e = nn.Embedding(4, 2, padding_idx=0)
        >>> e.weight[0].tolist()
        [0.0, 0.0]
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None,
                 max_norm=None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight=None, _freeze: bool = False, device=None,
                 dtype=None):
        super().__init__()
        if sparse:
            raise NotImplementedError("Embedding: sparse gradients are not supported; pass "
                                      "sparse=False (the gradient is a dense tensor)")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.padding_idx = (None if padding_idx is None
                            else _padding_index(padding_idx, num_embeddings))
        if _weight is None:
            weight = creation.randn(num_embeddings, embedding_dim, device=device, dtype=dtype)
            if self.padding_idx is not None:
                weight[self.padding_idx] = 0.0
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape ({num_embeddings}, "
                                 f"{embedding_dim}), got {tuple(_weight.shape)}")
            weight = _weight.detach()
        self.weight = Parameter(weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """Draw the weight again, standard normal with the ``padding_idx`` row zero, in
        place."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, **kwargs):
        """An Embedding over the rows of the 2-d tensor ``embeddings`` (shared, not copied,
        as PyTorch's), frozen unless ``freeze=False``.

        Example::

            >>> e = nn.Embedding.from_pretrained(gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]]))
            >>> e(gpugrad.tensor([1])).tolist(), e.weight.requires_grad
            ([[3.0, 4.0]], False)
        """
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-d, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx=padding_idx, _weight=embeddings, _freeze=freeze,
                   **kwargs)

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return text
