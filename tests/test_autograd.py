"""Reverse-mode semantics: accumulation, retain_graph, autograd.grad, higher order, hooks,
retain_grad, grad modes, graph inspection and deep graphs."""

import gc
import weakref

import numpy as np
import pytest

import gpugrad
from gpugrad import autograd


def leaf(values, device, dtype="float64"):
    return gpugrad.tensor(values, dtype=dtype, device=device, requires_grad=True)


def test_grad_accumulates_across_backward_calls(device):
    x = leaf([1.0, 2.0], device)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])
    x.zero_grad()
    assert x.grad is None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 4])


def test_a_value_used_twice_sums_its_gradients(device):
    x = leaf(3.0, device)
    y = x * x + x          # dy/dx = 2x + 1
    y.backward()
    assert x.grad.item() == 7.0


def test_backward_twice_needs_retain_graph(device):
    x = leaf([1.0, 2.0], device)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    expected = 2 * (np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))
    np.testing.assert_allclose(x.grad.numpy(), expected)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_non_scalar_backward_needs_gradient(device):
    x = leaf([[1.0, 2.0]], device)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"shape \(1, 2\).*ones_like"):
        y.backward()
    y.backward(gpugrad.tensor([[1.0, 10.0]], dtype="float64", device=device))
    np.testing.assert_allclose(x.grad.numpy(), [[2.0, 20.0]])


def test_backward_gradient_shape_is_checked(device):
    x = leaf([1.0, 2.0], device)
    with pytest.raises(ValueError, match=r"shape \(3,\).*\(2,\)"):
        (x * 2).backward(gpugrad.ones(3, dtype="float64", device=device))


def test_autograd_grad_returns_without_accumulating(device):
    x, y = leaf(2.0, device), leaf(3.0, device)
    z = x**2 * y + y**3
    dx, dy = autograd.grad(z, (x, y))
    assert (dx.item(), dy.item()) == (12.0, 31.0)
    assert x.grad is None and y.grad is None
    assert not dx.requires_grad


def test_autograd_grad_wrt_intermediate_and_allow_unused(device):
    x = leaf([1.0, 2.0], device)
    h = x * 3
    unused = leaf(1.0, device)
    out = (h * h).sum()
    gh, gx, gu = autograd.grad(out, (h, x, unused), allow_unused=True, retain_graph=True)
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(gx.numpy(), [18.0, 36.0])
    assert gu is None
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        autograd.grad(out, (x, unused))


def test_autograd_grad_input_must_require_grad(device):
    x = gpugrad.tensor([1.0], device=device)
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        autograd.grad((x * 2).sum(), x)


def test_grad_outputs_weight_several_outputs(device):
    x = leaf([1.0, 2.0], device)
    a, b = x * 2, x * x
    (g,) = autograd.grad((a, b), x, grad_outputs=(gpugrad.ones_like(a), gpugrad.ones_like(b) * 3))
    np.testing.assert_allclose(g.numpy(), [2 + 6 * 1.0, 2 + 6 * 2.0])


def test_third_derivative_of_polynomial_and_tanh(device):
    x = leaf(0.7, device)
    y = x**5 - 2 * x**3
    (d1,) = autograd.grad(y, x, create_graph=True)
    (d2,) = autograd.grad(d1, x, create_graph=True)
    (d3,) = autograd.grad(d2, x)
    assert d3.item() == pytest.approx(60 * 0.7**2 - 12)
    x = leaf(0.3, device)
    (d1,) = autograd.grad(x.tanh(), x, create_graph=True)
    (d2,) = autograd.grad(d1, x, create_graph=True)
    (d3,) = autograd.grad(d2, x)
    t = np.tanh(0.3)
    assert d3.item() == pytest.approx(-2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2))


def test_create_graph_keeps_grad_differentiable(device):
    x = leaf([1.0, -2.0], device)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (gx,) = autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(gx.numpy(), [6.0, -12.0])


def test_detach_and_no_grad_record_nothing(device):
    x = leaf([1.0, 2.0], device)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    with gpugrad.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    with gpugrad.no_grad():
        with gpugrad.enable_grad():
            z = x * 2
    assert z.requires_grad
    with gpugrad.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert gpugrad.is_grad_enabled()


