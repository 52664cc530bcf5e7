"""``optimizer.state``, keyed by parameter as PyTorch's (``ParamState``), and the values
``load_state_dict`` puts in it (``_as_state_value``: on the parameter's device, PyTorch's
tensors and 0-d step counts read as gpugrad's).

Example::

    >>> w = gpugrad.tensor([1.0], requires_grad=True)
    >>> opt = gpugrad.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward(); opt.step()
    >>> list(opt.state[w])
    ['momentum_buffer']
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor

__all__ = ["ParamState", "is_torch_tensor", "saved_value"]


def _as_state_value(value, param, key: str, where: str):
    """A saved state entry ``key`` of ``param`` on its device: a number for the step count
    (saved as a 0-d array by PyTorch) and for any 0-d value of a parameter that is not 0-d;
    else a tensor of the parameter's shape, or of a factor of it (Adafactor's "row_var"
    (..., R, 1) and "col_var" (..., 1, C)). ``value`` may be a PyTorch tensor."""
    if not isinstance(value, Tensor) and not backend.is_array(value):
        if not is_torch_tensor(value):
            return value
        value = value.detach().cpu().numpy()
    array = value._array if isinstance(value, Tensor) else value
    if array.ndim == 0 and (key == "step" or param.ndim != 0):
        number = array.item()
        return int(number) if key == "step" and float(number).is_integer() else number
    if tuple(array.shape) != tuple(param.shape) and not _factored(array.shape, param.shape):
        raise ValueError(f"optimizer state dict: '{where}' has shape {tuple(array.shape)} "
                         f"but its parameter has shape {tuple(param.shape)}; load the state "
                         f"dict of an optimizer over the same parameters, in the same order")
    return Tensor._wrap(backend.to_device(array, param.device).astype(param.dtype))


def _factored(shape, param_shape) -> bool:
    """Whether ``shape`` is ``param_shape`` with some sizes 1 (a factored statistic)."""
    return len(shape) == len(param_shape) and all(
        n == m or n == 1 for n, m in zip(shape, param_shape))


def is_torch_tensor(value) -> bool:
    """Whether ``value`` is a PyTorch tensor, told by its class's module (torch is never
    imported here): entries of a state dict saved by PyTorch, or a closure's loss, may be.

    Example::

        >>> from gpugrad.optim.param_state import is_torch_tensor
        >>> is_torch_tensor(gpugrad.zeros(1)), is_torch_tensor(1.0)
        (False, False)
    """
    kind = type(value)
    return kind.__module__.startswith("torch") and hasattr(value, "detach")


class ParamState(dict):
    """``optimizer.state``: parameter -> its state dict (``{"step": 3, "exp_avg": tensor}``),
    as PyTorch's: ``opt.state[p]``, ``p in opt.state``, ``for p, s in opt.state.items()``.
    Like PyTorch's ``defaultdict(dict)``, reading ``opt.state[p]`` for a tensor ``p`` that
    has no state yet stores and returns a new ``{}`` (how optimizers written for PyTorch
    start their state); ``get`` and ``in`` do not.
    Keys are the parameter tensors themselves (tensors hash by identity). ``id(p)`` is
    accepted in their place on reading (``[]``, ``get``, ``in``, ``pop``), for code written
    when the state was keyed by ids; it is slower (a search of the keys).

    Example::

        >>> w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = gpugrad.optim.Adam([w], lr=0.1)
        >>> w in opt.state                                # made at the first step
        False
        >>> opt.state[w], w in opt.state                  # ... or at the first read
        ({}, True)
        >>> del opt.state[w]
        >>> (w * w).sum().backward(); opt.step()
        >>> sorted(opt.state[w]), opt.state[w]["step"], opt.state[id(w)] is opt.state[w]
        (['exp_avg', 'exp_avg_sq', 'step'], 1, True)
        >>> [p is w for p in opt.state]
        [True]
    """

    __slots__ = ()

    def _param(self, key):
        """The key for ``key``: the parameter whose id it is, for an int; else ``key``."""
        if key.__class__ is int:
            for p in dict.keys(self):
                if id(p) == key:
                    return p
        return key

    def __missing__(self, key):
        if isinstance(key, Tensor):             # defaultdict(dict), as PyTorch's
            state = {}
            dict.__setitem__(self, key, state)
            return state
        if key.__class__ is int:
            p = self._param(key)
            if p is not key:
                return dict.__getitem__(self, p)
        raise KeyError(key)

    def get(self, key, default=None):
        return dict.get(self, self._param(key), default)

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, self._param(key))

    def pop(self, key, *default):
        return dict.pop(self, self._param(key), *default)

    def setdefault(self, key, default=None):
        if not isinstance(key, Tensor):
            key = self._param(key)
            if not isinstance(key, Tensor):
                raise _not_a_parameter(key)
        return dict.setdefault(self, key, default)

    def __delitem__(self, key) -> None:
        dict.__delitem__(self, self._param(key))

    def __setitem__(self, key, value) -> None:
        if not isinstance(key, Tensor):
            raise _not_a_parameter(key)
        dict.__setitem__(self, key, value)


def _not_a_parameter(key) -> TypeError:
    return TypeError(f"optimizer.state is keyed by the parameter tensors themselves "
                     f"(opt.state[p]), not by a {type(key).__name__}")


def saved_value(value, scalar: bool):
    """A state entry as ``state_dict`` saves it: a tensor's copy cut from the graph, a step
    count (``scalar``) as a 0-d float32 tensor (PyTorch's), anything else as it is.

    Example::

        >>> from gpugrad.optim.param_state import saved_value
        >>> saved_value(3, scalar=True)
        tensor(3., device='cpu', dtype=float32)
    """
    if isinstance(value, Tensor):
        return value.detach().clone()
    if scalar and isinstance(value, (int, float)) and not isinstance(value, bool):
        return Tensor._wrap(np.asarray(value, np.float32))
    return value
