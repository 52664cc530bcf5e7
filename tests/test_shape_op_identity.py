"""Shape ops that change nothing (a reshape to the same shape, an identity permute, the
transpose of a vector...) still return a new tensor with its own place in the graph, as
PyTorch's do: a hook or ``retain_grad()`` on the result acts on the result, never on its
input. (They once returned the input object itself, so ``y.register_hook`` doubled the
gradient of every use of ``x``, not only of ``y``.)

The expected gradients are written out by hand: with ``loss = (y * c).sum() + x.sum()`` and a
hook doubling y's gradient, ``x.grad = 2 c + 1`` (the op moves no element, so c lines up with
x); without the hook, ``y.grad = c`` and ``x.grad = c + 1``."""

import numpy as np
import pytest

import gpugrad

VECTOR = [1.0, 2.0]
MATRIX = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
ROW = [[1.0, 2.0, 3.0]]

# (name, input values, the op): each op leaves shape and element order as they are
NO_CHANGE_OPS = [
    ("reshape_same", VECTOR, lambda x: x.reshape(2)),
    ("reshape_inferred_same", MATRIX, lambda x: x.reshape(2, -1)),
    ("reshape_function_tuple", MATRIX, lambda x: gpugrad.reshape(x, (2, 3))),
    ("view_same", VECTOR, lambda x: x.view(2)),
    ("view_minus_one_of_vector", VECTOR, lambda x: x.view(-1)),
    ("expand_same", VECTOR, lambda x: x.expand(2)),
    ("expand_minus_ones", MATRIX, lambda x: x.expand(-1, -1)),
    ("broadcast_to_same", MATRIX, lambda x: gpugrad.broadcast_to(x, (2, 3))),
    ("permute_identity", MATRIX, lambda x: x.permute(0, 1)),
    ("permute_function_identity", MATRIX, lambda x: gpugrad.permute(x, (0, 1))),
    ("transpose_same_axis", MATRIX, lambda x: x.transpose(1, 1)),
    ("transpose_of_vector", VECTOR, lambda x: gpugrad.transpose(x)),
    ("transpose_of_0d", 3.0, lambda x: gpugrad.transpose(x)),
    ("T_of_vector", VECTOR, lambda x: x.T),
    ("T_of_0d", 3.0, lambda x: x.T),
    ("t_of_vector", VECTOR, lambda x: x.t()),
    ("t_of_0d", 3.0, lambda x: x.t()),
    ("movedim_to_itself", MATRIX, lambda x: gpugrad.movedim(x, 1, 1)),
    ("movedim_of_0d", 3.0, lambda x: gpugrad.movedim(x, 0, 0)),
    ("squeeze_nothing_to_remove", MATRIX, lambda x: x.squeeze()),
    ("squeeze_axis_not_one", ROW, lambda x: x.squeeze(1)),
    ("squeeze_dim_not_one", MATRIX, lambda x: gpugrad.squeeze(x, dim=0)),
    ("flatten_of_vector", VECTOR, lambda x: x.flatten()),
    ("flatten_one_axis", MATRIX, lambda x: x.flatten(1)),
    ("flatten_start_equals_end", MATRIX, lambda x: gpugrad.flatten(x, 0, 0)),
    ("numpy_reshape_same", MATRIX, lambda x: np.reshape(x, (2, 3))),
    ("numpy_transpose_of_vector", VECTOR, lambda x: np.transpose(x)),
]
PARAMS = [pytest.param(values, op, id=name) for name, values, op in NO_CHANGE_OPS]


def weights_like(values) -> np.ndarray:
    """c: 3, 5, 7, ... in the shape of ``values`` (distinct, so a misplaced one shows)."""
    shape = np.shape(values)
    return (3.0 + 2.0 * np.arange(int(np.prod(shape)))).reshape(shape)


@pytest.mark.parametrize("values, op", PARAMS)
def test_result_is_a_new_tensor_with_the_same_values(values, op, device):
    for requires_grad in (False, True):
        x = gpugrad.tensor(values, dtype="float64", device=device, requires_grad=requires_grad)
        y = op(x)
        assert y is not x
        assert tuple(y.shape) == np.shape(values)
        np.testing.assert_array_equal(y.numpy(), values)
        assert (y.grad_fn is not None) == requires_grad     # its own node when recording
        assert not y.is_leaf if requires_grad else y.is_leaf


@pytest.mark.parametrize("values, op", PARAMS)
def test_hook_on_result_changes_only_the_gradient_through_it(values, op, device):
    x = gpugrad.tensor(values, dtype="float64", device=device, requires_grad=True)
    y = op(x)
    y.register_hook(lambda g: g * 2)
    c = weights_like(values)
    ((y * gpugrad.tensor(c, device=device)).sum() + x.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * c + 1)    # not 2 (c + 1)


@pytest.mark.parametrize("values, op", PARAMS)
def test_retain_grad_on_result_keeps_its_own_gradient(values, op, device):
    x = gpugrad.tensor(values, dtype="float64", device=device, requires_grad=True)
    y = op(x)
    y.retain_grad()
    c = weights_like(values)
    ((y * gpugrad.tensor(c, device=device)).sum() + x.sum()).backward()
    np.testing.assert_array_equal(y.grad.numpy(), c)            # not x's c + 1
    np.testing.assert_array_equal(x.grad.numpy(), c + 1)


@pytest.mark.parametrize("values, op", PARAMS)
def test_result_is_a_view_sharing_memory(values, op):
    x = gpugrad.tensor(values, dtype="float64")
    y = op(x)
    assert np.shares_memory(y.numpy(), x.numpy())


def test_the_issue_example():
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    y = x.reshape(2)
    y.register_hook(lambda g: g * 2)
    ((y * 1).sum() + x.sum()).backward()
    assert x.grad.tolist() == [3.0, 3.0]                # PyTorch gives [3, 3]


def test_writes_through_a_same_shape_expand_reach_the_input():
    """A same-shape expand is an ordinary writable view (as PyTorch's), not a read-only
    broadcast."""
    x = gpugrad.tensor([1.0, 2.0])
    y = x.expand(2)
    y[0] = 7.0
    assert x.tolist() == [7.0, 2.0]


def test_conversions_that_change_nothing_return_the_tensor_itself_as_pytorch():
    """PyTorch's ``.to()``, ``.float()``/``.double()`` and unary ``+`` return ``self`` when
    nothing changes, and so do gpugrad's; ``detach`` and ``clone`` always give new tensors."""
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    d = gpugrad.tensor([1.0, 2.0], dtype="float64")
    assert x.to("cpu") is x and x.to(gpugrad.float32) is x and x.float() is x
    assert d.double() is d and x.astype("float32") is x and (+x) is x
    assert x.detach() is not x and x.clone() is not x
