"""Random tensors, as PyTorch's: ``rand``, ``randn``, ``randint``, ``randint_like``,
``randperm``, ``normal``, ``bernoulli``, ``multinomial``.

Each takes ``generator=`` (a ``gpugrad.Generator``; by default the global stream that
``manual_seed`` seeds), so draws replay exactly under a seed (random.py). Values are not
PyTorch's (another generator), their distributions, shapes and dtypes are. The results of
``normal``, ``bernoulli`` and ``multinomial`` carry no gradient (PyTorch's is zero); for a
reparameterised sample write ``mean + std * gpugrad.randn_like(std)``.

Example::

    >>> _ = gpugrad.manual_seed(0)
    >>> x = gpugrad.randn(2, 3, requires_grad=True)
    >>> x.shape, x.dtype, x.requires_grad
    ((2, 3), dtype('float32'), True)
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from . import backend, random
from .autograd.capture_mode import refuse_random_draw
from .autograd.mode import _state as _vmap_state
from .creation_args import (device_or_default as _device, finish as _finish,
                            shape_from as _shape)
from .dtypes import as_dtype, get_default_dtype
from .tensor import Tensor

__all__ = ["rand", "randn", "randint", "randint_like", "randperm", "normal", "bernoulli",
           "multinomial", "bernoulli_fill"]


def _random(draw, shape, dtype, device, requires_grad, generator) -> Tensor:
    dtype = as_dtype(dtype) or get_default_dtype()
    if dtype not in (np.float16, np.float32, np.float64):
        raise TypeError(f"random tensors are float16, float32 or float64, not {dtype}")
    if generator is None:                               # the common case
        return _draw(draw, shape, dtype, device, requires_grad)
    return _draw(lambda shape, dtype, device: draw(shape, dtype, device, generator), shape,
                 dtype, device, requires_grad)


def _draw(draw, shape, dtype, device, requires_grad) -> Tensor:
    """``draw(shape, dtype, device)`` as a tensor; inside vmap, as its randomness= says."""
    levels = _vmap_state.vmap_levels
    if levels:
        return _random_in_vmap(draw, shape, dtype, _device(device), levels, requires_grad)
    return _finish(draw(shape, dtype, _device(device)), requires_grad)


def _random_in_vmap(draw, shape, dtype, device, levels, requires_grad) -> Tensor:
    """A draw inside vmap: refused with randomness="error"; one draw for every example
    with "same"; with "different", a batch dimension per such level (each example its own
    values)."""
    from .autograd.batched import BatchedTensor
    if any(level.randomness == "error" for level in levels):
        raise RuntimeError(
            "vmap: a random draw (randn, rand, dropout...) inside vmap with randomness='error' "
            "(the default). Say what each example should get: vmap(f, randomness='different') "
            "draws separately per example, randomness='same' draws once for all of them.")
    different = [level for level in levels if level.randomness == "different"]
    batch = tuple(level.size for level in different)
    out = Tensor._wrap(draw(batch + shape, dtype, device))
    for level in different:             # outermost first: its batch is dimension 0
        out = BatchedTensor._make(out, level)
    return out.requires_grad_(requires_grad) if requires_grad else out


def rand(*shape, size=None, generator=None, dtype=None, device=None,
         requires_grad=False) -> Tensor:
    """Uniform values in [0, 1): ``rand(2, 3)``, ``rand((2, 3))`` or ``rand(size=(2, 3))``.

    Example::

        >>> _ = gpugrad.manual_seed(0)
        >>> u = gpugrad.rand(1000)
        >>> u.dtype, bool(((u >= 0) & (u < 1)).all())
        (dtype('float32'), True)
    """
    return _random(random.uniform_array, _shape(shape, size), dtype, device, requires_grad,
                   generator)


def randn(*shape, size=None, generator=None, dtype=None, device=None,
          requires_grad=False) -> Tensor:
    """Standard normal values: ``randn(2, 3)``, ``randn((2, 3))`` or ``randn(size=...)``.

    Example::

        >>> g = gpugrad.Generator().manual_seed(1)
        >>> gpugrad.randn(2, 3, generator=g).shape
        (2, 3)
    """
    return _random(random.normal_array, _shape(shape, size), dtype, device, requires_grad,
                   generator)


def randint(*args, low=None, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Integers uniform in [low, high), as PyTorch's: ``randint(high, size)``,
    ``randint(low, high, size)`` or with keywords (``size`` a tuple), int64 unless ``dtype``
    says otherwise (a float dtype may require grad).

    Example::

        >>> _ = gpugrad.manual_seed(0)
        >>> labels = gpugrad.randint(0, 10, (4,))
        >>> labels.shape, labels.dtype, bool(((labels >= 0) & (labels < 10)).all())
        ((4,), dtype('int64'), True)
    """
    if size is None and args:
        args, size = args[:-1], args[-1]
    bounds = args + tuple(v for v in (low, high) if v is not None)
    if len(bounds) not in (1, 2) or not isinstance(size, (tuple, list)) or (
            low is not None and (args or high is None)):
        raise TypeError("randint takes (high, size) or (low, high, size), with size a tuple "
                        "of ints, e.g. gpugrad.randint(0, 10, (32,))")
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
    return _integers(low, high, _shape(tuple(size)), dtype or np.int64, device, requires_grad,
                     generator)


