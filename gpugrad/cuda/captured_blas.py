"""Matrix products while a CUDA graph records: cuBLAS called directly, not through CuPy.

CuPy refuses every cuBLAS call on a stream that is capturing ("calling cuBLAS API during
stream capture is currently unsupported", raised by its ``cublas.setStream``), so a step with
a matmul could not be captured at all (first seen on an H100, 2026-12-05). cuBLAS itself
supports capture once the handle has a workspace of its own: ``cublasSetStream`` resets the
handle to the default workspace pool, which would allocate while the graph records, so the
workspace is set again after the stream, every call.

So while ``gpugrad.cuda.graph`` records (``recording(blas)`` around the capture), the GEMMs
of ``ops/fused.py`` (``matmul``) and ``launch.gemm_accumulate`` come here: one cuBLAS
handle per thread and device, made and warmed up before the capture, through ctypes on the
libcublas CuPy has loaded, and a workspace per captured graph (``Blas``), kept as long as
the graph. Float32 products take the matmul precision current when the graph records (a
replay repeats what was recorded, as in PyTorch). Outside a recording nothing here runs.

Layout: the arrays are row-major and cuBLAS is column-major. A 2-D array whose rows are
``ld`` elements apart ("row" layout) is, read column-major, its own transpose with leading
dimension ``ld``; a transposed view ("col" layout) is the matrix itself. C = A @ B is
computed as C^T = B^T @ A^T into C's buffer (column-major C^T is row-major C), each
operand passed with the flag that turns what its memory holds into B^T or A^T.

Example (a sketch: it needs a GPU)::

    blas = captured_blas.Blas(device=0)          # before the capture
    with captured_blas.recording(blas):          # while the stream records
        out = captured_blas.matmul(a, b)         # cuBLAS GEMM into a new array
"""

from __future__ import annotations

import contextlib
import ctypes
import threading

import numpy as np

from .. import backend, cupy_import

__all__ = ["Blas", "recording", "active", "matmul", "gemm_into", "layout", "CublasError"]

# cuBLAS's enums (cublas_api.h, library_types.h)
_OP_N, _OP_T = 0, 1
_GEMM_DEFAULT = -1
_DATA_TYPES = {np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.float16): 2}
_COMPUTE_32F, _COMPUTE_64F = 68, 70
_COMPUTE_FLOAT32 = {"highest": 68, "high": 77, "medium": 75}   # 32F, 32F_FAST_TF32, _16BF
_INT_MAX = 2**31 - 1


def _workspace_bytes(major: int) -> int:
    """The cuBLAS guide's advice: 32 MiB on Hopper (compute capability 9) and later, 4 MiB
    before."""
    return (32 if major >= 9 else 4) << 20


class CublasError(RuntimeError):
    """A cuBLAS call made during a capture returned an error status."""


class _ThreadState(threading.local):
    blas = None             # the Blas of the graph this thread records, or None

    def __init__(self):
        self.handles = {}   # (library id, device) -> this thread's handle (cuBLAS advises
                            # a handle per thread: binding a stream and a workspace, then
                            # calling, must not interleave with another thread's calls)


_active = _ThreadState()
_library = None


def active():
    """The ``Blas`` of the graph this thread records right now, or None."""
    return _active.blas


@contextlib.contextmanager
def recording(blas):
    """While the body runs, this thread's GEMMs go through ``blas`` (a graph records)."""
    previous, _active.blas = _active.blas, blas
    try:
        yield blas
    finally:
        _active.blas = previous


