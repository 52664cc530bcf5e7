"""The training job and the `gpugrad train` command, end to end in temporary folders."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gpugrad
from gpugrad.cli import main
from gpugrad.training import TrainConfig, fit

ROOT = Path(__file__).resolve().parents[1]


def quiet(*_):
    pass


def test_short_digits_training_reaches_a_fixed_accuracy(tmp_path):
    metrics = fit(TrainConfig(epochs=5, out=str(tmp_path), progress=False, device="cpu"),
                  log=quiet)
    assert metrics["test_accuracy"] >= 0.93
    losses = [e["train_loss"] for e in metrics["epochs"]]
    assert losses[-1] < losses[0] / 3


def test_cli_writes_model_metrics_and_curves(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--epochs", "2", "--out", str(out), "--no-progress",
                 "--hidden", "32", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "device: cpu (asked for cpu)" in printed and "test accuracy:" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["epochs"]) == 2 and metrics["device"] == "cpu"
    assert set(metrics["versions"]) >= {"gpugrad", "numpy", "python"}
    assert metrics["samples_per_second"] > 0 and metrics["peak_memory_bytes"] > 0
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = gpugrad.load(out / "model.npz")
    assert sorted(state["model"]) == ["layers.0.bias", "layers.0.weight", "layers.2.bias",
                                      "layers.2.weight"]
    assert state["model"]["layers.0.weight"].shape == (32, 64) and state["epoch"] == 2


def test_synthetic_and_user_csv_data(tmp_path):
    metrics = fit(TrainConfig(data="synthetic", synthetic_size=2000, epochs=3,
                              out=str(tmp_path / "s"), progress=False, device="cpu"),
                  log=quiet)
    assert metrics["test_accuracy"] > 0.5                 # well above chance (0.1)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    table = np.c_[X, (X[:, 0] > 0).astype(int)]
    np.savetxt(tmp_path / "mine.csv", table, delimiter=",")
    metrics = fit(TrainConfig(data=str(tmp_path / "mine.csv"), epochs=10, lr=0.01,
                              out=str(tmp_path / "c"), progress=False, device="cpu"),
                  log=quiet)
    assert metrics["test_accuracy"] > 0.85


@pytest.mark.parametrize("arguments, message", [
    (["--data", "missing.npz"], "data file not found: missing.npz"),
    (["--data", "short.npz"], "X has 3 rows but y has 2 labels"),
    (["--data", "nan.npz"], "X contains NaN or infinity"),
    (["--optimizer", "lbfgs"], "invalid choice: 'lbfgs'"),
])
def test_bad_input_fails_fast_with_one_clear_line(tmp_path, arguments, message):
    np.savez(tmp_path / "short.npz", X=np.ones((3, 2)), y=np.zeros(2))
    bad = np.ones((3, 2))
    bad[0, 0] = np.nan
    np.savez(tmp_path / "nan.npz", X=bad, y=np.zeros(3))
    result = subprocess.run([sys.executable, "-m", "gpugrad", "train", "--device", "cpu",
                             "--out", str(tmp_path / "o")] + arguments,
                            capture_output=True, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


NO_CUPY = ("CuPy is not installed (ModuleNotFoundError: No module named 'cupy'). Install the "
           "extra for your driver. Or use device='cpu'.")     # cupy_import.cuda_status()'s form


def no_gpu(monkeypatch):
    from gpugrad import cupy_import
    monkeypatch.setattr(cupy_import, "_cuda_status", (False, NO_CUPY))
    monkeypatch.setattr(cupy_import, "_cupy", None)


def test_cuda_asked_for_but_not_usable_fails_fast(tmp_path, monkeypatch, capsys):
    no_gpu(monkeypatch)
    assert main(["train", "--device", "cuda", "--out", str(tmp_path), "--no-progress"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and not (tmp_path / "model.npz").exists()
    assert err == ("gpugrad train: error: CUDA was asked for but is not usable: CuPy is not "
                   "installed (ModuleNotFoundError: No module named 'cupy'). Install the extra "
                   "for your driver. Or use --device cpu.\n")


def test_device_auto_says_why_it_chose(tmp_path, monkeypatch, capsys):
    from types import SimpleNamespace
    from gpugrad import cupy_import
    from gpugrad.training import choose_device
    no_gpu(monkeypatch)
    assert main(["train", "--device", "auto", "--epochs", "1", "--hidden", "8",
                 "--out", str(tmp_path), "--no-progress"]) == 0
    why = "auto: no usable GPU: CuPy is not installed (ModuleNotFoundError: No module named " \
          "'cupy')"                                          # the reason's first sentence
    assert capsys.readouterr().out.splitlines()[0] == f"device: cpu ({why})"
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert (metrics["device"], metrics["device_reason"]) == ("cpu", why)
    monkeypatch.setattr(cupy_import, "_cuda_status",
                        (True, "CuPy 13.0.0, CUDA reports 2 devices"))
    monkeypatch.setattr(cupy_import, "_cupy", SimpleNamespace(cuda=SimpleNamespace(
        runtime=SimpleNamespace(getDevice=lambda: 1, getDeviceCount=lambda: 2))))
    device, why = choose_device("auto")
    assert (str(device), why) == ("cuda:1", "auto: a GPU is usable: CuPy 13.0.0, CUDA reports "
                                            "2 devices")


def test_resume_refuses_other_options_and_applies_a_new_lr(tmp_path, capsys):
    out = str(tmp_path / "run")
    common = ["--hidden", "8", "--no-progress", "--device", "cpu", "--out", out]
    assert main(["train", "--epochs", "1", "--seed", "1"] + common) == 0
    assert main(["train", "--epochs", "2", "--seed", "2", "--resume"] + common) == 2
    assert "--seed 2 (the checkpoint has --seed 1)" in capsys.readouterr().err
    assert main(["train", "--epochs", "2", "--seed", "1", "--lr", "0.01", "--resume"]
                + common) == 0
    assert "learning rate changed on resume: 0.001 -> 0.01" in capsys.readouterr().out


def test_fit_refuses_a_resume_with_other_fixed_options(tmp_path):
    fit(TrainConfig(epochs=1, hidden=(8,), out=str(tmp_path), progress=False, device="cpu"),
        log=quiet)
    with pytest.raises(gpugrad.data.DataError, match=r"--hidden 8 -> 9"):
        fit(TrainConfig(epochs=2, hidden=(9,), out=str(tmp_path), progress=False,
                        device="cpu", resume=str(tmp_path / "model.npz")), log=quiet)


def test_data_too_large_for_float32_and_out_that_is_a_file(tmp_path):
    np.savez(tmp_path / "big.npz", X=np.array([[1e39, 0.0], [1.0, 2.0], [3.0, 4.0]]),
             y=np.array([0, 1, 0]))
    assert main(["train", "--data", str(tmp_path / "big.npz"), "--device", "cpu",
                 "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    (tmp_path / "file").write_text("")
    assert main(["train", "--epochs", "1", "--device", "cpu", "--out", str(tmp_path / "file"),
                 "--no-progress"]) == 2


def test_train_with_checkpointing_matches_plain_training(tmp_path, capsys):
    common = ["--epochs", "2", "--hidden", "32,32,32", "--device", "cpu", "--no-progress"]
    assert main(["train", "--out", str(tmp_path / "plain")] + common) == 0
    for option in ("2", "auto", "5MB", "off"):
        out = tmp_path / option
        assert main(["train", "--out", str(out), "--checkpoint", option] + common) == 0
        plain = gpugrad.load(tmp_path / "plain" / "model.npz")["model"]
        checkpointed = gpugrad.load(out / "model.npz")["model"]
        for name, value in plain.items():
            np.testing.assert_allclose(checkpointed[name].numpy(), value.numpy(), rtol=1e-6,
                                       atol=1e-7, err_msg=f"{option}: {name}")
    for bad in ("lots", "0", "-5MB", "1XB", "infGB"):         # usage errors, as --epochs 2.5
        capsys.readouterr()
        with pytest.raises(SystemExit) as stop:
            main(["train", "--out", str(tmp_path / "bad"), f"--checkpoint={bad}"] + common)
        assert stop.value.code == 2
        assert capsys.readouterr().err.splitlines()[-1] == (
            f"gpugrad train: error: argument --checkpoint: expected a number of segments >= 1 "
            f"(e.g. 4), 'auto', a memory budget with its unit (e.g. 200MB) or 'off'; got "
            f"{bad!r}")
    assert not (tmp_path / "bad").exists()


def test_experiment_command_writes_its_results(tmp_path, capsys):
    out = tmp_path / "ckpt"
    assert main(["experiment", "checkpoint", "--depth", "16", "--width", "64", "--batch",
                 "64", "--every", "3", "--budgets", "0.7", "--repeat", "1", "--device", "cpu",
                 "--out", str(out)]) == 0
    rows = (out / "results.csv").read_text().splitlines()
    assert rows[0].startswith("strategy,budget_bytes,predicted_peak_bytes,measured_peak_bytes")
    names = [row.split(",")[0] for row in rows[1:]]
    assert names[:3] == ["none", "every-3", "sqrt(n)=4 segments"]
    assert "planner 0.7" in names and "planner @ sqrt(n) peak" in names
    for row in rows[1:]:
        assert float(row.split(",")[-1]) < 1e-6           # gradients equal without ckpt
    assert (out / "tradeoff.png").read_bytes()[:4] == b"\x89PNG"
    assert "| strategy | peak MiB |" in (out / "results.md").read_text()
    assert "recomputations" in capsys.readouterr().out


class _Rows:
    """A map-style dataset that is not a TensorDataset: (x, y) samples as NumPy and int."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], int(self.y[i])


