"""The command line: ``gpugrad train ...`` (also ``python -m gpugrad train ...``).

Example::

    $ gpugrad train --data digits --hidden 128,128 --epochs 30 --out runs/digits
"""

from __future__ import annotations

import argparse
import math
import os
import sys

from . import backend, distributed
from .data import DataError
from .serialization import CorruptFileError
from .training import OPTIMIZERS, TrainConfig, fit

__all__ = ["main"]


def _sizes(text: str) -> tuple:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden takes comma-separated widths such as "
                                         f"128,128; got {text!r}") from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"--hidden widths must be >= 1, got {text!r}")
    return sizes


def _positive(kind):
    def parse(text):
        value = kind(text)
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
        return value
    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gpugrad", description="gpugrad command line")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train", help="train an MLP classifier",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Train an MLP classifier with softmax cross-entropy on a GPU when one is "
                    "usable (else the CPU), and write model.npz, metrics.json and curves.png "
                    "into --out.")
    defaults = TrainConfig()
    train.add_argument("--data", default=defaults.data,
                       help="'digits' (built in, 8x8 handwritten digits), 'synthetic' (a "
                            "teacher MLP's labels on Gaussian inputs), or a path: an .npz "
                            "with arrays X and y, or a CSV with the label in the last column")
    train.add_argument("--hidden", type=_sizes, default=",".join(map(str, defaults.hidden)),
                       help="hidden layer widths, comma-separated (empty: a linear model)")
    train.add_argument("--epochs", type=_positive(int), default=defaults.epochs,
                       help="passes over the training data")
    train.add_argument("--batch-size", type=_positive(int), default=defaults.batch_size,
                       help="rows per optimizer step")
    train.add_argument("--lr", type=_positive(float), default=defaults.lr,
                       help="learning rate")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer,
                       help="sgd (with momentum 0.9), adam or adamw")
    train.add_argument("--device", default=defaults.device,
                       help="auto (cuda when a GPU is usable, else cpu), cpu, cuda or cuda:N")
    train.add_argument("--seed", type=int, default=defaults.seed,
                       help="seed for weights, data split, shuffling and dropout")
    train.add_argument("--out", default=defaults.out, help="folder for the output files")
    train.add_argument("--dtype", choices=("float32", "float64"), default=defaults.dtype,
                       help="floating-point type of the model and data")
    train.add_argument("--test-fraction", type=float, default=defaults.test_fraction,
                       help="share of the rows held out for testing")
    train.add_argument("--synthetic-size", type=_positive(int),
                       default=defaults.synthetic_size, help="rows of --data synthetic")
    train.add_argument("--resume", nargs="?", const="", default=None, metavar="PATH",
                       help="continue from a checkpoint (default: OUT/model.npz) with its "
                            "model and optimizer state, up to --epochs")
    train.add_argument("--checkpoint", default=None, metavar="SEGMENTS|auto|BYTES",
                       help="gradient checkpointing: a number of segments (e.g. 4), 'auto' "
                            "(the planner at half the memory of no checkpointing) or a "
                            "memory budget with its unit (e.g. 200MB)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--distributed", action="store_true",
                       help="data-parallel over the ranks of an MPI launch (mpiexec -n N "
                            "gpugrad train --distributed ...); --batch-size is the global "
                            "batch, split evenly; only rank 0 prints and writes files")
    train.add_argument("--cuda-graph", action="store_true",
                       help="capture the training step into a CUDA graph after one eager "
                            "step and replay it for every batch (gpugrad.cuda.graph); on "
                            "CPU the step runs eagerly under the same rules")
    _experiment_parser(commands)
    return parser


