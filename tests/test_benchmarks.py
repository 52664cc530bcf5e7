"""The benchmark suite's own checks: the NumPy floor and gpugrad implementations agree with
the float64 references they are checked against before timing (so a broken benchmark fails
CI, not a benchmark run), and the flop count and table are right."""

import os
import sys
from collections import Counter

import numpy as np
import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "benchmarks")
sys.path.insert(0, BENCHMARKS)

import common  # noqa: E402
import gpugrad  # noqa: E402
import impl_gpugrad  # noqa: E402
import impl_gpugrad_compiled  # noqa: E402
import impl_numpy  # noqa: E402
import run_one  # noqa: E402
import suite  # noqa: E402

SMALL = ([6, 5, 4, 3], 7)


def test_reference_losses_match_finite_differences_of_the_loss():
    """The reference's hand-written backward: its first SGD step equals one taken with a
    numerical gradient of its own loss."""
    sizes, batch = SMALL
    weights, x, y = common.mlp_setup(sizes, batch, seed=5)
    weights = [(w.astype(np.float64), b.astype(np.float64)) for w, b in weights]

    def loss(ws):
        return common.reference_losses(ws, x, y, steps=1)[0]

    eps, stepped = 1e-6, []
    for i, (w, b) in enumerate(weights):
        grads = []
        for array in (w, b):
            g = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                old = array[index]
                array[index] = old + eps
                up = loss(weights)
                array[index] = old - eps
                down = loss(weights)
                array[index] = old
                g[index] = (up - down) / (2 * eps)
            grads.append(g)
        stepped.append((w - common.LR * grads[0], b - common.LR * grads[1]))
    np.testing.assert_allclose(common.reference_losses(weights, x, y, steps=2)[1],
                               loss(stepped), rtol=1e-9)


@pytest.mark.parametrize("impl", [impl_numpy, impl_gpugrad, impl_gpugrad_compiled],
                         ids=["numpy", "gpugrad", "gpugrad-compiled"])
def test_scalar_gives_the_seed_example_at_every_call(impl):
    evaluate = impl.scalar()
    for _ in range(3):                  # the compiled one records, then replays
        assert np.allclose(evaluate(), (39.0, 12.0, 31.0))


@pytest.mark.parametrize("impl", [impl_numpy, impl_gpugrad], ids=["numpy", "gpugrad"])
def test_hessian(impl):
    a, x = common.hessian_setup(n=8, seed=1)
    np.testing.assert_allclose(impl.hessian(a, x)(), common.hessian_reference(a, x),
                               rtol=1e-4, atol=1e-5)


def test_hessian_reference_matches_finite_differences():
    a, x = common.hessian_setup(n=5, seed=2)
    a, x = a.astype(np.float64), x.astype(np.float64)

    def grad(v):    # d/dv sum(tanh(Av)^2) = A^T (2 t (1 - t^2))
        t = np.tanh(a @ v)
        return a.T @ (2 * t * (1 - t * t))

    eps = 1e-6
    numeric = np.stack([(grad(x + eps * e) - grad(x - eps * e)) / (2 * eps)
                        for e in np.eye(5)], axis=1)
    np.testing.assert_allclose(common.hessian_reference(a, x), numeric, atol=1e-7)


def test_mlp_flops_counts_three_gemms_per_layer_but_the_first_input_gradient():
    # 2 layers: 4->3 and 3->2, batch 5: forward 2*5*(12+6), backward twice that less 2*5*12
    assert common.mlp_flops([4, 3, 2], 5) == 2 * 5 * (3 * (12 + 6) - 12)


def test_table_shows_ratios_and_errors():
    results = [
        {"lib": "numpy", "name": "numpy floor", "workload": "mlp-tiny", "seconds": 70e-6},
        {"lib": "gpugrad", "name": "gpugrad", "workload": "mlp-tiny", "seconds": 140e-6},
        {"lib": "numpy", "workload": "scalar", "error": "boom"},
        {"lib": "gpugrad", "name": "gpugrad", "workload": "scalar", "seconds": 80e-6},
    ]
    text = suite.table(results, ["numpy", "gpugrad"], ["mlp-tiny", "scalar"])
    rows = text.splitlines()
    assert rows[0] == "| workload | numpy floor | gpugrad | gpugrad / numpy floor |"
    assert rows[2] == "| mlp-tiny (us/step) | 70.0 | 140.0 | 2.00x |"
    assert rows[3] == "| scalar (us/eval) | boom | 80.0 | - |"
    results.append({"lib": "gpugrad_compiled", "name": "gpugrad compiled",
                    "workload": "mlp-tiny", "seconds": 84e-6})
    rows = suite.table(results, ["numpy", "gpugrad", "gpugrad_compiled"],
                       ["mlp-tiny"]).splitlines()
    assert rows[0].endswith("| gpugrad / numpy floor | gpugrad compiled / numpy floor |")
    assert rows[2] == "| mlp-tiny (us/step) | 70.0 | 140.0 | 84.0 | 2.00x | 1.20x |"