@pytest.mark.parametrize("make", [
    lambda X, y: gpugrad.data.DataLoader(gpugrad.data.TensorDataset(gpugrad.tensor(X),
                                                                    gpugrad.tensor(y)), 8),
    lambda X, y: gpugrad.data.DataLoader(_Rows(X, y), batch_size=8, shuffle=True, seed=0),
], ids=["TensorDataset", "map-style"])
def test_train_epoch_takes_a_loader_over_a_dataset(make):
    from gpugrad.distributed.job import Job
    from gpugrad.train_epoch import train_epoch
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3)).astype("float32"), rng.integers(0, 2, 20)
    model = gpugrad.nn.MLP([3, 4, 2])
    optimizer = gpugrad.optim.SGD(model.parameters(), lr=0.1)
    steps = []

    def step(xb, yb):
        steps.append(len(yb))
        optimizer.zero_grad()
        loss = gpugrad.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        return loss
    stats = train_epoch(model, make(X, y), step, TrainConfig(progress=True), 1, Job(False))
    assert steps == [8, 8, 4] and stats["samples_per_second"] > 0


def test_a_batch_size_that_does_not_split_over_the_ranks_names_the_flag():
    from gpugrad.distributed.job import Job
    job = Job(distributed=False)
    job.size = 4                                   # as a rank of 4 (tests/test_cli_mpi.py runs 2)
    assert job.shard_of_batches(8) == {"batch_size": 8, "rank": 0, "world_size": 4}
    with pytest.raises(ValueError, match=r"^--batch-size 6 \(the global batch, shared by the "
                                         r"ranks\) does not split evenly over 4 ranks; use a "
                                         r"multiple of 4 \(e\.g\. --batch-size 4\)$"):
        job.shard_of_batches(6)
