// The scheduler behind emulate.h: a kernel launch run on the CPU, one thread at a time.
//
// Blocks run one after another. The threads of a block are fibers (ucontext) on the calling
// OS thread, each with its own stack; one runs until it waits (__syncthreads, a warp
// exchange) or returns, then the next ready one runs, in thread order. So __syncthreads is a
// real barrier, a warp's lanes really exchange values, and static __shared__ arrays are one
// block's shared memory (poisoned with 0xFF bytes before every block, as uninitialised GPU
// shared memory would be garbage). The checks are stricter than a GPU:
//   - a barrier must be reached by every thread of the block, at one __syncthreads call;
//   - a warp exchange waits for every live lane named in its mask, all with one op, mask
//     and width; a lane outside its own mask is an error; a value read from a lane that
//     took no part (exited, beyond the block, not in the mask) is all 0xFF bytes (NaN);
//   - when no thread can go on, the launch stops with a report of who waits where;
//   - a launch that runs past its time limit (an endless loop) is stopped by a signal.
// The first error ends the launch; gg_launch (launch.h) hands its text to the caller.
#pragma once

#include <signal.h>
#include <ucontext.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define GG_ASAN 1
#else
#define GG_ASAN 0
#endif

struct uint3 { unsigned x, y, z; };
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

// The built-in variables, set by the scheduler before a thread runs.
static uint3 threadIdx, blockIdx;
static dim3 blockDim, gridDim;

