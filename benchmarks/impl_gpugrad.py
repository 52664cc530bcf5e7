"""gpugrad, through its public API, as a user would write it."""

import gpugrad
from common import LR
from gpugrad import func, nn, optim
from gpugrad.checkpoint import checkpoint_sequential

NAME = "gpugrad"


def version() -> str:
    return gpugrad.__version__


def mlp(weights, x, y, segments):
    model = nn.MLP([w.shape[1] for w, _ in weights] + [weights[-1][0].shape[0]])
    linears = [m for m in model.layers if isinstance(m, nn.Linear)]
    for layer, (w, b) in zip(linears, weights):
        layer.weight.data = gpugrad.tensor(w)
        layer.bias.data = gpugrad.tensor(b)
    opt = optim.SGD(model.parameters(), lr=LR)
    xt, yt = gpugrad.tensor(x), gpugrad.tensor(y)
    run = (lambda t: checkpoint_sequential(model.layers, segments, t)) if segments else model

    def step():
        loss = nn.functional.cross_entropy(run(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def scalar():
    def evaluate():
        x = gpugrad.tensor(2.0, requires_grad=True)
        y = gpugrad.tensor(3.0, requires_grad=True)
        z = x**2 * y + y**3
        z.backward()
        return z.item(), x.grad.item(), y.grad.item()
    return evaluate


def hessian(a, x):
    at, xt = gpugrad.tensor(a), gpugrad.tensor(x)
    f = lambda v: ((at @ v).tanh() ** 2).sum()  # noqa: E731

    def evaluate():
        return func.hessian(f)(xt).numpy()
    return evaluate

