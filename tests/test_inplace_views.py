"""In-place ops through views of tensors in the graph, and views used after their base changed
in place (ops/view_replay.py): values, gradients and second derivatives against PyTorch in
float64, gradcheck where PyTorch has no counterpart (negative strides), and the errors kept."""

import numpy as np
import pytest

import gpugrad
from gpugrad import func
from gpugrad.ops.view_replay import region

X = [[1.0, -2.0, 3.0], [0.5, 4.0, -1.5], [2.0, 1.0, -3.0], [-0.5, 2.5, 1.5]]


# Each case builds outputs from a (4, 3) tensor x that requires grad, in syntax that gpugrad
# and PyTorch share; ``lib`` is the module (gpugrad or torch).
def _add_row(lib, x):
    y = x * 1
    y[0] += x[1]
    return [y]


def _add_zero_slice(lib, x):
    y = x * 1
    y[1:4] += 0
    return [y]


def _mul_row(lib, x):
    y = x * 1
    y[1].mul_(x[0])
    return [y]


def _clamp_transposed(lib, x):
    y = x * 1
    y.T.clamp_(-1.0, 2.0)
    return [y]


def _setitem_reshaped(lib, x):
    y = x * 1
    y.reshape(2, 6)[1, 1:4] = x[0] * 2
    return [y]


def _chain_slice_row(lib, x):
    y = x * 1
    y[1:][0].add_(x[2] * x[3])
    return [y]


def _chain_transposed_row(lib, x):
    y = x * 1
    y.T[0].mul_(x[:, 1])
    return [y]


def _stale_view(lib, x):
    y = x * 1
    v = y[1:]
    y.mul_(x)
    return [v ** 2]


def _many_views(lib, x):
    y = x * 1
    row, col, t, flat = y[0], y[:, 1], y.T, y.reshape(12)
    row.mul_(x[3])                  # one view written, the others read after
    return [col * 1, t[2] * 3, flat[4:9], row]


def _base_and_view(lib, x):
    y = x * 1
    v = y[2]
    v.sub_(x[1] ** 2)
    v.div_(x[0] + 10)
    return [y, v * v]


def _fill_zero_copy(lib, x):
    y = x * 1
    y[0].fill_(2.0)
    y[:, 2].zero_()
    y[1:3, :2].copy_(x[2:, 1:])
    return [y]


def _view_of_view_then_view(lib, x):
    y = x * 1
    v = y[1:]
    w = v[0]
    w.mul_(x[0])
    v.add_(1.0)
    return [v, w, y]


def _fortran_ordered_base(lib, x):
    y = x.T * 1                       # (gpugrad: a root whose memory is in Fortran order)
    y[1].mul_(x[:, 2])
    y.reshape(12)[::5].add_(x[0])
    return [y]


def _base_not_requiring_grad(lib, x):
    y = lib.zeros(4, 3, dtype=lib.float64)
    y[1].copy_(x[0])
    y[2:].add_(x[:2] * x[2:])
    return [y]


def _imul_slice(lib, x):
    y = x * 1
    y[1:3] *= 2.0
    y[0].mul_(x[0])
    return [y]


def _element_views(lib, x):
    y = x.reshape(12) * 1
    y[3].mul_(x[0, 0])                # y[3] is a 0-d view, as in PyTorch
    y[5] += x[1, 1]
    return [y]


def _stale_view_then_written(lib, x):
    y = x * 1
    v = y[1:]
    y[:2].mul_(x[2:])                # v is out of date, then written through itself
    v.add_(x[:3] ** 2)
    return [y, v ** 3]


def _views_taken_before_base_took_graph(lib, x):
    y = lib.zeros(4, 3, dtype=lib.float64)
    row, col, t, flat = y[1], y[:, 2], y.T, y.reshape(12)
    y.add_(x * x)                     # y takes a graph; its views were taken before
    return [row * 2, col + 1, t[0] ** 2, flat * 3.0, flat[2:5] @ x[0]]


def _view_written_after_base_took_graph(lib, x):
    y = lib.zeros(4, 3, dtype=lib.float64)
    v = y[1:]
    y[0] = x[0]                       # (setitem: y takes a graph)
    read = v + x[1:]                  # v was taken before: made again when used,
    v.add_(x[1:] ** 2)                # then written through (PyTorch refuses a write
    return [y, v, read]               # before the first read, as if v were a leaf)


