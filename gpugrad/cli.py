"""The command line: ``gpugrad train ...`` and ``gpugrad experiment checkpoint ...`` (also
``python -m gpugrad ...``).

Exit status: 0 done (or nothing left to do), 1 training failed (the loss became NaN or
infinite), 2 bad input (a bad --out or data file, a model or data too big for memory), 130
interrupted (Ctrl-C; the finished epochs are saved and ``--resume`` continues). Every
failure is one line on stderr saying what was wrong and what to do; ``GPUGRAD_DEBUG=1``
shows the traceback instead. Under ``mpiexec`` it is printed once.

Example::

    $ gpugrad train --data digits --hidden 128,128 --epochs 30 --out runs/digits
    $ gpugrad train --out runs/digits --resume --epochs 40     # 10 more epochs
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys

import numpy as np

from . import __version__, backend, distributed
from .cli_options import OPTIONS, Parser, add_train_options, experiment_parser
from .data import DataError
from .distributed.group import mark_raised_together, reporting_rank
from .distributed.job import ElsewhereError, launcher_rank
from .serialization import CorruptFileError
from .train_files import check_out, nothing_to_do, read_checkpoint, resume_options
from .training import TrainConfig, TrainingDiverged, TrainingInterrupted, fit

__all__ = ["main"]

# what to lower when a command runs out of memory where it could not say what was too big
_SMALLER = {"train": "--hidden, --batch-size or --synthetic-size",
            "experiment": "--depth, --width or --batch"}
# how backend.cuda_status()'s reason ends: the library's advice, in Python's words
_LIBRARY_ADVICE = re.compile(r"\b([Oo]r use) device='cpu'\.$")
_BAD_INPUT = (OSError, DataError, CorruptFileError, backend.DeviceError, KeyError,
              ValueError, distributed.DistributedError)


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="gpugrad", description="gpugrad command line")
    parser.add_argument("--version", action="version",
                        version=f"gpugrad {__version__} (NumPy {np.__version__}, "
                                f"Python {platform.python_version()})")
    commands = parser.add_subparsers(dest="command", required=True)
    add_train_options(commands.add_parser(
        "train", help="train an MLP classifier",
        description="Train an MLP classifier with softmax cross-entropy on a GPU when one is "
                    "usable (else the CPU), and write model.npz, metrics.json and curves.png "
                    "into --out.",
        epilog="Exit status: 0 done, 1 the loss became NaN or infinite, 2 bad input, "
               "130 interrupted (Ctrl-C: the finished epochs are saved; --resume continues)."))
    experiment_parser(commands)
    return parser


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit
    status (see the module docstring).

    Example::

        >>> from gpugrad.cli import main
        >>> main(["train", "--epochs", "2.5"])
        Traceback (most recent call last):
        SystemExit: 2
    """
    args = _parser().parse_args(argv)
    if args.command == "experiment":
        return _guarded("experiment", lambda: _experiment(args))
    return _guarded("train", lambda: _train(args))


def _say(text: str) -> None:
    if launcher_rank() == 0:
        print(text, flush=True)


def _train(args) -> int:
    given = {name: getattr(args, name) for name in OPTIONS if hasattr(args, name)}
    config = TrainConfig(**given, progress=not args.no_progress, distributed=args.distributed,
                         cuda_graph=args.cuda_graph, compile=args.compile)
    state = None                                 # the checkpoint, read once, on the cpu
    if args.resume is not None:
        try:
            config, state = _resumed(args.resume, given, config)
        except Exception as exc:
            mark_raised_together(exc, 0)         # every rank read the same file: say it once
            raise
        if config is None:
            return 0
    fit(config, resume_state=state)
    return 0


def _resumed(option: str, given: dict, config: TrainConfig) -> tuple:
    """(config, checkpoint) for ``--resume [PATH]``: ``config`` with the checkpoint's
    options where none were given, and the checkpoint's content (``read_checkpoint``);
    config None when it has nothing left to do. Without PATH and with no checkpoint in
    --out yet, a new run starts (checkpoint None: one command both starts and continues a
    run)."""
    path = option or os.path.join(config.out, "model.npz")
    if not os.path.exists(path):
        if option:
            raise FileNotFoundError(f"--resume {path}: no such checkpoint; give the model.npz "
                                    f"a run wrote, or --resume alone to use --out's")
        _say(f"--resume: no checkpoint at {path} yet; starting a new run")
        return config, None
    if option and "out" not in given:
        config.out = os.path.dirname(path) or "."
    state = read_checkpoint(path, device="cpu")
    config, done = resume_options(path, given, config, state=state)
    if done >= config.epochs:
        _say(nothing_to_do(path, done, config.epochs))
        return None, None
    return config, state


def _experiment(args):
    from .checkpoint.experiment import ExperimentConfig, run
    check_out(args.out, files=("results.csv", "results.md", "tradeoff.png"),
              example="runs/checkpoint")
    run(ExperimentConfig(depth=args.depth, width=args.width, batch=args.batch,
                         dtype=args.dtype, device=args.device, every=args.every,
                         budgets=args.budgets, strategies=args.strategies,
                         repeat=args.repeat, seed=args.seed, out=args.out))


def _guarded(command: str, work) -> int:
    """Run ``work``; a failure ends in one line on stderr (printed once under mpiexec) and
    the exit status for it."""
    try:
        return work() or 0
    except KeyboardInterrupt as exc:
        if os.environ.get("GPUGRAD_DEBUG"):
            raise
        message = str(exc) if isinstance(exc, TrainingInterrupted) else "interrupted"
        if launcher_rank() == 0:                  # every rank got the Ctrl-C
            _print(f"gpugrad {command}: {message}")
        return 130
    except ElsewhereError:
        return 2                                  # the rank that failed says why
    except TrainingDiverged as exc:
        return _failed(command, exc, 1)
    except _BAD_INPUT as exc:
        return _failed(command, exc, 2)
    except MemoryError as exc:                    # NumPy's and CuPy's out-of-memory errors
        if os.environ.get("GPUGRAD_DEBUG"):
            raise
        return _failed(command, MemoryError(f"ran out of memory ({exc}); use a smaller "
                                            f"{_SMALLER[command]}"), 2)


def _failed(command: str, exc: Exception, status: int) -> int:
    if os.environ.get("GPUGRAD_DEBUG"):
        raise exc                                 # the full traceback, for bug reports
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    if isinstance(exc, backend.CudaUnavailableError):
        message = _cuda_advice_in_flags(message)
    rank, reporter = launcher_rank(), reporting_rank(exc)
    if reporter is None or reporter == rank:
        _print(f"gpugrad {command}: error: " + (f"rank {rank}: " if rank else "") + message)
    if reporter is None:
        distributed.abort(status)                 # under mpiexec: the other ranks stop too
    return status


def _cuda_advice_in_flags(message: str) -> str:
    """``message`` (of a CudaUnavailableError) with the advice of ``backend.cuda_status()``'s
    reason, "use device='cpu'", as the flag the user types: "use --device cpu"."""
    usable, reason = backend.cuda_status()
    if usable or reason not in message:
        return message
    return message.replace(reason, _LIBRARY_ADVICE.sub(r"\1 --device cpu.", reason))


def _print(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
