"""Habits from PyTorch's "Autograd mechanics" notes: saved-tensor attributes on grad_fn
(``_saved_self``, ``_raw_saved_self.register_hooks``), ``register_multi_grad_hook`` and
``increment_version``. Values checked by hand in float64; against torch 2.13 where installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad.autograd.graph import increment_version, register_multi_grad_hook


def leaf(values):
    return gpugrad.tensor(values, dtype="float64", requires_grad=True)


def raises_text(fn):
    try:
        fn()
    except Exception as e:              # noqa: BLE001  (the test compares what was raised)
        return type(e).__name__
    return None


# ------------------------------------------------------------------ saved tensors


def test_saved_self_is_the_input_and_saved_result_a_new_tensor_of_the_output():
    """The notes' examples: x.pow(2) keeps x itself; x.exp() keeps its output's value (a
    different object, as PyTorch's)."""
    x = leaf([1.0, 2.0, 3.0])
    y = x.pow(2)
    assert y.grad_fn._saved_self is x and y.grad_fn._saved_exponent == 2
    z = x.exp()
    saved = z.grad_fn._saved_result
    assert saved is not z and np.array_equal(saved.numpy(), np.exp([1.0, 2.0, 3.0]))
    assert saved.grad_fn is z.grad_fn
    assert not hasattr(z.grad_fn, "_saved_self")        # exp keeps its output only
    with pytest.raises(AttributeError, match="_saved_self.*it keeps _saved_result"):
        z.grad_fn._saved_self


def test_torchs_names_for_the_common_ops():
    x, w = leaf([1.0, 2.0, 3.0]), leaf([0.5, -1.0, 2.0])
    m, n = leaf(np.arange(6.0).reshape(2, 3)), leaf(np.ones((3, 2)))
    y = x * w
    assert y.grad_fn._saved_self is x and y.grad_fn._saved_other is w
    assert y.grad_fn._raw_saved_other is not None
    by_two = (x * 2).grad_fn
    assert by_two._saved_self is None and by_two._saved_other.item() == 2   # torch: tensor(2)
    assert not hasattr(by_two, "_raw_saved_other")          # a number, not a saved tensor
    assert (x / w).grad_fn._saved_other is w                # (div keeps other and result)
    assert np.array_equal((x / w).grad_fn._saved_result.numpy(), [2.0, -2.0, 1.5])
    assert not hasattr((x / w).grad_fn, "_saved_self")
    for fn in (gpugrad.tanh, gpugrad.sigmoid):
        assert np.allclose(fn(x).grad_fn._saved_result.numpy(), fn(x).detach().numpy())
    power = x ** w
    assert power.grad_fn._saved_self is x and power.grad_fn._saved_exponent is w
    assert (m @ n).grad_fn._saved_self is m and (m @ n).grad_fn._saved_mat2 is n
    assert (m @ w).grad_fn._saved_vec is w and (x @ w).grad_fn._saved_tensor is w
    assert m.sum(0).grad_fn._saved_dim == (0,) and m.sum(0).grad_fn._saved_keepdim is False
    assert m.sum().grad_fn._saved_self_sym_sizes == (2, 3)
    assert not hasattr(m.sum().grad_fn, "_saved_dim")       # (torch's SumBackward0)
    assert m.mean((0, 1)).grad_fn._saved_self_sym_numel == 6
    assert x.clamp(-1.0, 1.0).grad_fn._saved_min == -1.0
    assert x.softmax(0).grad_fn._saved_dim == 0
    assert not hasattr((x * 1).grad_fn.next_functions[0][0], "_saved_self")   # a leaf's
    assert x.log().grad_fn._saved_self is x and not hasattr(x.log().grad_fn, "_saved_other")


def test_the_names_and_values_agree_with_torch():
    torch = pytest.importorskip("torch")
    values = [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]
    cases = {"mul": lambda a, b: a * b, "pow": lambda a, b: a ** 2, "exp": lambda a, b: a.exp(),
             "tanh": lambda a, b: a.tanh(), "sigmoid": lambda a, b: a.sigmoid(),
             "dot": lambda a, b: a @ b, "mm": lambda a, b: a[:, None] @ b[None, :],
             "sum": lambda a, b: a.reshape(3, 1).sum(0), "log": lambda a, b: a.log()}
    for name, f in cases.items():
        ours = f(*(leaf(v) for v in values)).grad_fn
        theirs = f(*(torch.tensor(v, dtype=torch.float64, requires_grad=True)
                     for v in values)).grad_fn
        names = [n for n in dir(theirs) if n.startswith("_saved_") and "sym_" not in n
                 and "strides" not in n]
        assert names, name
        for attr in names:
            got, want = getattr(ours, attr), getattr(theirs, attr)
            if isinstance(want, torch.Tensor):
                np.testing.assert_allclose(got.numpy(), want.detach().numpy(), err_msg=attr)
            else:
                assert got == want, (name, attr)


def test_raw_saved_hooks_pack_at_once_and_unpack_when_read():
    """The notes' example: pack multiplies by 4, so the gradient is 2 * (4x)."""
    x = leaf([1.0, 2.0, 3.0])
    y = x.pow(2)
    calls = []
    y.grad_fn._raw_saved_self.register_hooks(
        lambda t: calls.append("pack") or t * 4, lambda t: calls.append("unpack") or t)
    assert calls == ["pack"]
    assert y.grad_fn._saved_self.tolist() == [4.0, 8.0, 12.0] and calls[-1] == "unpack"
    y.sum().backward()
    assert x.grad.tolist() == [8.0, 16.0, 24.0]
    assert calls.count("unpack") == 2


def test_raw_saved_hooks_on_an_output_and_their_errors():
    x = leaf([0.0, 1.0])
    y = x.exp()
    packed = []
    y.grad_fn._raw_saved_result.register_hooks(
        lambda t: packed.append(t.tolist()) or t.numpy().copy(), gpugrad.tensor)
    assert packed == [[1.0, float(np.e)]]
    with pytest.raises(RuntimeError, match="hooks have already been set"):
        y.grad_fn._raw_saved_result.register_hooks(lambda t: t, lambda t: t)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]))
    z = x.pow(2)
    z.grad_fn._raw_saved_self.register_hooks(lambda t: "packed", lambda p: p)
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
        z.grad_fn._saved_self
    with pytest.raises(TypeError, match="two functions"):
        x.pow(2).grad_fn._raw_saved_self.register_hooks(1, 2)


