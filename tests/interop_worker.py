"""What tests/test_interop.py runs in another process (multiprocessing needs an importable
function)."""

import gpugrad


def forward_and_grad(model, x):
    """The model's output on ``x`` and the gradient of its sum with respect to ``x``."""
    x = x.detach().requires_grad_()
    out = model(x)
    out.sum().backward()
    return out.detach(), x.grad
