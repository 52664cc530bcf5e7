"""The training job behind ``gpugrad train``: data, model, optimizer, epochs, evaluation,
checkpoints and the files it leaves (model.npz, metrics.json, curves.png; train_files.py).

A run stops early, keeping what the finished epochs wrote, on Ctrl-C (``TrainingInterrupted``)
and on a loss that is NaN or infinite (``TrainingDiverged``: the last checkpoint stays the
last good one).

Example::

    >>> import os
    >>> from gpugrad.training import TrainConfig, fit
    >>> config = TrainConfig(epochs=2, hidden=(16,), out="run", device="cpu", progress=False)
    >>> result = fit(config, log=lambda *args: None)
    >>> [e["epoch"] for e in result["epochs"]], sorted(os.listdir("run"))
    ([1, 2], ['curves.png', 'metrics.json', 'model.npz'])
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from . import backend, data, nn, optim, train_data, train_files
from .autograd.mode import no_grad
from .distributed.job import Job
from .compiled import compile as compile_step
from .graphs import graph
from .ops.compare import argmax
from .random import get_rng_state, manual_seed, set_rng_state
from .train_epoch import TrainingDiverged, diverged, train_epoch

__all__ = ["TrainConfig", "fit", "evaluate", "choose_device", "parse_checkpoint",
           "TrainingDiverged", "TrainingInterrupted", "OutOfMemory"]

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
    compile: bool = False           # gpugrad.compile: record the step once, replay it
    extra: dict = field(default_factory=dict)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training; the message says which epochs were saved and where."""


class OutOfMemory(ValueError):
    """The model or a training step did not fit in memory; the message says how big it was
    and which option to lower."""


def _model_too_big(config, sizes: list, dtype) -> OutOfMemory:
    count = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    return OutOfMemory(
        f"--hidden {train_files.shown(config.hidden)}: the model {sizes} has {count:,} "
        f"parameters, {train_data.shown_bytes(count * dtype.itemsize)} in {dtype} (training "
        f"needs about 4 times that: weights, gradients and {config.optimizer} state), more "
        f"than the memory holds; use smaller --hidden widths")


def choose_device(requested: str) -> tuple[backend.Device, str]:
    """The device to train on and a sentence saying why; cuda that is not usable raises
    ``CudaUnavailableError`` with the reason and the fix.

    Example::

        >>> from gpugrad.training import choose_device
        >>> choose_device("cpu")
        (device('cpu'), 'asked for cpu')
    """
    usable, reason = backend.cuda_status()
    if requested == "auto":
        short = reason.split(". ")[0]
        if usable:
            return backend.Device("cuda"), f"auto: a GPU is usable: {short}"
        return backend.CPU, f"auto: no usable GPU: {short}"
    device = backend.Device(requested)
    return device, f"asked for {device}"


