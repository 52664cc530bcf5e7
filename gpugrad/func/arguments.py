"""What the transforms take and give: arguments as tensors (the differentiated ones
floating point), ``argnums`` checked, outputs to pull back through checked, and a pytree
structure in words for error messages.

Example::

    >>> from gpugrad.func.arguments import describe, float_outputs
    >>> from gpugrad.pytree import tree_flatten
    >>> describe(tree_flatten((1.0, 2.0))[1])
    'a tuple of 2'
    >>> float_outputs([gpugrad.tensor([1.0])], "vjp")[0].dtype
    dtype('float32')
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["float_outputs", "describe"]


def _tensor(value, what: str):
    """``value`` (tensor, array or Python number) as a tensor: a Python number as one of
    the default float dtype, a tensor or array with its own dtype."""
    from ..creation import as_tensor, tensor
    from ..tensor import Tensor
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (numbers.Number, np.generic)):
        return tensor(float(value))
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return as_tensor(value)
    raise TypeError(f"{what} must be a tensor, an array or a number, or a tuple/list/dict "
                    f"of them; got {type(value).__name__}")


def _float_tensor(value, what: str, name: str, allow_complex: bool = False):
    """``value`` as a tensor to differentiate: floating point, as torch.func and JAX ask (a
    Python number becomes one of the default float dtype), or complex where
    ``allow_complex`` (grad, vjp and jvp: PyTorch's complex convention)."""
    t = _tensor(value, what)
    if t.dtype.kind != "f" and not (allow_complex and t.dtype.kind == "c"):
        kinds = "floating-point or complex" if allow_complex else "floating-point"
        raise TypeError(f"{name}: {what} has dtype {t.dtype}; only {kinds} tensors "
                        f"can be differentiated. Convert it (x.float()), or leave it out of "
                        f"what is differentiated (argnums, or close over it)")
    return t


def _argnums(argnums, nargs: int, name: str = "grad") -> tuple:
    """``argnums`` (an int or a non-empty tuple of distinct ints, as torch.func asks) as a
    tuple of argument positions in ``range(nargs)``."""
    if isinstance(argnums, int):
        nums = (argnums,)
    elif isinstance(argnums, tuple) and argnums and all(isinstance(n, int) for n in argnums):
        nums = argnums
    else:
        empty = isinstance(argnums, tuple) and not argnums
        hint = (" (argnums=() would differentiate nothing)" if empty else
                f"; pass a tuple: argnums={tuple(argnums)}" if isinstance(argnums, list) else "")
        raise TypeError(f"{name}: argnums must be an int or a non-empty tuple of ints, got "
                        f"{argnums!r} ({type(argnums).__name__}){hint}")
    for n in nums:
        if not -nargs <= n < nargs:
            raise ValueError(f"argnums {argnums} refers to argument {n}, but the function was "
                             f"called with {nargs} positional arguments")
    positions = tuple(n % nargs for n in nums)
    if len(set(positions)) != len(positions):
        raise ValueError(f"{name}: argnums {argnums} names an argument more than once; each "
                         f"must be unique")
    return positions


def float_outputs(leaves, name: str) -> list:
    """f's output leaves as tensors, each floating point (or complex for ``vjp``, whose
    cotangents then are complex as well): reverse mode pulls back through those only (as
    torch.func's vjp/jacrev and JAX's jacrev)."""
    outputs = [_tensor(o, "an output") for o in leaves]
    allowed = "fc" if name == "vjp" else "f"
    for i, o in enumerate(outputs):
        if o.dtype.kind not in allowed:
            kinds = ("floating-point outputs, real or complex," if name == "vjp" else
                     "real floating-point outputs")
            raise TypeError(f"{name}: output {i} of f has dtype {o.dtype}; only {kinds} "
                            f"can be differentiated (as torch.func.{name}). Return it "
                            f"as aux (has_aux=True) or convert it (.float(), or .real/.abs() "
                            f"of a complex output)")
    return outputs


def describe(spec) -> str:
    """A ``TreeSpec`` in words: "a tensor", "a tuple of 2", "a dict with keys ['a']"."""
    if spec.kind is None:
        return "a tensor"
    if spec.keys is not None:
        return f"a dict with keys {list(spec.keys)}"
    return f"a {spec.kind.__name__} of {len(spec.children)}"
