"""PyTorch's ``torch.utils`` import paths: ``gpugrad.utils.data`` (``gpugrad.data``'s
datasets, samplers and DataLoader) and ``gpugrad.utils.checkpoint`` (``checkpoint`` and
``checkpoint_sequential`` of ``gpugrad.checkpoint``).

Example::

    >>> from gpugrad.utils.data import DataLoader, TensorDataset
    >>> DataLoader is gpugrad.data.DataLoader
    True
"""

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
