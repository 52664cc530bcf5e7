"""Train an MLP on the built-in digits with the library API (what `gpugrad train` does).

Run (from any folder): python examples/train_mlp.py [--epochs 20] [--out FOLDER]
(a GPU when one is usable; GPUGRAD_DEVICE=cpu forces cpu). --out is a folder, as `gpugrad
train --out` is; the model and optimizer go to FOLDER/model.npz.
"""

import argparse
import os

import gpugrad
from gpugrad import data, nn, optim
from gpugrad.cli_options import whole_number     # the checks `gpugrad train` uses
from gpugrad.train_files import OutFolderError, check_out

parser = argparse.ArgumentParser(description="Train an MLP on the built-in digits.")
parser.add_argument("--epochs", type=whole_number(1), default=20,
                    help="passes over the data, at least 1 (default 20)")
parser.add_argument("--out", default="runs/train_mlp", metavar="FOLDER",
                    help="folder for model.npz, the model and optimizer, as gpugrad train "
                         "--out (default runs/train_mlp)")
args = parser.parse_args()
try:
    check_out(args.out, files=("model.npz",), example="runs/train_mlp")
except OutFolderError as exc:                   # a file, an unwritable folder, ''
    parser.error(str(exc))
try:
    device = gpugrad.Device(os.environ.get("GPUGRAD_DEVICE", "auto"))
except gpugrad.backend.DeviceError as exc:      # e.g. cuda asked for but not usable
    parser.error(f"GPUGRAD_DEVICE: {exc}")
os.makedirs(args.out, exist_ok=True)

gpugrad.manual_seed(0)
X, y = data.digits()                                    # (1797, 64) floats, labels 0..9
X_train, y_train, X_test, y_test = data.train_test_split(X, y, test_fraction=0.2, seed=0)
X_train, y_train = gpugrad.tensor(X_train, device=device), gpugrad.tensor(y_train, device=device)
X_test, y_test = gpugrad.tensor(X_test, device=device), gpugrad.tensor(y_test, device=device)

model = nn.MLP([64, 128, 128, 10], device=device)
loss_fn = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=1e-3)
scheduler = optim.CosineAnnealingLR(optimizer, T_max=args.epochs)
loader = data.DataLoader(X_train, y_train, batch_size=32, shuffle=True, seed=0)

for epoch in range(1, args.epochs + 1):
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

path = os.path.join(args.out, "model.npz")
gpugrad.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
print(f"saved {path}; trained on {device}")
