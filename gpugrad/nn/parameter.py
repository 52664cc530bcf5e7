"""Parameter, the tensor a Module trains, and ``zero_grads``.

Example::

    >>> layer = nn.Linear(2, 1)
    >>> [type(p).__name__ for p in layer.parameters()]
    ['Parameter', 'Parameter']
"""

from __future__ import annotations

from ..autograd.capture_mode import is_graph_recording, note_zeroed
from ..autograd.compile_mode import effect
from ..autograd.mode import no_grad
from ..interop import deepcopy_tensor
from ..tensor import Tensor

__all__ = ["Parameter", "zero_grads"]


def zero_grads(params, set_to_none: bool = True) -> None:
    """Reset the gradients of ``params``: to None, or to zeros in their buffers (which later
    backward passes then accumulate into without allocating). While a CUDA graph records
    the step, gradients are zeroed in their buffers either way: the graph's replays write
    those buffers again (as PyTorch's recipe keeps them, by zeroing before its capture), and
    a replay leaves every ``.grad`` as the eager step would."""
    effect(_zero_grads, list(params), set_to_none,     # (a compiled step's replay: live;
           sets_grads=set_to_none)                      # zeroed in place, a .grad found
                                                        # outside stays one)


def _zero_grads(params, set_to_none: bool) -> None:
    kept = set_to_none and is_graph_recording()     # (zeroed in place instead of None)
    if kept:
        set_to_none = False
    for param in params:
        grad = param._grad
        if set_to_none or grad is None:
            param._grad = None
        else:
            with no_grad():
                if grad._requires_grad:     # (a graph built with create_graph: cut off)
                    param._grad = grad = grad.detach()
                grad.zero_()
            if kept:
                note_zeroed(param)


class Parameter(Tensor):
    """A tensor that is a model's parameter: it requires grad and a Module registers it.

    Example::

        >>> w = nn.Parameter(gpugrad.randn(3, 2))
        >>> w.requires_grad, w.is_leaf
        (True, True)
    """

    __slots__ = ()

    def __new__(cls, data: Tensor = None, requires_grad: bool = True):
        from ..creation import tensor
        source = data if isinstance(data, Tensor) else tensor([] if data is None else data)
        param = cls._wrap(source._array)
        if requires_grad:
            param.requires_grad_(True)
        return param

    def __init__(self, data=None, requires_grad: bool = True):
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> "Parameter":
        """A new Parameter with a copy of the values and the same ``requires_grad``, and no
        ``.grad`` (as PyTorch's: a model's deep copy, e.g. a target or EMA network, starts
        with no gradients).

        Example::

            >>> import copy
            >>> w = nn.Parameter(gpugrad.ones(2))
            >>> w.sum().backward()
            >>> copy.deepcopy(w).grad is None
            True
        """
        if id(self) in memo:
            return memo[id(self)]
        out = deepcopy_tensor(self.detach(), {})      # (the values, on the same device)
        out = memo[id(self)] = type(self)(out, requires_grad=self._requires_grad)
        return out
