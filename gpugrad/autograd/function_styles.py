"""The two ways PyTorch lets a custom ``Function`` write its forward: ``forward(ctx,
*args)``, or ``forward(*args)`` with a ``setup_context(ctx, inputs, output)`` staticmethod
(the style torch.func transforms need). Used by function.py and function_vmap.py.

Example::

    >>> from gpugrad.autograd import Function
    >>> class Cube(Function):
    ...     @staticmethod
    ...     def forward(x):
    ...         return x ** 3
    ...     @staticmethod
    ...     def setup_context(ctx, inputs, output):
    ...         ctx.save_for_backward(inputs[0])
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x ** 2 * g
    >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    >>> Cube.apply(x).sum().backward(); x.grad.tolist()
    [3.0, 12.0]
"""

from __future__ import annotations

import inspect
import weakref

__all__ = ["run_forward", "bind_arguments"]


def run_forward(cls, ctx, args, kwargs):
    """``cls.forward`` in either of PyTorch's styles: ``forward(ctx, *args)``, or, when the
    Function defines ``setup_context`` and its forward's first parameter is not named
    ``ctx``, ``forward(*args)`` followed by ``setup_context(ctx, inputs, output)`` (the
    style torch.func transforms need)."""
    setup = getattr(cls, "setup_context", None)
    if setup is None or _forward_takes_ctx(cls):
        return cls.forward(ctx, *args, **kwargs)
    output = cls.forward(*args, **kwargs)
    setup(ctx, args, output)
    return output


_TAKES_CTX = weakref.WeakKeyDictionary()    # Function class -> forward's first param is ctx
_SIGNATURES = weakref.WeakKeyDictionary()   # Function class -> (signature, positional count)


def bind_arguments(cls, args: tuple, kwargs: dict) -> tuple:
    """``(args, kwargs)`` with the keyword arguments that name parameters of ``forward``
    moved to their positions, so that they are inputs as PyTorch's are: their gradients,
    ``needs_input_grad``, ``setup_context``'s ``inputs``. In the setup_context style the
    defaults are filled in too (as PyTorch's ``bind_default_args``); in the ctx style only
    those before the last argument given. Keyword-only arguments stay keywords.

    Example::

        >>> from gpugrad.autograd.function_styles import bind_arguments
        >>> class Scale(gpugrad.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x, s=2.0):
        ...         return x * s
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         return g * 3.0, None
        >>> bind_arguments(Scale, (1,), {"s": 3.0})
        ((1, 3.0), {})
    """
    setup_style = getattr(cls, "setup_context", None) is not None and \
        not _forward_takes_ctx(cls)
    if not kwargs and not setup_style:
        return args, kwargs
    entry = _SIGNATURES.get(cls)
    if entry is None:
        try:
            signature = inspect.signature(cls.forward)
        except (TypeError, ValueError):         # (a builtin or odd callable: as given)
            signature = None
        positional = 0 if signature is None else sum(
            p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            for p in signature.parameters.values())
        if signature is not None and not setup_style:   # (ctx is passed by apply)
            signature = signature.replace(parameters=list(signature.parameters.values())[1:])
            positional -= 1
        entry = _SIGNATURES[cls] = (signature, positional)
    signature, positional = entry
    if signature is None or (not kwargs and len(args) == positional):
        return args, kwargs
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{cls.__name__}.apply: {exc} (the arguments must fit "
                        f"{cls.__name__}.forward{signature})") from None
    if setup_style:
        bound.apply_defaults()
        return bound.args, bound.kwargs
    given = bound.arguments
    params = list(signature.parameters.values())
    last = max((i for i, p in enumerate(params) if p.name in given and
                p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)), default=-1)
    if any(p.kind is p.VAR_POSITIONAL for p in params) or last < len(args):
        return args, kwargs                 # (nothing to move: *args, or keywords only)
    positions = tuple(given[p.name] if p.name in given else p.default
                      for p in params[:last + 1])
    rest = {k: v for k, v in kwargs.items() if k not in {p.name for p in params[:last + 1]}}
    return positions, rest


def _forward_takes_ctx(cls) -> bool:
    takes = _TAKES_CTX.get(cls)
    if takes is None:
        try:
            first = next(iter(inspect.signature(cls.forward).parameters), None)
        except (TypeError, ValueError):
            first = None
        takes = _TAKES_CTX[cls] = first == "ctx"
    return takes
