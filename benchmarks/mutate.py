"""Mutation check: do the tests catch small, realistic bugs in gpugrad's core?

Each mutant of ``benchmarks/mutants.py`` (a wrong sign in a reverse rule, an engine that
overwrites instead of adding, a recomputation that skips the RNG restore, an Adam without
bias correction...) is planted, one at a time, in a scratch copy of this working tree (in a
temporary folder: the checkout itself is never touched), and its test files run against it
with ``pytest -x``. A mutant is *killed* when a test fails, *survives* when all pass, and is
an *error* when pytest could not run (the mutant broke an import) or ran past ``--timeout``.

First the unchanged copy runs every test file the mutants name; tests that fail there are
deselected for the mutants (and listed), so a broken test never counts as a kill.

    python benchmarks/mutate.py                 # all mutants, about 8 minutes on 2 cores
    python benchmarks/mutate.py --only div-vjp-sign tanh-vjp-not-squared
    python benchmarks/mutate.py --check         # each original text occurs exactly once, the
                                                # mutated file still compiles, the tests exist
    python benchmarks/mutate.py --list

The table goes to stdout and to ``--out`` (benchmarks/results/mutation.txt for a run of
all mutants; a run of ``--only`` some writes no file unless ``--out`` is given).

Example (the check CI runs)::

    >>> import subprocess, sys
    >>> subprocess.run([sys.executable, "benchmarks/mutate.py", "--check"]).returncode
    0
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from mutants import MUTANTS, planted  # noqa: E402

PYTEST = ["-q", "-p", "no:cacheprovider", "-rfE", "--tb=line"]


def check(root: Path, mutants) -> list:
    """Problems with the list against the tree at ``root`` (empty when all is well)."""
    problems = []
    names = [m.name for m in mutants]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{name}: the name is used twice")
    for m in mutants:
        path = root / m.path
        if not path.is_file():
            problems.append(f"{m.name}: no file {m.path}")
            continue
        if any(old == new for old, new in m.edits):
            problems.append(f"{m.name}: a replacement equals its original")
        try:
            compile(planted(path.read_text(), m.edits, m.path), m.path, "exec")
        except ValueError as exc:
            problems.append(f"{m.name}: {exc}")
        except SyntaxError as exc:
            problems.append(f"{m.name}: the mutated {m.path} does not compile ({exc})")
        for test in m.tests:
            if not (root / test).is_file():
                problems.append(f"{m.name}: no test file {test}")
    return problems


def copy_tree(root: Path, scratch: Path) -> None:
    """The working tree's files (tracked and untracked, not ignored) copied to ``scratch``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=root, capture_output=True)
    if listed.returncode == 0:
        for name in listed.stdout.decode().split("\0"):
            source = root / name
            if name and source.is_file():
                target = scratch / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        return
    for name in ("gpugrad", "tests", "kernels", "benchmarks", "examples", "docs"):
        if (root / name).is_dir():
            shutil.copytree(root / name, scratch / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "setup.py", "README.md", "Makefile"):
        if (root / name).is_file():
            shutil.copy2(root / name, scratch / name)


def _env(scratch: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(scratch), PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONSTARTUP", None)
    return env


def run_pytest(scratch: Path, tests, extra, timeout: float) -> tuple:
    """(return code or "timeout", output, seconds) of pytest on ``tests`` in ``scratch``."""
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", *PYTEST, *extra, *tests],
                              cwd=scratch, env=_env(scratch), capture_output=True, text=True,
                              timeout=timeout)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        code = "timeout"
        output = (exc.stdout or b"").decode(errors="replace") if isinstance(
            exc.stdout, bytes) else (exc.stdout or "")
    return code, output, time.perf_counter() - start


def failures(output: str) -> list:
    """The node ids pytest's short summary names as FAILED or ERROR."""
    return re.findall(r"^(?:FAILED|ERROR) (\S+?)(?: - .*)?$", output, re.MULTILINE)


def _drop_bytecode(scratch: Path, path: str) -> None:
    source = scratch / path
    for cached in (source.parent / "__pycache__").glob(source.stem + ".*.pyc"):
        cached.unlink()


def run_mutant(scratch: Path, mutant, deselect, timeout: float) -> dict:
    """Plant ``mutant`` in ``scratch``, run its tests, take it out again."""
    path = scratch / mutant.path
    original = path.read_text()
    try:
        path.write_text(planted(original, mutant.edits, mutant.path))
    except ValueError as exc:
        return {"result": "error", "seconds": 0.0, "note": str(exc)}
    _drop_bytecode(scratch, mutant.path)
    try:
        extra = ["-x"] + [arg for node in deselect for arg in ("--deselect", node)]
        code, output, seconds = run_pytest(scratch, mutant.tests, extra, timeout)
    finally:
        path.write_text(original)
        _drop_bytecode(scratch, mutant.path)
    if code == 0:
        return {"result": "survived", "seconds": seconds, "note": ""}
    if code == 1:
        failed = failures(output)
        return {"result": "killed", "seconds": seconds,
                "note": failed[0] if failed else _last_line(output)}
    note = "ran past the timeout" if code == "timeout" else f"pytest exit {code}: " + \
        _last_line(output)
    return {"result": "error", "seconds": seconds, "note": note}


