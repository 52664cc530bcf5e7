"""The op record's checks and the engine's explicit in-place channel (docs/ARCHITECTURE.md,
"The op record" and "The engine"): a ``save`` that names nothing and an op parameter that
would shadow the node's own attributes are refused where the record is defined; a leaf's
``AccumulateGrad`` is an ordinary node whose ``apply`` stores ``.grad``; and LinearRelu,
handed the leaves' ``.grad`` buffers as an argument, still gives the gradients of the
unfused layer, computed here by hand in float64 NumPy."""

import numpy as np
import pytest

import gpugrad
from gpugrad.autograd.graph import ACCUMULATED, AccumulateGrad, Node, grad_accumulator
from gpugrad.nn import functional as F
from gpugrad.ops import REGISTRY, linalg
from gpugrad.ops.record import Op, apply

RULES = ("forward", "vjp", "jvp", "vmap", "vjp_accumulate")


@pytest.fixture
def registry():
    """Ops a test defines leave REGISTRY as they found it (the op table wants a spec for
    every registered op)."""
    before = dict(REGISTRY)
    yield
    REGISTRY.clear()
    REGISTRY.update(before)


# ------------------------------------------------------------------ save

@pytest.mark.parametrize("save, bad", [("out", "out"), ("x0 output", "output"), ("x", "x"),
                                       ("xs, ans", "xs,"), ("x-1", "x-1"), (("x0", "y"), "y")])
def test_a_save_that_names_nothing_is_refused_where_the_op_is_defined(registry, save, bad):
    with pytest.raises(TypeError) as info:
        type("BadSave", (Op,), {"save": save})
    message = str(info.value)
    assert f"BadSave.save = {save!r}: {bad!r} names nothing its rules can read" in message
    assert ('"x0", "x1"... (an input), "xs" (all inputs), "ans" (the output) or "aux" (a '
            'value forward returns beside its output)') in message
    assert "BadSave" not in REGISTRY


def test_a_save_that_is_not_strings_is_refused(registry):
    with pytest.raises(TypeError, match=r"Odd.save = \('x0', 1\): write a string of names"):
        type("Odd", (Op,), {"save": ("x0", 1)})
    with pytest.raises(TypeError, match=r"Odd.save = 0: write a string of names"):
        type("Odd", (Op,), {"save": 0})


@pytest.mark.parametrize("save, inputs, ans", [
    ("x0+ans", (0,), True), (("x1", "ans"), (1,), True), ("xs", (), False),
    ("x0 x12", (0, 12), False), ("  ans  ", (), True), ((), (), False),
    ("x1 aux", (1,), False), ("aux+ans", (), True)])
def test_every_valid_save_form_is_read_as_before(registry, save, inputs, ans):
    record = type("Saves", (Op,), {"save": save})
    assert record._save_inputs == inputs and record._save_ans is ans
    assert record._save_all_inputs is ("xs" in str(save))
    assert record._save_aux is ("aux" in str(save))


def test_the_bad_save_of_the_issue_no_longer_fails_late_in_backward(registry):
    """``save = "out"`` was accepted and backward() failed with AttributeError on None."""
    with pytest.raises(TypeError, match="'out' names nothing"):
        class Square(Op):
            save = "out"

            @staticmethod
            def forward(xp, x):
                return x * x

            @staticmethod
            def vjp(ctx, g):
                return g * 2 * ctx.ans


# ------------------------------------------------------------------ op parameters

@pytest.mark.parametrize("name", ["shapes", "next_edges", "name", "release", "op", "xs",
                                  "needs", "_saved_ans", "num_outputs", "out_shape", "aux"])
def test_a_parameter_shadowing_the_node_is_refused_where_the_op_is_defined(registry, name):
    namespace = {}
    exec(f"def forward(xp, x, {name}):\n    return x", namespace)
    with pytest.raises(TypeError) as info:
        type("Shadow", (Op,), {"forward": staticmethod(namespace["forward"])})
    assert str(info.value).startswith(f"Shadow: the op parameter {name!r} would shadow "
                                      f"ctx.{name}, which the Node")
    assert f"e.g. {name}_" in str(info.value)
    assert "Shadow" not in REGISTRY


def test_a_keyword_only_parameter_is_checked_too_and_inputs_in_star_args_are_not(registry):
    with pytest.raises(TypeError, match="'dtypes' would shadow ctx.dtypes"):
        class Join(Op):
            @staticmethod
            def forward(xp, *xs, dtypes):
                return xp.concatenate(xs)

    class Stack(Op):                        # *xs are inputs, never attributes of the node
        @staticmethod
        def forward(xp, *xs, axis):
            return xp.stack(xs, axis=axis)

    assert not Stack._open_params


