"""Margin-loss modules as PyTorch's ``torch.nn``: MarginRankingLoss, HingeEmbeddingLoss,
CosineEmbeddingLoss, TripletMarginLoss, SoftMarginLoss, MultiLabelSoftMarginLoss,
MultiMarginLoss and MultiLabelMarginLoss, each calling its function in
``gpugrad.nn.margin_losses`` (see there for the maths and shapes). As the other loss
modules (loss_layers.py): PyTorch's arguments less the deprecated ``size_average`` and
``reduce``, keyword-only from where those stand in PyTorch's order; ``weight`` a buffer.

Example::

    >>> from gpugrad.nn.margin_loss_layers import MultiMarginLoss, TripletMarginLoss
    >>> loss_fn = MultiMarginLoss(margin=0.5)
    >>> loss_fn(gpugrad.tensor([[1.0, 0.0]]), gpugrad.tensor([0])).item()   # nothing within
    0.0
    >>> TripletMarginLoss(margin=0.5, swap=True)
    TripletMarginLoss(reduction='mean', margin=0.5, p=2.0, eps=1e-06, swap=True)
"""

from __future__ import annotations

from . import margin_losses as M
from .loss_layers import _Loss

__all__ = ["MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss",
           "TripletMarginLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss",
           "MultiLabelMarginLoss"]


class _MarginLoss(_Loss):
    def __init__(self, margin: float, reduction: str):
        super().__init__(reduction)
        self.margin = margin

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, margin={self.margin}"


class MarginRankingLoss(_MarginLoss):
    """``max(0, -target (x1 - x2) + margin)`` (see ``margin_ranking_loss``)."""

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean"):
        super().__init__(margin, reduction)

    def forward(self, input1, input2, target):
        return M.margin_ranking_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class HingeEmbeddingLoss(_MarginLoss):
    """``x`` for target 1, ``max(0, margin - x)`` for -1 (see ``hinge_embedding_loss``)."""

    def __init__(self, margin: float = 1.0, *, reduction: str = "mean"):
        super().__init__(margin, reduction)

    def forward(self, input, target):
        return M.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_MarginLoss):
    """``1 - cos`` for target 1, ``max(0, cos - margin)`` for -1 (see
    ``cosine_embedding_loss``)."""

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean"):
        super().__init__(margin, reduction)

    def forward(self, input1, input2, target):
        return M.cosine_embedding_loss(input1, input2, target, self.margin,
                                       reduction=self.reduction)


class TripletMarginLoss(_MarginLoss):
    """``max(0, margin + d(a, p) - d(a, n))`` (see ``triplet_margin_loss``)."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, *, reduction: str = "mean"):
        super().__init__(margin, reduction)
        self.p, self.eps, self.swap = p, eps, swap

    def forward(self, anchor, positive, negative):
        return M.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                     self.swap, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, p={self.p}, eps={self.eps}, swap={self.swap}"


class SoftMarginLoss(_Loss):
    """``log(1 + exp(-target x))`` (see ``soft_margin_loss``).

    Example::

        >>> from gpugrad.nn.margin_loss_layers import SoftMarginLoss
        >>> SoftMarginLoss(reduction="sum")
        SoftMarginLoss(reduction='sum')
    """

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, input, target):
        return M.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    """Per-class binary cross-entropy of logits, averaged over classes (see
    ``multilabel_soft_margin_loss``); ``weight`` (C,) a buffer."""

    def __init__(self, weight=None, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return M.multilabel_soft_margin_loss(input, target, self.weight,
                                             reduction=self.reduction)


class MultiMarginLoss(_MarginLoss):
    """Multi-class hinge loss (see ``multi_margin_loss``); ``weight`` (C,) a buffer."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, *,
                 reduction: str = "mean"):
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got {p}")
        super().__init__(margin, reduction)
        self.p = p
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return M.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, p={self.p}"


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss over -1-terminated label lists (see
    ``multilabel_margin_loss``)."""

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, input, target):
        return M.multilabel_margin_loss(input, target, reduction=self.reduction)
