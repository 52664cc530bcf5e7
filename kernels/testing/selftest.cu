// Small kernels that test the CPU emulator itself (tests/test_kernel_emulator.py): each
// does one thing a real kernel can get right or wrong, and the test checks that the
// emulator answers as a GPU would, or reports the mistake. Never compiled for a GPU.
#include "../common.cuh"

// out[b * 6 * n + 6 * t + ...] = the thread's threadIdx, blockIdx (x, y, z); n threads.
extern "C" __global__ void indices(unsigned* out) {
    unsigned n = blockDim.x * blockDim.y * blockDim.z;
    unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    unsigned b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    unsigned* o = out + 6 * (b * n + t);
    o[0] = threadIdx.x, o[1] = threadIdx.y, o[2] = threadIdx.z;
    o[3] = blockIdx.x, o[4] = blockIdx.y, o[5] = blockIdx.z;
}

// out[t] = sum of in[block's threads], through shared memory (256 threads at most); the
// threads t < skip return before the barrier.
extern "C" __global__ void block_sum(const float* in, float* out, int skip) {
    __shared__ float values[256];
    if ((int)threadIdx.x < skip) return;
    values[threadIdx.x] = in[global_thread()];
    __syncthreads();
    float total = 0;
    for (unsigned k = 0; k < blockDim.x; ++k) total += values[k];
    out[global_thread()] = total;
}

// Odd threads wait at one __syncthreads, even threads at another.
extern "C" __global__ void split_barriers(float* out) {
    if (threadIdx.x % 2) {
        __syncthreads();
    } else {
        __syncthreads();
    }
    out[threadIdx.x] = 1;
}

// out[t] = the shuffle op (0 idx, 1 up, 2 down, 3 xor) of in[] with arg and width over mask;
// lanes outside the mask write -1 without calling, unless every_lane.
extern "C" __global__ void shuffle(const float* in, float* out, int op, int arg, int width,
                                   unsigned mask, int every_lane) {
    long long t = global_thread();
    unsigned lane = threadIdx.x % 32;
    float v = in[t];
    if (!every_lane && !((mask >> lane) & 1u)) {
        out[t] = -1;
        return;
    }
    if (op == 0) v = __shfl_sync(mask, v, arg, width);
    if (op == 1) v = __shfl_up_sync(mask, v, arg, width);
    if (op == 2) v = __shfl_down_sync(mask, v, arg, width);
    if (op == 3) v = __shfl_xor_sync(mask, v, arg, width);
    out[t] = v;
}

// out[t] = the sum of in[] over the lanes of t's warp that exist (a partial last warp
// builds its mask from the block size), by a __shfl_down_sync tree; lane 0's is the total.
extern "C" __global__ void warp_sum(const double* in, double* out) {
    unsigned lane = threadIdx.x % 32, first = threadIdx.x - lane;
    unsigned present = blockDim.x - first < 32 ? blockDim.x - first : 32;
    unsigned mask = present == 32 ? 0xffffffffu : (1u << present) - 1;
    double v = in[global_thread()];
    for (unsigned offset = 16; offset > 0; offset /= 2) {
        double other = __shfl_down_sync(mask, v, offset);
        if (lane + offset < present) v += other;
    }
    out[global_thread()] = v;
}

// out[t] = __ballot_sync(full mask, in[t] != 0) over a full warp.
extern "C" __global__ void ballot(const int* in, unsigned* out) {
    out[global_thread()] = __ballot_sync(0xffffffffu, in[global_thread()]);
}

// Half the warp calls a shuffle, the other half a barrier: no thread can go on.
extern "C" __global__ void warp_against_barrier(float* out) {
    float v = threadIdx.x;
    if (threadIdx.x % 32 < 16) v = __shfl_xor_sync(0xffffffffu, v, 1);
    else __syncthreads();
    out[threadIdx.x] = v;
}

// Thread 0 of block 0 writes values[1]; every other block reads memory none of its threads
// wrote.
extern "C" __global__ void unwritten_shared(float* out) {
    __shared__ float values[64];
    if (blockIdx.x == 0 && threadIdx.x == 0) values[1] = 5;
    out[global_thread()] = values[threadIdx.x % 64];
}

// Writes in[0..n + over) of an array of n elements.
extern "C" __global__ void write_past(float* out, long long n, int over) {
    for (long long i = global_thread(); i < n + over; i += grid_threads()) out[i] = 1;
}

// Never ends while *flag is not 0.
extern "C" __global__ void spin(volatile int* flag) {
    while (*flag) flag[1] = flag[1] + 1;
}

// At most 64 threads per block.
extern "C" __global__ void __launch_bounds__(64) bounded(float* out) {
    out[global_thread()] = 1;
}

// out[0] = a + b + c + d, each parameter a different C type.
extern "C" __global__ void mixed_parameters(double* out, int a, long long b, float c, double d) {
    out[0] = a + b + c + d;
}

// Writes out[i]: a null or wild pointer faults.
extern "C" __global__ void write_at(float* out, long long i) {
    out[i] = 1;
}
