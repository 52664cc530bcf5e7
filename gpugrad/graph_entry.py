"""One input signature of a captured step (``graphs.CapturedStep``): its static inputs, its
stream and private pool on CUDA, its graph, and what the graph was recorded against.

A CUDA graph replays array work only, at the addresses it recorded, and runs none of the
step's Python. So the entry keeps what the recording noted (``note_recorded``), checks
before each replay that it still holds (``unchanged``: one generated expression, built by
a ``Guard``; ``changed`` says which check failed), and after each launch does what the
step's Python did (``after_launch``): sets the ``.grad`` the step set or read, writes back
inputs written in place, and accumulates input gradients through the engine (hooks
included).

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

__all__ = ["Entry", "Guard", "signature"]


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
    """What a replay checks first: terms (Python expressions over bound objects, each an
    identity or a comparison), each with the reason it gives when it fails. ``name(obj)``
    binds an object; ``add(reason, *terms)`` adds terms; ``compiled()`` is the generated
    check, one ``and`` of them all; ``first_failure()`` the reason of the first that fails.

    Example::

        >>> from gpugrad.graph_entry import Guard
        >>> box = [1]
        >>> guard = Guard()
        >>> guard.add("the box was emptied", f"len({guard.name(box)}) == 1")
        >>> check = guard.compiled()
        >>> check(), guard.first_failure()
        (True, None)
        >>> box.clear()
        >>> check(), guard.first_failure()
        (False, 'the box was emptied')
    """

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

    def add(self, reason: str, *terms) -> None:
        self.terms += [(term, reason) for term in terms]

    def compiled(self):
        """A function of no arguments: whether every term holds."""
        return self._function(" and ".join(term for term, _ in self.terms) or "True")

    def first_failure(self) -> "str | None":
        """The reason of the first term that does not hold, or None (slow: for messages)."""
        for term, reason in self.terms:
            if not self._function(term)():
                return reason
        return None

    def _function(self, expression: str):
        namespace = dict(self.bound)
        exec(compile(f"def check():\n    return {expression}", "<graph guard>", "exec"),
             namespace)
        return namespace["check"]


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
        """What each replay runs first (the ``Guard`` in ``self.guard``): a leaf's ``.grad``
        that the step sets or reads is the one the recorded step found, its array and
        requires_grad are unchanged, what each optimizer launch reads is as recorded
        (``guard_terms`` of the participants), modules unchanged (when guarded)."""
        guard = self.guard = Guard()
        for t, array, requires_grad, start in self.leaves:
            name, shape = guard.name(t), tuple(t.shape)
            guard.add(f"the .grad of a tensor of shape {shape} is not the one the recorded "
                      f"step found ({'None' if start is None else 'a tensor'}); reset "
                      f"gradients inside the step with zero_grad(), or outside it with "
                      f"zero_grad(set_to_none=False)", f"{name}._grad is {guard.name(start)}")
            guard.add("a parameter's array was replaced (p.data = ...)",
                      f"{name}._array is {guard.name(array)}")
            guard.add("a parameter's requires_grad was changed",
                      f"{name}._requires_grad is {requires_grad}")
        set_in_step = {id(t) for t, _, _ in self.grads}
        for participant in self.participants:
            participant.guard_terms(guard, set_in_step)
        if self.structure is not None:
            guard.add("a module's parameters, buffers, submodules or hooks changed",
                      f"{guard.name(structure)}.epoch == {self.structure}")
        return guard.compiled()

    def changed(self) -> "str | None":
        """Why a replay of this graph would not do what the step does now (the first check
        of ``self.guard`` that fails), or None."""
        return None if self.guard is None else self.guard.first_failure()

    def note_inputs(self, versions) -> None:
        """Which copied inputs the step wrote (their static buffers' ``versions`` before it
        ran have moved)."""
        self.written = [i for i in self.copied
                        if self.static[i]._version_counter.value != versions[i]]

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
        self.unchanged = self.guard = None
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
            inputs[i]._version_counter.value += 1
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
