"""`gpugrad train` stopped early, by Ctrl-C or by a loss that is NaN or infinite: one line on
stderr, the exit status for it, and the finished epochs kept (model.npz, metrics.json,
curves.png) so that `--resume` continues from them.

The stops are injected at a chosen step through the step function, so they are
deterministic: Ctrl-C as a real SIGINT the process sends itself (the signal arrives before
os.kill returns), and divergence as NaN written into the weights.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gpugrad
from gpugrad import training
from gpugrad.cli import main

ROOT = Path(__file__).resolve().parents[1]
# synthetic data: 240 train / 60 test rows; batch 32 makes 8 steps an epoch
COMMON = ["--data", "synthetic", "--synthetic-size", "300", "--hidden", "8", "--device", "cpu",
          "--optimizer", "sgd", "--lr", "0.05", "--no-progress"]
STEPS = 8


def stop_at(monkeypatch, step: int, action):
    """Make the training step run ``action(optimizer)`` before global step ``step``."""
    real = training._step_function

    def step_function(model, optimizer, config, job):
        inner, count = real(model, optimizer, config, job), [0]

        def counted(xb, yb):
            count[0] += 1
            if count[0] == step:
                action(optimizer)
            return inner(xb, yb)
        return counted
    monkeypatch.setattr(training, "_step_function", step_function)


def poison(optimizer):
    optimizer.param_groups[0]["params"][0]._array[...] = np.nan


def weights(path):
    return {k: v.numpy() for k, v in gpugrad.load(path)["model"].items()}


# ---------------------------------------------------------------------------------------------
# Ctrl-C
# ---------------------------------------------------------------------------------------------

SIGINT_RUNNER = """
import os, signal, sys
from gpugrad import training
from gpugrad.cli import main
real, count = training._step_function, [0]
def step_function(*args):
    inner = real(*args)
    def counted(xb, yb):
        count[0] += 1
        if count[0] == int(os.environ["STOP_AT_STEP"]):
            os.kill(os.getpid(), signal.SIGINT)           # as Ctrl-C in the terminal does
        return inner(xb, yb)
    return counted
training._step_function = step_function
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_says_one_line_exits_130_and_resume_continues_exactly(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT), STOP_AT_STEP=str(STEPS + 3))   # epoch 2
    done = subprocess.run([sys.executable, "-c", SIGINT_RUNNER, "train", *COMMON,
                           "--epochs", "3", "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == [
        f"gpugrad train: interrupted in epoch 2 of 3; epoch 1 is saved in {out} (model.npz, "
        f"metrics.json, curves.png); continue with: gpugrad train --out {out} --resume"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1]
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert gpugrad.load(out / "model.npz")["epoch"] == 1
    # --resume alone: the options come from the checkpoint; it ends where a straight run ends
    assert main(["train", "--out", str(out), "--resume", "--no-progress"]) == 0
    assert main(["train", *COMMON, "--epochs", "3", "--out", str(tmp_path / "straight")]) == 0
    straight, resumed = weights(tmp_path / "straight" / "model.npz"), weights(out / "model.npz")
    for name, value in straight.items():
        np.testing.assert_array_equal(resumed[name], value, err_msg=name)
    assert [e["epoch"] for e in json.loads((out / "metrics.json").read_text())["epochs"]] \
        == [1, 2, 3]


def test_ctrl_c_in_the_first_epoch_saves_nothing(tmp_path, monkeypatch, capsys):
    def interrupt(optimizer):
        raise KeyboardInterrupt
    stop_at(monkeypatch, 2, interrupt)
    assert main(["train", *COMMON, "--epochs", "2", "--out", str(tmp_path)]) == 130
    assert capsys.readouterr().err == ("gpugrad train: interrupted in epoch 1 of 2, before "
                                       "any epoch finished; nothing was saved\n")
    assert os.listdir(tmp_path) == []


def test_fit_raises_training_interrupted_after_writing_finished_epochs(tmp_path, monkeypatch):
    def interrupt(optimizer):
        raise KeyboardInterrupt
    stop_at(monkeypatch, 2 * STEPS + 1, interrupt)                       # epoch 3, step 1
    config = training.TrainConfig(data="synthetic", synthetic_size=300, hidden=(8,), epochs=4,
                                  out=str(tmp_path), progress=False, device="cpu")
    with pytest.raises(KeyboardInterrupt, match="epochs 1-2 are saved"):
        training.fit(config, log=lambda *a: None)
    assert len(json.loads((tmp_path / "metrics.json").read_text())["epochs"]) == 2


# ---------------------------------------------------------------------------------------------
# NaN or infinite loss
# ---------------------------------------------------------------------------------------------

def test_nan_loss_stops_in_one_line_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch,
                                                                       capsys):
    stop_at(monkeypatch, STEPS + 5, poison)                              # epoch 2, step 5
    assert main(["train", *COMMON, "--epochs", "3", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"gpugrad train: error: the loss became NaN or infinite in epoch 2 at step 5 of 8; "
        f"training stopped and {tmp_path / 'model.npz'} keeps epoch 1. Try a lower --lr "
        f"(this run used 0.05; e.g. --lr 0.005)"]
    state = gpugrad.load(tmp_path / "model.npz")
    assert state["epoch"] == 1
    assert all(np.isfinite(v.numpy()).all() for v in state["model"].values())
    text = (tmp_path / "metrics.json").read_text()
    metrics = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))
    assert [e["epoch"] for e in metrics["epochs"]] == [1]


