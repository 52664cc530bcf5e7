// Lets g++ compile gpugrad's CUDA kernels (kernels/*.cu, unchanged) for the CPU, to run
// them thread by thread in tests (tests/kernel_emulation.py). A check of correctness, never
// of speed: see kernels/README.md for what it proves and what only a GPU run proves.
//
// This file gives the CUDA surface the kernels use: the qualifiers, the built-in variables,
// the vector types, math and bit casts, __syncthreads, the warp intrinsics and atomics.
// threads.h runs the threads of a block as fibers; launch.h runs the blocks and is what a
// test calls. Compile a wrapper that includes this file, then one .cu file:
//
//     g++ -std=c++20 -O1 -pthread -shared -fPIC -I kernels/testing -I kernels wrapper.cpp
//
// Not supported: dynamic (extern) __shared__ memory, cooperative groups, textures, streams.
#pragma once

#include <math.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <type_traits>

#include "launch.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __shared__ static
#define __constant__ static

constexpr int warpSize = 32;

// ------------------------------------------------------------------ vector types

struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(16) double2 { double x, y; };
struct alignas(8) int2 { int x, y; };
struct alignas(16) int4 { int x, y, z, w; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline double2 make_double2(double x, double y) { return {x, y}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }

// ------------------------------------------------------------------ math and bits

template <class A, class B> inline std::common_type_t<A, B> min(A a, B b) {
    return b < a ? b : a;
}
template <class A, class B> inline std::common_type_t<A, B> max(A a, B b) {
    return a < b ? b : a;
}
inline float __int_as_float(int v) { return std::bit_cast<float>(v); }
inline int __float_as_int(float v) { return std::bit_cast<int>(v); }
inline float __uint_as_float(unsigned v) { return std::bit_cast<float>(v); }
inline unsigned __float_as_uint(float v) { return std::bit_cast<unsigned>(v); }
inline double __longlong_as_double(long long v) { return std::bit_cast<double>(v); }
inline long long __double_as_longlong(double v) { return std::bit_cast<long long>(v); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
template <class T> inline T __ldg(const T* p) { return *p; }

// ------------------------------------------------------------------ synchronisation

inline gg_emu::Site site_of(const std::source_location& at) {
    return {at.file_name(), unsigned(at.line())};
}

inline void __syncthreads(std::source_location at = std::source_location::current()) {
    gg_emu::barrier(site_of(at));
}
inline void __threadfence() {}
inline void __threadfence_block() {}

template <class T>
inline T warp_op(int op, unsigned mask, T var, int arg, int width,
                 const std::source_location& at) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>,
                  "warp intrinsics exchange values of up to 8 bytes");
    std::uint64_t bits = 0;
    std::memcpy(&bits, &var, sizeof(T));
    bits = gg_emu::exchange(op, mask, bits, arg, width, site_of(at));
    T out;
    std::memcpy(&out, &bits, sizeof(T));
    return out;
}

template <class T>
inline T __shfl_sync(unsigned mask, T var, int src, int width = warpSize,
                     std::source_location at = std::source_location::current()) {
    return warp_op(gg_emu::SHFL_IDX, mask, var, src, width, at);
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                        std::source_location at = std::source_location::current()) {
    return warp_op(gg_emu::SHFL_UP, mask, var, int(delta), width, at);
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                          std::source_location at = std::source_location::current()) {
    return warp_op(gg_emu::SHFL_DOWN, mask, var, int(delta), width, at);
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,
                         std::source_location at = std::source_location::current()) {
    return warp_op(gg_emu::SHFL_XOR, mask, var, lane_mask, width, at);
}
inline unsigned __ballot_sync(unsigned mask, int predicate,
                              std::source_location at = std::source_location::current()) {
    return unsigned(warp_op(gg_emu::BALLOT, mask, std::uint64_t(predicate != 0), 0, 32, at));
}
inline int __any_sync(unsigned mask, int predicate,
                      std::source_location at = std::source_location::current()) {
    return __ballot_sync(mask, predicate, at) != 0;
}
inline int __all_sync(unsigned mask, int predicate,
                      std::source_location at = std::source_location::current()) {
    return __ballot_sync(mask, predicate, at) == __ballot_sync(mask, 1, at);
}
inline void __syncwarp(unsigned mask = 0xffffffffu,
                       std::source_location at = std::source_location::current()) {
    warp_op(gg_emu::SYNCWARP, mask, 0, 0, 32, at);
}

// ------------------------------------------------------------------ atomics
// One thread runs at a time and none is switched out inside these, so plain
// read-modify-writes are atomic here.

template <class T> inline T atomicAdd(T* p, T v) { T old = *p; *p = old + v; return old; }
template <class T> inline T atomicSub(T* p, T v) { T old = *p; *p = old - v; return old; }
template <class T> inline T atomicExch(T* p, T v) { T old = *p; *p = v; return old; }
template <class T> inline T atomicMax(T* p, T v) { T old = *p; *p = max(old, v); return old; }
template <class T> inline T atomicMin(T* p, T v) { T old = *p; *p = min(old, v); return old; }
template <class T> inline T atomicCAS(T* p, T expected, T v) {
    T old = *p;
    if (old == expected) *p = v;
    return old;
}
