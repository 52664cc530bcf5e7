"""graph()'s CUDA path run on NumPy, for tests without a GPU (tests/test_cuda_graphs.py,
test_cuda_graph_guards.py, test_cuda_graph_edges.py): the ``emulated_gpu`` fixture,
registered for every test by
``pytest_plugins`` in conftest.py.

The stream's recording keeps the optimizer's kernels instead of running them
(tests/optim_emulation.py's emulated kernels, from kernels/optim.cu's comments); the graph's
launch redoes the step's forward and backward on the static inputs, writes the static
outputs and the ``.grad`` buffers the recording left, and runs the kept kernels on whatever
the arrays hold then, as a CUDA graph replays what it recorded. Host-side bookkeeping is
graphs.py's own; each call also holds the generated check before a replay
(``Entry.unchanged``) to ``Entry.changed``. The recording itself runs the step's work on
the CPU (a CUDA recording runs nothing), so the first launch after it runs only the kernels
it kept. Two differences remain: a launch runs the kept optimizer kernels after the rest
of the step's work (a real graph keeps the step's order), and its rerun's optimizer runs
the recording's checks (a real replay runs none).
"""

import threading
from contextlib import nullcontext
from types import SimpleNamespace

import pytest

from gpugrad import graph_entry, graphs
from gpugrad.autograd import capture_mode

from optim_emulation import recorded


class EmulatedStream:
    """Stands in for the entry's CUDA stream (and its pool's allocator)."""

    def __init__(self, entry):
        self.entry, self.step_fn, self.start = entry, None, None
        self.malloc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def record(self):
        return None

    def synchronize(self):
        pass

    def wait_event(self, event):
        pass

    def begin_capture(self):
        self.start = len(recorded)

    def end_capture(self):
        return EmulatedGraph(self, recorded[self.start:])


class EmulatedGraph:
    """What the recording kept: the step's work on the static buffers, then the kernels.
    As a CUDA graph, a launch runs no Python and reads what the recording read: the step is
    run again against the leaves' arrays, requires_grad and ``.grad`` as the recording found
    them, its results land in the buffers the recording wrote (the static outputs, the
    ``.grad`` tensors the step left), and every Python attribute is then put back as the
    launch found it. A rerun that touches the ``.grad`` of a tensor the recording did not
    fails: a real graph would silently not."""

    def __init__(self, stream, kernels):
        self.stream, self.kernels = stream, list(kernels)
        self.launched = False

    def launch(self, stream=None):
        if not self.launched:           # the recording ran the step's array work already,
            self.launched = True        # all but the kernels it kept
            for kernel in self.kernels:
                kernel()
            return
        entry, before = self.stream.entry, len(recorded)
        grads = entry.grads + [(entry.static[i], None, left) for i, left in entry.input_grads]
        found = [t._grad for t, _, _ in grads]
        held = [(t, t._array, t._requires_grad) for t, _, _, _ in entry.leaves]
        for t, array, requires_grad, _ in entry.leaves:
            t._array, t._requires_grad = array, requires_grad
        for t, start, _ in grads:               # the .grad the recorded step found
            t._grad = start
        with capture_mode.capture_rules(recording=True):   # (the optimizer's launches: kept)
            fresh = self.stream.step_fn(*entry.static)
            touched = capture_mode.recorded_grads()
        del recorded[before:]
        known = {id(t) for t, _, _ in grads}
        extra = [tuple(t.shape) for t, _ in touched if id(t) not in known and t.is_leaf]
        assert not extra, (f"the replay touched the .grad of tensors of shapes {extra} that "
                           f"the recording did not: a CUDA graph would not update them")
        # a non-leaf (a retained gradient) is a new tensor in the rerun: the same in order
        fresh_non_leaves = iter([t for t, _ in touched if not t.is_leaf])
        for (t, _, left), was in zip(grads, found):
            now = t._grad if t.is_leaf else next(fresh_non_leaves)._grad
            if left is not None and now is not left:
                left._array[...] = now._array           # the buffer the graph writes
            t._grad = was
        for t, array, requires_grad in held:
            t._array, t._requires_grad = array, requires_grad
        graphs._copy_into(entry.outputs, fresh)
        for kernel in self.kernels:
            kernel()


@pytest.fixture
def emulated_gpu(emulated, monkeypatch):
    """graph() takes its CUDA path for CPU tensors, with the recording emulated."""
    fake = SimpleNamespace(cuda=SimpleNamespace(
        Device=lambda index: nullcontext(), using_allocator=lambda malloc: nullcontext(),
        get_current_stream=lambda: EmulatedStream(None)))
    monkeypatch.setattr(graphs, "require_cupy", lambda: fake)
    monkeypatch.setattr(graph_entry, "require_cupy", lambda: fake)
    real_init, real_capture = graphs._Entry.__init__, graphs.CapturedStep._capture

    def init(entry, inputs):
        real_init(entry, inputs)
        entry.stream = entry.pool = EmulatedStream(entry)
        entry.blas = SimpleNamespace(thread=threading.get_ident())   # NumPy's matmul is
                                                                    # never refused

    def capture(step, entry, inputs):
        entry.stream.step_fn = step.step_fn
        real_capture(step, entry, inputs)

    monkeypatch.setattr(graphs._Entry, "__init__", init)
    monkeypatch.setattr(graphs.CapturedStep, "_capture", capture)
    real_check = graphs._Entry._compiled_check

    def agreeing(entry):                # the generated check, held to changed() each call
        fast = real_check(entry)

        def unchanged():
            verdict, reason = fast(), entry.changed()
            assert verdict == (reason is None), (f"the generated check says unchanged="
                                                 f"{verdict}, changed() says {reason!r}")
            return verdict
        return unchanged

    monkeypatch.setattr(graphs._Entry, "_compiled_check", agreeing)
