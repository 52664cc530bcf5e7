"""Piecewise activations as PyTorch's ``torch.nn.functional``: relu (with ``inplace``),
threshold, hardshrink, softshrink, hardsigmoid, hardswish, prelu and rrelu, and the
trailing-underscore in-place forms relu_, threshold_ and rrelu_. Composites of gpugrad ops
(gradients of any order come from theirs); any shape in, the same shape out.

At a kink the gradient is PyTorch's: relu, threshold and prelu take the left side's,
hardshrink and softshrink give 0 at +-lambd, hardsigmoid gives 0 at -3 and 3, and hardswish
gives 0 at -3 and 1 at 3 (the outer pieces'). ``inplace=True`` writes the
result into the input and returns it (computed from a copy: it saves no memory here). A NaN
input stays NaN (threshold, hardshrink and softshrink put it on the pass-through side), as
PyTorch's. The gradients of threshold, hardshrink, softshrink and hardsigmoid taken with
``create_graph=True`` do not require grad (PyTorch's give zeros to a second
``autograd.grad``; ``func.hessian`` gives the zeros here too); rrelu's and relu's do, as
PyTorch's.

Example::

    >>> from gpugrad.nn.piecewise_activations import hardswish, softshrink
    >>> x = gpugrad.tensor([-4.0, -3.0, 0.0, 3.0], requires_grad=True)
    >>> hardswish(x).sum().backward(); x.grad              # PyTorch's at -3 and 3
    tensor([0. , 0. , 0.5, 1. ], device='cpu', dtype=float32)
    >>> softshrink(gpugrad.tensor([-1.0, 0.2, 2.0]))
    tensor([-0.5,  0. ,  1.5], device='cpu', dtype=float32)
"""

from __future__ import annotations

from .. import creation
from ..ops.activation import leaky_relu as _leaky_relu
from ..ops.activation import relu as _relu
from ..ops.complex_node import refuse_complex
from ..ops.elementwise import where
from ..ops.inplace import written_back
from ..ops.shape import reshape
from ..ops.unary import _float

__all__ = ["relu", "relu_", "threshold", "threshold_", "hardshrink", "softshrink",
           "hardsigmoid", "hardswish", "prelu", "rrelu", "rrelu_"]


def relu(input, inplace: bool = False):
    """``max(x, 0)``; the gradient at 0 is 0. ``inplace=True`` writes the result into
    ``input`` and returns it, as PyTorch's. Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.piecewise_activations import relu
        >>> x = gpugrad.tensor([-1.0, 2.0])
        >>> relu(x, inplace=True) is x, x.tolist()
        (True, [0.0, 2.0])
    """
    if inplace:
        return written_back(input, _relu)
    return _relu(input)


def relu_(input):
    """``relu(input, inplace=True)``."""
    return written_back(input, _relu)


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """``x`` where x > threshold, else ``value``; the gradient is 1 where x > threshold and
    0 elsewhere (at the threshold too). Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.piecewise_activations import threshold
        >>> threshold(gpugrad.tensor([-1.0, 0.5, 2.0]), 0.5, 9.0)
        tensor([9., 9., 2.], device='cpu', dtype=float32)
    """
    if inplace:
        return written_back(input, _threshold, threshold, value)
    return _threshold(input, threshold, value)


def _threshold(input, threshold, value):
    out = where(input <= threshold, value, input)       # (a NaN passes through, as PyTorch's)
    return _same_integers(out, input)


def _same_integers(out, input):
    """``out`` in ``input``'s dtype where that is an integer one (PyTorch's threshold,
    hardtanh and relu6 keep it; a float ``value`` or bound is truncated)."""
    return out.astype(input.dtype) if input.dtype.kind in "iu" and out.dtype != input.dtype \
        else out


def threshold_(input, threshold: float, value: float):
    """``threshold(input, threshold, value, inplace=True)``."""
    return written_back(input, _threshold, threshold, value)


def hardshrink(input, lambd: float = 0.5):
    """``x`` where |x| > lambd, else 0 (the gradient is 0 at +-lambd). Shapes: any -> the
    same.

    Example::

        >>> from gpugrad.nn.piecewise_activations import hardshrink
        >>> hardshrink(gpugrad.tensor([-1.0, 0.5, 0.6]))
        tensor([-1. ,  0. ,  0.6], device='cpu', dtype=float32)
    """
    x = _float(input)
    return where((x >= -lambd) & (x <= lambd), 0.0, x)     # (a NaN passes through)


def softshrink(input, lambd: float = 0.5):
    """``x - lambd`` where x > lambd, ``x + lambd`` where x < -lambd, else 0 (the gradient
    is 0 at +-lambd); ``lambd`` must be >= 0. Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.piecewise_activations import softshrink
        >>> softshrink(gpugrad.tensor([-2.0, 0.0, 2.0]), lambd=1.0)
        tensor([-1.,  0.,  1.], device='cpu', dtype=float32)
    """
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be greater or equal to 0, but found to be "
                         f"{lambd}")
    x = _float(input)
    inside = (x >= -lambd) & (x <= lambd)           # (a NaN is outside: it passes through)
    zeros = where(inside, x, 0.0) * 0.0             # 0 with x's sign (-0.0), as PyTorch's
    return where(inside, zeros, where(x > lambd, x - lambd, x + lambd))


