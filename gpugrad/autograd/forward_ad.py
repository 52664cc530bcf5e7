"""Forward mode: dual tensors whose tangents ride along with the primal values.

Inside ``dual_level()``, ``make_dual(primal, tangent)`` gives a tensor that carries a tangent;
every op it meets computes its output's tangent right away with the op's jvp rule. There is
no tape: a tangent lives exactly as long as its tensor, so memory does not grow with the
length of the computation (the seed's table: forward mode O(1), reverse mode O(depth)).

Levels nest (each tangent is itself a tensor that may carry tangents of other levels), and
forward over reverse works: the rules of a backward pass are ops too, so tangents flow
through them, which is how ``gpugrad.func.hvp`` and ``hessian`` get second derivatives.

Example::

    >>> import gpugrad.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     x = fwAD.make_dual(gpugrad.tensor(2.0), gpugrad.tensor(1.0))
    ...     y = x ** 3
    ...     fwAD.unpack_dual(y).tangent      # 3 x^2 = 12
    tensor(12., device='cpu', dtype=float32)
"""

from __future__ import annotations

from typing import NamedTuple

from .dual_levels import (active_levels, dual_level, enter_dual_level, exit_dual_level,
                          live_tangents, resolve_level, strip)

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]


def make_dual(primal, tangent, level: int | None = None):
    """A tensor with the values of ``primal`` (shared memory) carrying ``tangent`` at
    ``level`` (the innermost). It stays differentiable with respect to ``primal``.

    Shapes: ``tangent`` must have ``primal``'s shape; it is cast to ``primal``'s dtype.
    """
    from ..ops.unary import astype
    from ..ops.shape import alias
    from ..tensor import Tensor
    level = resolve_level(level)
    if not isinstance(primal, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual expects two tensors (primal, tangent)")
    if tuple(tangent.shape) != tuple(primal.shape):
        raise ValueError(f"make_dual: the tangent has shape {tuple(tangent.shape)} but the "
                         f"primal has shape {tuple(primal.shape)}; they must match")
    if primal.dtype.kind not in "fc":
        raise TypeError(f"make_dual: only floating-point and complex tensors carry "
                        f"tangents, not {primal.dtype}")
    if tangent.device != primal.device:
        raise RuntimeError(f"make_dual: the tangent is on {tangent.device} and the primal on "
                           f"{primal.device}; move one with .to(...)")
    out = alias(primal)
    tangents = dict(live_tangents(primal) or {})
    tangents[level] = astype(tangent, primal.dtype)
    out._tangents = tangents
    return out


class UnpackedDualTensor(NamedTuple):
    primal: object
    tangent: object


def unpack_dual(tensor, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor`` at ``level``; ``tangent`` is None when it has none.

    The primal shares memory and graph with ``tensor`` but carries no tangent at that level.
    """
    if not active_levels() and level is None:
        return UnpackedDualTensor(tensor, None)
    level = resolve_level(level)
    tangents = live_tangents(tensor)
    if not tangents or level not in tangents:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(strip(tensor, level), tangents[level])
