"""The older spectral normalisation, as ``torch.nn.utils.spectral_norm``: the parameter
``<name>`` moves to ``<name>_orig``, the power method's vectors are the buffers ``<name>_u``
and ``<name>_v``, and a forward pre-hook sets the plain attribute ``<name>`` to
``<name>_orig / sigma`` before every call (refining u and v first in training mode).

Example::

    >>> layer = nn.utils.spectral_norm(nn.Linear(3, 2))
    >>> sorted(layer.state_dict())
    ['bias', 'weight_orig', 'weight_u', 'weight_v']
"""

from __future__ import annotations

from ... import creation
from ...autograd.mode import no_grad
from ...ops import reduce
from ..module import Module
from ..normalization import normalize
from ..parameter import Parameter
from .parametrizations import power_iterations, weight_as_matrix
from .weight_norm_hook import remove_reparametrization

__all__ = ["SpectralNorm", "spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    """The forward pre-hook that ``spectral_norm`` registers (PyTorch's class of the same
    name): ``<name> = <name>_orig / (u . (W v))``, W the weight as a (size of ``dim``,
    rest) matrix, u and v refined in place by ``n_power_iterations`` steps of v =
    normalize(W^T u), u = normalize(W v) when the module is training."""

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12):
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.dim = name, dim
        self.n_power_iterations, self.eps = n_power_iterations, eps

    def reshape_weight_to_matrix(self, weight):
        return weight_as_matrix(weight, self.dim)

    def compute_weight(self, module: Module, do_power_iteration: bool):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            power_iterations(weight_mat, u, v, self.n_power_iterations, self.eps, v_first=True)
            u, v = u.clone(), v.clone()     # (the buffers change in place next call)
        sigma = reduce.sum(u * (weight_mat @ v))
        return weight / sigma

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int,
              eps: float) -> "SpectralNorm":
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter "
                             f"'{name}' (or it is None); pass the name of one")
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            kwargs = {"dtype": weight.dtype, "device": weight.device}
            u = normalize(creation.randn(h, **kwargs), dim=0, eps=fn.eps)
            v = normalize(creation.randn(w, **kwargs), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.data)
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide the parameter ``name`` of ``module`` by its largest singular value, estimated
    by the power method before every forward, as PyTorch's ``nn.utils.spectral_norm``
    (``parametrizations.spectral_norm`` is the newer form). ``dim`` None: 0. Shapes: any
    weight of 2 or more dimensions, kept. Returns ``module``; undo with
    ``remove_spectral_norm``. See the module docstring for an example."""
    SpectralNorm.apply(module, name, n_power_iterations, 0 if dim is None else dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo ``spectral_norm``: ``name`` becomes one parameter again, holding the weight
    divided by its current sigma (no power step). Example::

        >>> layer = nn.utils.remove_spectral_norm(nn.utils.spectral_norm(nn.Linear(3, 2)))
        >>> sorted(layer.state_dict())
        ['bias', 'weight']
    """
    return remove_reparametrization(module, name, SpectralNorm, "spectral_norm")
