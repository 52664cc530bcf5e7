"""`gpugrad train`'s bad input: CSV errors name the line and the column (header and 1-based
number), an empty CSV gets the clean error and no NumPy warning, malformed numbers and
widths say what is expected, the CUDA advice is in flags; and `gpugrad --version`, and the
py.typed marker in the built wheel and sdist."""

import os
import shutil
import subprocess
import sys
import tarfile
import warnings
import zipfile
from pathlib import Path

import pytest

import gpugrad
from gpugrad.cli import main

ROOT = Path(__file__).resolve().parents[1]


def train_error(tmp_path, capsys, *arguments) -> str:
    """The one line ``gpugrad train`` prints on stderr for bad input (exit status 2)."""
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # a NumPy warning would fail here
        assert main(["train", "--device", "cpu", "--no-progress", "--out",
                     str(tmp_path / "out"), *arguments]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err == err.strip() + "\n", err
    return err.strip()


EMPTY_CSV = ("is empty; a CSV of data holds numbers only, one row per line, the label (a class "
             "index 0..C-1) in the last column, and optionally one header line")


@pytest.mark.parametrize("text, message", [
    ("height,weight,label\n1.5,60,0\n1.8,x,1\n",
     "line 3, column 2 ('weight'): 'x' is not a number"),
    ("1.5,60,0\n\n# a comment\n1.8,,1\n", "line 4, column 2: the cell is empty"),
    ("height,weight,label\n1.5,60,0\n1.8,85\n",
     "line 3: 2 columns, but the header has 3; every row needs the same columns"),
    ("height,weight,label\n1.5,60,0\n1.8,inf,1\n",
     "line 3, column 2 ('weight'): inf is not a finite number"),
    ("height,weight,label\n1.5,60,0\n1.8,85,0.5\n",
     "line 3, column 3 ('label') (the label column): 0.5 is not a class index"),
    ("a,b,class\n1,2,-1\n", "line 2, column 3 ('class') (the label column): -1 is not a"),
    ("a,b,label\n1,2,0\n\n3,4,200000\n", "line 4, column 3 ('label') (the label column): "
                                        "the label 200000 is too large; labels are class "
                                        "indices 0..C-1 (at most 100,000 classes)"),
    ("label\n1\n2\n", "has one column (column 1 ('label'))"),
    ("", EMPTY_CSV),
    ("\n\n", "is empty; a CSV of data holds numbers only"),
    ("height,weight,label\n", "has a header but no rows of data"),
])
def test_csv_errors_name_line_and_column(tmp_path, capsys, text, message):
    path = tmp_path / "data.csv"
    path.write_text(text)
    err = train_error(tmp_path, capsys, "--data", str(path))
    assert err.startswith(f"gpugrad train: error: {path}") and message in err, err
    if message == EMPTY_CSV:        # an empty CSV: this one clean line (and no NumPy warning)
        assert err == f"gpugrad train: error: {path} {EMPTY_CSV}", err


def test_a_good_csv_with_a_header_still_trains(tmp_path):
    rows = "\n".join(f"{i % 7},{i % 3},{i % 2}" for i in range(40))
    (tmp_path / "ok.csv").write_text("a,b,label\n" + rows + "\n")
    assert main(["train", "--data", str(tmp_path / "ok.csv"), "--epochs", "1", "--hidden",
                 "4", "--device", "cpu", "--no-progress", "--out", str(tmp_path / "o")]) == 0


@pytest.mark.parametrize("arguments, message", [
    (["--hidden", "128,,64"], "argument --hidden: expected widths >= 1 separated by commas, "
                              "such as 128,64 (or '' for none); got '128,,64', which has an "
                              "empty width"),
    (["--hidden", "128,"], "got '128,', which has an empty width"),
    (["--hidden", "64,0"], "got '64,0', in which '0' is not a whole number >= 1"),
    (["--epochs", "2.5"], "argument --epochs: expected a whole number >= 1, got '2.5'"),
    (["--epochs", "0"], "argument --epochs: expected a whole number >= 1, got '0'"),
    (["--batch-size", "ten"], "argument --batch-size: expected a whole number >= 1, got 'ten'"),
    (["--lr", "-1"], "argument --lr: expected a number > 0 such as 0.001, got '-1'"),
    (["--test-fraction", "1.5"], "argument --test-fraction: expected a fraction between 0 "
                                 "and 1 such as 0.2, got '1.5'"),
])
def test_malformed_numbers_say_what_is_expected(capsys, arguments, message):
    with pytest.raises(SystemExit) as exit_:
        main(["train", *arguments])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]           # after argparse's usage lines
    assert last.startswith("gpugrad train: error: argument --") and message in last, last


