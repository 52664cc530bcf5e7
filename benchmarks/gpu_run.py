"""The one prepared GPU run: every check and measurement a device session owes, in stages
that each have a time cap, with every result written straight into one folder.

A lent GPU machine gives about 10 minutes per command and returns at most 8 files, so:

1. preflight (30 s): card, driver, versions, optional packages; every kernel compiled and
   loaded (benchmarks/gpu_preflight.py);
2. cuda tests (150 s): the fused kernels, the ops on them, host syncs, graphs
   (tests/test_cuda_kernels.py, test_cuda_ops.py, test_cuda_host_syncs.py,
   test_cuda_graphs.py, test_cuda_graph_guards.py, test_interop.py, test_compile.py), with
   GPUGRAD_REQUIRE_CUDA=1 (a CuPy that fails to load fails them) and a 60 s faulthandler;
3. overhead (40 s): benchmarks/op_overhead.py --device cuda --torch, the host cost of one
   small op through gpugrad, CuPy and PyTorch;
4. kernels (100 s): benchmarks/gpu_kernels.py, bandwidth against a device copy, fused
   against unfused and PyTorch, the linear-backward routes, MLP steps;
5. training (150 s): benchmarks/gpu_training.py on 64-64-64-10 b32 and 784-1024x3-10 at
   b256 and b4096, float32 and TF32, gpugrad eager fused / unfused / graph / compile
   against PyTorch eager and PyTorch CUDA graphs; then ``gpugrad train`` on 200,000
   synthetic rows, eager, with --cuda-graph and with --compile (samples/s per epoch);
6. the rest of the suite on cuda, in what remains of ``--total-s`` (less ``CPU_ONLY``: CI
   runs those), on up to 8 processes where pytest-xdist is installed.

Each stage runs as a child process group, killed at its cap; what it wrote stays (the
benchmarks rewrite their JSON after every row). The log of everything and the run's own
JSON (stages, exit codes, times, preflight, samples/s) are rewritten as the run goes.
Files, in OUTDIR, ``<stem>`` = card_date_commit (8 at most, the device tool's limit):
gpu_run_<stem>.log / .json, cuda_tests_<stem>.xml, gpu_kernels_<stem>.json / .md,
gpu_training_<stem>.json / .md, suite_<stem>.xml.

``--cpu-dry-run`` runs every stage on the CPU at tiny sizes (the suite stage on one small
file), so that a typo fails in CI rather than on the GPU; tests/test_gpu_run.py does that.

Usage, from the repository root (gpugrad from the working tree, no network needed):
    benchmarks/gpu_run.sh OUTDIR [--total-s 520] [--cpu-dry-run]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import gpu_common

ROOT = gpu_common.ROOT
CUDA_TEST_FILES = ("tests/test_cuda_kernels.py", "tests/test_cuda_ops.py",
                   "tests/test_cuda_host_syncs.py", "tests/test_cuda_graphs.py",
                   "tests/test_cuda_graph_guards.py", "tests/test_interop.py",
                   "tests/test_compile.py")
# CPU-only files the suite stage leaves to CI: a nested dry run of this script (which on a
# GPU machine would run the cuda tests a second time) and the kernel emulator's tests.
CPU_ONLY = ("tests/test_gpu_run.py", "tests/test_kernel_emulator.py",
            "tests/test_kernel_emulation.py")
DRY_RUN_SUITE = ("tests/test_tensor.py",)


def stem(dry_run: bool) -> str:
    card = "cpu-dry-run" if dry_run else (gpu_common.nvidia_smi("name") or "unknown-card")
    card = re.sub(r"[^A-Za-z0-9]+", "-", card).strip("-")
    commit = re.sub(r"[^A-Za-z0-9]+", "", gpu_common.commit())
    return f"{card}_{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d}_{commit}"


class Run:
    """The output folder, the log, the run's JSON, and the clock of ``--total-s``."""

    def __init__(self, out: str, total_s: float, dry_run: bool):
        self.out, self.total_s, self.dry_run = out, total_s, dry_run
        self.started = time.perf_counter()
        self.stem = stem(dry_run)
        self.log = open(self.path("gpu_run_{}.log"), "a", buffering=1)
        self.report = {"stem": self.stem, "dry_run": dry_run, "total_s": total_s,
                       "started": f"{datetime.datetime.now(datetime.timezone.utc):%F %T UTC}",
                       "stages": []}

    def path(self, pattern: str) -> str:
        return os.path.join(self.out, pattern.format(self.stem))

    def left(self) -> float:
        return self.total_s - (time.perf_counter() - self.started)

    def say(self, text: str) -> None:
        print(text, flush=True)
        self.log.write(text + "\n")

    def save(self) -> None:
        with open(self.path("gpu_run_{}.json"), "w") as fh:
            json.dump(self.report, fh, indent=1)

    def stage(self, name: str, cap: float, commands: list, env: dict | None = None) -> dict:
        """Run ``commands`` (argument lists) one after another within ``cap`` seconds (and
        what is left of the total); the stage's record, also kept in the report."""
        cap = min(cap, self.left())
        record = {"stage": name, "cap_s": round(cap, 1), "commands": [], "status": "ok"}
        self.report["stages"].append(record)
        self.say(f"\n## stage {name} (cap {cap:.0f} s)")
        start = time.perf_counter()
        for command in commands:
            remaining = cap - (time.perf_counter() - start)
            if remaining < 1:
                if record["status"] == "ok":
                    record["status"] = "out of time"
                self.say(f"!! skipped (stage cap reached): {' '.join(command)}")
                continue
            code, output = self.child(command, remaining, env)
            record["commands"].append({"command": " ".join(command), "exit": code,
                                       "output_tail": output[-2000:]})
            if code != 0:
                record["status"] = "timed out" if code == "timeout" else "failed"
        record["seconds"] = round(time.perf_counter() - start, 1)
        self.say(f"## stage {name}: {record['status']} in {record['seconds']} s")
        self.save()
        return record

    def child(self, command: list, timeout: float, env: dict | None):
        """(exit code or "timeout", its output), the output streamed into the log."""
        self.say(f"$ {' '.join(command)}")
        full_env = dict(os.environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1", **(env or {}))
        child = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, start_new_session=True)
        lines, deadline = [], time.perf_counter() + timeout
        with _Alarm(deadline, child):
            for line in child.stdout:
                lines.append(line)
                self.log.write(line)
                sys.stdout.write(line)
        code = child.wait()
        if time.perf_counter() >= deadline:
            self.say(f"!! killed at its cap ({timeout:.0f} s)")
            return "timeout", "".join(lines)
        return code, "".join(lines)


