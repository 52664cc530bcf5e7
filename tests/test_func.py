"""gpugrad.func: the seed's JAX example with exact numbers, and every transform against
finite differences and against each other."""

import numpy as np
import pytest

import gpugrad
from gpugrad import func


def f(x, y):
    return x**2 * y + y**3


def g(x):
    return gpugrad.stack([x[0] ** 2, x[0] * x[1], x[1] ** 3])


def values(tree):
    """Nested tuples of tensors as nested lists of floats."""
    if isinstance(tree, (tuple, list)):
        return [values(t) for t in tree]
    return tree.numpy().tolist()


def test_seed_grad_both_arguments():
    dx, dy = func.grad(f, argnums=(0, 1))(2.0, 3.0)
    assert (dx.item(), dy.item()) == (12.0, 31.0)


def test_seed_jacobian(device):
    x = gpugrad.tensor([2.0, 3.0], device=device)
    assert values(func.jacobian(g)(x)) == [[4, 0], [3, 2], [0, 27]]
    assert values(func.jacfwd(g)(x)) == [[4, 0], [3, 2], [0, 27]]


def test_seed_hessian():
    assert func.hessian(f)(2.0, 3.0).item() == 6.0
    assert values(func.hessian(f, argnums=(0, 1))(2.0, 3.0)) == [[6, 4], [4, 18]]


def numeric_jacobian(fn, x: np.ndarray, eps=1e-6) -> np.ndarray:
    """Central differences of a NumPy-in, NumPy-out function: shape out.shape + x.shape."""
    out = fn(x)
    columns = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = eps
        step = step.reshape(x.shape)
        columns.append((fn(x + step) - fn(x - step)) / (2 * eps))
    return np.moveaxis(np.array(columns).reshape(x.shape + out.shape),
                       list(range(x.ndim)), list(range(out.ndim, out.ndim + x.ndim)))


def mlp(x):
    rng = np.random.default_rng(5)
    w1 = gpugrad.tensor(rng.standard_normal((4, 3)), dtype="float64", device=x.device)
    w2 = gpugrad.tensor(rng.standard_normal((2, 4)), dtype="float64", device=x.device)
    return gpugrad.log_softmax(w2 @ (w1 @ x).relu() + (w1 @ x).tanh()[:2], axis=0)


FUNCTIONS = {
    "elementwise": lambda x: (x.exp() * x).sqrt() / (1 + x * x),
    "reductions": lambda x: gpugrad.stack([x.sum(), x.max(), gpugrad.logsumexp(x)]),
    "matrix": lambda x: (x.reshape(2, 3) @ x.reshape(3, 2)).tanh(),
    "softmax": lambda x: gpugrad.softmax(x * 2, axis=0),
    "control flow": lambda x: x * 2 if x.sum().item() > 0 else x**3,
    "small MLP": lambda x: mlp(x[:3]),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_jacfwd_equals_jacrev_equals_finite_differences(device, name):
    fn = FUNCTIONS[name]
    x0 = np.array([0.3, 0.9, 1.4, 0.2, 0.5, 0.8])
    x = gpugrad.tensor(x0, dtype="float64", device=device)
    reference = numeric_jacobian(lambda a: fn(gpugrad.tensor(a, device=device)).numpy(), x0)
    forward, reverse = func.jacfwd(fn)(x).numpy(), func.jacrev(fn)(x).numpy()
    np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(reverse, reference, rtol=1e-6, atol=1e-8)


def scalar_loss(x):
    a = gpugrad.tensor(np.arange(16.0).reshape(4, 4) / 10 - 0.7, dtype="float64",
                       device=x.device)
    return ((a @ x).tanh() ** 2).sum() + (x**3).sum() / 3


def test_hessian_symmetric_equals_differences_of_grad_and_hvp(device):
    x0 = np.array([0.2, -0.4, 0.7, 0.1])
    x = gpugrad.tensor(x0, dtype="float64", device=device)
    hessian = func.hessian(scalar_loss)(x).numpy()
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-12)
    grad_np = lambda a: func.grad(scalar_loss)(gpugrad.tensor(a, device=device)).numpy()  # noqa
    np.testing.assert_allclose(hessian, numeric_jacobian(grad_np, x0), rtol=1e-6, atol=1e-8)
    v = gpugrad.tensor([1.0, -2.0, 0.5, 3.0], dtype="float64", device=device)
    hv = func.hvp(scalar_loss, (x,), (v,)).numpy()
    np.testing.assert_allclose(hv, hessian @ v.numpy(), rtol=1e-10, atol=1e-12)
    for composed in (func.jacrev(func.jacrev(scalar_loss)), func.jacfwd(func.jacfwd(scalar_loss)),
                     func.jacrev(func.jacfwd(scalar_loss))):
        np.testing.assert_allclose(composed(x).numpy(), hessian, rtol=1e-10, atol=1e-12)