def _last_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1][:160] if lines else "(no output)"


def report(rows, baseline_failed, started, total_seconds) -> str:
    from gpu_common import commit       # here: --check and --list need no gpugrad import
    counts = {k: sum(r["result"] == k for _, r in rows) for k in ("killed", "survived", "error")}
    lines = ["# benchmarks/mutate.py: bugs planted one at a time in a scratch copy of the tree,",
             "# each against its test files (pytest -x). killed: a test failed; survived: all",
             "# passed; error: pytest could not run it, or it ran past the timeout.",
             f"# {started:%Y-%m-%d %H:%M}, commit {commit(mark_uncommitted=True)}, Python "
             f"{sys.version.split()[0]}, {os.cpu_count()} cores", ""]
    if baseline_failed:
        lines.append("Failing without any mutant (deselected for the mutants):")
        lines += [f"    {node}" for node in baseline_failed]
        lines.append("")
    width = max(len(m.name) for m, _ in rows)
    lines.append(f"{'mutant':<{width}}  {'result':<8}  {'seconds':>7}  caught by / note")
    for m, r in rows:
        lines.append(f"{m.name:<{width}}  {r['result']:<8}  {r['seconds']:7.1f}  {r['note']}")
    if counts["survived"] or counts["error"]:
        lines.append("")
    for m, r in [(m, r) for m, r in rows if r["result"] != "killed"]:
        lines.append(f"{r['result']}: {m.name} ({m.path}): {m.why}; tests: {', '.join(m.tests)}")
    lines.append(f"\n{len(rows)} mutants: {counts['killed']} killed, {counts['survived']} "
                 f"survived, {counts['error']} errors, in {total_seconds / 60:.1f} minutes.")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only validate the list against this tree (no tests run)")
    parser.add_argument("--list", action="store_true", help="print the mutants and exit")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these mutants only")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds per pytest run (default 300)")
    parser.add_argument("--out", help="where the table goes besides stdout ('-': nowhere; "
                        "default: benchmarks/results/mutation.txt, or nowhere with --only)")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = "-" if args.only else str(ROOT / "benchmarks/results/mutation.txt")
    mutants = MUTANTS
    if args.only:
        unknown = sorted(set(args.only) - {m.name for m in MUTANTS})
        if unknown:
            parser.error(f"unknown mutants: {', '.join(unknown)} (see --list)")
        mutants = [m for m in MUTANTS if m.name in args.only]
    if args.list:
        for m in mutants:
            print(f"{m.name:<36} {m.path}: {m.why}")
        return 0
    problems = check(ROOT, mutants)
    if problems or args.check:
        print("\n".join(problems) if problems else
              f"{len(mutants)} mutants: every original text occurs once, every mutated file "
              f"compiles, every test file exists")
        return 1 if problems else 0
    return run(mutants, args)


def run(mutants, args) -> int:
    started = datetime.datetime.now()
    begin = time.perf_counter()
    tests = sorted({t for m in mutants for t in m.tests})
    with tempfile.TemporaryDirectory(prefix="gpugrad-mutate-") as folder:
        scratch = Path(folder)
        copy_tree(ROOT, scratch)
        where = subprocess.run([sys.executable, "-c", "import gpugrad; print(gpugrad.__file__)"],
                               cwd=scratch, env=_env(scratch), capture_output=True, text=True)
        if not where.stdout.startswith(folder):
            print(f"the scratch copy does not import its own gpugrad: {where.stdout.strip()} "
                  f"{where.stderr.strip()[-300:]}", file=sys.stderr)
            return 2
        print(f"baseline: {len(tests)} test files on the unchanged copy...", flush=True)
        code, output, seconds = run_pytest(scratch, tests, [], args.timeout * 3)
        baseline_failed = failures(output) if code == 1 else []
        if code not in (0, 1):
            print(f"the unchanged copy's tests did not run (exit {code}):\n{output[-2000:]}",
                  file=sys.stderr)
            return 2
        print(f"baseline: {seconds:.0f} s, {len(baseline_failed)} failing", flush=True)
        rows = []
        for m in mutants:
            result = run_mutant(scratch, m, baseline_failed, args.timeout)
            rows.append((m, result))
            print(f"{m.name:<36} {result['result']:<8} {result['seconds']:6.1f} s  "
                  f"{result['note']}", flush=True)
    text = report(rows, baseline_failed, started, time.perf_counter() - begin)
    print()
    print(text, end="")
    if args.out != "-":
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
