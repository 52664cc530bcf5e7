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
from ..autograd.capture_mode import is_step_capturing
from ..autograd.compile_mode import is_compiling
from ..ops import compare, elementwise, indexing
from .module import Module, Parameter

__all__ = ["one_hot", "embedding", "Embedding"]


def _labels(t, op: str):
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: the indices must be an integer tensor, got {t.dtype}")
    return t


def _check_range(indices, size: int, op: str, what: str) -> None:
    """Every index in [0, size): read on the host (skipped inside a captured or compiled
    step, which cannot read values; out-of-range indices there are undefined)."""
    if is_step_capturing() or is_compiling() or indices._batched or not indices.numel():
        return
    low, high = int(indices.min().item()), int(indices.max().item())
    if low < 0 or high >= size:
        raise IndexError(f"{op}: indices must be in [0, {size}) ({what}), got values from "
                         f"{low} to {high}")


def one_hot(tensor, num_classes: int = -1):
    """``tensor`` of class indices (int) as one-hot rows: shape ``tensor.shape +
    (num_classes,)``, int64, as ``F.one_hot``. ``num_classes=-1``: the largest index + 1
    (a host read).

    Example::

        >>> F.one_hot(gpugrad.tensor([0, 2]), 3).tolist()
        [[1, 0, 0], [0, 0, 1]]
    """
    _labels(tensor, "one_hot")
    if num_classes == -1:
        if not tensor.numel():
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass it")
        num_classes = int(tensor.max().item()) + 1
    if not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive int or -1, got "
                         f"{num_classes!r}")
    _check_range(tensor, num_classes, "one_hot", "the classes")
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
    _labels(input, "embedding")
    if weight.ndim != 2:
        raise ValueError(f"embedding: the weight must be 2-d (num_embeddings, dim), got "
                         f"shape {tuple(weight.shape)}")
    _check_range(input, weight.shape[0], "embedding", "the weight's rows")
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
                 device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = (None if padding_idx is None
                            else _padding_index(padding_idx, num_embeddings))
        weight = creation.randn(num_embeddings, embedding_dim, device=device, dtype=dtype)
        if self.padding_idx is not None:
            weight[self.padding_idx] = 0.0
        self.weight = Parameter(weight)

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
