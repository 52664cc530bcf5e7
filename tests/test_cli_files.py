"""`gpugrad train`'s files: --out checked before any work, metrics.json and curves.png
written atomically with model.npz and metrics.json describing the same epochs, running out
of memory said in one line naming what was too big, files of the wrong kind named as such
(never with NumPy's advice to allow pickles), a data file compared by content on --resume,
and CSV quoting, encodings and separators."""

import json
import os
import pickle

import numpy as np
import pytest

import gpugrad
from gpugrad import data as gdata, nn, train_files, training
from gpugrad.cli import main
from gpugrad.serialization import CorruptFileError

SMALL = ["--hidden", "4", "--device", "cpu", "--no-progress", "--batch-size", "16"]


def error_line(capsys) -> str:
    """The one line on stderr, without the 'gpugrad train: error: ' in front."""
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    assert "Traceback" not in err and "allow_pickle" not in err, err
    command, message = err.strip().split(": error: ", 1)
    assert command in ("gpugrad train", "gpugrad experiment"), err
    return message


def small_data(path, seed=0, classes=3, rows=60):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, 3)).astype("float32")
    np.savez(path, X=X, y=np.arange(rows) % classes)
    return path


def files_in(folder) -> dict:
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


# ---------------------------------------------------------------------------------------------
# --out
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, out, message", [
    (lambda t: (t / "afile").write_text("x"), "afile",
     "--out {t}/afile is a file, not a folder; give a folder for the output files, e.g. "
     "--out runs/train, or move {t}/afile away"),
    (lambda t: (t / "afile").write_text("x"), "afile/run",
     "--out {t}/afile/run: {t}/afile is a file, not a folder; give a folder"),
    (lambda t: None, "", "--out '' is empty; give a folder for the output files, e.g. --out "
                         "runs/train"),
    (lambda t: (t / "mdir" / "model.npz").mkdir(parents=True), "mdir",
     "--out {t}/mdir holds a folder named model.npz, where the run writes its file model.npz; "
     "move that folder away or give another --out"),
    (lambda t: (t / "m2" / "metrics.json").mkdir(parents=True), "m2",
     "--out {t}/m2 holds a folder named metrics.json"),
])
def test_a_bad_out_is_refused_before_any_work(tmp_path, capsys, monkeypatch, make, out,
                                              message):
    make(tmp_path)
    before = sorted(p for p in tmp_path.rglob("*"))
    monkeypatch.setattr(gpugrad.train_data, "load", lambda config: pytest.fail("loaded data"))
    path = str(tmp_path / out) if out else ""
    assert main(["train", *SMALL, "--out", path]) == 2
    assert error_line(capsys).startswith(message.format(t=tmp_path))
    assert sorted(p for p in tmp_path.rglob("*")) == before          # nothing left behind


def test_an_out_that_cannot_be_written_is_named_before_the_first_epoch(tmp_path, capsys,
                                                                       monkeypatch):
    """The write test is a real file made in --out (root may write anywhere, so the refusal
    is simulated where the run is root)."""
    out = tmp_path / "ro"
    out.mkdir()
    if os.geteuid() == 0:
        def refused(*args, **kwargs):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(train_files.tempfile, "mkstemp", refused)
    else:
        out.chmod(0o555)
    monkeypatch.setattr(training, "_epoch", lambda *args: pytest.fail("trained an epoch"))
    try:
        assert main(["train", *SMALL, "--data", "synthetic", "--synthetic-size", "100",
                     "--out", str(out)]) == 2
    finally:
        out.chmod(0o755)
    assert error_line(capsys) == (f"--out {out} is not writable: Permission denied; give a "
                                  f"folder for the output files, e.g. --out runs/train you can "
                                  f"write to, or change its permissions")
    assert os.listdir(out) == []


