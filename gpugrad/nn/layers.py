"""Layers: Linear, ReLU, Tanh, Sigmoid, Dropout, Identity, Flatten, Unflatten, Softmax and
LogSoftmax (Sequential and MLP, which run them in order: sequential.py).

Example::

    >>> layer = nn.Linear(64, 10)
    >>> nn.ReLU()(layer(gpugrad.randn(32, 64))).shape
    (32, 10)
"""

from __future__ import annotations

import math
import warnings

from .. import creation
from ..ops.inplace import written_back
from ..ops.shape import flatten
from . import functional as F, init
from .dropout_variants import check_probability
from .module import Module, Parameter

__all__ = ["Linear", "ReLU", "Tanh", "Sigmoid", "Dropout", "Identity", "Flatten", "Unflatten",
           "Softmax", "LogSoftmax"]


class Linear(Module):
    """``y = x @ W.T + b`` with W of shape (out, in) and b of shape (out,).

    Initialised as PyTorch's Linear: W and b uniform in [-1/sqrt(in), 1/sqrt(in)], so runs
    are comparable. Shapes: (..., in) -> (..., out).

    Example::

        >>> layer = nn.Linear(3, 2)
        >>> layer.weight.shape, layer.bias.shape, layer(gpugrad.ones(4, 5, 3)).shape
        ((2, 3), (2,), (4, 5, 2))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features) if in_features else 0.0
        self.weight = Parameter(_uniform((out_features, in_features), bound, device, dtype))
        if bias:
            self.bias = Parameter(_uniform((out_features,), bound, device, dtype))
        else:
            self.register_parameter("bias", None)      # an empty slot, as PyTorch's

    def reset_parameters(self) -> None:
        """Draw the weight and bias again from PyTorch's initial distribution, in place."""
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features else 0.0
        for p in (self.weight, self.bias):
            if p is not None:
                init.uniform_(p, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


def _uniform(shape, bound, device, dtype):
    """Values uniform in [-bound, bound), from gpugrad's seeded generator."""
    return creation.rand(*shape, device=device, dtype=dtype) * (2 * bound) - bound


class ReLU(Module):
    """max(x, 0), element-wise; any shape. ``inplace=True`` writes the result into the input
    (as PyTorch's; computed from a copy here, so it saves no memory). Example::

        >>> nn.ReLU()(gpugrad.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.], device='cpu', dtype=float32)
    """

    inplace = False             # (for modules pickled before it had the argument)

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return written_back(input, F.relu) if self.inplace else F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """tanh(x), element-wise; any shape. Example::

        >>> nn.Tanh()(gpugrad.tensor([0.0, 1.0]))
        tensor([0.       , 0.7615942], device='cpu', dtype=float32)
    """

    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    """1 / (1 + exp(-x)), element-wise; any shape. Example::

        >>> nn.Sigmoid()(gpugrad.tensor([0.0, 2.0]))
        tensor([0.5     , 0.880797], device='cpu', dtype=float32)
    """

    def forward(self, input):
        return F.sigmoid(input)


class Identity(Module):
    """Returns its input unchanged (a placeholder layer); any shape. Takes and ignores any
    arguments (as PyTorch's), so it can replace a layer with the same constructor call.
    Example::

        >>> nn.Identity(54, unused_argument1=0.1)(gpugrad.tensor([1.0]))
        tensor([1.], device='cpu', dtype=float32)
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Dropout(Module):
    """Zeroes each element with probability ``p`` while training (scaling the rest by
    1/(1-p); ``p=1`` gives zeros); the identity in eval mode. Masks come from gpugrad's
    seeded generator. ``inplace=True`` writes the result into the input (as PyTorch's).
    Shapes: any, unchanged. Example::

        >>> drop = nn.Dropout(0.5)
        >>> sorted(set(drop(gpugrad.ones(100)).tolist()))      # kept ones scaled by 2
        [0.0, 2.0]
        >>> drop.eval()(gpugrad.ones(3))
        tensor([1., 1., 1.], device='cpu', dtype=float32)
    """

    inplace = False             # (for modules pickled before it had the argument)

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        check_probability("Dropout", p)
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Flatten(Module):
    """Axes ``start_dim``..``end_dim`` merged into one (by default all but the batch axis):
    (N, C, H, W) -> (N, C*H*W). Example::

        >>> nn.Flatten()(gpugrad.ones(2, 3, 4)).shape
        (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Axis ``dim`` split into ``unflattened_size`` (its product must be the axis's size; one
    entry may be -1): (N, 12) -> (N, 3, 4) for ``Unflatten(1, (3, 4))``. Example::

        >>> nn.Unflatten(1, (3, -1))(gpugrad.ones(2, 12)).shape
        (2, 3, 4)
    """

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        dim = self.dim % input.ndim
        return input.reshape(tuple(input.shape[:dim]) + self.unflattened_size +
                             tuple(input.shape[dim + 1:]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Softmax(Module):
    """Softmax along ``dim``: each slice along it sums to 1; any shape, unchanged. ``dim``
    None picks PyTorch's old implicit axis (0 for 0-, 1- and 3-d inputs, else 1), with
    PyTorch's warning. Example::

        >>> nn.Softmax(dim=-1)(gpugrad.tensor([[0.0, 0.0]]))
        tensor([[0.5, 0.5]], device='cpu', dtype=float32)
    """

    _function = staticmethod(F.softmax)

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        dim = _implicit_dim(self, input) if self.dim is None else self.dim
        return self._function(input, dim=dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log(softmax(x)) along ``dim`` (stable); any shape, unchanged. Example::

        >>> nn.LogSoftmax(dim=1)(gpugrad.tensor([[0.0, 0.0]])).exp()
        tensor([[0.5, 0.5]], device='cpu', dtype=float32)
    """

    _function = staticmethod(F.log_softmax)


def _implicit_dim(module, x) -> int:
    warnings.warn(f"Implicit dimension choice for {type(module).__name__.lower()} has been "
                  f"deprecated. Change the call to include dim=X as an argument.",
                  stacklevel=3)
    return 0 if x.ndim in (0, 1, 3) else 1
