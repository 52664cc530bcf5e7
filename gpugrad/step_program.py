"""A recorded step as a flat program: what ``gpugrad.compile`` replays on the CPU.

While a step runs under ``compile_mode.recording_into(Recorder(inputs))``, the recorder
writes one line of Python per array computation (an op's ``forward``, a fused reverse rule)
and per Python-side effect (a gradient stored, an optimizer step), naming each array the step
makes ``v0``, ``v1``... Arrays that existed before the step (parameters, optimizer state,
constants) are bound by reference, so in-place updates to them are seen by every replay.
``finish(outputs)`` turns the lines into one Python function, with a ``del`` after each
array's last use so that a replay holds no more memory than the eager step did.

Example::

    >>> from gpugrad.autograd import compile_mode
    >>> from gpugrad.step_program import Recorder
    >>> x = gpugrad.tensor([1.0, 2.0])
    >>> recorder = Recorder([x])
    >>> with compile_mode.recording_into(recorder):
    ...     y = (x * 3).exp()
    >>> program = recorder.finish(y)
    >>> print(program.source)                               # doctest: +NORMALIZE_WHITESPACE
    def replay(t0):
        v0 = t0._array
        v1 = MulScalar_forward(np, v0, c=3)
        del v0
        v2 = Exp_forward(np, v1)
        del v1
        return (_wrap(v2),)
    >>> program.run([gpugrad.tensor([0.0, 1.0])])          # no graph is built
    tensor([ 1.      , 20.085537], device='cpu', dtype=float32)
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from . import pytree
from .autograd.compile_mode import CompileError, structure
from .nn.attributes import holders_of
from .step_signature import Signature, matcher
from .tensor import Tensor, VersionCounter

__all__ = ["Recorder", "StepProgram"]

_LITERALS = (bool, int, str, type(None))


class Recorder:
    """Writes down a step as it runs; ``inputs`` are the step's tensors (``t0``, ``t1``...)."""

    def __init__(self, inputs):
        self.lines: list = []           # (text, slots it reads, slots it writes)
        self.names: dict = {"np": np, "_wrap": Tensor._wrap, "_as0d": np.asarray}
        self._const_names: dict = {}    # id(object) -> its name in ``names``
        self._slot_of: dict = {}        # id(array) -> (slot number, a weak reference to
                                        # the array: an id alone may be a dead array's)
        self._slots = 0
        self.inputs: dict = {}          # id(tensor) -> its first position among the inputs
        for i, t in enumerate(inputs):
            self.inputs.setdefault(id(t), i)
        self.guards: dict = {}          # id(tensor) -> (tensor, its array, requires_grad)
        self.checks: list = []          # (read, value): read() must still give value
        self.attribute_guards: list = []    # (module, name, tensor): module.name is tensor
        self.structure_changes = 0      # compile_mode.structure_changed() calls it made
        self.grad_guards: list = []     # (owner, layout, source): owner's .grad as the call
                                        # found it (source: the input or gradient it shares)
        self._grads_seen: set = set()   # id(tensor): its .grad read or written by the step
        self._sources: dict = {}        # slot -> ("input", i) or ("grad", owner): what holds
                                        # that array when the call begins
        self._versions: dict = {}       # id(counter) -> (counter, how the program names it)
        self.signature = Signature(inputs)     # as the step is called, before it runs
        self._required_here: set = set()     # id(tensor): requires_grad_() by the step
        for i, t in enumerate(inputs):
            if self.signature.aliases[i] == i:  # (one array passed twice: read once)
                self._sources[self._slots] = ("input", i)
                self._bind(t._array, f"t{i}._array", ())
            counter = t._version_counter
            self._versions.setdefault(id(counter), (counter, f"t{i}._version_counter"))
        self._input_slots = self._slots         # slots below this hold the inputs' arrays

    # ------------------------------------------------------------------ recording
    def op(self, forward, xp, arrays, params, out, inputs, scalar_result: bool,
           returns_aux: bool = False, aux=None) -> None:
        """An op's ``forward(xp, *arrays, **params)`` gave ``out`` (a NumPy scalar turned
        into the 0-d array ``out`` when ``scalar_result``); ``inputs`` are its tensors.
        ``returns_aux``: it gave ``(out, aux)`` (``aux`` an array or None)."""
        if xp is not np:
            raise _device_error()
        self.reads(inputs)
        call, reads = self._call(forward, (xp, *arrays), params)
        if not returns_aux:
            self._bind_result(out, f"_as0d({call})" if scalar_result else call, reads, arrays)
            return
        target = self._new_slot(out)
        kept = self._new_slot(aux) if aux is not None else "_"
        self.lines.append((f"{target}, {kept} = {call}", reads,
                           (target,) if aux is None else (target, kept)))
        if scalar_result:
            self.lines.append((f"{target} = _as0d({target})", (target,), (target,)))

    def reads(self, tensors) -> None:
        """``tensors`` (other values are skipped) are read by reference: those that existed
        before the step (not made by it, not inputs) are guarded to keep their array and
        requires_grad."""
        for t in tensors:
            if not isinstance(t, Tensor) or id(t) in self.inputs:
                continue
            slot = self._slot(t._array)
            if slot is None:
                if id(t) not in self.guards:
                    self.guards[id(t)] = (t, t._array, t._requires_grad)
                    for holder in holders_of(t):    # module attributes: must still hold t
                        self.attribute_guards.append((*holder, t))
            elif slot < self._input_slots and t._requires_grad and t.grad_fn is None and \
                    id(t) not in self._required_here:
                raise self._shared_with_input(slot, t, "a leaf that requires grad")

    def _shared_with_input(self, slot: int, t, what: str) -> CompileError:
        """The error for ``t``, a tensor from before the step, that holds the array of the
        input in ``slot`` (``step(w.detach())``): the program would take one for the other."""
        aliases = self.signature.aliases
        i = [j for j in range(len(aliases)) if aliases[j] == j][slot]
        return CompileError(
            f"gpugrad.compile: input {i} shares its memory with {what} the step reads (shape "
            f"{tuple(t.shape)}), so the recorded program cannot tell them apart; pass a copy "
            f"(w.detach().clone()) or the tensor itself")

    def updates(self, param) -> None:
        """An optimizer updates ``param`` in place. Refused when an input holds its array
        (``step(w.detach())``): the program would take the one for the other."""
        slot = self._slot(param._array)
        if slot is not None and slot < self._input_slots and id(param) not in self.inputs:
            raise self._shared_with_input(slot, param, "a parameter the optimizer updates")

    def guard(self, read, value) -> None:
        """The program is valid only while ``read()`` returns ``value`` (an optimizer's
        layout, say); checked before every replay, once however often it is noted."""
        if (read, value) not in self.checks:
            self.checks.append((read, value))

    def kernel(self, fn, args, kwargs, result, scalar: bool = False) -> None:
        """``result = fn(*args, **kwargs)`` on raw arrays (``compile_mode.kernel``; with
        ``scalar``, ``fn`` gave a NumPy scalar that became the 0-d array ``result``)."""
        call, reads = self._call(fn, args, kwargs)
        self._bind_result(result, f"_as0d({call})" if scalar else call, reads,
                          (*args, *kwargs.values()))

    def effect(self, fn, args, result, sets_grads: bool = True) -> None:
        """``fn(*args)`` ran (``compile_mode.effect``) and gave ``result``: an array it
        returns is what later lines read in place of the one recorded. With ``sets_grads``,
        the ``.grad`` of each tensor it was given is the program's from here on."""
        call, reads = self._call(fn, args, {})
        self._bind_result(result, call, reads)
        if fn is setattr and args[1] == "_requires_grad":
            self._required_here.add(id(args[0]))
        if not sets_grads:
            return
        for arg in args:
            for t in (arg if isinstance(arg, (list, tuple)) else (arg,)):
                if isinstance(t, Tensor):
                    self._grads_seen.add(id(t))

    def grad_read(self, tensor) -> None:
        """The step reads ``tensor.grad`` (its value, an optimizer, clipping). If no line has
        written it yet, it is the gradient the call found, made outside the step: the
        program reads it there (``c3._grad._array``), valid while it is None or of the same
        array type, shape and dtype as now (``grad_guards``, checked before each replay)."""
        if id(tensor) in self._grads_seen:
            return
        self._grads_seen.add(id(tensor))
        owner = self.inputs.get(id(tensor))
        if owner is None and self._slot(tensor._array) is not None:
            return                              # made by the step: its .grad is too
        owner = tensor if owner is None else owner      # a tensor, or an input's position
        grad = tensor._grad
        if grad is None:
            self.grad_guards.append((owner, None, None))
            return
        array = grad._array
        layout = (array.__class__, array.shape, array.dtype)
        slot = self._slot(array)
        if slot is not None:                    # an input's, or another's gradient found
            self.grad_guards.append((owner, layout, self._sources.get(slot)))
            return
        self.grad_guards.append((owner, layout, None))
        name = f"t{owner}" if isinstance(owner, int) else self._const(tensor, "c")
        self._sources[self._slots] = ("grad", owner)
        self._bind(array, f"{name}._grad._array", ())
        counter = grad._version_counter
        self._versions[id(counter)] = (counter, f"{name}._grad._version_counter")

    def _bind_result(self, result, call: str, reads: tuple, args=()) -> None:
        """Give the arrays ``call`` returned slots; ``args``: what it was called with (an
        array from before the step that it returns as is stays a constant, so the tensors
        over it are still seen as the step's outside state)."""
        if isinstance(result, np.generic):      # a value no later line could be found by
            raise TypeError(f"gpugrad.compile: {call} returned a NumPy scalar; a recorded "
                            f"kernel must return arrays (wrap it with np.asarray)")
        if isinstance(result, np.ndarray):
            if self._slot(result) is None and any(a is result for a in args):
                self.lines.append((call, reads, ()))
            else:
                self._bind(result, call, reads)
        elif isinstance(result, dict) and any(isinstance(r, np.ndarray)
                                              for r in result.values()):
            raise TypeError(f"gpugrad.compile: {call} returned arrays in a dict; a recorded "
                            f"kernel returns an array or a tuple or list of them")
        elif isinstance(result, (tuple, list)) and any(isinstance(r, np.ndarray)
                                                       for r in result):
            targets = []
            for r in result:
                kept = isinstance(r, np.ndarray) and (self._slot(r) is not None
                                                      or not any(a is r for a in args))
                targets.append(self._new_slot(r) if kept else "_")
            self.lines.append((f"{', '.join(targets)}{',' if len(targets) == 1 else ''} = "
                               f"{call}", reads, tuple(t for t in targets if t != "_")))
        else:
            self.lines.append((call, reads, ()))

    def _bind(self, array, expression: str, reads: tuple) -> None:
        self.lines.append((f"{self._new_slot(array)} = {expression}", reads,
                           (f"v{self._slots - 1}",)))

    def _new_slot(self, array) -> str:
        self._slot_of[id(array)] = (self._slots, weakref.ref(array))
        self._slots += 1
        return f"v{self._slots - 1}"

    def _slot(self, array):
        """The slot the step's array ``array`` is in, or None (it existed before the step)."""
        entry = self._slot_of.get(id(array))
        return entry[0] if entry is not None and entry[1]() is array else None

    def _call(self, fn, args, kwargs) -> tuple:
        reads: list = []
        parts = [self._expr(a, reads) for a in args]
        parts += [f"{k}={self._expr(v, reads)}" for k, v in kwargs.items()]
        return f"{self._const(fn, 'f')}({', '.join(parts)})", tuple(reads)

    def _expr(self, value, reads: list) -> str:
        """How the program names ``value``: a slot, an input tensor, a literal or a constant
        bound by reference."""
        if isinstance(value, np.ndarray):
            slot = self._slot(value)
            if slot is not None:
                reads.append(f"v{slot}")
                return f"v{slot}"
            return self._const(value, "c")
        if isinstance(value, VersionCounter) and id(value) in self._versions:
            return self._versions[id(value)][1]     # a gradient's found at the replay
        if isinstance(value, Tensor):
            if id(value) in self.inputs:
                return f"t{self.inputs[id(value)]}"
            slot = self._slot(value._array)
            if slot is not None:                # a plain tensor over the replay's array
                reads.append(f"v{slot}")
                return f"_wrap(v{slot})"
            return self._const(value, "c")
        if value is np:
            return "np"
        if hasattr(value, "__cuda_array_interface__"):
            raise _device_error()
        if isinstance(value, _LITERALS) or (isinstance(value, float) and math.isfinite(value)):
            return repr(value)
        if isinstance(value, tuple) and all(isinstance(v, _LITERALS) for v in value):
            return repr(value)
        if isinstance(value, (tuple, list)):        # an index may hold arrays the step made
            for v in value:                 # an optimizer's parameter passed in: the program
                if isinstance(v, Tensor) and id(v) in self.inputs:      # is for that one
                    self.signature.same_objects[self.inputs[id(v)]] = v
            inner = ", ".join(self._expr(v, reads) for v in value)
            return f"({inner},)" if isinstance(value, tuple) else f"[{inner}]"
        return self._const(value, "c")

    def _output(self, leaf, reads: list) -> str:
        """How the program returns output ``leaf``: a tensor as a fresh tensor with no graph
        (as the recording's outputs are) over its array (one the step made, an input's or a
        constant tensor's), or a constant."""
        if not isinstance(leaf, Tensor):
            return self._expr(leaf, reads)
        slot = self._slot(leaf._array)
        if slot is None:
            return f"_wrap({self._expr(leaf, reads)}._array)"
        reads.append(f"v{slot}")
        return f"_wrap(v{slot})"

    def _const(self, value, prefix: str) -> str:
        """The global name bound to ``value``: a function by its qualified name (``Exp_forward``
        for ``Exp.forward``), anything else ``c0``, ``c1``..."""
        name = self._const_names.get(id(value))
        if name is None:
            if prefix == "f":
                base = "".join(ch if ch.isalnum() else "_" for ch in
                               getattr(value, "__qualname__", "f").replace(".<locals>", ""))
                name = base if base not in self.names else f"{base}_{len(self._const_names)}"
            else:
                name = f"c{len(self._const_names)}"
            self._const_names[id(value)] = name
            self.names[name] = value
        return name

    # ------------------------------------------------------------------ the program
    def finish(self, outputs) -> "StepProgram":
        """The program that replays what was recorded and returns ``outputs`` (a pytree of
        tensors and constants) made from the replay's arrays."""
        leaves, treedef = pytree.tree_flatten(outputs)
        reads: list = []
        results = [self._output(leaf, reads) for leaf in leaves]
        body = self.lines + [("return (" + ", ".join(results) + ("," if len(results) == 1
                                                                  else "") + ")",
                              tuple(reads), ())]
        last = {}
        for number, (_, used, _) in enumerate(body):
            for slot in used:
                last[slot] = number
        text = []
        for number, (line, used, written) in enumerate(body):
            text.append("    " + line)
            dead = [s for s in dict.fromkeys(used + written)
                    if last.get(s, number) <= number and number < len(body) - 1]
            if dead:
                text.append("    del " + ", ".join(dead))
        own = structure.epoch - self.signature.structure == self.structure_changes
        if own:                 # only this step's changes since it began: part of it
            self.signature.structure = structure.epoch      # (else: records again)
        inputs = ", ".join(f"t{i}" for i in range(len(self.signature.inputs)))
        source = f"def replay({inputs}):\n" + "\n".join(text)
        program = StepProgram(source, self.names, treedef, list(self.guards.values()),
                              list(self.checks), self.grad_guards, self.attribute_guards,
                              self.signature)
        self._slot_of.clear()
        self._versions.clear()
        return program


