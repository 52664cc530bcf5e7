// Launching an emulated kernel (emulate.h): its blocks one after another under a time limit,
// a fault in a kernel thread turned into an error, and the C functions a test calls through
// ctypes.
//
// A wrapper translation unit, written by kernel_build.wrapper_source (tests/kernel_build.py),
// includes emulate.h and one kernels/*.cu file, then lists the file's kernels by the name
// expressions the launchers ask for (taking an address instantiates the template):
//
//     const gg_emu::KernelInfo gg_emu::kernels[] = {
//         gg_emu::info("relu_fwd<float>", &relu_fwd<float>, 0), ...};
//     const int gg_emu::kernel_count = 4;
//
// gg_launch(k, grid, block, args, ...) then runs kernel k as cuLaunchKernel would, args
// pointing at each argument's value; gg_kernel_signature(k) gives one letter per parameter
// (p pointer, i int, I unsigned, q long long, Q unsigned long long, f float, d double), so
// the caller can check what it passes.
#pragma once

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>

#include "threads.h"

namespace gg_emu {

template <class T> constexpr char code() {
    if constexpr (std::is_pointer_v<T>) return 'p';
    else if constexpr (std::is_same_v<T, int>) return 'i';
    else if constexpr (std::is_same_v<T, unsigned>) return 'I';
    else if constexpr (std::is_same_v<T, long long>) return 'q';
    else if constexpr (std::is_same_v<T, unsigned long long>) return 'Q';
    else if constexpr (std::is_same_v<T, float>) return 'f';
    else if constexpr (std::is_same_v<T, double>) return 'd';
    else static_assert(sizeof(T) == 0, "a kernel parameter type the emulator cannot pass");
}

// (A variable template, not a static inside a function: function-local statics are taken
// for the kernels' __shared__ arrays and poisoned before every block.)
template <class... A> inline constexpr char signature_of[] = {code<A>()..., '\0'};

template <class... A, std::size_t... I>
void call_with(void (*f)(A...), void* const* args, std::index_sequence<I...>) {
    f(*static_cast<A*>(args[I])...);
}

template <class... A> void call(Erased f, void* const* args) {
    call_with(reinterpret_cast<void (*)(A...)>(f), args, std::index_sequence_for<A...>{});
}

template <class... A> KernelInfo info(const char* name, void (*f)(A...), unsigned max_threads) {
    return {name, signature_of<A...>, reinterpret_cast<Erased>(f), &call<A...>, max_threads};
}

extern const KernelInfo kernels[];          // defined by the wrapper translation unit
extern const int kernel_count;
static std::mutex one_at_a_time;            // launches from several Python threads queue

// ------------------------------------------------------------------ time limit and faults

// The watchdog's signal (a real-time one, which Python leaves alone), then SIGSEGV, SIGBUS.
inline int handled_signal(int i) { return i == 0 ? SIGRTMIN + 4 : i == 1 ? SIGSEGV : SIGBUS; }
static struct sigaction previous_actions[3];
static stack_t previous_stack;
static sigset_t previous_mask;
static char signal_stack[64 * 1024];               // handlers run here: a stack overflow too
static volatile sig_atomic_t fault_signal;         // SIGSEGV or SIGBUS in a kernel thread
static void* fault_address;

// The watchdog's signal, or a fault in a kernel thread, ends that thread's turn for good:
// back to the scheduler, which stops the launch. A fault anywhere else goes to the handler
// that was there before (Python's faulthandler) when the instruction runs again.
inline void on_signal(int signal, siginfo_t* info, void*) {
    bool fault = signal != handled_signal(0);
    if (!fault) timed_out = 1;
    if (in_fiber && active) {
        in_fiber = 0;
        stuck_thread = active->running ? int(active->running->id) : -1;
        if (fault) fault_signal = signal, fault_address = info->si_addr;
        setcontext(&active->scheduler);
    }
    for (int i = 1; fault && i < 3; ++i)
        if (handled_signal(i) == signal) sigaction(signal, &previous_actions[i], nullptr);
}

// Installs (on) or restores (off) the handlers, their stack, and the signal mask that lets
// the watchdog's signal through.
inline void handle_signals(bool on) {
    if (on) {
        stack_t alternate{};
        alternate.ss_sp = signal_stack, alternate.ss_size = sizeof signal_stack;
        sigaltstack(&alternate, &previous_stack);
        struct sigaction action{};
        action.sa_sigaction = on_signal;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        for (int i = 0; i < 3; ++i) sigaction(handled_signal(i), &action, &previous_actions[i]);
        sigset_t unblock;
        sigemptyset(&unblock);
        sigaddset(&unblock, handled_signal(0));
        pthread_sigmask(SIG_UNBLOCK, &unblock, &previous_mask);
    } else {
        pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
        for (int i = 0; i < 3; ++i) sigaction(handled_signal(i), &previous_actions[i], nullptr);
        sigaltstack(&previous_stack, nullptr);
    }
}

inline char* stacks(unsigned count) {
    const std::size_t page = std::size_t(sysconf(_SC_PAGESIZE)), each = STACK + page;
    if (count > stack_pool_threads) {
        if (stack_pool) munmap(stack_pool, stack_pool_threads * each);
        stack_pool = nullptr, stack_pool_threads = 0;
        void* p = mmap(nullptr, count * each, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return nullptr;
        stack_pool = static_cast<char*>(p), stack_pool_threads = count;
        for (unsigned i = 0; i < count; ++i) mprotect(stack_pool + i * each, page, PROT_NONE);
    }
    return stack_pool;
}

inline void start_block(Launch& L) {
    for (auto [memory, size] : shared_memory) memset(memory, 0xFF, size);
    for (Thread& t : L.threads) {
#if GG_ASAN
        ASAN_UNPOISON_MEMORY_REGION(t.stack, STACK);
#endif
        t.context.uc_stack.ss_sp = t.stack;
        t.context.uc_stack.ss_size = STACK;
        t.context.uc_link = nullptr;
        makecontext(&t.context, thread_main, 0);
        t.state = State::ready;
        t.fake_stack = nullptr;
    }
    L.waiting = L.exited = 0;
}

// Each pass resumes every ready thread in thread order; a pass that resumes none while some
// have not returned is a deadlock.
inline bool run_block(Launch& L) {
    start_block(L);
    for (;;) {
        bool ran = false;
        for (Thread& t : L.threads) {
            if (t.state != State::ready) continue;
            enter(L, t);
            ran = true;
            if (timed_out || fault_signal || L.failed) return false;
        }
        if (L.exited == L.count) return true;
        if (!ran) return fail(L, deadlock_report(L)), false;
    }
}

// Runs every block; false with L.error set at the first error.
inline bool run(Launch& L, double limit_s) {
    const std::size_t page = std::size_t(sysconf(_SC_PAGESIZE));
    char* pool = stacks(L.count);
    if (!pool) return fail(L, "cannot map the threads' stacks"), false;
    L.threads.assign(L.count, Thread{});
    for (unsigned i = 0; i < L.count; ++i) {
        Thread& t = L.threads[i];
        t.id = i;
        t.index = {i % L.block.x, i / L.block.x % L.block.y, i / (L.block.x * L.block.y)};
        t.stack = pool + i * (STACK + page) + page;
        getcontext(&t.context);
    }
    active = &L;
    timed_out = fault_signal = 0, stuck_thread = -1;
    blockDim = L.block, gridDim = L.grid;
    std::mutex m;
    std::condition_variable cv;
    bool finished = false;
    pthread_t self = pthread_self();
    std::thread watchdog([&] {
        std::unique_lock<std::mutex> lock(m);
        auto limit = std::chrono::duration<double>(limit_s);
        if (!cv.wait_for(lock, limit, [&] { return finished; }))
            pthread_kill(self, handled_signal(0));
    });
    bool ok = true;
    for (unsigned z = 0; ok && z < L.grid.z; ++z)
        for (unsigned y = 0; ok && y < L.grid.y; ++y)
            for (unsigned x = 0; ok && x < L.grid.x; ++x) {
                blockIdx = {x, y, z};
                ok = run_block(L) && !timed_out && !fault_signal;
            }
    {
        std::lock_guard<std::mutex> lock(m);
        finished = true;
    }
    cv.notify_one();
    watchdog.join();
    if (fault_signal) {
        L.failed = false;
        fail(L, format("thread %d stopped with %s at address %p: a read or write outside the "
                       "memory it may use", stuck_thread,
                       fault_signal == SIGSEGV ? "SIGSEGV" : "SIGBUS", fault_address));
    } else if (timed_out) {
        L.failed = false;
        fail(L, format("the launch ran past its time limit of %g s (thread %d was running: an "
                       "endless loop?)", limit_s, stuck_thread));
    }
    active = nullptr;
    return ok && !L.failed;
}

}  // namespace gg_emu

// ------------------------------------------------------------------ the C interface

extern "C" {

int gg_kernel_count() { return gg_emu::kernel_count; }
const char* gg_kernel_name(int k) { return gg_emu::kernels[k].name; }
const char* gg_kernel_signature(int k) { return gg_emu::kernels[k].signature; }
unsigned gg_kernel_max_threads(int k) { return gg_emu::kernels[k].max_threads; }

// The kernels' static __shared__ arrays (found in the library's symbol table), poisoned
// before every block.
void gg_set_shared(int count, void* const* addresses, const std::size_t* sizes) {
    gg_emu::shared_memory.clear();
    for (int i = 0; i < count; ++i) gg_emu::shared_memory.emplace_back(addresses[i], sizes[i]);
}

// Runs kernel k over grid[3] blocks of block[3] threads; args[i] points at the value of
// parameter i. 0 on success; else 1 and a message in error[error_size].
int gg_launch(int k, const unsigned* grid, const unsigned* block, void* const* args,
              double limit_s, char* error, std::size_t error_size) {
    std::lock_guard<std::mutex> lock(gg_emu::one_at_a_time);
    gg_emu::Launch L{};
    L.info = &gg_emu::kernels[k];
    L.args = args;
    L.grid = dim3(grid[0], grid[1], grid[2]);
    L.block = dim3(block[0], block[1], block[2]);
    L.count = block[0] * block[1] * block[2];
    if (L.info->max_threads && L.count > L.info->max_threads) {
        snprintf(error, error_size, "%s: %u threads per block exceed its __launch_bounds__(%u) "
                 "(on a GPU: too many resources requested for launch)", L.info->name, L.count,
                 L.info->max_threads);
        return 1;
    }
    gg_emu::handle_signals(true);
    bool ok = gg_emu::run(L, limit_s);
    gg_emu::handle_signals(false);
    if (!ok) snprintf(error, error_size, "%s", L.error.c_str());
    return ok ? 0 : 1;
}

}  // extern "C"
