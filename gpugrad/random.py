"""Random numbers: one seedable, counter-based stream for both backends.

The state is two integers, the seed and the number of draws made since seeding. Each draw
gets a fresh generator keyed by both (Philox on CPU and on CUDA), so saving and restoring the
state (as gradient checkpointing does to replay Dropout masks) replays draws exactly.
``new_generator`` makes those generators: NumPy's Philox on cpu, CuPy's (through cuRAND)
on cuda.

Example::

    >>> gpugrad.manual_seed(0)
    >>> a = gpugrad.randn(3)
    >>> gpugrad.manual_seed(0)
    >>> b = gpugrad.randn(3)
    >>> bool((a == b).all())          # the same seed replays the same draws
    True
"""

from __future__ import annotations

import numpy as np

from . import backend, cupy_import
from .autograd.capture_mode import refuse_random_draw

__all__ = ["manual_seed", "get_rng_state", "set_rng_state", "initial_seed"]

_DEFAULT_SEED = 67280421310721
_MASK64 = (1 << 64) - 1
_seed = _DEFAULT_SEED
_draws = 0


def manual_seed(seed: int) -> None:
    """Seed the generator used by ``rand``, ``randn`` and Dropout, on every device."""
    global _seed, _draws
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    _seed, _draws = seed & _MASK64, 0


def initial_seed() -> int:
    """The seed last given to ``manual_seed`` (a fixed default before any call).

    Example::

        >>> gpugrad.manual_seed(42)
        >>> gpugrad.initial_seed()
        42
    """
    return _seed


def get_rng_state() -> dict:
    """The generator state, ``{"seed": int, "draws": int}``; pass it to ``set_rng_state``.

    Example::

        >>> gpugrad.manual_seed(0)
        >>> _ = gpugrad.randn(3)
        >>> gpugrad.get_rng_state()
        {'seed': 0, 'draws': 1}
    """
    return {"seed": _seed, "draws": _draws}


def set_rng_state(state: dict) -> None:
    """Restore a state returned by ``get_rng_state``.

    Example::

        >>> state = gpugrad.get_rng_state()
        >>> a = gpugrad.randn(2)
        >>> gpugrad.set_rng_state(state)          # replay the draw
        >>> bool((gpugrad.randn(2) == a).all())
        True
    """
    global _seed, _draws
    try:
        seed, draws = int(state["seed"]), int(state["draws"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not an RNG state from get_rng_state(): {state!r}") from exc
    _seed, _draws = seed & _MASK64, draws


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _next_generator(device: backend.Device):
    global _draws
    refuse_random_draw()
    key = _splitmix64(_seed ^ _splitmix64(_draws))
    _draws += 1
    return new_generator(device, key)


def uniform_array(shape: tuple, dtype, device: backend.Device):
    """An array of ``shape`` with values uniform in [0, 1)."""
    return _next_generator(device).random(shape, dtype)


def normal_array(shape: tuple, dtype, device: backend.Device):
    """An array of ``shape`` with standard normal values."""
    return _next_generator(device).standard_normal(shape, dtype)


def integers_array(low: int, high: int, shape: tuple, dtype, device: backend.Device):
    """An array of ``shape`` with integers uniform in [low, high)."""
    return _next_generator(device).integers(low, high, size=shape, dtype=dtype)


# ---------------------------------------------------------------------------------------------
# Generators, one per draw
# ---------------------------------------------------------------------------------------------

class _CupyGenerator:
    """Adapts ``cupy.random.RandomState`` (Philox) to the NumPy Generator calls we use."""

    def __init__(self, cupy, seed: int):
        method = cupy.cuda.curand.CURAND_RNG_PSEUDO_PHILOX4_32_10
        self._state = cupy.random.RandomState(seed, method=method)

    def random(self, shape, dtype):
        return self._state.random_sample(shape, dtype=dtype)

    def standard_normal(self, shape, dtype):
        return self._state.standard_normal(shape, dtype=dtype)

    def integers(self, low, high, size, dtype):
        return self._state.randint(low, high, size=size, dtype=dtype)


def new_generator(device: backend.Device, seed: int):
    """A fresh counter-based generator on ``device`` with ``.random``, ``.standard_normal``
    and ``.integers`` (NumPy's Generator calls).

    gpugrad derives one generator per draw from (seed, draw number), so a saved RNG state is
    just two integers and replays exactly on both backends.

    Example::

        >>> from gpugrad.random import new_generator
        >>> cpu = gpugrad.Device("cpu")
        >>> a = new_generator(cpu, 7).standard_normal((3,), np.float32)
        >>> b = new_generator(cpu, 7).standard_normal((3,), np.float32)
        >>> a.dtype, bool((a == b).all())          # one seed, one stream
        (dtype('float32'), True)
    """
    if device.type == "cpu":
        return np.random.Generator(np.random.Philox(key=seed))
    cupy = cupy_import.require_cupy()
    with backend.use_device(device):
        return _CupyGenerator(cupy, seed)
