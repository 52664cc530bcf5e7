"""Capture mode: while a whole-step capture runs (``gpugrad.cuda.graph``), host reads and
random draws are refused.

A mode like ``no_grad``: thread-local state that the tensor, the random draws and the ops
read, and that ``gpugrad/graphs.py`` (the capture, above the optimizers) switches. Nothing
here knows CUDA or any optimizer: what an optimizer launched while a graph was recorded is
kept as opaque *replay participants* (objects with ``before_replay()``, ``after_replay()``,
``guard_terms(guard, set_in_step)`` and ``buffers``), which the capture checks before
every replay and calls around it; and which tensors' ``.grad`` the recorded step sets or
reads (``note_grads``: zeroing, storing, assigning, reading), with the ``.grad`` each held
when the step first touched it, so that a replay can check it finds them so and set them
as the step left them (a replay runs no Python).

Example::

    >>> from gpugrad.autograd import capture_mode
    >>> capture_mode.is_step_capturing()
    False
    >>> with capture_mode.capture_rules(recording=False):
    ...     gpugrad.ones(1).item()
    Traceback (most recent call last):
    gpugrad.cuda.CaptureError: Tensor.item() (and float(t), int(t), ...
"""

from __future__ import annotations

import contextlib
import threading

from ..cuda import sync_debug

__all__ = ["CaptureError", "NeedsEagerStep", "is_step_capturing", "is_graph_recording",
           "capture_rules",
           "note_replay_participant", "recorded_participants", "note_grads",
           "recorded_grads", "note_zeroed", "unreached_zeroed", "refuse_host_sync",
           "refuse_random_draw"]


class CaptureError(RuntimeError):
    """Something in a step cannot be captured into a CUDA graph (see the message)."""


CaptureError.__module__ = "gpugrad.cuda"        # its public name, shown in tracebacks


class NeedsEagerStep(CaptureError):
    """What the recording found differs from the eager step before it (an optimizer's
    buffers or state are new, or moved): an eager step first would make it capturable.
    Where the signature already had a graph that went stale, the capture runs the call
    eagerly and captures again at the next one, instead of raising this."""


NeedsEagerStep.__module__ = "gpugrad.cuda"


class _State(threading.local):
    active = False          # this thread runs a step under the capture rules (warm-up,
                            # capture, or on CPU every call)
    recording = False       # ... and a CUDA stream is recording it into a graph right now
    participants = None     # what must run around each replay of the graph being recorded
    grads = None            # while recording: id -> (leaf, its .grad when first touched)
    zeroed = None           # while recording: (leaf, .grad, version) zeroed for set_to_none


_state = _State()


def is_step_capturing() -> bool:
    """Whether a step runs under the capture rules right now (no host syncs, no random
    draws; the losses count on the device)."""
    return _state.active


def is_graph_recording() -> bool:
    """Whether a CUDA graph is being recorded right now (nothing runs: uploads and new
    buffers are impossible)."""
    return _state.recording


@contextlib.contextmanager
def capture_rules(recording: bool):
    """Run under the capture rules (and, with ``recording``, as a CUDA graph recording,
    which collects replay participants afresh)."""
    saved = (_state.active, _state.recording, _state.participants, _state.grads,
             _state.zeroed)
    _state.active, _state.recording = True, recording
    _state.participants = [] if recording else saved[2]
    _state.grads = {} if recording else saved[3]
    _state.zeroed = [] if recording else saved[4]
    try:
        yield
    finally:
        (_state.active, _state.recording, _state.participants, _state.grads,
         _state.zeroed) = saved


def note_replay_participant(participant) -> None:
    """Remember, for the graph being recorded, something that must run around each replay
    (``participant.before_replay()`` and ``after_replay()``; ``participant.buffers`` are the
    device arrays the graph reads, kept alive with it). Nothing happens when not recording."""
    if _state.recording:
        _state.participants.append(participant)


def recorded_participants() -> list:
    """The replay participants noted since the current recording began."""
    return list(_state.participants or ())


def note_grads(tensors) -> None:
    """While a graph records: the step is about to set, reset or read the ``.grad`` of
    ``tensors``; remember the ``.grad`` each held when the step first touched it. Nothing
    happens when not recording."""
    grads = _state.grads
    if grads is not None:
        for t in tensors:
            if id(t) not in grads:
                grads[id(t)] = (t, t._grad)


def note_zeroed(tensor) -> None:
    """While a graph records: ``optimizer.zero_grad()`` zeroed ``tensor.grad`` in place where
    eager code would set it to None (``unreached_zeroed`` later names those the step's
    backward then left alone)."""
    if _state.zeroed is not None:
        grad = tensor._grad
        _state.zeroed.append((tensor, grad, grad._version_counter.value))


def unreached_zeroed() -> list:
    """The tensors ``note_zeroed`` named whose ``.grad`` nothing has written since: an eager
    step would leave them None (and its optimizer skip them)."""
    return [t for t, grad, version in _state.zeroed or ()
            if t._grad is grad and grad._version_counter.value == version]


def recorded_grads() -> list:
    """``(tensor, its .grad when the step first touched it)`` for each tensor whose
    ``.grad`` the step being recorded set or read (leaves, retained non-leaves, inputs), in
    the order they were first touched."""
    return list((_state.grads or {}).values())


def refuse_host_sync(what: str) -> None:
    """Raise CaptureError when ``what`` (a host synchronisation) happens during a capture;
    otherwise report it to the sync debug mode (``gpugrad.cuda.set_sync_debug_mode``)."""
    if _state.active:
        raise CaptureError(
            f"{what} waits for the GPU and copies to the host, which cannot happen inside a "
            f"captured CUDA graph or a compiled step (a replay runs the recorded array work "
            f"only). Move it out of the step function: return the tensor and read it after "
            f"the call; a branch on a tensor's value cannot be captured at all (use "
            f"gpugrad.where).")
    sync_debug.report(what)


def refuse_random_draw() -> None:
    """Raise CaptureError when random numbers are drawn during a capture: gpugrad's
    generator is seeded from the host for every draw, so a replay would repeat them."""
    if _state.active:
        raise CaptureError(
            "random numbers (dropout masks, rand, randn) drawn inside a captured step would "
            "be the same at every replay: gpugrad seeds each draw on the host. Draw them "
            "outside the step and pass them in as inputs, or run this step eagerly.")
