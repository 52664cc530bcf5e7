"""DP-SGD on the built-in digits: per-example gradients from ``vmap(grad(loss))``.

Differentially private SGD (Abadi et al., 2016) bounds how far any one training example can
move the model: every example's gradient is clipped to L2 norm at most C, the clipped
gradients are summed, Gaussian noise of standard deviation sigma * C is added to the sum, and
the noisy sum, divided by the batch size, takes an ordinary SGD step. Clipping needs each
example's own gradient, which one batched backward pass cannot give: ``vmap`` maps ``grad`` of
one example's loss over the batch.

Run: python examples/per_example_gradients.py      (a few seconds on a laptop CPU)
"""

import numpy as np

import gpugrad
from gpugrad import data, func
from gpugrad.nn import functional as F

CLIP, NOISE, LR, BATCH, EPOCHS = 1.0, 1.0, 0.5, 64, 8    # C, sigma, step size
gpugrad.manual_seed(0)                                    # the noise, reproducibly

X, y = data.digits()                                      # (1797, 64) in [0, 1], labels 0..9
X_train, y_train, X_test, y_test = data.train_test_split(X, y, test_fraction=0.2, seed=0)
rng = np.random.default_rng(0)


def init(n_in, n_out):
    bound = 1 / np.sqrt(n_in)
    return [gpugrad.tensor(rng.uniform(-bound, bound, shape).astype(np.float32))
            for shape in ((n_out, n_in), (n_out,))]


params = init(64, 64) + init(64, 10)                     # W1 (64, 64), b1, W2 (10, 64), b2


def logits(params, x):
    """x (64,) -> (10,), or a batch (N, 64) -> (N, 10)."""
    w1, b1, w2, b2 = params
    return (x @ w1.T + b1).tanh() @ w2.T + b2


def loss_of_one_example(params, x_i, y_i):
    """Softmax cross-entropy of one image x_i (64,) with 0-d integer label y_i."""
    return -F.log_softmax(logits(params, x_i), axis=-1)[y_i]


per_example_grads = func.vmap(func.grad(loss_of_one_example), in_dims=(None, 0, 0))


def private_gradient(params, xb, yb):
    """The noisy mean of the clipped per-example gradients, and the per-example norms (B,)."""
    grads = per_example_grads(params, xb, yb)            # per parameter: (B,) + its shape
    batch = xb.shape[0]
    norms = sum((g.reshape(batch, -1) ** 2).sum(axis=1) for g in grads).sqrt()
    scale = gpugrad.minimum(CLIP / (norms + 1e-6), 1.0)  # 1 for examples already within C
    noisy = []
    for g in grads:
        clipped_sum = (g * scale.reshape((batch,) + (1,) * (g.ndim - 1))).sum(axis=0)
        noise = NOISE * CLIP * gpugrad.randn(*clipped_sum.shape)
        noisy.append((clipped_sum + noise) / batch)
    return noisy, norms


def accuracy(params, X, y):
    return float((logits(params, gpugrad.tensor(X)).argmax(axis=1).numpy() == y).mean())


loader = data.DataLoader(X_train, y_train, batch_size=BATCH, shuffle=True, seed=0)
for epoch in range(1, EPOCHS + 1):
    epoch_norms = []
    for xb, yb in loader:
        grads, norms = private_gradient(params, xb, yb)
        params = [p - LR * g for p, g in zip(params, grads)]
        epoch_norms.append(norms.numpy())
    norms = np.concatenate(epoch_norms)
    print(f"epoch {epoch}  per-example gradient norms: median {np.median(norms):.3f}, "
          f"max {norms.max():.3f}, clipped to {CLIP} {np.mean(norms > CLIP):.0%}  "
          f"test accuracy {accuracy(params, X_test, y_test):.2%}")

print("last epoch's first per-example gradient norms: "
      + " ".join(f"{n:.2f}" for n in norms[:8]) + " ...")
print(f"final test accuracy {accuracy(params, X_test, y_test):.2%} "
      f"(chance 10%; clip C={CLIP}, noise sigma={NOISE}, batch {BATCH})")
