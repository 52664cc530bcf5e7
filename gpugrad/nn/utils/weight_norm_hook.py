"""The older weight normalisation, as ``torch.nn.utils.weight_norm`` (deprecated there in
favour of ``parametrizations.weight_norm``, and warned about with the same FutureWarning):
the parameter ``<name>`` is replaced by the parameters ``<name>_g`` (magnitude) and
``<name>_v`` (direction), and a forward pre-hook sets the plain attribute ``<name>`` to
``g * v / ||v||`` before every call.

Example::

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     layer = nn.utils.weight_norm(nn.Linear(3, 2))
    >>> [name for name, _ in layer.named_parameters()]
    ['bias', 'weight_g', 'weight_v']
    >>> layer.weight_g.shape
    (2, 1)
"""

from __future__ import annotations

import warnings

from ...autograd.compile_mode import structure_changed
from ...autograd.mode import no_grad
from ..module import Module
from ..parameter import Parameter
from .parametrizations import _weight_norm, norm_except_dim

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


class WeightNorm:
    """The forward pre-hook that ``weight_norm`` registers: it recomputes ``<name>`` from
    ``<name>_g`` and ``<name>_v`` (the norm over every dimension but ``dim``; -1: all)."""

    def __init__(self, name: str, dim: int | None):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> "WeightNorm":
        warnings.warn("`nn.utils.weight_norm` is deprecated in favor of "
                      "`nn.utils.parametrizations.weight_norm` (as "
                      "`torch.nn.utils.weight_norm` is).", FutureWarning, stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same "
                                   f"parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name, None)
        if not isinstance(weight, Parameter):
            raise ValueError(f"weight_norm: {type(module).__name__} has no parameter "
                             f"'{name}'; pass the name of one (e.g. name='weight')")
        delattr(module, name)
        module.register_parameter(name + "_g",
                                  Parameter(norm_except_dim(weight, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module)
        delattr(module, self.name)
        delattr(module, self.name + "_g")
        delattr(module, self.name + "_v")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Replace the parameter ``name`` of ``module`` by a magnitude ``<name>_g`` and a
    direction ``<name>_v`` (w = g * v / ||v||, the norm over every dimension but ``dim``;
    None: over all, g 0-d), recomputed before each forward, as PyTorch's deprecated
    ``nn.utils.weight_norm`` (it warns FutureWarning as PyTorch does). Shapes: weight
    (out, in), dim 0 -> g (out, 1), v (out, in). Returns ``module``; undo with
    ``remove_weight_norm``. See the module docstring for an example."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``weight_norm``: ``name`` becomes one parameter again, holding g * v / ||v||.
    Example::

        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     layer = nn.utils.weight_norm(nn.Linear(3, 2))
        >>> [n for n, _ in nn.utils.remove_weight_norm(layer).named_parameters()]
        ['bias', 'weight']
    """
    return remove_reparametrization(module, name, WeightNorm, "weight_norm")


def remove_reparametrization(module: Module, name: str, kind: type, what: str) -> Module:
    """Undo the hook-based reparametrization ``kind`` (WeightNorm, SpectralNorm) of
    ``name``: the hook puts one parameter back, then is unregistered (what its handle's
    ``remove`` does; the handle may be gone, or belong to the module this one was copied
    from). A ValueError naming ``what`` when ``name`` has none."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, kind) and hook.name == name:
            hook.remove(module)
            for hooks in (module._forward_pre_hooks, module._forward_pre_hooks_with_kwargs,
                          module._all_hooks):
                hooks.pop(key, None)
            structure_changed()
            return module
    raise ValueError(f"{what} of '{name}' not found in {module}")