def test_grad_modes_as_decorators(device):
    x = leaf([1.0], device)

    @gpugrad.no_grad()
    def doubled(t):
        return t * 2

    @gpugrad.set_grad_enabled(False)
    def tripled(t):
        return t * 3

    assert gpugrad.is_grad_enabled()
    assert not doubled(x).requires_grad and not tripled(x).requires_grad
    assert (x * 2).requires_grad


def test_set_grad_enabled_as_a_call():
    gpugrad.set_grad_enabled(False)
    try:
        assert not gpugrad.is_grad_enabled()
    finally:
        gpugrad.set_grad_enabled(True)
    assert gpugrad.is_grad_enabled()


def test_graph_inspection(device):
    x = leaf([1.0], device)
    w = gpugrad.tensor([2.0], dtype="float64", device=device)
    y = (x * w).exp()
    assert x.is_leaf and not y.is_leaf
    assert y.grad_fn.name() == "ExpBackward"
    (mul_edge,) = y.grad_fn.next_functions
    assert mul_edge[0].name() == "MulBackward"
    accumulate, constant = mul_edge[0].next_functions
    assert accumulate[0].name() == "AccumulateGrad" and accumulate[0].variable is x
    assert constant == (None, 0)
    assert "grad_fn=<ExpBackward>" in repr(y)


def test_retain_grad_and_hooks(device):
    x = leaf([1.0, 2.0], device)
    h = x * 2
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    handle = x.register_hook(lambda g: g * 10)       # replaces x's gradient
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [4.0, 8.0])
    np.testing.assert_allclose(seen[0], [4.0, 8.0])
    np.testing.assert_allclose(x.grad.numpy(), [80.0, 160.0])
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_hook_on_intermediate_changes_upstream_gradient(device):
    x = leaf([1.0, 2.0], device)
    h = x * 3
    h.register_hook(lambda g: g * 0)
    (h * x).sum().backward()        # only the direct path x -> (h*x) is left: h = 3x
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 6.0])


@pytest.mark.parametrize("make", [lambda x: x, lambda x: x * 1], ids=["leaf", "intermediate"])
def test_hooks_run_in_registration_order(make, device):
    x = leaf([1.0, 2.0], device)
    y = make(x)
    y.register_hook(lambda g: g * 2)
    y.register_hook(lambda g: g + 1)          # in order: 2 * 3 + 1 = 7; reversed: (3 + 1) * 2 = 8
    (y * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [7.0, 7.0])


def test_retained_gradient_is_the_one_hooks_returned(device):
    x = leaf([1.0, 2.0], device)
    y = x * 1
    y.retain_grad()                           # registered first, stored last, as in PyTorch
    y.register_hook(lambda g: g * 2)
    (y * 3).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 6.0])
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])


def test_clamp_passes_the_gradient_at_its_bounds(device):
    x = leaf([0.0, 0.5, 1.0, -0.5, 1.5], device)
    x.clamp(0.0, 1.0).sum().backward()        # PyTorch includes the bounds themselves
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0, 1.0, 0.0, 0.0])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_elementwise_maximum_and_minimum_split_ties_in_half(name, device):
    a, b = leaf([1.0, 2.0, 3.0], device), leaf([1.0, 0.0, 3.0], device)
    getattr(gpugrad, name)(a, b).sum().backward()
    a_middle = 1.0 if name == "maximum" else 0.0      # 2 beats 0 for maximum, loses for minimum
    np.testing.assert_allclose(a.grad.numpy(), [0.5, a_middle, 0.5])
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 1.0 - a_middle, 0.5])


def test_backward_inputs_restricts_accumulation(device):
    x, y = leaf(2.0, device), leaf(3.0, device)
    (x * y).backward(inputs=[x])
    assert x.grad.item() == 3.0 and y.grad is None


def test_long_chain_backward_is_iterative():
    x = gpugrad.tensor(1.0, dtype="float64", requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0000001 ** 100_000)
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None


