"""The files a training run leaves in ``--out`` and reads back: ``model.npz`` (the checkpoint
``--resume`` continues from), ``metrics.json`` and ``curves.png``.

A checkpoint is written at the end of every finished epoch and holds the model, the
optimizer, the RNG and data-order state, the history of the finished epochs and the run's
options, so a resumed run needs no options repeated (``resume_options``).

Example::

    >>> from gpugrad.training import TrainConfig, fit
    >>> from gpugrad.train_files import read_checkpoint
    >>> config = TrainConfig(epochs=1, hidden=(8,), out="run", device="cpu", progress=False)
    >>> _ = fit(config, log=lambda *args: None)
    >>> state = read_checkpoint("run/model.npz")
    >>> state["epoch"], state["config"]["hidden"]
    (1, (8,))
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import tempfile
from dataclasses import asdict, fields

import numpy as np

from . import backend
from .data import DataError
from .train_data import check_data, recorded, same_data
from .random import get_rng_state, set_rng_state
from .serialization import load, save, temporary_file


__all__ = ["FIXED_ON_RESUME", "CARRIED_ON_RESUME", "FILES", "OutFolderError", "check_out",
           "flag", "shown", "checkpoint_options", "read_checkpoint", "write_checkpoint",
           "restore", "resume_options", "nothing_to_do", "metrics_of", "write_results"]

# Options a resumed run takes from its checkpoint and must not change: they fix the data
# split, the model and the optimizer.
FIXED_ON_RESUME = ("data", "seed", "test_fraction", "synthetic_size", "hidden", "optimizer",
                   "dtype")
# Options a resumed run takes from its checkpoint unless they are given again (then the new
# value applies from the next epoch on).
CARRIED_ON_RESUME = ("epochs", "batch_size", "lr", "device", "checkpoint")
_KEYS = ("model", "optimizer", "epoch", "rng", "loader", "history", "config")
FILES = ("model.npz", "metrics.json", "curves.png")      # what a run writes into --out


class OutFolderError(ValueError):
    """``--out`` cannot hold the run's files; the message names it and the fix."""


def check_out(out: str, files=FILES, option: str = "--out", example: str = "runs/train"
              ) -> None:
    """Raise ``OutFolderError`` unless ``out`` is a folder (or one that can be made) in
    which ``files`` can be written: checked before any work, so that a bad ``--out`` is not
    found after the first epoch. Nothing is left behind.

    Example::

        >>> from gpugrad.train_files import check_out
        >>> _ = open("afile", "w").write("x")
        >>> check_out("afile")
        Traceback (most recent call last):
        gpugrad.train_files.OutFolderError: --out afile is a file, not a folder; ...
        >>> check_out("runs/new")                   # made when the run writes its files
    """
    fix = f"give a folder for the output files, e.g. {option} {example}"
    if not str(out).strip():
        raise OutFolderError(f"{option} {out!r} is empty; {fix}")
    out = os.fspath(out)
    folder = out
    while not os.path.isdir(folder):
        if os.path.lexists(folder):              # a file, or a link to nothing
            what = "is a file" if os.path.exists(folder) else "is a broken symbolic link"
            where = f"{option} {out} {what}" if folder == out else \
                f"{option} {out}: {folder} {what}"
            raise OutFolderError(f"{where}, not a folder; {fix}, or move {folder} away")
        folder = os.path.dirname(folder.rstrip(os.sep)) or "."     # ends at "." or "/"
    if folder == out:
        for name in files:
            if os.path.isdir(os.path.join(out, name)):
                raise OutFolderError(f"{option} {out} holds a folder named {name}, where the "
                                     f"run writes its file {name}; move that folder away or "
                                     f"give another {option}")
    try:
        handle, probe = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    except OSError as exc:
        where = "" if folder == out else f" (its folder {folder} cannot be written to)"
        raise OutFolderError(f"{option} {out} is not writable{where}: {exc.strerror or exc}; "
                             f"{fix} you can write to, or change its permissions") from None
    os.close(handle)
    os.remove(probe)


def flag(name: str) -> str:
    """The command-line flag of a TrainConfig field.

    Example::

        >>> from gpugrad.train_files import flag
        >>> flag("batch_size")
        '--batch-size'
    """
    return "--" + name.replace("_", "-")


def shown(value) -> str:
    """An option's value as it is typed on the command line.

    Example::

        >>> from gpugrad.train_files import shown
        >>> shown((128, 64)), shown(0.001)
        ('128,64', '0.001')
    """
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _same(key: str, a, b) -> bool:
    """Whether option ``key`` has the same value ``a`` and ``b`` (data files by the file they
    name, so ``my_data.npz`` typed in its folder matches the absolute path recorded)."""
    return same_data(a, b) if key == "data" else shown(a) == shown(b)


def _mismatches(saved: dict, options: dict, keys) -> list:
    """Those of ``keys`` whose value in ``options`` differs from the one in ``saved`` (a
    checkpoint's options; a key it lacks reads as None)."""
    return [k for k in keys if not _same(k, saved.get(k), options[k])]


