"""Utilities for models, as ``torch.nn.utils``: gradient clipping, parameters as one vector
(and back), and the handles that forward hooks return.

Example::

    >>> model = nn.Linear(2, 1)
    >>> model(gpugrad.ones(8, 2) * 100).sum().backward()      # grads [[800, 800]] and [8]
    >>> nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)  # sqrt(2 * 800**2 + 8**2)
    tensor(1131.3992, device='cpu', dtype=float32)
    >>> round(nn.utils.get_total_norm([p.grad for p in model.parameters()]).item(), 4)
    1.0
"""

from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .hooks import RemovableHandle

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "RemovableHandle"]
