"""examples/*.py run from any folder and write only where they are told; the committed
docs/backprop_graph.dot is what examples/draw_backprop_graph.py draws from today's code, and
docs/backprop_graph.svg shows the same graph."""

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# the arguments that keep each example short and tell it where to write
ARGUMENTS = {
    "draw_backprop_graph.py": ["--out", "graph"],
    "train_mlp.py": ["--epochs", "1", "--out", "models/mlp"],
}
WRITES = {"draw_backprop_graph.py": {"graph"}, "train_mlp.py": {"models"}}


def run_example(name: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(ROOT / "examples" / name),
                           *ARGUMENTS.get(name, [])], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), GPUGRAD_DEVICE="cpu"),
                          timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


# draw_backprop_graph.py runs (once) in test_committed_graph_is_what_the_example_draws_today
DRAWN_ELSEWHERE = {"draw_backprop_graph.py"}


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "examples").glob("*.py")
                                        if p.name not in DRAWN_ELSEWHERE))
def test_example_runs_from_another_folder_and_writes_only_where_told(name, tmp_path):
    assert set(ARGUMENTS) <= {p.name for p in (ROOT / "examples").glob("*.py")}
    run_example(name, tmp_path)
    assert set(os.listdir(tmp_path)) == WRITES.get(name, set())
    if name == "train_mlp.py":
        assert os.listdir(tmp_path / "models" / "mlp") == ["model.npz"]     # a folder, as
        assert (tmp_path / "models" / "mlp" / "model.npz").stat().st_size > 0    # the CLI's


@pytest.mark.parametrize("arguments, environment, message", [
    (["--epochs", "0"], {}, "argument --epochs: expected a whole number >= 1, got '0'"),
    (["--epochs", "2.5"], {}, "argument --epochs: expected a whole number >= 1, got '2.5'"),
    (["--out", ""], {}, "--out '' is empty; give a folder for the output files, e.g. --out "
                        "runs/train_mlp"),
    (["--out", "afile"], {}, "--out afile is a file, not a folder"),
    ([], {"GPUGRAD_DEVICE": "tpu"}, "GPUGRAD_DEVICE: unknown device 'tpu'"),
])
def test_train_mlp_checks_its_options_as_the_cli_does(tmp_path, arguments, environment,
                                                      message):
    if "afile" in arguments:
        (tmp_path / "afile").write_text("x")
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "train_mlp.py"),
                           *arguments], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "GPUGRAD_DEVICE": "cpu",
                               **environment}, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines()[-1].startswith(f"train_mlp.py: error: {message}"), \
        done.stderr
    assert os.listdir(tmp_path) == (["afile"] if "afile" in arguments else [])


def dot_texts(dot: str) -> list:
    """The lines of text a DOT graph's node labels show."""
    labels = re.findall(r'label="((?:[^"\\]|\\.)*)"', dot)
    return sorted(line.replace('\\"', '"') for label in labels for line in label.split("\\n"))


def svg_texts(svg: str) -> list:
    return sorted(html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg))


def test_committed_graph_is_what_the_example_draws_today(tmp_path):
    """Also draw_backprop_graph.py's case of the test above: it runs from another folder
    and writes only where told."""
    run_example("draw_backprop_graph.py", tmp_path)
    assert set(os.listdir(tmp_path)) == WRITES["draw_backprop_graph.py"]
    drawn = (tmp_path / "graph" / "backprop_graph.dot").read_text()
    assert drawn == (DOCS / "backprop_graph.dot").read_text(), \
        "docs/backprop_graph.dot is stale: run python examples/draw_backprop_graph.py --out docs"
    assert "MseLossBackward" in drawn                   # today's loss node, not Mean/Pow/Sub
    committed_svg = (DOCS / "backprop_graph.svg").read_text()
    assert svg_texts(committed_svg) == dot_texts(drawn), \
        "docs/backprop_graph.svg shows another graph: run examples/draw_backprop_graph.py " \
        "--out docs with Graphviz installed"
    if shutil.which("dot"):                             # coordinates may vary by version
        assert svg_texts((tmp_path / "graph" / "backprop_graph.svg").read_text()) == \
            svg_texts(committed_svg)


def test_draw_backprop_graph_writes_into_the_current_folder_by_default(tmp_path):
    """With no --out it writes where it runs, never into the repository's docs/."""
    before = {p: p.stat().st_mtime_ns for p in DOCS.glob("backprop_graph.*")}
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "draw_backprop_graph.py")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert "backprop_graph.dot" in os.listdir(tmp_path)
    assert {p: p.stat().st_mtime_ns for p in DOCS.glob("backprop_graph.*")} == before