def test_an_empty_hidden_is_a_linear_model(tmp_path):
    assert main(["train", "--hidden", "", "--epochs", "1", "--device", "cpu", "--no-progress",
                 "--out", str(tmp_path)]) == 0
    assert gpugrad.load(tmp_path / "model.npz")["model"]["layers.0.weight"].shape == (10, 64)


class _CupyWithoutGPU:
    """CuPy as installed on a machine with no usable GPU (its runtime raises)."""
    __version__ = "13.0.0"

    class cuda:
        class runtime:
            @staticmethod
            def getDeviceCount():
                raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")


@pytest.mark.parametrize("cupy, advice", [(None, "Or use"), (_CupyWithoutGPU, "or use")],
                         ids=["no CuPy", "no GPU"])
def test_cuda_advice_names_the_flag_for_each_reason(tmp_path, capsys, monkeypatch, cupy,
                                                    advice):
    """Each reason cupy_import.cuda_status() gives ends with the library's advice, which the
    command line says as the flag."""
    from gpugrad import cupy_import
    missing = ModuleNotFoundError("No module named 'cupy'")
    monkeypatch.setattr(cupy_import, "_cuda_status", None)
    monkeypatch.setattr(cupy_import, "_cupy", None)
    monkeypatch.setattr(cupy_import, "_import_cupy", lambda: (cupy, None if cupy else missing))
    usable, reason = cupy_import.cuda_status()
    assert not usable and reason.endswith(f"{advice} device='cpu'.")     # the library's words
    err = train_error(tmp_path, capsys, "--device", "cuda")
    assert err.endswith(f"{advice} --device cpu.") and "device='cpu'" not in err, err
    assert reason[:-len("device='cpu'.")] in err                 # the reason, as it is


def test_only_the_cuda_advice_is_put_in_flags(capsys, monkeypatch):
    """A message that shows a tensor (whose repr says device='cpu') is left as it is."""
    from gpugrad import cli
    monkeypatch.setattr(cli.distributed, "abort", lambda status: None)
    message = "labels tensor([7], device='cpu') are out of range"
    assert cli._failed("train", ValueError(message), 2) == 2
    assert capsys.readouterr().err == f"gpugrad train: error: {message}\n"


def test_version():
    done = subprocess.run([sys.executable, "-m", "gpugrad", "--version"], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith(f"gpugrad {gpugrad.__version__} (NumPy ")
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'\nversion = "{gpugrad.__version__}"\n' in pyproject


def test_py_typed_ships_in_the_wheel_and_the_sdist(tmp_path):
    assert (ROOT / "gpugrad" / "py.typed").exists()
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "gpugrad", source / "gpugrad", ignore=ignore)
    shutil.copytree(ROOT / "kernels", source / "kernels", ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(ROOT / name, source / name)
    build = ("from setuptools import build_meta as b; "
             "print('built', b.build_wheel('dist'), b.build_sdist('dist'))")
    done = subprocess.run([sys.executable, "-c", build], capture_output=True, text=True,
                          cwd=source, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    wheel, sdist = done.stdout.split("built ")[-1].split()
    assert "gpugrad/py.typed" in zipfile.ZipFile(source / "dist" / wheel).namelist()
    names = tarfile.open(source / "dist" / sdist).getnames()
    assert f"gpugrad-{gpugrad.__version__}/gpugrad/py.typed" in names
