"""Compile mode: while ``gpugrad.compile`` records a step, every array computation the step
makes is written down, so that later calls can replay it without building a graph.

A mode like ``no_grad``: thread-local state that the ops, the engine's gradient store, the
optimizers and ``zero_grad`` read, and that ``gpugrad/compiled.py`` (above the optimizers)
switches. What is written down goes to a *recorder* the callers know only by these methods
and one counter (``gpugrad/step_program.py``'s ``Recorder``):

- ``kernel(fn, args, kwargs, result, scalar)``: ``result = fn(*args, **kwargs)`` ran on raw
  arrays (an op's ``forward``, a fused reverse rule; ``scalar``: a NumPy scalar it gave was
  made the 0-d array ``result``); a replay calls ``fn`` again on the replay's arrays;
- ``effect(fn, args, result, sets_grads)``: ``fn(*args)`` changed Python-side state (stored
  a gradient, stepped an optimizer, reset gradients); a replay runs it again, live, as eager
  code would; an array it returns (the gradient it stored) is what later kernels read in its
  place; ``sets_grads``: the ``.grad`` of the tensors it was given is the program's from then;
- ``reads(tensors)``: a kernel reads these tensors' arrays (a replay checks they still
  hold them, and that the module attributes holding them still do);
- ``grad_read(tensor)``: the step reads ``tensor.grad`` (``Tensor.grad``, the optimizers);
  one the call found, made outside the step, is read at the replay;
- ``updates(param)``: an optimizer updates ``param`` in place (refused if an input shares
  its memory);
- ``structure_changes``: how many ``structure_changed()`` calls the recording step made
  (its own changes are part of it; anyone else's make it record again).

Example::

    >>> from gpugrad.autograd import compile_mode
    >>> compile_mode.is_compiling()
    False
    >>> compile_mode.kernel(max, 2, 3)          # outside a recording: just the call
    3
"""

from __future__ import annotations

import contextlib
import functools
import threading

import numpy as np

__all__ = ["CompileError", "is_compiling", "recording_into", "kernel", "written", "recorded",
           "effect", "note_reads", "refuse_in_compile", "structure_changed"]


class CompileError(RuntimeError):
    """Something in a step cannot be compiled (see the message)."""


CompileError.__module__ = "gpugrad"             # its public name, shown in tracebacks


class _State(threading.local):
    recorder = None         # the recorder of the step being compiled on this thread, or None


_state = _State()


class _Structure:
    """Counts changes to what a recorded step reads through Python attributes and lists,
    which no array guard sees: a module's parameters, buffers and submodules set or
    deleted (``nn/attributes.py``), hooks on leaves and modules added or removed. One count for
    the process: such a change anywhere makes every compiled step record again once
    (building a module between calls too); a change the step makes while it is recorded (a
    hook it adds and removes) is part of its recording, unless another thread changed
    something meanwhile."""

    epoch = 0


structure = _Structure()


def structure_changed() -> None:
    """Something a recorded step may have read by attribute changed (see ``_Structure``):
    steps ``gpugrad.compile`` recorded before it record again at their next call."""
    with _structure_lock:
        structure.epoch += 1
    if _state.recorder is not None:         # the recording step's own change
        _state.recorder.structure_changes += 1


_structure_lock = threading.Lock()


def is_compiling() -> bool:
    """Whether a step is being recorded by ``gpugrad.compile`` on this thread right now."""
    return _state.recorder is not None


@contextlib.contextmanager
def recording_into(recorder):
    """Write what runs in the block down into ``recorder``."""
    _state.recorder = recorder
    try:
        yield recorder
    finally:
        _state.recorder = None


def kernel(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, a computation on raw arrays, written down when compiling.
    Call sites that work on raw arrays outside an op's ``forward`` go through this (and
    name the tensors whose arrays they pass with ``note_reads``). While recording, a NumPy
    scalar result comes back as a 0-d array (an array the program can name)."""
    recorder = _state.recorder
    if recorder is None:
        return fn(*args, **kwargs)
    result = _unrecorded(recorder, fn, args, kwargs)
    scalar = result.__class__ is not np.ndarray and isinstance(result, np.generic)
    if scalar:
        result = np.asarray(result)
    recorder.kernel(fn, args, kwargs, result, scalar)
    return result


def written(fn, versions, *args):
    """``fn(*args)``, a write into tensors' arrays in place, then +1 on each of ``versions``
    (their version counters): one recorded line, so that a replay counts its writes as the
    eager write did (a graph built outside the step then notices them)."""
    return kernel(_counted, fn, versions, *args)


def _counted(fn, versions, *args):
    result = fn(*args)
    for version in versions:
        version.value += 1
    return result


def recorded(fn):
    """``fn`` itself, or while a step is being recorded, ``fn`` with each call written down
    as ``kernel`` writes it: ``recorded(np.zeros)(3)`` costs one check outside a recording
    (for call sites as hot as ``gpugrad.tensor``)."""
    return fn if _state.recorder is None else functools.partial(kernel, fn)


def effect(fn, *args, sets_grads: bool = True):
    """Run ``fn(*args)`` (Python-side state changes), written down when compiling so that a
    replay runs it again live; returns what ``fn`` returns. ``sets_grads``: whether the
    tensors it is given (directly or in a list) have a ``.grad`` set by it, or None, from
    now on whatever it was when the call began (False: it changes no ``.grad``, or keeps
    which ones are None, as zeroing in place does)."""
    recorder = _state.recorder
    if recorder is None:
        return fn(*args)
    result = _unrecorded(recorder, fn, args, {})
    recorder.effect(fn, args, result, sets_grads)
    return result


def _unrecorded(recorder, fn, args, kwargs):
    """``fn``'s result, with nothing it does inside written down (its line replays all)."""
    _state.recorder = None
    try:
        return fn(*args, **kwargs)
    finally:
        _state.recorder = recorder


def note_reads(*tensors) -> None:
    """While recording: a kernel about to run reads these tensors' arrays, so a replay is
    valid only while they still hold them (tensors made by the step need no such guard)."""
    recorder = _state.recorder
    if recorder is not None:
        recorder.reads(tensors)


def refuse_in_compile(what: str, instead: str) -> None:
    """Raise CompileError naming ``what`` cannot be compiled and what to do ``instead``."""
    if _state.recorder is not None:
        raise CompileError(f"gpugrad.compile: {what} inside a compiled step cannot be "
                           f"replayed; {instead}")
