"""benchmarks/long_run.py in a dry run: a few hundred steps, the samples and the growth
summary written as the long run writes them (the 20,000-step run itself is not CI's)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_short_run_samples_memory_and_reports_growth(tmp_path):
    out = tmp_path / "long_run.txt"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks/long_run.py"), "--steps",
                           "200", "--every", "100", "--sizes", "16,32,4", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.with_suffix(".json").read_text())
    samples = result["samples"]
    assert [s["step"] for s in samples] == [0, 100, 200]
    for s in samples:
        assert s["rss_bytes"] > 10 * 2 ** 20 and s["tracked_bytes"] >= 0
        assert s["python_objects"] > 0 and s["tensors"] > 0
    assert samples[0]["loss"] is None and all(0 < s["loss"] < 3 for s in samples[1:])
    growth = result["growth"]
    assert set(growth) == {"rss_bytes", "tracked_bytes", "python_objects", "tensors"}
    assert growth["tracked_bytes"]["after_warmup"] == samples[1]["tracked_bytes"]
    assert growth["tensors"]["growth"] == samples[2]["tensors"] - samples[1]["tensors"]
    text = out.read_text()
    assert "200 Adam steps of MLP [16, 32, 4]" in text and "Growth from step 100" in text
    assert "OMP_NUM_THREADS=1" in text