def test_third_derivatives():
    third = func.grad(func.grad(func.grad(lambda x: x**5 - 2 * x**3)))(0.7)
    assert third.item() == pytest.approx(60 * 0.7**2 - 12, rel=1e-6)
    x = gpugrad.tensor(0.3, dtype="float64")
    t = np.tanh(0.3)
    expected = -2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2)
    assert func.grad(func.grad(func.grad(gpugrad.tanh)))(x).item() == pytest.approx(expected)
    assert func.jacfwd(func.jacfwd(func.grad(gpugrad.tanh)))(x).item() == pytest.approx(expected)


def test_vjp_and_jvp(device):
    x = gpugrad.tensor([1.0, 2.0], dtype="float64", device=device)
    out, vjp_fn = func.vjp(lambda x: x**2 * 3, x)
    assert out.tolist() == [3.0, 12.0]
    (ct,) = vjp_fn(gpugrad.tensor([1.0, 0.5], dtype="float64", device=device))
    assert ct.tolist() == [6.0, 6.0]
    (ct,) = vjp_fn(gpugrad.tensor([1.0, 1.0], dtype="float64", device=device))  # reusable
    assert ct.tolist() == [6.0, 12.0]
    primal, tangent = func.jvp(lambda x: x**2 * 3, (x,), (gpugrad.ones_like(x),))
    assert primal.tolist() == [3.0, 12.0] and tangent.tolist() == [6.0, 12.0]


def test_pytrees_in_and_out():
    params = {"w": gpugrad.tensor([1.0, 2.0]), "b": (2.0, np.array([3.0], dtype=np.float32))}

    def loss(p):
        return (p["w"] * p["b"][0]).sum() + (p["b"][1] * p["w"][0]).sum()

    grads = func.grad(loss)(params)
    assert set(grads) == {"w", "b"} and isinstance(grads["b"], tuple)
    assert grads["w"].tolist() == [5.0, 2.0]
    assert grads["b"][0].item() == 3.0 and grads["b"][1].tolist() == [1.0]
    out, tangents = func.jvp(lambda a, b: {"sum": a + b, "prod": a * b}, (2.0, 3.0), (1.0, 0.0))
    assert (tangents["sum"].item(), tangents["prod"].item()) == (1.0, 3.0)


def test_has_aux_and_value_and_grad():
    (value, aux), grad = func.value_and_grad(lambda x: (x**2, "aux"), has_aux=True)(3.0)
    assert (value.item(), aux, grad.item()) == (9.0, "aux", 6.0)
    grad, aux = func.grad(lambda x: (x**2, {"n": 1}), has_aux=True)(3.0)
    assert grad.item() == 6.0 and aux == {"n": 1}


def test_grad_of_non_scalar_says_what_to_do():
    with pytest.raises(TypeError, match=r"scalar output.*shape \(2,\).*jacrev"):
        func.grad(lambda x: x * 2)(gpugrad.tensor([1.0, 2.0]))


def test_float32_stays_float32():
    x = gpugrad.tensor([1.0, 2.0])
    assert func.grad(lambda x: (x**2).sum())(x).dtype == np.float32
    assert func.hessian(lambda x: (x**3).sum())(x).dtype == np.float32
    assert func.jacfwd(lambda x: x.tanh())(x).dtype == np.float32


def test_unused_argument_gets_zeros():
    dx, dy = func.grad(lambda x, y: x * 2, argnums=(0, 1))(1.0, 5.0)
    assert (dx.item(), dy.item()) == (2.0, 0.0)


# ---- transforms nested through closures: the inner result stays differentiable with
# respect to what the inner function closes over (w below), as in JAX. With w = 3, x0 = (1, 2)
# and f(x) = sum(x * w^2): the inner gradient is w^2 (1, 1), its sum 2 w^2, whose derivative
# is 4 w = 12. (The inner results were once cut from the graph, and the outer grad gave 0.)

W0 = 3.0


def closure_args(device):
    return (gpugrad.tensor([1.0, 2.0], dtype="float64", device=device),
            gpugrad.tensor(W0, dtype="float64", device=device))


