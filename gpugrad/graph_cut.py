"""The warning of ``gpugrad.tensor(t)`` and ``gpugrad.tensor([t, ...])`` when ``t``
requires grad: the copy has no graph, as PyTorch's ``torch.tensor`` (which warns too), so
no gradient flows back through it; ``gpugrad.stack`` (JAX's ``jnp.array``) is the
differentiable spelling. ``Tensor.__array__`` (interop.py) notes such a tensor while
``creation.tensor`` converts a list (``copying.depth`` up).

Example::

    >>> import warnings
    >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     copied = gpugrad.tensor([x[0], x[1] * 2])
    >>> copied.requires_grad, "gpugrad.stack" in str(caught[0].message)
    (False, True)
"""

from __future__ import annotations

import threading
import warnings

__all__ = ["copying", "warn_graph_cut"]


class _Copying(threading.local):
    depth = 0           # gpugrad.tensor() calls converting a list or tuple now
    cut = False         # one of them read a tensor that requires grad


copying = _Copying()


def warn_graph_cut(what: str, instead: str, stacklevel: int = 3) -> None:
    """Warn that ``what`` copied a tensor that requires grad without its graph, naming the
    differentiable spelling ``instead``; ``stacklevel`` as ``warnings.warn``'s, counted
    from the caller."""
    warnings.warn(f"{what} copies the values of a tensor that requires grad, without its "
                  f"graph: no gradient flows back through the result (backward, grad and "
                  f"jacobian see a constant). For a differentiable result use {instead}; to "
                  f"say the copy is meant, pass t.detach().", UserWarning,
                  stacklevel=stacklevel)