def _options(config, leave_out: tuple) -> dict:
    options = {k: v for k, v in asdict(config).items() if k not in leave_out}
    options["data"] = recorded(options["data"])
    return options


def checkpoint_options(config) -> dict:
    """The options of ``config`` (a TrainConfig) as a checkpoint records them: all but
    ``resume`` and ``extra``, a data file as an absolute path (``train_data.recorded``).

    Example::

        >>> from gpugrad.training import TrainConfig
        >>> from gpugrad.train_files import checkpoint_options
        >>> options = checkpoint_options(TrainConfig(data="digits", hidden=(8,)))
        >>> options["data"], options["hidden"], "resume" in options
        ('digits', (8,), False)
    """
    return _options(config, ("resume", "extra"))


def read_checkpoint(path, device=None) -> dict:
    """The state a ``gpugrad train`` checkpoint holds (tensors on ``device``); an error
    names the file when it is not one."""
    if os.path.isdir(path):
        raise DataError(f"--resume {path}: that is a folder, not a checkpoint; pass the "
                        f"checkpoint in it (--resume {os.path.join(path, 'model.npz')}) or "
                        f"the run's folder as --out (--out {path} --resume)")
    state = load(path, device=device)
    missing = [key for key in _KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise DataError(f"--resume {path}: not a gpugrad train checkpoint (no "
                        f"'{missing[0]}'); pass the model.npz that gpugrad train wrote")
    state["config"] = dict(state["config"])
    if isinstance(state["config"].get("hidden"), list):
        state["config"]["hidden"] = tuple(state["config"]["hidden"])
    return state


def write_checkpoint(config, model, optimizer, loader, history, epoch, metrics=None,
                     data_file=None) -> None:
    """``OUT/model.npz`` after ``epoch``, and with ``metrics`` its ``metrics.json``: each
    written whole to a temporary file in ``OUT`` first, and only when both are written
    renamed over the real names (model.npz first), so a failed or interrupted write leaves
    the previous pair. ``data_file``: the data file's fingerprint
    (``train_data.fingerprint``), which ``--resume`` checks."""
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
             "rng": get_rng_state(), "loader": loader.state_dict(), "history": history,
             "config": checkpoint_options(config)}
    if data_file is not None:
        state["data_file"] = data_file
    written = []                                 # (temporary, final) pairs, in rename order
    try:
        written.append((temporary_file(config.out, ".npz", lambda f: None),
                        os.path.join(config.out, "model.npz")))
        save(state, written[0][0])
        if metrics is not None:
            written.append((_write_json(config.out, metrics),
                            os.path.join(config.out, "metrics.json")))
    except BaseException:
        for temporary, _ in written:
            os.remove(temporary)
        raise
    for temporary, final in written:
        os.replace(temporary, final)


def _write_json(folder: str, metrics: dict) -> str:
    text = json.dumps(_finite(metrics), indent=2, default=str, allow_nan=False)
    return temporary_file(folder, ".json", lambda f: f.write(text.encode()))


def restore(config, model, optimizer, loader, device, log, state=None
            ) -> tuple[list, int, dict]:
    """Load ``config.resume`` into the model, optimizer, RNG and loader; returns the
    finished epochs' history, the first epoch to run and the options the checkpoint
    records (those of the run that trained its last epoch).

    ``state``: what ``read_checkpoint(config.resume)`` returned when the caller has read it
    already (on any device: the model and the optimizer move its values to theirs); else
    the file is read here, onto ``device``."""
    path = config.resume
    if state is None:
        state = read_checkpoint(path, device=device)
    check_data(state, config.data, path)
    saved, now = state["config"], asdict(config)
    changed = [f"{flag(k)} {shown(saved.get(k))} -> {shown(now[k])}"
               for k in _mismatches(saved, now, _compared(state))]
    if changed:
        raise DataError(f"--resume {path}: the checkpoint was trained with other options "
                        f"({'; '.join(changed)}); pass the same ones, or leave them out")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    for group in optimizer.param_groups:
        if group["lr"] != config.lr:
            log(f"learning rate changed on resume: {group['lr']} -> {config.lr}")
            group["lr"] = config.lr
    set_rng_state(state["rng"])
    loader.load_state_dict(state["loader"])
    return list(state["history"]), int(state["epoch"]) + 1, saved


