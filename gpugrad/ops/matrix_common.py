"""What the matrix functions (matrix_functions.py, matrix_decompositions.py) share: the
checks of their inputs, LAPACK's errors made ours, constants (identity, triangle masks) on
the input's device, and the packing of several results into one record output.

A record gives one output: where PyTorch's function gives several (``eigh``'s eigenvalues
and eigenvectors), the record's output is their parts, each flattened after the batch
dimensions, joined along its last dimension (``pack``); the public function and the rules
cut them apart again (``unpack``).

Example::

    >>> from gpugrad.ops.matrix_common import unpack
    >>> values, vectors = unpack(gpugrad.arange(6.0).reshape(1, 6), [(2,), (2, 2)])
    >>> values.tolist(), vectors.tolist()
    ([[0.0, 1.0]], [[[2.0, 3.0], [4.0, 5.0]]])
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.batched import innermost_array
from ..autograd.capture_mode import is_step_capturing, refuse_host_sync
from ..tensor import Tensor
from .complex_parts import conj
from .einsum import einsum
from .record import apply
from .shape import concatenate, reshape, transpose

__all__: list = []      # helpers of the matrix modules; LinAlgError is gpugrad.linalg's


class LinAlgError(RuntimeError):
    """A matrix had no answer: singular for ``inv``/``solve``, not positive definite for
    ``cholesky`` (as ``torch.linalg.LinAlgError``, also a RuntimeError)."""


# ---------------------------------------------------------------------------------------------
# Helpers shared with matrix_decompositions.py
# ---------------------------------------------------------------------------------------------

_FLOATS = (np.float32, np.float64)
_FLOATS_AND_COMPLEX = _FLOATS + (np.complex64, np.complex128)


def checked_matrix(name: str, x, square: bool = True, complex_ok: bool = False):
    """Refuse what LAPACK cannot take: a non-float tensor (``complex_ok``: complex64 and
    complex128 too, for the functions whose records have complex rules), fewer than 2
    dimensions or (when ``square``) matrices that are not square. Returns ``x``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a tensor, got {type(x).__name__}")
    if x.dtype not in (_FLOATS_AND_COMPLEX if complex_ok else _FLOATS):
        also = " (or complex64 or complex128)" if complex_ok else ""
        raise TypeError(f"{name}: expected a float32 or float64 tensor, got {x.dtype}{also}; "
                        f"convert it first (x.double() or x.float())")
    if x.ndim < 2:
        raise ValueError(f"{name}: the input must have at least 2 dimensions (..., m, n), "
                         f"got shape {tuple(x.shape)}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{name}: A must be batches of square matrices, but they are "
                         f"{x.shape[-2]} by {x.shape[-1]} matrices (shape {tuple(x.shape)})")
    return x


def check_rhs_dtype(name: str, A, B, a_name: str = "A") -> None:
    """Refuse a right-hand side ``B`` that is not a tensor of ``A``'s dtype (the solvers do
    not promote, as PyTorch's)."""
    if not isinstance(B, Tensor) or B.dtype != A.dtype:
        raise TypeError(f"{name}: B must be a tensor of {a_name}'s dtype {A.dtype}, got "
                        f"{getattr(B, 'dtype', type(B).__name__)}")


def check_batches_broadcast(name: str, A, B, core: int = 2) -> None:
    """Refuse ``B`` whose batch dimensions (all but its ``core`` last: 2 for matrices, 1
    for vectors) do not broadcast with those of the matrices ``A`` (..., m, n)."""
    try:
        np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-core]))
    except ValueError:
        raise ValueError(f"{name}: the batch dimensions of A {tuple(A.shape)} and B "
                         f"{tuple(B.shape)} do not broadcast") from None


def lapack(name: str, what: str, call, shape):
    """``call()``, with NumPy's LinAlgError turned into ours, naming ``name`` and ``shape``."""
    try:
        return call()
    except np.linalg.LinAlgError as exc:
        raise LinAlgError(f"{name}: the input of shape {tuple(shape)} {what} ({exc}); "
                          f"check the matrix (or its conditioning) first") from None


