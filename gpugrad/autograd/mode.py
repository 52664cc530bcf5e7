"""Grad mode and anomaly mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``, ``detect_anomaly``.

Each is a context manager and a function decorator, and each is thread-local, as in PyTorch.
The same thread-local state holds the active ``vmap`` levels (``autograd/batched.py``), which
ops and random draws read.

Example::

    >>> x = gpugrad.ones(2, requires_grad=True)
    >>> with gpugrad.no_grad():
    ...     y = x * 2          # nothing is recorded
    >>> y.requires_grad, (x * 2).requires_grad
    (False, True)
"""

from __future__ import annotations

import functools
import inspect
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled",
           "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


class _State(threading.local):
    grad_enabled = True
    inference = False
    anomaly_enabled = False     # anomaly mode's checks (and traces) on: False with check_nan=False
    anomaly_mode = False        # anomaly mode on, checks or not: is_anomaly_enabled()
    vmap_levels = ()        # the active vmap levels, outermost first (autograd/batched.py)


_state = _State()
_inference_open = [0]       # inference_mode(True) blocks open in all threads: while 0, new
_inference_lock = threading.Lock()      # tensors skip the thread's check (tensor.py, _wrap)
_inference_made = [0]       # once an inference tensor was made, its version counter's class:
                            # saved_tensor.py refuses saving one (a class check, no call)


