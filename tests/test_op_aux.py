"""An op's auxiliary saved value (``save = "... aux"``, ops/record.py): ``forward`` returns
``(output, aux)``, the reverse rule reads ``ctx.aux`` instead of computing it again, and the
value is saved as inputs are, so saved-tensor hooks, checkpoints, memory reports, compiled
steps, vmap and forward mode all see it (or see None and the rule computes it).

The test op is softplus, log(1 + e^x), whose forward computes e^x on the way to the
sigmoid its derivative is; references are float64 formulas and finite differences.
Cross-entropy, the op that uses it (its softmax), is checked at the end.
"""

import re

import numpy as np
import pytest

import gpugrad
import gpugrad.autograd.forward_ad as fwAD
from gpugrad import func
from gpugrad.autograd import gradcheck, gradgradcheck
from gpugrad.autograd.graph import saved_tensors_hooks
from gpugrad.checkpoint import checkpoint
from gpugrad.memory import saved_report
from gpugrad.nn import functional as F
from gpugrad.ops import REGISTRY
from gpugrad.ops.record import ELEMENTWISE, Op, apply, recording_backward
from gpugrad.tensor import Tensor

rng = np.random.default_rng(11)
calls = {"forward": 0, "recomputed": 0}


def sigmoid64(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def _softplus_rule(ctx, g):
    """g * sigmoid(x): from the kept value where there is one (and nothing records), else
    computed in differentiable ops."""
    if ctx.aux is not None and not recording_backward():
        return g * ctx.aux
    calls["recomputed"] += 1
    (x,) = ctx.xs
    return g * (1.0 / (1.0 + (-x).exp()))


@pytest.fixture
def ops():
    """Softplus records (kept sigmoid; none kept; a summed one giving a NumPy scalar),
    removed from REGISTRY afterwards (the op table wants a spec for every registered op)."""
    before = dict(REGISTRY)
    calls.update(forward=0, recomputed=0)

    class KeptSoftplus(Op):
        save = "x0 aux"
        vmap = None

        @staticmethod
        def forward(xp, x):
            calls["forward"] += 1
            e = xp.exp(x)
            return xp.log1p(e), e / (1.0 + e)

        vjp = staticmethod(_softplus_rule)
        jvp = ELEMENTWISE

    class UnkeptSoftplus(Op):                   # a forward with nothing to give (a kernel's)
        save = "x0+aux"

        @staticmethod
        def forward(xp, x):
            return xp.log1p(xp.exp(x)), None

        vjp = staticmethod(_softplus_rule)

    class SummedSoftplus(Op):                   # output: a NumPy scalar, before apply's 0-d
        save = "x0 aux"

        @staticmethod
        def forward(xp, x):
            e = xp.exp(x)
            return xp.log1p(e).sum(), e / (1.0 + e)

        @staticmethod
        def vjp(ctx, g):
            return g * ctx.aux

    class ScaledByItsSum(Op):                   # aux: a NumPy scalar, made a 0-d array
        save = "aux"

        @staticmethod
        def forward(xp, x):
            total = x.sum()
            return x * total, total

        @staticmethod
        def vjp(ctx, g):                        # (x's own effect on the sum left out)
            return g * ctx.aux

    yield KeptSoftplus, UnkeptSoftplus, SummedSoftplus, ScaledByItsSum
    REGISTRY.clear()
    REGISTRY.update(before)


def test_the_rule_reads_what_the_forward_kept(ops):
    kept = ops[0]
    x = gpugrad.tensor(rng.standard_normal(6), requires_grad=True)
    y = apply(kept, x)
    np.testing.assert_allclose(y.numpy(), np.log1p(np.exp(x.numpy().astype(np.float64))),
                               rtol=1e-6)
    aux = y.grad_fn.aux
    assert isinstance(aux, Tensor) and not aux.requires_grad
    np.testing.assert_allclose(aux.numpy(), sigmoid64(x.numpy()), rtol=1e-6)
    y.backward(gpugrad.ones(6))
    np.testing.assert_allclose(x.grad.numpy(), sigmoid64(x.numpy()), rtol=1e-6)
    assert calls == {"forward": 1, "recomputed": 0}


def test_a_forward_that_keeps_nothing_gives_none_and_the_rule_computes_it(ops):
    unkept = ops[1]
    x = gpugrad.tensor(rng.standard_normal(5), requires_grad=True)
    y = apply(unkept, x)
    assert y.grad_fn.aux is None and y.grad_fn._saved_aux is None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), sigmoid64(x.numpy()), rtol=1e-6)
    assert calls["recomputed"] == 1