def _integers(low, high, shape, dtype, device, requires_grad, generator) -> Tensor:
    if not all(isinstance(v, numbers.Integral) for v in (low, high)):
        raise TypeError(f"randint: low and high must be ints, got {low!r} and {high!r}")
    if low >= high:
        raise ValueError(f"randint draws from [low, high): low ({low}) must be less than "
                         f"high ({high})")
    dtype = as_dtype(dtype)

    def draw(shape, dtype, device):         # NumPy and CuPy draw integer dtypes only
        drawn = dtype if dtype.kind in "iu" else np.dtype(np.int64)
        return random.integers_array(int(low), int(high), shape, drawn, device,
                                     generator).astype(dtype, copy=False)

    return _draw(draw, shape, dtype, device, requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, generator=None, dtype=None, device=None,
                 requires_grad=False) -> Tensor:
    """Integers uniform in [low, high) with the shape (and, unless given, dtype and device)
    of ``input``: ``randint_like(x, high)`` or ``randint_like(x, low, high)``.

    Example::

        >>> r = gpugrad.randint_like(gpugrad.zeros(3), 5)
        >>> r.dtype, bool(((r >= 0) & (r < 5)).all())
        (dtype('float32'), True)
    """
    if high is None:
        low, high = 0, low
    return _integers(low, high, tuple(input.shape), dtype or input.dtype,
                     device or input.device, requires_grad, generator)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64 unless ``dtype`` says otherwise).

    Example::

        >>> sorted(gpugrad.randperm(5).tolist())
        [0, 1, 2, 3, 4]
    """
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative, got {n}")
    dtype = as_dtype(dtype) or np.dtype(np.int64)

    def draw(shape, dtype, device):     # shape: (n,), or a vmap batch + (n,)
        # the order of n independent uniform keys is a uniform permutation (float64 ties
        # have probability about n**2 / 2**54)
        keys = random.uniform_array(shape, np.float64, device, generator)
        return keys.argsort(axis=-1).astype(dtype, copy=False)

    return _draw(draw, (n,), dtype, device, requires_grad)


def _tensor_or_none(value):
    return value if isinstance(value, Tensor) else None


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """Normal values with ``mean`` and ``std``, as ``torch.normal``: ``normal(mean_t, std_t)``
    (tensors, broadcast together), ``normal(mean_t, 1.0)``, ``normal(0.0, std_t)``, or
    ``normal(0.0, 1.0, size)`` (floats; ``dtype``, ``device``, ``requires_grad`` apply).
    Tensor forms keep the device and float dtype of ``mean`` (of ``std`` when ``mean`` is a
    number); no gradient flows to them.

    Example::

        >>> _ = gpugrad.manual_seed(0)
        >>> x = gpugrad.normal(2.0, 3.0, size=(2, 3))
        >>> x.shape, x.dtype, gpugrad.normal(gpugrad.zeros(4), 1.0).shape
        ((2, 3), dtype('float32'), (4,))
    """
    refuse_random_draw()        # (before the checks below read values back to the host)
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal(mean, std) of two numbers needs size=, e.g. "
                            "gpugrad.normal(0.0, 1.0, size=(3,))")
        if not std >= 0:
            raise ValueError(f"normal expects std >= 0, got {std}")
        draw = randn(size=size, generator=generator, dtype=dtype, device=device)
        out = draw * float(std) + float(mean)
        return out.requires_grad_(True) if requires_grad else out
    if size is not None:
        raise TypeError("normal: size= is for float mean and std; with a tensor mean or std "
                        "the shape is theirs (broadcast)")
    for t in tensors:
        if t.dtype.kind != "f":
            raise TypeError(f"normal expects floating-point mean and std tensors, got "
                            f"{t.dtype}; convert with .float()")
    std_t = _tensor_or_none(std)
    if std_t is not None and bool((std_t.detach() < 0).any()):
        raise ValueError("normal expects all elements of std >= 0")
    if std_t is None and not std >= 0:
        raise ValueError(f"normal expects std >= 0, got {std}")
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    kind = tensors[0].dtype                 # the mean's when it is a tensor, as PyTorch
    eps = randn(shape, generator=generator, dtype=kind, device=tensors[0].device)
    mean_v = mean.detach().astype(kind) if isinstance(mean, Tensor) else float(mean)
    std_v = std.detach().astype(kind) if std_t is not None else float(std)
    return eps * std_v + mean_v


def bernoulli_fill(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """What ``t.bernoulli_(p)`` writes into ``t``: a new tensor shaped and typed like ``t``
    of 0s and 1s, each 1 with probability ``p`` (a number, or a tensor broadcast to
    ``t``'s shape).

    Example::

        >>> from gpugrad.random_sampling import bernoulli_fill
        >>> bernoulli_fill(gpugrad.zeros(3, dtype=gpugrad.int64), 1.0).tolist()
        [1, 1, 1]
    """
    return _bernoulli(self, p, generator)


def _bernoulli(input: Tensor, p, generator) -> Tensor:
    refuse_random_draw()        # (before the check below reads values back to the host)
    if p is None:
        if input.dtype.kind != "f":
            raise TypeError(f"bernoulli(input): the probabilities must be floats, got "
                            f"{input.dtype}; pass p= to fill an integer tensor")
        p = input
    probs = p.detach() if isinstance(p, Tensor) else float(p)
    draw_dtype = input.dtype if input.dtype.kind == "f" else np.float64
    # the draw first: inside vmap it says what randomness="error" asks before the check
    u = rand(tuple(input.shape), generator=generator, dtype=draw_dtype, device=input.device)
    if isinstance(probs, Tensor):
        from .autograd.batched import innermost_array
        array = innermost_array(probs)          # every example's (p may be batched by vmap)
        if not bool(((array >= 0) & (array <= 1)).all()):       # (NaN is not inside)
            raise ValueError("bernoulli expects probabilities in [0, 1] (no NaN)")
    elif not 0 <= probs <= 1:
        raise ValueError(f"bernoulli expects p in [0, 1], got {p}")
    return (u < probs).astype(input.dtype)


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """0s and 1s with ``input``'s shape and dtype, 1 with probability ``input`` (element-
    wise), or with probability ``p`` when given, as ``torch.bernoulli``.

    Example::

        >>> _ = gpugrad.manual_seed(0)
        >>> gpugrad.bernoulli(gpugrad.tensor([0.0, 1.0, 1.0])).tolist()
        [0.0, 1.0, 1.0]
    """
    return _bernoulli(input, p, generator)


def _search_rows(cdf, u):
    """For each row r, how many of ``cdf[r]`` (sorted, in [0, 1], last 1) are <= each of
    ``u[r]`` (in [0, 1)): one search for all rows, with row r moved to [2r, 2r + 1]."""
    xp = backend.xp_of(cdf)
    rows, n = cdf.shape
    offset = 2.0 * xp.arange(rows, dtype=np.float64)[:, None]
    # u on a grid that adding the offset (< 2**b) leaves exact, so u + offset stays below
    # the row's last value 2r + 1 (it would round up to it for u near 1)
    grid = 2.0 ** (52 - (2 * rows).bit_length())
    u = xp.floor(u * grid) / grid + offset
    flat = xp.searchsorted((cdf + offset).ravel(), u.ravel(), side="right")
    return flat.reshape(u.shape) - xp.arange(rows)[:, None] * n


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """Category indices drawn with probabilities proportional to ``input``'s rows (1-d: one
    distribution; 2-d: one per row), as ``torch.multinomial``: ``num_samples`` per row,
    without replacement unless ``replacement=True``. int64 of shape (num_samples,) or
    (rows, num_samples).

    Example::

        >>> gpugrad.multinomial(gpugrad.tensor([0.0, 1.0, 0.0]), 2, replacement=True).tolist()
        [1, 1]
    """
    refuse_random_draw()        # (before the checks below read values back to the host)
    if input.dtype.kind != "f":
        raise TypeError(f"multinomial expects floating-point probabilities, got {input.dtype}")
    if input.ndim not in (1, 2):
        raise ValueError(f"multinomial expects a 1-d or 2-d tensor of probabilities, got "
                         f"shape {tuple(input.shape)}")
    k, n = operator.index(num_samples), input.shape[-1]
    if k <= 0:
        raise ValueError(f"multinomial: num_samples must be positive, got {k}")
    if not replacement and k > n:
        raise ValueError(f"multinomial: cannot draw {k} samples from {n} categories without "
                         f"replacement; pass replacement=True")
    rows = input.detach()._array.reshape(-1, n).astype(np.float64)
    xp = backend.xp_of(rows)
    if not bool(xp.all(xp.isfinite(rows) & (rows >= 0))):
        raise ValueError("multinomial: the probabilities contain inf, nan or a negative value")
    if not bool(xp.all(rows.sum(-1) > 0)):
        raise ValueError("multinomial: a row of probabilities sums to 0")
    if replacement:
        u = random.uniform_array((rows.shape[0], k), np.float64, input.device, generator)
        cdf = xp.cumsum(rows, -1)
        cdf = cdf / cdf[:, -1:]             # the last is exactly 1 > u: the index stays < n
        # index = how many cdf values are <= u; a zero-probability category repeats the
        # cdf value before it, so it is never chosen
        picks = _search_rows(cdf, u)
    else:
        # exponential race: the order of E / p (E ~ Exp(1) per category) is sampling without
        # replacement in draw order; zero-probability categories get inf and come last
        u = random.uniform_array(rows.shape, np.float64, input.device, generator)
        positive = rows > 0
        race = xp.where(positive, -xp.log1p(-u) / xp.where(positive, rows, 1.0), xp.inf)
        picks = xp.argsort(race, axis=-1)[:, :k]
    picks = picks.astype(np.int64).reshape(tuple(input.shape[:-1]) + (k,))
    return Tensor._wrap(picks)
