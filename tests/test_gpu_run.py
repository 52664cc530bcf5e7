"""benchmarks/gpu_run.py, the one prepared GPU run, checked on the CPU: its dry run goes
through every stage and writes what the device tool can send back; a stage past its cap is
killed and the run goes on; GPUGRAD_REQUIRE_CUDA=1 turns skipped cuda tests into failures."""

import json
import os
import subprocess
import sys
import time

import pytest

from gpugrad import backend
from gpugrad.cuda import sources

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import gpu_run  # noqa: E402
import kernel_build  # noqa: E402


@pytest.mark.skipif(kernel_build.missing() is not None,
                    reason=f"the kernel emulator cannot build: {kernel_build.missing()}")
def test_the_dry_run_goes_through_every_stage(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([os.path.join(ROOT, "benchmarks", "gpu_run.sh"), str(out),
                           "--cpu-dry-run", "--total-s", "240"],
                          env=dict(os.environ, PYTHON=sys.executable), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    files = sorted(os.listdir(out))
    assert len(files) <= 8, files                        # the device tool returns 8 files
    (report_name,) = [f for f in files if f.startswith("gpu_run_") and f.endswith(".json")]
    stem = report_name[len("gpu_run_"):-len(".json")]
    assert stem.startswith("cpu-dry-run_")
    assert set(files) == {f"{kind}_{stem}.{ext}" for kind, ext in (
        ("gpu_run", "json"), ("gpu_run", "log"), ("cuda_tests", "xml"), ("gpu_kernels", "json"),
        ("gpu_kernels", "md"), ("gpu_training", "json"), ("gpu_training", "md"),
        ("suite", "xml"))}
    report = json.loads((out / report_name).read_text())
    assert [(s["stage"], s["status"]) for s in report["stages"]] == [
        ("preflight", "ok"), ("cuda tests", "ok"), ("overhead", "ok"), ("kernels", "ok"),
        ("training", "ok"), ("suite", "ok")]
    assert all(v.startswith("ok") for v in report["preflight"]["kernels"].values())
    assert set(report["preflight"]["kernels"]) == {"linear.cu", "loss.cu", "optim.cu",
                                                   "relu.cu"}
    declared = sum(len(sources.defined_kernels(f)) for f in sources.source_files())
    assert report["preflight"]["kernels_second_process"].startswith(f"{declared} kernels in")
    samples = report["train_samples_per_s"]
    assert len(samples["eager"]) == len(samples["graph"]) == len(samples["compile"]) == 1
    assert samples["graph"][0] > 0 and samples["compile"][0] > 0
    training = json.loads((out / f"gpu_training_{stem}.json").read_text())
    assert {r["config"] for r in training["results"]} == {
        "gpugrad eager fused", "gpugrad eager unfused", "gpugrad graph", "gpugrad compile"}
    assert not training["failures"]
    log = (out / f"gpu_run_{stem}.log").read_text()
    assert "| family | op | NumPy us | gpugrad us |" in log     # the overhead table
    kernels = json.loads((out / f"gpu_kernels_{stem}.json").read_text())
    assert kernels["kernels"] and not kernels["problems"]


def test_a_stage_past_its_cap_is_killed_and_the_run_goes_on(tmp_path):
    run = gpu_run.Run(str(tmp_path), total_s=60, dry_run=True)
    start = time.perf_counter()
    record = run.stage("sleepy", 3, [[sys.executable, "-c",
                                      "import time; print('started', flush=True); "
                                      "time.sleep(60)"],
                                     [sys.executable, "-c", "print('never' + 'ran')"]])
    assert time.perf_counter() - start < 20
    assert record["status"] == "timed out"
    assert [{k: c[k] for k in ("command", "exit")} for c in record["commands"]] == [
        {"command": record["commands"][0]["command"], "exit": "timeout"}]
    assert "started" in record["commands"][0]["output_tail"]
    record = run.stage("next", 10, [[sys.executable, "-c", "print('fine')"]])
    assert record["status"] == "ok" and "fine" in record["commands"][0]["output_tail"]
    log = (tmp_path / f"gpu_run_{run.stem}.log").read_text()
    assert "started" in log and "killed at its cap" in log and "neverran" not in log
    saved = json.loads((tmp_path / f"gpu_run_{run.stem}.json").read_text())
    assert [s["status"] for s in saved["stages"]] == ["timed out", "ok"]


def test_each_command_keeps_its_own_output_tail(tmp_path):
    run = gpu_run.Run(str(tmp_path), total_s=60, dry_run=True)
    record = run.stage("two", 20, [[sys.executable, "-c", "print('first' + 'fails'); exit(3)"],
                                   [sys.executable, "-c", "print('second' + 'fine')"]])
    assert record["status"] == "failed"
    first, second = record["commands"]
    assert first["exit"] == 3 and "firstfails" in first["output_tail"]
    assert second["exit"] == 0 and "secondfine" in second["output_tail"]
    assert "firstfails" not in second["output_tail"]


def test_the_gpu_suite_leaves_out_the_cuda_and_cpu_only_files():
    args = gpu_run.suite_arguments()
    assert args[0] == "tests"
    ignored = {a[len("--ignore="):] for a in args[1:] if a.startswith("--ignore=")}
    assert len(ignored) == len(args) - 1
    assert ignored == set(gpu_run.CUDA_TEST_FILES) | set(gpu_run.CPU_ONLY)
    assert {"tests/test_gpu_run.py", "tests/test_kernel_emulator.py",
            "tests/test_kernel_emulation.py"} <= ignored
    for path in ignored:                            # a renamed file would be run again
        assert os.path.isfile(os.path.join(ROOT, path)), path


@pytest.mark.skipif(backend.is_cuda_usable(), reason="checks a machine without CUDA")
def test_required_cuda_fails_the_cuda_tests_instead_of_skipping_them():
    test = "tests/test_cuda_kernels.py::test_poisoned_allocations_are_nan"
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test,
            "tests/test_losses.py::test_mse_loss"]
    skipped = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout, skipped.stdout
    required = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, GPUGRAD_REQUIRE_CUDA="1"))
    assert required.returncode != 0
    assert "GPUGRAD_REQUIRE_CUDA=1 but CUDA is not usable" in required.stdout
    assert "1 passed" in required.stdout                 # the cpu variant still runs
    assert "2 errors" in required.stdout                 # the kernel test and mse on cuda


def test_the_gpu_suite_runs_on_xdist_processes_where_installed(monkeypatch):
    import importlib.util
    assert gpu_run.parallel_arguments(dry_run=True) == []
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert gpu_run.parallel_arguments(dry_run=False) == []          # no xdist: one process
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    for cores, processes in ((16, "8"), (64, "8"), (6, "3"), (1, "1")):
        monkeypatch.setattr(os, "cpu_count", lambda: cores)
        assert gpu_run.parallel_arguments(dry_run=False) == ["-n", processes]
