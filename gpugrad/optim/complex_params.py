"""Complex parameters in the optimizers, as PyTorch's: a complex parameter is a pair of real
numbers per element (``torch.view_as_real``), so its update is the real update applied to
the real and imaginary parts each (Adam's ``grad * grad`` is ``Re(g)^2`` and ``Im(g)^2``,
not the complex square). Its state tensors stay complex, with the parameter's shape (as
PyTorch's ``state_dict``); the update runs on real views of the same memory.

The fused kernels take float32/float64 parameters only (``multi_tensor.fusable``), so a
complex parameter always takes the reference ``_update``, through ``update_as_real``.

Example::

    >>> p = gpugrad.tensor([1 + 2j], requires_grad=True)
    >>> opt = gpugrad.optim.Adam([p], lr=0.1)
    >>> p.grad = gpugrad.tensor([2 + 4j]); opt.step()      # each part moves by lr
    >>> p
    tensor([0.9+1.9j], device='cpu', dtype=complex64, requires_grad=True)
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor

__all__ = ["as_pairs", "update_as_real", "flat_pairs"]

_REAL = {np.dtype(np.complex64): np.dtype(np.float32),
         np.dtype(np.complex128): np.dtype(np.float64)}


def as_pairs(a):
    """The C-contiguous complex array ``a`` (shape S) as a real view of shape S + (2,):
    ``[..., 0]`` the real parts, ``[..., 1]`` the imaginary ones (``view_as_real``)."""
    return a.reshape(a.shape + (1,)).view(_REAL[a.dtype])


def _as_complex(r, dtype):
    """The real pairs ``r`` (shape S + (2,), C-contiguous) as a complex view of shape S."""
    return r.view(dtype)[..., 0]


def update_as_real(update, param, grad, state: dict, group: dict) -> None:
    """``update(param, grad, state, group)`` (an optimizer's ``_update``) of the complex raw
    array ``param`` on real views of ``param``, ``grad`` and the complex state tensors; the
    state tensors the update makes are kept complex, shaped as ``param``."""
    xp = backend.xp_of(param)
    work = param if param.flags.c_contiguous else xp.ascontiguousarray(param)
    pairs = as_pairs(work)
    shape, real = pairs.shape, pairs.dtype
    for key, value in state.items():
        if isinstance(value, Tensor) and value._array.dtype == param.dtype and \
                value._array.shape == param.shape:
            viewed = Tensor._wrap(as_pairs(xp.ascontiguousarray(value._array)))
            viewed._version_counter = value._version_counter   # writes count on the state tensor
            state[key] = viewed
    try:
        update(pairs, as_pairs(xp.ascontiguousarray(grad)), state, group)
    finally:
        for key, value in state.items():
            if isinstance(value, Tensor) and value._array.dtype == real and \
                    value._array.shape == shape:
                array = xp.ascontiguousarray(value._array)
                kept = Tensor._wrap(_as_complex(array, param.dtype))
                kept._version_counter = value._version_counter
                state[key] = kept
    if work is not param:
        param[...] = work


def flat_pairs(xp, a):
    """The raveled real pairs of complex ``a`` (its real view, raveled); ``a`` if real."""
    if a.dtype.kind != "c":
        return a.ravel()
    return as_pairs(xp.ascontiguousarray(a)).ravel()
