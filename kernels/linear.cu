// The MLP block y = relu(x @ W.T + b): its forward epilogue and its fused backward.
//
// Shapes (row-major, contiguous): x (rows, in), W (out, in), b (out), y and gy (rows, out).
// The backward needs, with the mask m = (y > 0) as 0 or 1:
//   gz = gy * m                     (the gradient at the pre-activation; a product, so a
//                                    NaN in gy stays NaN, as in the reference)
//   db = sum over rows of gz        (out)
//   dW = gz.T @ x                   (out, in)
//   dx = gz @ W                     (rows, in)
//
// Two routes, both here:
//   cuBLAS route: relu_bias_bwd writes gz and per-block column sums in ONE pass over gy,
//     col_sum_partials adds those into db, and cuBLAS (through CuPy) does the two GEMMs.
//   RawKernel route: masked_gemm_tn (dW) and masked_gemm_nn (dx) apply the mask while they
//     load gy, so gz is never written; relu_bias_bwd with gz = NULL gives db. They can add
//     into an existing gradient in place (accumulate = 1).
// Every sum is in a fixed order, so results are the same from run to run.
#include "common.cuh"

// y[r, c] = relu(y[r, c] + b[c]), in place on the GEMM's output. Threads walk columns
// (x) and blocks walk rows (y), so no element needs a 64-bit division for its column.
template <typename T>
__global__ void bias_relu_fwd(T* y, const T* __restrict__ b, long long rows, long long cols) {
    long long c = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    T bias = b[c];
    for (long long r = blockIdx.y; r < rows; r += gridDim.y) {
        T v = y[r * cols + c] + bias;
        y[r * cols + c] = (v > T(0) || v != v) ? v : T(0);
    }
}

// Block (32, 8), 256 threads (the launch bounds say so): threadIdx.x walks columns
// (coalesced), threadIdx.y and blockIdx.y walk rows. Writes gz (unless NULL) and one
// partial column sum per blockIdx.y:
// partial[blockIdx.y, c] = sum of gz[r, c] over the rows this block row visited.
template <typename T>
__global__ void __launch_bounds__(256)
relu_bias_bwd(const T* __restrict__ gy, const T* __restrict__ y, T* __restrict__ gz,
              T* __restrict__ partial, long long rows, long long cols) {
    __shared__ T sums[8][33];
    long long c = (long long)blockIdx.x * 32 + threadIdx.x;
    T acc = T(0);
    if (c < cols) {
        for (long long r = (long long)blockIdx.y * 8 + threadIdx.y; r < rows;
             r += 8LL * gridDim.y) {
            long long i = r * cols + c;
            T v = gy[i] * T(!(y[i] <= T(0)));       // (a NaN y passes gy, as torch)
            if (gz) gz[i] = v;
            acc += v;
        }
    }
    sums[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && c < cols) {
        T total = T(0);
#pragma unroll
        for (int k = 0; k < 8; ++k) total += sums[k][threadIdx.x];
        partial[(long long)blockIdx.y * cols + c] = total;
    }
}

// db[c] = (accumulate ? db[c] : 0) + sum over p of partial[p, c].
template <typename T>
__global__ void col_sum_partials(const T* __restrict__ partial, T* __restrict__ db,
                                 long long parts, long long cols, int accumulate) {
    for (long long c = global_thread(); c < cols; c += grid_threads()) {
        T total = T(0);
        for (long long p = 0; p < parts; ++p) total += partial[p * cols + c];
        db[c] = accumulate ? db[c] + total : total;
    }
}

// C (M, N) = [C +] A' @ B, with A'(m, k) = gy * !(y <= 0) read from gy and y, and
// B (K, N) row-major. A_KM: gy is stored (K, M) (the dW case, gz.T @ x); otherwise (M, K)
// (the dx case, gz @ W). Tiles of 64 x 64 outputs, 16 deep; 256 threads (exactly: the
// launch bounds of masked_gemm_tn and masked_gemm_nn say so), 4 x 4 outputs each.
#define TILE_M 64
#define TILE_N 64
#define TILE_K 16

template <typename T, bool A_KM>
__device__ void masked_gemm(const T* __restrict__ gy, const T* __restrict__ y,
                            const T* __restrict__ B, T* __restrict__ C,
                            long long M, long long N, long long K, int accumulate) {
    __shared__ T As[TILE_K][TILE_M + 4];
    __shared__ T Bs[TILE_K][TILE_N];
    const int tid = threadIdx.x;
    const int tx = tid % 16, ty = tid / 16;
    const long long m0 = (long long)blockIdx.y * TILE_M, n0 = (long long)blockIdx.x * TILE_N;
    T acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = T(0);

    for (long long k0 = 0; k0 < K; k0 += TILE_K) {
#pragma unroll
        for (int s = 0; s < 4; ++s) {
            int idx = tid + s * 256;
            int mm = A_KM ? idx % TILE_M : idx / TILE_K;     // the fastest index follows
            int kk = A_KM ? idx / TILE_M : idx % TILE_K;     // gy's memory order
            long long gm = m0 + mm, gk = k0 + kk;
            T v = T(0);
            if (gm < M && gk < K) {
                long long a = A_KM ? gk * M + gm : gm * K + gk;
                v = gy[a] * T(!(y[a] <= T(0)));
            }
            As[kk][mm] = v;
        }
#pragma unroll
        for (int s = 0; s < 4; ++s) {
            int idx = tid + s * 256;
            int kk = idx / TILE_N, nn = idx % TILE_N;
            long long gk = k0 + kk, gn = n0 + nn;
            Bs[kk][nn] = (gk < K && gn < N) ? B[gk * N + gn] : T(0);
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TILE_K; ++kk) {
            T a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) a[i] = As[kk][ty * 4 + i];
#pragma unroll
            for (int j = 0; j < 4; ++j) b[j] = Bs[kk][tx * 4 + j];
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        long long gm = m0 + ty * 4 + i;
        if (gm >= M) continue;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            long long gn = n0 + tx * 4 + j;
            if (gn < N) {
                long long o = gm * N + gn;
                C[o] = accumulate ? C[o] + acc[i][j] : acc[i][j];
            }
        }
    }
}

// dW (outs, ins) [+]= gz.T @ x: gy and y (rows, outs), x (rows, ins).
template <typename T>
__global__ void __launch_bounds__(256)
masked_gemm_tn(const T* gy, const T* y, const T* x, T* dw, long long rows, long long outs,
               long long ins, int accumulate) {
    masked_gemm<T, true>(gy, y, x, dw, outs, ins, rows, accumulate);
}

// dx (rows, ins) [+]= gz @ W: gy and y (rows, outs), W (outs, ins).
template <typename T>
__global__ void __launch_bounds__(256)
masked_gemm_nn(const T* gy, const T* y, const T* w, T* dx, long long rows, long long outs,
               long long ins, int accumulate) {
    masked_gemm<T, false>(gy, y, w, dx, rows, ins, outs, accumulate);
}
