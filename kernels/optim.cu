// Multi-tensor optimizer steps: one launch updates every parameter of a group.
//
// The launch reads a table in device memory: for tensor k, pointers params[k], grads[k]
// (and the state buffers) and its size sizes[k]; the work is cut into chunks of at most
// chunk_size elements, chunk c covering elements [chunk_start[c], chunk_start[c] +
// chunk_size) of tensor chunk_tensor[c]; block c updates chunk c. The hyperparameters
// live in device memory too (hyper[]), so a captured CUDA graph reads the current
// learning rate at every replay, and Adam's step count is a device counter advanced by
// adam_prepare, which also writes the bias corrections into hyper.
//
// The arithmetic follows the reference array code in gpugrad/optim/sgd.py and adam.py
// operation by operation, so the two agree to rounding.
#include "common.cuh"

// hyper = [lr, momentum, dampening, weight_decay]
template <typename T>
__device__ void sgd_multi(T* const* params, const T* const* grads, T* const* bufs,
                          const long long* sizes, const int* chunk_tensor,
                          const long long* chunk_start, long long chunk_size,
                          const T* hyper, int nesterov, int first) {
    const int k = chunk_tensor[blockIdx.x];
    const long long start = chunk_start[blockIdx.x];
    const long long end = min(start + chunk_size, sizes[k]);
    const T lr = hyper[0], momentum = hyper[1], dampening = hyper[2], decay = hyper[3];
    T* p = params[k];
    const T* g = grads[k];
    T* b = bufs ? bufs[k] : 0;
    for (long long i = start + threadIdx.x; i < end; i += blockDim.x) {
        T grad = g[i];
        if (decay != T(0)) grad = grad + decay * p[i];
        if (b) {
            T buf = first ? grad : b[i] * momentum + (T(1) - dampening) * grad;
            b[i] = buf;
            grad = nesterov ? grad + momentum * buf : buf;
        }
        p[i] = p[i] - lr * grad;
    }
}

// steps[0] += 1; hyper[5] = 1 - beta1^t; hyper[6] = 1 - beta2^t (one thread).
template <typename T>
__device__ void adam_prepare(T* hyper, long long* steps) {
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        long long t = steps[0] + 1;
        steps[0] = t;
        hyper[5] = T(1.0 - pow((double)hyper[1], (double)t));
        hyper[6] = T(1.0 - pow((double)hyper[2], (double)t));
    }
}

// hyper = [lr, beta1, beta2, eps, weight_decay, 1 - beta1^t, 1 - beta2^t]
template <typename T>
__device__ void adam_multi(T* const* params, const T* const* grads, T* const* exp_avg,
                           T* const* exp_avg_sq, const long long* sizes,
                           const int* chunk_tensor, const long long* chunk_start,
                           long long chunk_size, const T* hyper, int decoupled) {
    const int k = chunk_tensor[blockIdx.x];
    const long long start = chunk_start[blockIdx.x];
    const long long end = min(start + chunk_size, sizes[k]);
    const T lr = hyper[0], beta1 = hyper[1], beta2 = hyper[2], eps = hyper[3];
    const T decay = hyper[4], correction1 = hyper[5], correction2 = hyper[6];
    T* p = params[k];
    const T* g = grads[k];
    T* m = exp_avg[k];
    T* v = exp_avg_sq[k];
    for (long long i = start + threadIdx.x; i < end; i += blockDim.x) {
        T grad = g[i];
        T param = p[i];
        if (decay != T(0)) {
            if (decoupled) param = param * (T(1) - lr * decay);
            else grad = grad + decay * param;
        }
        T mi = m[i] * beta1 + (T(1) - beta1) * grad;
        T vi = v[i] * beta2 + (T(1) - beta2) * (grad * grad);
        m[i] = mi;
        v[i] = vi;
        T denom = sqrt(vi * (T(1) / correction2)) + eps;
        p[i] = param - (mi / denom) * (lr / correction1);
    }
}

extern "C" __global__ void sgd_multi_f32(float* const* params, const float* const* grads,
                                         float* const* bufs, const long long* sizes,
                                         const int* chunk_tensor, const long long* chunk_start,
                                         long long chunk_size, const float* hyper,
                                         int nesterov, int first) {
    sgd_multi<float>(params, grads, bufs, sizes, chunk_tensor, chunk_start, chunk_size, hyper,
                     nesterov, first);
}
extern "C" __global__ void sgd_multi_f64(double* const* params, const double* const* grads,
                                         double* const* bufs, const long long* sizes,
                                         const int* chunk_tensor, const long long* chunk_start,
                                         long long chunk_size, const double* hyper,
                                         int nesterov, int first) {
    sgd_multi<double>(params, grads, bufs, sizes, chunk_tensor, chunk_start, chunk_size, hyper,
                      nesterov, first);
}
extern "C" __global__ void adam_prepare_f32(float* hyper, long long* steps) {
    adam_prepare<float>(hyper, steps);
}
extern "C" __global__ void adam_prepare_f64(double* hyper, long long* steps) {
    adam_prepare<double>(hyper, steps);
}
extern "C" __global__ void adam_multi_f32(float* const* params, const float* const* grads,
                                          float* const* exp_avg, float* const* exp_avg_sq,
                                          const long long* sizes, const int* chunk_tensor,
                                          const long long* chunk_start, long long chunk_size,
                                          const float* hyper, int decoupled) {
    adam_multi<float>(params, grads, exp_avg, exp_avg_sq, sizes, chunk_tensor, chunk_start,
                      chunk_size, hyper, decoupled);
}
extern "C" __global__ void adam_multi_f64(double* const* params, const double* const* grads,
                                          double* const* exp_avg, double* const* exp_avg_sq,
                                          const long long* sizes, const int* chunk_tensor,
                                          const long long* chunk_start, long long chunk_size,
                                          const double* hyper, int decoupled) {
    adam_multi<double>(params, grads, exp_avg, exp_avg_sq, sizes, chunk_tensor, chunk_start,
                       chunk_size, hyper, decoupled);
}
