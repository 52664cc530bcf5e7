"""The vmap-era examples run and show what they claim: Newton's method (func.hessian) converges
quadratically to the optimum, and DP-SGD (per-example gradients from vmap(grad)) learns."""

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gpugrad

ROOT = Path(__file__).resolve().parents[1]


def test_newton_step_converges_quadratically_to_the_optimum(capsys):
    names = runpy.run_path(str(ROOT / "examples" / "newton_step.py"), run_name="__main__")
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if re.match(r"\s*\d+\s", line)]
    assert [int(row[0]) for row in rows] == list(range(names["STEPS"] + 1))
    losses = [float(row[1]) for row in rows]
    norms = [float(row[2]) for row in rows]
    assert all(b <= a + 1e-12 for a, b in zip(losses, losses[1:]))
    assert norms[-1] < 1e-10 < norms[0]
    # quadratic convergence: once close, each step more than squares away the gradient
    assert any(a < 1e-2 and b < a**1.5 for a, b in zip(norms, norms[1:]))
    # the optimum checked independently: the logistic loss's gradient in NumPy is zero there
    X, sign = names["X"].numpy(), names["sign"].numpy()
    theta, lam = names["theta"].numpy(), names["LAMBDA"]
    margin = sign * (X @ theta)
    grad = -(X.T @ (sign / (1 + np.exp(margin)))) / len(X) + lam * theta
    assert np.linalg.norm(grad) < 1e-10
    loss = np.logaddexp(0, -margin).mean() + lam / 2 * theta @ theta
    assert abs(loss - losses[-1]) < 1e-9
    assert "training accuracy at the optimum" in out


def test_dp_sgd_per_example_gradients_train_a_classifier():
    if not hasattr(gpugrad.func, "vmap"):
        pytest.skip("gpugrad.func.vmap does not exist yet: per_example_gradients.py needs it")
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "per_example_gradients.py")],
                            capture_output=True, text=True, cwd=ROOT, timeout=300,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    out = result.stdout
    epochs = re.findall(r"epoch \d+ .*median ([\d.]+), max ([\d.]+), clipped to 1.0 (\d+)%", out)
    assert len(epochs) == 8
    assert all(float(med) <= float(top) for med, top, _ in epochs)
    assert any(int(clipped) > 0 for _, _, clipped in epochs)   # clipping was at work
    norms = [float(n) for n in out.split("per-example gradient norms: ")[-1].split()[:8]]
    assert len(set(norms)) > 1                                  # each example its own gradient
    accuracy = float(re.search(r"final test accuracy ([\d.]+)%", out).group(1))
    assert accuracy > 80.0, out                                 # chance is 10%
