"""``gpugrad.compile``: a training step recorded once per input signature and replayed.

The first call for a signature runs the step eagerly (its results are real) while
``compile_mode`` writes down every array computation it makes (forward, backward, the
optimizer's work) as one flat Python program (``step_program.py``); later calls replay that
program: no graph is built, no node, no saved value, no engine bookkeeping. On the GPU the
replay is the step's CUDA graph (``gpugrad.cuda.graph``).

What is part of the signature (a change records again): each input's shape, dtype, device
and requires_grad; grad mode and autocast; for every tensor the step reads by reference
(parameters, buffers), the array it holds and whether it requires grad; modules' parameters,
buffers and submodules, and hooks (any set, added or removed since); the plain tensor
attributes it read (still held); parameters and buffers passed as inputs (by identity); and
whether each gradient the step found on being called is there, with its shape and dtype (a
replay reads the one it finds). What runs live at every replay, as eager code would:
``optimizer.step()`` (so schedulers and step counts work: learning rates are read, not
frozen), ``zero_grad``, storing gradients into ``.grad`` and the post-accumulate hooks,
``p.grad = ...`` assignments, ``scheduler.step()``; tensors made with factories (``zeros``,
``tensor(data)``...) are made afresh. What is fixed at recording: Python numbers the step
closes over, Python control flow, and which modules are in ``train()``/``eval()`` mode (call
``reset()`` after changing them). Host reads (``.item()``, ``print(t)``, a branch on a
value) and random draws inside the step are refused, with the capture rules' errors, as
are inputs that carry a graph built outside the step (docs/compile.md lists the rest).

Example::

    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> opt = gpugrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> @gpugrad.compile
    ... def train_step(x, y):
    ...     opt.zero_grad()
    ...     loss = F.cross_entropy(model(x), y)
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> x, y = gpugrad.randn(16, 4), gpugrad.randint(0, 3, (16,))
    >>> losses = [train_step(x, y).item() for _ in range(5)]
    >>> losses == sorted(losses, reverse=True)
    True
    >>> train_step.records, train_step.replays        # recorded once, replayed 4 times
    (1, 4)
"""

from __future__ import annotations

import functools
import warnings
import weakref

import numpy as np

from . import graphs, pytree
from .autograd.autocast_mode import _state as _autocast
from .autograd.capture_mode import capture_rules
from .autograd.compile_mode import CompileError, recording_into
from .autograd.compile_mode import _state as _compile_state
from .autograd.dual_levels import _state as _dual_state
from .autograd.mode import _state as _grad_mode
from .autograd.saved_hooks import _hooks as _saved_hooks
from .func.transforms import differentiating
from .step_program import Recorder
from .step_signature import is_module_state
from .tensor import Tensor

__all__ = ["compile", "CompiledStep", "CompileError"]

RECORD_WARNING_AT = 8       # recordings of one step before it warns that they keep changing


def compile(step_fn=None):      # noqa: A001  (gpugrad.compile, as torch.compile)
    """Compile ``step_fn`` (tensors in; a tensor, a number or a tuple/list/dict of them out:
    a number comes back as the recording's value); usable as ``@gpugrad.compile``. See the
    module docstring.

    Shapes: whatever ``step_fn`` takes and returns. Example: ``step = gpugrad.compile(fn)``,
    then ``loss = step(x, y)`` per batch (outputs are new tensors with no graph).
    """
    if step_fn is None:
        return compile
    if not callable(step_fn):
        raise TypeError(f"gpugrad.compile takes a function, got {type(step_fn).__name__}")
    return CompiledStep(step_fn)


