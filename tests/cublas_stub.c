/* A stand-in libcublas for tests/test_captured_blas.py: the five functions
   gpugrad/cuda/captured_blas.py calls, with cuBLAS's prototypes (cublas_api.h), computing on
   host memory in column-major order as cuBLAS does on the device. Like cuBLAS it checks the
   leading dimensions; unlike it, it fails a GEMM whose handle was not given a workspace after
   its stream (cublasSetStream resets the workspace; a capture must not allocate one). */
#include <stdlib.h>
#include <stddef.h>

typedef struct {
    void *stream;
    void *workspace;
    size_t workspace_bytes;
    int workspace_after_stream;
} Handle;

static int last_compute_type = -1;
static void *last_stream = NULL;
static int gemm_calls = 0;

int stub_last_compute_type(void) { return last_compute_type; }
void *stub_last_stream(void) { return last_stream; }
int stub_gemm_calls(void) { return gemm_calls; }

int cublasCreate_v2(Handle **handle) {
    *handle = calloc(1, sizeof(Handle));
    return *handle ? 0 : 3;                     /* CUBLAS_STATUS_ALLOC_FAILED */
}

int cublasSetStream_v2(Handle *handle, void *stream) {
    handle->stream = stream;
    handle->workspace_after_stream = 0;
    return 0;
}

int cublasSetWorkspace_v2(Handle *handle, void *workspace, size_t bytes) {
    handle->workspace = workspace;
    handle->workspace_bytes = bytes;
    handle->workspace_after_stream = workspace != NULL && bytes > 0;
    return 0;
}

#ifdef __FLT16_MAX__                            /* the compiler has _Float16: half too */
#define HAVE_HALF 1
typedef _Float16 half;
#else
#define HAVE_HALF 0
#endif

int stub_has_half(void) { return HAVE_HALF; }

static double element(const void *base, int type, long long index) {
#if HAVE_HALF
    if (type == 2) return (double)((const half *)base)[index];
#endif
    return type == 0 ? (double)((const float *)base)[index] : ((const double *)base)[index];
}

static void store(void *base, int type, long long index, double value) {
#if HAVE_HALF
    if (type == 2) { ((half *)base)[index] = (half)(float)value; return; }
#endif
    if (type == 0) ((float *)base)[index] = (float)value;
    else ((double *)base)[index] = value;
}

static size_t element_size(int type) {
    return type == 0 ? sizeof(float) : type == 1 ? sizeof(double) : 2;
}

static int gemm(Handle *handle, int transa, int transb, int m, int n, int k,
                const void *alpha, const void *A, int Atype, int lda,
                const void *B, int Btype, int ldb, const void *beta, void *C, int Ctype,
                int ldc, int computeType) {
    if (!handle->workspace_after_stream) return 14;     /* CUBLAS_STATUS_INTERNAL_ERROR */
    if (Atype != Btype || Atype != Ctype) return 15;    /* CUBLAS_STATUS_NOT_SUPPORTED */
    if (Atype != 0 && Atype != 1 && !(Atype == 2 && HAVE_HALF)) return 15;
    if (Atype == 0 && computeType != 68 && computeType != 75 && computeType != 77) return 7;
    if (Atype == 1 && computeType != 70) return 7;
    if (Atype == 2 && computeType != 68) return 7;      /* half in, float accumulation */
    if (m < 0 || n < 0 || k < 0) return 7;
    if (lda < (transa ? (k > 1 ? k : 1) : (m > 1 ? m : 1))) return 7;
    if (ldb < (transb ? (n > 1 ? n : 1) : (k > 1 ? k : 1))) return 7;
    if (ldc < (m > 1 ? m : 1)) return 7;
    /* the scalars' type is the compute type's: float for 32F (float and half data) */
    double a = Atype == 1 ? *(const double *)alpha : *(const float *)alpha;
    double b = Atype == 1 ? *(const double *)beta : *(const float *)beta;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double sum = 0.0;
            for (int l = 0; l < k; l++) {
                long long ia = transa ? l + (long long)i * lda : i + (long long)l * lda;
                long long ib = transb ? j + (long long)l * ldb : l + (long long)j * ldb;
                sum += element(A, Atype, ia) * element(B, Btype, ib);
            }
            long long ic = i + (long long)j * ldc;
            store(C, Ctype, ic, a * sum + (b == 0.0 ? 0.0 : b * element(C, Ctype, ic)));
        }
    last_compute_type = computeType;
    last_stream = handle->stream;
    return 0;
}

int cublasGemmEx(Handle *handle, int transa, int transb, int m, int n, int k,
                 const void *alpha, const void *A, int Atype, int lda,
                 const void *B, int Btype, int ldb, const void *beta, void *C, int Ctype,
                 int ldc, int computeType, int algo) {
    (void)algo;
    gemm_calls++;
    return gemm(handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta,
                C, Ctype, ldc, computeType);
}

int cublasGemmStridedBatchedEx(Handle *handle, int transa, int transb, int m, int n, int k,
                               const void *alpha, const void *A, int Atype, int lda,
                               long long strideA, const void *B, int Btype, int ldb,
                               long long strideB, const void *beta, void *C, int Ctype,
                               int ldc, long long strideC, int batchCount, int computeType,
                               int algo) {
    (void)algo;
    gemm_calls++;
    if (batchCount < 0 || strideC < (long long)ldc * n) return 7;
    size_t size = element_size(Atype);
    for (int i = 0; i < batchCount; i++) {
        int status = gemm(handle, transa, transb, m, n, k, alpha,
                          (const char *)A + i * strideA * size, Atype, lda,
                          (const char *)B + i * strideB * size, Btype, ldb, beta,
                          (char *)C + i * strideC * size, Ctype, ldc, computeType);
        if (status) return status;
    }
    return 0;
}