def _view_of_view_before_base_took_graph(lib, x):
    y = lib.ones(4, 3, dtype=lib.float64)
    w = y[1:][:, ::2]
    y[2].mul_(x[3])                   # y takes a graph through another view
    return [w * x[:3, :2], y]


CASES = [_views_taken_before_base_took_graph, _view_written_after_base_took_graph,
         _view_of_view_before_base_took_graph, _stale_view_then_written, _add_row,
         _add_zero_slice, _mul_row, _clamp_transposed,
         _setitem_reshaped, _chain_slice_row, _chain_transposed_row, _stale_view, _many_views,
         _base_and_view, _fill_zero_copy, _view_of_view_then_view, _fortran_ordered_base,
         _base_not_requiring_grad, _imul_slice, _element_views]


def _run(lib, case, x):
    """The case's outputs, the gradient of a loss over them and the gradient of that
    gradient's square (second order, through create_graph), all as NumPy arrays."""
    outs = case(lib, x)
    loss = sum((o * o * o).sum() for o in outs)
    (g,) = lib.autograd.grad(loss, x, create_graph=True)
    (gg,) = lib.autograd.grad((g * g).sum(), x)
    as_np = (lambda t: t.detach().numpy()) if lib is not gpugrad else (lambda t: t.numpy())
    return [as_np(o) for o in outs], as_np(g), as_np(gg)


@pytest.mark.parametrize("case", CASES, ids=[c.__name__[1:] for c in CASES])
def test_writes_through_views_match_pytorch(device, case):
    torch = pytest.importorskip("torch")
    ours = _run(gpugrad, case, gpugrad.tensor(X, dtype="float64", device=device,
                                              requires_grad=True))
    theirs = _run(torch, case, torch.tensor(X, dtype=torch.float64, requires_grad=True))
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12, atol=1e-12)


