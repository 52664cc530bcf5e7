"""benchmarks/op_overhead.py, the eager-overhead report of ``make bench``: its quick mode runs
every op family and prints the Markdown table (structure only: timings are not tested)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "benchmarks", "op_overhead.py")
FAMILIES = {"binary, tensor", "binary, scalar", "unary", "comparison", "reduction", "shape",
            "matmul", "in-place"}


def test_quick_mode_prints_one_row_per_op_and_a_line_per_family():
    done = subprocess.run([sys.executable, SCRIPT, "--quick"], capture_output=True, text=True,
                          cwd=os.path.join(ROOT, "benchmarks"), timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("### Eager overhead per op")
    header = next(i for i, line in enumerate(lines) if line.startswith("| family |"))
    assert lines[header] == ("| family | op | NumPy us | gpugrad us | overhead us | meets 1.5 us "
                             "| gpugrad us (requires_grad) |")
    assert lines[header + 1] == "|---|---|---|---|---|---|---|"
    rows = [line.split(" | ") for line in lines[header + 2:] if line.startswith("| ")]
    assert {row[0].lstrip("| ") for row in rows} == FAMILIES
    for row in rows:
        assert len(row) == 7
        numpy_us, gpugrad_us, overhead_us = (float(v) for v in row[2:5])
        assert abs(gpugrad_us - numpy_us - overhead_us) < 0.011      # the difference shown
        assert row[5] in ("yes", "no")
        grad = row[6].rstrip(" |")
        assert grad == "n/a (refused)" if row[0] == "| in-place" else float(grad) > 0
    assert lines[-1].startswith("Families within 1.5 us of NumPy (worst op of each): ")


def test_torch_column_times_the_same_calls_on_pytorch_tensors():
    pytest.importorskip("torch")
    done = subprocess.run([sys.executable, SCRIPT, "--quick", "--torch"], capture_output=True,
                          text=True, cwd=os.path.join(ROOT, "benchmarks"), timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("| family |"))
    assert header.endswith("| gpugrad us (requires_grad) | PyTorch us |")
    rows = [line.split(" | ") for line in lines if line.startswith("| ") and "---" not in line
            and not line.startswith("| family")]
    assert len(rows) == 16 and all(float(row[7].rstrip(" |")) > 0 for row in rows)
