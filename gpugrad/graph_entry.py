"""One input signature of a captured step (``graphs.CapturedStep``): its static inputs, its
stream and private pool on CUDA, its graph, and what the graph was recorded against.

A CUDA graph replays array work only, at the addresses it recorded, and runs none of the
step's Python. So the entry keeps what the recording noted (``note_recorded``), checks
before each replay that it still holds (``changed``), and after each launch does what the
step's Python did (``after_launch``): sets the ``.grad`` the step set, writes back inputs
written in place, and accumulates input gradients through the engine (hooks included).

Example (on the CPU an entry runs its step eagerly; ``changed`` has no graph to check)::

    >>> from gpugrad.graph_entry import Entry
    >>> entry = Entry((gpugrad.ones(2), gpugrad.ones(2)))
    >>> len(entry.static), entry.changed()
    (2, None)
"""

from __future__ import annotations

import contextlib

from . import backend
from .autograd.capture_mode import recorded_grads
from .autograd.compile_mode import structure
from .autograd.engine import backward
from .cupy_import import require_cupy
from .step_signature import is_module_state
from .tensor import Tensor

__all__ = ["Entry", "signature"]


def signature(inputs) -> tuple:
    """Shapes, dtypes, devices and requires_grad of ``inputs``, which parameter or buffer an
    input is (those are used as they are, not copied), and which earlier input each shares
    its array with when some do (they get one static buffer)."""
    key = tuple((tuple(t.shape), t.dtype.str, str(t.device), t._requires_grad,
                 id(t) if is_module_state(t) else None) for t in inputs)
    ids = [id(t._array) for t in inputs]
    if len(set(ids)) < len(ids):
        first: dict = {}
        key += (tuple(first.setdefault(a, i) for i, a in enumerate(ids)),)
    return key


def _static_like(t) -> Tensor:
    """An input's static buffer: same shape, dtype and device, requiring grad if it does
    (its gradient goes to the input after each launch)."""
    with backend.use_device(t.device):
        static = Tensor._wrap(backend.xp_of(t._array).empty_like(t._array))
    static._requires_grad = t._requires_grad
    return static


class Guard:
    """The terms of one generated check (Python expressions), with the objects they name
    bound as globals of the generated function: ``name(obj)`` binds one."""

    def __init__(self):
        self.terms, self.bound, self._names = [], {}, {}

    def name(self, obj) -> str:
        if obj is None or isinstance(obj, bool):
            return repr(obj)
        key = id(obj)
        if key not in self._names:
            self._names[key] = f"o{len(self._names)}"
            self.bound[self._names[key]] = obj
        return self._names[key]

    def compiled(self):
        """A function of no arguments: whether every term holds."""
        source = "def unchanged():\n    return " + (" and ".join(self.terms) or "True")
        namespace = dict(self.bound)
        exec(compile(source, "<graph guard>", "exec"), namespace)     # noqa: S102
        return namespace["unchanged"]