@pytest.mark.parametrize("inner, expected", [
    # d/dw of sum(grad_x sum(x w^2)) = d/dw 2 w^2 = 4 w
    (lambda x0, w: func.grad(lambda x: (x * w**2).sum())(x0).sum(), 4 * W0),
    # value_and_grad: value 3 w^2 (derivative 6 w) plus the gradient's 2 w^2 (4 w)
    (lambda x0, w: sum(v.sum() for v in func.value_and_grad(lambda x: (x * w**2).sum())(x0)),
     10 * W0),
    (lambda x0, w: func.jacrev(lambda x: x * w**2)(x0).sum(), 4 * W0),       # sum(w^2 I)
    (lambda x0, w: func.jacfwd(lambda x: x * w**2)(x0).sum(), 4 * W0),
    (lambda x0, w: func.vjp(lambda x: x * w**2, x0)[1](gpugrad.ones_like(x0))[0].sum(),
     4 * W0),
    (lambda x0, w: func.vjp(lambda x: x * w**2, x0)[0].sum(), 6 * W0),        # 3 w^2
    (lambda x0, w: func.jvp(lambda x: x * w**2, (x0,), (gpugrad.ones_like(x0),))[1].sum(),
     4 * W0),
    # sum(x^3 w^2): Hessian diag(6 x w^2), its sum 18 w^2, derivative 36 w; H (1, 1) alike
    (lambda x0, w: func.hessian(lambda x: (x**3 * w**2).sum())(x0).sum(), 36 * W0),
    (lambda x0, w: func.hvp(lambda x: (x**3 * w**2).sum(), (x0,),
                            (gpugrad.ones_like(x0),)).sum(), 36 * W0),
], ids=["grad", "value_and_grad", "jacrev", "jacfwd", "vjp", "vjp_primal", "jvp", "hessian",
        "hvp"])
def test_outer_grad_through_a_transform_of_a_closure(inner, expected, device):
    x0, w = closure_args(device)
    assert func.grad(lambda w: inner(x0, w))(w).item() == pytest.approx(expected, rel=1e-12)


def test_other_outer_transforms_through_a_closure(device):
    x0, w = closure_args(device)

    def inner_grad(w):
        return func.grad(lambda x: (x * w**2).sum())(x0)              # w^2 (1, 1)
    np.testing.assert_allclose(func.jacrev(inner_grad)(w).numpy(), [2 * W0, 2 * W0])
    np.testing.assert_allclose(func.jacfwd(inner_grad)(w).numpy(), [2 * W0, 2 * W0])
    # sum(grad_x sum(x w^3)) = 2 w^3: second derivative 12 w
    twice = func.hessian(lambda w: func.grad(lambda x: (x * w**3).sum())(x0).sum())(w)
    assert twice.item() == pytest.approx(12 * W0, rel=1e-12)
    # per row r of xs, grad_x sum(x w^2) = w^2 (1, 1): 2 rows give 4 w^2, derivative 8 w
    xs = gpugrad.stack([x0, 2 * x0])

    def rows(w):
        return func.vmap(func.grad(lambda x: (x * w**2).sum()))(xs).sum()
    assert func.grad(rows)(w).item() == pytest.approx(8 * W0, rel=1e-12)


def test_backward_with_create_graph_inside_an_outer_grad(device):
    x0, w = closure_args(device)

    def through_backward(w):
        x = x0.detach().requires_grad_()
        (x * w**2).sum().backward(create_graph=True)
        return x.grad.sum()                                   # 2 w^2

    def through_autograd_grad(w):
        x = x0.detach().requires_grad_()
        (gx,) = gpugrad.autograd.grad((x * w**2).sum(), x, create_graph=True)
        return gx.sum()
    for inner in (through_backward, through_autograd_grad):
        assert func.grad(inner)(w).item() == pytest.approx(4 * W0, rel=1e-12)


def test_transform_of_a_closure_over_a_leaf_that_requires_grad(device):
    """Ordinary autograd outside a transform sees through it (as torch.func with autograd)."""
    x0, w = closure_args(device)
    w.requires_grad_()
    inner = func.grad(lambda x: (x * w**2).sum())(x0)
    inner.sum().backward()
    assert w.grad.item() == pytest.approx(4 * W0, rel=1e-12)


def test_results_carry_no_graph_when_nothing_outside_is_differentiated(device):
    x0, w = closure_args(device)
    assert not func.grad(lambda x: (x * w**2).sum())(x0).requires_grad
    outer = func.grad(lambda w: func.hessian(lambda x: (x**3 * w**2).sum())(x0).sum())(w)
    assert not outer.requires_grad                    # the inner transform's handles are done