def _needs_vmap(impl, workload):
    if impl is impl_gpugrad and workload == "per-example-grads" and \
            not hasattr(gpugrad.func, "vmap"):
        pytest.skip("gpugrad.func.vmap does not exist yet: per-example-grads needs it")


def _peer(name):
    return lambda: pytest.importorskip(f"impl_{name}", reason=f"{name} is not installed")


GRAD_IMPLS = [lambda: impl_numpy, lambda: impl_gpugrad, _peer("torch"), _peer("jax")]


@pytest.mark.parametrize("load", GRAD_IMPLS, ids=["numpy", "gpugrad", "torch", "jax"])
@pytest.mark.parametrize("workload", common.GRAD_WORKLOADS)
def test_grad_workloads_match_float64_reference(load, workload):
    """Tiny per-example and batched gradients (two hidden layers, so the backward's hidden
    path is exercised) against the float64 reference the suite checks them with."""
    impl = load()
    _needs_vmap(impl, workload)
    weights, x, y = common.mlp_setup([7, 5, 4, 3], 6, seed=4)
    per_example = workload == "per-example-grads"
    make = impl.per_example_grads if per_example else impl.batched_grad
    got = make(weights, x, y)()
    expected = common.grad_reference(weights, x, y, per_example)
    assert [np.shape(g) for g in got] == [e.shape for e in expected]
    assert common.relative_error(got, expected) < 1e-5


def _tanh_mlp_loss(weights, x, y):
    """One example's softmax cross-entropy through the tanh MLP, in float64."""
    h = x.astype(np.float64)
    for i, (w, b) in enumerate(weights):
        h = w @ h + b
        h = np.tanh(h) if i < len(weights) - 1 else h
    return np.log(np.exp(h - h.max()).sum()) + h.max() - h[y]


def test_grad_reference_matches_finite_differences():
    weights, x, y = common.mlp_setup([4, 3, 3], 2, seed=6)
    weights = [(w.astype(np.float64), b.astype(np.float64)) for w, b in weights]
    per_example = common.grad_reference(weights, x, y)
    eps = 1e-6
    for i in range(len(y)):
        for k, array in enumerate(a for layer in weights for a in layer):
            numeric = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                old = array[index]
                array[index] = old + eps
                up = _tanh_mlp_loss(weights, x[i], y[i])
                array[index] = old - eps
                numeric[index] = (up - _tanh_mlp_loss(weights, x[i], y[i])) / (2 * eps)
                array[index] = old
            np.testing.assert_allclose(per_example[k][i], numeric, atol=1e-8)
    batched = common.grad_reference(weights, x, y, per_example=False)
    for mean, rows in zip(batched, per_example):
        np.testing.assert_allclose(mean, rows.mean(axis=0))


@pytest.mark.parametrize("lib", ["numpy", "gpugrad"])
@pytest.mark.parametrize("workload", common.GRAD_WORKLOADS)
def test_run_one_checks_and_times_the_grad_workloads(monkeypatch, lib, workload):
    _needs_vmap(impl_gpugrad if lib == "gpugrad" else impl_numpy, workload)
    monkeypatch.setattr(common, "GRAD_SIZES", [9, 6, 3])
    monkeypatch.setattr(common, "GRAD_BATCH", 5)
    monkeypatch.setattr(common, "repeats", lambda workload: (0, 2))
    result = run_one.run(lib, workload)
    assert result["seconds"] > 0 and result["check"].startswith("max relative error")
    assert {"per-example-grads", "batched-grad"} <= set(common.WORKLOADS)


def test_ratios_divide_per_example_by_batched():
    results = [
        {"lib": "numpy", "name": "numpy floor", "workload": "per-example-grads", "seconds": 0.03},
        {"lib": "numpy", "name": "numpy floor", "workload": "batched-grad", "seconds": 0.002},
        {"lib": "gpugrad", "workload": "per-example-grads", "error": "no vmap"},
        {"lib": "gpugrad", "name": "gpugrad", "workload": "batched-grad", "seconds": 0.002},
    ]
    assert suite.ratios(results, ["numpy", "gpugrad"]) == pytest.approx({"numpy": 15.0})
    assert suite.ratios_line(results, ["numpy", "gpugrad"]) == \
        "per-example-grads / batched-grad: numpy floor 15.0x"
    assert suite.ratios_line(results[2:], ["numpy", "gpugrad"]) == ""