def test_first_reported_case_by_hand(device):
    x = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64", device=device,
                       requires_grad=True)
    y = x * 1
    y[0] += x[1]
    assert y.tolist() == [[4.0, 6.0], [3.0, 4.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [2.0, 2.0]]      # row 1 is read twice


def test_stale_view_by_hand(device):
    x = gpugrad.tensor([1.0, 2.0, 3.0], dtype="float64", device=device, requires_grad=True)
    y = x * 1
    v = y[1:]
    y.mul_(2)
    (v ** 2).sum().backward()                # d/dx (2x)^2 = 8x, on x[1:] only
    assert x.grad.tolist() == [0.0, 16.0, 24.0]


def test_view_taken_before_its_base_took_a_graph_by_hand(device):
    w = gpugrad.tensor([1.0, 2.0, 3.0], dtype="float64", device=device, requires_grad=True)
    a = gpugrad.zeros(3, dtype="float64", device=device)
    v = a[1:]
    a.add_(w)                                # v shares a's memory: v = w[1:] now
    assert v.tolist() == [2.0, 3.0]
    (v * v).sum().backward()                 # d/dw sum(w[1:]^2) = 2 w, on w[1:] only
    assert w.grad.tolist() == [0.0, 4.0, 6.0]
    assert v.requires_grad and v.grad_fn is not None


def test_view_taken_under_no_grad_after_its_base_took_a_graph_stays_constant(device):
    w = gpugrad.tensor([1.0, 2.0], dtype="float64", device=device, requires_grad=True)
    a = gpugrad.zeros(2, dtype="float64", device=device)
    a.add_(w)
    with gpugrad.no_grad():
        v = a[1:]
    assert not (v * 2).requires_grad         # as in PyTorch: a constant
    u = gpugrad.zeros(2, dtype="float64", device=device)
    d = u.detach()[:1]                       # detach's views never follow u's graph
    u.add_(w)
    assert not (d * 2).requires_grad and d.tolist() == [1.0]
    whole = gpugrad.zeros(2, dtype="float64", device=device)
    cut = whole.detach()
    whole.mul_(w)
    assert not (cut + 1).requires_grad and not (cut[1:] * 3.0).requires_grad


def test_negative_strides_pass_gradcheck(device):
    def f(x):
        y = x * 1
        y[::-1, ::2].mul_(x[:, :2])          # PyTorch has no negative strides: gradcheck
        y.T[::-2].add_(x.T[::-2] ** 2)
        return y * y

    x = gpugrad.tensor(X, dtype="float64", device=device, requires_grad=True)
    assert gpugrad.gradcheck(f, (x,))
    assert gpugrad.gradgradcheck(f, (x,))


def test_forward_mode_through_a_view_write(device):
    def f(x):
        y = x * 1
        v = y[1:]
        y[:2].mul_(x[1:])                    # y = [x0 x1, x1 x2, x2]
        return v * v                          # [(x1 x2)^2, x2^2]

    x = gpugrad.tensor([1.0, 2.0, 3.0], dtype="float64", device=device)
    out, tangent = func.jvp(f, (x,), (gpugrad.tensor([1.0, 1.0, 1.0], dtype="float64",
                                                       device=device),))
    np.testing.assert_allclose(out.numpy(), [36.0, 9.0])
    # d (x1 x2)^2 = 2 x1 x2 (x2 + x1) = 60; d x2^2 = 2 x2 = 6
    np.testing.assert_allclose(tangent.numpy(), [60.0, 6.0])


def test_inside_func_grad(device):
    def f(x):
        y = x * 1
        y[1:].mul_(x[:2])                     # y = [x0, x0 x1, x1 x2]
        return (y * y).sum()

    x = gpugrad.tensor([1.0, 2.0, 3.0], dtype="float64", device=device)
    g = func.grad(f)(x)
    # d/dx0 = 2 x0 + 2 x0 x1^2, d/dx1 = 2 x0^2 x1 + 2 x1 x2^2, d/dx2 = 2 x1^2 x2
    np.testing.assert_allclose(g.numpy(), [10.0, 40.0, 24.0])


def test_inside_vmap_values_and_grad_of_vmap(device):
    def h(x):
        y = x * 1
        y[1:].mul_(x[:2])
        return y

    xs = gpugrad.tensor([[1.0, 2.0, 3.0], [2.0, -1.0, 0.5]], dtype="float64", device=device)
    np.testing.assert_allclose(func.vmap(h)(xs).numpy(), [[1.0, 2.0, 6.0], [2.0, -2.0, -0.5]])
    g = func.grad(lambda x: func.vmap(h)(x).sum())(xs)
    # sum = x0 + x0 x1 + x1 x2: d/dx0 = 1 + x1, d/dx1 = x0 + x2, d/dx2 = x1
    np.testing.assert_allclose(g.numpy(), [[3.0, 4.0, 2.0], [0.0, 2.5, -1.0]])


def _written_twice(x):
    y = x * 1
    v = y[1:]
    y[:2].mul_(x[1:])
    v.add_(x[:2] ** 2)
    return (y * y).sum() + (v ** 3).sum()


def test_checkpoint_and_compile_give_the_eager_gradient(device):
    from gpugrad.checkpoint import checkpoint
    x = gpugrad.tensor([1.0, 2.0, 3.0], dtype="float64", device=device, requires_grad=True)
    _written_twice(x).backward()
    # y = [x0 x1, x1 x2 + x0^2, x2 + x1^2]; loss = |y|^2 + y1^3 + y2^3, by hand:
    np.testing.assert_allclose(x.grad.numpy(), [330.0, 1131.0, 483.0])
    x.grad = None
    checkpoint(_written_twice, x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [330.0, 1131.0, 483.0])
    step = gpugrad.compile(lambda x: _written_twice(x).backward())
    for _ in range(3):                    # recorded once, then replayed
        x.grad = None
        step(x)
        np.testing.assert_allclose(x.grad.numpy(), [330.0, 1131.0, 483.0])


def test_vmap_of_grad_through_a_view_write_is_refused_clearly(device):
    def f(x):
        y = x * 1
        y[1:].mul_(x[:2])
        return (y * y).sum()

    xs = gpugrad.tensor([[1.0, 2.0, 3.0]], dtype="float64", device=device)
    with pytest.raises(RuntimeError, match="vmap: mul_: writing in place through a view"):
        func.vmap(func.grad(f))(xs)


def test_view_of_a_leaf_requiring_grad_is_refused(device):
    x = gpugrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="view .* of a leaf tensor that requires grad"):
        x[0:1].mul_(2.0)
    with gpugrad.no_grad():
        x[0:1].mul_(2.0)                      # an optimizer-style update is fine
    assert x.tolist() == [2.0, 2.0]


