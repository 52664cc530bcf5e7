"""The raw array writes of the in-place ops (``inplace.py``), each ``(array, *args)``: what
they run on the tensor's memory, and what a compiled step's replay calls again. Written once
against the array's own module (NumPy or CuPy).

Example::

    >>> import numpy as np
    >>> from gpugrad.ops.raw_writes import _set_at
    >>> a = np.zeros(3); _set_at(a, 5.0, 1); a.tolist()
    [0.0, 5.0, 0.0]
"""

from __future__ import annotations

from .. import backend


def _copy(a):
    return a.copy()


def _copy_into(a, value):
    backend.xp_of(a).copyto(a, value, casting="same_kind")


def _cast_into(a, value):
    backend.xp_of(a).copyto(a, value, casting="unsafe")


def _ufunc_into(a, ufunc, value):
    ufunc(a, value, out=a)


def _fill(a, value):
    a.fill(value)


def _set_at(a, value, *index):
    a[index] = value


def _as_array_value(value, t):
    """A number or nested list as an array of ``t``'s dtype on ``t``'s device."""
    return backend.asarray(value, dtype=t.dtype, device=t.device)
