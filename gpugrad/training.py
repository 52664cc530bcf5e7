"""The training job behind ``gpugrad train``: data, model, optimizer, epochs, evaluation,
checkpoints and the files it leaves (model.npz, metrics.json, curves.png).

Example::

    >>> from gpugrad.training import TrainConfig, fit
    >>> result = fit(TrainConfig(data="digits", epochs=5, out="runs/quick"))
    >>> result["test_accuracy"]
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from . import backend, data, nn, optim
from .autograd.mode import no_grad
from .distributed.job import Job
from .ops.compare import argmax
from .random import get_rng_state, manual_seed, set_rng_state
from .serialization import load, save

__all__ = ["TrainConfig", "fit", "evaluate", "choose_device"]

OPTIMIZERS = ("sgd", "adam", "adamw")


@dataclass
class TrainConfig:
    """Every option of a training run (``gpugrad train --help`` explains each)."""

    data: str = "digits"
    hidden: tuple = (128, 128)
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"
    device: str = "auto"
    seed: int = 0
    out: str = "runs/train"
    dtype: str = "float32"
    test_fraction: float = 0.2
    synthetic_size: int = 10_000
    resume: str | None = None
    checkpoint: str | None = None
    progress: bool = True
    distributed: bool = False
    cuda_graph: bool = False
    extra: dict = field(default_factory=dict)


def choose_device(requested: str) -> tuple[backend.Device, str]:
    """The device to train on and a sentence saying why; cuda that is not usable raises
    ``CudaUnavailableError`` with the reason and the fix."""
    usable, reason = backend.cuda_status()
    if requested == "auto":
        short = reason.split(". ")[0]
        if usable:
            return backend.Device("cuda"), f"auto: a GPU is usable: {short}"
        return backend.CPU, f"auto: no usable GPU: {short}"
    device = backend.Device(requested)
    return device, f"asked for {device}"


def _data(config: TrainConfig):
    options = {}
    if config.data == "synthetic":
        options = {"n": config.synthetic_size, "seed": config.seed}
    X, y = data.load(config.data, **options)
    split = data.train_test_split(X, y, config.test_fraction, seed=config.seed)
    if len(split[1]) == 0:
        raise data.DataError(f"{config.data}: {len(X)} rows with --test-fraction "
                             f"{config.test_fraction} leave no rows to train on")
    return split


def _on_device(array, dtype, device, what: str):
    """``array`` cast to ``dtype`` (checked: values too large for it become inf) on
    ``device``."""
    with np.errstate(over="ignore"):                 # reported below, in one clear line
        cast = np.ascontiguousarray(array.astype(dtype))
    if cast.dtype.kind == "f" and not np.isfinite(cast).all():
        raise data.DataError(f"{what}: some values are too large for {dtype} (they become "
                             f"infinite); rescale the data or use --dtype float64")
    return backend.to_device(cast, device)


_UNITS = {"": 1, "B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30, "K": 2**10, "M": 2**20,
          "G": 2**30, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


def _checkpointing(option: str, model, loader, log):
    """``--checkpoint``: segments (a whole number), "auto" (the planner at half the peak
    without checkpointing) or a byte budget with its unit (200MB, 1.5GB, 4096B), planned on
    the first batch."""
    from .checkpoint import BudgetError, plan
    text = str(option).strip().upper()
    if text.isdigit():
        if int(text) < 1:
            raise ValueError("--checkpoint takes at least 1 segment")
        log(f"checkpointing: {int(text)} segments")
        return int(text)
    if text == "AUTO":
        budget = 0.5
    else:
        number = text.rstrip("KMGIB")
        unit = text[len(number):]
        try:
            if not unit:
                raise KeyError(unit)              # a bare number means segments
            budget = int(float(number) * _UNITS[unit])
        except (ValueError, KeyError):
            raise ValueError(f"--checkpoint takes a number of segments, 'auto' or a byte "
                             f"budget such as 200MB; got {option!r}") from None
    order, rng = loader.state_dict(), get_rng_state()
    xb, yb = next(iter(loader))
    loss_fn = lambda out: nn.functional.cross_entropy(out, yb)  # noqa: E731
    try:
        result = plan(model, xb, budget=budget, loss_fn=loss_fn)
    except BudgetError:
        if text != "AUTO":
            raise
        result = plan(model, xb, budget=1.0, loss_fn=loss_fn)    # small model: keep all
    loader.load_state_dict(order)              # planning must not change data or dropout
    set_rng_state(rng)
    log(f"checkpointing: {result!r}")
    return result


def evaluate(model, X, y, batch_size: int = 1024, job: Job | None = None
             ) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on arrays X, y (no grad, eval mode);
    with a distributed ``job`` each rank evaluates its share of the rows."""
    job = job or Job(distributed=False)
    rows = job.rows(len(X))
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    with no_grad():
        if rows.stop > rows.start:
            for xb, yb in data.DataLoader(X[rows], y[rows], batch_size=batch_size):
                logits = model(xb)
                total_loss += nn.functional.cross_entropy(logits, yb, reduction="sum").item()
                correct += int((argmax(logits, axis=1) == yb).sum().item())
    model.train(was_training)
    total_loss, correct = job.total([total_loss, correct])
    return total_loss / len(X), correct / len(X)