class CompiledStep:
    """A step function recorded per input signature; call it like the function.
    ``records`` counts recordings, ``replays`` the calls served by replaying one;
    ``program(*inputs)`` is the recorded program for those inputs' signature (or None)."""

    def __init__(self, step_fn):
        self.step_fn = step_fn
        functools.update_wrapper(self, step_fn, updated=())     # (a module's state stays
                                                                # the module's)
        if not hasattr(self, "__name__"):       # a module or other callable object
            self.__name__ = type(step_fn).__name__
        self._programs: dict = {}
        self._last = None           # the program the latest call ran (checked first)
        self._graph = None          # CUDA inputs: the step's CapturedStep
        self.records = 0
        self.replays = 0
        self._changes = 0           # recordings that are not a new parameter's first
        self._shapes_seen: set = set()      # keys with their parameters' identities left out
        self._watched: set = set()          # (identity, key) pairs with a finalizer

    def reset(self) -> None:
        """Forget every recording (after changing Python state the step reads, such as a
        module's train()/eval() mode); the next call records again."""
        self._programs.clear()
        self._last = None
        self._graph = None

    def program(self, *inputs):
        """The program recorded for the signature of ``inputs`` (its ``source`` is the
        generated Python), or None."""
        return self._programs.get(_signature(_as_tensors(inputs)))

    def __call__(self, *inputs):
        if _compile_state.recorder is not None:     # a replay unseen by the outer recording
            raise CompileError(f"gpugrad.compile: {self.__name__}, a compiled step, was "
                               f"called while another step was being recorded; compile "
                               f"the outer step only")
        last = self._last           # the last call's program: its signature, checked whole
        if last is not None and not _dual_state.levels and last.matches(inputs):
            self.replays += 1
            return last.run(inputs)
        inputs = _as_tensors(inputs)            # a TypeError for what is not a tensor
        _refuse_graphs_in(inputs, self.__name__)
        if _dual_state.levels or any(t._tangents for t in inputs):
            raise CompileError("gpugrad.compile: a compiled step carries no forward-mode "
                               "tangents (a dual level is open, or an input has one); "
                               "call the step eagerly, or open the dual level inside it")
        if _on_a_gpu(inputs):
            return self._on_device(inputs)
        key = _signature(inputs)
        program = self._programs.get(key)
        if program is not None and program.matches(inputs):
            self._last = program
            self.replays += 1
            return program.run(inputs)
        return self._record(key, inputs)

    def _record(self, key, inputs):
        recorder = Recorder(inputs)
        with capture_rules(recording=False), recording_into(recorder):
            outputs = self.step_fn(*inputs)
        program = recorder.finish(outputs)
        shape_part = tuple(None if isinstance(k, _Identity) else k for k in key)
        if key in self._programs or shape_part not in self._shapes_seen:
            self._changes += 1              # (a known signature's new parameter: no change)
        self._shapes_seen.add(shape_part)
        self._programs[key] = self._last = program
        for part in key:                    # a parameter's program goes when it dies
            if isinstance(part, _Identity) and (part, key) not in self._watched:
                self._watched.add((part, key))
                weakref.finalize(part.tensor(), _forget, weakref.ref(self), key, part)
        self.records += 1
        if self._changes == RECORD_WARNING_AT:
            warnings.warn(f"gpugrad.compile: {self.__name__} has been recorded "
                          f"{self.records} times; something in its signature keeps changing "
                          f"between calls: input shapes, dtypes or requires_grad, a "
                          f"parameter's array, a module's parameters, buffers or tensor "
                          f"attributes replaced, hooks added or removed, or whether a "
                          f"gradient made outside the step is "
                          f"there (docs/compile.md, 'When it records again'). Each "
                          f"recording runs the step eagerly with extra bookkeeping.",
                          RuntimeWarning, stacklevel=3)
        return pytree.tree_map(_detached, outputs)

    def _on_device(self, inputs):
        """CUDA inputs: the step as a CUDA graph (``graphs.CapturedStep``), captured again
        for a new shape, dtype, device, requires_grad or mode (``_device_signature``), and
        when modules changed or what the graph reads was replaced (its checks before each
        replay); its outputs copied out of the graph's static buffers (the next replay
        overwrites those)."""
        if self._graph is None:
            self._graph = graphs.CapturedStep(self.step_fn, 1, signature=_device_signature,
                                              guard_structure=True, name="gpugrad.compile",
                                              stacklevel=6)
        captures, replays = self._graph.captures, self._graph.replays
        outputs = self._graph(*inputs)
        self.records += self._graph.captures - captures
        self.replays += self._graph.replays - replays
        return pytree.tree_map(_copied, outputs)


