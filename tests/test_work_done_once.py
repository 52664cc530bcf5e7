"""Work that was done twice and is now done once: a resumed run reads its checkpoint once,
``--checkpoint auto`` profiles once when nothing fits, a plan builds its byte chain once, a
CSV is checked once, a loader moves its shuffled order once an epoch, clip_grad_norm_
checks its parameters once; and the one array check (``backend.is_array``) keeps every
caller's meaning."""

import numpy as np
import pytest

import gpugrad
from gpugrad import backend, nn, train_files
from gpugrad.checkpoint import plan
from gpugrad.checkpoint import planner, profiling
from gpugrad.cli import main
from gpugrad.data import DataLoader, datasets, loader as loader_module

RUN = ["--data", "synthetic", "--synthetic-size", "120", "--hidden", "8", "--batch-size", "32",
       "--device", "cpu", "--no-progress"]


def counting(monkeypatch, owner, name: str) -> list:
    """Replace ``owner.name`` by a wrapper that records each call's arguments."""
    calls, original = [], getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)
    monkeypatch.setattr(owner, name, counted)
    return calls


def test_resume_reads_the_checkpoint_once(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert main(["train", *RUN, "--epochs", "1", "--out", str(out)]) == 0
    reads = counting(monkeypatch, train_files, "load")      # read_checkpoint's file read
    assert main(["train", "--out", str(out), "--resume", "--epochs", "2",
                 "--no-progress"]) == 0
    assert len(reads) == 1
    assert gpugrad.load(out / "model.npz", device="cpu")["epoch"] == 2


def test_fit_still_reads_the_checkpoint_itself(tmp_path, monkeypatch):
    from gpugrad.training import TrainConfig, fit
    options = dict(data="synthetic", synthetic_size=120, hidden=(8,), device="cpu",
                   progress=False, out=str(tmp_path))
    fit(TrainConfig(epochs=1, **options), log=lambda *args: None)
    reads = counting(monkeypatch, train_files, "load")
    result = fit(TrainConfig(epochs=2, resume=str(tmp_path / "model.npz"), **options),
                 log=lambda *args: None)
    assert len(reads) == 1 and [e["epoch"] for e in result["epochs"]] == [1, 2]


def test_auto_checkpointing_profiles_once_when_nothing_fits(monkeypatch):
    from gpugrad.training import _checkpointing
    X = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)
    loader = DataLoader(X, np.arange(16) % 3, batch_size=8, shuffle=True, seed=0)
    model = nn.MLP([4, 3])                   # too small to save anything by checkpointing
    profiles = counting(monkeypatch, planner, "profile")
    lines = []
    result = _checkpointing("auto", model, loader, lines.append)
    assert len(profiles) == 1
    assert result.checkpoints() == [] and result.recomputed_blocks == 0
    assert result.budget == result.predicted_peak            # plan(..., budget=1.0)'s
    assert lines == [f"checkpointing: {result!r}"]


@pytest.mark.parametrize("budget", [0.6, 0.05])             # a plan, and a BudgetError
def test_a_plan_builds_its_byte_chain_once(monkeypatch, budget):
    model, x = nn.MLP([32] * 9), gpugrad.randn(16, 32)
    chains = counting(monkeypatch, profiling._Profile, "byte_chain")
    try:
        plan(model, x, budget=budget)
    except planner.BudgetError:
        pass
    assert len(chains) == 1


def test_a_csv_is_checked_once_and_converted_as_before(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    path.write_text("a,b,c,label\n0.5,1,2,0\n2,3,4.25,1\n-1,0,7,2\n")
    expected = datasets._validated(*datasets.read_csv(str(path)), str(path))

    def refused(*args):
        raise AssertionError("_validated ran on a CSV that read_csv had checked")
    monkeypatch.setattr(datasets, "_validated", refused)
    X, y = datasets.load_file(path)
    for got, want in zip((X, y), expected):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype and got.flags.c_contiguous and got.flags.owndata
        assert got.flags.writeable


def test_a_loader_moves_its_order_once_an_epoch(monkeypatch):
    X, y = np.zeros((100, 2), np.float32), np.arange(100)
    loader = DataLoader(X, y, batch_size=10, shuffle=True, seed=0)
    looked_up = counting(monkeypatch, loader_module.backend, "device_of")
    batches = list(loader)
    assert len(batches) == 10
    assert len(looked_up) <= 3       # once per array (and once to move the order), not per batch
    assert sorted(np.concatenate([yb.numpy() for _, yb in batches])) == list(range(100))


def test_a_loader_refuses_labels_that_are_not_an_array():
    with pytest.raises(TypeError, match=r"DataLoader: .*a list.*y must be an array: pass "
                                        r"gpugrad.tensor\(y\)"):
        DataLoader(np.zeros((3, 2)), [0, 1, 2])


def test_clip_grad_norm_checks_its_parameters_once(monkeypatch):
    from gpugrad.nn.utils import clip_grad
    w = gpugrad.tensor([0.0, 0.0], requires_grad=True)
    w.grad = gpugrad.tensor([3.0, 4.0])
    checks = counting(monkeypatch, clip_grad, "_tensors")
    assert nn.utils.clip_grad_norm_([w], 1.0).item() == pytest.approx(5.0)
    assert len(checks) == 1
    assert nn.utils.clip_grad_norm_([gpugrad.zeros(2)], 1.0).item() == 0.0   # no gradients
    assert nn.utils.get_total_norm([]).item() == 0.0
    with pytest.raises(ValueError):
        nn.utils.get_total_norm([], norm_type="two")       # as before: converted first


class _DeviceArray:
    """Stands for a CUDA array (CuPy's, PyTorch's): it has __cuda_array_interface__."""
    __cuda_array_interface__ = {}


def test_is_array_means_numpy_or_cuda_arrays():
    assert backend.is_array(np.zeros(2)) and backend.is_array(np.array(1.0))
    assert backend.is_array(_DeviceArray())
    for other in (np.float32(1), [1.0], 1.0, None, gpugrad.zeros(2)):   # a tensor is not one
        assert not backend.is_array(other)


def test_the_callers_of_is_array_keep_their_meaning(tmp_path):
    with pytest.raises(TypeError, match="TensorDataset takes tensors or arrays; argument 1"):
        datasets.TensorDataset(np.zeros(2), [1, 2])
    assert loader_module._is_array(gpugrad.zeros(2)) and loader_module._is_array(np.zeros(2))
    assert not loader_module._is_array([1.0])
    gpugrad.save({"t": gpugrad.ones(2), "a": np.arange(3)}, tmp_path / "s.npz")
    state = gpugrad.load(tmp_path / "s.npz", device="cpu")
    assert isinstance(state["t"], gpugrad.Tensor) and isinstance(state["a"], np.ndarray)
