"""Random numbers: seedable, counter-based streams for both backends: the global one
(``manual_seed``, ``default_generator``) and any ``Generator`` passed as ``generator=``.

A stream's state is two integers, the seed and the number of draws made since seeding. Each draw
gets a fresh generator keyed by both, so saving and restoring the state (as gradient
checkpointing does to replay Dropout masks) replays draws exactly. ``new_generator`` makes
those generators: NumPy's Philox-4x64 on cpu, cuRAND's Philox-4x32-10 (through CuPy) on cuda.
These are different generators with different normal samplers: the same seed gives different
values on cpu and on cuda, and each device replays its own draws exactly.

Example::

    >>> _ = gpugrad.manual_seed(0)
    >>> a = gpugrad.randn(3)
    >>> _ = gpugrad.manual_seed(0)
    >>> b = gpugrad.randn(3)
    >>> bool((a == b).all())          # the same seed replays the same draws
    True
"""

from __future__ import annotations

import contextlib
import numbers
import operator
import secrets

import numpy as np

from . import backend, cupy_import
from .autograd.capture_mode import refuse_random_draw

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "get_rng_state",
           "set_rng_state", "initial_seed", "fork_rng", "draw_array"]

_DEFAULT_SEED = 67280421310721
_MASK64 = (1 << 64) - 1
_FLOAT16 = np.dtype(np.float16)


def _as_seed(seed, floats: bool) -> int:
    """``seed`` as an unsigned 64-bit int (negative seeds wrap, as PyTorch's); ``floats``:
    whether an integral float (3.0) is accepted, as ``torch.manual_seed`` does."""
    if floats and isinstance(seed, numbers.Real) and not isinstance(seed, numbers.Integral) \
            and float(seed).is_integer():
        seed = int(seed)
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError("a seed must be an int, got a bool")
    try:
        value = operator.index(seed)
    except TypeError:
        raise TypeError(f"a seed must be an int (or a NumPy integer), got "
                        f"{type(seed).__name__} {seed!r}") from None
    if not -(1 << 63) <= value <= _MASK64:
        raise ValueError(f"a seed must fit in 64 bits, got {value}")
    return value & _MASK64