def test_gpu_training_benchmark_runs_its_gpugrad_paths_on_cpu(tmp_path):
    """benchmarks/gpu_training.py --cpu-dry-run: gpugrad's eager, unfused, graph-captured,
    compiled and float16 steps through the GPU benchmark's own code, tiny and on the CPU,
    agreeing."""
    import json
    import subprocess
    out = tmp_path / "dry.json"
    run = subprocess.run(
        [sys.executable, os.path.join(BENCHMARKS, "gpu_training.py"), "--cpu-dry-run",
         "--quick", "--configs", "gg-fused,gg-unfused,gg-graph,gg-compile", "--no-optimizer",
         "--out-json", str(out), "--out-md", str(tmp_path / "dry.md")],
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(out.read_text())
    assert not report["failures"]
    configs = {r["config"] for r in report["results"]}
    assert {"gpugrad eager fused", "gpugrad eager unfused", "gpugrad graph",
            "gpugrad compile"} <= configs
    skipped = [r for r in report["results"] if r.get("status") == "skipped"]
    assert {(r["config"], r["precision"]) for r in skipped} == {("gpugrad compile", "fp16")}
    assert {r["check"] for r in report["results"] if r not in skipped} <= {"ok", "reference"}


# ---------------------------------------------------------------------------------------------
# checkpoint segments: every implementation splits the MLP's blocks as PyTorch does
# ---------------------------------------------------------------------------------------------

MLP_IMPLS = GRAD_IMPLS + [lambda: impl_gpugrad_compiled]


@pytest.mark.parametrize("load", MLP_IMPLS,
                         ids=["numpy", "gpugrad", "torch", "jax", "gpugrad-compiled"])
@pytest.mark.parametrize("segments", [0, 2, 3])
def test_mlp_step_matches_float64_reference(load, segments):
    """Four SGD steps of every implementation, plain and checkpointed."""
    impl = load()
    weights, x, y = common.mlp_setup(*SMALL, seed=3)
    expected = common.reference_losses(weights, x, y, steps=4)
    step = impl.mlp(weights, x, y, segments)
    np.testing.assert_allclose([step() for _ in range(4)], expected, rtol=1e-5)
    assert expected[-1] < expected[0]          # the steps did train


class _CountedWeight(np.ndarray):
    """A weight that counts the forward GEMMs that read it (``acts @ w.T``, the NumPy floor's
    forward; its backward reads ``w`` itself), by the transposed shape."""

    runs: Counter = Counter()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        other = inputs[1] if len(inputs) > 1 else None
        if ufunc is np.matmul and isinstance(other, _CountedWeight) and \
                not other.flags.c_contiguous:
            _CountedWeight.runs[other.T.shape] += 1
        inputs = tuple(a.view(np.ndarray) if isinstance(a, _CountedWeight) else a
                       for a in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(a.view(np.ndarray) if isinstance(a, _CountedWeight) else a
                                  for a in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)


def _forward_runs(lib, weights, x, y, segments, monkeypatch):
    """How often each layer's forward runs in one checkpointed step of ``lib``'s mlp (by the
    weight's shape): twice in a checkpointed chunk, once outside."""
    runs = Counter()
    if lib == "numpy":
        weights = [(w.view(_CountedWeight), b) for w, b in weights]
        monkeypatch.setattr(_CountedWeight, "runs", runs)
        step = impl_numpy.mlp(weights, x, y, segments)
    else:
        module = gpugrad.nn.functional if lib == "gpugrad" else \
            pytest.importorskip("torch").nn.functional
        for name in ("linear", "linear_relu") if lib == "gpugrad" else ("linear",):
            original = getattr(module, name)

            def counted(x, weight, *args, _original=original, **kwargs):
                runs[tuple(weight.shape)] += 1
                return _original(x, weight, *args, **kwargs)
            monkeypatch.setattr(module, name, counted)
        step = (impl_gpugrad if lib == "gpugrad" else _peer("torch")()).mlp(
            weights, x, y, segments)
    step()
    return [runs[w.shape] for w, _ in weights]


@pytest.mark.parametrize("lib", ["numpy", "gpugrad", "torch"])
@pytest.mark.parametrize("segments, expected", [
    (2, [2, 2, 1, 1, 1]), (3, [2, 2, 1, 1, 1]), (4, [2, 2, 2, 1, 1])])
def test_mlp_impls_checkpoint_the_same_blocks(lib, segments, expected, monkeypatch):
    """5 blocks: 2 segments checkpoint one chunk of 5 // 2 = 2 blocks and run 3 outside; 3
    segments two chunks of 1 (and 3 outside); 4 segments three chunks of 1. The NumPy floor,
    gpugrad and PyTorch recompute the same layers (JAX's jit hides its recomputation; it
    splits with gpugrad.checkpoint.segment_bounds as the floor does)."""
    weights, x, y = common.mlp_setup([6, 5, 4, 3, 7, 2], 7, seed=3)   # distinct shapes
    assert _forward_runs(lib, weights, x, y, segments, monkeypatch) == expected