def hardsigmoid(input, inplace: bool = False):
    """``clamp(x / 6 + 1/2, 0, 1)``: 0 below -3, 1 above 3; the gradient is 1/6 strictly
    between -3 and 3 and 0 elsewhere (NaN included: NaN, gradient 0), as PyTorch's.
    Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.piecewise_activations import hardsigmoid
        >>> hardsigmoid(gpugrad.tensor([-4.0, 0.0, 1.5, 4.0]))
        tensor([0.  , 0.5 , 0.75, 1.  ], device='cpu', dtype=float32)
    """
    if inplace:
        return written_back(input, hardsigmoid)
    x = _float(input)
    inside = (x > -3.0) & (x < 3.0)     # (NaN is outside: NaN with gradient 0, as PyTorch's)
    return where(inside, (x + 3.0) / 6.0, where(x <= -3.0, 0.0, where(x >= 3.0, 1.0, x * 0.0)))


def hardswish(input, inplace: bool = False):
    """``x * hardsigmoid(x)``: 0 below -3, ``x (x + 3) / 6`` on [-3, 3], ``x`` above; the
    gradient is 0 at -3 and 1 at 3 (the outer pieces'), as PyTorch's. Shapes: any -> the
    same.

    Example::

        >>> from gpugrad.nn.piecewise_activations import hardswish
        >>> hardswish(gpugrad.tensor([-4.0, -1.0, 4.0]))
        tensor([-0.        , -0.33333334,  4.        ], device='cpu', dtype=float32)
    """
    if inplace:
        return written_back(input, hardswish)
    x = _float(input)
    # each piece on its own inputs only, so its gradient elsewhere is 0 (not 0 * inf = NaN)
    middle = where((x > -3.0) & (x < 3.0), x, 0.0)
    low = where(x <= -3.0, x, 0.0) * 0.0        # -0.0 (NaN at -inf), as PyTorch's
    return where(x <= -3.0, low, where(x < 3.0, middle * (middle + 3.0) * (1.0 / 6.0), x))


def prelu(input, weight):
    """``x`` where x > 0, else ``weight * x`` with a learned slope: ``weight`` holds one
    slope, or one per channel (the input's axis 1; a 0- or 1-d input has one channel).
    The gradient at 0 is the slope's side's, as PyTorch's. Shapes: input (N, C, ...) and
    weight (1,) or (C,) -> (N, C, ...).

    Example::

        >>> from gpugrad.nn.piecewise_activations import prelu
        >>> prelu(gpugrad.tensor([[-1.0, -1.0], [2.0, -4.0]]), gpugrad.tensor([0.1, 0.5]))
        tensor([[-0.1, -0.5],
                [ 2. , -2. ]], device='cpu', dtype=float32)
    """
    channels = input.shape[1] if input.ndim >= 2 else 1
    count = 1
    for size in weight.shape:
        count *= size
    if weight.ndim > 1 or count not in (1, channels):
        raise ValueError(f"prelu: mismatch of parameter numbers and input channel size: "
                         f"weight of shape {tuple(weight.shape)} for an input of shape "
                         f"{tuple(input.shape)} with {channels} channel(s); give weight one "
                         f"slope, or one per channel (the input's axis 1)")
    x = _float(input)
    if count > 1:       # one slope per channel, along axis 1
        weight = reshape(weight, (channels,) + (1,) * (input.ndim - 2))
    elif weight.ndim == 1 and input.ndim == 0:
        weight = reshape(weight, ())
    return where(x > 0, x, weight * x)


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False):
    """Randomized leaky ReLU: ``x`` where x > 0, else ``a * x`` with ``a`` drawn uniformly
    from [lower, upper) for each element when ``training`` (from gpugrad's generator), and
    ``a = (lower + upper) / 2`` otherwise. Shapes: any -> the same.

    Example::

        >>> from gpugrad.nn.piecewise_activations import rrelu
        >>> rrelu(gpugrad.tensor([-3.0, 2.0]), 0.1, 0.3)           # eval: slope 0.2
        tensor([-0.6,  2. ], device='cpu', dtype=float32)
    """
    if not lower <= upper:
        raise ValueError(f"rrelu: lower bound ({lower}) must be less than or equal to upper "
                         f"bound ({upper})")
    if input.dtype.kind == "c":
        refuse_complex("rrelu", input)
    if inplace:
        return written_back(input, _rrelu, lower, upper, training)
    return _rrelu(input, lower, upper, training)


def _rrelu(input, lower, upper, training):
    x = _float(input)
    if not training:
        slope = (lower + upper) / 2
        if slope >= 0:              # leaky relu's record: its gradient stays in the graph
            return _leaky_relu(x, slope)
        return where(x > 0, _relu(x), x * slope)
    draw = creation.rand(*x.shape, device=x.device, dtype=x.dtype)
    slope = draw * (upper - lower) + lower
    return where(x > 0, _relu(x), x * slope)    # (relu: x stays in the gradient's graph)


def rrelu_(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False):
    """``rrelu(input, lower, upper, training, inplace=True)``."""
    return rrelu(input, lower, upper, training, True)
