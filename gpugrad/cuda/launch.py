"""Checked launches of gpugrad's CUDA kernels, on CuPy arrays.

A ``RawKernel`` checks nothing: a float64 array passed where the kernel reads floats, or a
strided view read as if contiguous, gives wrong numbers or a crash. So every launcher here
checks the type, device, dtype, contiguity and shape of each argument first and raises a
``TypeError`` / ``ValueError`` naming the argument and the fix; only then does it launch.
Outputs are allocated here (from CuPy's pool) unless an ``out`` to accumulate into is given.

Shapes follow the kernels' comments in ``kernels/*.cu``. Example (it needs CuPy and a GPU,
so CI skips it)::

    >>> import cupy                                                     # doctest: +SKIP
    >>> from gpugrad.cuda.launch import relu_backward
    >>> gy = cupy.asarray([1.0, 2.0, 3.0], dtype=cupy.float32)         # doctest: +SKIP
    >>> y = cupy.asarray([0.5, 0.0, 2.0], dtype=cupy.float32)          # doctest: +SKIP
    >>> relu_backward(gy, y)                  # gy * !(y <= 0)          # doctest: +SKIP
    array([1., 0., 3.], dtype=float32)
    >>> relu_backward(gy, y.astype(cupy.float64))                       # doctest: +SKIP
    Traceback (most recent call last):
    TypeError: gy must be float64 like the other operands, got float32

Where the arrays live and how a kernel runs is the current ``Device``: a GPU through CuPy,
unless a test swaps in another with ``using_device`` (tests/kernel_emulation.py runs the
kernels on the CPU, thread by thread, through these same launchers).
"""

from __future__ import annotations

import contextlib

import numpy as np

from .. import cupy_import
from . import captured_blas, loader
from .sources import FLOAT_TYPES, LABEL_TYPES, kernel_name

__all__ = ["Device", "using_device", "relu_forward", "relu_backward", "bias_relu_forward_",
           "relu_bias_backward", "masked_gemm_weight", "masked_gemm_input", "masked_gemm_fits",
           "gemm_accumulate", "softmax_xent_forward", "softmax_xent_backward", "mse_backward"]

THREADS = 256
_MAX_GRID_Y = 65535
_TILE = 64                  # masked_gemm's output tile (kernels/linear.cu)


class Device:
    """The GPU through CuPy: its array type, allocations, SM count and kernel launches.

    A stand-in (the CPU emulator of the tests) provides the same five members."""

    arrays = "a CuPy array on a GPU"        # what the argument checks ask for
    module = "cupy"

    def array_type(self):
        return cupy_import.require_cupy().ndarray

    def device_id(self, a) -> int:
        return a.device.id

    def empty(self, device_id: int, shape, dtype):
        """A new array on GPU ``device_id`` (CuPy allocates on the current GPU otherwise)."""
        cupy = cupy_import.require_cupy()
        with _on(cupy, device_id):
            return cupy.empty(shape, dtype)

    def multiprocessors(self, device_id: int) -> int:
        return loader.multiprocessors(device_id)

    def launch(self, name: str, device_id: int, grid, block, args, shared: int = 0):
        kernel = loader.function(name, device_id)
        with _on(cupy_import.require_cupy(), device_id):
            kernel(grid, block, args, shared_mem=shared)


def _on(cupy, device_id: int):
    """GPU ``device_id`` made current for a block; nothing to do where the process sees one
    GPU (it is always current), which saves a device switch and back per launch."""
    if cupy_import.only_gpu_array_type() is not None:
        return contextlib.nullcontext()
    return cupy.cuda.Device(device_id)


_device = Device()


@contextlib.contextmanager
def using_device(device):
    """Run the launchers against ``device`` (an object like ``Device``) inside the block."""
    global _device
    previous, _device = _device, device
    try:
        yield device
    finally:
        _device = previous


