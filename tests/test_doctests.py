"""Every ``>>>`` example in gpugrad's docstrings runs as its own test, and its output must match.

How the examples are found: every module of the ``gpugrad`` package (``pkgutil.walk_packages``,
``__main__`` left out) is imported, and ``doctest.DocTestFinder`` collects the examples of the
module docstring and of the public objects defined in it (a name with a leading underscore is
private and skipped, a dunder such as ``__call__`` is not). A module that cannot be imported
because an optional dependency is missing shows up as one skipped test naming the dependency;
one that fails to import for any other reason is a failing test. Finding no examples at all is
a collection error, so the file can never pass by running nothing.

How each example runs (the same as a reader pasting it into a fresh interpreter):

- its namespace holds only ``gpugrad``, ``np`` (NumPy), ``nn`` (``gpugrad.nn``), ``F``
  (``gpugrad.nn.functional``) and ``func`` (``gpugrad.func``); anything else it uses, it
  defines or imports itself (not the module's own globals);
- ``gpugrad.manual_seed(0)`` first, the cpu default device, NumPy's default print options,
  and a fresh pytest ``tmp_path`` as the working directory (files an example saves go there);
- optionflags ``NORMALIZE_WHITESPACE | ELLIPSIS``;
- afterwards the process-wide switches an example may flip (default device, grad mode, sync
  debug mode, matmul precision, fused kernels) are put back, so none leaks into later tests.

An example that truly needs a GPU or an optional dependency (mpi4py, torch, jax) carries the
doctest ``# doctest: +SKIP`` directive and a comment saying why. Test ids are the doctest
names, e.g. ``gpugrad.func.vmap.vmap`` or ``gpugrad.ops.unary`` (a module docstring).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import backend

OPTIONFLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
SEED = 0
PRINT_OPTIONS = dict(precision=8, threshold=1000, edgeitems=3, linewidth=75, suppress=False,
                     nanstr="nan", infstr="inf", sign="-", floatmode="maxprec", legacy=False)


def namespace() -> dict:
    """The globals every example starts from (a fresh dict each time)."""
    import gpugrad.func
    import gpugrad.nn
    import gpugrad.nn.functional
    return {"gpugrad": gpugrad, "np": np, "nn": gpugrad.nn, "F": gpugrad.nn.functional,
            "func": gpugrad.func}


def _is_public(test_name: str, module_name: str) -> bool:
    """The module's own docstring, or an object whose names have no leading underscore (a
    dunder such as ``__call__`` counts as public)."""
    parts = test_name[len(module_name) + 1:].split(".") if test_name != module_name else []
    return not any(p.startswith("_") and not p.endswith("__") for p in parts)


def _modules():
    """(name, module or None, reason) for each module of the package."""
    yield gpugrad.__name__, gpugrad, ""
    for info in pkgutil.walk_packages(gpugrad.__path__, gpugrad.__name__ + "."):
        name = info.name
        if name.rsplit(".", 1)[-1] == "__main__" or any(
                p.startswith("_") for p in name.split(".")):
            continue
        try:
            yield name, importlib.import_module(name), ""
        except ModuleNotFoundError as e:
            if e.name and not e.name.startswith(gpugrad.__name__):
                yield name, None, f"skip: needs the optional dependency {e.name!r}"
            else:
                yield name, None, f"fail: import error: {e!r}"
        except Exception as e:                                   # noqa: BLE001 - reported
            yield name, None, f"fail: import error: {e!r}"


def collect():
    """pytest params: one per docstring with examples, plus one per unimportable module."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    params = []
    for name, module, reason in _modules():
        if module is None:
            marks = [pytest.mark.skip(reason=reason[6:])] if reason.startswith("skip") else []
            params.append(pytest.param(reason, id=f"import:{name}", marks=marks))
            continue
        for test in finder.find(module, name, globs={}):
            if test.examples and _is_public(test.name, name):
                params.append(pytest.param(test, id=test.name))
    return sorted(params, key=lambda p: p.id)


def _switches() -> dict:
    """The process-wide settings an example may change, each with its setter."""
    import gpugrad.cuda
    return {
        "default device": (backend.get_default_device(), backend.set_default_device),
        "grad mode": (gpugrad.is_grad_enabled(), gpugrad.set_grad_enabled),
        "sync debug mode": (gpugrad.cuda.get_sync_debug_mode(),
                            gpugrad.cuda.set_sync_debug_mode),
        "matmul precision": (gpugrad.get_matmul_precision(), gpugrad.set_matmul_precision),
        "fused kernels": (gpugrad.cuda.fused_enabled(), gpugrad.cuda.set_fused),
    }


def run_doctest(test: doctest.DocTest) -> tuple[doctest.TestResults, str]:
    """Run one DocTest in a fresh copy of ``namespace()``; returns its results and report.
    The settings of ``_switches`` are put back afterwards, so no example leaks into the next
    test (an example should put back what it changes itself, too)."""
    test.globs = namespace()
    report = []
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    before = _switches()
    try:
        gpugrad.manual_seed(SEED)
        backend.set_default_device("cpu")
        # examples that show an inf (detect_anomaly's) need not print NumPy's warning too,
        # nor those of torch's deprecated names (lu, qr...) the deprecation warning
        with np.printoptions(**PRINT_OPTIONS), np.errstate(divide="ignore"), \
                warnings.catch_warnings():
            warnings.filterwarnings("ignore", "torch.* is deprecated in favor of", UserWarning)
            results = runner.run(test, out=report.append, clear_globs=True)
    finally:
        for value, setter in before.values():
            setter(value)
    return results, "".join(report)


DOCTESTS = collect()
if not any(isinstance(p.values[0], doctest.DocTest) for p in DOCTESTS):
    raise RuntimeError("tests/test_doctests.py found no docstring examples in gpugrad: the "
                       "collection is broken (it must never pass by running nothing)")


@pytest.mark.parametrize("test", DOCTESTS)
def test_docstring_examples(test, tmp_path, monkeypatch):
    if isinstance(test, str):                                     # a module that did not import
        pytest.fail(test, pytrace=False)
    monkeypatch.chdir(tmp_path)
    results, report = run_doctest(test)
    if results.failed:
        pytest.fail(f"{results.failed} of {results.attempted} examples of {test.name} "
                    f"failed:\n{report}", pytrace=False)


# ------------------------------------------------------------------ the harness catches errors
def _fake(docstring: str) -> doctest.DocTest:
    return doctest.DocTestParser().get_doctest(docstring, {}, "fake", "fake.py", 0)


def test_harness_catches_a_wrong_output():
    results, report = run_doctest(_fake(">>> gpugrad.tensor([1.0, 2.0]).sum().item()\n4.0\n"))
    assert results == (1, 1)
    assert "Expected:\n    4.0\nGot:\n    3.0" in report


def test_harness_catches_an_exception_and_passes_a_right_output():
    results, report = run_doctest(_fake(">>> undefined_name\n"))
    assert results.failed == 1 and "NameError" in report
    results, _ = run_doctest(_fake(">>> float(np.sqrt(4.0)) + F.relu(gpugrad.tensor(-1.0))"
                                   ".item()\n2.0\n>>> sorted(func.__name__.split('.'))\n"
                                   "['func', 'gpugrad']\n"))
    assert results == (0, 2)


def test_harness_found_examples_across_the_package():
    names = {p.id for p in DOCTESTS}
    assert len(names) > 50, sorted(names)
    assert {"gpugrad.func.vmap.vmap", "gpugrad.ops.unary"} <= names
