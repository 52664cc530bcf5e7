// Shared helpers for gpugrad's kernels (included by every .cu file in kernels/).
//
// Conventions: sizes and indices are `long long` (tensors may exceed 2^31 elements);
// element-wise kernels use grid-stride loops, so any grid size is correct; every kernel is
// a `__global__` function template over its element type T (float or double; the loss
// kernels also over the label type L, int or long long). Python asks for an instance by
// its C++ name, `relu_bwd<float>`, which NVRTC instantiates and maps to the mangled symbol
// (a name expression; gpugrad/cuda/sources.py lists every one a launch may ask for).
#pragma once

__device__ __forceinline__ long long global_thread() {
    return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ long long grid_threads() {
    return (long long)blockDim.x * gridDim.x;
}

// True when every pointer is 16-byte aligned, so float4 / double2 loads are legal.
__device__ __forceinline__ bool aligned16(const void* a, const void* b, const void* c) {
    return (((unsigned long long)a | (unsigned long long)b | (unsigned long long)c) & 15) == 0;
}

__device__ __forceinline__ float exp_(float x) { return expf(x); }
__device__ __forceinline__ double exp_(double x) { return exp(x); }
__device__ __forceinline__ float log_(float x) { return logf(x); }
__device__ __forceinline__ double log_(double x) { return log(x); }

// 16-byte vector of T: float4 for float, double2 for double.
template <typename T> struct Vec16;
template <> struct Vec16<float> { typedef float4 type; };
template <> struct Vec16<double> { typedef double2 type; };