class Blas:
    """What a captured graph's GEMMs need: this thread's cuBLAS handle for the device and
    a workspace of this graph's own (alive as long as this object). Made before the
    capture: making a handle or a workspace would allocate while the stream records.

    ``library``, ``workspace`` and ``stream`` are for tests (a stand-in libcublas, a host
    buffer, a stream number); on a GPU they come from CuPy."""

    def __init__(self, device: int = 0, library=None, workspace=None, stream=None):
        self.device = device
        self.thread = threading.get_ident()     # whose handle this is (graphs.py checks)
        self.lib = library if library is not None else _load_library()
        _declare(self.lib)
        self.handle = _handle(self.lib, device)
        self._stream = stream
        if workspace is not None:
            self.workspace = workspace
            return
        cupy = cupy_import.require_cupy()
        with cupy.cuda.Device(device):
            major = cupy.cuda.runtime.getDeviceProperties(device)["major"]
            self.workspace = cupy.empty(_workspace_bytes(major), dtype=cupy.uint8)
            self.warm_up(cupy)

    def warm_up(self, xp) -> None:
        """Tiny GEMMs on the current stream (float32 and float64, plain and batched), so
        that whatever cuBLAS sets up lazily on a new handle happens now, not while a graph
        records."""
        for dtype in (np.float32, np.float64):
            one = xp.ones((1, 1), dtype=dtype)
            gemm_into(self, one, one, xp.empty((1, 1), dtype=dtype))
            matmul(one, xp.ones((2, 1, 1), dtype=dtype), self)     # strided-batched

    def stream_pointer(self) -> int:
        if self._stream is not None:
            return self._stream
        return cupy_import.require_cupy().cuda.get_current_stream().ptr

    def bind(self) -> None:
        """Point the handle at the current stream, then at this graph's workspace (in that
        order: setting the stream resets the workspace)."""
        _call(self.lib.cublasSetStream_v2, self.handle, ctypes.c_void_p(self.stream_pointer()))
        _call(self.lib.cublasSetWorkspace_v2, self.handle,
              ctypes.c_void_p(_pointer(self.workspace)), ctypes.c_size_t(self.workspace.nbytes))


