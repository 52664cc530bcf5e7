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
import threading

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
          ((2, 1, 4, 3), (3, 3, 5)), ((0, 3), (3, 2)), ((4, 0), (0, 2)), ((2, 4, 0), (2, 0, 3)),
          ((2, 3, 0), (0, 4)), ((2, 0, 3), (3, 4)), ((2, 3, 2), (2, 0))]


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


def test_random_shapes_and_views_equal_numpy(blas):
    """Sizes 0 to 3, batches that broadcast (or are empty), 1-D operands, and operands made
    transposed, reversed, of wider rows, of every other row or column, or broadcast."""
    rng = np.random.default_rng(11)

    def make(shape, view):
        if view == "t" and len(shape) >= 2:
            return np.swapaxes(rng.standard_normal(shape[:-2] + shape[:-3:-1]), -1, -2)
        if view == "reversed":
            return rng.standard_normal(shape)[..., ::-1]
        if view == "every other row" and len(shape) >= 2:
            return rng.standard_normal(shape[:-2] + (2 * shape[-2], shape[-1]))[..., ::2, :]
        if view == "broadcast":
            return np.broadcast_to(rng.standard_normal(shape[:-1] + (1,)), shape)
        return rng.standard_normal(shape)

    views = ["c", "t", "reversed", "every other row", "broadcast"]
    batches = [(), (2,), (0,), (2, 1), (3,), (1,)]
    for _ in range(600):
        m, k, n = rng.integers(0, 4, 3)
        m, k, n = int(m), int(k), int(n)
        batch_a, batch_b = (batches[i] for i in rng.integers(0, len(batches), 2))
        shape_a = (k,) if rng.random() < 0.15 else batch_a + (m, k)
        shape_b = (k,) if rng.random() < 0.15 else batch_b + (k, n)
        a, b = (make(shape, views[rng.integers(len(views))]) for shape in (shape_a, shape_b))
        try:
            want = np.matmul(a, b)
        except ValueError:
            with pytest.raises(ValueError):
                captured_blas.matmul(a, b, blas)
            continue
        got = captured_blas.matmul(a, b, blas)
        assert got.shape == want.shape, (shape_a, shape_b)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=f"{shape_a} "
                                   f"@ {shape_b}")


def test_float16_products_accumulate_in_float32(blas, stub):
    if not stub.stub_has_half():
        pytest.skip("this C compiler has no _Float16 for the stand-in's half GEMM")
    rng = np.random.default_rng(5)
    a, b = (rng.standard_normal(s).astype(np.float16) for s in ((3, 8), (8, 2)))
    got = captured_blas.matmul(a, b, blas)
    assert got.dtype == np.float16 and stub.stub_last_compute_type() == 68
    want = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-3)


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
        captured_blas.gemm_into(blas, a, a, np.zeros((2, 2), np.float32), beta=1.0,
                                follow_precision=False)     # .grad accumulation: float32
        assert stub.stub_last_compute_type() == 68
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


def test_a_new_blas_warms_its_handle_up_and_each_thread_has_its_own(blas, stub):
    calls = stub.stub_gemm_calls()
    blas.warm_up(np)                                         # the GPU path does this at once
    assert stub.stub_gemm_calls() == calls + 4                # float32/64, plain and batched
    other = []
    thread = threading.Thread(target=lambda: other.append(captured_blas.Blas(
        library=stub, workspace=np.empty(16, np.uint8), stream=STREAM)))
    thread.start()
    thread.join()
    same_thread = captured_blas.Blas(library=stub, workspace=np.empty(16, np.uint8))
    assert other[0].handle.value != blas.handle.value == same_thread.handle.value


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="Linux's /proc only")
def test_mapped_libraries_are_read_from_proc():
    found = captured_blas._mapped_libraries("/libc")
    assert found and all("/libc" in path and os.path.isabs(path) for path in found)


def test_the_ops_and_the_accumulating_gemm_route_to_the_recording_blas(blas, stub):
    """fused.matmul (MatMul, Linear, linear+relu) and launch.gemm_accumulate take the
    captured path while a graph records, and only then (NumPy is never refused)."""
    from types import SimpleNamespace
    from gpugrad.cuda import launch
    from gpugrad.ops import fused
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    not_numpy = SimpleNamespace(matmul=lambda x, y: pytest.fail("CuPy's matmul was called"))
    calls = stub.stub_gemm_calls()
    with captured_blas.recording(blas):
        np.testing.assert_allclose(fused.matmul(not_numpy, a, b), a @ b)
        np.testing.assert_allclose(fused.matmul(np, a, b), a @ b)  # NumPy: its own matmul
    assert stub.stub_gemm_calls() == calls + 1
    host = SimpleNamespace(module="numpy", arrays="a NumPy array", array_type=lambda: np.ndarray,
                           device_id=lambda array: 0)
    out = np.ones((3, 4))
    with launch.using_device(host), captured_blas.recording(blas):
        launch.gemm_accumulate(a, np.ones((2, 4)), out, transpose_a=True)
    np.testing.assert_allclose(out, 1.0 + a.T @ np.ones((2, 4)))
    assert stub.stub_gemm_calls() == calls + 2