def _device_error() -> RuntimeError:
    return CompileError("gpugrad.compile: the step's inputs are on the CPU but it computes on "
                        "a GPU; a step is recorded for its inputs' device: move the inputs "
                        "to the model's device (x.to('cuda')) to replay it as a CUDA graph")


class StepProgram:
    """A recorded step: ``run(inputs)`` replays it, returning fresh tensors (no graph).
    ``source`` is the generated Python; ``matches(inputs)`` says whether a call may replay
    it: its signature, the tensors it reads by reference (``guards``: each with the array
    and requires_grad it had) and other state that must not change (``checks``)."""

    def __init__(self, source: str, names: dict, treedef, guards: list, checks: list,
                 grad_guards: list, attribute_guards: list, signature: Signature):
        self.source, self.treedef = source, treedef
        namespace = dict(names)
        exec(compile(source, "<gpugrad.compile step>", "exec"), namespace)   # noqa: S102
        self._replay = namespace["replay"]
        self.matches = matcher(signature, guards, checks, grad_guards, attribute_guards)

    def run(self, inputs):
        """Replay on ``inputs`` (tensors of the recorded signature); the outputs' pytree."""
        leaves = self._replay(*inputs)
        if self.treedef.kind is None:           # one output, returned as itself
            return leaves[0]
        return pytree.tree_unflatten(self.treedef, leaves)
