"""The CPU emulator of the CUDA kernels checked on its own (kernels/testing/selftest.cu):
threads and blocks get their indices, __syncthreads is a barrier over shared memory, warp
shuffles follow CUDA's lane, width and mask rules (partial warps too), and every mistake it
promises to report is reported as a KernelError naming the kernel and where, never a hang:
a barrier some threads skip, barriers at different places, a warp exchange waiting on a
barrier, a lane outside its mask, a write past an array, a fault, an endless loop, a launch
CUDA would refuse, an argument of the wrong type. Then the kernels of kernels/*.cu run once
more under AddressSanitizer and UBSan, in a process that preloads libasan."""

import os
import subprocess
import sys

import numpy as np
import pytest

from gpugrad.cuda import sources

from kernel_build import HEADERS, ROOT, compile_libraries, compiler, kernel_folder, missing
from kernel_emulation import EmulatedDevice, KernelError

pytestmark = pytest.mark.skipif(missing() is not None,
                                reason=f"the CPU kernel emulator cannot run: {missing()}")

FILE = "selftest.cu"


@pytest.fixture(scope="module")
def emu():
    return EmulatedDevice(folder=HEADERS, time_limit=20.0)


def run(emu, name, grid, block, *args):
    emu.run(FILE, name, grid, block, args)


def test_threads_and_blocks_get_their_indices(emu):
    grid, block = (3, 2, 2), (4, 2, 3)
    out = emu.allocate((12, 24, 6), np.uint32)
    run(emu, "indices", grid, block, out)
    bz, by, bx, tz, ty, tx = np.meshgrid(*(np.arange(n) for n in grid[::-1] + block[::-1]),
                                         indexing="ij")
    expected = np.stack([tx, ty, tz, bx, by, bz], axis=-1).reshape(12, 24, 6)
    assert np.array_equal(out, expected)


def test_a_barrier_makes_shared_memory_visible(emu):
    values = np.arange(3 * 256, dtype=np.float32)
    out = emu.allocate(3 * 256, np.float32)
    run(emu, "block_sum", 3, 256, emu.array(values), out, np.int32(0))
    assert np.array_equal(out, np.repeat(values.reshape(3, 256).sum(axis=1), 256))


def test_a_barrier_some_threads_skip_is_a_deadlock(emu):
    out = emu.allocate(256, np.float32)
    with pytest.raises(KernelError, match=r"block_sum, block \(0, 0, 0\).*deadlock.*threads "
                       r"5-255 wait at __syncthreads\(\) at selftest.cu:\d+; threads 0-4 "
                       r"have returned\.$"):
        run(emu, "block_sum", 1, 256, emu.allocate(256, np.float32), out, np.int32(5))


def test_threads_at_different_barriers_are_reported(emu):
    with pytest.raises(KernelError, match=r"split_barriers.*different barriers: thread 0 "
                       r"waits at __syncthreads\(\) at selftest.cu:\d+, thread \d+ at "
                       r"selftest.cu:\d+"):
        run(emu, "split_barriers", 1, 64, emu.allocate(64, np.float32))


def _shuffle_reference(values, op, arg, width):
    """CUDA's rules for a full warp: the source lane of each lane, then its value."""
    lanes = np.arange(values.size) % 32
    base = values.size and np.arange(values.size) - lanes
    segment = lanes - lanes % width
    if op == 0:
        src = segment + arg % width
    elif op == 1:
        src = np.where(lanes % width >= arg, lanes - arg, lanes)
    elif op == 2:
        src = np.where(lanes % width + arg < width, lanes + arg, lanes)
    else:
        src = np.where((lanes ^ arg) < segment + width, lanes ^ arg, lanes)
    return values[base + src]


@pytest.mark.parametrize("arg, width", [(0, 32), (1, 32), (5, 32), (16, 32), (31, 32),
                                        (3, 8), (7, 16), (1, 2)])
