"""Grad mode and anomaly mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``detect_anomaly``.

Each is a context manager and a function decorator, and each is thread-local, as in PyTorch.
The same thread-local state holds the active ``vmap`` levels (``autograd/batched.py``), which
ops and random draws read.

Example::

    >>> with no_grad():
    ...     y = x * 2          # nothing is recorded: y.requires_grad is False
"""

from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "detect_anomaly", "is_anomaly_enabled"]


class _State(threading.local):
    grad_enabled = True
    anomaly_enabled = False
    vmap_levels = ()        # the active vmap levels, outermost first (autograd/batched.py)


_state = _State()


def is_grad_enabled() -> bool:
    """True when new ops are recorded for backward."""
    return _state.grad_enabled


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return _state.anomaly_enabled


class _ModeContext:
    """A context manager that is also a decorator (a fresh context per decorated call)."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args):
                return fn(*args, **kwargs)
        return wrapper

    _args: tuple = ()


class set_grad_enabled(_ModeContext):
    """Turn recording on or off: as a call, a context manager or a decorator.

    Example::

        >>> with set_grad_enabled(False):
        ...     y = x * 2
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


class no_grad(_ModeContext):
    """Record nothing inside: results do not require grad. Context manager or decorator
    (``@no_grad()`` or ``@no_grad``).

    Example::

        >>> with no_grad():
        ...     w -= 0.1 * w.grad
    """

    _value = False

    def __new__(cls, fn=None):
        if callable(fn):                 # used bare, as @no_grad
            return cls()(fn)
        return super().__new__(cls)

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
    """Record ops again inside a ``no_grad`` block. Context manager or decorator."""

    _value = True


class detect_anomaly(_ModeContext):
    """Inside, a backward rule that produces NaN or Inf raises ``AnomalyError`` naming the op
    and showing where in your forward code the op was created. Slow: for debugging only.

    Example::

        >>> with detect_anomaly():
        ...     loss = model(x).sum()
        ...     loss.backward()
    """

    def __init__(self, check_nan: bool = True):
        self._args = (check_nan,)
        self._check = bool(check_nan)

    def __enter__(self):
        self._previous = _state.anomaly_enabled
        _state.anomaly_enabled = self._check
        return self

    def __exit__(self, *exc):
        _state.anomaly_enabled = self._previous
        return False
