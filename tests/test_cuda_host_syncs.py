"""A training step on the GPU makes no host synchronisation, eager or captured, and a label
out of range surfaces when the loss is read: tests/test_host_syncs.py's checks with the real
kernels, plus what no report can hide (the host running ahead of a busy GPU). Marked
``cuda``: skipped where CUDA is not usable.

Run on a GPU machine: PYTHONPATH=. python3 -m pytest -q tests/test_cuda_host_syncs.py
"""

import time
import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
from gpugrad.cuda import SyncWarning, graph, set_sync_debug_mode
from gpugrad.nn import functional as F

from cuda_support import CUDA_TESTS
from test_host_syncs import OPTIMIZERS

pytestmark = CUDA_TESTS


@pytest.mark.parametrize("loss_name", ["cross_entropy", "mse"])
@pytest.mark.parametrize("optimizer_name", ["sgd", "adam", "adamw"])
def test_training_steps_after_the_first_make_no_host_sync(optimizer_name, loss_name):
    """tests/test_host_syncs.py's check with the real kernels: eager steps on the GPU, then
    captured ones, report no host synchronisation after their first call."""
    gpugrad.manual_seed(3)
    model = nn.MLP([6, 16, 16, 3], device="cuda")
    opt = OPTIMIZERS[optimizer_name](model.parameters())
    loss_fn = nn.CrossEntropyLoss() if loss_name == "cross_entropy" else nn.MSELoss()
    rng = np.random.default_rng(0)
    x = gpugrad.tensor(rng.standard_normal((8, 6)), dtype="float32", device="cuda")
    y = gpugrad.tensor(rng.integers(0, 3, 8) if loss_name == "cross_entropy" else
                       rng.standard_normal((8, 3)).astype(np.float32), device="cuda")

    def step(x, y):
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def syncs(fn):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            fn(x, y)
        return [str(w.message) for w in seen if issubclass(w.category, SyncWarning)]

    set_sync_debug_mode("warn")
    try:
        syncs(step)
        assert [syncs(step) for _ in range(3)] == [[], [], []]
        captured = graph(step, x, y)
        syncs(captured)
        assert [syncs(captured) for _ in range(3)] == [[], [], []]
    finally:
        set_sync_debug_mode("default")
    assert captured.replays == 2
    for fn in (step, captured):         # what no report can hide: the host runs ahead
        host, busy = _host_time_behind_busy_gpu(lambda: fn(x, y))
        assert host < busy / 4, f"a step took {host:.3f} s on the host behind {busy:.3f} s " \
                                f"of queued GPU work: it waited for the GPU"


def _host_time_behind_busy_gpu(fn):
    """Seconds ``fn`` takes on the host while the GPU still runs queued matmuls, and how
    long those took: a host synchronisation inside ``fn`` makes the two alike."""
    cp = pytest.importorskip("cupy")
    a = cp.ones((4096, 4096), cp.float32)
    cp.cuda.get_current_stream().synchronize()
    start = time.perf_counter()
    for _ in range(60):
        cp.matmul(a, a)
    queued = time.perf_counter()
    fn()
    host = time.perf_counter() - queued
    cp.cuda.get_current_stream().synchronize()
    return host, time.perf_counter() - start


def test_a_label_out_of_range_surfaces_when_the_loss_is_read():
    """On the GPU cross_entropy does not read the labels; a bad one gives a NaN loss, and
    reading it raises the clear error, eagerly and from a captured step."""
    logits = gpugrad.tensor(np.random.default_rng(0).standard_normal((4, 3)), device="cuda")
    bad = gpugrad.tensor([0, 3, 1, 2], device="cuda")
    loss = F.cross_entropy(logits, bad)
    with pytest.raises(ValueError, match="label 3 is out of range for 3 classes"):
        loss.item()
    good = gpugrad.tensor([0, 1, 1, 2], device="cuda")
    step = graph(lambda z, t: F.cross_entropy(z, t), logits, good)
    step(logits, good)
    assert np.isfinite(step(logits, good).item())
    with pytest.raises(ValueError, match="label 3 is out of range for 3 classes"):
        step(logits, bad).item()