def test_views_made_without_graph_are_refused(device):
    x = gpugrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x * 1
    with gpugrad.no_grad():
        v = y[1:]
    with pytest.raises(RuntimeError, match="under no_grad\\(\\)"):
        v.mul_(x[1:])
    assert y.tolist() == [1.0, 2.0]           # nothing was written


def test_in_place_ops_on_detached_tensors_are_their_own(device):
    x = gpugrad.tensor([1.0, 2.0], dtype="float64", device=device, requires_grad=True)
    w = gpugrad.tensor([3.0, 5.0], dtype="float64", device=device, requires_grad=True)
    y = x * 1
    y.mul_(2.0)                               # (y's views would be made again after this)
    d = y.detach()
    d.add_(w)                                 # recorded on d alone, as in PyTorch
    assert y.tolist() == [5.0, 9.0] and y.grad_fn.name() == "MulScalarBackward"
    d.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0] and x.grad is None
    z = gpugrad.zeros(3, dtype="float64", device=device)
    view = z[1:]
    z.detach().mul_(gpugrad.ones(3, dtype="float64", device=device, requires_grad=True))
    assert not z.requires_grad and not (view * 2).requires_grad


def test_saved_value_changed_through_a_view_is_detected(device):
    torch = pytest.importorskip("torch")
    for lib, x in ((gpugrad, gpugrad.tensor([1.0, 2.0], device=device, requires_grad=True)),
                   (torch, torch.tensor([1.0, 2.0], requires_grad=True))):
        y = x * 1
        z = y * y                             # saves y
        y[0].mul_(2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation|"
                                               "modified by an in-place operation"):
            z.sum().backward()
        y2 = x * 1
        y2[0].mul_(y2[1])                     # mul_ saves the other view, then writes
        with pytest.raises(RuntimeError, match="modified by an inplace operation|"
                                               "modified by an in-place operation"):
            y2.sum().backward()


def test_write_through_view_records_one_node_on_the_base(device):
    x = gpugrad.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    y = x * 1
    v = y[1:]
    before = y._version_value
    v.add_(1.0)
    assert y._version_value == before + 1
    assert y.grad_fn.name() == "SetItemBackward" and v.grad_fn.name() == "GetItemBackward"
    assert v.grad_fn.next_functions[0][0] is y.grad_fn
    assert y.tolist() == [1.0, 3.0, 4.0]


def test_no_graph_writes_through_views_are_unchanged(device):
    y = gpugrad.zeros(2, 3, device=device)
    y.T[1].add_(1.0)
    y[1][::2] = 5.0
    assert y.tolist() == [[0.0, 1.0, 0.0], [5.0, 1.0, 5.0]]
    assert y.grad_fn is None and not y.requires_grad


@pytest.mark.parametrize("make", [
    lambda b: b[1:, ::2], lambda b: b.T[::-1], lambda b: b[..., 2], lambda b: b[None, 1, 1:3],
    lambda b: (b if b.flags.c_contiguous else b.T).reshape(-1)[3:10:3],
    lambda b: b[2, 1], lambda b: b[:0],
], ids=["strided", "reversed", "column", "newaxis", "flat", "element", "empty"])
@pytest.mark.parametrize("layout", ["C", "F", "reversed"])
def test_region_picks_the_views_elements(make, layout):
    base = np.arange(20.0).reshape(4, 5)
    base = {"C": base, "F": np.asfortranarray(base), "reversed": base[::-1, ::-1]}[layout]
    view = make(base)
    if view.size and not np.shares_memory(view, base):
        pytest.skip("NumPy copied: no view to read")
    parts = region(view, base)
    np.testing.assert_array_equal(base[parts], view)
    assert base[parts].shape == view.shape


def test_region_refuses_what_it_cannot_read():
    base = np.arange(6.0)
    assert region(np.arange(6.0)[1:], base) is None             # another buffer
    assert region(base.view(np.int64)[1:], base) is None        # another dtype


def test_an_expanded_view_made_again_adds_its_repeated_gradients():
    """v = y expanded to 2 rows, y doubled in place: sum(v^2) = 2 sum((2x)^2), whose
    gradient is 16 x; each repeated element's gradient counts (not the last one only)."""
    x = gpugrad.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    y = x * 1
    v = y.unsqueeze(0).expand(2, 3)
    y.mul_(2)
    (v ** 2).sum().backward()
    assert x.grad.tolist() == [16.0, 32.0, 48.0]