def _check(what: str, a, dtype=None, ndim=None):
    # A NumPy array is never a GPU's array: refuse it before asking for CuPy, so the error
    # says what was passed even where CUDA is not usable (the emulator's arrays are NumPy).
    if (isinstance(a, np.ndarray) and _device.module != "numpy") or \
            not isinstance(a, _device.array_type()):
        raise TypeError(f"{what} must be {_device.arrays}, got {type(a).__name__}")
    if dtype is None and a.dtype.name not in FLOAT_TYPES:
        raise TypeError(f"{what} must be float32 or float64, got {a.dtype}")
    if dtype is not None and a.dtype != dtype:
        raise TypeError(f"{what} must be {np.dtype(dtype)} like the other operands, "
                        f"got {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{what} must have {ndim} dimensions, got shape {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{what} must be C-contiguous (strides {a.strides} for shape "
                         f"{a.shape}); pass {_device.module}.ascontiguousarray({what})")
    return a


def _same_device(*arrays) -> int:
    ids = {_device.device_id(a) for a in arrays}
    if len(ids) != 1:
        raise ValueError(f"the operands are on different GPUs {sorted(ids)}; move them to one")
    return ids.pop()


def _same_shape(a_name, a, b_name, b):
    if a.shape != b.shape:
        raise ValueError(f"{a_name} {a.shape} and {b_name} {b.shape} must have one shape")


def _empty(device_id: int, shape, dtype):
    return _device.empty(device_id, shape, dtype)


def _out(what, out, shape, dtype, accumulate: bool, device_id: int):
    if out is None:
        if accumulate:
            raise ValueError(f"accumulate=True needs an existing {what} to add into (out=)")
        return _empty(device_id, shape, dtype)
    _check(what, out, dtype)
    if out.shape != tuple(shape):
        raise ValueError(f"{what} must have shape {tuple(shape)}, got {out.shape}")
    return out


