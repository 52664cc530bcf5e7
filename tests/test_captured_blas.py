"""gpugrad/cuda/captured_blas.py, the GEMMs of a step while a CUDA graph records, on the CPU:
its ctypes calls go to tests/cublas_stub.c, a stand-in libcublas with cuBLAS's prototypes
that computes column-major on host memory, and every product is checked against float64
NumPy. So the layouts (row-major arrays, transposed views, row strides wider than a row,
broadcast batches, 1-D operands), the argument order and types of the ctypes calls, the
compute type and the stream-then-workspace order are all tested without a GPU; the real
libcublas is tested by the GPU run (tests/test_cuda_graphs.py on cuda)."""

import ctypes
import os
import shutil
import subprocess

import numpy as np
import pytest

import gpugrad
from gpugrad.cuda import captured_blas
from gpugrad.cuda.captured_blas import layout

HERE = os.path.dirname(os.path.abspath(__file__))
STREAM = 0x5EED


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the stand-in libcublas")
    path = str(tmp_path_factory.mktemp("stub") / "libcublas_stub.so")
    subprocess.run([compiler, "-shared", "-fPIC", "-O1", "-o", path,
                    os.path.join(HERE, "cublas_stub.c")], check=True)
    lib = ctypes.CDLL(path)
    lib.stub_last_stream.restype = ctypes.c_void_p
    return lib


@pytest.fixture
def blas(stub):
    return captured_blas.Blas(library=stub, workspace=np.empty(1 << 10, np.uint8),
                              stream=STREAM)


def test_layout_reads_row_major_arrays_and_transposed_views():
    assert layout((2, 3), (12, 4), 4) == ("row", 3)          # C-contiguous float32
    assert layout((3, 2), (4, 12), 4) == ("col", 3)          # its transpose, a view
    assert layout((2, 3), (40, 8), 8) == ("row", 5)          # rows of 5, 3 of them used
    assert layout((3, 1), (4, 4), 4) == ("row", 1)           # a column
    assert layout((1, 3), (0, 4), 4) == ("row", 3)           # a row, any row stride
    assert layout((3, 4), (0, 4), 4) is None                 # broadcast rows: copy
    assert layout((3, 4), (-16, -4), 4) is None              # reversed: copy
    assert layout((3, 4), (32, 8), 4) is None                # every other column: copy
    assert layout((3, 4), (6, 4), 4) is None                 # not a whole element


def _operands(rng, shape_a, shape_b, dtype, view_a, view_b):
    """Random operands of the shapes asked for, each made the way ``view`` says: "c"
    C-contiguous, "t" a transposed view, "wide" a slice of wider rows, "step" every other
    column (no cuBLAS layout: copied)."""
    def make(shape, view):
        if view == "t" and len(shape) >= 2:
            base = rng.standard_normal(shape[:-2] + (shape[-1], shape[-2])).astype(dtype)
            return np.swapaxes(base, -1, -2)
        if view == "wide":
            return rng.standard_normal(shape[:-1] + (shape[-1] + 3,)).astype(dtype)[..., 1:-2]
        if view == "step":
            return rng.standard_normal(shape[:-1] + (2 * shape[-1],)).astype(dtype)[..., ::2]
        return rng.standard_normal(shape).astype(dtype)
    return make(shape_a, view_a), make(shape_b, view_b)


SHAPES = [((4, 3), (3, 5)), ((1, 3), (3, 1)), ((5, 1), (1, 4)), ((3,), (3, 4)), ((4, 3), (3,)),
          ((3,), (3,)), ((2, 4, 3), (3, 5)), ((4, 3), (2, 3, 5)), ((2, 4, 3), (2, 3, 5)),
          ((2, 1, 4, 3), (3, 3, 5)), ((0, 3), (3, 2)), ((4, 0), (0, 2)), ((2, 4, 0), (2, 0, 3))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("views", [("c", "c"), ("t", "c"), ("c", "t"), ("t", "t"),
                                   ("wide", "step"), ("step", "wide")])
@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: f"{s[0]}@{s[1]}")
def test_matmul_equals_numpy_float64(blas, stub, shapes, views, dtype):
    rng = np.random.default_rng(len(shapes[0]) * 7 + shapes[1][-1])
    a, b = _operands(rng, *shapes, dtype, *views)
    calls = stub.stub_gemm_calls()
    got = captured_blas.matmul(a, b, blas)
    want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert got.shape == want.shape and got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-5 if dtype == np.float32 else 1e-12)
    if got.size and a.shape[-1]:
        assert stub.stub_gemm_calls() == calls + 1           # one GEMM, batched or not
        assert stub.stub_last_stream() == STREAM
        assert stub.stub_last_compute_type() == (68 if dtype == np.float32 else 70)


@pytest.mark.parametrize("transpose_a", [False, True])
def test_gemm_into_adds_into_out(blas, transpose_a):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4) if transpose_a else (4, 3))
    b, out = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    want = out + (a.T if transpose_a else a) @ b
    got = captured_blas.gemm_into(blas, a, b, out, beta=1.0, transpose_a=transpose_a)
    assert got is out
    np.testing.assert_allclose(out, want, rtol=1e-12)
    zero = np.full((4, 5), np.nan)                           # no products: zeros, not NaN
    captured_blas.gemm_into(blas, np.ones((4, 0)), np.ones((0, 5)), zero)
    assert (zero == 0).all()


def test_float32_products_take_the_matmul_precision(blas, stub):
    a = np.ones((2, 2), np.float32)
    gpugrad.set_matmul_precision("high")
    try:
        captured_blas.matmul(a, a, blas)
        assert stub.stub_last_compute_type() == 77           # CUBLAS_COMPUTE_32F_FAST_TF32
    finally:
        gpugrad.set_matmul_precision("highest")
    captured_blas.matmul(a, a, blas)
    assert stub.stub_last_compute_type() == 68               # CUBLAS_COMPUTE_32F


def test_other_dtypes_and_mismatched_shapes_go_to_the_array_module(blas, stub):
    calls = stub.stub_gemm_calls()
    ints = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(captured_blas.matmul(ints, ints.T, blas), ints @ ints.T)
    with pytest.raises(ValueError, match="matmul"):          # NumPy's own message
        captured_blas.matmul(np.ones((2, 3)), np.ones((2, 3)), blas)
    assert stub.stub_gemm_calls() == calls


def test_a_workspace_lost_to_set_stream_is_a_cublas_error(blas, monkeypatch):
    """cublasSetStream resets the workspace: bound in the other order, the stub (as a
    capture would) fails the GEMM, and the status comes back as an error naming the call."""
    def stream_last():
        captured_blas._call(blas.lib.cublasSetWorkspace_v2, blas.handle,
                            ctypes.c_void_p(blas.workspace.ctypes.data),
                            ctypes.c_size_t(blas.workspace.nbytes))
        captured_blas._call(blas.lib.cublasSetStream_v2, blas.handle,
                            ctypes.c_void_p(STREAM))
    monkeypatch.setattr(blas, "bind", stream_last)
    with pytest.raises(captured_blas.CublasError, match="cublasGemmEx returned cuBLAS status 14"):
        captured_blas.matmul(np.ones((2, 2)), np.ones((2, 2)), blas)


def test_recording_routes_this_thread_and_restores(blas):
    assert captured_blas.active() is None
    with captured_blas.recording(blas):
        assert captured_blas.active() is blas
        got = captured_blas.matmul(np.eye(2), np.full((2, 2), 3.0))     # the active one
        np.testing.assert_array_equal(got, np.full((2, 2), 3.0))
    assert captured_blas.active() is None
