"""The autograd API review's fixes: keyword arguments to Function.apply, iterables as inputs,
double backward through ReLU, broadcast gradients from a Function, inference tensors, node
hooks, gradcheck's keywords, saved-tensor hook classes, set_detect_anomaly, hook handles as
context managers, grad_fn names, PyTorch's refusals and exception classes: hand-derived
values first, PyTorch where installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad import autograd
from gpugrad.autograd import Function


class Double(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


class MulW(Function):
    """x * w * scale: d/dx = w s g, d/dw = x s g."""

    @staticmethod
    def forward(ctx, x, w=None, scale=1.0):
        ctx.save_for_backward(x, w)
        ctx.scale = scale
        return x * w * scale

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g * w * ctx.scale, g * x * ctx.scale, None


class Scale(Function):
    """setup_context style: x * s, s given by keyword or by default."""

    @staticmethod
    def forward(x, s=3.0):
        return x * s

    @staticmethod
    def setup_context(ctx, inputs, output):
        _, ctx.s = inputs

    @staticmethod
    def backward(ctx, g):
        return g * ctx.s, None


# --------------------------------------------------------------------------- F1
def test_function_apply_binds_keyword_tensors_to_their_positions():
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    (Double.apply(x=x).sum() + x.sum()).backward()
    assert x.grad.tolist() == [3.0, 3.0]                # 2 from Double, 1 from x.sum()
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    w = gpugrad.tensor([3.0, -1.0], requires_grad=True)
    MulW.apply(w=w, x=x, scale=2.0).sum().backward()    # out of order, all by keyword
    assert x.grad.tolist() == [6.0, -2.0] and w.grad.tolist() == [2.0, 4.0]
    x.grad = w.grad = None
    MulW.apply(x, w=w).sum().backward()
    assert x.grad.tolist() == [3.0, -1.0] and w.grad.tolist() == [1.0, 2.0]
    x.grad = None
    Scale.apply(x, s=5.0).sum().backward()               # setup_context sees the keyword
    assert x.grad.tolist() == [5.0, 5.0]
    x.grad = None
    Scale.apply(x).sum().backward()                      # ... and the default, as torch's
    assert x.grad.tolist() == [3.0, 3.0]
    with pytest.raises(TypeError, match="Scale.apply"):
        Scale.apply(x, bogus=1.0)


def test_function_apply_keywords_agree_with_pytorch():
    torch = pytest.importorskip("torch")

    class TMulW(torch.autograd.Function):
        forward, backward = MulW.forward, MulW.backward

    got = []
    for lib, fn in ((gpugrad, MulW), (torch, TMulW)):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, -1.0], requires_grad=True)
        fn.apply(x, w=w).sum().backward()
        got.append((x.grad.tolist(), w.grad.tolist()))
    assert got[0] == got[1]


# --------------------------------------------------------------------------- F2
def test_grad_and_backward_take_any_iterable_of_tensors():
    lin = gpugrad.nn.Linear(3, 2)
    x = gpugrad.tensor([1.0, -2.0, 0.5])
    loss = (lin(x) ** 2).sum()
    gw, gb = autograd.grad(loss, lin.parameters(), create_graph=True)
    out = lin(x).detach().numpy()
    np.testing.assert_allclose(gw.numpy(), 2 * np.outer(out, x.numpy()), rtol=1e-6)
    np.testing.assert_allclose(gb.numpy(), 2 * out, rtol=1e-6)
    params = dict(lin.named_parameters())
    assert len(autograd.grad((lin(x) ** 2).sum(), params.values())) == 2
    (lin(x) ** 2).sum().backward(inputs=iter([lin.bias]))
    assert lin.weight.grad is None and np.allclose(lin.bias.grad.numpy(), 2 * out)
    autograd.backward(t for t in [(lin(x) ** 2).sum()])
    assert lin.weight.grad is not None
    with pytest.raises(TypeError, match="iterable of Tensors"):
        autograd.grad(loss, 3.0)


# --------------------------------------------------------------------------- F3
def _relu_net_double_backward(lib):
    x = lib.tensor([[-1.0, 0.5, 2.0]], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]], dtype=lib.float64)
    (g,) = lib.autograd.grad(lib.relu(x @ w.T).sum(), x, create_graph=True)
    return g, lib.autograd.grad(g.sum(), x)[0]


def test_double_backward_through_relu_gives_zeros_not_unused():
    g, h = _relu_net_double_backward(gpugrad)
    # x @ w.T = [-1.0, -2.2]... both units off except where positive: hand-derived
    pre = np.array([[-1.0, 0.5, 2.0]]) @ np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]]).T
    mask = (pre > 0).astype(float)
    np.testing.assert_allclose(g.numpy(), mask @ np.array([[1.0, -2.0, 0.5],
                                                           [0.3, 0.2, -1.0]]))
    assert h.tolist() == [[0.0, 0.0, 0.0]]             # relu'' = 0: zeros, as torch's


def test_double_backward_through_relu_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = _relu_net_double_backward(gpugrad), _relu_net_double_backward(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy())


def test_grad_error_tells_reached_with_no_gradient_from_unused():
    class NoGrad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return None

    x = gpugrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="every rule on the way returned no"):
        autograd.grad(NoGrad.apply(x).sum(), x)
    with pytest.raises(RuntimeError, match="no path from the outputs"):
        autograd.grad((gpugrad.ones(2, requires_grad=True) * 2).sum(), x)


# --------------------------------------------------------------------------- F4
class AddB(Function):
    @staticmethod
    def forward(ctx, x, b):
        return x + b

    @staticmethod
    def backward(ctx, g):
        return g, g                 # b's gradient has x's shape: summed down, as torch's


def test_function_backward_may_return_a_broadcast_gradient():
    x = gpugrad.ones(4, 3, requires_grad=True)
    b = gpugrad.ones(3, requires_grad=True)
    AddB.apply(x, b).sum().backward()
    assert b.grad.tolist() == [4.0, 4.0, 4.0] and x.grad.shape == (4, 3)
    c = gpugrad.ones(1, 3, requires_grad=True)
    AddB.apply(x, c).sum().backward()
    assert c.grad.tolist() == [[4.0, 4.0, 4.0]]


def test_function_backward_gradient_that_does_not_sum_down_is_refused():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return gpugrad.ones(4, 3)           # (2,) does not broadcast to (4, 3)

    with pytest.raises(RuntimeError, match=r"shape \(4, 3\) for input 0"):
        Wrong.apply(gpugrad.ones(2, requires_grad=True)).sum().backward()


def test_function_broadcast_gradient_agrees_with_pytorch():
    torch = pytest.importorskip("torch")

    class TAddB(torch.autograd.Function):
        forward, backward = AddB.forward, AddB.backward

    got = []
    for lib, fn in ((gpugrad, AddB), (torch, TAddB)):
        x = lib.ones(4, 3, requires_grad=True)
        b = lib.ones(1, 3, requires_grad=True)
        (fn.apply(x, b) * lib.arange(12.0).reshape(4, 3)).sum().backward()
        got.append(b.grad.tolist())
    assert got[0] == got[1] == [[18.0, 22.0, 26.0]]


# --------------------------------------------------------------------------- F5
def test_inference_tensors_as_pytorch():
    w = gpugrad.ones(2, requires_grad=True)
    with gpugrad.inference_mode():
        y = gpugrad.ones(2)
        z = w * 2
        y.add_(1.0)                                     # in place inside: allowed
        inside = gpugrad.ones(2).requires_grad_()       # allowed inside, as torch's
    assert y.is_inference() and z.is_inference() and inside.is_inference()
    assert not w.is_inference() and not y.clone().is_inference()
    assert y.detach().is_inference() and y[0].is_inference()      # share its counter
    assert (y + w).requires_grad                        # add saves nothing: fine
    with pytest.raises(RuntimeError, match="cannot be saved for backward"):
        y * w
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference"):
        y.requires_grad_()
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor"):
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor"):
        with gpugrad.no_grad():
            y.mul_(2.0)
    with gpugrad.inference_mode(), gpugrad.inference_mode(False):
        assert not gpugrad.ones(2).is_inference()
    with gpugrad.no_grad():
        assert not gpugrad.ones(2).is_inference()
    (y.clone() * w).sum().backward()                    # the documented way out
    assert w.grad.tolist() == y.tolist()


def test_inference_tensors_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib in (gpugrad, torch):
        w = lib.ones(2, requires_grad=True)
        with lib.inference_mode():
            y = lib.ones(2)
        row = [y.is_inference(), (w * 2).is_inference(), y.detach().is_inference()]
        for action in (lambda: y * w, lambda: y.requires_grad_(), lambda: y.add_(1)):
            try:
                action()
                row.append("ok")
            except RuntimeError as exc:
                row.append(str(exc)[:40])
        outcomes.append(row)
    assert outcomes[0] == outcomes[1]


# --------------------------------------------------------------------------- F7
def test_node_prehook_and_hook():
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    handle = y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
    seen = []
    y.grad_fn.register_hook(lambda gi, go: seen.append((gi[0].tolist(), go[0].tolist())))
    y.sum().backward(retain_graph=True)
    assert x.grad.tolist() == [6.0, 6.0] and seen == [([6.0, 6.0], [2.0, 2.0])]
    handle.remove()
    x.grad = None
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0,))      # replaces grad_inputs
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    acc = (x * 1).grad_fn.next_functions[0][0]
    assert isinstance(acc, autograd.graph.Node)
    y = x * 2
    y.grad_fn.metadata["tag"] = 1
    assert y.grad_fn.metadata == {"tag": 1}
    assert y.grad_fn(gpugrad.ones(2)).tolist() == [2.0, 2.0]


# --------------------------------------------------------------------------- F8
def test_gradcheck_accepts_pytorchs_keywords():
    x = gpugrad.tensor([0.3, -0.7, 1.1], dtype="float64", requires_grad=True)
    w = gpugrad.tensor([1.5, 0.2, -0.4], dtype="float64", requires_grad=True)
    f = lambda a, b: (a * b).sin()                      # noqa: E731
    assert autograd.gradcheck(f, (x, w), fast_mode=True, nondet_tol=0.0,
                              check_undefined_grad=True, check_batched_grad=False,
                              check_forward_ad=True, check_backward_ad=True,
                              check_grad_dtypes=False, masked=None)
    assert autograd.gradgradcheck(f, (x, w), fast_mode=False, nondet_tol=0.0,
                                  check_fwd_over_rev=True)

    class BadJvp(Function):          # right backward, wrong forward rule: only jvp caught
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

        @staticmethod
        def jvp(ctx, t):
            return t * 3

    assert autograd.gradcheck(BadJvp.apply, (x,))
    assert not autograd.gradcheck(BadJvp.apply, (x,), check_forward_ad=True,
                                  raise_exception=False)
    with pytest.raises(TypeError, match=r"x.double\(\)"):
        autograd.gradcheck(f, (x.float().requires_grad_(), w))


# --------------------------------------------------------------------------- F9
def test_saved_tensors_hooks_subclass_save_on_cpu_and_disable():
    packed = []

    class Counting(autograd.graph.saved_tensors_hooks):
        def __init__(self):
            super().__init__(lambda t: packed.append(1) or t, lambda t: t)

    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    with Counting():
        y = (x * x).sum()
    y.backward()
    assert len(packed) == 2 and x.grad.tolist() == [2.0, 4.0]
    x.grad = None
    with autograd.graph.save_on_cpu(pin_memory=False):
        (x * x.exp()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (1 + x.numpy()) * np.exp(x.numpy()), rtol=1e-6)
    with autograd.graph.disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="no hooks here"):
            with Counting():
                pass
    with Counting():                                    # enabled again after the block
        pass


# --------------------------------------------------------------------------- F10
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")   # (the anomaly made)
def test_set_detect_anomaly_as_call_and_context():
    assert not autograd.is_anomaly_enabled()
    autograd.set_detect_anomaly(True)
    try:
        assert autograd.is_anomaly_enabled()
        with autograd.set_detect_anomaly(False):
            assert not autograd.is_anomaly_enabled()
        assert autograd.is_anomaly_enabled()
    finally:
        autograd.set_detect_anomaly(False)
    with autograd.set_detect_anomaly(True):
        x = gpugrad.tensor([0.0, 1.0], requires_grad=True)
        with pytest.raises(autograd.AnomalyError):
            x.sqrt().sum().backward()
    assert not autograd.is_anomaly_enabled()


# --------------------------------------------------------------------------- F12, F13
def test_hook_handle_is_a_context_manager_and_grad_fn_names():
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    with x.register_hook(lambda g: g * 10):
        x.sum().backward()
    x.sum().backward()
    assert x.grad.tolist() == [11.0, 11.0]
    y = Double.apply(x)
    assert type(y.grad_fn).__name__ == "DoubleBackward" == y.grad_fn.name()
    assert isinstance(y.grad_fn, autograd.FunctionCtx)


# --------------------------------------------------------------------------- F14, F15
def test_refusals_and_exception_classes_as_pytorch():
    x = gpugrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * 2).sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match="cannot be empty"):
        autograd.grad((x * 2).sum(), [])
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = True
    y.requires_grad_(True)                              # a no-op on a non-leaf, as torch's
    with pytest.raises(TypeError, match="gradients can be either Tensors or None"):
        (x * 2).sum().backward(2.0)
    with pytest.raises(TypeError, match="but got float"):
        autograd.grad((x * 2).sum(), x, grad_outputs=[1.0, 1.0])
    (x * 2).sum().backward(gpugrad.tensor(2.0))
    assert x.grad.tolist() == [4.0, 4.0]
    assert autograd.grad((x * 3).sum(), x, only_inputs=True)[0].tolist() == [3.0, 3.0]
    for exc in (RuntimeError, TypeError):
        with pytest.raises(exc, match="floating-point"):
            gpugrad.tensor([1, 2]).requires_grad_()
    for exc in (RuntimeError, ValueError):
        with pytest.raises(exc, match="shape"):
            (x * 2).backward(gpugrad.ones(3))
        with pytest.raises(exc, match="shape"):
            x.grad = gpugrad.ones(3)


def test_exception_classes_match_what_pytorch_raises():
    torch = pytest.importorskip("torch")
    cases = [lambda lib: lib.tensor([1, 2]).requires_grad_(),
             lambda lib: (lib.ones(2, requires_grad=True) * 2).backward(lib.ones(3)),
             lambda lib: (lib.ones(2, requires_grad=True) * 2).sum().backward(inputs=[]),
             lambda lib: (lib.ones(2, requires_grad=True) * 2).sum().backward(2.0)]
    for case in cases:
        kinds = []
        for lib in (torch, gpugrad):
            with pytest.raises(Exception) as info:
                case(lib)
            kinds.append(info.value)
        assert isinstance(kinds[1], type(kinds[0]))


@pytest.mark.parametrize("write", [lambda y: y.add_(1), lambda y: y.mul_(2.0),
                                   lambda y: y.fill_(3.0), lambda y: y.__setitem__(0, 5.0),
                                   lambda y: y.copy_(gpugrad.zeros(2))])
def test_refused_inplace_on_inference_tensor_leaves_it_unchanged(write):
    """Refused before anything is written (torch refuses before the kernel runs too)."""
    with gpugrad.inference_mode():
        y = gpugrad.ones(2)
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor"):
        write(y)
    assert y.tolist() == [1.0, 1.0]
    with gpugrad.inference_mode():
        write(y)                                    # inside the mode: allowed
    assert y.tolist() != [1.0, 1.0]


def test_second_derivative_through_abs_is_zero_not_missing():
    """abs's rule is g * sign(x): sign is a record with zero gradient where x requires grad
    (as torch.sign), so the first derivative stays in the graph and the second is 0."""
    x = gpugrad.tensor([-1.0, 0.5, 2.0], dtype="float64", requires_grad=True)
    g, = gpugrad.autograd.grad(x.abs().sum(), x, create_graph=True)
    assert g.requires_grad and g.tolist() == [-1.0, 1.0, 1.0]
    second, = gpugrad.autograd.grad(g.sum(), x)
    assert second.tolist() == [0.0, 0.0, 0.0]
    assert gpugrad.sign(x).requires_grad and not gpugrad.sign(x.detach()).requires_grad


def test_sign_requires_grad_and_abs_double_backward_as_torch():
    torch = pytest.importorskip("torch")
    tx = torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64, requires_grad=True)
    tg, = torch.autograd.grad(tx.abs().sum(), tx, create_graph=True)
    t2, = torch.autograd.grad(tg.sum(), tx)
    x = gpugrad.tensor([-1.0, 0.5, 2.0], dtype="float64", requires_grad=True)
    g, = gpugrad.autograd.grad(x.abs().sum(), x, create_graph=True)
    second, = gpugrad.autograd.grad(g.sum(), x)
    assert second.tolist() == t2.detach().clone().tolist()
    assert gpugrad.sign(x).requires_grad == torch.sign(tx).requires_grad
