"""`gpugrad train --resume`: the run's options come from the checkpoint, a given option that
conflicts with it is named, `--epochs` decides whether there is more to do, and README's
`gpugrad train --data my_data.npz --resume` works as written, first run included; a run on a
data file resumes from any folder, checkpointing may be turned off, and a folder given to
--resume is named as one."""

import json
import os
import re
import shlex
from pathlib import Path

import numpy as np

import gpugrad
from gpugrad.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIRST = ["--data", "synthetic", "--synthetic-size", "300", "--hidden", "8,4", "--seed", "3",
         "--optimizer", "sgd", "--lr", "0.05", "--batch-size", "16", "--test-fraction", "0.25",
         "--dtype", "float64", "--device", "cpu", "--no-progress"]


def trained(out, epochs: int):
    assert main(["train", *FIRST, "--epochs", str(epochs), "--out", str(out)]) == 0
    return gpugrad.load(Path(out) / "model.npz")


def test_resume_needs_no_options_repeated_and_continues_exactly(tmp_path, capsys):
    straight = trained(tmp_path / "straight", 3)
    trained(tmp_path / "run", 1)
    assert main(["train", "--out", str(tmp_path / "run"), "--resume", "--epochs", "3",
                 "--no-progress"]) == 0
    assert "resumed from" in capsys.readouterr().out
    resumed = gpugrad.load(tmp_path / "run" / "model.npz")
    assert resumed["epoch"] == 3 and resumed["config"] == straight["config"] | {
        "out": str(tmp_path / "run")}
    for name, value in straight["model"].items():
        np.testing.assert_array_equal(resumed["model"][name].numpy(), value.numpy(),
                                      err_msg=name)
    assert [e["epoch"] for e in resumed["history"]] == [1, 2, 3]


def test_resume_from_a_path_writes_beside_it(tmp_path):
    trained(tmp_path / "run", 1)
    assert main(["train", "--resume", str(tmp_path / "run" / "model.npz"), "--epochs", "2",
                 "--no-progress"]) == 0
    assert gpugrad.load(tmp_path / "run" / "model.npz")["epoch"] == 2


def test_a_conflicting_option_is_named_and_changes_nothing(tmp_path, capsys):
    trained(tmp_path, 1)
    before = (tmp_path / "model.npz").read_bytes()
    capsys.readouterr()
    assert main(["train", "--out", str(tmp_path), "--resume", "--epochs", "2",
                 "--hidden", "16", "--optimizer", "sgd"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"gpugrad train: error: --resume {tmp_path / 'model.npz'}: --hidden 16 (the "
        f"checkpoint has --hidden 8,4) conflicts with the run it continues; leave it out (a "
        f"resumed run reads its options from the checkpoint), or start a new run with "
        f"another --out"]
    assert (tmp_path / "model.npz").read_bytes() == before


def test_epochs_at_or_below_those_done_say_so_and_change_nothing(tmp_path, capsys):
    trained(tmp_path, 2)
    files = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    capsys.readouterr()
    for more in ([], ["--epochs", "2"], ["--epochs", "1"]):
        assert main(["train", "--out", str(tmp_path), "--resume", *more]) == 0
        target = more[1] if more else "2"
        assert capsys.readouterr().out == (
            f"{tmp_path / 'model.npz'} has already trained 2 epochs and --epochs is "
            f"{target}: nothing to do, nothing changed (pass --epochs N with N > 2 to train "
            f"further)\n")
    assert {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)} == files


def test_a_missing_named_checkpoint_is_an_error_but_resume_alone_starts(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path / "nope.npz")]) == 2
    assert "--resume " + str(tmp_path / "nope.npz") + ": no such checkpoint" in \
        capsys.readouterr().err
    assert main(["train", *FIRST, "--epochs", "1", "--out", str(tmp_path / "new"),
                 "--resume"]) == 0
    assert f"--resume: no checkpoint at {tmp_path / 'new' / 'model.npz'} yet; starting a " \
           f"new run" in capsys.readouterr().out
    assert gpugrad.load(tmp_path / "new" / "model.npz")["epoch"] == 1