def is_grad_enabled() -> bool:
    """True when new ops are recorded for backward."""
    return _state.grad_enabled


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` (also with ``check_nan=False``, as PyTorch's)."""
    return _state.anomaly_mode


def is_anomaly_check_nan_enabled() -> bool:
    """True inside ``detect_anomaly()`` unless ``check_nan=False`` turned the checks off."""
    return _state.anomaly_enabled


def _set_anomaly(flags: tuple) -> None:
    _state.anomaly_mode, _state.anomaly_enabled = flags


class _ModeContext:
    """A context manager that is also a decorator (a fresh context per decorated call; a
    decorated generator runs each of its steps inside the mode, as in PyTorch)."""

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args):
                return fn(*args, **kwargs)
        return wrapper

    def _wrap_generator(self, fn):
        @functools.wraps(fn)
        def generator(*args, **kwargs):
            steps = fn(*args, **kwargs)
            send, value = steps.send, None
            while True:
                try:
                    with self.__class__(*self._args):
                        result = send(value)
                except StopIteration as stop:
                    return stop.value
                try:
                    send, value = steps.send, (yield result)
                except GeneratorExit:
                    steps.close()
                    raise
                except BaseException as exc:     # thrown in: hand it to fn, in the mode
                    send, value = steps.throw, exc
        return generator

    _args: tuple = ()


class set_grad_enabled(_ModeContext):
    """Turn recording on or off: as a call, a context manager or a decorator.

    Example::

        >>> x = gpugrad.ones(2, requires_grad=True)
        >>> with gpugrad.set_grad_enabled(False):
        ...     y = x * 2
        >>> y.requires_grad, gpugrad.is_grad_enabled()
        (False, True)
        >>> _ = gpugrad.set_grad_enabled(False)      # a plain call: off from here on
        >>> gpugrad.is_grad_enabled()
        False
        >>> _ = gpugrad.set_grad_enabled(True)
    """

    def __init__(self, mode: bool):
        self._args = (bool(mode),)
        self._previous = _state.grad_enabled
        _state.grad_enabled = bool(mode)   # a plain call takes effect at once, as in PyTorch

    def __call__(self, fn):
        _state.grad_enabled = self._previous   # used as a decorator: only calls change the mode
        return super().__call__(fn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.grad_enabled = self._previous
        return False


class _BareDecorator(_ModeContext):
    """A mode that is also a decorator used bare (``@no_grad`` as ``@no_grad()``): a first
    argument that is a function is decorated with the mode's default."""

    def __new__(cls, *args, **kwargs):
        if args and callable(args[0]):
            return cls()(args[0])
        return super().__new__(cls)


class no_grad(_BareDecorator):
    """Record nothing inside: results do not require grad. Context manager or decorator
    (``@no_grad()`` or ``@no_grad``).

    Example::

        >>> w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        >>> (w * w).sum().backward()          # w.grad = 2w = [2, 4]
        >>> with gpugrad.no_grad():
        ...     w -= 0.25 * w.grad            # an SGD step, not recorded
        >>> w
        tensor([0.5, 1. ], device='cpu', dtype=float32, requires_grad=True)
    """

    _value = False

    def __init__(self, fn=None):
        pass

    def __enter__(self):
        self._previous = _state.grad_enabled
        _state.grad_enabled = self._value
        return self

    def __exit__(self, *exc):
        _state.grad_enabled = self._previous
        return False


class enable_grad(no_grad):
    """Record ops again inside a ``no_grad`` block. Context manager or decorator.

    Example::

        >>> x = gpugrad.ones(2, requires_grad=True)
        >>> with gpugrad.no_grad(), gpugrad.enable_grad():
        ...     y = x * 2
        >>> y.requires_grad
        True
    """

    _value = True


class inference_mode(_BareDecorator):
    """PyTorch's ``inference_mode``: record nothing inside, as ``no_grad``, and the tensors
    made inside are inference tensors (``t.is_inference()``), as PyTorch's: outside the
    mode they cannot be saved for backward by a recorded op, get ``requires_grad_(True)``,
    or be written in place (clone one to get a normal tensor). As in PyTorch,
    ``inference_mode(False)`` records again, also inside ``no_grad``. (Unlike PyTorch's,
    ``enable_grad()`` inside records again too, and makes normal tensors.) Context manager
    or decorator (``@inference_mode()`` or bare).

    Example::

        >>> w = gpugrad.ones(2, requires_grad=True)
        >>> with gpugrad.inference_mode():
        ...     y = w * 2
        >>> y.requires_grad, y.is_inference(), gpugrad.is_inference_mode_enabled()
        (False, True, False)
    """

    def __init__(self, mode: bool = True):
        self._args = (bool(mode),)

    def __enter__(self):
        on = self._args[0]
        self._previous = (_state.grad_enabled, _state.inference)
        _state.grad_enabled, _state.inference = not on, on
        if on:
            with _inference_lock:
                _inference_open[0] += 1
        return self

    def __exit__(self, *exc):
        _state.grad_enabled, _state.inference = self._previous
        if self._args[0]:
            with _inference_lock:
                _inference_open[0] -= 1
        return False


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``."""
    return _state.inference


class detect_anomaly(_ModeContext):
    """Inside, a backward rule that produces NaN or Inf raises ``AnomalyError`` naming the op
    and showing where in your forward code the op was created. Slow: for debugging only.

    Example::

        >>> x = gpugrad.tensor([0.0], requires_grad=True)
        >>> with gpugrad.detect_anomaly():      # d sqrt(x)/dx = 1 / (2 sqrt(x)): inf at 0
        ...     gpugrad.sqrt(x).sum().backward()
        Traceback (most recent call last):
        gpugrad.autograd.rule_results.AnomalyError: detect_anomaly: SqrtBackward returned NaN
        or Inf in its gradient for input 0 ...
    """

    def __init__(self, check_nan: bool = True):
        self._args = (check_nan,)
        self._check = bool(check_nan)

    def __enter__(self):
        self._previous = (_state.anomaly_mode, _state.anomaly_enabled)
        _set_anomaly((True, self._check))
        return self

    def __exit__(self, *exc):
        _set_anomaly(self._previous)
        return False


class set_detect_anomaly(_ModeContext):
    """Turn anomaly detection (see ``detect_anomaly``) on or off: as a plain call, from
    there on, or as a context manager or decorator, as PyTorch's. ``check_nan=False``
    turns the NaN checks off, which is all gpugrad's anomaly mode does
    (``is_anomaly_enabled()`` still says True, as PyTorch's).

    Example::

        >>> _ = gpugrad.autograd.set_detect_anomaly(True)      # a plain call: on from here
        >>> gpugrad.autograd.is_anomaly_enabled()
        True
        >>> with gpugrad.autograd.set_detect_anomaly(False):
        ...     gpugrad.autograd.is_anomaly_enabled()
        False
        >>> _ = gpugrad.autograd.set_detect_anomaly(False)
    """

    def __init__(self, mode: bool, check_nan: bool = True):
        self._args = (mode, check_nan)
        self._previous = (_state.anomaly_mode, _state.anomaly_enabled)
        _set_anomaly((bool(mode), bool(mode) and bool(check_nan)))     # at once, as PyTorch's

    def __call__(self, fn):
        _set_anomaly(self._previous)        # a decorator: only its calls change it
        return super().__call__(fn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set_anomaly(self._previous)
        return False
