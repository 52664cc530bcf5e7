"""Integer labels in, vectors out, as PyTorch has them: ``one_hot``, ``embedding`` and the
``Embedding`` layer (a row lookup whose gradient adds into the rows used).

Example::

    >>> table = nn.Embedding(10, 3)
    >>> table(gpugrad.tensor([[1, 2], [4, 1]])).shape     # (2, 2) indices -> (2, 2, 3)
    (2, 2, 3)
"""

from __future__ import annotations

import numbers

from .. import creation
from ..ops import compare, elementwise, indexing
from ..ops.selection import check_index_range, integer_index
from ..autograd.mode import no_grad
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
    if num_classes == -1:
        if not tensor.numel():
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass it")
        num_classes = int(tensor.max().item()) + 1
    if not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive int or -1, got "
                         f"{num_classes!r}")
    check_index_range(tensor, num_classes, "one_hot", "the classes")
    classes = creation.arange(num_classes, device=tensor.device)
    return compare.equal(tensor.unsqueeze(-1), classes).astype("int64")


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False):
    """The rows of ``weight`` (num_embeddings, dim) at the integer ``input`` indices, as
    ``F.embedding``: shape ``input.shape + (dim,)``. The row at ``padding_idx`` gets no
    gradient. ``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not supported.

    Example::

        >>> w = gpugrad.tensor([[0.0, 0.0], [1.0, 2.0]])
        >>> F.embedding(gpugrad.tensor([1, 1, 0]), w).tolist()
        [[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]]
    """
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported; renormalise the weight yourself, under no_grad")
    integer_index(input, "embedding")
    if weight.ndim != 2:
        raise ValueError(f"embedding: the weight must be 2-d (num_embeddings, dim), got "
                         f"shape {tuple(weight.shape)}")
    check_index_range(input, weight.shape[0], "embedding", "the weight's rows")
    rows = indexing.getitem(weight, input)
    if padding_idx is None:
        return rows
    padding_idx = _padding_index(padding_idx, weight.shape[0])
    padded = compare.equal(input, padding_idx).unsqueeze(-1)
    return elementwise.where(padded, rows.detach(), rows)      # no gradient into that row


def _padding_index(padding_idx, num_embeddings: int) -> int:
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"padding_idx must be within the {num_embeddings} embeddings, got "
                         f"{padding_idx}")
    return padding_idx % num_embeddings


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by integer
    index, as ``nn.Embedding``: initialised standard normal (the ``padding_idx`` row zero).
    Shapes: (...) int -> (..., embedding_dim).

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
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: max_norm, scale_grad_by_freq and sparse are "
                                      "not supported; renormalise the weight yourself, under "
                                      "no_grad")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
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
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
