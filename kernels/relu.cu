// relu forward and backward, element-wise over flat contiguous arrays of n elements.
//
//   relu_fwd:  y  = x > 0 ? x : 0          (NaN passes through, as numpy.maximum)
//   relu_bwd:  gx = gy * !(y <= 0)         (reads the saved output y, not the input; a NaN
//                                          y passes gy, as PyTorch's threshold_backward; a
//                                          NaN or inf gy gives NaN where y <= 0, as the
//                                          reference's multiply by the mask does)
//
// Each reads and writes memory once, in 16-byte vectors when all pointers are aligned
// (the tail, n mod 4 or n mod 2 elements, element by element).
#include "common.cuh"

template <typename T>
__device__ __forceinline__ T relu_value(T x) {
    return (x > T(0) || x != x) ? x : T(0);
}

template <typename T>
__global__ void relu_fwd(const T* __restrict__ x, T* __restrict__ y, long long n) {
    typedef typename Vec16<T>::type V;
    const int lanes = sizeof(V) / sizeof(T);
    long long start = 0;
    if (aligned16(x, y, y)) {
        long long vectors = n / lanes;
        const V* xv = reinterpret_cast<const V*>(x);
        V* yv = reinterpret_cast<V*>(y);
        for (long long i = global_thread(); i < vectors; i += grid_threads()) {
            V v = xv[i];
            T* e = reinterpret_cast<T*>(&v);
#pragma unroll
            for (int k = 0; k < lanes; ++k) e[k] = relu_value(e[k]);
            yv[i] = v;
        }
        start = vectors * lanes;
    }
    for (long long i = start + global_thread(); i < n; i += grid_threads())
        y[i] = relu_value(x[i]);
}

template <typename T>
__global__ void relu_bwd(const T* __restrict__ gy, const T* __restrict__ y,
                         T* __restrict__ gx, long long n) {
    typedef typename Vec16<T>::type V;
    const int lanes = sizeof(V) / sizeof(T);
    long long start = 0;
    if (aligned16(gy, y, gx)) {
        long long vectors = n / lanes;
        const V* gv = reinterpret_cast<const V*>(gy);
        const V* yv = reinterpret_cast<const V*>(y);
        V* ov = reinterpret_cast<V*>(gx);
        for (long long i = global_thread(); i < vectors; i += grid_threads()) {
            V g = gv[i];
            V s = yv[i];
            T* ge = reinterpret_cast<T*>(&g);
            const T* se = reinterpret_cast<const T*>(&s);
#pragma unroll
            for (int k = 0; k < lanes; ++k) ge[k] = ge[k] * T(!(se[k] <= T(0)));
            ov[i] = g;
        }
        start = vectors * lanes;
    }
    for (long long i = start + global_thread(); i < n; i += grid_threads())
        gx[i] = gy[i] * T(!(y[i] <= T(0)));
}
