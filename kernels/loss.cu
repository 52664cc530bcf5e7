// Losses: softmax cross-entropy (forward and backward) and mean squared error (backward).
//
// Cross-entropy of logits x (rows, cols) against integer labels (rows), one warp per row:
//   forward:  loss[r] = (1 - eps) * (lse - x[r, t]) + eps * (lse - mean(x[r, :])),
//             lse = log(sum exp(x[r, :])), computed as max + log(sum exp(x - max)) in one
//             online pass (the max and the sum together), 0 where t == ignore_index;
//   backward: gx[r, c] = g[r * g_stride] * scale * (softmax(x[r, :])[c] - q[c]),
//             q = (1 - eps) * onehot(t) + eps / cols, 0 for ignored rows.
// g_stride is 0 when g is the one cotangent of a "mean" or "sum" loss, 1 for "none";
// scale is 1 / (rows counted) for "mean", else 1. A label out of range (the host checks
// them) gives NaN, never a read out of bounds.
//
// MSE backward, element-wise: gx[i] = 2 * scale * g[i * g_stride] * (x[i] - t[i]).
#include "common.cuh"

template <typename T>
__device__ __forceinline__ T neg_inf();
template <> __device__ __forceinline__ float neg_inf<float>() {
    return -__int_as_float(0x7f800000);
}
template <> __device__ __forceinline__ double neg_inf<double>() {
    return -__longlong_as_double(0x7ff0000000000000LL);
}

// Merge the running (max m, sum s of exp(v - m)) of two halves. A half is empty while its
// s is 0 (a finite value makes s >= 1); a NaN makes s NaN, and NaN then spreads to the
// whole row, as in the reference.
template <typename T>
__device__ __forceinline__ void merge_max_sum(T& m, T& s, T om, T os) {
    T top = om > m ? om : m;
    T a = (s == T(0)) ? T(0) : s * exp_(m - top);
    T b = (os == T(0)) ? T(0) : os * exp_(om - top);
    m = top;
    s = a + b;
}

// The max and sum of exp(x - max) of one row, across the warp; every lane gets both.
template <typename T>
__device__ void row_max_sum(const T* __restrict__ row, long long cols, int lane, T& m, T& s) {
    m = neg_inf<T>();
    s = T(0);
    for (long long c = lane; c < cols; c += 32) {
        T v = row[c];
        if (v > m) {
            s = (s == T(0) ? T(0) : s * exp_(m - v)) + T(1);
            m = v;
        } else {
            s += (v == neg_inf<T>()) ? T(0) : exp_(v - m);
        }
    }
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2)
        merge_max_sum(m, s, __shfl_xor_sync(0xffffffffu, m, offset),
                      __shfl_xor_sync(0xffffffffu, s, offset));
}

template <typename T>
__device__ T warp_sum(T v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

template <typename T, typename L>
__global__ void softmax_xent_fwd(const T* __restrict__ x, const L* __restrict__ labels,
                                 T* __restrict__ loss, long long rows, long long cols,
                                 long long ignore_index, T eps) {
    const int lane = threadIdx.x % 32;
    for (long long r = global_thread() / 32; r < rows; r += grid_threads() / 32) {
        const T* row = x + r * cols;
        T m, s;
        row_max_sum(row, cols, lane, m, s);
        T shifted_sum = T(0);
        if (eps != T(0)) {
            for (long long c = lane; c < cols; c += 32) shifted_sum += row[c] - m;
            shifted_sum = warp_sum(shifted_sum);
        }
        if (lane == 0) {
            long long t = (long long)labels[r];
            T out = T(0);
            if (t != ignore_index) {
                T log_s = log_(s);
                if (t < 0 || t >= cols) {
                    out = log_s * (T(0) / T(0));       // NaN: a label the host let through
                } else {
                    out = (T(1) - eps) * (log_s - (row[t] - m));
                    if (eps != T(0)) out += eps * (log_s - shifted_sum / T(cols));
                }
            }
            loss[r] = out;
        }
    }
}

template <typename T, typename L>
__global__ void softmax_xent_bwd(const T* __restrict__ x, const L* __restrict__ labels,
                                 const T* __restrict__ g, long long g_stride,
                                 T* __restrict__ gx, long long rows, long long cols,
                                 long long ignore_index, T eps, T scale) {
    const int lane = threadIdx.x % 32;
    for (long long r = global_thread() / 32; r < rows; r += grid_threads() / 32) {
        const T* row = x + r * cols;
        T m, s;
        row_max_sum(row, cols, lane, m, s);
        long long t = (long long)labels[r];
        bool valid = t != ignore_index;
        T coef = valid ? g[r * g_stride] * scale : T(0);
        if (valid && (t < 0 || t >= cols)) coef = T(0) / T(0);
        T spread = eps / T(cols), inv_s = T(1) / s;
        for (long long c = lane; c < cols; c += 32) {
            T q = spread + (c == t ? T(1) - eps : T(0));
            gx[r * cols + c] = coef * (exp_(row[c] - m) * inv_s - q);
        }
    }
}

template <typename T>
__global__ void mse_bwd(const T* __restrict__ x, const T* __restrict__ t,
                        const T* __restrict__ g, long long g_stride, T* __restrict__ gx,
                        long long n, T scale) {
    for (long long i = global_thread(); i < n; i += grid_threads())
        gx[i] = T(2) * scale * g[i * g_stride] * (x[i] - t[i]);
}
