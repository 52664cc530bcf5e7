"""The argument checks the losses share: the reduction's name, integer labels' shapes, and
labels' values (read on the host only where that waits for no device; elsewhere a label out
of range gives a NaN loss, explained when the host reads it).

Example::

    >>> from gpugrad.ops.loss_checks import check_reduction
    >>> check_reduction("avg", "mse_loss")
    Traceback (most recent call last):
    ValueError: mse_loss: reduction must be one of ('mean', 'sum', 'none'), got 'avg'
"""

from __future__ import annotations

import numpy as np

from ..autograd.capture_mode import is_step_capturing, refuse_host_sync
from ..autograd.compile_mode import is_compiling
from ..autograd.mode import is_anomaly_enabled

__all__ = ["check_reduction", "check_label_shapes", "check_label_values", "labels_checked_now"]

_REDUCTIONS = ("mean", "sum", "none")
def check_reduction(reduction: str, name: str):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def check_label_shapes(logits, target, name: str = "cross_entropy",
                        what: str = "logits") -> None:
    """Integer labels, one per row of 2-D logits (no value is read: no host sync); errors
    name the loss ``name`` and its input ``what``."""
    if logits.ndim != 2:
        raise ValueError(f"{name} expects {what} of shape (N, C), got {tuple(logits.shape)}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: labels must be integer class indices (int32 or int64), "
                        f"got {target.dtype}; convert with labels.astype('int64')")
    if target.ndim != 1 or target.shape[0] != logits.shape[0]:
        raise ValueError(f"{name}: {logits.shape[0]} rows of {what} but labels of shape "
                         f"{tuple(target.shape)}; pass one label per row")


def check_label_values(labels, classes: int, ignore_index: int | None = None,
                       name: str = "cross_entropy") -> int:
    """Raise ValueError naming the first label (raw array, NumPy or CuPy, of any shape) that
    is neither a class index below ``classes`` nor ``ignore_index`` (None: no label is
    ignored); else return how many labels are not ``ignore_index``. Reads the labels on the
    host (refused while a step is captured). Errors name the loss ``name``.

    Example::

        >>> from gpugrad.ops.loss_checks import check_label_values
        >>> check_label_values(np.array([0, 2, -1]), 3, ignore_index=-1)
        2
        >>> check_label_values(np.array([0, 3]), 3, name="multi_margin_loss")
        Traceback (most recent call last):
        ValueError: multi_margin_loss: label 3 is out of range for 3 classes (valid: 0 to 2)
    """
    ignoring = ignore_index is not None
    unsigned, classes_up_to = _UNSIGNED.get(labels.dtype, (None, 0))
    if classes <= classes_up_to and labels.__class__ is np.ndarray and labels.size and \
            not (ignoring and 0 <= ignore_index < classes) and \
            np.maximum.reduce(labels.view(unsigned), axis=None) < classes:
        return labels.size      # the common case, in one reduction: negatives read huge
    if not _host_reads_are_free(labels):
        refuse_host_sync(f"{name}'s label check")
    if labels.size == 0:
        return 0
    bad = (labels < 0) | (labels >= classes)
    if ignoring:
        bad &= labels != ignore_index
    if bool(bad.any()):
        first = int(labels[bad][0])             # (labels of any shape: vmap's are 2-D)
        ignored = f", or ignore_index={ignore_index}" if ignoring else ""
        raise ValueError(f"{name}: label {first} is out of range for {classes} classes "
                         f"(valid: 0 to {classes - 1}{ignored})")
    return int((labels != ignore_index).sum()) if ignoring else labels.size


# label dtype -> (its unsigned view, the most classes the view's check holds for): a
# negative label of b bits reads as 2**(b-1) or more, so it is caught below that many classes
_UNSIGNED = {np.dtype(signed): (np.dtype(unsigned), 2 ** (8 * np.dtype(signed).itemsize - 1))
             for signed, unsigned in [(np.int8, np.uint8), (np.int16, np.uint16),
                                      (np.int32, np.uint32), (np.int64, np.uint64)]}
_UNSIGNED.update({np.dtype(u): (np.dtype(u), float("inf"))
                  for u in (np.uint8, np.uint16, np.uint32, np.uint64)})


def labels_checked_now(labels) -> bool:
    """Whether cross_entropy checks label values when it is called: on the CPU, where
    reading them costs nothing, and under ``detect_anomaly()``; never while a step is
    captured. Otherwise (a GPU) a label out of range gives a NaN loss and the check runs
    when the host reads that NaN (``Tensor._explain_nan_on_read``): no sync per step."""
    if is_compiling():                  # gpugrad.compile on the CPU: reading them is free
        return _host_reads_are_free(labels)
    if is_step_capturing():
        return False
    return _host_reads_are_free(labels) or is_anomaly_enabled()


def _host_reads_are_free(labels) -> bool:
    """Plain NumPy labels: reading them waits for no device."""
    return labels.__class__ is np.ndarray
