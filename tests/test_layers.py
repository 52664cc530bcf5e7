"""The floors of the house (docs/ARCHITECTURE.md): every import in gpugrad points down.

Each module's imports are read with ``ast`` (those inside functions too), resolved to
gpugrad modules, and checked against ``FLOORS``: a module may import its own floor and the
floors below it, never one above. An import that climbs fails the test with its file, its
line and the rule it breaks, unless ``ALLOWED`` names it with a reason. A second test finds
the import circles and allows only those among the op modules (a record's rules apply ops,
and ops apply records). A third keeps CuPy out of ``import gpugrad``.

Importing ``a.b.c`` runs ``a/b/__init__.py`` first in Python; only the module named counts
here (as import-linter counts), so a package's ``__init__`` may gather names from every floor
of the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "gpugrad"

# Bottom to top. A module belongs to the entry with the longest matching prefix (a package's
# ``__init__`` is named ``package.__init__``).
FLOORS = [
    ("base: devices, array modules, the CuPy import, dtypes, pytrees",
     ["gpugrad.backend", "gpugrad.cupy_import", "gpugrad.dtypes", "gpugrad.pytree",
      "gpugrad.type_info", "gpugrad.settings", "gpugrad.scalar_casts"]),
    ("kernels: CUDA sources, loading, checked launches, precision, sync reports",
     ["gpugrad.cuda"]),
    ("modes: grad, anomaly and vmap levels, capture, compile, autocast; random state",
     ["gpugrad.autograd.mode", "gpugrad.autograd.capture_mode",
      "gpugrad.autograd.compile_mode", "gpugrad.autograd.autocast_mode", "gpugrad.random"]),
    ("tensor: the Tensor type", ["gpugrad.tensor", "gpugrad.tensor_size", "gpugrad.tensor_grad"]),
    ("autograd core: nodes, saved values, the engine, batching levels, factories",
     ["gpugrad.autograd", "gpugrad.creation", "gpugrad.creation_like", "gpugrad.interop",
      "gpugrad.graph_cut", "gpugrad.creation_args", "gpugrad.random_sampling"]),
    ("ops: the op records and their functions",
     ["gpugrad.ops", "gpugrad.linalg", "gpugrad.special", "gpugrad.fft"]),
    ("built on ops: custom functions, transforms, nn, optim, amp, checkpointing, data",
     ["gpugrad.autograd.__init__", "gpugrad.autograd.function",
      "gpugrad.autograd.function_vmap", "gpugrad.autograd.once_differentiable",
      "gpugrad.autograd.forward_ad",
      "gpugrad.autograd.gradcheck", "gpugrad.autograd.functional", "gpugrad.func",
      "gpugrad.nn", "gpugrad.amp",
      "gpugrad.checkpoint", "gpugrad.optim", "gpugrad.memory", "gpugrad.viz",
      "gpugrad.serialization", "gpugrad.serialization_format", "gpugrad.data",
      "gpugrad.distributed", "gpugrad.utils",
      "gpugrad.distributions", "gpugrad.testing"]),
    ("whole-step capture: CUDA graphs and compiled steps above the optimizers",
     ["gpugrad.graphs", "gpugrad.graph_entry", "gpugrad.compiled", "gpugrad.step_program",
      "gpugrad.step_signature"]),
    ("applications: training, the command line, the package's front door",
     ["gpugrad.__init__", "gpugrad.__main__", "gpugrad.training", "gpugrad.train_epoch",
      "gpugrad.train_files", "gpugrad.train_data", "gpugrad.cli", "gpugrad.cli_options"]),
]

# (importer, imported): why this import may climb. Each is a late binding made at call time.
ALLOWED = {
    ("gpugrad.tensor", "gpugrad.creation_like"):
        "Tensor(data) is the factory gpugrad.tensor(data) (creation_like.legacy_tensor), "
        "which builds on the type",
    ("gpugrad.tensor", "gpugrad.autograd.engine"):
        "Tensor.backward() is the engine's front door, as torch.Tensor.backward calls "
        "torch.autograd.backward",
}

# The only circles allowed: among the op modules (a record's rules apply other records).
CIRCLE_ALLOWED = "gpugrad.ops."


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts)


def _modules() -> dict:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _target(name: str, modules: dict) -> str | None:
    """The module ``name`` refers to: itself, its package's ``__init__``, or None."""
    if name in modules:
        return name
    if name + ".__init__" in modules:
        return name + ".__init__"
    return None