class Entry:
    """One input signature: its static inputs, calls so far, and on CUDA its stream, private
    memory pool, graph, the replay participants recorded in it (they hold the device data
    the graph reads) and the cuBLAS workspace its GEMMs use (cuda/captured_blas.py)."""

    def __init__(self, inputs):
        made: dict = {}             # id(array) -> its static: inputs sharing one share it
        for t in inputs:            # (a parameter or buffer is its own: the step updates it)
            if id(t._array) not in made:
                made[id(t._array)] = t if is_module_state(t) else _static_like(t)
        self.static = tuple(made[id(t._array)] for t in inputs)
        self.copied = [i for i, (s, t) in enumerate(zip(self.static, inputs)) if s is not t]
        self.device = next((t.device for t in inputs if t.device.type == "cuda"),
                           inputs[0].device if inputs else backend.CPU)
        self.stream = self.pool = self.blas = self.graph = None
        self.restarts = 0           # times it started over (a graph of it went stale)
        self.start_over()
        if self.device.type == "cuda":
            cupy = require_cupy()
            with cupy.cuda.Device(self.device.index or 0):
                # warm-up and capture on one stream and one pool of the graph's own: the
                # capture reuses the blocks the warm-up freed, and nothing else allocates there
                self.stream = cupy.cuda.Stream(non_blocking=True)
                self.pool = cupy.cuda.MemoryPool()

    def load(self, inputs) -> None:
        """Copy the call's inputs into the static buffers."""
        with backend.use_device(self.device):
            for i in self.copied:
                self.static[i]._array[...] = inputs[i]._array

    def note_recorded(self, participants, versions, guard_structure: bool) -> None:
        """What the recording just made depends on: the replay participants, the tensors
        whose ``.grad`` the step set or read (as it found and left them), the leaves'
        arrays and requires_grad, the inputs it wrote (their static buffers' ``versions``
        before it ran have moved), and the module-structure epoch when ``guard_structure``."""
        self.participants = participants
        self.note_inputs(versions)
        statics = {id(self.static[i]): i for i in self.copied}
        noted = recorded_grads()
        self.input_grads = [(statics[id(t)], t._grad) for t, _ in noted
                            if id(t) in statics and t._grad is not None]
        self.grads = [(t, start, t._grad) for t, start in noted if id(t) not in statics]
        self.leaves = [(t, t._array, t._requires_grad, start) for t, start, _ in self.grads
                       if t.grad_fn is None]    # (a retained non-leaf's .grad is per call)
        self.structure = structure.epoch if guard_structure else None
        self.unchanged = self._compiled_check()

    def _compiled_check(self):
        """``changed() is None`` as one generated boolean expression (every check an
        identity or a comparison of bound objects): what each replay runs first."""
        guard = Guard()
        for t, array, requires_grad, start in self.leaves:
            name = guard.name(t)
            guard.terms += [f"{name}._grad is {guard.name(start)}",
                            f"{name}._array is {guard.name(array)}",
                            f"{name}._requires_grad is {requires_grad}"]
        set_in_step = {id(t) for t, _, _ in self.grads}
        for participant in self.participants:
            participant.guard_terms(guard, set_in_step)
        if self.structure is not None:
            guard.terms.append(f"{guard.name(structure)}.epoch == {self.structure}")
        return guard.compiled()

    def changed(self) -> "str | None":
        """Why a replay of this graph would not do what the step does now, or None: a
        leaf's ``.grad`` that the step sets or reads is not the one the recorded step found
        (set to None, replaced, or left from the last call where the step found it reset),
        a leaf's array or requires_grad changed, what an optimizer launch reads changed, or
        modules changed (when guarded)."""
        for t, array, requires_grad, start in self.leaves:
            if t._grad is not start:
                return (f"the .grad of a tensor of shape {tuple(t.shape)} is "
                        f"{'None' if t._grad is None else 'another tensor'} where the "
                        f"recorded step found {'None' if start is None else 'a tensor'}; "
                        f"reset gradients inside the step with zero_grad(), or outside "
                        f"it with zero_grad(set_to_none=False)")
            if t._array is not array:
                return "a parameter's array was replaced (p.data = ...)"
            if t._requires_grad != requires_grad:
                return "a parameter's requires_grad was changed"
        set_in_step = {id(t) for t, _, _ in self.grads}
        for participant in self.participants:
            reason = participant.changed(set_in_step)
            if reason is not None:
                return reason
        if self.structure is not None and structure.epoch != self.structure:
            return "a module's parameters, buffers, submodules or hooks changed"
        return None

    def note_inputs(self, versions) -> None:
        """Which copied inputs the step wrote (their static buffers' ``versions`` before it
        ran have moved)."""
        self.written = [i for i in self.copied if self.static[i]._version.value != versions[i]]

    def start_over(self) -> None:
        """Forget the graph: the next call is a warm-up, the one after it captures again (on
        the same stream and pool, which the tensors the old graph left still use). The old
        graph may still run on the GPU: it is let go once the current stream is done."""
        if self.graph is not None and self.stream is not None:
            cupy = require_cupy()
            with cupy.cuda.Device(self.device.index or 0):
                cupy.cuda.get_current_stream().synchronize()
        self.calls = 0
        self.recorded = False
        self.unchanged = None
        self.graph = self.outputs = None
        self.participants, self.grads, self.leaves = [], [], []
        self.written, self.input_grads, self.structure = [], [], None

    def after_launch(self, inputs) -> None:
        """After a launch, what the step's Python did and the graph does not redo: every
        ``.grad`` the step set, as the recorded step left it (the graph wrote the new
        values into those tensors); the inputs it writes in place, written (the graph wrote
        their static buffers); and each input's gradient accumulated into it by the engine,
        as the eager backward would (its hooks run)."""
        for t, _, end in self.grads:
            t._grad = end
        for i in self.written:
            inputs[i]._array[...] = self.static[i]._array
            inputs[i]._version.value += 1
        if self.input_grads:
            for i, _ in self.input_grads:
                self.static[i]._grad = None     # (the static input starts without one)
            backward([inputs[i] for i, _ in self.input_grads],
                     [buffer.clone() for _, buffer in self.input_grads])

    @contextlib.contextmanager
    def on_stream(self):
        """Run on this entry's stream and pool, ordered after the current stream's work and
        before its later work (nothing to do on CPU)."""
        if self.stream is None:
            yield
            return
        cupy = require_cupy()
        with cupy.cuda.Device(self.device.index or 0):
            current = cupy.cuda.get_current_stream()
            self.stream.wait_event(current.record())
            try:
                with cupy.cuda.using_allocator(self.pool.malloc), self.stream:
                    yield
            finally:
                current.wait_event(self.stream.record())