def constant(like, make):
    """The raw array ``make(xp, dtype)`` as a tensor on tensor ``like``'s device and dtype."""
    a = innermost_array(like)
    xp = backend.xp_of(a)
    if xp is np:
        return Tensor._wrap(make(np, a.dtype))
    with a.device:
        return Tensor._wrap(make(xp, a.dtype))


def eye(like, n: int):
    return constant(like, lambda xp, dtype: xp.eye(n, dtype=dtype))


def tril_mask(like, n: int, k: int = 0, m: int | None = None):
    """Ones on and below diagonal ``k`` of an (n, m) matrix (m = n by default), zeros above."""
    return constant(like, lambda xp, dtype: xp.tri(n, n if m is None else m, k, dtype=dtype))


def empty(like, dtype=None):
    """A tensor of shape (0,) in ``like``'s dtype (or ``dtype``) on its device: the results
    PyTorch leaves empty (``lstsq``'s residuals, ``qr``'s Q with mode "r"...)."""
    return constant(like, lambda xp, d: xp.zeros((0,), dtype or d))


def mT(x):
    """The transpose of the last two dimensions (``Tensor.mT``)."""
    return transpose(x, -2, -1)


def mH(x):
    """The conjugate transpose of the last two dimensions (``Tensor.mH``; ``mT`` when real)."""
    return conj(transpose(x, -2, -1))


def check_phase_free(name: str, what: str, drift) -> None:
    """Refuse, as PyTorch does, a loss that depends on the phases of complex eigenvectors or
    singular vectors (each is defined up to a factor e^{i phi}): ``drift`` (real, any shape)
    is the imaginary part of the rule's diagonal that such a loss leaves above 1e-2 (PyTorch's
    tolerance). Reads a value back (a device sync on CuPy; skipped while a step is captured)."""
    raw = innermost_array(drift)
    xp = backend.xp_of(raw)
    if xp is not np:
        if is_step_capturing():
            return
        refuse_host_sync(f"the phase check of {name}'s backward")
    if raw.size and float(xp.abs(raw).max()) > 1e-2:
        raise RuntimeError(
            f"{name}: the {what} in the complex case are specified up to multiplication by "
            f"e^(i phi). The specified loss function depends on this phase term, making it "
            f"ill-defined (as in PyTorch). Use a loss invariant to it (V.abs(), V @ V.mH, "
            f"the values alone)")


def _flat_shape(shape, batch_ndim: int) -> tuple:
    """``shape`` flattened after its ``batch_ndim`` batch dimensions, with explicit sizes
    (a -1 cannot be resolved when a batch dimension is 0)."""
    shape = tuple(shape)
    return shape[:batch_ndim] + (int(np.prod(shape[batch_ndim:], dtype=np.int64)),)


def pack(xp, *parts, batch_ndim: int):
    """Raw arrays, each flattened after its ``batch_ndim`` batch dimensions and joined."""
    return xp.concatenate([p.reshape(_flat_shape(p.shape, batch_ndim)) for p in parts],
                          axis=-1)


def unpack(t, shapes):
    """The parts of packed tensor ``t`` (..., total), one per core shape in ``shapes``."""
    batch, start, parts = tuple(t.shape[:-1]), 0, []
    for shape in shapes:
        size = int(np.prod(shape, dtype=np.int64))
        parts.append(reshape(t[..., start:start + size], batch + tuple(shape)))
        start += size
    return parts


def pack_tensors(*parts, batch_ndim: int):
    """Tensors, each flattened after its ``batch_ndim`` batch dimensions and joined."""
    return concatenate([reshape(p, _flat_shape(p.shape, batch_ndim)) for p in parts], -1)


def trace_of_product(a, b):
    """tr(a @ b) over the last two dimensions: (..., n, m), (..., m, n) -> (...)."""
    return einsum("...ij,...ji->...", a, b)


def on_the_batch(op):
    """The batching rule of a record of one batch of matrices: the record on the batch."""
    def rule(xs, batched, **params):
        return apply(op, *xs, **params)
    return staticmethod(rule)
