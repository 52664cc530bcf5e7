"""``autocast``: float16 (or bfloat16) matrix products and float32 losses inside a block,
as PyTorch's ``torch.autocast``. The mode is ``gpugrad/autograd/autocast_mode.py`` (the ops
read it) and the casts the ops make are ``gpugrad/ops/autocast_casts.py``; this module gives
them their public place. See gpugrad/amp/__init__.py for the whole picture.

Example::

    >>> from gpugrad.amp import autocast, get_autocast_dtype, is_autocast_enabled
    >>> with autocast("float16"):
    ...     inside = is_autocast_enabled(), get_autocast_dtype()
    >>> inside, is_autocast_enabled()
    ((True, dtype('float16')), False)
"""

from __future__ import annotations

from ..autograd.autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled
from ..ops.autocast_casts import cast_inputs, cast_inputs_float32

__all__ = ["autocast", "is_autocast_enabled", "get_autocast_dtype", "cast_inputs",
           "cast_inputs_float32"]