def test_the_first_bad_step_is_named_between_loss_reads(tmp_path, monkeypatch, capsys):
    # 2000 train rows at batch 8: 250 steps an epoch, the loss read every 5th; step 6 is not
    # read on its own, yet it is the one named
    stop_at(monkeypatch, 6, poison)
    assert main(["train", "--data", "synthetic", "--synthetic-size", "2500", "--batch-size",
                 "8", "--hidden", "4", "--device", "cpu", "--no-progress", "--epochs", "1",
                 "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "in epoch 1 at step 6 of 250" in err and "no checkpoint was written" in err
    assert not (tmp_path / "model.npz").exists()


def test_a_real_divergence_is_caught_without_numpy_warnings(tmp_path):
    done = subprocess.run([sys.executable, "-m", "gpugrad", "train", "--epochs", "2", "--lr",
                           "1e8", "--optimizer", "sgd", "--device", "cpu", "--no-progress",
                           "--out", str(tmp_path / "o")], capture_output=True, text=True,
                          cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "in epoch 1 at step" in done.stderr and "Try a lower --lr" in done.stderr
    assert not (tmp_path / "o" / "model.npz").exists()


def test_the_loss_watch_reads_the_host_only_where_the_loss_was_read_before(tmp_path,
                                                                           monkeypatch):
    """The NaN check adds no host sync per step: 250 steps make 50 reads (every 5th step),
    each reported to the sync debug mode as a read on a GPU would be (here on the CPU)."""
    import warnings
    from gpugrad.cuda import SyncWarning, set_sync_debug_mode
    real, syncs = training.train_epoch, []

    def watched(*args, **kwargs):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            set_sync_debug_mode("warn")
            try:
                return real(*args, **kwargs)
            finally:
                set_sync_debug_mode("default")
                syncs.extend(str(w.message) for w in seen if w.category is SyncWarning)
    monkeypatch.setattr(training, "train_epoch", watched)
    training.fit(training.TrainConfig(data="synthetic", synthetic_size=5000, batch_size=16,
                                      hidden=(4,), epochs=1, out=str(tmp_path),
                                      progress=False, device="cpu"), log=lambda *a: None)
    assert len(syncs) == 50 and all("reading the losses" in s for s in syncs), syncs[:3]


def test_a_failed_resume_keeps_metrics_json_describing_model_npz(tmp_path, monkeypatch,
                                                                   capsys):
    """metrics.json's config is the one model.npz records (the options that trained its
    epochs); the stopped run's other options are recorded apart, under "stopped"."""
    assert main(["train", *COMMON, "--epochs", "1", "--out", str(tmp_path)]) == 0
    stop_at(monkeypatch, 3, poison)                                # resumed epoch 2, step 3
    assert main(["train", "--out", str(tmp_path), "--resume", "--epochs", "3", "--lr", "0.01",
                 "--no-progress"]) == 1
    error = capsys.readouterr().err.strip().removeprefix("gpugrad train: error: ")
    state = gpugrad.load(tmp_path / "model.npz")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert state["epoch"] == 1 and [e["epoch"] for e in metrics["epochs"]] == [1]
    assert metrics["config"] == json.loads(json.dumps(state["config"]))
    assert metrics["config"]["lr"] == 0.05 and metrics["config"]["epochs"] == 1
    assert metrics["stopped"] == {"in_epoch": 2, "reason": error,
                                  "options_not_saved": {"epochs": 3, "lr": 0.01}}
    # a resume that saves an epoch with the new options before it stops: they are model.npz's
    monkeypatch.undo()
    stop_at(monkeypatch, STEPS + 3, poison)                        # resumed epoch 3, step 3
    assert main(["train", "--out", str(tmp_path), "--resume", "--epochs", "3", "--lr", "0.01",
                 "--no-progress"]) == 1
    state = gpugrad.load(tmp_path / "model.npz")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert state["epoch"] == 2 and metrics["config"] == json.loads(json.dumps(state["config"]))
    assert metrics["config"]["lr"] == 0.01 and metrics["config"]["epochs"] == 3
    assert metrics["stopped"]["in_epoch"] == 3 and metrics["stopped"]["options_not_saved"] == {}
    monkeypatch.undo()                                             # no more poison
    assert main(["train", "--out", str(tmp_path), "--resume", "--no-progress"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2, 3] and "stopped" not in metrics
