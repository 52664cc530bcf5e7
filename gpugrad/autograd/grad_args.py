"""The arguments of ``backward`` and ``grad`` (engine.py), checked as PyTorch takes them:
tensors and inputs as a Tensor or any iterable of Tensors (``model.parameters()``), the
cotangents as Tensors or None (one-element roots may omit theirs), with PyTorch's errors.

Example::

    >>> from gpugrad.autograd.grad_args import as_sequence
    >>> w = gpugrad.ones(2, requires_grad=True)
    >>> len(as_sequence(iter([w, w]), "inputs"))
    2
"""

from __future__ import annotations

from .saved_tensor import _tensor_type
from ..tensor_grad import GradShapeError

__all__ = ["as_sequence", "gradient_sequence", "root_gradients", "check_inputs", "describe"]


def describe(t) -> str:
    return f"tensor of shape {tuple(t.shape)} and dtype {t.dtype}"


def as_sequence(value, name: str) -> tuple:
    """A Tensor as a 1-tuple; any other iterable of Tensors (a list, a generator such as
    ``model.parameters()``, ``dict.values()``) as a tuple, as PyTorch takes them."""
    Tensor = _tensor_type()
    if isinstance(value, Tensor):
        return (value,)
    if isinstance(value, (tuple, list)):
        return tuple(value)
    if hasattr(value, "__iter__") and not isinstance(value, (str, bytes, dict)):
        return tuple(value)
    raise TypeError(f"{name} must be a Tensor or an iterable of Tensors (a list, a tuple, "
                    f"model.parameters()), got {type(value).__name__}")


def gradient_sequence(gradients, count: int, caller: str) -> tuple:
    """The cotangents as a tuple of Tensors or None: one Tensor or None, or an iterable of
    them. Numbers and arrays are refused, as in PyTorch (wrap them with gpugrad.tensor)."""
    Tensor = _tensor_type()
    if gradients is None:
        return (None,) * count
    if isinstance(gradients, Tensor):
        gradients = (gradients,)
    elif isinstance(gradients, (tuple, list)) or (
            hasattr(gradients, "__iter__") and not hasattr(gradients, "shape")):
        gradients = tuple(gradients)
    else:
        gradients = (gradients,)
    for g in gradients:
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f"{caller}: gradients can be either Tensors or None, but got "
                            f"{type(g).__name__}; wrap a value with gpugrad.tensor(value, "
                            f"dtype=y.dtype) (e.g. y.backward(gpugrad.tensor(2.0)))")
    if len(gradients) != count:
        raise GradShapeError(f"{caller}: got {len(gradients)} gradients for {count} "
                             f"tensors; pass one gradient per tensor")
    return gradients


def root_gradients(tensors, gradients, caller: str) -> list:
    """The cotangent to start from for each root: the given one, or ones for one-element roots."""
    gradients = gradient_sequence(gradients, len(tensors), caller)
    result = []
    for i, (t, g) in enumerate(zip(tensors, gradients)):
        if not t._requires_grad:
            raise RuntimeError(
                f"{caller}: tensor {i} ({describe(t)}) does not require grad and has no "
                f"grad_fn: it was not computed from a tensor with requires_grad=True, or it was "
                f"computed under no_grad(). Create the inputs with requires_grad=True.")
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(
                    f"{caller}: grad can be implicitly created only for one-element outputs, "
                    f"but this output has shape {tuple(t.shape)}. Pass the cotangent "
                    f"explicitly, e.g. y.backward(gpugrad.ones_like(y)), or reduce first "
                    f"(y.sum().backward()).")
            if t.dtype.kind == "c":
                raise RuntimeError(
                    f"{caller}: grad can be implicitly created only for real scalar outputs, "
                    f"but this output is {t.dtype}; reduce it to a real number first (e.g. "
                    f"y.abs(), y.real) or pass the cotangent explicitly")
            g = t._ones_like_for_grad()
        else:
            if tuple(g.shape) != tuple(t.shape):
                raise GradShapeError(
                    f"{caller}: gradient {i} has shape {tuple(g.shape)} but its tensor has "
                    f"shape {tuple(t.shape)}; they must match")
            if g.dtype != t.dtype:
                g = g.astype(t.dtype)
        result.append(g)
    return result


def check_inputs(inputs, caller: str):
    Tensor = _tensor_type()
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"{caller}: input {i} is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(
                f"{caller}: input {i} ({describe(t)}) does not require grad; create it with "
                f"requires_grad=True or call .requires_grad_() on it first")
