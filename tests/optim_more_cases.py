"""The training runs tests/test_optim_more*.py compare: the same small MLP-like problem (a
matrix, a vector and a 0-d parameter, in float64) driven by gpugrad's optimizer or by
torch's of the same name, in two parameter groups with different learning rates, with some
parameters left without a gradient on some steps."""

import numpy as np

import gpugrad
from gpugrad.optim.adadelta import Adadelta
from gpugrad.optim.adagrad import Adagrad
from gpugrad.optim.adamax import Adamax
from gpugrad.optim.nadam import NAdam
from gpugrad.optim.radam import RAdam
from gpugrad.optim.rmsprop import RMSprop

CLASSES = {c.__name__: c for c in (RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam)}
DEFAULT_LR = {"RMSprop": 1e-2, "Adagrad": 1e-2, "Adadelta": 1.0, "Adamax": 2e-3,
              "NAdam": 2e-3, "RAdam": 1e-3}

# every documented option of each, alone and together (lr set where the default barely moves)
CASES = [
    ("RMSprop", {}),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.8, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.5, momentum=0.5, centered=True, maximize=True)),
    ("Adagrad", {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.2, initial_accumulator_value=0.1)),
    ("Adadelta", {}),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4)),
    ("Adadelta", dict(lr=0.05, rho=1.0)),
    ("Adadelta", dict(rho=0.0, weight_decay=0.1)),
    ("Adadelta", dict(lr=2.0, weight_decay=0.1, maximize=True)),
    ("Adamax", {}),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.5), eps=1e-4)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1)),
    ("Adamax", dict(lr=0.05, maximize=True, weight_decay=0.1)),
    ("NAdam", {}),
    ("NAdam", dict(lr=0.05, betas=(0.8, 0.9), momentum_decay=0.05)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.05, maximize=True, eps=1e-4)),
    ("RAdam", {}),
    ("RAdam", dict(lr=0.05)),                               # rho_t > 5 from step 6
    ("RAdam", dict(lr=0.05, betas=(0.7, 0.9), eps=1e-4)),   # rho_t > 5 from step 4
    ("RAdam", dict(lr=0.05, weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.05, maximize=True)),
]
CASE_IDS = [f"{name}-{'-'.join(options) or 'defaults'}" for name, options in CASES]

STARTS = {"W": [[0.5, -0.3], [0.2, 0.8], [-0.6, 0.1]], "b": [0.1, -0.2, 0.3], "s": 0.7}
_rng = np.random.default_rng(3)
X = _rng.standard_normal((4, 2))
Y = _rng.standard_normal((4, 3))
# the steps on which these parameters get no gradient (grad None: no update, no step count)
NO_GRAD = {"b": {3, 8, 13}, "s": {4, 5, 11}}


def make_params(lib, starts=STARTS):
    """W (3, 2), b (3,), s () as float64 leaves of ``lib`` (gpugrad or torch)."""
    if lib is gpugrad:
        return [gpugrad.nn.Parameter(gpugrad.tensor(np.array(starts[k]), dtype="float64"))
                for k in "Wbs"]
    return [lib.nn.Parameter(lib.tensor(np.array(starts[k]), dtype=lib.float64))
            for k in "Wbs"]


def loss_of(lib, params):
    w, b, s = params
    x, y = (lib.tensor(a) for a in (X, Y))
    h = x @ w.T + b
    return ((h * h * 0.1 + h * s - y) ** 2).mean() + s * s * s * 0.2


def groups_of(name, options, params, second=None):
    """Two groups: [W, b] with ``options``, [s] at 0.5 x the lr (plus ``second``)."""
    lr = options["lr"] if "lr" in options else DEFAULT_LR[name]
    return [{"params": params[:2]}, {"params": params[2:], "lr": 0.5 * lr, **(second or {})}]



def make_optimizer(lib, name, options, params, second=None):
    cls = CLASSES[name] if lib is gpugrad else getattr(lib.optim, name)
    return cls(groups_of(name, options, params, second), **options)


def train(lib, opt, params, steps, first=0):
    """``steps`` steps numbered from ``first`` (NO_GRAD says which gradients are dropped)."""
    for i in range(first, first + steps):
        opt.zero_grad()
        loss_of(lib, params).backward()
        for key, p in zip("Wbs", params):
            if i in NO_GRAD.get(key, ()):
                p.grad = None
        opt.step()


def value(x):
    """A state entry or parameter as a NumPy value (gpugrad or torch tensor, or a number)."""
    if isinstance(x, gpugrad.Tensor):
        return x.detach().numpy()
    if hasattr(x, "detach"):
        return x.detach().numpy()
    return np.asarray(x)
