"""Lazy modules, as PyTorch's: ``LazyLinear`` infers ``in_features`` from its first input.

Until its first call its parameters are ``UninitializedParameter``s (parameter.py); the
first call gives them their shapes in place (the same objects, so an optimizer built before
it trains them), initialises them as ``Linear`` does, and makes the module a ``Linear``.
A state dict loaded before the first call gives the shapes too. Constructing one does not
warn (PyTorch 2.13's does not; older ones did).

Example::

    >>> layer = nn.LazyLinear(2)
    >>> layer(gpugrad.ones(4, 3)).shape, type(layer).__name__, layer.weight.shape
    ((4, 2), 'Linear', (2, 3))
"""

from __future__ import annotations

from ..autograd.compile_mode import structure_changed
from ..autograd.mode import no_grad
from .layers import Linear
from .module import Module
from .parameter import UninitializedParameter, is_lazy, uninitialized_entry

__all__ = ["LazyModuleMixin", "LazyLinear"]


class LazyModuleMixin:
    """What lazy modules share, as PyTorch's ``LazyModuleMixin``: ``cls_to_become`` (the
    class the module takes once its parameters are materialised) and
    ``has_uninitialized_params``; a subclass defines ``initialize_parameters(*inputs)`` and
    calls ``_register_lazy_hooks()`` in its ``__init__``. Materialising runs as a forward
    pre-hook registered then (as PyTorch's), so forward pre-hooks registered later see the
    materialised parameters; the hook is removed once it has run."""

    cls_to_become = None

    def _register_lazy_hooks(self) -> None:
        """Register the forward pre-hook that materialises the parameters (first of all
        the module's pre-hooks, as PyTorch's ``LazyModuleMixin.__init__`` does)."""
        self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter of this module (not of its submodules) is still lazy."""
        return any(is_lazy(p) for p in self._parameters.values())

    def initialize_parameters(self, *args, **kwargs) -> None:
        """Materialise (and initialise) the lazy parameters from the first call's
        arguments: each subclass defines it (``LazyLinear``: from the input's last size)."""
        raise NotImplementedError(f"{type(self).__name__} must define "
                                  f"initialize_parameters(*inputs)")

    def _infer_parameters(self, module, args, kwargs=None) -> None:
        """The forward pre-hook: materialise the parameters from the first call's
        arguments, remove this hook and become ``cls_to_become`` (PyTorch's signature)."""
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {type(module).__name__} has not been fully "
                               f"initialized")
        module._finish_lazy()

    def _finish_lazy(self) -> None:
        """Remove the materialising pre-hook and become ``cls_to_become``."""
        state = self.__dict__
        hooks = state["_forward_pre_hooks"]
        keys = [key for key, hook in hooks.items()
                if getattr(hook, "__self__", None) is self
                and getattr(hook, "__name__", "") == "_infer_parameters"]
        if keys:
            structure_changed()
        for key in keys:
            for registry in (hooks, state["_forward_pre_hooks_with_kwargs"],
                             state["_all_hooks"]):
                registry.pop(key, None)
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """A lazy parameter found in ``state_dict`` takes that entry's shape first (as
        PyTorch's ``_lazy_load_hook``), then the values load as usual. A state dict saved
        before the first call (its entries ``UninitializedParameter``s, or the empty
        arrays ``gpugrad.save`` wrote for them) leaves the module lazy."""
        lazy = {prefix + name: param for name, param in self._parameters.items()
                if is_lazy(param) and prefix + name in state_dict}
        if not all(uninitialized_entry(state_dict[key]) for key in lazy):
            for key, param in lazy.items():
                if not is_lazy(state_dict[key]):
                    param.materialize(tuple(state_dict[key].shape))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)
        if not self.has_uninitialized_params():
            self._on_materialized()
            self._finish_lazy()

    def _on_materialized(self) -> None:
        """Set what the materialised shapes say (``in_features``...); nothing by default."""


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` whose ``in_features`` is the last size of its first input, as
    ``nn.LazyLinear``; after that call it is a ``Linear``. Shapes: (..., in) -> (..., out).

    Example::

        >>> layer = nn.LazyLinear(3, bias=False)
        >>> layer.weight
        <UninitializedParameter>
        >>> layer(gpugrad.ones(2, 5)).shape, layer.in_features
        ((2, 3), 5)
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        Module.__init__(self)
        self._register_lazy_hooks()
        self.in_features, self.out_features = 0, out_features
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """``Linear``'s initialisation, once the parameters are materialised (before
        that, nothing: they have no values yet)."""
        if not self.has_uninitialized_params() and self.in_features != 0:
            Linear.reset_parameters(self)

    def initialize_parameters(self, input) -> None:
        """``in_features`` from ``input``'s last size; the parameters materialised and
        initialised as ``Linear``'s."""
        if not self.has_uninitialized_params():
            return
        if input.ndim == 0:
            raise ValueError("LazyLinear: the input must have at least one dimension (its "
                             "last size is in_features), got a 0-d tensor")
        self.in_features = int(input.shape[-1])
        with no_grad():
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()

    def _on_materialized(self) -> None:
        self.in_features = int(self.weight.shape[1])

    def forward(self, input):
        if self.has_uninitialized_params():       # (forward called directly, not the module)
            self._infer_parameters(self, (input,))
        return Linear.forward(self, input)
