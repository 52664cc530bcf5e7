r"""Drawing the computation graph behind a tensor: Graphviz DOT text, and SVG/PNG files.

Boxes are recorded ops (their backward nodes, named as in ``grad_fn``), ellipses are leaf
tensors (parameters filled blue), edges point the way the forward pass ran. Example::

    >>> from gpugrad.viz import render, to_dot
    >>> w = nn.Parameter(gpugrad.ones(2))
    >>> loss = (w * 3.0).sum()
    >>> print(to_dot(loss, params={"w": w}))
    digraph gpugrad {
      rankdir=BT;
      node [fontname="Helvetica", fontsize=11];
      out [shape=doubleoctagon, label="output\n()"];
      n0 [shape=box, label="SumBackward\nin (2,)"];
      n0 -> out;
      n1 [shape=box, label="MulScalarBackward\nin (2,)"];
      n1 -> n0;
      n2 [shape=ellipse, style=filled, fillcolor=lightblue, label="w\n(2,) float32"];
      n2 -> n1;
    }
    >>> render(loss, "graph.svg")  # doctest: +SKIP
    'graph.svg'

``render`` needs Graphviz's ``dot`` program, so the doctest above skips it.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from .autograd.graph import AccumulateGrad, grad_accumulator
from .autograd.walk import nodes_behind

__all__ = ["to_dot", "render"]


def _shape(shape) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _quote(text: str) -> str:
    """``text`` safe inside a DOT double-quoted string (newlines become line breaks)."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _leaf_label(tensor, names: dict) -> str:
    from .nn.module import Parameter
    name = names.get(id(tensor))
    kind = "parameter" if isinstance(tensor, Parameter) else "leaf"
    title = f"{name}" if name else kind
    return _quote(f"{title}\n{_shape(tensor.shape)} {tensor.dtype}")


def to_dot(tensor, params: dict | None = None, name: str = "output") -> str:
    """The graph behind ``tensor`` as DOT text. ``params`` ({name: tensor}, e.g.
    ``dict(model.named_parameters())``) labels leaves with their names."""
    names = {id(t): n for n, t in (params or {}).items()}
    lines = ["digraph gpugrad {", "  rankdir=BT;",
             '  node [fontname="Helvetica", fontsize=11];']
    ids: dict = {}

    def node_id(node) -> str:
        if id(node) not in ids:
            ids[id(node)] = f"n{len(ids)}"
            if isinstance(node, AccumulateGrad):
                from .nn.module import Parameter
                fill = "lightblue" if isinstance(node.variable, Parameter) else "lightgray"
                lines.append(f'  {ids[id(node)]} [shape=ellipse, style=filled, '
                             f'fillcolor={fill}, label="{_leaf_label(node.variable, names)}"];')
            else:
                shapes = " ".join(_shape(s) for s in node.shapes if s is not None)
                label = _quote(f"{node.name()}\nin {shapes}")
                lines.append(f'  {ids[id(node)]} [shape=box, label="{label}"];')
        return ids[id(node)]

    label = _quote(f"{name}\n{_shape(tensor.shape)}")
    lines.append(f'  out [shape=doubleoctagon, label="{label}"];')
    if tensor.grad_fn is None:
        if tensor.requires_grad:                       # a leaf: draw it feeding the output
            lines.append(f"  {node_id(grad_accumulator(tensor))} -> out;")
        lines.append("}")
        return "\n".join(lines)
    lines.append(f"  {node_id(tensor.grad_fn)} -> out{_port(tensor.grad_fn, tensor.output_nr)};")
    for node in nodes_behind([tensor.grad_fn]):
        for edge in node.next_edges:
            if edge is not None:
                child, output_nr = edge
                lines.append(f"  {node_id(child)} -> {node_id(node)}{_port(child, output_nr)};")
    lines.append("}")
    return "\n".join(lines)


def _port(node, output_nr: int) -> str:
    """An edge label naming which output it comes from, for nodes with several outputs."""
    return f' [label="{output_nr}"]' if getattr(node, "num_outputs", 1) > 1 else ""


def render(tensor, path, params: dict | None = None, name: str = "output") -> str:
    """Write the graph behind ``tensor`` to ``path`` (.svg, .png or .pdf, by its suffix)
    with Graphviz's ``dot``; returns the path. ``params`` and ``name`` label it as in
    ``to_dot``. Without ``dot`` installed, raises an error saying how to install it (or to
    use ``to_dot`` and render elsewhere)."""
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "svg"
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"render: write .svg, .png or .pdf, not .{fmt}")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("render needs Graphviz's `dot` program, which is not installed "
                           "(apt install graphviz, brew install graphviz, or conda install "
                           "graphviz); or write gpugrad.viz.to_dot(tensor) to a .dot file and "
                           "render it elsewhere")
    result = subprocess.run([dot, f"-T{fmt}", "-o", path],
                            input=to_dot(tensor, params, name).encode(), capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"render: dot failed ({result.returncode}): "
                           f"{result.stderr.decode(errors='replace').strip()}")
    return path
