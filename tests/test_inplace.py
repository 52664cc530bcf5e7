"""In-place ops: version counters, the errors they raise, and the recorded path."""

import numpy as np
import pytest

import gpugrad
from gpugrad import autograd


def leaf(values, device):
    return gpugrad.tensor(values, dtype="float64", device=device, requires_grad=True)


@pytest.mark.parametrize("op", [
    lambda t: t.add_(1.0), lambda t: t.sub_(1.0), lambda t: t.mul_(2.0), lambda t: t.div_(2.0),
    lambda t: t.zero_(), lambda t: t.fill_(3.0), lambda t: t.__iadd__(1.0),
    lambda t: t.__setitem__(0, 5.0), lambda t: t.copy_(gpugrad.ones_like(t)),
], ids=["add_", "sub_", "mul_", "div_", "zero_", "fill_", "+=", "setitem", "copy_"])
def test_every_inplace_op_bumps_the_version(device, op):
    t = gpugrad.tensor([1.0, 2.0], device=device)
    before = t._version_value
    op(t)
    assert t._version_value == before + 1


def test_inplace_values(device):
    t = gpugrad.tensor([1.0, 2.0, 3.0], device=device)
    t += 1
    t *= gpugrad.tensor([1.0, 2.0, 3.0], device=device)
    t.sub_(gpugrad.ones(3, device=device), alpha=2)
    t.div_(2)
    t[1] = -1.0
    t[gpugrad.tensor([True, False, False], device=device)] = 10.0
    np.testing.assert_allclose(t.numpy(), [10.0, -1.0, 5.0])
    assert t.dtype == gpugrad.float32


def test_modified_saved_value_is_detected_with_details(device):
    a = leaf([1.0, 2.0], device)
    b = a * 2
    c = b * b                      # saves b
    b.add_(1)
    with pytest.raises(RuntimeError) as info:
        c.sum().backward()
    message = str(info.value)
    for needed in ("MulBackward", "shape (2,)", "float64", "version 1", "expected version 0"):
        assert needed in message


def test_views_share_the_version_counter(device):
    a = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64", device=device)
    w = leaf([1.0, 1.0], device)
    row = a[0]
    y = (row * w).sum()          # saves the view `row`
    a[0, 1] = 7.0                # writes through the base
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_leaf_requiring_grad_cannot_be_modified_in_place(device):
    w = leaf([1.0, 2.0], device)
    with pytest.raises(RuntimeError, match="no_grad"):
        w += 1
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 3.0
    with gpugrad.no_grad():
        w -= 0.5                  # an optimizer-style update
    np.testing.assert_allclose(w.numpy(), [0.5, 1.5])
    assert w.requires_grad and w.is_leaf


def test_recorded_inplace_on_non_leaf_gives_right_gradients(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = x * 2
    y.mul_(x)                     # y = 2 x^2
    y.add_(x)                     # y = 2 x^2 + x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.array([1.0, 2.0, 3.0]) + 1)
    assert y.grad_fn.name() == "AddBackward"


def test_setitem_gradients_flow_to_both_tensors(device):
    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    v = leaf([10.0, 20.0], device)
    y = x * 1.0
    y[1:3] = v * v
    (y * gpugrad.tensor([1.0, 2.0, 3.0, 4.0], dtype="float64", device=device)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0, 0.0, 4.0])   # overwritten: no grad
    np.testing.assert_allclose(v.grad.numpy(), [2 * 10.0 * 2, 2 * 20.0 * 3])


def test_setitem_is_differentiable_twice(device):
    x = leaf([0.5, 1.5], device)

    def f(x):
        y = x * x
        y[0] = x[1] ** 3
        return y

    assert gpugrad.gradcheck(f, (x,))
    assert gpugrad.gradgradcheck(f, (x,))


def test_inplace_on_view_of_tensor_requiring_grad_is_recorded(device):
    x = leaf([1.0, 2.0], device)
    y = x * 1.0
    view = y[0:1]
    view.mul_(2.0)                    # y's node becomes "y[0:1] = 2 y[0:1]" (CopySlices)
    assert y.tolist() == [2.0, 2.0] and y.grad_fn.name() == "SetItemBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 1.0])
    with pytest.raises(RuntimeError, match="view .* of a leaf tensor that requires grad"):
        x[0:1].mul_(2.0)              # a view of a leaf is refused, as in PyTorch


def test_inplace_dtype_and_shape_errors(device):
    t = gpugrad.tensor([1, 2], device=device)
    with pytest.raises(TypeError, match="int64 tensor in place"):
        t += 1.5
    f = gpugrad.zeros(2, device=device)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        f += gpugrad.ones(3, 2, device=device)


def test_detach_shares_memory_and_version(device):
    x = leaf([1.0, 2.0], device)
    y = x.exp()                       # saves its output
    d = y.detach()
    d.zero_()
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