def _grid(work: int, device_id: int) -> int:
    """Blocks for a grid-stride loop over ``work`` items: enough to fill the GPU, no more."""
    return max(1, min(-(-work // THREADS), _device.multiprocessors(device_id) * 32))


def _launch(family, dtype, device_id, grid, block, args, labels=None, shared=0):
    """Launch the instance of kernel ``family`` for ``dtype`` (and the ``labels`` dtype),
    asked for by its name expression (``relu_bwd<float>``: sources.kernel_name)."""
    _device.launch(kernel_name(family, dtype, labels), device_id, grid, block, args, shared)


def relu_forward(x):
    """y = max(x, 0) (NaN kept), any shape -> same shape."""
    _check("x", x)
    dev = _device.device_id(x)
    y = _empty(dev, x.shape, x.dtype)
    if x.size:
        lanes = 16 // x.itemsize
        _launch("relu_fwd", x.dtype, dev, (_grid(-(-x.size // lanes), dev),), (THREADS,),
                (x, y, np.int64(x.size)))
    return y


def relu_backward(gy, y):
    """gx = gy * !(y <= 0) (a NaN y passes gy, as torch); gy and y of one shape and
    dtype."""
    _check("y", y)
    _check("gy", gy, y.dtype)
    _same_shape("gy", gy, "y", y)
    dev = _same_device(gy, y)
    gx = _empty(dev, gy.shape, gy.dtype)
    if gy.size:
        lanes = 16 // gy.itemsize
        _launch("relu_bwd", gy.dtype, dev, (_grid(-(-gy.size // lanes), dev),), (THREADS,),
                (gy, y, gx, np.int64(gy.size)))
    return gx


def bias_relu_forward_(y, b):
    """In place: y (rows, cols) <- max(y + b, 0), b (cols,). Returns y."""
    _check("y", y, ndim=2)
    _check("b", b, y.dtype, ndim=1)
    if b.shape[0] != y.shape[1]:
        raise ValueError(f"bias of shape {b.shape} does not match {y.shape[1]} columns")
    dev = _same_device(y, b)
    if y.size:
        rows, cols = y.shape
        grid = (-(-cols // THREADS), max(1, min(rows, _MAX_GRID_Y,
                                                _device.multiprocessors(dev) * 64)))
        _launch("bias_relu_fwd", y.dtype, dev, grid, (THREADS,),
                (y, b, np.int64(rows), np.int64(cols)))
    return y


def relu_bias_backward(gy, y, want_gz: bool = True, db=None, accumulate: bool = False):
    """One pass over gy (rows, cols): gz = gy * !(y <= 0) (unless ``want_gz`` is false) and
    db = sum over rows of gz (cols,), added into ``db`` when ``accumulate``.
    Returns (gz or None, db)."""
    _check("y", y, ndim=2)
    _check("gy", gy, y.dtype, ndim=2)
    _same_shape("gy", gy, "y", y)
    dev = _same_device(gy, y)
    rows, cols = y.shape
    db = _out("db", db, (cols,), y.dtype, accumulate, dev)
    _same_device(gy, db)
    gz = _empty(dev, gy.shape, gy.dtype) if want_gz else None
    if cols == 0:
        return gz, db
    col_blocks = -(-cols // 32)
    row_blocks = max(1, min(-(-rows // 8), _MAX_GRID_Y,
                            _device.multiprocessors(dev) * 8 // col_blocks))
    partial = _empty(dev, (row_blocks, cols), y.dtype)
    _launch("relu_bias_bwd", y.dtype, dev, (col_blocks, row_blocks), (32, 8),
            (gy, y, gz, partial, np.int64(rows),
             np.int64(cols)))
    _launch("col_sum_partials", y.dtype, dev, (_grid(cols, dev),), (THREADS,),
            (partial, db, np.int64(row_blocks), np.int64(cols), np.int32(accumulate)))
    return gz, db


def masked_gemm_fits(rows: int, outs: int, ins: int) -> bool:
    """Whether the masked GEMMs' grids can cover these sizes (at most 65535 tiles down)."""
    return -(-max(rows, outs) // _TILE) <= _MAX_GRID_Y


def _masked_gemm(family, gy, y, other, out, accumulate, out_shape, m, n):
    _check("y", y, ndim=2)
    _check("gy", gy, y.dtype, ndim=2)
    _same_shape("gy", gy, "y", y)
    rows, outs = y.shape
    ins = other.shape[1]
    if not masked_gemm_fits(rows, outs, ins):
        raise ValueError(f"masked GEMM sizes {rows} x {outs} x {ins} exceed its grid "
                         f"({_MAX_GRID_Y * _TILE} rows); use the cuBLAS route")
    dev = _same_device(gy, y, other)
    out = _out("out", out, out_shape, y.dtype, accumulate, dev)
    _same_device(gy, out)
    if out.size:
        grid = (-(-n // _TILE), -(-m // _TILE))
        _launch(family, y.dtype, dev, grid, (THREADS,),
                (gy, y, other, out, np.int64(rows), np.int64(outs), np.int64(ins),
                 np.int32(accumulate)))
    return out


def masked_gemm_weight(gy, y, x, out=None, accumulate: bool = False):
    """dW (outs, ins) [+]= (gy * !(y <= 0)).T @ x; gy, y (rows, outs), x (rows, ins)."""
    _check("y", y, ndim=2)
    _check("x", x, y.dtype, ndim=2)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but gy has {y.shape[0]}")
    return _masked_gemm("masked_gemm_tn", gy, y, x, out, accumulate,
                        (y.shape[1], x.shape[1]), y.shape[1], x.shape[1])


def masked_gemm_input(gy, y, w, out=None, accumulate: bool = False):
    """dx (rows, ins) [+]= (gy * !(y <= 0)) @ w; gy, y (rows, outs), w (outs, ins)."""
    _check("y", y, ndim=2)
    _check("w", w, y.dtype, ndim=2)
    if w.shape[0] != y.shape[1]:
        raise ValueError(f"w has {w.shape[0]} rows but gy has {y.shape[1]} columns")
    return _masked_gemm("masked_gemm_nn", gy, y, w, out, accumulate,
                        (y.shape[0], w.shape[1]), y.shape[0], w.shape[1])


def gemm_accumulate(a, b, out, transpose_a: bool = False):
    """out += op(a) @ b through cuBLAS (beta = 1: no temporary), op(a) = a.T when
    ``transpose_a``; all 2-D, one float dtype, C-contiguous, on one GPU."""
    _check("out", out, ndim=2)
    _check("a", a, out.dtype, ndim=2)
    _check("b", b, out.dtype, ndim=2)
    m, k = (a.shape[1], a.shape[0]) if transpose_a else a.shape
    if b.shape[0] != k or out.shape != (m, b.shape[1]):
        raise ValueError(f"cannot add op(a) @ b for a {a.shape} (transposed: {transpose_a}) "
                         f"and b {b.shape} into out {out.shape}")
    dev = _same_device(a, b, out)
    if out.size == 0 or k == 0:
        return out                          # nothing to add (cuBLAS refuses leading dim 0)
    blas = captured_blas.active()
    if blas is not None:                    # a graph records: CuPy's cuBLAS is refused
        return captured_blas.gemm_into(blas, a, b, out, beta=1.0, transpose_a=transpose_a,
                                       follow_precision=False)
    cupy = cupy_import.require_cupy()
    with cupy.cuda.Device(dev):
        from cupy import cublas
        cublas.gemm("T" if transpose_a else "N", "N", a, b, out=out, alpha=1.0, beta=1.0)
    return out


def _check_labels(x, labels):
    _check("x", x, ndim=2)
    if getattr(labels, "dtype", None) is None or labels.dtype.name not in LABEL_TYPES:
        raise TypeError(f"labels must be int32 or int64, got "
                        f"{getattr(labels, 'dtype', type(labels).__name__)}")
    _check("labels", labels, labels.dtype, ndim=1)
    if labels.shape[0] != x.shape[0]:
        raise ValueError(f"{x.shape[0]} rows of logits but {labels.shape[0]} labels")
    return _same_device(x, labels)


def _warp_grid(rows: int, dev: int) -> int:
    return _grid(rows * 32, dev)


def softmax_xent_forward(x, labels, ignore_index: int, smoothing: float):
    """Per-row softmax cross-entropy (rows,) of logits x (rows, cols) against int32/int64
    labels (rows,), label smoothing ``smoothing``; 0 where a label is ``ignore_index``."""
    dev = _check_labels(x, labels)
    rows, cols = x.shape
    if cols == 0:
        raise ValueError("softmax cross-entropy needs at least one class (logits have 0 "
                         "columns)")
    loss = _empty(dev, (rows,), x.dtype)
    if rows:
        _launch("softmax_xent_fwd", x.dtype, dev, (_warp_grid(rows, dev),), (THREADS,),
                (x, labels, loss, np.int64(rows), np.int64(cols), np.int64(ignore_index),
                 x.dtype.type(smoothing)), labels=labels.dtype)
    return loss


def _cotangent(g, dtype, full_shape):
    """g and its stride: 0 for one value (a reduced loss), 1 for one per row / element."""
    _check("g", g, dtype)
    if g.size == 1:
        return g, 0
    if g.shape != tuple(full_shape):
        raise ValueError(f"g must be a single value or of shape {tuple(full_shape)}, "
                         f"got {g.shape}")
    return g, 1


def softmax_xent_backward(x, labels, g, ignore_index: int, smoothing: float, scale: float):
    """gx (rows, cols) = g * scale * (softmax(x) - q), q the smoothed one-hot target, 0 in
    ignored rows; g one value or one per row."""
    dev = _check_labels(x, labels)
    g, stride = _cotangent(g, x.dtype, (x.shape[0],))
    _same_device(x, g)
    rows, cols = x.shape
    gx = _empty(dev, x.shape, x.dtype)
    if x.size:
        _launch("softmax_xent_bwd", x.dtype, dev, (_warp_grid(rows, dev),), (THREADS,),
                (x, labels, g, np.int64(stride), gx, np.int64(rows), np.int64(cols),
                 np.int64(ignore_index), x.dtype.type(smoothing), x.dtype.type(scale)),
                labels=labels.dtype)
    return gx


def mse_backward(x, t, g, scale: float):
    """gx = 2 * scale * g * (x - t); x, t of one shape, g one value or of that shape."""
    _check("x", x)
    _check("t", t, x.dtype)
    _same_shape("x", x, "t", t)
    g, stride = _cotangent(g, x.dtype, x.shape)
    dev = _same_device(x, t, g)
    gx = _empty(dev, x.shape, x.dtype)
    if x.size:
        _launch("mse_bwd", x.dtype, dev, (_grid(x.size, dev),), (THREADS,),
                (x, t, g, np.int64(stride), gx, np.int64(x.size), x.dtype.type(scale)))
    return gx
