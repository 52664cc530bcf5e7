"""Parameters as one flat vector and back, as ``torch.nn.utils.parameters_to_vector`` and
``vector_to_parameters``.

Example::

    >>> layer = nn.Linear(2, 1)                                  # weight (1, 2), bias (1,)
    >>> vec = nn.utils.parameters_to_vector(layer.parameters())
    >>> vec.shape
    (3,)
    >>> nn.utils.vector_to_parameters(gpugrad.tensor([1.0, 2.0, 3.0]), layer.parameters())
    >>> layer.weight.tolist(), layer.bias.tolist()
    ([[1.0, 2.0]], [3.0])
"""

from __future__ import annotations

from ...autograd.mode import no_grad
from ...ops.shape import cat, reshape
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _same_device(param, device, where: str):
    if device is not None and param.device != device:
        raise TypeError(f"{where}: the parameters are on different devices ({device} and "
                        f"{param.device}); move the model to one device first")
    return param.device


def parameters_to_vector(parameters) -> Tensor:
    """The parameters flattened and joined, in order, into one 1-d tensor (differentiable:
    a loss of it sends gradients to the parameters). Shapes: p_i -> (sum of p_i.numel(),).

    Example::

        >>> from gpugrad.nn.utils import parameters_to_vector
        >>> parameters_to_vector(nn.Linear(3, 2).parameters()).shape     # 6 + 2
        (8,)
    """
    device, flat = None, []
    for param in parameters:
        device = _same_device(param, device, "parameters_to_vector")
        flat.append(reshape(param, (-1,)))
    return cat(flat)


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-d ``vec`` (sum of p_i.numel(),) into the parameters
    (in place, under ``no_grad``), each reshaped to its parameter's shape.

    Example::

        >>> from gpugrad.nn.utils import vector_to_parameters
        >>> layer = nn.Linear(2, 1)
        >>> vector_to_parameters(gpugrad.tensor([1.0, 2.0, 3.0]), layer.parameters())
        >>> layer.weight.tolist(), layer.bias.tolist()
        ([[1.0, 2.0]], [3.0])
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected a gpugrad Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(f"vector_to_parameters: vec has shape {tuple(vec.shape)}, but the "
                         f"parameters hold {total} values: pass a 1-d vector of that length")
    device, start = None, 0
    with no_grad():
        for param in params:
            device = _same_device(param, device, "vector_to_parameters")
            count = param.numel()
            param.copy_(reshape(vec[start:start + count], tuple(param.shape)))
            start += count