def readme_resume_command() -> list:
    """The `gpugrad train ... --resume` line of README's "Training MLPs" block."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Training MLPs", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)```", section, flags=re.S).group(1)
    line = next(line for line in block.splitlines() if "--resume" in line)
    words = shlex.split(line, comments=True)
    assert words[:2] == ["gpugrad", "train"], line
    return words[2:]


def test_readme_resume_command_works_as_written_first_run_and_after(tmp_path, monkeypatch,
                                                                    capsys):
    arguments = readme_resume_command()
    assert arguments == ["--data", "my_data.npz", "--resume"]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    np.savez(tmp_path / "my_data.npz", X=X, y=(X[:, 0] > 0).astype(int))
    monkeypatch.chdir(tmp_path)
    assert main(["train", *arguments]) == 0                         # first run: starts
    out = capsys.readouterr().out
    assert "no checkpoint at runs/train/model.npz yet; starting a new run" in out
    assert gpugrad.load(tmp_path / "runs" / "train" / "model.npz")["epoch"] == 30
    assert main(["train", *arguments]) == 0                         # again: all done
    assert "has already trained 30 epochs" in capsys.readouterr().out


def test_a_run_on_a_file_resumes_from_another_folder(tmp_path, monkeypatch, capsys):
    """The checkpoint records a data file by its absolute path, and a --data given again is
    compared by the file it names, not as typed."""
    X = np.random.default_rng(0).standard_normal((40, 3))
    np.savez(tmp_path / "my_data.npz", X=X, y=(X[:, 0] > 0).astype(int))
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    common = ["--hidden", "4", "--device", "cpu", "--no-progress"]
    assert main(["train", "--data", "my_data.npz", "--out", "R", "--epochs", "1",
                 *common]) == 0
    recorded = str(tmp_path / "my_data.npz")
    assert gpugrad.load(tmp_path / "R" / "model.npz")["config"]["data"] == recorded
    monkeypatch.chdir(tmp_path / "sub")
    assert main(["train", "--out", "../R", "--resume", "--epochs", "2", "--no-progress"]) == 0
    assert main(["train", "--data", "../my_data.npz", "--out", "../R", "--resume",
                 "--epochs", "3", "--no-progress"]) == 0
    monkeypatch.chdir(tmp_path)
    for typed in ("./my_data.npz", "my_data.npz", recorded):
        assert main(["train", "--data", typed, "--out", "R", "--resume", "--epochs", "4",
                     "--no-progress"]) == 0
    capsys.readouterr()
    state = gpugrad.load(tmp_path / "R" / "model.npz")
    assert state["epoch"] == 4 and state["config"]["data"] == recorded
    assert json.loads((tmp_path / "R" / "metrics.json").read_text())["config"]["data"] \
        == recorded
    np.savez(tmp_path / "other.npz", X=X, y=(X[:, 1] > 0).astype(int))
    assert main(["train", "--data", "other.npz", "--out", "R", "--resume", "--epochs",
                 "5"]) == 2
    assert "--resume R/model.npz: the data file changed since the run started: other.npz " \
           "holds " in capsys.readouterr().err     # compared by content (test_cli_files.py)


def test_checkpointing_may_be_turned_off_on_resume(tmp_path, capsys):
    """--checkpoint is one of the options a resume may change (as --lr and --batch-size);
    'off', the default --help names, turns it off; left out, it carries over."""
    trained(tmp_path, 1)
    assert main(["train", "--out", str(tmp_path), "--resume", "--epochs", "2",
                 "--checkpoint", "2"]) == 0
    assert "checkpointing: 2 segments" in capsys.readouterr().out
    assert gpugrad.load(tmp_path / "model.npz")["config"]["checkpoint"] == "2"
    assert main(["train", "--out", str(tmp_path), "--resume", "--epochs", "3"]) == 0
    assert "checkpointing: 2 segments" in capsys.readouterr().out      # carried over
    assert main(["train", "--out", str(tmp_path), "--resume", "--epochs", "4",
                 "--checkpoint", "off"]) == 0
    assert "checkpointing:" not in capsys.readouterr().out
    state = gpugrad.load(tmp_path / "model.npz")
    assert state["epoch"] == 4 and state["config"]["checkpoint"] is None


def test_resume_of_a_folder_says_what_to_pass(tmp_path, capsys):
    trained(tmp_path / "B", 1)
    capsys.readouterr()
    assert main(["train", "--resume", str(tmp_path / "B"), "--epochs", "2"]) == 2
    folder = tmp_path / "B"
    assert capsys.readouterr().err == (
        f"gpugrad train: error: --resume {folder}: that is a folder, not a checkpoint; pass "
        f"the checkpoint in it (--resume {folder / 'model.npz'}) or the run's folder as --out "
        f"(--out {folder} --resume)\n")
    assert gpugrad.load(folder / "model.npz")["epoch"] == 1