def test_parameters_of_a_forward_taking_keywords_are_checked_when_applied(registry):
    class Scaled(Op):
        save = "x0"

        @staticmethod
        def forward(xp, x, **params):
            return x * params["factor"]

        @staticmethod
        def vjp(ctx, g):
            return g * ctx.factor

    assert Scaled._open_params
    x = gpugrad.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    y = apply(Scaled, x, factor=3.0)
    assert y.grad_fn.factor == 3.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    with pytest.raises(TypeError, match="Scaled: the op parameter 'shapes' would shadow"):
        apply(Scaled, x, factor=3.0, shapes=(2,))


def test_the_library_declares_its_rules_static():
    for record in REGISTRY.values():
        if not record.__module__.startswith("gpugrad.ops."):
            continue
        for rule in RULES:
            value = record.__dict__.get(rule)
            if callable(value) or isinstance(value, staticmethod):
                assert isinstance(value, staticmethod), f"{record.__name__}.{rule}"


# ------------------------------------------------------------------ AccumulateGrad

def test_accumulate_grad_is_a_node_whose_apply_stores_grad():
    x = gpugrad.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    node = (x * 3.0).grad_fn.next_functions[0][0]
    assert isinstance(node, AccumulateGrad) and node is grad_accumulator(x)
    assert node.next_edges == () and node.keeps_gradient and not Node.keeps_gradient
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    first = gpugrad.tensor([0.5, -1.0], dtype="float64")
    with gpugrad.no_grad():
        assert node.apply([first]) == ()                    # not owned: a copy is stored
        assert x.grad._array is not first._array
        node.apply([gpugrad.tensor([0.25, 4.0], dtype="float64")])
        node.apply([None])                                  # nothing came: no hook either
        node.apply([ACCUMULATED])                           # already in .grad: hooks only
    np.testing.assert_array_equal(x.grad.numpy(), [0.75, 3.0])
    assert [s.tolist() for s in seen] == [[0.5, -1.0], [0.75, 3.0], [0.75, 3.0]]
    owned = gpugrad.tensor([1.0, 1.0], dtype="float64")
    x.grad = None
    with gpugrad.no_grad():
        node.apply([owned], owned=True)                     # the caller's own: kept as is
    assert x.grad is owned


def test_accumulate_grad_keeps_the_graph_when_grad_mode_is_on():
    x = gpugrad.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    w = gpugrad.tensor([3.0, 5.0], dtype="float64", requires_grad=True)
    g = w * w                                               # differentiable in w
    grad_accumulator(x).apply([g])
    assert x.grad.requires_grad
    (dw,) = gpugrad.autograd.grad(x.grad.sum(), w)
    np.testing.assert_array_equal(dw.numpy(), [6.0, 10.0])  # d(w^2)/dw = 2w
    x.grad = None
    with gpugrad.no_grad():                                 # grad mode off: no graph kept
        grad_accumulator(x).apply([g])
    assert not x.grad.requires_grad and x.grad.tolist() == [9.0, 25.0]


def test_the_engine_runs_leaf_hooks_as_the_accumulators_pre_hooks(device):
    x = gpugrad.tensor([1.0, -2.0], dtype="float64", device=device, requires_grad=True)
    node = grad_accumulator(x)
    assert node._pre_hooks is None
    handle = x.register_hook(lambda g: g * 10.0)
    assert list(node._pre_hooks) == [0]
    (x * x).sum().backward()                                # 2x, then the hook: 20x
    np.testing.assert_array_equal(x.grad.numpy(), [20.0, -40.0])
    handle.remove()
    assert node._pre_hooks is None
    (x * x).sum().backward()                                # adds 2x
    np.testing.assert_array_equal(x.grad.numpy(), [22.0, -44.0])


# ------------------------------------------------------------------ LinearRelu, in place

def layer64(seed=0):
    """x (5, 4), w (3, 4), b (3,) and the output weights c (5, 3), random normal: about
    half the units are dead."""
    r = np.random.default_rng(seed)
    return (r.standard_normal((5, 4)), r.standard_normal((3, 4)), r.standard_normal(3),
            r.standard_normal((5, 3)))


def reference_grads(x, w, b, c):
    """d/dx, d/dw, d/db of sum(c * relu(x w^T + b)), by hand in float64."""
    dz = c * ((x @ w.T + b) > 0)
    return dz @ w, dz.T @ x, dz.sum(axis=0)


def leaves(arrays, device):
    return [gpugrad.tensor(a, dtype="float64", device=device, requires_grad=True)
            for a in arrays]


def loss_of(x, w, b, c):
    out = F.linear_relu(x, w, b)
    assert out.grad_fn.name() == "LinearReluBackward"
    return (out * c).sum()


def test_linear_relu_without_grads_matches_the_unfused_layer(device):
    x64, w64, b64, c64 = layer64()
    x, w, b = leaves((x64, w64, b64), device)
    loss_of(x, w, b, gpugrad.tensor(c64, device=device)).backward()
    for got, expected in zip((x.grad, w.grad, b.grad), reference_grads(x64, w64, b64, c64)):
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-14)


