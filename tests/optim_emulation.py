"""The fused multi-tensor optimizers' device side emulated in NumPy, for tests without a GPU
(tests/test_multi_tensor.py, test_cuda_graphs.py, test_optim_habits.py, test_host_syncs.py).

The real slots of gpugrad/optim/multi_tensor.py run on NumPy arrays, with tables that hand
the kernels the arrays themselves, and kernels that do what kernels/optim.cu's comments say.
While "recording", the emulated kernels are not run but kept in ``recorded``, as a CUDA graph
keeps them, so every replay can run them again on whatever the arrays hold then; ``launches``
lists ``(optimizer, number of tensors)`` for each kernel run. The ``emulated`` fixture is
registered for every test by ``pytest_plugins`` in conftest.py; the lists are imported.

Example::

    def test_one_launch(emulated):
        ...                              # an optim.SGD step on CPU tensors
        assert launches == [("sgd", 4)]
"""

import numpy as np
import pytest

from gpugrad.autograd import capture_mode
from gpugrad.cuda import launch_optim
from gpugrad.optim import multi_tensor

launches = []
recorded = []                   # the emulated graph: kernels kept while recording


def kernel(fn):
    """Run now, or keep for the replays while a graph is being recorded."""
    def launch(*args):
        if capture_mode.is_graph_recording():
            recorded.append(lambda: fn(*args))
        else:
            fn(*args)
    return launch


@kernel
def sgd_multi(table, hyper, nesterov, first):
    launches.append(("sgd", len(table["params"])))
    lr, momentum, dampening, decay = (float(v) for v in hyper)      # Python floats: weak
    for k, p in enumerate(table["params"]):
        g = table["grads"][k] + decay * p if decay else table["grads"][k]
        if "bufs" in table:
            b = table["bufs"][k]
            b[...] = g if first else b * momentum + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p -= lr * g


@kernel
def adam_count(steps):
    steps += 1


@kernel
def adam_multi(table, steps, hyper, decoupled):
    launches.append(("adam", len(table["params"])))
    lr, beta1, beta2, eps, decay = (float(v) for v in hyper)
    for k, p in enumerate(table["params"]):
        c1, c2 = 1 - beta1 ** int(steps[k]), 1 - beta2 ** int(steps[k])
        g = table["grads"][k]
        if decay and decoupled:
            p *= 1 - lr * decay
        elif decay:
            g = g + decay * p
        m, v = table["exp_avg"][k], table["exp_avg_sq"][k]
        m[...] = m * beta1 + (1 - beta1) * g
        v[...] = v * beta2 + (1 - beta2) * g * g
        p -= (m / (np.sqrt(v * (1 / c2)) + eps)) * (lr / c1)


class RolesTable(dict):
    """launch_optim.Table for the emulated kernels: the roles' arrays themselves (the
    kernels read them by name), with the real table's key."""

    def __init__(self, roles):
        super().__init__(roles)
        self.key = launch_optim.table_key(roles)


@pytest.fixture
def emulated(monkeypatch):
    """The fused path on NumPy arrays, with the device side emulated."""
    launches.clear()
    recorded.clear()
    monkeypatch.setattr(multi_tensor, "fusable", lambda p: True)
    monkeypatch.setattr(launch_optim, "Table", RolesTable)
    for name, fn in (("sgd_multi", sgd_multi), ("adam_count", adam_count),
                     ("adam_multi", adam_multi)):
        monkeypatch.setattr(launch_optim, name, fn)
