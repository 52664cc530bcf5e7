"""Draw the seed's backpropagation example as a graph: z1 = Wx + b, z2 = relu(z1),
z3 = Vz2 + c, L = loss(z3, y). Writes backprop_graph.dot (and backprop_graph.svg when
Graphviz's `dot` is installed) into --out, by default the current folder; `--out docs` from
the repository's root refreshes the files README shows.

Run (from any folder): python examples/draw_backprop_graph.py [--out FOLDER]
"""

import argparse
import os
import shutil

import gpugrad
from gpugrad import nn, viz

def backprop_graph():
    """L and its parameters {name: tensor}, from seed 0."""
    gpugrad.manual_seed(0)
    W, b = nn.Parameter(gpugrad.randn(4, 3)), nn.Parameter(gpugrad.zeros(4, 1))
    V, c = nn.Parameter(gpugrad.randn(2, 4)), nn.Parameter(gpugrad.zeros(2, 1))
    x, y = gpugrad.randn(3, 1), gpugrad.randn(2, 1)
    z1 = W @ x + b
    z2 = gpugrad.relu(z1)
    z3 = V @ z2 + c
    L = nn.functional.mse_loss(z3, y)
    return L, {"W": W, "b": b, "V": V, "c": c}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=".", help="folder for backprop_graph.dot/.svg "
                        "(default: the current folder; --out docs from the repository's root "
                        "refreshes README's)")
    out = parser.parse_args(argv).out
    os.makedirs(out, exist_ok=True)
    L, params = backprop_graph()
    dot_path = os.path.join(out, "backprop_graph.dot")
    with open(dot_path, "w") as f:
        f.write(viz.to_dot(L, params=params, name="L") + "\n")
    if shutil.which("dot"):
        svg_path = viz.render(L, os.path.join(out, "backprop_graph.svg"), params=params,
                              name="L")
        print(f"wrote {dot_path} and {svg_path}")
    else:
        print(f"wrote {dot_path} (install Graphviz for the .svg)")


if __name__ == "__main__":
    main()
