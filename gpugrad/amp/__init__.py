"""Mixed precision, as PyTorch's ``torch.autocast`` and ``torch.amp.GradScaler``.

``autocast("float16")`` runs the matrix products (``matmul``/``@``, ``linear``,
``linear_relu``, so ``nn.Linear`` and ``nn.MLP``) in float16 and the losses
(``cross_entropy``, ``mse_loss``) in float32, casting their inputs differentiably: the
parameters stay float32 ("master weights") and get float32 gradients. Everything else runs
in the dtype it is given. Only float16 and float32 tensors are cast (float64 never is), and
only tensors (not NumPy arrays or numbers).

``GradScaler`` is dynamic loss scaling, PyTorch's algorithm: multiply the loss by ``scale``
so that small float16 gradients do not flush to zero, divide the float32 gradients by it
before the step, skip the step when any gradient is inf or NaN and halve the scale, and
double the scale after ``growth_interval`` steps in a row without one.

Call ``backward()`` outside the autocast block (as PyTorch advises): the reverse rules of
float16 ops run in float16 anyway.

bfloat16: NumPy has no bfloat16 dtype, so ``autocast("bfloat16")`` raises on the CPU. On a
CUDA device it is attempted only when the array module has a bfloat16 dtype (CuPy >= 14
with ``ml_dtypes``); that path is UNVERIFIED (no GPU run has tested it yet).

Example::

    >>> scaler = GradScaler()
    >>> with autocast("float16"):
    ...     loss = F.cross_entropy(model(x), y)     # float16 matmuls, float32 loss
    >>> scaler.scale(loss).backward()
    >>> scaler.step(opt); scaler.update(); opt.zero_grad()
"""

from .autocast import (autocast, cast_inputs, cast_inputs_float32, get_autocast_dtype,
                       is_autocast_enabled)
from .grad_scaler import GradScaler

__all__ = ["autocast", "is_autocast_enabled", "get_autocast_dtype", "cast_inputs",
           "cast_inputs_float32", "GradScaler"]
