"""gpugrad with the training step compiled (``gpugrad.compile``): impl_gpugrad.py's model,
optimizer and step, recorded on the first call and replayed after."""

import gpugrad
import impl_gpugrad

NAME = "gpugrad compiled"


def version() -> str:
    return gpugrad.__version__


def mlp(weights, x, y, segments):
    return impl_gpugrad.mlp(weights, x, y, segments, wrap=gpugrad.compile)


def scalar():
    return impl_gpugrad.scalar(wrap=gpugrad.compile)
