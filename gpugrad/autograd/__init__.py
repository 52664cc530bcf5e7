"""Reverse-mode automatic differentiation: the graph, the engine, custom Functions, modes and
gradient checking.

Example::

    >>> from gpugrad import autograd
    >>> x = gpugrad.tensor(3.0, requires_grad=True)
    >>> autograd.grad(x ** 2, x)
    (tensor(6., device='cpu', dtype=float32),)
"""

from . import forward_ad, functional, graph
from .engine import AnomalyError, backward, grad
from .function import Function, FunctionCtx, once_differentiable
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import AccumulateGrad, Node
from .mode import (detect_anomaly, enable_grad, inference_mode, is_anomaly_check_nan_enabled,
                   is_anomaly_enabled, is_grad_enabled, is_inference_mode_enabled, no_grad,
                   set_detect_anomaly, set_grad_enabled)
from .variable import Variable
from .multi_grad_hooks import increment_version, register_multi_grad_hook

# torch.autograd.graph's names for these: graph.py cannot import them (they build on it)
graph.increment_version, graph.register_multi_grad_hook = (increment_version,
                                                          register_multi_grad_hook)
graph.__all__ += ["increment_version", "register_multi_grad_hook"]

__all__ = [
    "forward_ad", "functional", "graph", "AnomalyError", "backward", "grad", "Function",
    "FunctionCtx", "once_differentiable",
    "GradcheckError", "gradcheck", "gradgradcheck", "AccumulateGrad", "Node",
    "detect_anomaly", "enable_grad", "inference_mode", "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled", "is_grad_enabled", "is_inference_mode_enabled", "no_grad",
    "set_detect_anomaly", "set_grad_enabled", "Variable",
]
