"""The dtype ``cat`` and ``stack`` give their inputs, and PyTorch's legacy skip of 1-d empty
tensors among them (ops/shape.py's ``concatenate`` calls both).

Example::

    >>> from gpugrad.ops.join_dtypes import in_common_dtype
    >>> [t.dtype for t in in_common_dtype([gpugrad.ones(1), gpugrad.ones(1, dtype="complex64")])]
    [dtype('complex64'), dtype('complex64')]
"""

from __future__ import annotations

import functools

from .unary import astype

__all__ = ["in_common_dtype", "without_legacy_empties"]


def in_common_dtype(tensors) -> list:
    """The tensors in the dtype PyTorch's ``cat`` gives (``promote_types`` of all: the
    higher category wins, so float64 with complex64 is complex128, int64 with float16 is
    float16)."""
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) == 1:
        return tensors
    from .promotion import promote_types        # (promotion imports ops/shape.py)
    target = functools.reduce(promote_types, dtypes)
    return [astype(t, target) for t in tensors]


def without_legacy_empties(tensors):
    """``tensors`` without their 1-d empty ones (``tensor([])``, which PyTorch's legacy rule
    lets stand beside tensors of other ranks), cast to the dtype all of them promote to (the
    empty ones' dtypes count); None where there is none to skip, or only 1-d tensors are
    left."""
    kept = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)]
    if len(kept) == len(tensors) or all(t.ndim == 1 for t in kept):
        return None
    target = in_common_dtype(tensors)[0].dtype
    return [t if t.dtype == target else astype(t, target) for t in kept]
