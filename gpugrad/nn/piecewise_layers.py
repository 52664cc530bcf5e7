"""Piecewise activation modules as PyTorch's ``torch.nn``: Threshold, Hardshrink, Softshrink,
Hardsigmoid, Hardswish, RReLU and PReLU (a learned slope), each calling its function in
``gpugrad.nn.piecewise_activations`` (see there for the maths and the gradients at kinks).
Shapes: any -> the same. Their reprs are PyTorch's.

Example::

    >>> from gpugrad.nn.piecewise_layers import PReLU
    >>> act = PReLU(num_parameters=3)               # one slope per channel, each 0.25
    >>> act(-gpugrad.ones(2, 3)).tolist()
    [[-0.25, -0.25, -0.25], [-0.25, -0.25, -0.25]]
    >>> [name for name, _ in act.named_parameters()], act
    (['weight'], PReLU(num_parameters=3))
"""

from __future__ import annotations

from .. import creation, dtypes
from . import init as nn_init, piecewise_activations as P
from .activation_layers import InplaceActivation
from .module import Module, Parameter

__all__ = ["Threshold", "Hardshrink", "Softshrink", "Hardsigmoid", "Hardswish", "RReLU",
           "PReLU"]


class Threshold(Module):
    """``x`` where x > threshold, else ``value``.

    Example::

        >>> from gpugrad.nn.piecewise_layers import Threshold
        >>> Threshold(0.5, 9.0)(gpugrad.tensor([0.0, 1.0]))
        tensor([9., 1.], device='cpu', dtype=float32)
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return P.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (
            ", inplace=True" if self.inplace else "")


class _Shrink(Module):
    """Hardshrink and Softshrink: ``_function(input, lambd)``, repr ``lambd`` (a shared
    base, so that neither is an instance of the other, as in PyTorch)."""

    _function = None

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return type(self)._function(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Hardshrink(_Shrink):
    """``x`` where |x| > lambd, else 0.

    Example::

        >>> from gpugrad.nn.piecewise_layers import Hardshrink
        >>> Hardshrink()
        Hardshrink(0.5)
    """

    _function = staticmethod(P.hardshrink)


class Softshrink(_Shrink):
    """``x -+ lambd`` where |x| > lambd, else 0.

    Example::

        >>> from gpugrad.nn.piecewise_layers import Softshrink
        >>> Softshrink(1.0)(gpugrad.tensor([-3.0, 0.5]))
        tensor([-2.,  0.], device='cpu', dtype=float32)
    """

    _function = staticmethod(P.softshrink)


class Hardsigmoid(InplaceActivation):
    """``clamp(x / 6 + 1/2, 0, 1)``; ``inplace`` as PyTorch's (left out of the repr).

    Example::

        >>> from gpugrad.nn.piecewise_layers import Hardsigmoid
        >>> Hardsigmoid()(gpugrad.tensor([0.0, 6.0]))
        tensor([0.5, 1. ], device='cpu', dtype=float32)
    """

    _function = staticmethod(P.hardsigmoid)


class Hardswish(InplaceActivation):
    """``x * hardsigmoid(x)``; ``inplace`` as PyTorch's (left out of the repr).

    Example::

        >>> from gpugrad.nn.piecewise_layers import Hardswish
        >>> Hardswish()(gpugrad.tensor([0.0, 6.0]))
        tensor([0., 6.], device='cpu', dtype=float32)
    """

    _function = staticmethod(P.hardswish)


class RReLU(Module):
    """Leaky ReLU with a random slope in [lower, upper) per element while training, and
    ``(lower + upper) / 2`` in eval mode.

    Example::

        >>> from gpugrad.nn.piecewise_layers import RReLU
        >>> RReLU(0.1, 0.3).eval()(gpugrad.tensor([-1.0, 1.0]))
        tensor([-0.2,  1. ], device='cpu', dtype=float32)
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return P.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (
            ", inplace=True" if self.inplace else "")


class PReLU(Module):
    """``x`` where x > 0, else ``weight * x``: ``weight`` a Parameter of ``num_parameters``
    slopes (1, or the input's channel count: axis 1), each ``init`` at first, as PyTorch's.
    Shapes: (N, C, ...) -> the same.

    Example::

        >>> from gpugrad.nn.piecewise_layers import PReLU
        >>> PReLU(init=0.1)(gpugrad.tensor([-2.0, 3.0]))
        tensor([-0.2,  3. ], device='cpu', dtype=float32, grad_fn=...)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(creation.full((num_parameters,), float(init), device=device,
                                              dtype=dtype or dtypes.get_default_dtype()))

    def reset_parameters(self) -> None:
        """Every slope back to ``init``, in place."""
        nn_init.constant_(self.weight, self.init)

    def forward(self, input):
        return P.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
