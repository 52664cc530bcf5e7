"""Layers: Linear, ReLU, Tanh, Sigmoid, Dropout, Identity, Sequential and MLP.

Example::

    >>> model = nn.MLP([64, 128, 10])         # Linear(64, 128), ReLU, Linear(128, 10)
    >>> model(gpugrad.randn(32, 64)).shape
    (32, 10)
"""

from __future__ import annotations

import math

from .. import creation
from ..ops.inplace import written_back
from . import functional as F
from .module import Module, Parameter

__all__ = ["Linear", "ReLU", "Tanh", "Sigmoid", "Dropout", "Identity", "Sequential", "MLP"]


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

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

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

    def forward(self, x):
        return written_back(x, F.relu) if self.inplace else F.relu(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """tanh(x), element-wise; any shape. Example::

        >>> nn.Tanh()(gpugrad.tensor([0.0, 1.0]))
        tensor([0.       , 0.7615942], device='cpu', dtype=float32)
    """

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)), element-wise; any shape. Example::

        >>> nn.Sigmoid()(gpugrad.tensor([0.0, 2.0]))
        tensor([0.5     , 0.880797], device='cpu', dtype=float32)
    """

    def forward(self, x):
        return F.sigmoid(x)


class Identity(Module):
    """Returns its input unchanged (a placeholder layer); any shape."""

    def forward(self, x):
        return x


class Dropout(Module):
    """Zeroes each element with probability ``p`` while training (scaling the rest by
    1/(1-p)); the identity in eval mode. Masks come from gpugrad's seeded generator.
    Shapes: any, unchanged. Example::

        >>> drop = nn.Dropout(0.5)
        >>> sorted(set(drop(gpugrad.ones(100)).tolist()))      # kept ones scaled by 2
        [0.0, 2.0]
        >>> drop.eval()(gpugrad.ones(3))
        tensor([1., 1., 1.], device='cpu', dtype=float32)
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Sequential(Module):
    """Modules applied one after another; indexable and iterable like a list.

    A Linear followed by a ReLU runs as one ``linear_relu`` op (the same function, one
    graph node, and the fused kernels on CUDA), unless either has forward hooks.

    Example::

        >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        >>> len(model), model[0], model(gpugrad.ones(4, 2)).shape
        (3, Linear(in_features=2, out_features=3, bias=True), (4, 1))
    """

    def __init__(self, *modules: Module):
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential takes Modules; item {i} is a "
                                f"{type(module).__name__}")
            self.add_module(str(i), module)

    def forward(self, x):
        modules = tuple(self._modules.values())
        i, count = 0, len(modules)
        while i < count:
            module = modules[i]
            if module.__class__ is Linear and i + 1 < count and \
                    modules[i + 1].__class__ is ReLU and module.bias is not None and not (
                        module._forward_hooks or module._forward_pre_hooks or
                        modules[i + 1]._forward_hooks or modules[i + 1]._forward_pre_hooks):
                x = F.linear_relu(x, module.weight, module.bias)   # one op: fused on CUDA
                i += 2
            else:
                x = module(x)
                i += 1
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        return modules[index]


_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


class MLP(Module):
    """A multilayer perceptron: Linear layers of ``sizes`` with an activation (and optional
    Dropout) between them, none after the last.

    ``checkpoint``: None (keep every activation), an int k (``checkpoint_sequential`` of
    ``blocks()`` in k segments, split as PyTorch splits: never inside a Linear + activation
    block) or a ``gpugrad.checkpoint.Plan`` (see ``plan``).
    Shapes: (N, sizes[0]) -> (N, sizes[-1]). Example::

        >>> model = nn.MLP([4, 8, 8, 3], activation="tanh")
        >>> [type(layer).__name__ for layer in model.layers]
        ['Linear', 'Tanh', 'Linear', 'Tanh', 'Linear']
        >>> sum(p.numel() for p in model.parameters())        # 4*8+8 + 8*8+8 + 8*3+3
        139
    """

    def __init__(self, sizes, activation: str = "relu", dropout: float = 0.0,
                 device=None, dtype=None, checkpoint=None):
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP needs at least an input and an output size, all positive; "
                             f"got {sizes}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; use one of "
                             f"{sorted(_ACTIVATIONS)}")
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, device=device, dtype=dtype))
            if i < len(sizes) - 2:
                layers.append(_ACTIVATIONS[activation]())
                if dropout > 0:
                    layers.append(Dropout(dropout))
        self.sizes = sizes
        self.layers = Sequential(*layers)
        self.checkpoint = checkpoint

    def blocks(self) -> list:
        """The layers as blocks, each a Sequential of a Linear and the layers after it up to
        the next Linear (its activation, its Dropout), so a Linear + ReLU block runs as one
        ``linear_relu`` record: the units that ``checkpoint=k`` segments. A new list each
        call, of the model's own layers (the blocks are made again only when the layers
        change).

        Example::

            >>> model = nn.MLP([4, 8, 8, 3], dropout=0.1)
            >>> [[type(m).__name__ for m in block] for block in model.blocks()]
            [['Linear', 'ReLU', 'Dropout'], ['Linear', 'ReLU', 'Dropout'], ['Linear']]
        """
        layers = list(self.layers)
        key = tuple(map(id, layers))
        made = self.__dict__.get("_blocks")         # (layer ids, blocks): not a submodule
        if made is None or made[0] != key:
            starts = [i for i, layer in enumerate(layers) if isinstance(layer, Linear)]
            stops = starts[1:] + [len(layers)]
            made = self.__dict__["_blocks"] = (
                key, [Sequential(*layers[start:stop]) for start, stop in zip(starts, stops)])
        return list(made[1])

    def forward(self, x):
        strategy = self.checkpoint
        if strategy is None:
            return self.layers(x)
        if isinstance(strategy, int):
            from ..checkpoint.recompute import checkpoint_sequential
            return checkpoint_sequential(self.blocks(), strategy, x)
        return strategy.run(x)                      # a gpugrad.checkpoint.Plan