def test_graph_is_freed_without_garbage_collector(device):
    gc.disable()
    try:
        x = leaf(np.ones(4), device)
        y = (x.exp() * x).tanh()
        node = weakref.ref(y.grad_fn)
        out = weakref.ref(y)
        del y
        assert node() is None and out() is None    # reference counting alone frees it
    finally:
        gc.enable()


def test_requires_grad_only_for_floats(device):
    with pytest.raises(TypeError, match="floating-point"):
        gpugrad.tensor([1, 2], device=device, requires_grad=True)
    x = gpugrad.tensor([1.0], device=device) * 2
    x.requires_grad_()
    assert x.requires_grad


def test_comparisons_are_not_differentiable(device):
    a, b = np.array([1.0, -1.0, 2.0, 0.5]), np.array([1.0, 0.5, 3.0, -2.0])
    x, y = leaf(a, device), leaf(b, device)
    cases = [(x < y, a < b), (x <= y, a <= b), (x > y, a > b), (x >= y, a >= b),
             (x == y, a == b), (x != y, a != b), (x > 0, a > 0), (x == 1.0, a == 1.0)]
    for got, want in cases:                       # NumPy's answer, ties (1.0 == 1.0) included
        assert got.dtype == np.bool_ and not got.requires_grad and got.grad_fn is None
        np.testing.assert_array_equal(got.numpy(), want)
    (x * (x > 0)).sum().backward()                # d/dx of x * [x > 0] is the mask itself
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0, 1.0])


def test_stored_gradients_never_share_memory(device):
    w1, w2 = leaf([1.0, 2.0], device), leaf([3.0, 4.0], device)
    cotangent = gpugrad.tensor([1.0, 1.0], dtype="float64", device=device)
    (w1 + w2).backward(cotangent)                 # add passes its cotangent through twice
    with gpugrad.no_grad():
        w1.grad.mul_(0.5)                         # e.g. gradient clipping
    np.testing.assert_allclose(w1.grad.numpy(), [0.5, 0.5])
    np.testing.assert_allclose(w2.grad.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(cotangent.numpy(), [1.0, 1.0])
    x = leaf([1.0, 2.0], device)
    x.sum().backward()                            # the rule gives a broadcast view
    with gpugrad.no_grad():
        x.grad.zero_()                            # the stored grad is writable
    h = x * 1.0
    h.retain_grad()
    (h + 0.0).sum().backward()
    with gpugrad.no_grad():
        h.grad.fill_(7.0)
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_bare_no_grad_decorator(device):
    @gpugrad.no_grad
    def doubled(t):
        return t * 2

    assert not doubled(leaf([1.0], device)).requires_grad


def test_root_gradient_is_cast_to_the_root_dtype(device):
    x = gpugrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    (x * 2).backward(gpugrad.ones(2, dtype="float64", device=device))
    assert x.grad.dtype == np.float32


def test_kept_and_returned_gradients_are_not_added_into_later(device):
    x = leaf([1.0, 2.0], device)
    kept = []
    x.register_hook(lambda g: kept.append(g) or None)    # keeps the gradient it is shown
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(kept[0].numpy(), [3.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])

    held = gpugrad.tensor([5.0], dtype="float64", device=device)

    class GivesHeld(autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1.0

        @staticmethod
        def backward(ctx, g):
            return held                                   # a tensor the function keeps

    y = leaf([1.0], device)
    GivesHeld.apply(y).sum().backward()
    GivesHeld.apply(y).sum().backward()
    assert held.tolist() == [5.0] and y.grad.tolist() == [10.0]


def test_second_derivative_of_x_to_the_first_is_zero():
    # d/dx (d/dx x**1) = 0 everywhere: zeros, not an "unused input" error
    x = gpugrad.tensor([1.0, -2.0, 0.0], requires_grad=True)
    (g,) = gpugrad.autograd.grad((x ** 1).sum(), (x,), create_graph=True)
    (h,) = gpugrad.autograd.grad(g.sum(), (x,))
    assert g.tolist() == [1.0, 1.0, 1.0] and h.tolist() == [0.0, 0.0, 0.0]
