"""Initialisers, as ``torch.nn.init``: each fills a tensor in place (under ``no_grad``, so a
Parameter stays a leaf) and returns it; random ones draw from gpugrad's generator, so
``gpugrad.manual_seed`` makes them repeat.

Fans as PyTorch computes them for a weight of shape (out, in, *kernel): fan_in =
in * prod(kernel), fan_out = out * prod(kernel).

Example::

    >>> layer = nn.Linear(64, 32)
    >>> nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu") is layer.weight
    True
    >>> bound = np.sqrt(2.0) * np.sqrt(3.0 / 64)             # gain * sqrt(3 / fan_in)
    >>> bool(abs(layer.weight).max().item() <= bound), layer.weight.is_leaf
    (True, True)
    >>> nn.init.zeros_(layer.bias).sum().item()
    0.0
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backend, random
from ..tensor import Tensor
from .init_fill import _check_floating, _draw_dtype, _fan, _fans, _fill, _normal_array, \
    _uniform_array

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_", "eye_",
           "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "trunc_normal_", "orthogonal_", "sparse_"]

_LINEAR = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid"}


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended scale of weights before ``nonlinearity``, as PyTorch's: 1 for linear,
    conv and sigmoid; 5/3 for tanh; sqrt(2) for relu; sqrt(2 / (1 + slope**2)) for
    leaky_relu (``param``: the slope, 0.01 by default); 3/4 for selu.

    Example::

        >>> nn.init.calculate_gain("tanh"), round(nn.init.calculate_gain("leaky_relu", 0.2), 6)
        (1.6666666666666667, 1.38675)
    """
    if nonlinearity in _LINEAR:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}; use one of "
                     f"{sorted(_LINEAR | {'tanh', 'relu', 'leaky_relu', 'selu'})}")


