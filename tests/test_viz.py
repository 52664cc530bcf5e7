"""gpugrad.viz: the graph as DOT text, and rendering through Graphviz when it is there."""

import re
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
    for text in ("MatMulBackward", "ReluBackward", "AddBackward", "MseLossBackward",
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


def split_graph():
    """A two-output custom Function feeding one sum: edges labelled by output number."""
    from gpugrad.autograd import Function

    class Split(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0, x * 2.0

        @staticmethod
        def backward(ctx, a, b):
            return a + 2 * b

    w = nn.Parameter(gpugrad.ones(2))
    first, second = Split.apply(w)
    return (first + second).sum(), w


ODD = 'my "odd" \\ name\nline 2'          # a quote, a backslash and a newline


def test_dot_escapes_names_and_labels_multi_output_edges():
    """DOT text only: no Graphviz needed."""
    total, w = split_graph()
    dot = viz.to_dot(total, params={ODD: w}, name='loss "L"')
    assert '[label="0"]' in dot and '[label="1"]' in dot
    assert r'label="my \"odd\" \\ name\nline 2\n(2,) float32"' in dot
    assert r'label="loss \"L\"\n()"' in dot
    outside = re.sub(r'"(?:[^"\\\n]|\\.)*"', "", dot)   # every string closes where it should
    assert '"' not in outside and "\\" not in outside, outside
    leaf = viz.to_dot(w)
    assert r'label="parameter\n(2,) float32"' in leaf and leaf.count("-> out;") == 1


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_names_with_quotes_and_multi_output_nodes_render(tmp_path):
    total, w = split_graph()
    path = viz.render(total, tmp_path / "g.svg", params={ODD: w})
    svg = open(path).read()
    assert "<svg" in svg and "odd" in svg and "line 2" in svg


def test_render_labels_the_graph_as_to_dot_does(tmp_path, monkeypatch):
    import subprocess
    seen = {}

    def fake_dot(args, input, capture_output):
        seen["dot"] = input.decode()
        return subprocess.CompletedProcess(args, 0, b"", b"")
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(subprocess, "run", fake_dot)
    L, params = seed_backprop_graph()
    viz.render(L, tmp_path / "graph.svg", params=params, name="L")
    assert seen["dot"] == viz.to_dot(L, params=params, name="L")
    assert 'label="L\\n()"' in seen["dot"]
