"""Mixed precision, as PyTorch's ``torch.autocast`` and ``torch.amp.GradScaler``.

``autocast("cuda", dtype=gpugrad.float16)`` (PyTorch's signature; gpugrad's older
``autocast("float16")`` too) runs the matrix products (``matmul``/``@``, ``linear``,
``linear_relu``, so ``nn.Linear`` and ``nn.MLP``) in float16 and the losses
(``cross_entropy``, ``mse_loss``) in float32, casting their inputs differentiably: the
parameters stay float32 ("master weights") and get float32 gradients. Everything else runs
in the dtype it is given. Only float16 and float32 tensors are cast (float64 never is), and
only tensors (not NumPy arrays or numbers).

``GradScaler`` is dynamic loss scaling, PyTorch's algorithm: multiply the loss by ``scale``
so that small float16 gradients do not flush to zero, divide the float32 gradients by it
before the step, skip the step when any gradient is inf or NaN and halve the scale, and
double the scale after ``growth_interval`` steps in a row without one.

``custom_fwd`` / ``custom_bwd`` (``custom_function.py``) give a custom ``Function`` the
autocast behaviour of PyTorch's ``torch.amp.custom_fwd`` / ``custom_bwd``.

Call ``backward()`` outside the autocast block (as PyTorch advises): the reverse rules of
float16 ops run in float16 anyway.

bfloat16: NumPy has no bfloat16 dtype, so ``autocast("bfloat16")`` raises on the CPU. On a
CUDA device it is attempted only when the array module has a bfloat16 dtype (CuPy >= 14
with ``ml_dtypes``); that path is UNVERIFIED (no GPU run has tested it yet).

Example (one step; the loss is (x @ w - 2)^2 = 1, its gradient 2 * (3 - 2) * x^T)::

    >>> from gpugrad.amp import GradScaler, autocast
    >>> w = gpugrad.tensor([[1.0], [2.0]], requires_grad=True)     # float32 master weight
    >>> opt = gpugrad.optim.SGD([w], lr=0.5)
    >>> scaler = GradScaler(init_scale=1024.0)
    >>> x = gpugrad.tensor([[1.0, 1.0]])
    >>> with autocast("float16"):
    ...     y = x @ w                                   # float16 matmul
    ...     loss = F.mse_loss(y, gpugrad.tensor([[2.0]]))  # float32 loss
    >>> print(y.dtype, loss.dtype)
    float16 float32
    >>> scaler.scale(loss).backward()                   # the gradient of loss * 1024
    >>> w.grad
    tensor([[2048.],
            [2048.]], device='cpu', dtype=float32)
    >>> scaler.step(opt); scaler.update()               # unscaled to [[2], [2]], then stepped
    >>> w
    tensor([[0.],
            [1.]], device='cpu', dtype=float32, requires_grad=True)
"""

from .autocast import (autocast, cast_inputs, cast_inputs_float32, get_autocast_dtype,
                       is_autocast_enabled)
from .custom_function import custom_bwd, custom_fwd
from .grad_scaler import GradScaler

__all__ = ["autocast", "is_autocast_enabled", "get_autocast_dtype", "cast_inputs",
           "cast_inputs_float32", "GradScaler", "custom_fwd", "custom_bwd"]
