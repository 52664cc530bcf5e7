"""Train an MLP on the built-in digits with the library API (what `gpugrad train` does).

Run: python examples/train_mlp.py     (a GPU when one is usable; GPUGRAD_DEVICE=cpu forces cpu)
"""

import os

import gpugrad
from gpugrad import data, nn, optim

gpugrad.manual_seed(0)
device = gpugrad.Device(os.environ.get("GPUGRAD_DEVICE", "auto"))
X, y = data.digits()                                    # (1797, 64) floats, labels 0..9
X_train, y_train, X_test, y_test = data.train_test_split(X, y, test_fraction=0.2, seed=0)
X_train, y_train = gpugrad.tensor(X_train, device=device), gpugrad.tensor(y_train, device=device)
X_test, y_test = gpugrad.tensor(X_test, device=device), gpugrad.tensor(y_test, device=device)

model = nn.MLP([64, 128, 128, 10], device=device)
loss_fn = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=1e-3)
scheduler = optim.CosineAnnealingLR(optimizer, T_max=20)
loader = data.DataLoader(X_train, y_train, batch_size=32, shuffle=True, seed=0)

for epoch in range(1, 21):
    model.train()
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scheduler.step()
    model.eval()
    with gpugrad.no_grad():
        accuracy = (model(X_test).argmax(axis=1) == y_test).astype("float32").mean().item()
    print(f"epoch {epoch:2d}  last batch loss {loss.item():.4f}  test accuracy {accuracy:.2%}")

gpugrad.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, "mlp.npz")
print(f"saved mlp.npz; trained on {device}")