def test_an_out_in_a_new_folder_is_made_and_a_good_one_leaves_no_probe(tmp_path):
    out = tmp_path / "new" / "run"
    assert main(["train", *SMALL, "--data", "synthetic", "--synthetic-size", "100",
                 "--epochs", "1", "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == ["curves.png", "metrics.json", "model.npz"]


def test_experiment_checks_its_out_before_measuring(tmp_path, capsys, monkeypatch):
    from gpugrad.checkpoint import experiment
    (tmp_path / "afile").write_text("x")
    monkeypatch.setattr(experiment, "run", lambda config: pytest.fail("measured"))
    assert main(["experiment", "checkpoint", "--out", str(tmp_path / "afile")]) == 2
    assert error_line(capsys) == (f"--out {tmp_path}/afile is a file, not a folder; give a "
                                  f"folder for the output files, e.g. --out runs/checkpoint, "
                                  f"or move {tmp_path}/afile away")


# ---------------------------------------------------------------------------------------------
# metrics.json, curves.png and model.npz: written whole, and describing the same epochs
# ---------------------------------------------------------------------------------------------

def fail_halfway(monkeypatch, suffix: str):
    """Make the writer of temporary ``suffix`` files write half its bytes, then fail as a
    full disk does."""
    real = train_files.temporary_file

    def writer(folder, end, write):
        if end != suffix:
            return real(folder, end, write)

        def half(f):
            import io
            buffer = io.BytesIO()
            write(buffer)
            f.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
            raise OSError(28, "No space left on device")
        return real(folder, end, half)
    monkeypatch.setattr(train_files, "temporary_file", writer)


def run_of(out, epochs: int, *more) -> int:
    return main(["train", *SMALL, "--data", "synthetic", "--synthetic-size", "100",
                 "--epochs", str(epochs), "--out", str(out), *more])


@pytest.mark.parametrize("suffix", [".json", ".npz", ".png"])
def test_a_write_that_fails_halfway_leaves_the_previous_files(tmp_path, capsys, monkeypatch,
                                                              suffix):
    assert run_of(tmp_path, 1) == 0
    before = files_in(tmp_path)
    fail_halfway(monkeypatch, suffix)
    capsys.readouterr()
    assert run_of(tmp_path, 2, "--resume") == 2
    assert error_line(capsys) == "[Errno 28] No space left on device"
    after = files_in(tmp_path)
    if suffix == ".png":            # the epoch's model.npz and metrics.json were written
        assert after["curves.png"] == before["curves.png"]
        assert gpugrad.load(tmp_path / "model.npz")["epoch"] == 2
    else:                           # neither of the pair is replaced
        assert after == before
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == \
        [e["epoch"] for e in gpugrad.load(tmp_path / "model.npz")["history"]]


def test_metrics_json_follows_model_npz_epoch_by_epoch(tmp_path, capsys, monkeypatch):
    """A run that dies in epoch 3 (here: out of memory) leaves model.npz and metrics.json
    of epoch 2, both."""
    real, epochs = training._epoch, []

    def epoch(config, *args):
        epochs.append(args[-2])
        if args[-2] == 3:
            raise MemoryError("Unable to allocate 1.00 TiB")
        return real(config, *args)
    monkeypatch.setattr(training, "_epoch", epoch)
    assert run_of(tmp_path, 4) == 2
    assert error_line(capsys) == (
        f"ran out of memory in epoch 3 (--batch-size 16, model [32, 4, 10]); use a smaller "
        f"--batch-size or --hidden, or --checkpoint auto (recomputes to save memory); the "
        f"finished epochs stay in {tmp_path}")
    state = gpugrad.load(tmp_path / "model.npz")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert state["epoch"] == 2 and [e["epoch"] for e in metrics["epochs"]] == [1, 2]
    assert metrics["epochs"] == json.loads(json.dumps(state["history"]))
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".tmp-")]


# ---------------------------------------------------------------------------------------------
# out of memory
# ---------------------------------------------------------------------------------------------

def test_a_model_too_big_for_memory_is_named_with_its_parameter_count(tmp_path, capsys,
                                                                      monkeypatch):
    numpy_oom = getattr(getattr(np, "_core", None), "_exceptions", None)   # NumPy's own error
    numpy_oom = getattr(numpy_oom, "_ArrayMemoryError", None)

    def no_memory(*args, **kwargs):
        if numpy_oom is None:
            raise MemoryError("Unable to allocate 335. GiB")
        assert issubclass(numpy_oom, MemoryError)
        raise numpy_oom((300000, 300000), np.dtype("float32"))
    monkeypatch.setattr(nn, "MLP", no_memory)
    assert main(["train", "--device", "cpu", "--no-progress", "--hidden", "300000,300000",
                 "--out", str(tmp_path)]) == 2
    # digits: 64 features, 10 classes; (64*3e5 + 3e5) + (3e5*3e5 + 3e5) + (3e5*10 + 10)
    # = 19,500,000 + 90,000,300,000 + 3,000,010; 4 bytes each = 335.4 GiB
    assert error_line(capsys) == (
        "--hidden 300000,300000: the model [64, 300000, 300000, 10] has 90,022,800,010 "
        "parameters, 335.4 GiB in float32 (training needs about 4 times that: weights, "
        "gradients and adam state), more than the memory holds; use smaller --hidden widths")


