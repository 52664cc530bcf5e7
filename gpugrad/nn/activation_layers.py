"""Activation modules as PyTorch's ``torch.nn``: GELU, SiLU, Softplus, LeakyReLU, ELU,
Hardtanh, ReLU6, LogSigmoid, Mish, SELU, CELU, Softsign, Tanhshrink, GLU, Softmin and
Softmax2d, each calling its function in ``gpugrad.nn.activation_functions`` (see there for the maths
and the gradients at kinks). Shapes: any -> the same.

Example::

    >>> from gpugrad.nn.activation_layers import GELU, LeakyReLU
    >>> model = nn.Sequential(nn.Linear(4, 8), GELU(approximate="tanh"), nn.Linear(8, 2))
    >>> model(gpugrad.randn(3, 4)).shape
    (3, 2)
    >>> LeakyReLU(0.2)
    LeakyReLU(negative_slope=0.2)
"""

from __future__ import annotations

from . import activation_functions
from .module import Module

__all__ = ["GELU", "SiLU", "Softplus", "LeakyReLU", "ELU", "Hardtanh", "ReLU6", "LogSigmoid",
           "Mish", "SELU", "CELU", "Softsign", "Tanhshrink", "GLU", "Softmin", "Softmax2d"]


class GELU(Module):
    """``x * Phi(x)`` (``approximate="none"``) or its tanh approximation (``"tanh"``).

    Example::

        >>> from gpugrad.nn.activation_layers import GELU
        >>> GELU()(gpugrad.tensor([0.0, 1.0]))
        tensor([0.       , 0.8413447], device='cpu', dtype=float32)
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        choices = activation_functions.GELU_APPROXIMATIONS
        if approximate not in choices:
            raise ValueError(f"GELU: approximate must be one of {choices}, got "
                             f"{approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return activation_functions.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)``.

    Example::

        >>> from gpugrad.nn.activation_layers import SiLU
        >>> SiLU()(gpugrad.tensor([0.0, 1.0]))
        tensor([0.       , 0.7310586], device='cpu', dtype=float32)
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return activation_functions.silu(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Softplus(Module):
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``.

    Example::

        >>> from gpugrad.nn.activation_layers import Softplus
        >>> Softplus(beta=2.0)
        Softplus(beta=2.0, threshold=20.0)
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return activation_functions.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class LeakyReLU(Module):
    """``x`` where x > 0, else ``negative_slope * x``.

    Example::

        >>> from gpugrad.nn.activation_layers import LeakyReLU
        >>> LeakyReLU(0.1)(gpugrad.tensor([-1.0, 2.0]))
        tensor([-0.1,  2. ], device='cpu', dtype=float32)
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return activation_functions.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace
                                                          else "")


