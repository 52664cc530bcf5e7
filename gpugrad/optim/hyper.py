"""What the optimizers share: their hyperparameter checks, PyTorch's implementation
switches (accepted where they change no result), and the pieces of their reference updates
(the gradient after maximize and weight decay; PyTorch's ``lerp_``).

Example::

    >>> from gpugrad.optim.hyper import check_range
    >>> check_range("RMSprop", eps=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: RMSprop: invalid eps=-1.0: it must be >= 0
"""

from __future__ import annotations

from .param_state import is_torch_tensor

__all__ = ["check_range", "check_betas", "check_flags", "effective_grad", "lerp_",
           "own_number"]


def check_range(name: str, high: float | None = None, closed: bool = True, **values) -> None:
    """Raise ValueError naming the first of ``values`` (argument name -> number) that is not
    >= 0 (or not in [0, high], [0, high) with ``closed=False``), as PyTorch's constructors
    check their arguments. NaN fails every check.

    Example::

        >>> from gpugrad.optim.hyper import check_range
        >>> check_range("Adadelta", 1.0, rho=1.5)
        Traceback (most recent call last):
        ...
        ValueError: Adadelta: invalid rho=1.5: it must be in [0, 1.0]
    """
    for arg, value in values.items():
        if high is None:
            ok, need = 0.0 <= value, ">= 0"
        elif closed:
            ok, need = 0.0 <= value <= high, f"in [0, {high}]"
        else:
            ok, need = 0.0 <= value < high, f"in [0, {high})"
        if not ok:
            raise ValueError(f"{name}: invalid {arg}={value!r}: it must be {need}")


def check_betas(name: str, betas) -> tuple:
    """``betas`` as a tuple of two numbers each in [0, 1), else a ValueError naming it."""
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"{name}: betas must be a pair (beta1, beta2), "
                         f"got {betas!r}") from None
    for i, beta in enumerate((beta1, beta2)):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"{name}: invalid betas[{i}]={beta!r}: it must be in [0, 1)")
    return tuple(betas)


def check_flags(name: str, foreach=None, capturable: bool = False,
                differentiable: bool = False, fused=None) -> None:
    """PyTorch's implementation switches, accepted where they change no result: ``foreach``
    and ``fused`` pick how PyTorch loops over parameters (gpugrad's optimizers use their
    fused CUDA kernels where they have them, whatever these say), ``capturable`` says a
    step may be captured in a CUDA graph (gpugrad's fused steps always may). Only
    ``differentiable=True``, a step that autograd records, changes what a step means: it
    is refused. The optimizers keep the switches in their groups, as PyTorch's do.

    Example::

        >>> from gpugrad.optim.hyper import check_flags
        >>> check_flags("Adamax", foreach=True, fused=False)        # accepted
        >>> check_flags("Adamax", differentiable=True)
        Traceback (most recent call last):
        ...
        ValueError: Adamax: differentiable=True is not supported: gpugrad records no graph ...
    """
    for arg, value in (("foreach", foreach), ("fused", fused), ("capturable", capturable),
                       ("differentiable", differentiable)):
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"{name}: {arg} must be a bool or None, got {value!r}")
    if differentiable:
        raise ValueError(f"{name}: differentiable=True is not supported: gpugrad records no "
                         f"graph through an optimizer step (differentiate through an "
                         f"update written with gpugrad ops instead)")


def effective_grad(xp, param, grad, maximize: bool, decay: float):
    """The gradient an update uses: ``-grad`` with ``maximize``, plus ``decay * param`` (the
    L2 penalty; decoupled decay is the caller's). ``grad`` itself, when neither applies;
    otherwise a new value (which may be a NumPy scalar for 0-d arrays: it is only read,
    never written into)."""
    if maximize:
        grad = xp.negative(grad)
    if decay != 0:
        grad = grad + decay * param
    return grad


def lerp_(state, end, weight: float) -> None:
    """``state += weight * (end - state)`` in place, written as PyTorch's ``lerp_`` writes it
    (from the other end when weight >= 0.5), so that the rounding is the same."""
    diff = end - state
    if abs(weight) < 0.5:
        state += weight * diff
    else:
        state[...] = end - diff * (1.0 - weight)


def own_number(value, key: str, name: str):
    """A hyperparameter as gpugrad uses it: a one-element PyTorch tensor
    (``lr=torch.tensor(0.01)``) becomes its number; any other PyTorch tensor is refused;
    anything else is kept as it is.

    Example::

        >>> from gpugrad.optim.hyper import own_number
        >>> own_number(0.5, "lr", "SGD")
        0.5
    """
    if not is_torch_tensor(value):
        return value
    if value.numel() != 1:
        raise TypeError(f"{name}: {key} is a PyTorch tensor of shape {tuple(value.shape)}; "
                        f"give a number (or a 0-d gpugrad tensor)")
    return value.item()