def test_gradients_of_gradients_go_through_the_differentiable_rule(ops):
    kept = ops[0]
    x = gpugrad.tensor(rng.standard_normal(4), dtype="float64", requires_grad=True)
    assert gradcheck(lambda t: apply(kept, t), (x,))
    assert gradgradcheck(lambda t: apply(kept, t), (x,))
    (g,) = gpugrad.autograd.grad(apply(kept, x).sum(), x, create_graph=True)
    (h,) = gpugrad.autograd.grad(g.sum(), x)
    s = sigmoid64(x.numpy())
    np.testing.assert_allclose(h.numpy(), s * (1 - s), rtol=1e-10)


def test_saved_tensor_hooks_pack_and_unpack_the_kept_value(ops):
    """The hooks see the kept value as a tensor beside the saved input; what they unpack is
    what the rule reads (here: the values moved out to a host copy and back, as an offload
    would)."""
    kept = ops[0]
    x = gpugrad.tensor(rng.standard_normal(5), requires_grad=True)
    packed, unpacked = [], []

    def pack(t):
        packed.append(t.numpy().copy())
        return packed[-1]

    def unpack(values):
        unpacked.append(values)
        return gpugrad.tensor(values)

    with saved_tensors_hooks(pack, unpack):
        y = apply(kept, x)
    assert len(packed) == 2                                 # x, then the kept sigmoid
    np.testing.assert_array_equal(packed[0], x.numpy())
    np.testing.assert_allclose(packed[1], sigmoid64(x.numpy()), rtol=1e-12)
    y.backward(gpugrad.ones(5, dtype="float64"))
    assert unpacked[-1] is packed[1]
    np.testing.assert_allclose(x.grad.numpy(), sigmoid64(x.numpy()), rtol=1e-12)
    assert calls["recomputed"] == 0


def test_the_kept_value_is_freed_by_backward_and_kept_by_retain_graph(ops):
    kept = ops[0]
    x = gpugrad.tensor(rng.standard_normal(3), requires_grad=True)
    y = apply(kept, x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * sigmoid64(x.numpy()), rtol=1e-6)
    node = y.grad_fn.next_functions[0][0]
    assert node._saved_aux is None
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        node.aux


def test_a_checkpoint_drops_the_kept_value_and_recomputes_it(ops):
    kept = ops[0]
    x = gpugrad.tensor(rng.standard_normal(4), requires_grad=True)
    w = gpugrad.tensor(rng.standard_normal(4), requires_grad=True)
    checkpoint(lambda a, b: apply(kept, a * b), x, w).sum().backward()
    assert calls == {"forward": 2, "recomputed": 0}        # the run, then its recomputation
    s = sigmoid64(x.numpy() * w.numpy())
    np.testing.assert_allclose(x.grad.numpy(), s * w.numpy(), rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), s * x.numpy(), rtol=1e-6)


def test_the_memory_report_counts_the_kept_value(ops):
    kept = ops[0]
    x = gpugrad.tensor(rng.standard_normal((3, 8)), dtype="float32", requires_grad=True)
    report = saved_report(apply(kept, x))
    rows = [row for row in report.rows if row[1] == "aux"]
    assert [(r[0], r[2], r[4]) for r in rows] == [("KeptSoftplusBackward", (3, 8), 96)]
    assert report.activation_bytes == 96          # x is a leaf: a parameter, the aux is not


def test_a_compiled_step_binds_the_kept_value_and_replays_exactly(ops):
    kept, summed = ops[0], ops[2]
    w = gpugrad.tensor(rng.standard_normal(5), requires_grad=True)
    opt = gpugrad.optim.SGD([w], lr=0.0)

    def step(x):
        opt.zero_grad()                 # (live at every replay; a plain w.grad = None is not)
        loss = apply(summed, apply(kept, x * w))
        loss.backward()
        return loss, w.grad

    compiled = gpugrad.compile(step)
    inputs = [gpugrad.tensor(rng.standard_normal(5)) for _ in range(4)]
    got = [tuple(t.numpy().copy() for t in compiled(x)) for x in inputs]
    want = [tuple(t.numpy().copy() for t in step(x)) for x in inputs]
    for (loss, grad), (loss_ref, grad_ref) in zip(got, want):
        assert loss == loss_ref and np.array_equal(grad, grad_ref)
    assert compiled.records == 1 and compiled.replays == 3
    source = compiled.program(inputs[0]).source
    assert re.search(r"\n    v2, v3 = \w*KeptSoftplus_forward\(np, v1\)\n", source)
    summed_line = re.search(r"\n    (v\d+), v\d+ = \w*SummedSoftplus_forward\(np, v2\)\n", source)
    assert summed_line and f"    {summed_line[1]} = _as0d({summed_line[1]})" in source


