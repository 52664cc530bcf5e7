"""A steady-state training step makes no host synchronisation, eager or captured.

On a GPU every host read (``.item()``, a label check, an upload from pageable memory) stalls
Python until the GPU catches up. gpugrad routes each such point through the sync debug mode
(``gpugrad.cuda.set_sync_debug_mode``, as PyTorch's), which reports them on every device, so
these tests count them on a CPU: the fused optimizers run with their device side emulated in
NumPy (tests/optim_emulation.py), and the labels are ``WatchedLabels``, NumPy arrays that
report every read of their values on the host as a device array's read would be a sync (so
cross_entropy treats them as it treats labels on a GPU: not read; a label out of range
surfaces when the loss is read).
"""

import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import nn, optim
from gpugrad.cuda import SyncWarning, graph, set_sync_debug_mode
from gpugrad.cuda import sync_debug
from gpugrad.nn import functional as F

OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda ps: optim.Adam(ps, lr=1e-3),
    "adamw": lambda ps: optim.AdamW(ps, lr=1e-3),
}


class WatchedLabels(np.ndarray):
    """An integer array whose values, read on the host (``int()``, ``bool()``, ``item()``,
    ``tolist()``, as an index), report a sync, as a GPU array's would be one. Results of
    ops on it stay watched, 0-d ones included."""

    def __array_wrap__(self, array, context=None, return_scalar=False):
        return np.asarray(array).view(WatchedLabels)

    def _plain(self):
        sync_debug.report("reading label values on the host")
        return self.view(np.ndarray)

    def __int__(self):
        return int(self._plain())

    def __bool__(self):
        return bool(self._plain())

    def __index__(self):
        return self._plain().__index__()

    def item(self, *args):
        return self._plain().item(*args)

    def tolist(self):
        return self._plain().tolist()


def labels(values):
    """Labels that cross_entropy cannot read for free, as on a GPU."""
    return gpugrad.Tensor._wrap(np.asarray(values, np.int64).view(WatchedLabels))


@pytest.fixture
def warn_on_syncs():
    set_sync_debug_mode("warn")
    yield
    set_sync_debug_mode("default")


