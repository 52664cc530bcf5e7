"""gpugrad with the training step compiled (``gpugrad.compile``): impl_gpugrad.py's model,
optimizer and step, recorded on the first call and replayed after."""

import gpugrad
import impl_gpugrad

NAME = "gpugrad compiled"


def version() -> str:
    return gpugrad.__version__


def mlp(weights, x, y, segments):
    step = gpugrad.compile(impl_gpugrad.train_step(weights, segments))
    xt, yt = gpugrad.tensor(x), gpugrad.tensor(y)
    return lambda: step(xt, yt).item()


def scalar():
    @gpugrad.compile
    def value_and_grad(x, y):
        z = x**2 * y + y**3
        z.backward()
        return z, x.grad, y.grad

    def evaluate():
        x = gpugrad.tensor(2.0, requires_grad=True)
        y = gpugrad.tensor(3.0, requires_grad=True)
        z, dx, dy = value_and_grad(x, y)
        return z.item(), dx.item(), dy.item()
    return evaluate