_UNITS = {"": 1, "B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30, "K": 2**10, "M": 2**20,
          "G": 2**30, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


CHECKPOINT_FORMS = ("a number of segments >= 1 (e.g. 4), 'auto', a memory budget with its "
                    "unit (e.g. 200MB) or 'off'")


def parse_checkpoint(option) -> tuple[str, int | float | None]:
    """``--checkpoint``'s value as (kind, value): ("off", None) (also for None), ("segments",
    n), ("auto", 0.5) (the planner at half the peak without checkpointing) or ("budget",
    bytes) for a byte budget with its unit (200MB, 1.5GB, 4096B). Anything else is a
    ValueError saying what it takes.

    Example::

        >>> from gpugrad.training import parse_checkpoint
        >>> parse_checkpoint("off"), parse_checkpoint("4"), parse_checkpoint("1.5KB")
        (('off', None), ('segments', 4), ('budget', 1536))
    """
    text = "OFF" if option is None else str(option).strip().upper()
    if text in ("OFF", "AUTO"):
        return ("off", None) if text == "OFF" else ("auto", 0.5)
    if text.isdigit() and int(text) >= 1:
        return "segments", int(text)
    number = text.rstrip("KMGIB")
    unit = text[len(number):]
    try:
        value = float(number) * _UNITS[unit] if unit else math.nan   # bare: segments
    except (ValueError, KeyError):                   # not a number, or an unknown unit
        value = math.nan
    if not (math.isfinite(value) and value >= 1):
        raise ValueError(f"--checkpoint takes {CHECKPOINT_FORMS}; got {option!r}")
    return "budget", int(value)


def _checkpointing(option: str, model, loader, log):
    """The model's ``checkpoint`` for ``--checkpoint`` (see ``parse_checkpoint``): None
    (off), segments, or a plan made on the first batch."""
    from .checkpoint import BudgetError, plan
    kind, budget = parse_checkpoint(option)
    if kind == "off":
        return None
    if kind == "segments":
        log(f"checkpointing: {budget} segments")
        return budget
    order, rng = loader.state_dict(), get_rng_state()
    xb, yb = next(iter(loader))
    loss_fn = lambda out: nn.functional.cross_entropy(out, yb)  # noqa: E731
    try:
        result = plan(model, xb, budget=budget, loss_fn=loss_fn)
    except BudgetError as exc:
        if kind != "auto" or exc.keep_all is None:
            raise
        result = exc.keep_all              # small model: keep all (plan(..., budget=1.0))
    loader.load_state_dict(order)              # planning must not change data or dropout
    set_rng_state(rng)
    log(f"checkpointing: {result!r}")
    return result


def evaluate(model, X, y, batch_size: int = 1024, job: Job | None = None
             ) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on arrays X (N, F) and y (N,) (no grad,
    eval mode); with a distributed ``job`` each rank evaluates its share of the rows.

    Example::

        >>> from gpugrad.training import evaluate
        >>> model = nn.MLP([2, 3])                       # zero weights: equal logits
        >>> _ = model.load_state_dict({k: gpugrad.zeros(*v.shape)
        ...                            for k, v in model.state_dict().items()})
        >>> X, y = np.ones((4, 2), "float32"), np.array([0, 0, 1, 2])
        >>> loss, accuracy = evaluate(model, X, y)
        >>> round(loss, 4), accuracy          # log 3; argmax picks class 0, right for 2 of 4
        (1.0986, 0.5)
    """
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


def _step_function(model, optimizer, config, job: Job):
    """One training step (inputs, labels) -> loss; with ``cuda_graph``, captured into a
    CUDA graph (gradients then stay in persistent buffers, zeroed in place); with
    ``compile``, ``gpugrad.compile``'s (the CUDA graph on a GPU, the recorded program on
    the CPU)."""
    persistent_grads = config.cuda_graph or config.compile

    def train_step(xb, yb):
        optimizer.zero_grad(set_to_none=not persistent_grads)
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        if job.distributed:
            model.sync_gradients()
        optimizer.step()
        return loss
    for flag, option in ((config.cuda_graph, "--cuda-graph"), (config.compile, "--compile")):
        if flag and job.distributed:
            raise ValueError(f"{option} and --distributed cannot be combined yet (the "
                             f"gradient all-reduce is not recorded); drop one of them")
    if config.cuda_graph and config.compile:
        raise ValueError("--cuda-graph and --compile: pass one (--compile already replays "
                         "the step as a CUDA graph on a GPU)")
    if config.compile:
        return compile_step(train_step)
    return graph(train_step) if config.cuda_graph else train_step


def fit(config: TrainConfig, log=print, resume_state: dict | None = None) -> dict:
    """Train an MLP as ``config`` says, write model.npz, metrics.json and curves.png into
    ``config.out``, and return the metrics (the content of metrics.json). model.npz and
    metrics.json are written after every epoch, together (``write_checkpoint``: a failed
    write leaves the previous pair), curves.png at the end; ``config.out`` is checked
    before any work (``train_files.check_out``). With
    ``config.distributed`` (under mpiexec) the ranks share every batch; only rank 0 logs
    and writes files. Ctrl-C raises ``TrainingInterrupted`` and a NaN or infinite loss
    ``TrainingDiverged``, both after writing the finished epochs' metrics.json and
    curves.png beside their model.npz; that metrics.json's ``config`` is the one model.npz
    records, and its ``stopped`` says where and why (``train_files.metrics_of``).
    ``resume_state``: the checkpoint ``config.resume`` names, when the caller has read it
    already (``gpugrad train --resume`` has, for its options); the file is not read again.
    """
    job = Job(config.distributed)
    if not job.is_main:
        log = _silent
    with job.stop_together():                   # errors here are every rank's: report once
        if job.is_main:
            train_files.check_out(config.out)     # before any work, not after an epoch
        device, why = choose_device(config.device)
        device = job.device(device)
        log(f"device: {device} ({why})" + (f"; {job.size} ranks" if job.distributed else ""))
        manual_seed(config.seed)
        dtype = np.dtype(config.dtype)
        try:
            X_train, y_train, X_test, y_test = train_data.load(config)
            classes = int(max(y_train.max(), y_test.max(initial=0))) + 1
            X_train = train_data.on_device(X_train, dtype, device, config.data)
            X_test = train_data.on_device(X_test, dtype, device, config.data)
            y_train, y_test = (backend.to_device(y_train, device),
                               backend.to_device(y_test, device))
        except MemoryError:                     # NumPy's and CuPy's out-of-memory errors
            raise train_data.too_big(config) from None
        sizes = [X_train.shape[1], *config.hidden, classes]
        try:
            model = nn.MLP(sizes, device=device, dtype=dtype)
            optimizer = _optimizer(config, model)
        except MemoryError:
            raise _model_too_big(config, sizes, dtype) from None
        loader = data.DataLoader(X_train, y_train, shuffle=True, seed=config.seed,
                                 **job.shard_of_batches(config.batch_size))
        model.checkpoint = _checkpointing(config.checkpoint, model, loader, log)
        history, first_epoch, saved = [], 1, None     # saved: the options model.npz records
        if config.resume:
            history, first_epoch, saved = train_files.restore(
                config, model, optimizer, loader, device, log, state=resume_state)
            log(f"resumed from {config.resume} at epoch {first_epoch}")
            if not _same_file(config.resume, os.path.join(config.out, "model.npz")):
                saved = None                       # --out holds no checkpoint of this run yet
        log(f"data: {config.data}, {len(X_train)} train / {len(X_test)} test rows, "
            f"{sizes[0]} features, {classes} classes; model {sizes}")
        if job.is_main and first_epoch <= config.epochs:
            os.makedirs(config.out, exist_ok=True)
        data_file = train_data.fingerprint(config.data) if job.is_main else None
    with job.stop_together():
        trained = job.wrap(model)
        step_fn = _step_function(trained, optimizer, config, job)

    def metrics(stopped: dict | None = None) -> dict:
        return train_files.metrics_of(config, device, why, sizes, history, job.size, stopped)

    if first_epoch > config.epochs:
        log(train_files.nothing_to_do(config.resume, first_epoch - 1, config.epochs))
        return metrics()
    epoch, arrays = first_epoch, (X_train, y_train, X_test, y_test)
    try:
        # NumPy's overflow warnings would only repeat what the check of the loss reports
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for epoch in range(first_epoch, config.epochs + 1):
                record = _epoch(config, trained, model, loader, step_fn, arrays, epoch, job)
                if job.is_main:              # both written whole or neither (atomic)
                    done = history + [record]
                    train_files.write_checkpoint(
                        config, model, optimizer, loader, done, epoch, data_file=data_file,
                        metrics=train_files.metrics_of(config, device, why, sizes, done,
                                                       job.size))
                saved = train_files.checkpoint_options(config)
                history.append(record)
                log(f"epoch {epoch}/{config.epochs}: train loss {record['train_loss']:.4f} "
                    f"acc {record['train_accuracy']:.2%}, test loss "
                    f"{record['test_loss']:.4f} acc {record['test_accuracy']:.2%}, "
                    f"{record['samples_per_second']:,.0f} samples/s")
    except KeyboardInterrupt:
        stopped = {"in_epoch": epoch, "reason": "interrupted (Ctrl-C)", "saved_options": saved}
        written = _write_finished(config, job, history, saved, lambda: metrics(stopped))
        raise TrainingInterrupted(_interrupted(config, epoch, history, written, job.size)
                                  ) from None
    except TrainingDiverged as exc:
        stopped = {"in_epoch": epoch, "reason": str(exc), "saved_options": saved}
        _write_finished(config, job, history, saved, lambda: metrics(stopped))
        raise
    except MemoryError:
        raise OutOfMemory(f"ran out of memory in epoch {epoch} (--batch-size "
                          f"{config.batch_size}, model {sizes}); use a smaller --batch-size or "
                          f"--hidden, or --checkpoint auto (recomputes to save memory); the "
                          f"finished epochs stay in {config.out}") from None
    return _finish(config, job, metrics(), log)


def _epoch(config, trained, model, loader, step_fn, arrays, epoch: int, job: Job) -> dict:
    """Train one epoch and evaluate; returns the epoch's record."""
    X_train, y_train, X_test, y_test = arrays
    stats = train_epoch(trained, loader, step_fn, config, epoch, job)
    train_loss, train_acc = evaluate(model, X_train, y_train, job=job)
    if not np.isfinite(train_loss):             # the last step broke the model
        raise diverged(config, epoch, None, len(loader))
    test_loss, test_acc = evaluate(model, X_test, y_test, job=job)
    return {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc,
            "test_loss": test_loss, "test_accuracy": test_acc,
            "seconds": stats["seconds"], "samples_per_second": stats["samples_per_second"]}