@pytest.mark.parametrize("op", [0, 1, 2, 3], ids=["idx", "up", "down", "xor"])
def test_shuffles_follow_cuda_lane_rules(emu, op, arg, width):
    values = np.arange(64, dtype=np.float32) * 10
    out = emu.allocate(64, np.float32)
    run(emu, "shuffle", 1, 64, emu.array(values), out, np.int32(op), np.int32(arg),
        np.int32(width), np.uint32(0xFFFFFFFF), np.int32(1))
    assert np.array_equal(out, _shuffle_reference(values, op, arg, width))


def test_a_partial_warp_reduces_over_the_lanes_it_has(emu):
    values = np.random.default_rng(0).standard_normal(48)
    out = emu.allocate(48, np.float64)
    run(emu, "warp_sum", 1, 48, emu.array(values), out)
    assert np.isclose(out[0], values[:32].sum()) and np.isclose(out[32], values[32:].sum())


def test_a_lane_read_that_took_no_part_is_nan(emu):
    values = np.arange(48, dtype=np.float32)
    out = emu.allocate(48, np.float32)
    run(emu, "shuffle", 1, 48, emu.array(values), out, np.int32(3), np.int32(16),
        np.int32(32), np.uint32(0xFFFFFFFF), np.int32(1))        # lanes 16-31 of warp 1: none
    assert np.array_equal(out[:32], values[:32].reshape(2, 16)[::-1].ravel())
    assert np.isnan(out[32:]).all()
    run(emu, "shuffle", 1, 32, emu.array(values[:32]), out[:32], np.int32(3), np.int32(1),
        np.int32(32), np.uint32(0x0000FFFF), np.int32(0))        # half a warp, its own mask
    assert np.array_equal(out[:16], values[:16].reshape(8, 2)[:, ::-1].ravel())
    assert (out[16:32] == -1).all()


def test_a_lane_outside_its_mask_is_an_error(emu):
    values = emu.array(np.zeros(32, np.float32))
    with pytest.raises(KernelError, match=r"thread 16 \(lane 16 of warp 0\) calls "
                       r"__shfl_xor_sync with mask 0x0000ffff at selftest.cu:\d+, a mask that "
                       r"leaves it out"):
        run(emu, "shuffle", 1, 32, values, emu.allocate(32, np.float32), np.int32(3),
            np.int32(1), np.int32(32), np.uint32(0xFFFF), np.int32(1))


def test_ballot_collects_the_warp(emu):
    flags = (np.arange(64) % 3 == 0).astype(np.int32)
    out = emu.allocate(64, np.uint32)
    run(emu, "ballot", 1, 64, emu.array(flags), out)
    words = [int(sum(1 << i for i in range(32) if flags[w * 32 + i])) for w in range(2)]
    assert np.array_equal(out, np.repeat(words, 32))


def test_a_warp_exchange_waiting_on_a_barrier_is_a_deadlock(emu):
    with pytest.raises(KernelError, match=r"deadlock.*threads 16-31 wait at __syncthreads.*"
                       r"warp 0 lanes 0-15 wait at __shfl_xor_sync\(mask 0xffffffff\) "
                       r"at selftest.cu:\d+ for lanes 16-31\.$"):
        run(emu, "warp_against_barrier", 1, 32, emu.allocate(32, np.float32))


def test_shared_memory_starts_poisoned_in_every_block(emu):
    out = emu.allocate(2 * 64, np.float32)
    run(emu, "unwritten_shared", 2, 64, out)
    assert np.isnan(out[64:]).all()


def test_a_write_past_an_array_is_caught(emu):
    out = emu.allocate(7, np.float32)
    run(emu, "write_past", 1, 32, out, np.int64(7), np.int32(0))
    assert (out == 1).all()
    with pytest.raises(KernelError, match=r"write_past wrote outside an array: 0 bytes past "
                       r"the end of a 28-byte array"):
        run(emu, "write_past", 1, 32, out, np.int64(7), np.int32(1))


