"""``torch.utils.checkpoint``'s import path: ``checkpoint`` and ``checkpoint_sequential``
of ``gpugrad.checkpoint``.

Example::

    >>> from gpugrad.utils.checkpoint import checkpoint
    >>> x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    >>> checkpoint(lambda t: (t * t).sum(), x).backward()
    >>> x.grad
    tensor([2., 4.], device='cpu', dtype=float32)
"""

from ..checkpoint import checkpoint, checkpoint_sequential

__all__ = ["checkpoint", "checkpoint_sequential"]
