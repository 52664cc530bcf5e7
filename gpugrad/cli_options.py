"""The options of ``gpugrad train`` and ``gpugrad experiment checkpoint``, and the parsers of
their values, each saying what it expects when a value is wrong.

``gpugrad train``'s options that set a TrainConfig field (``OPTIONS``) are left out of the
parsed namespace unless given, so ``--resume`` can tell a given option from a default.

Example::

    >>> from gpugrad.cli_options import whole_number, widths
    >>> widths("128, 64"), whole_number(1)("30")
    ((128, 64), 30)
    >>> widths("128,,64")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: expected widths >= 1 ... got '128,,64', which has an empty width
"""

from __future__ import annotations

import argparse
import math

from .distributed.job import launcher_rank
from .training import CHECKPOINT_FORMS, OPTIMIZERS, TrainConfig, parse_checkpoint

__all__ = ["Parser", "OPTIONS", "add_train_options", "experiment_parser", "whole_number",
           "positive_number", "fraction", "widths", "checkpointing"]

# the TrainConfig fields that gpugrad train's options set
OPTIONS = ("data", "hidden", "epochs", "batch_size", "lr", "optimizer", "device", "seed",
           "out", "dtype", "test_fraction", "synthetic_size", "checkpoint")


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors printed once under mpiexec (by rank 0: every rank has
    the same command line)."""

    def error(self, message):
        if launcher_rank() != 0:
            self.exit(2)
        super().error(message)


def whole_number(minimum: int):
    """A parser of whole numbers >= ``minimum`` (``2.5`` and ``ten`` are refused)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, "
                                             f"got {text!r}")
        return value
    return parse


