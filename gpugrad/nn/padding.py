"""``F.pad``: padding (or, with negative amounts, cropping) the last dimensions of a tensor,
as PyTorch's, in its four modes. A composite of index_select (gather the padded positions)
and concatenation, so gradients flow back to every element the output reads.

Example::

    >>> x = gpugrad.tensor([[1.0, 2.0, 3.0]])
    >>> F.pad(x, (2, 1)).tolist()                        # 2 before, 1 after, zeros
    [[0.0, 0.0, 1.0, 2.0, 3.0, 0.0]]
    >>> F.pad(x, (2, 1), mode="reflect").tolist()
    [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
"""

from __future__ import annotations

import numpy as np

from .. import creation
from ..ops import indexing, shape
from ..ops.selection import index_select
from ..scalar_casts import as_int

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _positions(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each output position along one dimension, the input position it reads."""
    wanted = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(wanted, 0, n - 1)
    if mode == "circular":
        return wanted % n
    period = 2 * (n - 1)                            # reflect: ... 2 1 [0 1 2 ... n-1] n-2 ...
    folded = np.abs(wanted) % period if period else np.zeros_like(wanted)
    return np.where(folded < n, folded, period - folded)


def pad(input, pad, mode: str = "constant", value=None):
    """``input`` padded by ``pad = (before_last, after_last, before_2nd_last, ...)`` elements
    (negative: cropped), as ``F.pad``: ``mode`` "constant" (``value``, default 0), "reflect"
    (mirrored, the edge once), "replicate" (the edge repeated) or "circular" (wrapped).

    Shapes: (..., n) -> (..., n + before + after) for each padded dimension.

    Example::

        >>> F.pad(gpugrad.ones(1, 2), (0, 0, 1, 0), value=5.0).tolist()     # a row above
        [[5.0, 5.0], [1.0, 1.0]]
    """
    pad = tuple(as_int(p, "pad", "pad[i]") for p in pad)    # (NumPy ints, 0-d tensors too)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: give pairs of ints (before, after), at most one per dimension "
                         f"of the input's {input.ndim}, got {pad}")
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be one of {_MODES}, got {mode!r}")
    if value is not None and mode != "constant":
        raise ValueError(f"pad: value is for mode 'constant', not {mode!r}")
    out = input
    for k in range(len(pad) // 2):
        dim = input.ndim - 1 - k
        before, after = pad[2 * k], pad[2 * k + 1]
        if before < 0 or after < 0:                 # crop first, as PyTorch does
            n = out.shape[dim]
            keep = slice(max(-before, 0), n + min(after, 0))
            out = indexing.getitem(out, (slice(None),) * dim + (keep,))
            before, after = max(before, 0), max(after, 0)
        if before or after:
            out = _pad_one(out, dim, before, after, mode, value)
    return out


def _pad_one(x, dim: int, before: int, after: int, mode: str, value):
    """``x`` padded along ``dim`` by ``before`` and ``after`` (both >= 0)."""
    n = x.shape[dim]
    if mode == "constant":
        blocks = []
        for size in (before, after):
            block = list(x.shape)
            block[dim] = size
            blocks.append(creation.full(tuple(block), 0 if value is None else value,
                                        dtype=x.dtype, device=x.device))
        return shape.concatenate([blocks[0], x, blocks[1]], axis=dim)
    if n == 0:
        raise ValueError(f"pad: cannot {mode}-pad the empty dimension {dim}")
    if mode == "reflect" and (before >= n or after >= n):
        raise ValueError(f"pad: reflect padding of {before} and {after} needs more than "
                         f"that many elements in dimension {dim} (it has {n})")
    index = creation.as_tensor(_positions(n, before, after, mode), device=x.device)
    return index_select(x, dim, index)
