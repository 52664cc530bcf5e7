"""PyTorch (CPU), eager, as a user would write it; torch.func for the Hessian and for the
per-example gradients (vmap of grad)."""

import torch

from common import LR

NAME = "pytorch"


def version() -> str:
    return f"{torch.__version__}, {torch.get_num_threads()} threads"


def mlp(weights, x, y, segments):
    blocks = []                     # one per Linear and its ReLU: the checkpoint's units
    for i, (w, b) in enumerate(weights):
        layer = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
        blocks.append(torch.nn.Sequential(layer, torch.nn.ReLU())
                      if i < len(weights) - 1 else layer)
    model = torch.nn.Sequential(*blocks)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def run(t):
        if segments:
            return torch.utils.checkpoint.checkpoint_sequential(model, segments, t,
                                                                use_reentrant=False)
        return model(t)

    def step():
        loss = torch.nn.functional.cross_entropy(run(xt), yt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def scalar():
    def evaluate():
        x = torch.tensor(2.0, requires_grad=True)
        y = torch.tensor(3.0, requires_grad=True)
        z = x**2 * y + y**3
        z.backward()
        return z.item(), x.grad.item(), y.grad.item()
    return evaluate


def hessian(a, x):
    at, xt = torch.from_numpy(a), torch.from_numpy(x)
    f = lambda v: (torch.tanh(at @ v) ** 2).sum()  # noqa: E731

    def evaluate():
        return torch.func.hessian(f)(xt).numpy()
    return evaluate


def _tanh_mlp_logits(params, x):
    h = x
    for i in range(0, len(params), 2):
        h = torch.nn.functional.linear(h, params[i], params[i + 1])
        if i + 2 < len(params):
            h = torch.tanh(h)
    return h


def _loss_of_one_example(params, x_i, y_i):
    logits = _tanh_mlp_logits(params, x_i.unsqueeze(0))
    return torch.nn.functional.cross_entropy(logits, y_i.unsqueeze(0))


def _mean_loss(params, x, y):
    return torch.nn.functional.cross_entropy(_tanh_mlp_logits(params, x), y)


def _params(weights):
    return tuple(torch.from_numpy(a) for layer in weights for a in layer)


def per_example_grads(weights, x, y):
    params, xt, yt = _params(weights), torch.from_numpy(x), torch.from_numpy(y)
    per_example = torch.func.vmap(torch.func.grad(_loss_of_one_example), in_dims=(None, 0, 0))

    def evaluate():
        return [g.numpy() for g in per_example(params, xt, yt)]
    return evaluate


def batched_grad(weights, x, y):
    params, xt, yt = _params(weights), torch.from_numpy(x), torch.from_numpy(y)
    mean_grad = torch.func.grad(_mean_loss)

    def evaluate():
        return [g.numpy() for g in mean_grad(params, xt, yt)]
    return evaluate