def imports_of(module: str, path: Path, modules: dict) -> list:
    """(line, imported module) for every gpugrad import in ``path``, nested ones included."""
    package = module.rsplit(".", 1)[0]          # for a package's __init__: the package
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names = [f"{source}.{alias.name}" if _target(f"{source}.{alias.name}", modules)
                     else source for alias in node.names]
        else:
            continue
        for name in names:
            target = _target(name, modules)
            if name.startswith("gpugrad") and target and target != module:
                found.append((node.lineno, target))
    return found


def floor_of(module: str) -> int:
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    if best is None:
        raise AssertionError(f"{module} is on no floor: add it to FLOORS in {__file__}")
    return best


def import_graph() -> dict:
    modules = _modules()
    return {m: imports_of(m, p, modules) for m, p in modules.items()}


def test_every_module_has_a_floor():
    for module in _modules():
        floor_of(module)


def test_no_import_climbs():
    modules = _modules()
    climbs = []
    for module, edges in import_graph().items():
        for line, target in edges:
            if floor_of(target) > floor_of(module) and (module, target) not in ALLOWED:
                climbs.append(f"{modules[module].relative_to(ROOT.parent)}:{line} imports "
                              f"{target} ({FLOORS[floor_of(target)][0].split(':')[0]}), "
                              f"above its floor ({FLOORS[floor_of(module)][0]}): a module "
                              f"imports only its own floor and those below")
    assert not climbs, "\n".join(climbs)


def test_allow_list_is_used():
    graph = import_graph()
    used = {(m, t) for m, edges in graph.items() for _, t in edges}
    assert set(ALLOWED) <= used, f"stale ALLOWED entries: {set(ALLOWED) - used}"


def circles(graph: dict) -> list:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_circle_beyond_the_ops():
    graph = {m: {t for _, t in edges if (m, t) not in ALLOWED}
             for m, edges in import_graph().items()}
    bad = [c for c in circles(graph) if not all(m.startswith(CIRCLE_ALLOWED) for m in c)]
    assert not bad, "import circles outside ops/: " + "; ".join(" <-> ".join(c) for c in bad)


def test_only_cupy_import_imports_cupy_at_the_top():
    """``import gpugrad`` works without CuPy: only ``cupy_import.py`` imports it (lazily);
    a CuPy submodule that must be named (``cupy.cuda.nccl``) is imported inside the function
    that uses it, after ``require_cupy()``."""
    found = []
    for module, path in _modules().items():
        tree = ast.parse(path.read_text(), str(path))
        for node in tree.body:
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "cupy" or n.startswith("cupy.") for n in names):
                found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}")
    assert not found, f"CuPy imported at module level: {found}"


@pytest.mark.parametrize("source, expected", [
    ("from .. import backend\n", "gpugrad.backend"),
    ("from ..ops.shape import reshape\n", "gpugrad.ops.shape"),
    ("def f():\n    from ..optim import SGD\n", "gpugrad.optim.__init__"),
])
def test_imports_are_resolved(tmp_path, source, expected):
    """The reader itself: relative, nested and package imports resolve to the right module
    (so a climb cannot hide behind a spelling)."""
    path = tmp_path / "probe.py"
    path.write_text(source)
    assert imports_of("gpugrad.nn.probe", path, _modules()) == [
        (source.count("\n"), expected)]


def test_a_climb_is_reported_with_file_line_and_rule(monkeypatch):
    """Teeth: a planted climb (tensor.py importing the optimizers) fails with its place."""
    real = import_graph()
    planted = dict(real)
    planted["gpugrad.tensor"] = real["gpugrad.tensor"] + [(7, "gpugrad.optim.sgd")]
    monkeypatch.setitem(globals(), "import_graph", lambda: planted)
    with pytest.raises(AssertionError, match=r"gpugrad/tensor.py:7 imports gpugrad.optim.sgd"
                                             r" \(built on ops\), above its floor"):
        test_no_import_climbs()