def _experiment_parser(commands):
    from .checkpoint.experiment import ExperimentConfig
    experiment = commands.add_parser("experiment", help="measurement experiments")
    kinds = experiment.add_subparsers(dest="kind", required=True)
    ckpt = kinds.add_parser(
        "checkpoint", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        help="the memory/compute trade-off of gradient checkpointing on a deep MLP",
        description="Measure peak memory, step time and recomputations of a deep MLP's "
                    "training step without checkpointing, with every-k and sqrt(n) "
                    "segments, and with the planner at several budgets; write "
                    "results.csv, results.md and tradeoff.png into --out.")
    defaults = ExperimentConfig()
    ckpt.add_argument("--depth", type=_positive(int), default=defaults.depth,
                      help="number of Linear layers")
    ckpt.add_argument("--width", type=_sizes, default=",".join(map(str, defaults.width)),
                      help="layer width; several (e.g. 1024,256) make layers cycle through "
                           "them, a chain of unequal layers")
    ckpt.add_argument("--batch", type=_positive(int), default=defaults.batch,
                      help="rows per step")
    ckpt.add_argument("--dtype", choices=("float32", "float64"), default=defaults.dtype)
    ckpt.add_argument("--device", default=defaults.device, help="auto, cpu, cuda or cuda:N")
    ckpt.add_argument("--every", type=_sizes, default=",".join(map(str, defaults.every)),
                      help="segment lengths k for the every-k strategies")
    ckpt.add_argument("--budgets", type=_fractions,
                      default=",".join(map(str, defaults.budgets)),
                      help="planner budgets, as fractions of the peak without checkpointing")
    ckpt.add_argument("--strategies", type=_strategy_names,
                      default=",".join(defaults.strategies),
                      help="which to measure, of none (always), every, sqrt and planner")
    ckpt.add_argument("--repeat", type=_positive(int), default=defaults.repeat,
                      help="timed steps per strategy (the median is reported)")
    ckpt.add_argument("--seed", type=int, default=defaults.seed)
    ckpt.add_argument("--out", default=defaults.out, help="folder for the output files")


def _strategy_names(text: str) -> tuple:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(set(names) - {"none", "every", "sqrt", "planner"})
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown strategies {unknown}; use none, every, "
                                         f"sqrt and planner")
    return names


def _fractions(text: str) -> tuple:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected fractions such as 0.2,0.5; got {text!r}")
    if not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"budgets are fractions in (0, 1]; got {text!r}")
    return values


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0 on success, 2 on bad input, which
    is reported in one line; GPUGRAD_DEBUG=1 shows the traceback instead)."""
    args = _parser().parse_args(argv)
    if args.command == "experiment":
        return _guarded("experiment", lambda: _experiment(args))
    config = TrainConfig(
        data=args.data, hidden=args.hidden, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, optimizer=args.optimizer, device=args.device, seed=args.seed,
        out=args.out, dtype=args.dtype, test_fraction=args.test_fraction,
        synthetic_size=args.synthetic_size, progress=not args.no_progress,
        resume=None if args.resume is None else (args.resume or f"{args.out}/model.npz"),
        checkpoint=args.checkpoint, distributed=args.distributed, cuda_graph=args.cuda_graph)
    return _guarded("train", lambda: fit(config))


def _experiment(args):
    from .checkpoint.experiment import ExperimentConfig, run
    run(ExperimentConfig(depth=args.depth, width=args.width, batch=args.batch,
                         dtype=args.dtype, device=args.device, every=args.every,
                         budgets=args.budgets, strategies=args.strategies,
                         repeat=args.repeat, seed=args.seed, out=args.out))


def _guarded(command: str, work) -> int:
    """Run ``work``; bad input ends in one line on stderr and exit status 2."""
    try:
        work()
    except (OSError, DataError, CorruptFileError, backend.DeviceError, KeyError,
            ValueError, distributed.DistributedError) as exc:
        if os.environ.get("GPUGRAD_DEBUG"):
            raise                             # the full traceback, for bug reports
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"gpugrad {command}: error: {message}", file=sys.stderr)
        distributed.abort(2)                  # under mpiexec: the other ranks stop too
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