def test_a_fault_in_a_kernel_thread_is_an_error(emu):
    with pytest.raises(KernelError, match=r"write_at, block \(0, 0, 0\).*thread 0 stopped with "
                       r"SIGSEGV at address (0x10|\(nil\)|0x0)?: a read or write outside"):
        run(emu, "write_at", 1, 1, None, np.int64(4))
    out = emu.allocate(1, np.float32)
    run(emu, "write_at", 1, 1, out, np.int64(0))            # and the emulator goes on
    assert out[0] == 1


def test_an_endless_loop_is_stopped_by_the_time_limit():
    emu = EmulatedDevice(folder=HEADERS, time_limit=0.3)
    flag = emu.array(np.array([1, 0], np.int32))
    with pytest.raises(KernelError, match=r"spin.*ran past its time limit of 0.3 s \(thread 0 "
                       r"was running: an endless loop\?\)"):
        run(emu, "spin", 1, 4, flag)
    flag[0] = 0
    run(emu, "spin", 1, 4, flag)                # the emulator still works afterwards


@pytest.mark.parametrize("grid, block, match", [
    ((1,), (128,), r"128 threads per block exceed its __launch_bounds__\(64\)"),
    ((0,), (32,), r"every grid and block dimension must be >= 1"),
    ((1, 65536), (32,), r"grid \(1, 65536, 1\) exceeds"),
    ((1,), (32, 32, 2), r"exceeds \(1024, 1024, 64\) or 1024 threads")])
def test_launches_cuda_would_refuse_are_refused(emu, grid, block, match):
    with pytest.raises(KernelError, match=match):
        run(emu, "bounded", grid, block, emu.allocate(4096, np.float32))


def test_arguments_must_have_the_parameters_types(emu):
    out = emu.allocate(1, np.float64)
    run(emu, "mixed_parameters", 1, 1, out, np.int32(1), np.int64(2), np.float32(0.5),
        np.float64(0.25))
    assert out[0] == 3.75
    with pytest.raises(TypeError, match=r"parameter 2 is long long, the launcher passed int32"):
        run(emu, "mixed_parameters", 1, 1, out, np.int32(1), np.int32(2), np.float32(0.5),
            np.float64(0.25))
    with pytest.raises(TypeError, match=r"parameter 1 is int, the launcher passed int"):
        run(emu, "mixed_parameters", 1, 1, out, 1, np.int64(2), np.float32(0.5),
            np.float64(0.25))
    with pytest.raises(TypeError, match=r"takes 5 arguments, the launcher passed 4"):
        run(emu, "mixed_parameters", 1, 1, out, np.int32(1), np.int64(2), np.float32(0.5))


@pytest.mark.skipif(bool(os.environ.get("GPUGRAD_EMU_SANITIZE")),
                    reason="this is the sanitized run")
def test_the_kernels_pass_under_address_and_undefined_behaviour_sanitizers():
    """tests/test_kernel_emulation.py again, the libraries built with
    -fsanitize=address,undefined, in a Python that preloads libasan (as it must come first):
    any read or write outside an array or the fences, a misaligned vector load, an overflow
    stops the run with the sanitizer's report."""
    libasan = subprocess.run([compiler(), "-print-file-name=libasan.so"], capture_output=True,
                             text=True).stdout.strip()
    if not os.path.isabs(libasan):
        pytest.skip(f"{compiler()} has no libasan.so")
    compile_libraries(sources.source_files(), kernel_folder(), sanitize=True)
    env = {**os.environ, "LD_PRELOAD": libasan, "GPUGRAD_EMU_SANITIZE": "1",
           "ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1:allocator_may_return_null=1",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-s", "-p", "no:cacheprovider",
               "tests/test_kernel_emulation.py"]           # -s: the sanitizer's report shows
    run_ = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert run_.returncode == 0, (f"{' '.join(command)} under sanitizers failed:\n"
                                  f"{run_.stdout[-6000:]}\n{run_.stderr[-6000:]}")
