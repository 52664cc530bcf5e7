"""What a reverse rule returned, checked before the engine uses it: one gradient per input
(or None), Tensors of the input's shape, cast to the input's float dtype, and under
``detect_anomaly()`` finite, else an ``AnomalyError`` naming the op and where the forward
created it. ``ACCUMULATED`` stands for a gradient the rule added into a leaf's ``.grad``
itself (the engine puts it there: ``Op.vjp_accumulate``), and passes unchecked.
"""

from __future__ import annotations

from .. import backend
from .graph import ACCUMULATED
from .mode import _state as _mode_state
from ..tensor_grad import GradShapeError

__all__ = ["AnomalyError", "GradShapeError"]


class AnomalyError(RuntimeError):
    """A backward rule produced NaN or Inf inside ``detect_anomaly()``.

    Example (the derivative of sqrt at 0 is infinite)::

        >>> x = gpugrad.tensor([0.0, 1.0], requires_grad=True)
        >>> with gpugrad.detect_anomaly():
        ...     x.sqrt().sum().backward()
        Traceback (most recent call last):
        gpugrad.autograd.rule_results.AnomalyError: detect_anomaly: SqrtBackward returned NaN
        or Inf in its gradient for input 0 (shape (2,), dtype float32). The op was created here
        in the forward pass: ...
    """


def _sum_to(g, shape: tuple):
    """``g`` summed down to ``shape``, which broadcasts to ``g.shape`` (PyTorch's
    ``sum_to``); None when it does not. (ops/reduce.py's ``sum_to`` does the same job, a
    floor above: autograd may not import ops.)"""
    extra = len(g.shape) - len(shape)
    if extra < 0:
        return None
    axes = list(range(extra))
    for i, (n, m) in enumerate(zip(shape, g.shape[extra:])):
        if n == 1 and m != 1:
            axes.append(extra + i)
        elif n != m:
            return None
    g = g.sum(axis=tuple(axes), keepdims=True) if axes else g
    return g.reshape(shape) if tuple(g.shape) != tuple(shape) else g


def _check_result(node, grads: tuple, Tensor) -> list:
    """Validate a rule's gradients: one per input, matching shapes, cast to input dtypes."""
    edges = node.next_edges
    n_inputs = len(edges)
    if len(grads) != n_inputs:
        if len(grads) > n_inputs and all(g is None for g in grads[n_inputs:]):
            grads = grads[:n_inputs]
        else:
            raise RuntimeError(
                f"{node.name()} returned {len(grads)} gradients but its op has {n_inputs} "
                f"inputs; return one gradient (or None) per input of forward")
    checked = list(grads)
    for i, edge in enumerate(edges):
        g = checked[i]
        if edge is None:
            checked[i] = None
            continue
        if g is None or g is ACCUMULATED:
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"{node.name()} returned a {type(g).__name__} as gradient {i}; "
                            f"backward rules must return Tensors or None")
        array = g if g._batched else g._array
        if array.shape != node.shapes[i] and node.user_rule:
            reduced = _sum_to(g, tuple(node.shapes[i]))     # broadcast: summed, as torch's
            if reduced is not None:
                g = checked[i] = reduced
                array = g if g._batched else g._array
        if array.shape != node.shapes[i]:
            raise GradShapeError(
                f"{node.name()} returned a gradient of shape {tuple(g.shape)} for input {i}, "
                f"which has shape {tuple(node.shapes[i])}; a gradient must have the shape of "
                f"its input (or, from a Function's backward, a shape it broadcasts to)")
        dtype = node.dtypes[i]
        if array.dtype != dtype and dtype.kind == "f":
            checked[i] = g.astype(dtype)
    if _mode_state.anomaly_enabled:
        _check_finite(node, checked)
    return checked


def _check_finite(node, grads):
    for i, g in enumerate(grads):
        if g is None or g is ACCUMULATED:
            continue
        from .batched import innermost_array
        array = innermost_array(g)
        if not bool(backend.xp_of(array).isfinite(array).all()):
            where = node._trace or ("(no forward trace: the op was created outside "
                                    "detect_anomaly(); run the forward inside it too)\n")
            raise AnomalyError(
                f"detect_anomaly: {node.name()} returned NaN or Inf in its gradient for input "
                f"{i} (shape {tuple(g.shape)}, dtype {g.dtype}). The op was created here in "
                f"the forward pass:\n{where}")