def test_saved_values_after_backward_raise_the_freed_graph_error():
    x = leaf([1.0, 2.0])
    y = x.pow(3)
    raw = y.grad_fn._raw_saved_self
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.grad_fn._saved_self
    assert y.grad_fn._saved_exponent == 3             # a number stays readable, as in torch
    with pytest.raises(RuntimeError, match="after it has been freed"):
        raw.register_hooks(lambda t: t, lambda t: t)
    kept = x.pow(3)
    kept.sum().backward(retain_graph=True)
    assert kept.grad_fn._saved_self is x


def test_freed_saved_values_behave_as_torchs():
    torch = pytest.importorskip("torch")
    for lib, make in ((gpugrad, leaf),
                      (torch, lambda v: torch.tensor(v, dtype=torch.float64,
                                                     requires_grad=True))):
        x = make([1.0, 2.0])
        y = x.pow(3)
        raw = y.grad_fn._raw_saved_self
        y.sum().backward()
        assert raises_text(lambda: y.grad_fn._saved_self) == "RuntimeError", lib
        assert raises_text(lambda: raw.register_hooks(lambda t: t, lambda t: t)) == \
            "RuntimeError"
        assert raises_text(lambda: x.exp().grad_fn._saved_self) == "AttributeError"


# ------------------------------------------------------------------ multi-grad hooks


def grads_seen(log):
    return lambda gs: log.append([None if g is None else g.tolist() for g in gs])


def test_multi_grad_hook_all_mode_per_pass():
    """PyTorch's docstring example: c = a * b, d = a * b; None for what a pass does not
    reach, and for what leads to none of backward's inputs."""
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    c, d = a * b, a * b
    log = []
    handle = register_multi_grad_hook((a, b, c, d), grads_seen(log))
    c.sum().backward(retain_graph=True)
    assert log == [[[3.0, 4.0], [1.0, 2.0], [1.0, 1.0], None]]
    c.sum().backward(inputs=(a,), retain_graph=True)
    assert log[1] == [[3.0, 4.0], None, [1.0, 1.0], None]
    gpugrad.autograd.grad(c.sum(), b, retain_graph=True)
    assert log[2] == [None, [1.0, 2.0], [1.0, 1.0], None]
    (c.sum() + d.sum()).backward(retain_graph=True)
    assert log[3] == [[6.0, 8.0], [2.0, 4.0], [1.0, 1.0], [1.0, 1.0]]
    handle.remove()
    c.sum().backward()
    assert len(log) == 4


def test_multi_grad_hook_any_mode_and_errors():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    log = []
    with register_multi_grad_hook((a, b, gpugrad.ones(2)), log.append, mode="any"):
        (a * 2 + b * 3).sum().backward()
        assert len(log) == 1 and log[0].tolist() in ([2.0, 2.0], [3.0, 3.0])
        (a * 2).sum().backward()
        assert len(log) == 2 and log[1].tolist() == [2.0, 2.0]
    (a * 2).sum().backward()
    assert len(log) == 2                                  # removed on leaving the with
    with pytest.raises(ValueError, match="one of \\('all', 'any'\\)"):
        register_multi_grad_hook((a,), print, mode="every")
    with pytest.raises(RuntimeError, match="tensor 1 .* does not require grad"):
        register_multi_grad_hook((a, gpugrad.ones(2)), print)


def test_multi_grad_hook_agrees_with_torch():
    torch = pytest.importorskip("torch")
    logs = []
    for lib, make in ((gpugrad, leaf),
                      (torch, lambda v: torch.tensor(v, dtype=torch.float64,
                                                     requires_grad=True))):
        a, b = make([1.0, 2.0]), make([3.0, 4.0])
        c, d = a * b, a * b
        log = []
        lib.autograd.graph.register_multi_grad_hook((a, b, c, d), grads_seen(log))
        c.sum().backward(retain_graph=True)
        c.sum().backward(inputs=(a,), retain_graph=True)
        (c * d).sum().backward(retain_graph=True)
        logs.append(log)
    assert logs[0] == logs[1]


# ------------------------------------------------------------------ increment_version


def test_increment_version_makes_a_saved_value_stale():
    x = leaf([1.0, 2.0])
    y = x * x
    before = x._version
    increment_version(x)
    assert x._version == before + 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()
    u, v = leaf([1.0]), leaf([2.0])
    increment_version([u, v])
    assert (u._version, v._version) == (1, 1)
    with gpugrad.inference_mode():
        frozen = gpugrad.ones(2)
    increment_version(frozen)                   # an inference tensor is skipped, as in torch
    assert frozen._version == 0
