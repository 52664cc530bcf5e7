"""gpugrad, through its public API, as a user would write it; func.vmap(func.grad(...)) for
the per-example gradients."""

import gpugrad
from common import LR
from gpugrad import func, nn, optim
from gpugrad.nn import functional as F
from gpugrad.checkpoint import checkpoint_sequential

NAME = "gpugrad"


def version() -> str:
    return gpugrad.__version__


def train_step(weights, segments):
    """The MLP with ``weights``, its SGD optimizer, and its training step (x, y) -> loss,
    checkpointed in ``segments`` (0: none); impl_gpugrad_compiled.py compiles this step."""
    model = nn.MLP([w.shape[1] for w, _ in weights] + [weights[-1][0].shape[0]])
    linears = [m for m in model.layers if isinstance(m, nn.Linear)]
    for layer, (w, b) in zip(linears, weights):
        layer.weight.data = gpugrad.tensor(w)
        layer.bias.data = gpugrad.tensor(b)
    opt = optim.SGD(model.parameters(), lr=LR)
    # segments of whole blocks (Linear + ReLU, one fused record each), split as PyTorch's
    run = (lambda t: checkpoint_sequential(model.blocks(), segments, t)) if segments else model

    def step(xt, yt):
        loss = nn.functional.cross_entropy(run(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def mlp(weights, x, y, segments, wrap=lambda f: f):
    """The training step, run as ``wrap(step)`` (impl_gpugrad_compiled passes
    ``gpugrad.compile``)."""
    step = wrap(train_step(weights, segments))
    xt, yt = gpugrad.tensor(x), gpugrad.tensor(y)
    return lambda: step(xt, yt).item()


def value_and_grad(x, y):
    """The scalar workload's step: z = x**2 * y + y**3 and its gradient."""
    z = x**2 * y + y**3
    z.backward()
    return z, x.grad, y.grad


def scalar(wrap=lambda f: f):
    step = wrap(value_and_grad)

    def evaluate():
        x = gpugrad.tensor(2.0, requires_grad=True)
        y = gpugrad.tensor(3.0, requires_grad=True)
        z, dx, dy = step(x, y)
        return z.item(), dx.item(), dy.item()
    return evaluate


def hessian(a, x):
    at, xt = gpugrad.tensor(a), gpugrad.tensor(x)
    f = lambda v: ((at @ v).tanh() ** 2).sum()  # noqa: E731

    def evaluate():
        return func.hessian(f)(xt).numpy()
    return evaluate


def _tanh_mlp_logits(params, x):
    """Logits of the tanh MLP with flat ``params`` (W1, b1, W2, b2, ...), W of shape
    (out, in): for one example x (in,) -> (classes,), or a batch (N, in) -> (N, classes)."""
    h = x
    for i in range(0, len(params), 2):
        h = h @ params[i].T + params[i + 1]
        if i + 2 < len(params):
            h = h.tanh()
    return h


def _loss_of_one_example(params, x_i, y_i):
    """Softmax cross-entropy of one example: x_i (in,), y_i a 0-d integer label, as a batch
    of one (as the PyTorch version writes it)."""
    logits = _tanh_mlp_logits(params, x_i.unsqueeze(0))
    return F.cross_entropy(logits, y_i.unsqueeze(0))


def _mean_loss(params, x, y):
    return F.cross_entropy(_tanh_mlp_logits(params, x), y)


def _params(weights):
    return tuple(gpugrad.tensor(a) for layer in weights for a in layer)


def per_example_grads(weights, x, y):
    params, xt, yt = _params(weights), gpugrad.tensor(x), gpugrad.tensor(y)
    per_example = func.vmap(func.grad(_loss_of_one_example), in_dims=(None, 0, 0))

    def evaluate():
        return [g.numpy() for g in per_example(params, xt, yt)]
    return evaluate


def batched_grad(weights, x, y):
    params, xt, yt = _params(weights), gpugrad.tensor(x), gpugrad.tensor(y)
    mean_grad = func.grad(_mean_loss)

    def evaluate():
        return [g.numpy() for g in mean_grad(params, xt, yt)]
    return evaluate