class Generator:
    """A random stream of its own, as ``torch.Generator``: pass it as ``generator=`` to
    ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``,
    ``multinomial``... and its draws neither use nor move the global stream.

    Its state is two integers, the seed and the number of draws made since seeding; each draw
    gets a fresh counter-based generator keyed by both, so ``get_state``/``set_state``
    replay draws exactly. ``device``: where its draws go (a draw on another device is
    refused, as PyTorch's).

    Example::

        >>> g = gpugrad.Generator().manual_seed(3)
        >>> a = gpugrad.rand(2, generator=g)
        >>> bool((gpugrad.rand(2, generator=g.manual_seed(3)) == a).all())
        True
    """

    def __init__(self, device="cpu"):
        self.device = backend.Device(device)
        self._seed, self._draws = _DEFAULT_SEED, 0

    def __repr__(self) -> str:
        return f"<gpugrad.Generator device='{self.device}' seed={self._seed}>"

    def manual_seed(self, seed: int) -> "Generator":
        """Seed this generator (an int or NumPy int); returns it."""
        self._seed, self._draws = _as_seed(seed, floats=False), 0
        return self

    def seed(self) -> int:
        """Seed with a fresh non-deterministic 64-bit number and return it."""
        self._seed, self._draws = secrets.randbits(64), 0
        return self._seed

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self) -> dict:
        """The state, ``{"seed": int, "draws": int}``: pass it to ``set_state``."""
        return {"seed": self._seed, "draws": self._draws}

    def set_state(self, state: dict) -> "Generator":
        """Restore a state from ``get_state``; returns this generator."""
        try:
            seed, draws = int(state["seed"]), int(state["draws"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an RNG state from get_state()/get_rng_state(): "
                             f"{state!r}") from exc
        self._seed, self._draws = seed & _MASK64, draws
        return self

    def _next_key(self) -> int:
        """The key of the next draw (and one draw counted)."""
        refuse_random_draw()
        key = _splitmix64(self._seed ^ _splitmix64(self._draws))
        self._draws += 1
        return key


default_generator = Generator()     # the global stream: manual_seed, rand() with no generator


def manual_seed(seed: int) -> Generator:
    """Seed the global stream used by ``rand``, ``randn``, Dropout... on every device, and
    return it (``gpugrad.default_generator``), as ``torch.manual_seed``. Takes an int, a
    NumPy int or an integral float.

    Example::

        >>> _ = gpugrad.manual_seed(42)
        >>> gpugrad.initial_seed()
        42
    """
    if isinstance(seed, numbers.Real) and not isinstance(seed, numbers.Integral) and \
            not float(seed).is_integer():
        raise TypeError(f"manual_seed expects an int, got the float {seed!r} (PyTorch would "
                        f"silently drop its fraction)")
    default_generator._seed, default_generator._draws = _as_seed(seed, floats=True), 0
    return default_generator


def seed() -> int:
    """Seed the global stream with a fresh non-deterministic number, and return it.

    Example::

        >>> s = gpugrad.seed()
        >>> gpugrad.initial_seed() == s
        True
    """
    return default_generator.seed()


def initial_seed() -> int:
    """The seed last given to ``manual_seed`` (a fixed default before any call).

    Example::

        >>> _ = gpugrad.manual_seed(42)
        >>> gpugrad.initial_seed()
        42
    """
    return default_generator._seed


def get_rng_state() -> dict:
    """The global stream's state, ``{"seed": int, "draws": int}``; pass it to
    ``set_rng_state``.

    Example::

        >>> _ = gpugrad.manual_seed(0)
        >>> _ = gpugrad.randn(3)
        >>> gpugrad.get_rng_state()
        {'seed': 0, 'draws': 1}
    """
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    """Restore a state returned by ``get_rng_state``.

    Example::

        >>> state = gpugrad.get_rng_state()
        >>> a = gpugrad.randn(2)
        >>> gpugrad.set_rng_state(state)          # replay the draw
        >>> bool((gpugrad.randn(2) == a).all())
        True
    """
    default_generator.set_state(state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True):
    """Inside, draw from the global stream freely: its state is put back on leaving, as
    ``torch.random.fork_rng`` (gpugrad has one global stream for all devices, so
    ``devices`` is accepted and not needed).

    Example::

        >>> before = gpugrad.get_rng_state()
        >>> with gpugrad.random.fork_rng():
        ...     _ = gpugrad.randn(3)
        >>> gpugrad.get_rng_state() == before
        True
    """
    state = default_generator.get_state()
    try:
        yield
    finally:
        if enabled:
            default_generator.set_state(state)


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _next_generator(device: backend.Device, generator: Generator | None = None):
    if generator is None or generator is default_generator:
        return new_generator(device, default_generator._next_key())
    if not isinstance(generator, Generator):
        raise TypeError(f"generator= takes a gpugrad.Generator, got {type(generator).__name__}")
    if generator.device.type != device.type:
        raise ValueError(f"a draw on {device} cannot use a generator on {generator.device}; "
                         f"make one there: gpugrad.Generator(device='{device.type}')")
    return new_generator(device, generator._next_key())


def uniform_array(shape: tuple, dtype, device: backend.Device, generator=None):
    """An array of ``shape`` with values uniform in [0, 1) (``generator``: a Generator, or
    None for the global stream).

    float16 (which no generator draws) takes 11 random bits, k / 2048 for k in 0 .. 2047, as
    PyTorch does: a float32 draw rounded to float16 would give 1.0 about once in 4096."""
    if dtype == _FLOAT16:
        u = _next_generator(device, generator).random(shape, np.float32)
        return (backend.xp_of(u).floor(u * 2048) / 2048).astype(np.float16)
    return _next_generator(device, generator).random(shape, dtype)


def normal_array(shape: tuple, dtype, device: backend.Device, generator=None):
    """An array of ``shape`` with standard normal values (float16: drawn in float32)."""
    if dtype == _FLOAT16:
        return _next_generator(device, generator).standard_normal(
            shape, np.float32).astype(np.float16)
    return _next_generator(device, generator).standard_normal(shape, dtype)


def integers_array(low: int, high: int, shape: tuple, dtype, device: backend.Device,
                   generator=None):
    """An array of ``shape`` with integers uniform in [low, high)."""
    return _next_generator(device, generator).integers(low, high, size=shape, dtype=dtype)


_PARAMETER_DRAWS = ("standard_gamma", "poisson", "binomial")


def draw_array(method: str, device: backend.Device, *params, generator=None):
    """Draws whose law is set element-wise by arrays: ``method`` is "standard_gamma"
    (shape), "poisson" (rates) or "binomial" (counts, probabilities), NumPy Generator's
    names and arguments, from the next key of ``generator`` (None: the global stream) on
    ``device``; an array of the parameters' broadcast shape, in the sampler's dtype.

    Example::

        >>> from gpugrad.random import draw_array
        >>> _ = gpugrad.manual_seed(0)
        >>> draw_array("poisson", gpugrad.Device("cpu"), np.zeros(3)).tolist()
        [0, 0, 0]
    """
    if method not in _PARAMETER_DRAWS:
        raise ValueError(f"draw_array: method must be one of {_PARAMETER_DRAWS}, got "
                         f"{method!r}")
    drawn_by = _next_generator(device, generator)
    sampler = getattr(drawn_by, method, None)
    if sampler is None:                 # CuPy's RandomState has them under the same names
        sampler = getattr(drawn_by._state, method)
    return sampler(*params)


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
