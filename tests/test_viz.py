"""gpugrad.viz: the graph as DOT text, and rendering through Graphviz when it is there."""

import shutil

import pytest

import gpugrad
from gpugrad import nn, viz


def seed_backprop_graph():
    """The seed's example: z1 = Wx + b, z2 = relu(z1), z3 = Vz2 + c, L = loss(z3, y)."""
    W, b = nn.Parameter(gpugrad.randn(4, 3)), nn.Parameter(gpugrad.zeros(4, 1))
    V, c = nn.Parameter(gpugrad.randn(2, 4)), nn.Parameter(gpugrad.zeros(2, 1))
    x, y = gpugrad.randn(3, 1), gpugrad.randn(2, 1)
    L = nn.functional.mse_loss(V @ gpugrad.relu(W @ x + b) + c, y)
    return L, {"W": W, "b": b, "V": V, "c": c}


def test_dot_names_ops_parameters_and_shapes():
    L, params = seed_backprop_graph()
    dot = viz.to_dot(L, params=params, name="L")
    assert dot.startswith("digraph gpugrad {") and dot.endswith("}")
    for text in ("MatMulBackward", "ReluBackward", "AddBackward", "MeanBackward",
                 'label="W\\n(4, 3) float32"', 'label="c\\n(2, 1) float32"',
                 'label="L\\n()"', "fillcolor=lightblue"):
        assert text in dot, text
    assert dot.count("MatMulBackward") == 2 and dot.count("-> out;") == 1
    # x and y do not require grad, so they are not in the graph
    assert dot.count("shape=ellipse") == 4


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_render_svg(tmp_path):
    L, params = seed_backprop_graph()
    path = viz.render(L, tmp_path / "graph.svg", params=params)
    assert "<svg" in open(path).read()


def test_render_without_graphviz_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    L, _ = seed_backprop_graph()
    with pytest.raises(RuntimeError, match="apt install graphviz"):
        viz.render(L, tmp_path / "graph.svg")