def test_linear_relu_adds_into_existing_grads_in_place(device):
    x64, w64, b64, c64 = layer64(1)
    x, w, b = leaves((x64, w64, b64), device)
    w.grad = gpugrad.tensor(np.full((3, 4), 0.5), device=device)
    b.grad = gpugrad.tensor([1.0, -1.0, 2.0], dtype="float64", device=device)
    buffers = w.grad._array, b.grad._array
    versions = w.grad._version_value, b.grad._version_value
    loss_of(x, w, b, gpugrad.tensor(c64, device=device)).backward()
    dx, dw, db = reference_grads(x64, w64, b64, c64)
    np.testing.assert_allclose(w.grad.numpy(), 0.5 + dw, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.grad.numpy(), [1.0, -1.0, 2.0] + db, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad.numpy(), dx, rtol=1e-12, atol=1e-14)
    assert w.grad._array is buffers[0] and b.grad._array is buffers[1]   # in place...
    assert (w.grad._version_value, b.grad._version_value) == (versions[0] + 1,
                                                              versions[1] + 1)   # ...a write


def test_linear_relu_is_handed_the_grads_it_may_add_into(device, monkeypatch):
    """The in-place channel is an argument: the engine passes each leaf's ``.grad`` buffer
    (``into``) and whether the cotangent may be overwritten, only in a plain backward()."""
    calls = []
    rule = linalg.LinearRelu.vjp_accumulate

    def spy(ctx, g, into, g_is_scratch):
        calls.append((tuple(t is not None for t in into), g_is_scratch))
        return rule(ctx, g, into, g_is_scratch)

    monkeypatch.setattr(linalg.LinearRelu, "vjp_accumulate", staticmethod(spy))
    x64, w64, b64, c64 = layer64(2)
    x, w, b = leaves((x64, w64, b64), device)
    c = gpugrad.tensor(c64, device=device)
    loss_of(x, w, b, c).backward()                  # no .grad yet: nothing to add into
    loss_of(x, w, b, c).backward()                  # w.grad, b.grad (x's is not used)
    w.register_hook(lambda g: g)
    loss_of(x, w, b, c).backward()                  # a hooked leaf is never handed in
    out = F.linear_relu(x, w, b)
    out.retain_grad()
    (out * c).sum().backward()                      # a retained cotangent is not scratch
    gpugrad.autograd.grad(loss_of(x, w, b, c), (w,))            # grad(): vjp, no buffers
    loss_of(x, w, b, c).backward(create_graph=True)             # recorded: vjp, no buffers
    assert calls == [((False, False, False), True), ((True, True, True), True),
                     ((True, False, True), True), ((True, False, True), False),
                     ((False, False, False), False), ((False, False, False), False)]
    np.testing.assert_allclose(w.grad.numpy(), 5 * reference_grads(x64, w64, b64, c64)[1],
                               rtol=1e-12)


def test_linear_relu_with_a_hooked_weight_adds_the_hooks_gradient(device):
    x64, w64, b64, c64 = layer64(3)
    x, w, b = leaves((x64, w64, b64), device)
    w.grad = gpugrad.tensor(np.ones((3, 4)), device=device)
    b.grad = gpugrad.tensor(np.ones(3), device=device)
    w.register_hook(lambda g: g * 2.0)              # w: through the engine; b: in place
    loss_of(x, w, b, gpugrad.tensor(c64, device=device)).backward()
    _, dw, db = reference_grads(x64, w64, b64, c64)
    np.testing.assert_allclose(w.grad.numpy(), 1 + 2 * dw, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.grad.numpy(), 1 + db, rtol=1e-12, atol=1e-14)


def test_linear_relu_with_create_graph_gives_differentiable_grads(device):
    x64, w64, b64, c64 = layer64(4)
    x, w, b = leaves((x64, w64, b64), device)
    w.grad = gpugrad.tensor(np.ones((3, 4)), device=device)
    loss_of(x, w, b, gpugrad.tensor(c64, device=device)).backward(create_graph=True)
    dx, dw, db = reference_grads(x64, w64, b64, c64)
    np.testing.assert_allclose(w.grad.numpy(), 1 + dw, rtol=1e-12, atol=1e-14)
    assert w.grad.requires_grad
    v = np.random.default_rng(5).standard_normal((3, 4))
    (hx,) = gpugrad.autograd.grad((w.grad * gpugrad.tensor(v, device=device)).sum(), (x,))
    dz = c64 * ((x64 @ w64.T + b64) > 0)            # sum(v * dz^T x) in x: dz v
    np.testing.assert_allclose(hx.numpy(), dz @ v, rtol=1e-12, atol=1e-14)