def _silent(*args, **kwargs):
    pass


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _write_finished(config, job: Job, history: list, saved, metrics) -> list:
    """metrics.json and curves.png of the finished epochs beside their model.npz (and
    describing it: ``metrics_of``'s ``stopped``) when a run stops early; returns the files
    that hold them. ``saved``: the options of the model.npz in ``config.out`` (None: none
    of this run's epochs is there)."""
    if not job.is_main or not history or saved is None:
        return []
    return ["model.npz"] + train_files.write_results(config.out, metrics())


def _interrupted(config, epoch: int, history: list, written: list, ranks: int) -> str:
    where = f"in epoch {epoch} of {config.epochs}"
    if not history:
        return f"interrupted {where}, before any epoch finished; nothing was saved"
    first, last = history[0]["epoch"], history[-1]["epoch"]
    done = f"epoch {last} is" if first == last else f"epochs {first}-{last} are"
    again = (f"mpiexec -n {ranks} gpugrad train --distributed" if config.distributed
             else "gpugrad train")
    if not written and config.resume:       # resumed into another --out; nothing there yet
        return (f"interrupted {where}, before any epoch of this run finished; "
                f"{config.resume} keeps epoch {last}; continue with: {again} --resume "
                f"{config.resume} --out {config.out}")
    return (f"interrupted {where}; {done} saved in {config.out} ({', '.join(written)}); "
            f"continue with: {again} --out {config.out} --resume")


def _finish(config, job: Job, metrics: dict, log) -> dict:
    if not job.is_main:
        return metrics
    written = train_files.write_results(config.out, metrics)
    accuracy = metrics["test_accuracy"]
    log(f"test accuracy: {accuracy:.2%}" if accuracy is not None else "no epochs were run")
    if metrics["samples_per_second"]:
        log(f"throughput: {metrics['samples_per_second']:,.0f} samples/s; peak memory: "
            f"{metrics['peak_memory_bytes'] / 2**20:.1f} MiB ({metrics['peak_memory_kind']})")
    log(f"wrote {config.out}/model.npz, {', '.join(written)}" + (
        "" if "curves.png" in written else " (install matplotlib for curves.png)"))
    return metrics