_calculate_fan_in_and_fan_out = _fans          # PyTorch's private names, used by timm, HF, and
_calculate_correct_fan = _fan                   # copies of torch's Linear.reset_parameters


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Values uniform in [a, b) (``generator``: a ``gpugrad.Generator`` to draw from, as
    every random initialiser here takes; None: the global one). Example::

        >>> w = nn.init.uniform_(gpugrad.empty(1000), -0.5, 0.5)
        >>> bool((w >= -0.5).all() and (w < 0.5).all())
        True
    """
    return _fill(tensor, _uniform_array(tensor, a, b, generator, "uniform_"))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Values from N(mean, std**2). Example::

        >>> round(nn.init.normal_(gpugrad.empty(100000), 3.0, 0.1).mean().item(), 2)
        3.0
    """
    return _fill(tensor, _normal_array(tensor, mean, std, generator, "normal_"))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Every value ``val``. Example::

        >>> nn.init.constant_(gpugrad.empty(2), 0.3)
        tensor([0.3, 0.3], device='cpu', dtype=float32)
    """
    xp = backend.array_module(tensor.device)
    return _fill(tensor, xp.full(tuple(tensor.shape), val, dtype=tensor.dtype))


def ones_(tensor: Tensor) -> Tensor:
    """Every value 1, in place; returns ``tensor``. Example::

        >>> nn.init.ones_(gpugrad.empty(2)).tolist()
        [1.0, 1.0]
    """
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Every value 0, in place; returns ``tensor``. Example::

        >>> nn.init.zeros_(gpugrad.ones(2)).tolist()
        [0.0, 0.0]
    """
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (ones on the diagonal) in a 2-d tensor. Example::

        >>> nn.init.eye_(gpugrad.empty(2, 3))
        tensor([[1., 0., 0.],
                [0., 1., 0.]], device='cpu', dtype=float32)
    """
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported (got shape "
                         f"{tuple(tensor.shape)})")
    xp = backend.array_module(tensor.device)
    return _fill(tensor, xp.eye(*tensor.shape, dtype=tensor.dtype))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot's uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)). Example::

        >>> w = nn.init.xavier_uniform_(gpugrad.empty(20, 30))          # a = sqrt(6 / 50)
        >>> bool(abs(w).max().item() <= np.sqrt(6 / 50))
        True
    """
    fan_in, fan_out = _fans(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill(tensor, _uniform_array(tensor, -bound, bound, generator, "xavier_uniform_"))


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot's normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out)), in
    place. Example (fans 200 and 200: std 0.0707)::

        >>> w = nn.init.xavier_normal_(gpugrad.empty(200, 200))
        >>> round(float(w.numpy().std()), 2)
        0.07
    """
    fan_in, fan_out = _fans(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, _normal_array(tensor, 0.0, std, generator, "xavier_normal_"))


def _kaiming_std(tensor: Tensor, a, mode: str, nonlinearity: str):
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He's uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan), gain from
    ``calculate_gain(nonlinearity, a)`` and fan the ``mode`` ("fan_in" or "fan_out").
    Example (PyTorch's Linear init is ``a=sqrt(5)``: bound 1 / sqrt(fan_in))::

        >>> w = nn.init.kaiming_uniform_(gpugrad.empty(8, 25), a=np.sqrt(5))
        >>> bool(abs(w).max().item() <= 1 / 5)
        True
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return _fill(tensor, _uniform_array(tensor, -bound, bound, generator, "kaiming_uniform_"))


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He's normal: N(0, std**2) with std = gain / sqrt(fan) (see ``kaiming_uniform_``), in
    place. Example (relu's gain sqrt(2), fan_in 200: std 0.1)::

        >>> w = nn.init.kaiming_normal_(gpugrad.empty(300, 200), nonlinearity="relu")
        >>> round(float(w.numpy().std()), 2)
        0.1
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return _fill(tensor, _normal_array(tensor, 0.0, std, generator, "kaiming_normal_"))


# Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9)
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01, 1.0)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549671010173319e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
      3.754408661907416e+00, 1.0)


def _polyval(coefficients, x):
    out = coefficients[0]
    for c in coefficients[1:]:
        out = out * x + c
    return out


def _normal_quantile(p, xp):
    """x with Phi(x) = p, element-wise, for p in (0, 1) (float64)."""
    p = xp.clip(p, 1e-300, 1.0 - 1e-16)
    q = p - 0.5
    r = q * q
    central = _polyval(_A, r) * q / _polyval(_B, r)
    tail = xp.sqrt(-2.0 * xp.log(xp.minimum(p, 1.0 - p)))
    tail = _polyval(_C, tail) / _polyval(_D, tail)          # the lower tail's value
    return xp.where(xp.abs(q) <= 0.5 - 0.02425, central, xp.where(q < 0, tail, -tail))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """N(mean, std**2) restricted to [a, b] (``a`` and ``b`` are values, not multiples of
    std, as in PyTorch), drawn by inverting the normal CDF on a uniform in [Phi(a), Phi(b)].

    Example::

        >>> w = nn.init.trunc_normal_(gpugrad.empty(10000), std=1.0, a=-0.5, b=1.0)
        >>> bool(w.min().item() >= -0.5 and w.max().item() <= 1.0)
        True
    """
    _check_floating(tensor, "trunc_normal_")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    def cdf(x):
        return (1.0 + math.erf((x - mean) / (std * math.sqrt(2.0)))) / 2.0
    low, high = cdf(a), cdf(b)
    xp = backend.array_module(tensor.device)
    u = random.uniform_array(tuple(tensor.shape), np.float64, tensor.device, generator)
    values = _normal_quantile(low + (high - low) * u, xp) * std + mean
    return _fill(tensor, xp.clip(values, a, b))


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix, as PyTorch's: the Q of the QR of a standard normal
    (rows, numel / rows) matrix (its transpose when wider than tall), the signs of R's
    diagonal multiplied in so Q is uniform, times ``gain``; a tensor of more than 2
    dimensions is filled through its (rows, rest) view. Example::

        >>> w = nn.init.orthogonal_(gpugrad.empty(3, 5)).numpy()
        >>> np.allclose(w @ w.T, np.eye(3), atol=1e-6)              # orthonormal rows
        True
    """
    if tensor.ndim < 2:
        raise ValueError(f"Only tensors with 2 or more dimensions are supported (got shape "
                         f"{tuple(tensor.shape)})")
    _check_floating(tensor, "orthogonal_")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    xp = backend.array_module(tensor.device)
    flat = random.normal_array((rows, cols), _draw_dtype(tensor), tensor.device, generator)
    flat = flat.astype(np.float64)
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tuple(tensor.shape)))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """A 2-d (rows, cols) tensor drawn from N(0, std**2) with ``ceil(sparsity * rows)``
    entries of each column, chosen at random, set to zero (Martens 2010), as PyTorch's.
    Example::

        >>> w = nn.init.sparse_(gpugrad.empty(10, 4), sparsity=0.3)
        >>> (w == 0).sum(0).tolist()                          # ceil(0.3 * 10) per column
        [3, 3, 3, 3]
    """
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported (got shape "
                         f"{tuple(tensor.shape)})")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    values = _normal_array(tensor, 0.0, std, generator, "sparse_")
    # each column's zeros: the first num_zeros rows of a random permutation of its rows
    keys = random.uniform_array((rows, cols), np.float64, tensor.device, generator)
    xp = backend.array_module(tensor.device)
    zeroed = xp.argsort(keys, axis=0)[:num_zeros]
    values[zeroed, xp.arange(cols)[None, :]] = 0
    return _fill(tensor, values)


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """The identity of a convolution: a (out, in, *kernel) weight of 3, 4 or 5 dimensions
    set to zero except a one at the kernel's centre for each of the first ``min(out /
    groups, in)`` channel pairs of every group (a conv with it passes its input through),
    as PyTorch's. Example::

        >>> nn.init.dirac_(gpugrad.empty(2, 2, 3))[:, :, 1].tolist()      # centre taps
        [[1.0, 0.0], [0.0, 1.0]]
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"Only tensors with 3, 4, or 5 dimensions are supported (got shape "
                         f"{tuple(tensor.shape)})")
    if tensor.shape[0] % groups:
        raise ValueError(f"dim 0 must be divisible by groups (got shape {tuple(tensor.shape)} "
                         f"and groups={groups})")
    per_group = tensor.shape[0] // groups
    pairs = min(per_group, tensor.shape[1])
    xp = backend.array_module(tensor.device)
    values = xp.zeros(tuple(tensor.shape), dtype=tensor.dtype)
    centre = tuple(size // 2 for size in tensor.shape[2:])
    channel = xp.arange(pairs)                  # one write for every (group, pair)
    out_channels = (xp.arange(groups)[:, None] * per_group + channel).ravel()
    values[(out_channels, xp.tile(channel, groups)) + centre] = 1
    return _fill(tensor, values)


def _make_deprecate(method):
    """PyTorch's deprecated name without the trailing underscore: ``method`` with a
    FutureWarning worded as PyTorch's."""
    new_name = method.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of "
                      f"`nn.init.{new_name}`.", FutureWarning, stacklevel=2)
        return method(*args, **kwargs)
    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    deprecated_init.__doc__ = f"Deprecated (as in PyTorch): use ``nn.init.{new_name}``."
    return deprecated_init


(uniform, normal, constant, eye, dirac, xavier_uniform, xavier_normal, kaiming_uniform,
 kaiming_normal, orthogonal, sparse) = (_make_deprecate(m) for m in (
    uniform_, normal_, constant_, eye_, dirac_, xavier_uniform_, xavier_normal_,
    kaiming_uniform_, kaiming_normal_, orthogonal_, sparse_))
