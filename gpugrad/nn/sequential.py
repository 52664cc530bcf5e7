"""Sequential and MLP: layers run one after another. A Linear followed by a ReLU runs as one
``linear_relu`` op (fused on CUDA) unless either has hooks; an MLP can checkpoint its blocks.

Example::

    >>> model = nn.MLP([64, 128, 10])         # Linear(64, 128), ReLU, Linear(128, 10)
    >>> model(gpugrad.randn(32, 64)).shape
    (32, 10)
"""

from __future__ import annotations

from collections import OrderedDict

from . import functional as F
from .containers import _check_module, _position, _renumber
from .layers import Dropout, Linear, ReLU, Sigmoid, Tanh
from .module import Module

__all__ = ["Sequential", "MLP"]


def _hooked(module) -> bool:
    """Whether ``module`` has hooks or its own ``forward`` (set on the instance: an adapter,
    a debugging wrapper), which a fused Linear + ReLU would skip."""
    return bool(module._all_hooks) or "forward" in module.__dict__


class Sequential(Module):
    """Modules applied one after another, named "0", "1", ... or by the keys of an
    OrderedDict; indexable, sliceable and iterable like a list, with ``append``, ``insert``,
    ``extend``, ``pop``, ``del``, item assignment and ``+`` (as PyTorch's). A slice keeps the
    names it had (``model[1:]`` holds "1", "2"...), so its state_dict keys are the model's.
    Reach a named module as an attribute (``model.fc``).

    A Linear followed by a ReLU runs as one ``linear_relu`` op (the same function, one
    graph node, and the fused kernels on CUDA), unless either has hooks or a ``forward``
    set on the instance.

    Example::

        >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        >>> len(model), model[0], model(gpugrad.ones(4, 2)).shape
        (3, Linear(in_features=2, out_features=3, bias=True), (4, 1))
        >>> list(model[1:].state_dict())
        ['2.weight', '2.bias']
        >>> from collections import OrderedDict
        >>> named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.Tanh()))
        >>> named.fc.out_features, list(named.state_dict())
        (2, ['fc.weight', 'fc.bias'])
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, _check_module(module, f"Sequential (key {name!r})"))
            return
        for i, module in enumerate(modules):
            self.add_module(str(i), _check_module(module, f"Sequential (item {i})"))

    def forward(self, input):
        modules = tuple(self._modules.values())
        i, count = 0, len(modules)
        while i < count:
            module = modules[i]
            if module.__class__ is Linear and i + 1 < count and \
                    modules[i + 1].__class__ is ReLU and module.bias is not None and \
                    not (_hooked(module) or _hooked(modules[i + 1])):
                input = F.linear_relu(input, module.weight, module.bias)   # one op: fused on CUDA
                i += 2
            else:
                input = module(input)
                i += 1
        return input

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        modules = list(self._modules.values())
        return modules[_position(index, len(modules), "Sequential")]

    def __setitem__(self, index, module) -> None:
        name = list(self._modules)[_position(index, len(self), "Sequential")]
        setattr(self, name, _check_module(module, "Sequential"))

    def __delitem__(self, index) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_position(index, len(modules), "Sequential")]
        _renumber(self, "_modules", modules)        # "0", "1", ... again, as PyTorch

    def __add__(self, other) -> "Sequential":
        if not isinstance(other, Sequential):
            raise TypeError(f"Sequential + {type(other).__name__}: add another Sequential")
        return Sequential(*self, *other)

    def __iadd__(self, other) -> "Sequential":
        return self.extend(other)

    def append(self, module: Module) -> "Sequential":
        """Add ``module`` at the end (named ``str(len(self))``); returns self."""
        self.add_module(str(len(self)), _check_module(module, "Sequential.append"))
        return self

    def extend(self, modules) -> "Sequential":
        """Append each of ``modules``; returns self."""
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> "Sequential":
        """Put ``module`` before position ``index`` (the modules are numbered again)."""
        count = len(self)
        if not -count <= index <= count:
            raise IndexError(f"Sequential.insert: index {index} is out of range for "
                             f"{count} modules")
        modules = list(self._modules.values())
        modules.insert(index, _check_module(module, "Sequential.insert"))
        _renumber(self, "_modules", modules)
        return self

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at ``index``."""
        module = self[index]
        del self[index]
        return module


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

    def forward(self, input):
        strategy = self.checkpoint
        if strategy is None:
            return self.layers(input)
        if isinstance(strategy, int):
            from ..checkpoint.recompute import checkpoint_sequential
            return checkpoint_sequential(self.blocks(), strategy, input)
        return strategy.run(input)                      # a gpugrad.checkpoint.Plan