def _number(text: str) -> float:
    """``text`` as a float, or NaN when it is not a number (every check then fails)."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def positive_number(text: str) -> float:
    """A finite number > 0, such as 0.001 or 1e-3."""
    value = _number(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0 such as 0.001, got {text!r}")
    return value


def fraction(text: str) -> float:
    """A number strictly between 0 and 1, such as 0.2."""
    value = _number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1 such as 0.2, "
                                         f"got {text!r}")
    return value


def widths(text: str, allow_none: bool = True) -> tuple:
    """Comma-separated whole numbers >= 1 (``128,64``); '' (no widths) if ``allow_none``."""
    expected = ("expected widths >= 1 separated by commas, such as 128,64"
                + (" (or '' for none)" if allow_none else ""))
    if not text.strip():
        if allow_none:
            return ()
        raise argparse.ArgumentTypeError(f"{expected}; got {text!r}")
    parts = [part.strip() for part in text.split(",")]
    if any(not part for part in parts):
        raise argparse.ArgumentTypeError(f"{expected}; got {text!r}, which has an empty "
                                         f"width")
    for part in parts:
        if not part.isdigit() or int(part) < 1:
            raise argparse.ArgumentTypeError(f"{expected}; got {text!r}, in which {part!r} is "
                                             f"not a whole number >= 1")
    return tuple(int(part) for part in parts)


def checkpointing(text: str) -> str | None:
    """``--checkpoint``: 'off' (None, the default) or its value as typed, checked.

    Example::

        >>> from gpugrad.cli_options import checkpointing
        >>> checkpointing("off"), checkpointing("200MB")
        (None, '200MB')
    """
    try:
        kind, _ = parse_checkpoint(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {CHECKPOINT_FORMS}; got {text!r}") \
            from None
    return None if kind == "off" else text


def _some_widths(text: str) -> tuple:
    return widths(text, allow_none=False)


def _option(parser, name: str, default, help: str, **kwargs):
    """An option left out of the namespace unless given; its help shows ``default``."""
    shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
    parser.add_argument(name, default=argparse.SUPPRESS,
                        help=f"{help} (default: {shown})", **kwargs)


def add_train_options(train) -> None:
    d = TrainConfig()
    _option(train, "--data", d.data,
            "'digits' (built in, 8x8 handwritten digits), 'synthetic' (a teacher MLP's "
            "labels on Gaussian inputs), or a path: an .npz with arrays X and y, or a CSV "
            "with the label in the last column", metavar="DATA")
    _option(train, "--hidden", d.hidden, "hidden layer widths, comma-separated ('' for a "
            "linear model)", type=widths, metavar="WIDTHS")
    _option(train, "--epochs", d.epochs, "passes over the training data (with --resume: "
            "the total, counting the epochs done)", type=whole_number(1), metavar="N")
    _option(train, "--batch-size", d.batch_size, "rows per optimizer step",
            type=whole_number(1), metavar="N")
    _option(train, "--lr", d.lr, "learning rate", type=positive_number, metavar="LR")
    _option(train, "--optimizer", d.optimizer, "sgd (with momentum 0.9), adam or adamw",
            choices=OPTIMIZERS)
    _option(train, "--device", d.device, "auto (cuda when a GPU is usable, else cpu), cpu, "
            "cuda or cuda:N", metavar="DEVICE")
    _option(train, "--seed", d.seed, "seed for weights, data split, shuffling and dropout",
            type=whole_number(0), metavar="N")
    _option(train, "--out", d.out, "folder for the output files", metavar="FOLDER")
    _option(train, "--dtype", d.dtype, "floating-point type of the model and data",
            choices=("float32", "float64"))
    _option(train, "--test-fraction", d.test_fraction, "share of the rows held out for "
            "testing", type=fraction, metavar="F")
    _option(train, "--synthetic-size", d.synthetic_size, "rows of --data synthetic",
            type=whole_number(1), metavar="N")
    _option(train, "--checkpoint", "off", "gradient checkpointing: a number of segments "
            "(e.g. 4), 'auto' (the planner at half the memory of no checkpointing), a "
            "memory budget with its unit (e.g. 200MB), or 'off'", type=checkpointing,
            metavar="SEGMENTS|auto|BYTES|off")
    train.add_argument("--resume", nargs="?", const="", default=None, metavar="PATH",
                       help="continue the run saved in PATH (default: OUT/model.npz; when "
                            "that does not exist yet, start it) with its options, model, "
                            "optimizer and data order, up to its --epochs or a larger one "
                            "given; --lr, --batch-size, --device and --checkpoint may change "
                            "(--checkpoint off turns it off), the other options must match")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--distributed", action="store_true",
                       help="data-parallel over the ranks of an MPI launch (mpiexec -n N "
                            "gpugrad train --distributed ...); --batch-size is the global "
                            "batch, split evenly; only rank 0 prints and writes files")
    train.add_argument("--cuda-graph", action="store_true",
                       help="capture the training step into a CUDA graph after one eager "
                            "step and replay it for every batch (gpugrad.cuda.graph); on "
                            "CPU the step runs eagerly under the same rules")
    train.add_argument("--compile", action="store_true",
                       help="record the training step once per batch shape and replay it "
                            "for every batch (gpugrad.compile): on CPU a flat program of "
                            "array calls with no graph built, on a GPU its CUDA graph; "
                            "trains exactly as the eager step does")


def experiment_parser(commands) -> None:
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
    d = ExperimentConfig()
    ckpt.add_argument("--depth", type=whole_number(1), default=d.depth,
                      help="number of Linear layers")
    ckpt.add_argument("--width", type=_some_widths, default=",".join(map(str, d.width)),
                      help="layer width; several (e.g. 1024,256) make layers cycle through "
                           "them, a chain of unequal layers")
    ckpt.add_argument("--batch", type=whole_number(1), default=d.batch, help="rows per step")
    ckpt.add_argument("--dtype", choices=("float32", "float64"), default=d.dtype)
    ckpt.add_argument("--device", default=d.device, help="auto, cpu, cuda or cuda:N")
    ckpt.add_argument("--every", type=_some_widths, default=",".join(map(str, d.every)),
                      help="segment lengths k for the every-k strategies")
    ckpt.add_argument("--budgets", type=_fractions, default=",".join(map(str, d.budgets)),
                      help="planner budgets, as fractions of the peak without checkpointing")
    ckpt.add_argument("--strategies", type=_strategy_names,
                      default=",".join(d.strategies),
                      help="which to measure, of none (always), every, sqrt and planner")
    ckpt.add_argument("--repeat", type=whole_number(1), default=d.repeat,
                      help="timed steps per strategy (the median is reported)")
    ckpt.add_argument("--seed", type=whole_number(0), default=d.seed)
    ckpt.add_argument("--out", default=d.out, help="folder for the output files")


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
        raise argparse.ArgumentTypeError(f"expected fractions such as 0.2,0.5; got "
                                         f"{text!r}") from None
    if not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"budgets are fractions in (0, 1]; got {text!r}")
    return values