# ---- forward mode with respect to a bias alone: Linear's rule gets no tangent for x and w,
# and the bias tangent (out,) must move every row of the (rows, out) output

def linear_parts(device):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    return x, w, b, [gpugrad.tensor(a, device=device) for a in (x, w, b)]


def test_forward_mode_with_respect_to_a_bias(device):
    x, w, b, (xt, wt, bt) = linear_parts(device)
    F = gpugrad.nn.functional
    out, tangent = func.jvp(lambda b: F.linear(xt, wt, b), (bt,),
                            (gpugrad.tensor([1.0, -2.0], dtype="float64", device=device),))
    np.testing.assert_allclose(out.numpy(), x @ w.T + b, rtol=1e-12)
    np.testing.assert_allclose(tangent.numpy(), np.tile([1.0, -2.0], (4, 1)))
    jac = func.jacfwd(lambda b: F.linear(xt, wt, b))(bt)         # d out[r, o] / d b[k]
    np.testing.assert_allclose(jac.numpy(), np.broadcast_to(np.eye(2), (4, 2, 2)))

    def loss(b):            # sum(out^2): gradient 2 sum_r out[r, :], Hessian 2 rows I = 8 I
        return (F.linear(xt, wt, b) ** 2).sum()
    np.testing.assert_allclose(func.hessian(loss)(bt).numpy(), 8 * np.eye(2), atol=1e-12)
    v = gpugrad.tensor([0.5, 3.0], dtype="float64", device=device)
    np.testing.assert_allclose(func.hvp(loss, (bt,), (v,)).numpy(), [4.0, 24.0], atol=1e-12)


@pytest.mark.parametrize("mode", ["no_grad", "set_grad_enabled", "inference_mode"])
def test_reverse_transforms_differentiate_under_an_outer_no_grad(mode):
    """As torch.func: a transform called under no_grad() (evaluation code, an optimizer's
    step) still differentiates f; f(v) = sum(v^3): grad 3v^2, Hessian diag(6v)."""
    x = gpugrad.tensor([0.3, -0.5, 1.2], dtype="float64")
    v = x.numpy()
    f = lambda t: (t ** 3).sum()                                    # noqa: E731
    outer = {"no_grad": gpugrad.no_grad, "inference_mode": gpugrad.inference_mode,
             "set_grad_enabled": lambda: gpugrad.set_grad_enabled(False)}[mode]
    with outer():
        results = [func.grad(f)(x), func.value_and_grad(f)(x)[1],
                   func.vjp(lambda t: t ** 3, x)[1](gpugrad.ones(3, dtype="float64"))[0],
                   func.jacrev(lambda t: t ** 3)(x).numpy().diagonal(),
                   func.vmap(func.grad(lambda t: t ** 3))(x)]
        hessian = func.hessian(f)(x)
        assert not gpugrad.is_grad_enabled()
    for got in results:
        np.testing.assert_allclose(np.asarray(got), 3 * v ** 2, rtol=1e-14)
    np.testing.assert_allclose(hessian.numpy(), np.diag(6 * v), rtol=1e-14)
    assert not results[0].requires_grad


def test_a_no_grad_inside_the_function_is_respected():
    """d/dv sum(v * c) with c = 2v computed under no_grad inside f: c is a constant, 2v."""
    x = gpugrad.tensor([0.3, -0.5, 1.2], dtype="float64")

    def f(t):
        with gpugrad.no_grad():
            c = t * 2
        return (t * c).sum()
    np.testing.assert_allclose(func.grad(f)(x).numpy(), 2 * x.numpy(), rtol=1e-15)


def test_results_under_an_outer_no_grad_carry_no_graph():
    """As torch.func: with x requiring grad, grad/jacrev/vjp called under no_grad() give
    plain tensors (nothing outside differentiates them), with the right values."""
    x = gpugrad.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    with gpugrad.no_grad():
        g = func.grad(lambda t: (t ** 3).sum())(x)
        jac = func.jacrev(lambda t: t ** 3)(x)
        out, vjp_fn = func.vjp(lambda t: t ** 3, x)
        pulled = vjp_fn(gpugrad.ones(3, dtype="float64"))[0]
    for t in (g, jac, out, pulled):
        assert not t.requires_grad and t.grad_fn is None
    assert g.tolist() == [3.0, 12.0, 27.0] and pulled.tolist() == [3.0, 12.0, 27.0]
    assert func.grad(lambda t: (t ** 3).sum())(x).requires_grad    # outside: differentiable