def test_data_too_big_for_memory_is_named_with_its_size(tmp_path, capsys, monkeypatch):
    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 11.6 TiB")
    monkeypatch.setattr(gdata, "synthetic", no_memory)
    assert main(["train", *SMALL, "--data", "synthetic", "--synthetic-size", "100000000000",
                 "--out", str(tmp_path)]) == 2
    # 1e11 rows of 32 float32 features and an int64 label: 136e11 bytes = 12,666.0 GiB
    assert error_line(capsys) == (
        "--data synthetic: --synthetic-size 100,000,000,000 rows need 12,666.0 GiB of memory "
        "(and as much again to split them), more than there is; use a smaller "
        "--synthetic-size")


def test_any_other_out_of_memory_is_one_line_and_status_2(tmp_path, capsys, monkeypatch):
    from gpugrad.checkpoint import experiment

    def no_memory(config):
        raise MemoryError("Unable to allocate 8.00 GiB")
    monkeypatch.setattr(experiment, "run", no_memory)
    assert main(["experiment", "checkpoint", "--out", str(tmp_path)]) == 2
    assert error_line(capsys) == ("ran out of memory (Unable to allocate 8.00 GiB); use a "
                                  "smaller --depth, --width or --batch")


# ---------------------------------------------------------------------------------------------
# files of the wrong kind
# ---------------------------------------------------------------------------------------------

FORMATS = ("--data takes an .npz archive with arrays X and y (numpy.savez(path, X=X, y=y)) "
           "or a CSV with the label in the last column")


def test_data_of_the_wrong_kind_is_named(tmp_path, capsys):
    np.save(tmp_path / "arr.npy", np.zeros((4, 3)))
    (tmp_path / "bad.npz").write_text("not a zip\n")
    np.savez(tmp_path / "x0.npz", X=np.zeros((100, 0), "float32"), y=np.zeros(100, int))
    cases = {
        "arr.npy": f"arr.npy is a NumPy .npy file (one array), which --data does not read; "
                   f"{FORMATS}",
        "bad.npz": f"bad.npz is a text file, not an .npz archive; {FORMATS}",
        "x0.npz": "x0.npz: X has 0 feature columns (shape (100, 0)); each row needs at least "
                  "one feature",
    }
    for name, message in cases.items():
        assert main(["train", *SMALL, "--data", str(tmp_path / name), "--out",
                     str(tmp_path / "o")]) == 2
        assert error_line(capsys) == f"{tmp_path}/{message}"


def test_resume_from_a_file_that_is_not_a_checkpoint_never_suggests_pickles(tmp_path,
                                                                           capsys):
    (tmp_path / "notes.npz").write_text("epoch 3 was good\n")
    assert main(["train", "--resume", str(tmp_path / "notes.npz")]) == 2
    assert error_line(capsys) == (f"load: {tmp_path}/notes.npz is a text file, not an .npz "
                                  f"archive; gpugrad.load reads the .npz files gpugrad.save "
                                  f"writes")


def test_load_says_what_a_foreign_file_is(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(3))
    (tmp_path / "t.npz").write_text("hello\n")
    (tmp_path / "p.pkl").write_bytes(pickle.dumps({"w": [1.0]}, protocol=4))
    (tmp_path / "e.npz").write_bytes(b"")
    np.savez(tmp_path / "obj.npz", x=np.array([None], dtype=object))
    expected = {
        "a.npy": "is a NumPy .npy file (one array), not an .npz archive; read it with "
                 "numpy.load",
        "t.npz": "is a text file, not an .npz archive",
        "p.pkl": "is a Python pickle (an old torch.save file is one), not an .npz archive; "
                 "gpugrad never loads pickles",
        "e.npz": "is empty, not an .npz archive",
        "obj.npz": "is an .npz file but not one written by gpugrad.save (it has no manifest); "
                   "read it with numpy.load(path)",
    }
    for name, message in expected.items():
        with pytest.raises(CorruptFileError) as caught:
            gpugrad.load(tmp_path / name)
        assert f"load: {tmp_path / name} {message}" in str(caught.value)
        assert "allow_pickle" not in str(caught.value) and "context manager" not in \
            str(caught.value)


def test_load_names_a_pytorch_checkpoint_and_how_to_convert_it(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"weight": torch.ones(2, 2)}, tmp_path / "model.pt")
    with pytest.raises(CorruptFileError, match=r"model.pt is a PyTorch checkpoint \(torch.save"
                                               r"\), not a gpugrad.save file; load it with "
                                               r"torch.load\(path, weights_only=True\)"):
        gpugrad.load(tmp_path / "model.pt")
    # the conversion it suggests works
    state = torch.load(tmp_path / "model.pt", weights_only=True)
    gpugrad.save({k: gpugrad.from_dlpack(v) for k, v in state.items()}, tmp_path / "g.npz")
    np.testing.assert_array_equal(gpugrad.load(tmp_path / "g.npz")["weight"].numpy(),
                                  np.ones((2, 2), "float32"))


