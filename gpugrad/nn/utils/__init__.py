"""Utilities for models, as ``torch.nn.utils``: gradient clipping, parameters as one vector
(and back), the handles that forward hooks return, and reparametrizations: the modules
``parametrize`` and ``parametrizations`` (weight_norm, spectral_norm) and the older
``weight_norm`` / ``spectral_norm`` hooks.

Example::

    >>> model = nn.Linear(2, 1)
    >>> model(gpugrad.ones(8, 2) * 100).sum().backward()      # grads [[800, 800]] and [8]
    >>> nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)  # sqrt(2 * 800**2 + 8**2)
    tensor(1131.3992, device='cpu', dtype=float32)
    >>> round(nn.utils.get_total_norm([p.grad for p in model.parameters()]).item(), 4)
    1.0
"""

import importlib
import warnings

from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .hooks import RemovableHandle


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    """Deprecated (as in PyTorch): ``clip_grad_norm_`` with a FutureWarning."""
    warnings.warn("`nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm", "parameters_to_vector", "vector_to_parameters", "RemovableHandle",
           "parametrize", "parametrizations", "weight_norm", "remove_weight_norm", "spectral_norm",
           "remove_spectral_norm", "stateless"]

# Loaded on first use: they build on nn.Module, whose own module imports .hooks from here.
# (The hook-based weight_norm and spectral_norm live in files of other names, so that
# importing those files never rebinds the package's function names to modules.)
_LAZY = {"parametrize": ("parametrize", None), "parametrizations": ("parametrizations", None),
         "stateless": ("stateless", None),
         "weight_norm": ("weight_norm_hook", "weight_norm"),
         "remove_weight_norm": ("weight_norm_hook", "remove_weight_norm"),
         "spectral_norm": ("spectral_norm_hook", "spectral_norm"),
         "remove_spectral_norm": ("spectral_norm_hook", "remove_spectral_norm")}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(f"{__name__}.{module_name}")
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value
