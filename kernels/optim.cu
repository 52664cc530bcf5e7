// Multi-tensor optimizer steps: one launch updates every parameter of a group.
//
// The launch reads a table in device memory: for tensor k, pointers params[k], grads[k]
// (and the state buffers) and its size sizes[k]; the work is cut into chunks of at most
// chunk_size elements, chunk c covering elements [chunk_start[c], chunk_start[c] +
// chunk_size) of tensor chunk_tensor[c]; block c updates chunk c. The hyperparameters
// live in device memory too, in float64 (hyper[]), so a captured CUDA graph reads the
// current learning rate at every replay; Adam's per-tensor step counts are device counters
// advanced by adam_count, so a replayed step counts itself.
//
// The arithmetic follows the reference array code in gpugrad/optim/sgd.py and adam.py
// operation by operation, constants derived in float64 and rounded once to T as NumPy does
// with Python floats, so the two agree to rounding.
#include "common.cuh"

// hyper = [lr, momentum, dampening, weight_decay]; first: 1 for the momentum step that
// creates the buffer (buf = grad), as a scalar for the whole launch.
template <typename T>
__global__ void sgd_multi(T* const* params, const T* const* grads, T* const* bufs,
                          const long long* sizes, const int* chunk_tensor,
                          const long long* chunk_start, long long chunk_size,
                          const double* hyper, int nesterov, int first) {
    const int k = chunk_tensor[blockIdx.x];
    const long long start = chunk_start[blockIdx.x];
    const long long end = min(start + chunk_size, sizes[k]);
    const T lr = T(hyper[0]), momentum = T(hyper[1]), keep = T(1.0 - hyper[2]);
    const T decay = T(hyper[3]);
    T* p = params[k];
    const T* g = grads[k];
    T* b = bufs ? bufs[k] : 0;
    for (long long i = start + threadIdx.x; i < end; i += blockDim.x) {
        T grad = g[i];
        if (decay != T(0)) grad = grad + decay * p[i];
        if (b) {
            T buf = first ? grad : b[i] * momentum + keep * grad;
            b[i] = buf;
            grad = nesterov ? grad + momentum * buf : buf;
        }
        p[i] = p[i] - lr * grad;
    }
}

// steps[k] += 1 for every tensor k < count (the step every tensor of the launch takes).
__global__ void adam_count(long long* steps, long long count) {
    for (long long k = global_thread(); k < count; k += grid_threads()) steps[k] += 1;
}

// hyper = [lr, beta1, beta2, eps, weight_decay]; steps[k] = t, this step's number for
// tensor k (adam_count ran first). Bias corrections 1 - beta^t in float64, per block.
template <typename T>
__global__ void adam_multi(T* const* params, const T* const* grads, T* const* exp_avg,
                           T* const* exp_avg_sq, const long long* sizes,
                           const long long* steps, const int* chunk_tensor,
                           const long long* chunk_start, long long chunk_size,
                           const double* hyper, int decoupled) {
    const int k = chunk_tensor[blockIdx.x];
    const long long start = chunk_start[blockIdx.x];
    const long long end = min(start + chunk_size, sizes[k]);
    const double t = (double)steps[k];
    const double correction1 = 1.0 - pow(hyper[1], t), correction2 = 1.0 - pow(hyper[2], t);
    const T beta1 = T(hyper[1]), keep1 = T(1.0 - hyper[1]);
    const T beta2 = T(hyper[2]), keep2 = T(1.0 - hyper[2]);
    const T eps = T(hyper[3]), decay = T(hyper[4]), shrink = T(1.0 - hyper[0] * hyper[4]);
    const T inverse2 = T(1.0 / correction2), step_size = T(hyper[0] / correction1);
    T* p = params[k];
    const T* g = grads[k];
    T* m = exp_avg[k];
    T* v = exp_avg_sq[k];
    for (long long i = start + threadIdx.x; i < end; i += blockDim.x) {
        T grad = g[i];
        T param = p[i];
        if (decay != T(0)) {
            if (decoupled) param = param * shrink;
            else grad = grad + decay * param;
        }
        T mi = m[i] * beta1 + keep1 * grad;
        T vi = v[i] * beta2 + keep2 * (grad * grad);
        m[i] = mi;
        v[i] = vi;
        T denom = sqrt(vi * inverse2) + eps;
        p[i] = param - (mi / denom) * step_size;
    }
}