def resume_options(path: str, given: dict, base, state=None) -> tuple:
    """The options of a run that resumes from the checkpoint ``path``: ``base`` (a
    TrainConfig with the defaults and the ``given`` options) with every option the user did
    not give taken from the checkpoint. Returns (config, epochs done). ``state``: the
    checkpoint when the caller has read it already (``read_checkpoint(path, "cpu")``, which
    ``fit(config, resume_state=state)`` then restores without reading the file again).

    A given option among ``FIXED_ON_RESUME`` that differs from the checkpoint's is an error
    naming it; those among ``CARRIED_ON_RESUME`` may change.

    Example::

        >>> from gpugrad.training import TrainConfig, fit
        >>> from gpugrad.train_files import resume_options
        >>> first = TrainConfig(epochs=1, hidden=(8,), lr=0.01, out="run", device="cpu",
        ...                     progress=False)
        >>> _ = fit(first, log=lambda *args: None)
        >>> given = {"epochs": 3}                     # what the command line gave
        >>> config, done = resume_options("run/model.npz", given, TrainConfig(**given))
        >>> config.hidden, config.lr, config.epochs, done
        ((8,), 0.01, 3, 1)
    """
    saved = read_checkpoint(path, device="cpu") if state is None else state
    options, done = saved["config"], int(saved["epoch"])
    both = [k for k in _compared(saved) if k in given and k in options]
    conflicts = [f"{flag(k)} {shown(given[k])} (the checkpoint has {flag(k)} "
                 f"{shown(options[k])})" for k in _mismatches(options, given, both)]
    if conflicts:
        raise DataError(f"--resume {path}: {' and '.join(conflicts)} "
                        f"{'conflicts' if len(conflicts) == 1 else 'conflict'} with the run "
                        f"it continues; leave {'it' if len(conflicts) == 1 else 'them'} out "
                        f"(a resumed run reads its options from the checkpoint), or start a "
                        f"new run with another --out")
    names = {f.name for f in fields(base)}
    for key in FIXED_ON_RESUME + CARRIED_ON_RESUME:
        if key not in given and key in options and key in names:
            setattr(base, key, options[key])
    check_data(saved, base.data, path)
    base.resume = path
    return base, done


def _compared(state: dict) -> tuple:
    """The options a resumed run must not change, compared as typed; a data file recorded
    with its content (``data_file``) is compared by content instead (``check_data``)."""
    if state.get("data_file") is None:          # built-in data, or a checkpoint from before
        return FIXED_ON_RESUME
    return tuple(k for k in FIXED_ON_RESUME if k != "data")


def nothing_to_do(path, done: int, epochs: int) -> str:
    """What a resumed run says when the checkpoint ``path`` has already trained ``done``
    epochs and ``--epochs`` asks for no more."""
    return (f"{path} has already trained {done} epochs and --epochs is {epochs}: nothing to "
            f"do, nothing changed (pass --epochs N with N > {done} to train further)")


# ---------------------------------------------------------------------------------------------
# metrics.json and curves.png
# ---------------------------------------------------------------------------------------------

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


def _finite(value):
    """``value`` with NaN and infinities as None, so metrics.json stays valid JSON."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def metrics_of(config, device, why, sizes, history, world_size: int,
               stopped: dict | None = None) -> dict:
    """What metrics.json holds for a run whose finished epochs are ``history``; its
    ``config`` holds the options of the run that wrote model.npz.

    A run that stopped early passes ``stopped``: ``in_epoch`` (where it stopped),
    ``reason`` and ``saved_options`` (what model.npz records: for a resumed run that
    stopped before finishing an epoch, the options of the run it continued). Then
    ``config`` is ``saved_options``, so that metrics.json describes model.npz, and
    ``stopped`` records the epoch, the reason and the stopped run's options that differ
    (``options_not_saved``: they trained none of the saved epochs).
    """
    peak, peak_kind = _peak_memory(device)
    last = history[-1] if history else {}
    total_seconds = sum(h["seconds"] for h in history)
    samples = sum(h["samples_per_second"] * h["seconds"] for h in history)
    options = _options(config, ("extra",))
    metrics = {"config": options, "device": str(device), "device_reason": why,
               "model_sizes": sizes, "versions": _versions(), "epochs": history,
               "test_accuracy": last.get("test_accuracy"),
               "samples_per_second": samples / total_seconds if total_seconds else None,
               "train_seconds": total_seconds, "peak_memory_bytes": peak,
               "peak_memory_kind": peak_kind, "world_size": world_size}
    if stopped is not None:
        saved = dict(stopped["saved_options"])
        metrics["config"] = saved
        metrics["stopped"] = {
            "in_epoch": stopped["in_epoch"], "reason": stopped["reason"],
            "options_not_saved": {k: options[k] for k in FIXED_ON_RESUME + CARRIED_ON_RESUME
                                  if k in saved and not _same(k, saved[k], options[k])}}
    return metrics


def write_results(out: str, metrics: dict) -> list:
    """Write metrics.json and (with matplotlib) curves.png into ``out``, each atomically (a
    temporary file renamed over the real name: a failed write leaves the previous file);
    returns the names of the files written."""
    os.replace(_write_json(out, metrics), os.path.join(out, "metrics.json"))
    written = ["metrics.json"]
    if metrics["epochs"] and _plot(metrics["epochs"], out):
        written.append("curves.png")
    return written


def _plot(history: list, out: str) -> bool:
    """curves.png in ``out`` (atomically); False without matplotlib."""
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
    try:
        temporary = temporary_file(out, ".png",
                                   lambda f: fig.savefig(f, format="png", dpi=100))
    finally:
        plt.close(fig)
    os.replace(temporary, os.path.join(out, "curves.png"))
    return True