def test_a_kept_numpy_scalar_becomes_a_0d_array_eagerly_and_compiled(ops):
    scaled = ops[3]
    step = gpugrad.compile(lambda x: gpugrad.autograd.grad(apply(scaled, x).sum(), x)[0])
    for values in ([1.0, 2.0], [3.0, -1.0], [0.5, 0.5]):
        x = gpugrad.tensor(values, requires_grad=True)
        kept = apply(scaled, x).grad_fn.aux
        assert kept.shape == () and kept.item() == sum(values)
        np.testing.assert_array_equal(step(x).numpy(), [sum(values)] * 2)
    assert (step.records, step.replays) == (1, 2)


def test_a_custom_function_keeps_ctx_aux_as_its_own_attribute():
    class Scale(gpugrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            assert ctx.aux is None
            ctx.aux = 3.0
            return x * 3.0

        @staticmethod
        def backward(ctx, g):
            return g * ctx.aux

    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    Scale.apply(x).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")       # (vmap's loop, no batching rule)
def test_vmap_keeps_no_value_and_the_rule_computes_it(ops):
    """Under vmap the op loops over the batch (no batching rule) and the batched record has
    no kept value: a backward through it (inside vmap or after it) recomputes."""
    kept = ops[0]
    x = gpugrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    per_example = func.vmap(func.grad(lambda t: apply(kept, t).sum()))(x)
    np.testing.assert_allclose(per_example.numpy(), sigmoid64(x.numpy()), rtol=1e-6)
    y = func.vmap(lambda t: apply(kept, t))(x)
    assert y.grad_fn.aux is None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), sigmoid64(x.numpy()), rtol=1e-6)


def test_forward_mode_rules_see_the_kept_value(ops):
    """A jvp rule's context has the kept value too (a constant: no tangent of its own, so
    a rule uses it only where no older level's tangent is needed). The test op's rule goes
    through its vjp (ELEMENTWISE), which inside a dual level takes the differentiable path;
    a rule of its own reads ``ctx.aux``."""
    kept = ops[0]
    x, t = rng.standard_normal(5), rng.standard_normal(5)
    with fwAD.dual_level():
        y = apply(kept, fwAD.make_dual(gpugrad.tensor(x), gpugrad.tensor(t)))
        tangent = fwAD.unpack_dual(y).tangent
    np.testing.assert_allclose(tangent.numpy(), sigmoid64(x) * t, rtol=1e-6)
    seen = []
    kept.jvp = staticmethod(lambda ctx, tx: seen.append(ctx.aux) or tx * ctx.aux)
    with fwAD.dual_level():
        y = apply(kept, fwAD.make_dual(gpugrad.tensor(x), gpugrad.tensor(t)))
        tangent = fwAD.unpack_dual(y).tangent
    assert isinstance(seen[0], Tensor)
    np.testing.assert_allclose(seen[0].numpy(), sigmoid64(x), rtol=1e-6)
    np.testing.assert_allclose(tangent.numpy(), sigmoid64(x) * t, rtol=1e-6)


# ------------------------------------------------------------------ cross-entropy

def test_cross_entropy_keeps_no_softmax_past_its_size_limit(monkeypatch):
    """Past ``KEEP_SOFTMAX_UP_TO`` logits elements the record keeps nothing more than the
    logits (as PyTorch holds one array of their size) and the rule recomputes the softmax:
    the same gradient."""
    from gpugrad.ops import loss as loss_module
    logits, labels = rng.standard_normal((4, 6)), gpugrad.tensor(np.array([0, 5, 2, 2]))
    grads = []
    for limit in (24, 23):
        monkeypatch.setattr(loss_module, "KEEP_SOFTMAX_UP_TO", limit)
        x = gpugrad.tensor(logits, requires_grad=True)
        loss = F.cross_entropy(x, labels)
        assert (loss.grad_fn.aux is None) == (limit == 23)
        loss.backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_keeps_its_softmax_and_its_gradient_matches_float64(reduction,
                                                                        smoothing):
    logits = rng.standard_normal((6, 5)) * 2
    labels = np.array([4, 0, -100, 2, 2, 1])
    x = gpugrad.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, gpugrad.tensor(labels), reduction=reduction,
                           label_smoothing=smoothing)
    kept = loss.grad_fn.aux
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(kept.numpy(), p, rtol=1e-6)
    g = rng.standard_normal(6) if reduction == "none" else 1.5
    loss.backward(gpugrad.tensor(np.asarray(g, np.float32)))
    valid = labels != -100
    q = np.full((6, 5), smoothing / 5)
    q[np.arange(6), np.where(valid, labels, 0)] += 1 - smoothing
    scale = np.asarray(g) * valid / (valid.sum() if reduction == "mean" else 1)
    expected = (p - q) * np.broadcast_to(scale, (6,))[:, None]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=2e-5, atol=1e-7)