namespace gg_emu {

using Erased = void (*)();

// One kernel of the library: its name, parameter codes (launch.h), entry point, the
// caller that unpacks an argument array into a call, and its __launch_bounds__ (0: none).
struct KernelInfo {
    const char* name;
    const char* signature;
    Erased fn;
    void (*call)(Erased, void* const*);
    unsigned max_threads;
};

struct Site { const char* file; unsigned line; };

enum class State : unsigned char { ready, barrier, warp, exited };
enum Op : int { SHFL_IDX, SHFL_UP, SHFL_DOWN, SHFL_XOR, BALLOT, SYNCWARP };
inline const char* op_name(int op) {            // (no static table: see launch.h)
    switch (op) {
        case SHFL_IDX: return "__shfl_sync";
        case SHFL_UP: return "__shfl_up_sync";
        case SHFL_DOWN: return "__shfl_down_sync";
        case SHFL_XOR: return "__shfl_xor_sync";
        case BALLOT: return "__ballot_sync";
        default: return "__syncwarp";
    }
}

constexpr std::uint64_t POISON = ~0ull;            // what a lane that took no part "sends"
constexpr std::size_t STACK = 256 * 1024;          // per thread; a PROT_NONE page below it

struct Thread {
    ucontext_t context;
    State state;
    unsigned id;                                   // x + y * bx + z * bx * by
    uint3 index;
    Site site;                                     // where it waits
    int op, arg, width;
    unsigned mask;
    std::uint64_t value, answer;
    char* stack;
    void* fake_stack;                              // AddressSanitizer's, while switched out
};

struct Launch {
    const KernelInfo* info;
    void* const* args;
    dim3 grid, block;
    unsigned count;                                // threads per block
    std::vector<Thread> threads;
    unsigned waiting, exited;                      // at the barrier; returned
    Thread* running;
    ucontext_t scheduler;
    const void* scheduler_bottom;
    std::size_t scheduler_size;
    bool failed;
    std::string error;
};

static Launch* active;                              // the launch in progress (one at a time)
static volatile sig_atomic_t in_fiber, timed_out;
static int stuck_thread;                           // the thread the time limit stopped
static std::vector<std::pair<void*, std::size_t>> shared_memory;   // set by gg_set_shared
static char* stack_pool;
static std::size_t stack_pool_threads;

inline std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
inline std::string format(const char* fmt, ...) {
    va_list args, again;
    va_start(args, fmt);
    va_copy(again, args);
    std::string out(std::size_t(vsnprintf(nullptr, 0, fmt, args)), '\0');
    vsnprintf(out.data(), out.size() + 1, fmt, again);
    va_end(again);
    va_end(args);
    return out;
}

inline const char* base_name(const char* path) {
    const char* slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

// "0-31, 64, 70-75" from sorted numbers.
inline std::string ranges(const std::vector<unsigned>& ids) {
    std::string out;
    for (std::size_t i = 0; i < ids.size();) {
        std::size_t j = i;
        while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
        out += (out.empty() ? "" : ", ") + std::to_string(ids[i]);
        if (j > i) out += "-" + std::to_string(ids[j]);
        i = j + 1;
    }
    return out;
}

inline std::string where(Site s) { return format("%s:%u", base_name(s.file), s.line); }

inline std::string header(const Launch& L) {
    return format("%s, block (%u, %u, %u) of grid (%u, %u, %u), block size (%u, %u, %u): ",
                  L.info->name, blockIdx.x, blockIdx.y, blockIdx.z, L.grid.x, L.grid.y,
                  L.grid.z, L.block.x, L.block.y, L.block.z);
}

inline void fail(Launch& L, const std::string& what) {
    if (!L.failed) L.error = header(L) + what;
    L.failed = true;
}

// ------------------------------------------------------------------ switching

inline void enter(Launch& L, Thread& t) {                  // scheduler -> thread t
    L.running = &t;
    threadIdx = t.index;
#if GG_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, t.stack, STACK);
#endif
    swapcontext(&L.scheduler, &t.context);
#if GG_ASAN
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
    L.running = nullptr;
}

// The running thread -> scheduler. The empty asm tells the compiler that memory (the static
// __shared__ arrays too) may have changed while it was away.
inline void leave(Launch& L, bool exiting) {
    Thread& t = *L.running;
    asm volatile("" ::: "memory");
    in_fiber = 0;
#if GG_ASAN
    __sanitizer_start_switch_fiber(exiting ? nullptr : &t.fake_stack, L.scheduler_bottom,
                                   L.scheduler_size);
#else
    (void)exiting;
#endif
    swapcontext(&t.context, &L.scheduler);
#if GG_ASAN
    __sanitizer_finish_switch_fiber(t.fake_stack, &L.scheduler_bottom, &L.scheduler_size);
#endif
    in_fiber = 1;
    asm volatile("" ::: "memory");
}

// ------------------------------------------------------------------ warps

// Complete the exchange of warp w with this mask if every live lane it names is there.
inline void try_complete(Launch& L, unsigned w, unsigned mask) {
    const Thread* first = nullptr;
    unsigned members = 0;
    for (unsigned lane = 0; lane < 32; ++lane) {
        unsigned id = w * 32 + lane;
        if (id >= L.count || !((mask >> lane) & 1u)) continue;
        const Thread& u = L.threads[id];
        if (u.state == State::exited) continue;
        if (u.state != State::warp) return;                 // not there yet
        if (!first) first = &u;
        if (u.mask != first->mask || u.op != first->op || u.width != first->width)
            return fail(L, format("lanes of warp %u disagree: lane %u calls %s(mask 0x%08x, "
                                  "width %d) at %s, lane %u calls %s(mask 0x%08x, width %d) "
                                  "at %s", w, first->id % 32, op_name(first->op), first->mask,
                                  first->width, where(first->site).c_str(), lane,
                                  op_name(u.op), u.mask, u.width, where(u.site).c_str()));
        members |= 1u << lane;
    }
    if (!first) return;
    unsigned votes = 0;
    for (unsigned lane = 0; lane < 32; ++lane)
        if ((members >> lane) & 1u && L.threads[w * 32 + lane].value) votes |= 1u << lane;
    for (unsigned lane = 0; lane < 32; ++lane) {
        if (!((members >> lane) & 1u)) continue;
        Thread& u = L.threads[w * 32 + lane];
        unsigned width = unsigned(u.width), base = lane & ~(width - 1), src = lane;
        unsigned arg = unsigned(u.arg);
        if (u.op == SHFL_IDX) src = base + (arg & (width - 1));
        if (u.op == SHFL_UP && lane - base >= arg) src = lane - arg;
        if (u.op == SHFL_DOWN && lane - base + arg < width) src = lane + arg;
        if (u.op == SHFL_XOR) src = ((lane ^ arg) & 31) < base + width ? (lane ^ arg) & 31 : lane;
        if (u.op == BALLOT) u.answer = votes;
        else if (u.op == SYNCWARP) u.answer = 0;
        else u.answer = (members >> src) & 1u ? L.threads[w * 32 + src].value : POISON;
        u.state = State::ready;
    }
}

inline void settle_warp(Launch& L, unsigned w) {
    for (unsigned lane = 0; lane < 32 && !L.failed; ++lane) {
        unsigned id = w * 32 + lane;
        if (id < L.count && L.threads[id].state == State::warp)
            try_complete(L, w, L.threads[id].mask);
    }
}

// A warp intrinsic from the running thread: value in, the exchanged value out.
inline std::uint64_t exchange(int op, unsigned mask, std::uint64_t value, int arg, int width,
                              Site site) {
    Launch& L = *active;
    Thread& t = *L.running;
    unsigned lane = t.id % 32;
    if (!((mask >> lane) & 1u))
        fail(L, format("thread %u (lane %u of warp %u) calls %s with mask 0x%08x at %s, a mask "
                       "that leaves it out", t.id, lane, t.id / 32, op_name(op), mask,
                       where(site).c_str()));
    else if (width <= 0 || width > 32 || (width & (width - 1)))
        fail(L, format("%s with width %d at %s: the width must be a power of 2 up to 32",
                       op_name(op), width, where(site).c_str()));
    if (L.failed) leave(L, false);
    t.state = State::warp;
    t.op = op, t.mask = mask, t.value = value, t.arg = arg, t.width = width, t.site = site;
    settle_warp(L, t.id / 32);
    leave(L, false);
    return t.answer;
}

// ------------------------------------------------------------------ the block barrier

inline void barrier(Site site) {
    Launch& L = *active;
    Thread& t = *L.running;
    t.state = State::barrier;
    t.site = site;
    if (++L.waiting == L.count) {
        Site first = L.threads[0].site;
        std::string places;
        for (const Thread& u : L.threads)
            if (places.empty() && (u.site.line != first.line || strcmp(u.site.file, first.file)))
                places = format("thread 0 waits at __syncthreads() at %s, thread %u at %s",
                                where(first).c_str(), u.id, where(u.site).c_str());
        if (!places.empty()) {
            fail(L, "threads wait at different barriers: " + places);
        } else {
            for (Thread& u : L.threads) u.state = State::ready;
            L.waiting = 0;
        }
    }
    leave(L, false);
}

// Who waits where, when no thread can go on.
inline std::string deadlock_report(const Launch& L) {
    std::vector<std::string> parts;
    auto add = [&](const std::string& part) {
        for (const std::string& p : parts) if (p == part) return;
        parts.push_back(part);
    };
    std::vector<unsigned> done;
    for (const Thread& t : L.threads) {
        if (t.state == State::exited) done.push_back(t.id);
        if (t.state != State::barrier) continue;
        std::vector<unsigned> same;
        for (const Thread& u : L.threads)
            if (u.state == State::barrier && u.site.line == t.site.line) same.push_back(u.id);
        add(format("threads %s wait at __syncthreads() at %s", ranges(same).c_str(),
                   where(t.site).c_str()));
    }
    for (const Thread& t : L.threads) {
        if (t.state != State::warp || parts.size() > 12) continue;
        std::vector<unsigned> lanes, missing;
        unsigned w = t.id / 32;
        for (unsigned lane = 0; lane < 32; ++lane) {
            unsigned id = w * 32 + lane;
            if (id >= L.count || !((t.mask >> lane) & 1u)) continue;
            const Thread& u = L.threads[id];
            if (u.state == State::warp && u.mask == t.mask) lanes.push_back(lane);
            else if (u.state != State::exited) missing.push_back(lane);
        }
        add(format("warp %u lanes %s wait at %s(mask 0x%08x) at %s for lanes %s", w,
                   ranges(lanes).c_str(), op_name(t.op), t.mask, where(t.site).c_str(),
                   ranges(missing).c_str()));
    }
    if (!done.empty()) add(format("threads %s have returned", ranges(done).c_str()));
    std::string out = "deadlock, no thread can go on: ";
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "; " : "") + parts[i];
    return out + ".";
}

// ------------------------------------------------------------------ a thread's life

inline void thread_main() {
    Launch& L = *active;
    in_fiber = 1;
#if GG_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &L.scheduler_bottom, &L.scheduler_size);
#endif
    L.info->call(L.info->fn, L.args);
    Thread& t = *L.running;
    t.state = State::exited;
    ++L.exited;
    settle_warp(L, t.id / 32);                   // it no longer holds up its warp's exchanges
    leave(L, true);
}

}  // namespace gg_emu