def layout(shape, strides, itemsize: int):
    """How a 2-D array's memory reads column-major: ("row", ld) when element (i, j) is at
    i*ld + j (a row-major matrix: column-major, its transpose), ("col", ld) when it is at
    i + j*ld (a transposed view: the matrix itself), None when neither (copy it first).

    Shapes: ``shape`` (rows, cols); ``strides`` in bytes. Example:
    ``layout((2, 3), (12, 4), 4) == ("row", 3)``, ``layout((3, 2), (4, 12), 4) == ("col", 3)``.
    """
    rows, cols = shape
    if any(s % itemsize for s in strides):
        return None
    s0, s1 = (s // itemsize for s in strides)
    if rows <= 1 or cols <= 1 or s0 > 0 and s1 > 0:
        if (cols <= 1 or s1 == 1) and (rows <= 1 or s0 >= max(cols, 1)):
            return "row", max(s0 if rows > 1 else cols, cols, 1)
        if (rows <= 1 or s0 == 1) and (cols <= 1 or s1 >= max(rows, 1)):
            return "col", max(s1 if cols > 1 else rows, rows, 1)
    return None


def _operand(xp, array):
    """(array, layout), the array copied C-contiguous where its strides fit no layout."""
    found = layout(array.shape, array.strides, array.itemsize)
    if found is None:
        array = xp.ascontiguousarray(array)
        found = layout(array.shape, array.strides, array.itemsize)
    return array, found


def gemm_into(blas, a, b, out, beta: float = 0.0, transpose_a: bool = False,
              follow_precision: bool = True):
    """out = op(a) @ b + beta * out for 2-D a, b, out of one float dtype, out C-contiguous;
    op(a) = a.T when ``transpose_a``. Float32 follows ``set_matmul_precision`` unless
    ``follow_precision`` is False (full float32: the ``.grad`` accumulation, as eager).
    Returns out.

    Shapes: op(a) (M, K), b (K, N), out (M, N)."""
    xp = backend.xp_of(out)
    if transpose_a:
        a = a.T
    (m, k), n = a.shape, b.shape[1]
    if b.shape[0] != k or out.shape != (m, n) or not out.flags.c_contiguous:
        raise ValueError(f"cannot compute a {a.shape} @ b {b.shape} into out {out.shape} "
                         f"(C-contiguous: {out.flags.c_contiguous})")
    if m == 0 or n == 0:
        return out
    if k == 0:                                  # no products: beta * out (0, not NaN * 0)
        if beta == 0:
            out[...] = 0
        else:
            out *= beta
        return out
    a, (a_kind, ld_a) = _operand(xp, a)
    b, (b_kind, ld_b) = _operand(xp, b)
    compute = _compute_type(out.dtype) if follow_precision else _exact_compute_type(out.dtype)
    _gemm(blas, (a, a_kind, ld_a, None), (b, b_kind, ld_b, None), out, m, n, k, beta,
          compute)
    return out


def matmul(a, b, blas=None):
    """a @ b as NumPy's matmul (1-D operands, broadcast batch dimensions) through ``blas``
    (default: the recording one), for float16/32/64; other dtypes go to the array module's
    matmul (CuPy's integer matmul is a kernel of its own, no cuBLAS).

    Shapes: (..., M, K) @ (..., K, N) -> (..., M, N)."""
    blas = blas if blas is not None else _active.blas
    xp = backend.xp_of(a)
    if blas is None or a.dtype != b.dtype or a.dtype not in _DATA_TYPES or \
            a.ndim == 0 or b.ndim == 0:
        return xp.matmul(a, b)
    squeeze = []
    if a.ndim == 1:
        a, squeeze = a[None, :], squeeze + [-2]
    if b.ndim == 1:
        b, squeeze = b[:, None], squeeze + [-1]
    if a.shape[-1] != b.shape[-2]:
        return xp.matmul(a, b)                  # its own error, naming both shapes
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    (m, k), n = a.shape[-2:], b.shape[-1]
    out = xp.empty(batch + (m, n), dtype=a.dtype)
    if out.size == 0:
        pass
    elif k == 0:                                # no products: zeros
        out[...] = 0
    elif b.ndim == 2 and a.ndim > 2:            # (..., M, K) @ (K, N): one GEMM of all rows
        rows = out.size // n
        gemm_into(blas, xp.ascontiguousarray(a).reshape(rows, k), b, out.reshape(rows, n))
    elif not batch:
        gemm_into(blas, a, b, out)
    else:
        _batched(blas, xp, a, b, out, batch)
    for axis in sorted(squeeze):
        out = out.squeeze(axis)
    return out


def _batched(blas, xp, a, b, out, batch) -> None:
    """out[i] = a[i] @ b[i] over the broadcast batch (no size 0), one strided-batched GEMM
    (a 2-D operand repeats with stride 0)."""
    (m, k), n = a.shape[-2:], b.shape[-1]
    operands = []
    for array, rows, cols in ((a, m, k), (b, k, n)):
        if array.ndim == 2:
            array, (kind, ld) = _operand(xp, array)
            operands.append((array, kind, ld, 0))
        else:
            array = xp.ascontiguousarray(xp.broadcast_to(array, batch + (rows, cols)))
            operands.append((array, "row", max(cols, 1), rows * cols))
    _gemm(blas, *operands, out, m, n, k, 0.0, _compute_type(out.dtype),
          count=int(np.prod(batch)))


def _gemm(blas, a_operand, b_operand, out, m: int, n: int, k: int, beta: float,
          compute: int, count: int | None = None) -> None:
    """One cuBLAS call: out = A @ B + beta * out, each operand (array, "row" or "col", its
    leading dimension, its batch stride or None); cublasGemmEx, or with ``count``
    cublasGemmStridedBatchedEx over that many (out's batches m*n apart).

    In column-major terms out^T (n, m) = op(B's memory) (n, k) @ op(A's memory) (k, m):
    a "row" operand's memory already is its transpose, so it takes no flag."""
    (a, a_kind, ld_a, stride_a), (b, b_kind, ld_b, stride_b) = a_operand, b_operand
    _check_sizes(m, n, k, ld_a, ld_b, count or 1)
    dtype = _DATA_TYPES[out.dtype]
    scalar = ctypes.c_double if out.dtype == np.float64 else ctypes.c_float
    head = (blas.handle, _OP_N if b_kind == "row" else _OP_T,
            _OP_N if a_kind == "row" else _OP_T, n, m, k, ctypes.byref(scalar(1.0)))
    b_args = (ctypes.c_void_p(_pointer(b)), dtype, ld_b)
    a_args = (ctypes.c_void_p(_pointer(a)), dtype, ld_a)
    out_args = (ctypes.byref(scalar(beta)), ctypes.c_void_p(_pointer(out)), dtype, max(n, 1))
    blas.bind()
    if count is None:
        _call(blas.lib.cublasGemmEx, *head, *b_args, *a_args, *out_args, compute,
              _GEMM_DEFAULT)
    else:
        _call(blas.lib.cublasGemmStridedBatchedEx, *head, *b_args, stride_b, *a_args,
              stride_a, *out_args, m * n, count, compute, _GEMM_DEFAULT)


def _exact_compute_type(dtype) -> int:
    return _COMPUTE_64F if dtype == np.float64 else _COMPUTE_32F


def _compute_type(dtype) -> int:
    if dtype == np.float64:
        return _COMPUTE_64F
    if dtype == np.float32:
        from .precision import get_matmul_precision
        return _COMPUTE_FLOAT32[get_matmul_precision()]
    return _COMPUTE_32F                         # float16 in, float32 accumulation (as CuPy)


def _check_sizes(*sizes) -> None:
    if max(sizes) > _INT_MAX:
        raise ValueError(f"a captured matmul's sizes {sizes} exceed cuBLAS's 32-bit limit")


def _pointer(array) -> int:
    data = getattr(array, "data", None)
    ptr = getattr(data, "ptr", None)            # CuPy: the device address, offset included
    return ptr if ptr is not None else array.ctypes.data


def _call(function, *args) -> None:
    status = function(*args)
    if status != 0:
        raise CublasError(f"{function.__name__} returned cuBLAS status {status} while a CUDA "
                          f"graph recorded")


def _declare(lib) -> None:
    """The argument types of the five functions used (cublas_api.h, cuBLAS 11 and later)."""
    p, i, ll = ctypes.c_void_p, ctypes.c_int, ctypes.c_longlong
    for name, args in (
            ("cublasCreate_v2", [ctypes.POINTER(ctypes.c_void_p)]),
            ("cublasSetStream_v2", [p, p]),
            ("cublasSetWorkspace_v2", [p, p, ctypes.c_size_t]),
            ("cublasGemmEx", [p, i, i, i, i, i, p, p, i, i, p, i, i, p, p, i, i, i, i]),
            ("cublasGemmStridedBatchedEx",
             [p, i, i, i, i, i, p, p, i, i, ll, p, i, i, ll, p, p, i, i, ll, i, i, i])):
        function = getattr(lib, name)
        function.argtypes, function.restype = args, ctypes.c_int


def _handle(lib, device: int):
    """This thread's cuBLAS handle for ``device`` from ``lib``, made on first use."""
    handles, key = _active.handles, (id(lib), device)
    if key not in handles:
        handle = ctypes.c_void_p()
        if lib is _library:
            with cupy_import.require_cupy().cuda.Device(device):
                _call(lib.cublasCreate_v2, ctypes.byref(handle))
        else:
            _call(lib.cublasCreate_v2, ctypes.byref(handle))
        handles[key] = (lib, handle)            # the library kept: its id stays its own
    return handles[key][1]


def _load_library():
    """The libcublas CuPy has loaded (read from /proc/self/maps; its CUDA major version
    first, should another library have loaded another), else one by its name."""
    global _library
    if _library is not None:
        return _library
    cupy = cupy_import.require_cupy()
    cupy.cuda.device.get_cublas_handle()                          # CuPy loads libcublas
    major = cupy.cuda.runtime.runtimeGetVersion() // 1000
    candidates = sorted(_mapped_libraries("/libcublas.so"),
                        key=lambda path: f"libcublas.so.{major}" not in path)
    for name in candidates + [f"libcublas.so.{major}", "libcublas.so"]:
        try:
            _library = ctypes.CDLL(name)
            return _library
        except OSError:
            continue
    raise CublasError("gpugrad could not load libcublas to run a matmul inside a CUDA graph "
                      "(CuPy's own cuBLAS calls are refused while a stream captures); "
                      "install CuPy with its CUDA libraries (pip install cupy-cuda13x)")


def _mapped_libraries(marker: str) -> list:
    """The paths of this process's mapped files whose path holds ``marker`` (Linux)."""
    found = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.rstrip("\n").split(maxsplit=5)
                if len(fields) == 6 and marker in fields[5]:
                    found.add(fields[5].removesuffix(" (deleted)"))
    except OSError:
        pass
    return sorted(found)
