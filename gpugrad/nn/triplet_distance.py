"""The triplet loss with a distance of the user's choice, as PyTorch's
``F.triplet_margin_with_distance_loss`` and ``nn.TripletMarginWithDistanceLoss``:
max(0, margin + d(anchor, positive) - d(anchor, negative)), ``d`` any function of two
tensors returning one distance per row (default ``pairwise_distance``, the L2 distance).

Example::

    >>> from gpugrad.nn.triplet_distance import TripletMarginWithDistanceLoss
    >>> a, pos, neg = gpugrad.zeros(1, 2), gpugrad.tensor([[3.0, 4.0]]), gpugrad.ones(1, 2)
    >>> l1 = lambda x, y: (x - y).abs().sum(-1)
    >>> TripletMarginWithDistanceLoss(distance_function=l1)(a, pos, neg).item()   # 1 + 7 - 2
    6.0
"""

from __future__ import annotations

from ..ops.elementwise import minimum
from ..ops.loss_checks import check_reduction
from ..ops.unary import clamp
from .loss_arguments import reduced
from .loss_layers import _Loss
from .pairwise import PairwiseDistance, pairwise_distance

__all__ = ["triplet_margin_with_distance_loss", "TripletMarginWithDistanceLoss"]


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), reduced by ``reduction``
    ("mean", "sum" or "none"); ``distance_function`` d (None: ``pairwise_distance``) maps
    two (N, D) tensors to (N,) distances; ``swap``: d(anchor, negative) becomes the smaller
    of it and d(positive, negative). ``margin`` must be > 0. Shapes: three tensors of one
    number of dimensions, e.g. (N, D) -> () or (N,).

    Example::

        >>> from gpugrad.nn.triplet_distance import triplet_margin_with_distance_loss
        >>> a, pos, neg = gpugrad.zeros(1, 2), gpugrad.tensor([[3.0, 4.0]]), gpugrad.ones(1, 2)
        >>> round(triplet_margin_with_distance_loss(a, pos, neg).item(), 4)   # 1 + 5 - sqrt(2)
        4.5858
    """
    name = "triplet_margin_with_distance_loss"
    check_reduction(reduction, name)
    if not margin > 0:
        raise ValueError(f"{name}: margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"{name}: the anchor, positive, and negative tensors are expected to "
                         f"have the same number of dimensions, but got: anchor {anchor.ndim}D, "
                         f"positive {positive.ndim}D, and negative {negative.ndim}D inputs")
    distance = pairwise_distance if distance_function is None else distance_function
    to_positive = distance(anchor, positive)
    to_negative = distance(anchor, negative)
    if swap:
        to_negative = minimum(to_negative, distance(positive, negative))
    return reduced(clamp(margin + to_positive - to_negative, min=0.0), reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """``max(0, margin + d(a, p) - d(a, n))`` with a distance of choice (see
    ``triplet_margin_with_distance_loss``); ``distance_function`` None is a
    ``PairwiseDistance()`` submodule, as PyTorch's. Arguments keyword-only, as PyTorch's.

    Example::

        >>> from gpugrad.nn.triplet_distance import TripletMarginWithDistanceLoss
        >>> TripletMarginWithDistanceLoss(margin=0.5, swap=True)
        TripletMarginWithDistanceLoss(
          reduction='mean', margin=0.5, swap=True
          (distance_function): PairwiseDistance()
        )
    """

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean"):
        super().__init__(reduction)
        if not margin > 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater "
                             f"than 0, got {margin} instead")
        self.distance_function = (PairwiseDistance() if distance_function is None
                                  else distance_function)
        self.margin = margin
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, margin={self.margin}, swap={self.swap}"