class ELU(Module):
    """``x`` where x > 0, else ``alpha (exp(x) - 1)``.

    Example::

        >>> from gpugrad.nn.activation_layers import ELU
        >>> ELU()(gpugrad.tensor([-1.0, 2.0]))
        tensor([-0.63212055,  2.        ], device='cpu', dtype=float32)
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return activation_functions.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Hardtanh(Module):
    """``x`` clamped to [min_val, max_val] (gradient 0 at the bounds).

    Example::

        >>> from gpugrad.nn.activation_layers import Hardtanh
        >>> Hardtanh(-2.0, 2.0)(gpugrad.tensor([-3.0, 1.0, 3.0]))
        tensor([-2.,  1.,  2.], device='cpu', dtype=float32)
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val "
                             f"({max_val}); swap them")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return activation_functions.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (
            ", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``: a Hardtanh on [0, 6], as PyTorch's.

    Example::

        >>> from gpugrad.nn.activation_layers import ReLU6
        >>> ReLU6()(gpugrad.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.], device='cpu', dtype=float32)
    """

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class _Stateless(Module):
    """An activation with no arguments: ``forward`` is ``_function`` (PyTorch's repr: none)."""

    _function = None

    def forward(self, input):
        return type(self)._function(input)


class LogSigmoid(_Stateless):
    """``log(sigmoid(x))``, without overflow.

    Example::

        >>> from gpugrad.nn.activation_layers import LogSigmoid
        >>> LogSigmoid()(gpugrad.tensor([0.0]))
        tensor([-0.6931472], device='cpu', dtype=float32)
    """

    _function = staticmethod(activation_functions.logsigmoid)


class Softsign(_Stateless):
    """``x / (1 + |x|)``.

    Example::

        >>> from gpugrad.nn.activation_layers import Softsign
        >>> Softsign()(gpugrad.tensor([1.0]))
        tensor([0.5], device='cpu', dtype=float32)
    """

    _function = staticmethod(activation_functions.softsign)


class Tanhshrink(_Stateless):
    """``x - tanh(x)``.

    Example::

        >>> from gpugrad.nn.activation_layers import Tanhshrink
        >>> Tanhshrink()(gpugrad.tensor([0.0]))
        tensor([0.], device='cpu', dtype=float32)
    """

    _function = staticmethod(activation_functions.tanhshrink)


class InplaceActivation(Module):
    """Base of the activations whose only argument is ``inplace`` (Mish, SELU, Hardsigmoid,
    Hardswish): ``forward`` is ``_function(input, inplace)``; the repr is empty, as
    PyTorch's for most of them. A shared base, not a PyTorch class: ``isinstance`` between
    the activations is PyTorch's (a SELU is not a Mish). Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.activation_layers import InplaceActivation, Mish, SELU
        >>> isinstance(SELU(), Mish), isinstance(SELU(), InplaceActivation)
        (False, True)
    """

    _function = None

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self)._function(input, self.inplace)


class Mish(InplaceActivation):
    """``x * tanh(softplus(x))``; ``inplace`` as PyTorch's (which leaves it out of the repr).

    Example::

        >>> from gpugrad.nn.activation_layers import Mish
        >>> Mish()(gpugrad.tensor([0.0, 1.0]))
        tensor([0.       , 0.8650984], device='cpu', dtype=float32)
    """

    _function = staticmethod(activation_functions.mish)


class SELU(InplaceActivation):
    """``scale * elu(x, alpha)`` with PyTorch's fixed alpha and scale.

    Example::

        >>> from gpugrad.nn.activation_layers import SELU
        >>> SELU(inplace=True)
        SELU(inplace=True)
    """

    _function = staticmethod(activation_functions.selu)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class CELU(Module):
    """``x`` where x > 0, else ``alpha (exp(x / alpha) - 1)``.

    Example::

        >>> from gpugrad.nn.activation_layers import CELU
        >>> CELU(alpha=2.0)
        CELU(alpha=2.0)
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return activation_functions.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GLU(Module):
    """``a * sigmoid(b)``, the halves of the input along ``dim``: (..., 2 H) -> (..., H).

    Example::

        >>> from gpugrad.nn.activation_layers import GLU
        >>> GLU()(gpugrad.randn(3, 8)).shape
        (3, 4)
    """

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return activation_functions.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(Module):
    """``softmax(-x)`` along ``dim`` (None: PyTorch's old implicit axis, with its warning).

    Example::

        >>> from gpugrad.nn.activation_layers import Softmin
        >>> Softmin(dim=1)(gpugrad.tensor([[0.0, 0.0]]))
        tensor([[0.5, 0.5]], device='cpu', dtype=float32)
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return activation_functions.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels at each spatial location: ``softmax(x, dim=-3)`` of a
    (N, C, H, W) or (C, H, W) input (any other number of dimensions is a ValueError, as
    PyTorch's). Shapes: the same out.

    Example::

        >>> from gpugrad.nn.activation_layers import Softmax2d
        >>> x = gpugrad.zeros(1, 4, 2, 2)
        >>> Softmax2d()(x)[0, :, 0, 0].tolist()
        [0.25, 0.25, 0.25, 0.25]
    """

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                             f"instead (shape {tuple(input.shape)}); for other shapes call "
                             f"softmax(x, dim=...) directly")
        return activation_functions.softmax(input, -3)