# ---------------------------------------------------------------------------------------------
# --resume compares the data file by content
# ---------------------------------------------------------------------------------------------

def test_resume_follows_a_moved_data_file_and_refuses_changed_data(tmp_path, capsys,
                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    small_data("mine.npz")
    common = [*SMALL, "--out", "dr", "--resume"]
    assert main(["train", *common, "--data", "mine.npz", "--epochs", "1"]) == 0
    os.rename("mine.npz", "moved.npz")
    capsys.readouterr()
    assert main(["train", *common, "--epochs", "2"]) == 2
    assert error_line(capsys) == (
        f"--resume dr/model.npz: the run's data file {tmp_path}/mine.npz is not there any "
        f"more; if it moved, pass its new path with --data (its content is checked against "
        f"the checkpoint's)")
    assert main(["train", *common, "--epochs", "2", "--data", "moved.npz"]) == 0
    state = gpugrad.load("dr/model.npz")
    assert state["epoch"] == 2 and state["config"]["data"] == f"{tmp_path}/moved.npz"
    moved = state["data_file"]
    small_data("moved.npz", seed=1, classes=4)        # the same path, other data
    for extra in ([], ["--data", "moved.npz"]):
        capsys.readouterr()
        assert main(["train", *common, "--epochs", "3", *extra]) == 2
        changed = os.path.getsize("moved.npz")
        assert error_line(capsys).startswith(
            f"--resume dr/model.npz: the data file changed since the run started: "
            f"{'' if extra else f'{tmp_path}/'}moved.npz holds {changed:,} bytes with "
            f"SHA-256 ")
    assert gpugrad.load("dr/model.npz")["epoch"] == 2          # nothing changed
    assert moved["path"] == f"{tmp_path}/moved.npz"              # the path it was read from


def test_a_checkpoint_without_a_fingerprint_compares_the_path_as_before(tmp_path, capsys,
                                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    small_data("mine.npz")
    assert main(["train", *SMALL, "--data", "mine.npz", "--epochs", "1", "--out", "r"]) == 0
    state = gpugrad.load("r/model.npz", device="cpu")
    del state["data_file"]
    gpugrad.save(state, "r/model.npz")
    os.rename("mine.npz", "moved.npz")
    capsys.readouterr()
    assert main(["train", *SMALL, "--out", "r", "--resume", "--epochs", "2", "--data",
                 "moved.npz"]) == 2
    assert f"--data moved.npz (the checkpoint has --data {tmp_path}/mine.npz) conflicts" in \
        error_line(capsys)
    os.rename("moved.npz", "mine.npz")
    assert main(["train", *SMALL, "--out", "r", "--resume", "--epochs", "2"]) == 0


def test_the_fingerprint_is_the_files_size_and_sha256(tmp_path):
    import hashlib
    path = small_data(tmp_path / "d.npz")
    content = path.read_bytes()
    assert gpugrad.train_data.fingerprint(str(path)) == {
        "path": str(path), "bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------

def test_quoted_cells_and_a_byte_order_mark_read_as_the_plain_csv(tmp_path):
    plain = "a,b,label\n1,2.5,0\n3,4,1\n-1,0,2\n"
    quoted = "\ufeff" + "\n".join(",".join(f'"{c}"' for c in line.split(","))
                                  for line in plain.splitlines()) + "\n"
    (tmp_path / "plain.csv").write_text(plain)
    (tmp_path / "quoted.csv").write_text(quoted, encoding="utf-8")
    X, y = gdata.load_file(tmp_path / "quoted.csv")
    np.testing.assert_array_equal(X, [[1, 2.5], [3, 4], [-1, 0]])
    np.testing.assert_array_equal(y, [0, 1, 2])
    for got, want in zip(gdata.load_file(tmp_path / "plain.csv"), (X, y)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("content, message", [
    (b"a,b,label\n1,2,0\n3,\xe9,1\n", "{p}, line 3: byte 0xe9 is not UTF-8 text; a CSV must be "
                                      "UTF-8 (re-save it as UTF-8, e.g. iconv -f latin1 -t "
                                      "utf-8)"),
    (b"1 2 0\n", "{p} has one line, '1 2 0', and it is not comma-separated; a CSV of data "
                 "holds numbers only"),
    (b"a;b;label\n1;2;0\n", "{p}, line 2: '1;2;0' is not comma-separated"),
    (b'"a","b","c"\n"1","x","0"\n', "{p}, line 2, column 2 ('b'): 'x' is not a number"),
])
def test_csv_encoding_and_separator_errors_name_the_file_and_line(tmp_path, capsys, content,
                                                                  message):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    assert main(["train", *SMALL, "--data", str(path), "--out", str(tmp_path / "o")]) == 2
    assert error_line(capsys).startswith(message.format(p=path))