def _on_a_gpu(inputs) -> bool:
    return bool(inputs) and inputs[0]._array.__class__ is not np.ndarray


def _device_signature(inputs) -> tuple:
    """What a CUDA graph was captured for beyond its inputs' shapes, dtypes, devices,
    requires_grad and shared arrays: grad mode, anomaly mode, autocast and the saved-tensor
    hooks (as ``_signature`` has them for the CPU's programs)."""
    return (_grad_mode.grad_enabled, _grad_mode.anomaly_enabled, _autocast.active,
            tuple(_saved_hooks.stack))


def _refuse_graphs_in(inputs, name: str) -> None:
    """Refuse inputs a replay could not treat as plain values: one that carries a graph
    built outside the step (a backward in the step would walk into it, and the program
    would keep that graph's saved values), or a grad transform's stand-in (a replay's
    outputs carry no graph to differentiate)."""
    graphs.refuse_outside_graphs(inputs, lambda i: f"gpugrad.compile: input {i} of {name}",
                                 CompileError, "compile")
    for i, t in enumerate(inputs):
        if id(t) in differentiating.handles:
            raise CompileError(f"gpugrad.compile: input {i} of {name} is an argument "
                               f"gpugrad.func.grad/vjp/jacrev differentiates; a replay's "
                               f"outputs carry no graph: compile the transformed function "
                               f"instead (gpugrad.compile(gpugrad.func.grad(f)))")


class _Identity:
    """A parameter or buffer input's part of a program's key: equal only for that tensor
    (held weakly, so the key keeps nothing alive)."""

    __slots__ = ("tensor", "id")

    def __init__(self, tensor):
        self.tensor, self.id = weakref.ref(tensor), id(tensor)

    def __eq__(self, other):
        return isinstance(other, _Identity) and self.id == other.id and \
            self.tensor() is other.tensor() is not None

    def __hash__(self):
        return self.id


def _forget(step_ref, key, part) -> None:
    """Drop the program recorded for a parameter (or buffer) input that has died."""
    step = step_ref()
    if step is not None:
        step._watched.discard((part, key))
        program = step._programs.pop(key, None)
        if program is not None and step._last is program:
            step._last = None


def _as_tensors(inputs) -> tuple:
    return graphs._as_tensors(inputs, "compiled steps")


def _signature(inputs) -> tuple:
    """Grad mode, anomaly mode, autocast, the saved-tensor hooks in force, and per input
    its shape, dtype and requires_grad (and, for a parameter or buffer, which one: a program
    per parameter, as an EMA update over pairs of them takes); where inputs share an array
    (one tensor passed twice, a tensor and its ``detach()``), which earlier input each
    shares it with (it is recorded as one)."""
    key = [_grad_mode.grad_enabled, _grad_mode.anomaly_enabled, _autocast.active,
           tuple(_saved_hooks.stack)]
    for t in inputs:
        array = t._array
        key += (array.shape, array.dtype, t._requires_grad,
                _Identity(t) if is_module_state(t) else None)
    if len(inputs) > 1:
        ids = [id(t._array) for t in inputs]
        if len(set(ids)) < len(ids):
            first: dict = {}
            key.append(tuple(first.setdefault(a, i) for i, a in enumerate(ids)))
    return tuple(key)


def _detached(value):
    return value.detach() if isinstance(value, Tensor) else value


def _copied(value):
    return value.detach().clone() if isinstance(value, Tensor) else value