def _optimizer(config: TrainConfig, model):
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {config.optimizer!r}; use one of {OPTIMIZERS}")
    cls = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW}[config.optimizer]
    if config.optimizer == "sgd":
        return cls(model.parameters(), lr=config.lr, momentum=0.9)
    return cls(model.parameters(), lr=config.lr)


def _versions() -> dict:
    from . import __version__
    versions = {"gpugrad": __version__, "numpy": np.__version__,
                "python": platform.python_version()}
    usable, reason = backend.cuda_status()
    versions["cuda"] = reason if usable else "not usable"
    return versions


def _peak_memory(device) -> tuple[int, str]:
    if device.type == "cuda":
        return backend.memory_pool_bytes(device), "CuPy memory pool size at the end (bytes)"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak * (1 if sys.platform == "darwin" else 1024), "peak resident memory (bytes)"


class _Progress:
    """A tqdm bar per epoch when tqdm is installed (and wanted), else nothing."""

    def __init__(self, enabled: bool, total: int, epoch: int, epochs: int):
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self.bar = tqdm(total=total, unit="sample", unit_scale=True, leave=False,
                            desc=f"epoch {epoch}/{epochs}", file=sys.stderr,
                            mininterval=0.25, disable=None)   # None: off when not a terminal

    def update(self, n: int, loss: float | None):
        if self.bar is not None:
            self.bar.update(n)
            if loss is not None:
                self.bar.set_postfix(loss=f"{loss:.4f}")

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _step_function(model, optimizer, config, job: Job):
    """One training step (inputs, labels) -> loss; with ``cuda_graph``, captured into a
    CUDA graph (gradients then stay in persistent buffers, zeroed in place)."""
    def train_step(xb, yb):
        optimizer.zero_grad(set_to_none=not config.cuda_graph)
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        if job.distributed:
            model.sync_gradients()
        optimizer.step()
        return loss
    if config.cuda_graph and job.distributed:
        raise ValueError("--cuda-graph and --distributed cannot be combined yet (the gradient "
                         "all-reduce is not captured); drop one of them")
    from .cuda import graph
    return graph(train_step) if config.cuda_graph else train_step


def _train_epoch(model, loader, step_fn, config, epoch, job: Job) -> dict:
    """One pass over the training data; the bar shows the latest loss every few steps.
    Samples per second count every rank's samples over the slowest rank's time."""
    model.train()
    progress = _Progress(config.progress and job.is_main, len(loader.X), epoch, config.epochs)
    every = max(1, len(loader) // 50)          # a loss.item() is a device sync: not every step
    seen, latest = 0, None
    start = time.perf_counter()
    for step, (xb, yb) in enumerate(loader, 1):
        loss = step_fn(xb, yb)
        seen += len(yb) * job.size
        if step % every == 0 or step == len(loader):
            latest = loss.item()
        progress.update(len(yb), latest)
    progress.close()
    (seconds,) = job.total([time.perf_counter() - start], op="max")
    return {"seconds": seconds, "samples_per_second": seen / seconds if seconds else 0.0}


def _plot(history: list, path: str) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    epochs = [h["epoch"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [h["train_loss"] for h in history], label="train")
    left.plot(epochs, [h["test_loss"] for h in history], label="test")
    left.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    right.plot(epochs, [h["train_accuracy"] for h in history], label="train")
    right.plot(epochs, [h["test_accuracy"] for h in history], label="test")
    right.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for axes in (left, right):
        axes.legend()
        axes.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def fit(config: TrainConfig, log=print) -> dict:
    """Train an MLP as ``config`` says, write model.npz, metrics.json and curves.png into
    ``config.out``, and return the metrics (the content of metrics.json). With
    ``config.distributed`` (under mpiexec) the ranks share every batch; only rank 0 logs
    and writes files."""
    job = Job(config.distributed)
    if not job.is_main:
        log = _silent
    device, why = choose_device(config.device)
    device = job.device(device)
    log(f"device: {device} ({why})" + (f"; {job.size} ranks" if job.distributed else ""))
    manual_seed(config.seed)
    X_train, y_train, X_test, y_test = _data(config)
    dtype = np.dtype(config.dtype)
    classes = int(max(y_train.max(), y_test.max(initial=0))) + 1
    X_train = _on_device(X_train, dtype, device, config.data)
    X_test = _on_device(X_test, dtype, device, config.data)
    y_train, y_test = backend.to_device(y_train, device), backend.to_device(y_test, device)
    sizes = [X_train.shape[1], *config.hidden, classes]
    model = nn.MLP(sizes, device=device, dtype=dtype)
    optimizer = _optimizer(config, model)
    loader = data.DataLoader(X_train, y_train, config.batch_size, shuffle=True, seed=config.seed,
                             **job.shard_of_batches())
    if config.checkpoint is not None:
        model.checkpoint = _checkpointing(config.checkpoint, model, loader, log)
    history, first_epoch = [], 1
    if config.resume:
        history, first_epoch = _resume(config, model, optimizer, loader, device, log)
        log(f"resumed from {config.resume} at epoch {first_epoch}")
    log(f"data: {config.data}, {len(X_train)} train / {len(X_test)} test rows, "
        f"{sizes[0]} features, {classes} classes; model {sizes}")
    if job.is_main:
        os.makedirs(config.out, exist_ok=True)
    trained = job.wrap(model)
    step_fn = _step_function(trained, optimizer, config, job)
    for epoch in range(first_epoch, config.epochs + 1):
        stats = _train_epoch(trained, loader, step_fn, config, epoch, job)
        train_loss, train_acc = evaluate(model, X_train, y_train, job=job)
        test_loss, test_acc = evaluate(model, X_test, y_test, job=job)
        history.append({"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc,
                        "test_loss": test_loss, "test_accuracy": test_acc,
                        "seconds": stats["seconds"],
                        "samples_per_second": stats["samples_per_second"]})
        log(f"epoch {epoch}/{config.epochs}: train loss {train_loss:.4f} acc {train_acc:.2%}, "
            f"test loss {test_loss:.4f} acc {test_acc:.2%}, "
            f"{stats['samples_per_second']:,.0f} samples/s")
        if job.is_main:
            _checkpoint(config, model, optimizer, loader, history, epoch)
    return _finish(config, device, why, sizes, history, log, job)


def _silent(*args, **kwargs):
    pass


def _checkpoint(config, model, optimizer, loader, history, epoch):
    save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
          "rng": get_rng_state(), "loader": loader.state_dict(), "history": history,
          "config": {k: v for k, v in asdict(config).items() if k not in ("resume", "extra")}},
         os.path.join(config.out, "model.npz"))