def syncs_of(fn, *args):
    """The host synchronisations reported while ``fn(*args)`` runs."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fn(*args)
    return [str(w.message) for w in seen if issubclass(w.category, SyncWarning)]


def training_step(optimizer_name, loss_name, read_loss=False):
    """A step of an MLP under ``optimizer_name`` and ``loss_name``, its inputs and its
    optimizer."""
    gpugrad.manual_seed(3)
    model = nn.MLP([6, 16, 16, 3])
    opt = OPTIMIZERS[optimizer_name](model.parameters())
    loss_fn = nn.CrossEntropyLoss() if loss_name == "cross_entropy" else nn.MSELoss()
    rng = np.random.default_rng(0)
    x = gpugrad.tensor(rng.standard_normal((8, 6)), dtype="float32")
    y = (labels(rng.integers(0, 3, 8)) if loss_name == "cross_entropy"
         else gpugrad.tensor(rng.standard_normal((8, 3)), dtype="float32"))

    def step(x, y):
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if read_loss:
            loss.item()
        return loss
    return step, x, y, opt


@pytest.mark.parametrize("loss_name", ["cross_entropy", "mse"])
@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
def test_eager_steps_after_the_first_make_no_host_sync(optimizer_name, loss_name, emulated,
                                                       warn_on_syncs):
    step, x, y, _ = training_step(optimizer_name, loss_name)
    first = syncs_of(step, x, y)
    assert any("optimizer" in s for s in first)          # tables and hyperparameters, once
    for _ in range(4):
        assert syncs_of(step, x, y) == []


@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
def test_captured_steps_make_no_host_sync(optimizer_name, emulated, warn_on_syncs):
    step, x, y, _ = training_step(optimizer_name, "cross_entropy")
    captured = graph(step, x, y)
    syncs_of(captured, x, y)                              # warm-up: allocates, uploads
    for _ in range(4):
        assert syncs_of(captured, x, y) == []
    assert captured.captures == 1


def test_the_count_sees_reads_and_uploads(emulated, warn_on_syncs):
    """The count is not blind: a read inside the step shows at every step, and so do a
    learning rate that a scheduler changes (it must be uploaded) and a label check."""
    step, x, y, _ = training_step("adam", "cross_entropy", read_loss=True)
    syncs_of(step, x, y)
    assert syncs_of(step, x, y) == ["Tensor.item() (and float(t), int(t), bool(t), if t:) "
                                    "synchronises the host with the device; a training step "
                                    "that does this every call leaves the GPU waiting on "
                                    "Python"]
    step, x, y, opt = training_step("sgd", "cross_entropy")
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    syncs_of(step, x, y)
    scheduler.step()
    assert syncs_of(step, x, y) == ["uploading optimizer hyperparameters (a learning rate "
                                    "changed) synchronises the host with the device; a "
                                    "training step that does this every call leaves the GPU "
                                    "waiting on Python"]
    watched = labels([0, 1])._array
    assert syncs_of(lambda: int(watched.max())) == [
        "reading label values on the host synchronises the host with the device; a training "
        "step that does this every call leaves the GPU waiting on Python"]


def test_sync_debug_modes():
    t = gpugrad.tensor([1.0, 2.0])
    assert gpugrad.cuda.get_sync_debug_mode() == 0
    try:
        set_sync_debug_mode("error")
        assert gpugrad.cuda.get_sync_debug_mode() == 2
        with pytest.raises(RuntimeError, match=r"Tensor.numpy\(\).*synchronises the host"):
            print(t)
        set_sync_debug_mode(1)
        with pytest.warns(SyncWarning, match=r"Tensor.item\(\)"):
            float(t[0])
        with pytest.raises(ValueError, match="'default', 'warn', 'error'"):
            set_sync_debug_mode("loud")
        with pytest.raises(ValueError, match="'default', 'warn', 'error'"):
            set_sync_debug_mode(True)
    finally:
        set_sync_debug_mode("default")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t.tolist()                                        # the default: silent


# ------------------------------------------------------------------ labels checked late

def test_a_label_out_of_range_surfaces_when_the_loss_is_read():
    logits = gpugrad.tensor(np.random.default_rng(1).standard_normal((4, 3)),
                            requires_grad=True)
    bad = labels([0, 5, -100, 2])
    message = r"label 5 is out of range for 3 classes \(valid: 0 to 2, or ignore_index=-100\)"
    loss = F.cross_entropy(logits, bad)                   # no error yet: nothing was read
    loss.backward()
    assert np.isnan(logits.grad.numpy()[1]).all()         # the bad row's gradient is NaN
    np.testing.assert_array_equal(np.isnan(logits.grad.numpy()).any(axis=1),
                                  [False, True, False, False])
    with pytest.raises(ValueError, match=message):
        loss.item()
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(logits, bad, reduction="none").numpy()
    with pytest.raises(ValueError, match="label -1 is out of range"):
        float(F.cross_entropy(logits, labels([0, -1, 1, 2]), reduction="sum"))
    with gpugrad.autograd.detect_anomaly(), pytest.raises(ValueError, match=message):
        F.cross_entropy(logits, bad)                      # anomaly mode: checked at once
    set_sync_debug_mode("warn")
    try:
        with gpugrad.autograd.detect_anomaly():
            seen = syncs_of(F.cross_entropy, logits, labels([0, 1, 2, 2]))
    finally:
        set_sync_debug_mode("default")
    assert any(s.startswith("cross_entropy's label check") for s in seen)


def test_a_nan_with_good_labels_reads_as_nan():
    logits = gpugrad.tensor([[0.0, np.nan], [1.0, 2.0]])
    loss = F.cross_entropy(logits, labels([0, 1]))
    assert np.isnan(loss.item())
    good = F.cross_entropy(gpugrad.tensor([[0.0, 0.0]]), labels([1]))
    assert good.item() == pytest.approx(np.log(2))


def test_a_mean_over_no_rows_is_nan_without_warnings():
    logits = gpugrad.tensor(np.ones((2, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(logits, gpugrad.tensor([-100, -100]))
        loss.backward()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(logits.grad.numpy(), np.zeros((2, 3)))   # as PyTorch
