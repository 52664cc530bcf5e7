"""Does the CPU emulator of the kernels have teeth? Inject one bug at a time into a scratch
copy of kernels/ (in a temporary folder, never the repository), run the emulated kernel
tests against that copy (GPUGRAD_EMU_KERNELS), and print whether each bug was caught.

The unchanged copy runs first and must pass. A bug survives the plain run only if every test
passes; then the same tests run again with the libraries built under AddressSanitizer and
UBSan (in a Python that preloads libasan). Libraries go to a build cache of this run's own.

    python kernels/testing/mutate.py [--out benchmarks/results/kernel_emulation_mutations.txt]
                                     [--only NAME ...]

Takes about 20 s per mutation on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ["tests/test_kernel_emulation.py"]

# name -> (file, what the bug is, text to find (exactly once), its replacement)
MUTATIONS = {
    "relu-tail-bound-off-by-one": (
        "relu.cu", "relu_fwd's scalar loop stops one element early (i < n - 1)",
        "    for (long long i = start + global_thread(); i < n; i += grid_threads())\n"
        "        y[i] = relu_value(x[i]);",
        "    for (long long i = start + global_thread(); i < n - 1; i += grid_threads())\n"
        "        y[i] = relu_value(x[i]);"),
    "relu-vector-count-rounds-up": (
        "relu.cu", "relu_fwd's vector path covers n rounded up to whole vectors (past the end)",
        "        long long vectors = n / lanes;\n        const V* xv",
        "        long long vectors = (n + lanes - 1) / lanes;\n        const V* xv"),
    "relu-bwd-missed-tail": (
        "relu.cu", "relu_bwd skips the elements after the last whole vector",
        "        start = vectors * lanes;\n    }\n    for (long long i = start + global_thread(); "
        "i < n; i += grid_threads())\n        gx[i]",
        "        start = n;\n    }\n    for (long long i = start + global_thread(); "
        "i < n; i += grid_threads())\n        gx[i]"),
    "aligned16-checks-8-bytes": (
        "common.cuh", "aligned16 accepts 8-byte aligned pointers for 16-byte vector loads",
        "& 15) == 0;", "& 7) == 0;"),
    "bias-relu-column-bound-off-by-one": (
        "linear.cu", "bias_relu_fwd's column guard lets c == cols through (c > cols)",
        "if (c >= cols) return;", "if (c > cols) return;"),
    "relu-bias-bwd-missing-syncthreads": (
        "linear.cu", "relu_bias_bwd reads the other rows' partial sums without a barrier",
        "    sums[threadIdx.y][threadIdx.x] = acc;\n    __syncthreads();\n",
        "    sums[threadIdx.y][threadIdx.x] = acc;\n"),
    "masked-gemm-missing-second-syncthreads": (
        "linear.cu", "masked_gemm loads the next tile while others still read this one",
        "                for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];\n"
        "        }\n        __syncthreads();\n",
        "                for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];\n        }\n"),
    "masked-gemm-k-bound-off-by-one": (
        "linear.cu", "masked_gemm loads gy one row past K in the last tile (gk <= K)",
        "if (gm < M && gk < K) {", "if (gm < M && gk <= K) {"),
    "masked-gemm-missed-output-tail": (
        "linear.cu", "masked_gemm writes only the output columns of whole 4-wide groups",
        "            if (gn < N) {", "            if (gn + (3 - j) < N) {"),
    "xent-shuffle-offset-starts-at-8": (
        "loss.cu", "row_max_sum's butterfly starts at offset 8: lanes 16-31 never merge",
        "    for (int offset = 16; offset > 0; offset /= 2)\n        merge_max_sum",
        "    for (int offset = 8; offset > 0; offset /= 2)\n        merge_max_sum"),
    "xent-shuffle-wrong-mask": (
        "loss.cu", "row_max_sum's shuffles name only lanes 0-15 in their mask",
        "merge_max_sum(m, s, __shfl_xor_sync(0xffffffffu, m, offset),\n"
        "                      __shfl_xor_sync(0xffffffffu, s, offset));",
        "merge_max_sum(m, s, __shfl_xor_sync(0x0000ffffu, m, offset),\n"
        "                      __shfl_xor_sync(0x0000ffffu, s, offset));"),
    "warp-sum-shuffle-misses-offset-1": (
        "loss.cu", "warp_sum (label smoothing) stops its butterfly before offset 1",
        "    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync",
        "    for (int offset = 16; offset > 1; offset /= 2) v += __shfl_xor_sync"),
    "xent-label-bound-off-by-one": (
        "loss.cu", "softmax_xent_fwd takes label == cols as a class (reads one past the row)",
        "                if (t < 0 || t >= cols) {", "                if (t < 0 || t > cols) {"),
    "xent-bwd-missed-column-tail": (
        "loss.cu", "softmax_xent_bwd writes only the columns of whole 32-column strides",
        "        for (long long c = lane; c < cols; c += 32) {\n            T q",
        "        for (long long c = lane; c < cols - cols % 32; c += 32) {\n            T q"),
    "mse-scalar-g-read-as-array": (
        "loss.cu", "mse_bwd reads g[i] even when g is one value (g_stride 0)",
        "gx[i] = T(2) * scale * g[i * g_stride]", "gx[i] = T(2) * scale * g[i]"),
    "optim-chunk-tail-off-by-one": (
        "optim.cu", "sgd_multi's chunk end stops one element short of the tensor's end",
        "    const long long end = min(start + chunk_size, sizes[k]);\n"
        "    const T lr = T(hyper[0])",
        "    const long long end = min(start + chunk_size, sizes[k] - 1);\n"
        "    const T lr = T(hyper[0])"),
    "adam-chunk-overrun": (
        "optim.cu", "adam_multi's last chunk runs a whole chunk_size (past the tensor's end)",
        "    const long long end = min(start + chunk_size, sizes[k]);\n"
        "    const double t = ", "    const long long end = start + chunk_size;\n"
        "    const double t = "),
}


def _apply(scratch: Path, file: str, old: str, new: str) -> None:
    path = scratch / file
    text = path.read_text()
    count = text.count(old)
    if count != 1:
        raise SystemExit(f"mutation target found {count} times in {file} (expected once):\n"
                         f"{old}")
    path.write_text(text.replace(old, new))


def _pytest(scratch: Path, cache: Path, sanitize: bool) -> tuple:
    """(return code, failing test ids, sanitizer reports or else the last lines) of the
    emulated kernel tests."""
    env = {**os.environ, "GPUGRAD_EMU_KERNELS": str(scratch), "GPUGRAD_EMU_CACHE": str(cache),
           "GPUGRAD_EMU_TIME_LIMIT": "20"}
    if sanitize:
        libasan = subprocess.run(["g++", "-print-file-name=libasan.so"], capture_output=True,
                                 text=True).stdout.strip()
        env.update(LD_PRELOAD=libasan, GPUGRAD_EMU_SANITIZE="1",
                   ASAN_OPTIONS="detect_leaks=0:halt_on_error=1",
                   UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    tests = [t for t in TESTS if (ROOT / t).exists()]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
               "--tb=line", *(["-s"] if sanitize else []), *tests]    # -s: keep the report
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=900)
    failed = re.findall(r"^FAILED (\S+)", run.stdout, re.MULTILINE)
    output = (run.stdout + run.stderr).replace(f"{scratch}/", "kernels/")
    reports = re.findall(r"(?:SUMMARY: \w+Sanitizer: .*|\S+: runtime error: .*|"
                         r"Fatal Python error: .*)", output)
    return run.returncode, failed, reports or output.strip().splitlines()[-3:]


def _verdict(code: int, failed: list, tail: list) -> str:
    """One line: survived, or caught and how."""
    if code == 0:
        return "survived"
    if failed:
        names = sorted({f.split("::")[-1].split("[")[0] for f in failed})
        return f"caught: {len(failed)} tests failed ({', '.join(names)}), e.g. {failed[0]}"
    return f"caught: the test process stopped (exit {code}): {tail[0][-300:]}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="also write the report here")
    parser.add_argument("--only", nargs="*", help="mutation names to run (default: all)")
    parser.add_argument("--note", help="a line to add to the report's header")
    args = parser.parse_args(argv)
    names = args.only or list(MUTATIONS)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    gxx = subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout
    lines = [f"# kernels/testing/mutate.py: bugs injected into a scratch copy of kernels/, "
             f"one at a time,",
             f"# against {', '.join(TESTS)} (the emulated kernel tests).",
             f"# {datetime.date.today()}, commit {commit} (plus the working tree), "
             f"{gxx.splitlines()[0]}", *([f"# {args.note}"] if args.note else []), ""]
    print("\n".join(lines), flush=True)
    survivors = 0
    with tempfile.TemporaryDirectory(prefix="gpugrad-mutants-") as work:
        cache = Path(work) / "cache"
        for name in ["(none: the unchanged kernels)", *names]:
            scratch = Path(work) / "kernels"
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir()
            for source in (ROOT / "kernels").glob("*.cu*"):
                shutil.copy2(source, scratch / source.name)
            if name not in MUTATIONS:
                code, failed, tail = _pytest(scratch, cache, sanitize=False)
                if code:
                    raise SystemExit(f"the unchanged kernels fail the tests: "
                                     f"{_verdict(code, failed, tail)}")
                continue
            file, what, old, new = MUTATIONS[name]
            _apply(scratch, file, old, new)
            verdict = _verdict(*_pytest(scratch, cache, sanitize=False))
            if verdict == "survived":
                verdict = "plain run survived; sanitized run " + _verdict(
                    *_pytest(scratch, cache, sanitize=True))
            survivors += "survived" in verdict.split(";")[-1]
            line = f"{name} ({file}: {what})\n    {verdict}"
            lines.append(line)
            print(line, flush=True)
    summary = f"\n{len(names) - survivors} of {len(names)} mutations caught."
    lines.append(summary)
    print(summary)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0 if not survivors else 1


if __name__ == "__main__":
    sys.exit(main())
