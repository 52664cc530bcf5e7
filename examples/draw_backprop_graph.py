"""Draw the seed's backpropagation example as a graph: z1 = Wx + b, z2 = relu(z1),
z3 = Vz2 + c, L = loss(z3, y). Writes docs/backprop_graph.dot (and .svg with Graphviz).

Run: python examples/draw_backprop_graph.py
"""

import shutil

import gpugrad
from gpugrad import nn, viz

gpugrad.manual_seed(0)
W, b = nn.Parameter(gpugrad.randn(4, 3)), nn.Parameter(gpugrad.zeros(4, 1))
V, c = nn.Parameter(gpugrad.randn(2, 4)), nn.Parameter(gpugrad.zeros(2, 1))
x, y = gpugrad.randn(3, 1), gpugrad.randn(2, 1)

z1 = W @ x + b
z2 = gpugrad.relu(z1)
z3 = V @ z2 + c
L = nn.functional.mse_loss(z3, y)

params = {"W": W, "b": b, "V": V, "c": c}
with open("docs/backprop_graph.dot", "w") as f:
    f.write(viz.to_dot(L, params=params, name="L") + "\n")
if shutil.which("dot"):
    viz.render(L, "docs/backprop_graph.svg", params=params)
    print("wrote docs/backprop_graph.dot and docs/backprop_graph.svg")
else:
    print("wrote docs/backprop_graph.dot (install Graphviz for the .svg)")