class _Alarm:
    """Kills ``child``'s process group at ``deadline`` (a perf_counter time)."""

    def __init__(self, deadline: float, child):
        self.deadline, self.child = deadline, child

    def __enter__(self):
        self.timer = threading.Timer(max(0.0, self.deadline - time.perf_counter()), self.kill)
        self.timer.start()

    def kill(self):
        try:
            os.killpg(self.child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def __exit__(self, *exc):
        self.timer.cancel()


def python(*args) -> list:
    return [sys.executable, *args]


def pytest_command(run: Run, files, junit: str, extra=()) -> list:
    return python("-m", "pytest", "-v", "-p", "no:cacheprovider", "--tb=short",
                  "-o", "faulthandler_timeout=60", "--durations=10",
                  f"--junitxml={run.path(junit)}", *extra, *files)


def train_commands(run: Run, scratch: str) -> list:
    """``gpugrad train`` on synthetic rows: eager, with --cuda-graph, with --compile."""
    size, epochs, device = (("2000", "1", "cpu") if run.dry_run else ("200000", "3", "cuda"))
    base = python("-m", "gpugrad", "train", "--data", "synthetic", "--synthetic-size", size,
                  "--batch-size", "1024", "--hidden", "512,512", "--epochs", epochs,
                  "--device", device, "--no-progress")
    return [base + ["--out", os.path.join(scratch, "eager")],
            base + ["--cuda-graph", "--out", os.path.join(scratch, "graph")],
            base + ["--compile", "--out", os.path.join(scratch, "compile")]]


def train_throughput(scratch: str) -> dict:
    """samples/s per epoch of the three train runs, read from their metrics.json."""
    out = {}
    for name in ("eager", "graph", "compile"):
        try:
            with open(os.path.join(scratch, name, "metrics.json")) as fh:
                epochs = json.load(fh)["epochs"]
            out[name] = [round(e.get("samples_per_second", 0.0)) for e in epochs]
        except Exception as exc:
            out[name] = f"unavailable ({type(exc).__name__}: {exc})"
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the folder every file is written into")
    parser.add_argument("--total-s", type=float, default=520.0,
                        help="the whole run's time (default 520 s, inside a 540 s call)")
    parser.add_argument("--cpu-dry-run", action="store_true",
                        help="every stage on the CPU at tiny sizes (checks the script)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    run = Run(args.out, args.total_s, args.cpu_dry_run)
    run.say(f"# gpugrad GPU run {run.stem}, total {args.total_s:.0f} s")

    with tempfile.TemporaryDirectory() as scratch:          # what is not sent back
        stages(run, args, scratch)
    run.report["seconds"] = round(time.perf_counter() - run.started, 1)
    run.save()
    failed = [s["stage"] for s in run.report["stages"] if s["status"] != "ok"]
    run.say(f"\n# done in {run.report['seconds']} s; "
            + (f"not ok: {', '.join(failed)}" if failed else "every stage ok"))
    return 1 if failed else 0


def stages(run: Run, args, scratch: str) -> None:
    dry = ["--cpu-dry-run"] if args.cpu_dry_run else []
    require = {} if args.cpu_dry_run else {"GPUGRAD_REQUIRE_CUDA": "1"}
    preflight = os.path.join(scratch, "preflight.json")
    run.stage("preflight", 30, [python("benchmarks/gpu_preflight.py", *dry, "--out", preflight)])
    run.report["preflight"] = _read_json(preflight)
    run.save()
    run.stage("cuda tests", 150, [pytest_command(run, CUDA_TEST_FILES, "cuda_tests_{}.xml")],
              require)
    device = "cpu" if args.cpu_dry_run else "cuda"
    with_torch = ["--torch"] if importlib.util.find_spec("torch") is not None else []
    run.stage("overhead", 40, [python("benchmarks/op_overhead.py", "--device", device,
                                      *(["--quick"] if args.cpu_dry_run else
                                        [*with_torch, "--repeat", "11"]))])
    run.stage("kernels", 100, [python("benchmarks/gpu_kernels.py", *dry, "--budget-s", "90",
                                      "--out-json", run.path("gpu_kernels_{}.json"),
                                      "--out-md", run.path("gpu_kernels_{}.md"))])
    configs = "gg-fused,gg-unfused,gg-graph,gg-compile" + ("" if args.cpu_dry_run else
                                                ",torch,torch-graph")
    run.stage("training", 150, [
        python("benchmarks/gpu_training.py", *dry, "--sizes", "small32,large256,large4096",
               "--precisions", "fp32,tf32", "--configs", configs,
               "--budget-s", "80", "--out-json", run.path("gpu_training_{}.json"),
               "--out-md", run.path("gpu_training_{}.md")),
        *train_commands(run, scratch)])
    run.report["train_samples_per_s"] = train_throughput(scratch)
    suite = DRY_RUN_SUITE if args.cpu_dry_run else suite_arguments()
    run.stage("suite", max(run.left() - 5, 0),
              [pytest_command(run, suite, "suite_{}.xml", parallel_arguments(args.cpu_dry_run))],
              require)


def parallel_arguments(dry_run: bool) -> list:
    """pytest-xdist's ``-n`` for the suite stage where xdist is installed (the GPU image has
    it): half the cores, at most 8 processes sharing the one GPU. None in a dry run."""
    if dry_run or importlib.util.find_spec("xdist") is None:
        return []
    return ["-n", str(max(1, min(8, (os.cpu_count() or 2) // 2)))]


def suite_arguments() -> list:
    """The suite stage's pytest arguments on a GPU: tests/, less the cuda tests' files (their
    own stage ran them) and the CPU-only ones."""
    return ["tests"] + [f"--ignore={f}" for f in CUDA_TEST_FILES + CPU_ONLY]


def _read_json(path: str):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        return f"unavailable ({type(exc).__name__}: {exc}): see the log"


if __name__ == "__main__":
    sys.exit(main())