# Options a resumed run must share with the run it continues (they fix the data split, the
# model and the optimizer); --epochs, --lr, --batch-size, --device and --out may change.
_FIXED_ON_RESUME = ("data", "seed", "test_fraction", "synthetic_size", "hidden", "optimizer",
                    "dtype")


def _resume(config, model, optimizer, loader, device, log):
    path = config.resume
    state = load(path, device=device)
    for key in ("model", "optimizer", "epoch", "rng", "loader", "history", "config"):
        if key not in state:
            raise data.DataError(f"--resume {path}: not a gpugrad train checkpoint (no "
                                 f"'{key}')")
    saved, now = state["config"], asdict(config)
    changed = [f"--{k.replace('_', '-')} {_shown(saved.get(k))} -> {_shown(now[k])}"
               for k in _FIXED_ON_RESUME if _shown(saved.get(k)) != _shown(now[k])]
    if changed:
        raise data.DataError(f"--resume {path}: the checkpoint was trained with other "
                             f"options ({'; '.join(changed)}); pass the same ones")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    for group in optimizer.param_groups:
        if group["lr"] != config.lr:
            log(f"learning rate changed on resume: {group['lr']} -> {config.lr}")
            group["lr"] = config.lr
    set_rng_state(state["rng"])
    loader.load_state_dict(state["loader"])
    return list(state["history"]), int(state["epoch"]) + 1


def _shown(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _finite(value):
    """``value`` with NaN and infinities as None, so metrics.json stays valid JSON."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _finish(config, device, why, sizes, history, log, job: Job) -> dict:
    peak, peak_kind = _peak_memory(device)
    last = history[-1] if history else {}
    total_seconds = sum(h["seconds"] for h in history)
    samples = sum(h["samples_per_second"] * h["seconds"] for h in history)
    metrics = {"config": {k: v for k, v in asdict(config).items() if k != "extra"},
               "device": str(device), "device_reason": why, "model_sizes": sizes,
               "versions": _versions(), "epochs": history,
               "test_accuracy": last.get("test_accuracy"),
               "samples_per_second": samples / total_seconds if total_seconds else None,
               "train_seconds": total_seconds, "peak_memory_bytes": peak,
               "peak_memory_kind": peak_kind, "world_size": job.size}
    if not job.is_main:
        return metrics
    with open(os.path.join(config.out, "metrics.json"), "w") as f:
        json.dump(_finite(metrics), f, indent=2, default=str, allow_nan=False)
    plotted = history and _plot(history, os.path.join(config.out, "curves.png"))
    accuracy = metrics["test_accuracy"]
    log(f"test accuracy: {accuracy:.2%}" if accuracy is not None else "no epochs were run")
    if metrics["samples_per_second"]:
        log(f"throughput: {metrics['samples_per_second']:,.0f} samples/s; peak memory: "
            f"{peak / 2**20:.1f} MiB ({peak_kind})")
    log(f"wrote {config.out}/model.npz, metrics.json" + (", curves.png" if plotted else
                                                        " (install matplotlib for curves.png)"))
    return metrics