def test_data_is_an_untracked_alias(device):
    w = leaf([1.0, 2.0], device)
    w.data.mul_(3.0)                  # PyTorch's w.data idiom: allowed, not recorded
    np.testing.assert_allclose(w.numpy(), [3.0, 6.0])
    (g,) = autograd.grad((w * w).sum(), w)
    np.testing.assert_allclose(g.numpy(), [6.0, 12.0])


def test_recorded_fill_and_copy_do_not_turn_inf_into_nan(device):
    x = gpugrad.tensor([np.inf, 1.0, np.nan], dtype="float64", device=device,
                       requires_grad=True)
    y = x * 1.0
    y.fill_(2.0)
    assert y.tolist() == [2.0, 2.0, 2.0]
    z = x * 1.0
    src = leaf([5.0], device)
    z.copy_(src)                       # broadcast (1,) -> (3,)
    assert z.tolist() == [5.0, 5.0, 5.0]
    z.sum().backward()
    assert src.grad.tolist() == [3.0] and x.grad.tolist() == [0.0, 0.0, 0.0]


def test_square_in_place_uses_the_old_value_twice(device):
    x = leaf([1.0, 3.0], device)
    y = x * 1.0
    y *= y
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 6.0])


def test_view_taken_before_a_recorded_inplace_op_is_made_again(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = x * 1.0
    v = y[:2]
    y.mul_(2.0)
    v.sum().backward()                # v's graph is made again from y's new one
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 0.0])
    w = y[1:]
    y.add_(1.0)
    y.data = gpugrad.zeros(3, dtype="float64", device=device)
    with pytest.raises(RuntimeError, match="view.*out of date"):
        w.sum()                       # its base's memory was replaced: cannot be made again


def test_index_tensors_are_copied(device):
    x = leaf([1.0, 2.0, 3.0], device)
    index = gpugrad.tensor([0, 1], device=device)
    y = x[index]
    index[0] = 2
    y.backward(gpugrad.tensor([1.0, 10.0], dtype="float64", device=device))
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 10.0, 0.0])


def test_inplace_ops_carry_forward_mode_tangents(device):
    import gpugrad.autograd.forward_ad as fwAD
    with fwAD.dual_level():
        x = fwAD.make_dual(gpugrad.tensor([1.0, 2.0], dtype="float64", device=device),
                           gpugrad.tensor([1.0, 1.0], dtype="float64", device=device))
        y = x * 1.0
        y.mul_(3.0)
        assert fwAD.unpack_dual(y).tangent.tolist() == [3.0, 3.0]
        z = gpugrad.zeros(2, dtype="float64", device=device)
        z[0] = x[1]
        assert fwAD.unpack_dual(z).tangent.tolist() == [1.0, 0.0]


def test_accumulating_into_grad_bumps_its_version(device):
    # backward adds a second gradient into .grad's own buffer: an in-place write, so a graph
    # that saved that .grad must refuse to use it (not give a silently wrong gradient)
    w = leaf([1.0, 2.0], device)
    (w * w).sum().backward()
    grad = w.grad
    before = grad._version_value
    saved = (w * grad).sum()                    # Mul saves grad for d/dw
    (w * 3.0).sum().backward()                  # grad += 3, in its buffer
    assert w.grad is grad and grad._version_value == before + 1
    np.testing.assert_allclose(grad.numpy(), [5.0, 7.0])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        saved.backward()


def test_the_fused_layer_adding_into_grad_bumps_its_version(device):
    from gpugrad.nn import functional as F
    x = gpugrad.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], dtype="float64", device=device)
    w = leaf(np.full((2, 3), 0.5), device)
    b = leaf([0.5, -0.5], device)
    F.linear_relu(x, w, b).sum().backward()
    first_w, first_b = w.grad.numpy().copy(), b.grad.numpy().copy()
    saved = (w * w.grad).sum() + (b * b.grad).sum()
    versions = w.grad._version_value, b.grad._version_value
    F.linear_relu(x, w, b).sum().backward()     # the rule adds into w.grad and b.grad
    assert w.grad._version_value > versions[0] and b.grad._version_value > versions[1]
    np.testing.assert_allclose(w.grad.numpy(), 2 * first_w)
    np.testing.assert_allclose(b.grad.numpy(), 2 * first_b)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        saved.backward()


def test_a_graph_saving_a_copy_of_grad_is_unaffected(device):
    w = leaf([1.0, 2.0], device)
    (w * w).sum().backward()
    z = gpugrad.ones(2, dtype="float64", device=device, requires_grad=True)
    saved = (w.grad.clone() * z).sum()          # Mul saves the copy for d/dz
    (w * w).sum().backward()                    # w.grad becomes [4, 8] in its buffer
    saved.backward()                            # the copy still holds [2, 4]
    np.testing.assert_allclose(z.grad.numpy(), [2.0, 4.0])
    np.testing.assert_allclose(w.grad.numpy(), [4.0, 8.0])
