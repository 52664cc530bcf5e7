"""Containers of sub-modules and parameters, as PyTorch's: ModuleList, ModuleDict,
ParameterList, ParameterDict (Sequential, which also runs its modules, is in layers.py and
shares the indexing helpers here).

Example::

    >>> blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    >>> blocks.append(nn.ReLU())                # repeats shown once, as PyTorch shows them
    ModuleList(
      (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)
      (3): ReLU()
    )
    >>> heads = nn.ModuleDict({"cls": nn.Linear(2, 3), "box": nn.Linear(2, 4)})
    >>> len(blocks), list(heads), "cls" in heads, heads["box"].out_features
    (4, ['cls', 'box'], True, 4)
"""

from __future__ import annotations

import operator

from ..tensor import Tensor
from .module import Module, _indented
from .parameter import Parameter

__all__ = ["ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _position(index, count: int, what: str) -> int:
    """``index`` (an int, negative counting from the end) as a position in [0, count)."""
    try:
        index = operator.index(index)
    except TypeError:
        raise TypeError(f"{what} indices must be integers or slices, not "
                        f"{type(index).__name__} (reach a named module as an attribute: "
                        f"getattr(container, name))") from None
    if not -count <= index < count:
        raise IndexError(f"index {index} is out of range for a {what} of {count}")
    return index % count


def _renumber(owner: Module, registry: str, values: list) -> None:
    """Register ``values`` again as "0", "1", ... in ``owner``'s ``registry`` ("_modules" or
    "_parameters"), as PyTorch does after a deletion."""
    for name in list(owner.__dict__[registry]):
        delattr(owner, name)
    for i, value in enumerate(values):
        setattr(owner, str(i), value)


def _check_module(module, where: str) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{where} takes Modules; got a {type(module).__name__}")
    return module


class ModuleList(Module):
    """A list of sub-modules, registered as "0", "1", ... (so their parameters are the
    list's); index, slice (a new ModuleList), iterate, ``append``, ``extend``, ``insert``,
    ``pop``, ``del`` and ``+``. It has no ``forward``: a model loops over it. Example::

        >>> layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
        >>> layers.insert(0, nn.Identity())
        >>> [name for name, _ in layers.named_parameters()]
        ['1.weight', '1.bias', '2.weight', '2.bias']
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        values = list(self._modules.values())
        if isinstance(index, slice):
            return type(self)(values[index])
        return values[_position(index, len(values), "ModuleList")]

    def __setitem__(self, index, module) -> None:
        setattr(self, str(_position(index, len(self), "ModuleList")),
                _check_module(module, "ModuleList"))

    def __delitem__(self, index) -> None:
        values = list(self._modules.values())
        if isinstance(index, slice):
            del values[index]
        else:
            del values[_position(index, len(values), "ModuleList")]
        _renumber(self, "_modules", values)

    def __iadd__(self, modules) -> "ModuleList":
        return self.extend(modules)

    def __add__(self, other) -> "ModuleList":
        return ModuleList(list(self) + list(other))

    def append(self, module: Module) -> "ModuleList":
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), _check_module(module, "ModuleList.append"))
        return self

    def extend(self, modules) -> "ModuleList":
        """Add each of ``modules`` (an iterable) at the end; returns self."""
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index``."""
        values = list(self._modules.values())
        values.insert(index, _check_module(module, "ModuleList.insert"))
        _renumber(self, "_modules", values)

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at ``index``."""
        module = self[index]
        del self[index]
        return module

    def __repr__(self) -> str:
        """One line per run of equal reprs: ``(0-2): 3 x Linear(...)``, as PyTorch's."""
        reprs = [repr(module) for module in self]
        if not reprs:
            return f"{type(self).__name__}()"
        runs = []                                       # [start, end, repr]
        for i, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = [_indented(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}")
                 for a, b, text in runs]
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """Sub-modules by name, in insertion order (a dict of modules): ``[key]``, ``in``,
    ``keys``, ``items``, ``values``, ``update``, ``pop``, ``clear``; iterating gives keys.
    Example::

        >>> heads = nn.ModuleDict({"a": nn.Linear(2, 1)})
        >>> heads.update([("b", nn.Linear(2, 3))])
        >>> [(k, m.out_features) for k, m in heads.items()], list(heads.state_dict())[2:]
        ([('a', 1), ('b', 3)], ['b.weight', 'b.bias'])
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _check_module(module, "ModuleDict"))

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def clear(self) -> None:
        for key in list(self._modules):
            delattr(self, key)

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def update(self, modules) -> None:
        """Add or replace modules from a mapping (or a ModuleDict) or from (key, module)
        pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for i, pair in enumerate(pairs):
            if len(pair) != 2:
                raise ValueError(f"ModuleDict.update: item {i} has {len(pair)} elements; "
                                 f"each must be a (key, module) pair")
            self[pair[0]] = pair[1]


def _as_parameter(value):
    """A plain tensor becomes a Parameter, as PyTorch's ParameterList/Dict make it."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _entry_lines(pairs) -> str:
    """PyTorch's ParameterList/Dict extra_repr: ``(key): Parameter containing: [float32 of
    size 2x3]`` per entry (the device added where it is not the CPU)."""
    lines = []
    for key, p in pairs:
        size = "x".join(str(n) for n in p.shape)
        device = "" if str(p.device) == "cpu" else f" ({p.device})"
        kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
        lines.append(f"  ({key}): {kind} containing: [{p.dtype} of size {size}{device}]")
    return "\n".join(lines)


class ParameterList(Module):
    """A list of Parameters, registered as "0", "1", ... (a plain tensor becomes a
    Parameter): index, iterate, ``append``, ``extend``, ``len``. Example::

        >>> scales = nn.ParameterList([gpugrad.ones(2), gpugrad.zeros(3)])
        >>> [(name, p.shape) for name, p in scales.named_parameters()]
        [('0', (2,)), ('1', (3,))]
    """

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __getitem__(self, index):
        values = list(self._parameters.values())
        if isinstance(index, slice):
            return type(self)(values[index])
        return values[_position(index, len(values), "ParameterList")]

    def __setitem__(self, index, value) -> None:
        setattr(self, str(_position(index, len(self), "ParameterList")), _as_parameter(value))

    def append(self, value) -> "ParameterList":
        """Add ``value`` (a Parameter, or a tensor made one) at the end; returns self."""
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values) -> "ParameterList":
        for value in list(values):
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return _entry_lines(enumerate(self))


class ParameterDict(Module):
    """Parameters by name, in insertion order (a plain tensor becomes a Parameter): ``[key]``,
    ``in``, ``keys``, ``items``, ``values``, ``update``, ``pop``, ``popitem``, ``get``,
    ``setdefault``, ``clear``, ``copy``, ``fromkeys``, ``|`` and ``|=`` (as PyTorch's).
    Example::

        >>> table = nn.ParameterDict({"scale": gpugrad.ones(2)})
        >>> table["shift"] = nn.Parameter(gpugrad.zeros(2))
        >>> list(table), type(table["scale"]).__name__
        (['scale', 'shift'], 'Parameter')
    """

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.update(values)

    def __getitem__(self, key: str):
        return self._parameters[key]

    def __setitem__(self, key: str, value) -> None:
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        if key not in self._parameters:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key) -> bool:
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def pop(self, key: str):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Remove and return the last (key, parameter) added."""
        if not self._parameters:
            raise KeyError("popitem(): ParameterDict is empty")
        key = next(reversed(self._parameters))
        return key, self.pop(key)

    def get(self, key: str, default=None):
        """The parameter under ``key``, or ``default``."""
        return self._parameters[key] if key in self._parameters else default

    def setdefault(self, key: str, default=None):
        """The parameter under ``key``, set to ``default`` (as a Parameter) first if absent."""
        if key not in self._parameters:
            self[key] = default
        return self._parameters[key]

    def clear(self) -> None:
        for key in list(self._parameters):
            delattr(self, key)

    def copy(self) -> "ParameterDict":
        """A new ParameterDict holding the same Parameters."""
        return ParameterDict(list(self._parameters.items()))

    def fromkeys(self, keys, default=None) -> "ParameterDict":
        """A new ParameterDict with each of ``keys`` set to ``default``."""
        return ParameterDict([(key, default) for key in keys])

    def __reversed__(self):
        return reversed(list(self._parameters))

    def __or__(self, other) -> "ParameterDict":
        copy = self.copy()
        copy.update(other)
        return copy

    def __ror__(self, other) -> "ParameterDict":
        copy = ParameterDict(other)
        copy.update(self)
        return copy

    def __ior__(self, other) -> "ParameterDict":
        self.update(other)
        return self

    def update(self, values) -> None:
        """Add or replace parameters from a mapping or from (key, value) pairs."""
        pairs = values.items() if hasattr(values, "items") else values
        for key, value in list(pairs):
            self[key] = value

    def extra_repr(self) -> str:
        return _entry_lines(self._parameters.items())
