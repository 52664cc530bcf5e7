"""Known gpugrad defects, re-planted with pytest's ``monkeypatch`` so that
tests/test_random_programs_teeth.py can show the random-program tester finds each within its
CI budget. Each ``plant_*`` function takes a ``monkeypatch`` (anything with ``setattr``) and
puts back the behaviour of a defect from issue 15.
"""

from __future__ import annotations

import numpy as np

import gpugrad
from gpugrad.autograd import engine
from gpugrad.autograd.graph import AccumulateGrad
from gpugrad.ops import elementwise, extremes, linalg
from gpugrad.ops.reduce import expand_reduced


def plant_linear_bias_tangent(monkeypatch):
    """Defect 1: Linear's jvp returns a bias tangent alone unbroadcast, (out,) for an
    output of shape (..., out)."""
    def jvp(ctx, tx, tw, tb):
        x, w = ctx.xs[0], ctx.xs[1]
        parts = [gpugrad.matmul(tx, w.mT) if tx is not None else None,
                 gpugrad.matmul(x, tw.mT) if tw is not None else None, tb]
        total = None
        for part in parts:
            if part is not None:
                total = part if total is None else total + part
        return total
    monkeypatch.setattr(linalg.Linear, "jvp", jvp)


def plant_mul_tangent_dropped(monkeypatch):
    """Defect 1's kind, in Mul: a tangent on the second factor alone is dropped."""
    def jvp(ctx, ta, tb):
        if ta is None:
            return None
        a, b = ctx.xs
        return elementwise.tangent_sum(ctx, ta * b, None if tb is None else a * tb)
    monkeypatch.setattr(elementwise.Mul, "jvp", jvp)


def plant_identity_shape_ops(monkeypatch):
    """Defect 2: shape ops that change nothing return their input object itself."""
    def same_shape(name):
        original = getattr(gpugrad.Tensor, name)

        def method(self, *args, **kwargs):
            out = original(self, *args, **kwargs)
            return self if tuple(out.shape) == tuple(self.shape) else out
        return method

    for name in ("reshape", "view", "expand", "broadcast_to", "squeeze", "flatten"):
        monkeypatch.setattr(gpugrad.Tensor, name, same_shape(name))
    permute, transpose = gpugrad.Tensor.permute, gpugrad.Tensor.transpose

    def permute_method(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        if tuple(a % max(self.ndim, 1) for a in axes) == tuple(range(self.ndim)):
            return self
        return permute(self, *axes)

    def transpose_method(self, *args, **kwargs):
        return self if self.ndim < 2 else transpose(self, *args, **kwargs)
    monkeypatch.setattr(gpugrad.Tensor, "permute", permute_method)
    monkeypatch.setattr(gpugrad.Tensor, "transpose", transpose_method)
    monkeypatch.setattr(gpugrad.Tensor, "T", property(
        lambda self: self if self.ndim < 2 else permute(self, *range(self.ndim - 1, -1, -1))))
    original_reshape = gpugrad.reshape
    monkeypatch.setattr(gpugrad, "reshape", lambda x, *shape: same_shape_result(
        x, original_reshape(x, *shape)))
    original_broadcast = gpugrad.broadcast_to
    monkeypatch.setattr(gpugrad, "broadcast_to", lambda x, *shape: same_shape_result(
        x, original_broadcast(x, *shape)))


def same_shape_result(x, out):
    return x if tuple(out.shape) == tuple(x.shape) else out


def plant_unchecked_leaf_hook(monkeypatch):
    """Defect 3: a leaf tensor's hook result goes into ``.grad`` unchecked."""
    checked = engine.run_pre_hooks

    def run_pre_hooks(node, grads, create_graph, handouts, tensor_type):
        if not isinstance(node, AccumulateGrad):
            return checked(node, grads, create_graph, handouts, tensor_type)
        for hook in node.variable._hooks or ():
            if grads[0] is None:
                return
            handouts.share(grads[0])
            result = hook(grads[0])
            if result is not None:
                grads[0] = result
                handouts.share(result)
    monkeypatch.setattr(engine, "run_pre_hooks", run_pre_hooks)


def plant_max_tie_to_first(monkeypatch):
    """The max/min tie bug: the whole gradient goes to the first tied element instead of
    being shared equally among the ties (README promises sharing)."""
    def first_only(ctx):
        x, ans = ctx.xs[0], ctx.ans
        hit = (x == expand_reduced(ans, x.shape, ctx.axis, ctx.keepdims)).numpy()
        axes = tuple(range(x.ndim)) if ctx.axis is None else tuple(ctx.axis)
        kept = tuple(d for d in range(x.ndim) if d not in axes)
        rows = np.transpose(hit, kept + axes).reshape(-1, int(np.prod(
            [x.shape[d] for d in axes])) if x.ndim else 1)
        first = np.zeros_like(rows, dtype=np.float64)
        first[np.arange(len(rows)), rows.argmax(axis=1)] = 1.0
        shaped = first.reshape([x.shape[d] for d in kept + axes])
        weights = np.transpose(shaped, np.argsort(kept + axes)) if x.ndim else shaped
        return gpugrad.tensor(weights.reshape(x.shape), dtype=x.dtype, device=x.device)
    monkeypatch.setattr(extremes, "_argext_weights", first_only)


PLANTS = {
    "linear_bias_tangent": plant_linear_bias_tangent,
    "mul_tangent_dropped": plant_mul_tangent_dropped,
    "identity_shape_ops": plant_identity_shape_ops,
    "unchecked_leaf_hook": plant_unchecked_leaf_hook,
    "max_tie_to_first": plant_max_tie_to_first,
}
