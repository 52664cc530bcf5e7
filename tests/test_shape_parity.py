"""Shape and selection functions against PyTorch 2.13's semantics: squeeze/unsqueeze/
transpose/flatten/expand/cat dimension checks, movedim, the error classes (RuntimeError or
IndexError as torch, still ValueError for older callers), and masked.py's and splitting.py's
functions (hand values, gradcheck in float64, torch where installed)."""

import types

import numpy as np
import pytest

import gpugrad
from gpugrad.ops import masked as M
from gpugrad.ops import shape as S
from gpugrad.ops import splitting as P
from gradient_checks import check_grads

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3, 4))

# gpugrad's namespace as the probes see it (the new names are exported from gpugrad later)
G = types.SimpleNamespace(**{n: getattr(gpugrad, n) for n in dir(gpugrad)
                             if not n.startswith("_")})
for _module in (M, P, S):
    for _name in _module.__all__:
        setattr(G, _name, getattr(_module, _name))

# Each probe runs with T = torch and T = gpugrad; values, shapes and the error class must
# agree (gpugrad's error must be an instance of torch's class).
PROBES = [
    "T.tensor(3.).squeeze(0)", "T.tensor(3.).squeeze(-1)", "T.tensor(3.).squeeze(1)",
    "T.ones(2, 1).squeeze(7)", "x.squeeze((0, 1))", "x.squeeze((1, 1))", "x.squeeze([1, -2])",
    "x.squeeze(())", "x.squeeze((5,))", "T.tensor(3.).squeeze(())", "x.squeeze(dim=1)",
    "x.unsqueeze(4)", "x.unsqueeze(-5)", "x.unsqueeze(1.5)", "T.tensor(1.).unsqueeze(-1)",
    "x.reshape(5, -1)", "x.reshape(-1, -1)", "x.view(4, 2)", "x.permute(0, 1)",
    "x.permute(0, 1, 1)", "x.permute(0, 1, 5)", "x.transpose(0, 5)", "x.transpose(-4, 0)",
    "T.ones(3).transpose(0, -1)", "T.tensor(1.).transpose(0, 0)",
    "x.flatten(2, 0)", "x.flatten(0, 5)", "x.flatten(1)", "T.tensor(1.).flatten(0, 0)",
    "T.tensor(1.).flatten(0, 1)", "x.expand(3, 3)", "x.expand(-1, 4, -1)",
    "x.expand(4, -1, 5, 3)", "x.expand(-1, 2, 1, 3)", "T.cat([x, T.ones(2, 2)])",
    "T.cat([x, T.ones(2, 2, 2)])", "T.cat([x, x], 3)", "T.cat([x, x], -1)",
    "T.cat([T.tensor(1.)])", "T.stack([x, T.ones(2)])", "T.stack([x], 4)",
    "x.movedim(0, 5)", "T.movedim(x, (0, 1), (1, 0))", "T.movedim(x, (0, 1), (2, 0))",
    "T.movedim(x, (0, 1), (0,))", "x.movedim((0, 0), (0, 1))", "T.moveaxis(x, 0, 2)",
    "x.moveaxis(-1, 0)", "x.T", "x.mT", "T.ones(2, 3).mH", "T.ones(2, 3).H", "x.H",
    "T.ones(3).H", "T.ones(2, 3).adjoint()",
    "x.split(0)", "x.split(-1)", "x.chunk(0)", "T.ones(5).chunk(4)", "T.ones(6).chunk(4)",
    "x.repeat(2)", "x.index_select(0, T.tensor([[0]]))", "x.index_select(0, T.tensor([0.]))",
    "x.gather(0, T.tensor([[[0]]]).float())", "x.gather(0, T.tensor([0]))",
    "x.masked_fill(T.ones(3), 0)", "T.mm(T.ones(2), T.ones(2, 2))",
    "T.bmm(T.ones(2, 2, 2), T.ones(3, 2, 2))", "x.narrow(0, 1, 2)", "x.flip(0, 0)",
    "x.roll((1, 2), (0,))", "T.tril(T.ones(3))", "T.ones(3).fliplr()",
    "T.meshgrid(T.ones(2, 2))", "T.rot90(x, 1, (0, 0))",
    # masked.py
    "T.repeat_interleave(y, 2)", "y.repeat_interleave(2, dim=0)",
    "y.repeat_interleave(T.tensor([1, 2, 0]), dim=1)", "y.repeat_interleave(T.tensor([2]), 1)",
    "y.repeat_interleave(T.tensor([1, 2]), dim=1)", "T.repeat_interleave(T.tensor([1, 2, 3]))",
    "y.repeat_interleave(-1)", "y.repeat_interleave(T.tensor([1, -1]), 0)",
    "y.repeat_interleave(2, dim=0, output_size=4)", "y.repeat_interleave(2, 0, output_size=5)",
    "y.repeat_interleave(T.tensor([2, 1]), 0, output_size=3)", "T.tensor(3.).repeat_interleave(2)",
    "y.repeat_interleave(T.tensor(2), 1)", "y.repeat_interleave(2, dim=3)",
    "y.masked_select(y > 2)", "y.masked_select(T.tensor([True, False, True]))",
    "T.ones(3).masked_select(T.tensor([[True], [False]]))", "y.masked_select(y)",
    "T.masked_select(T.tensor(2.), T.tensor(True))",
    "y.masked_scatter(y > 2, T.tensor([10., 20, 30, 40]))",
    "y.masked_scatter(y > 2, T.tensor([10., 20]))",
    "y.masked_scatter(T.tensor([True, False, True]), T.arange(10.))",
    "T.ones(3).masked_scatter(T.tensor([[True], [False]]), T.arange(10.))",
    "y.masked_scatter(y > 2, T.tensor([10, 20, 30, 40]))",
    "y.masked_scatter(y > 2, T.tensor([[10., 20], [30, 40]]))",
    "y.masked_scatter(y > 9, T.zeros(0))",
    "y.index_fill(1, T.tensor([0, 2]), -1)", "y.index_fill(1, T.tensor([0, 0]), -1)",
    "y.index_fill(1, T.tensor([[0]]), -1)", "y.index_fill(1, T.tensor(1), T.tensor(5.))",
    "y.index_fill(1, T.tensor([5]), 1)", "y.index_fill(1, T.tensor([-1]), 1)",
    "y.index_fill(1, T.tensor([1]), T.tensor([5.]))",
    "T.arange(3).index_fill(0, T.tensor([1]), 2.7)",
    "T.tensor(2.).index_fill(0, T.tensor([0]), 1.)", "y.index_fill(2, T.tensor([0]), 1.)",
    "y.index_put((T.tensor([0, 0]), T.tensor([1, 1])), T.tensor([5., 5.]))",
    "y.index_put((T.tensor([0, 0]), T.tensor([1, 1])), T.tensor([5., 6.]), accumulate=True)",
    "y.index_put((T.tensor([1]),), T.tensor(9.))", "y.index_put((y > 3,), T.tensor(9.))",
    "y.index_put([T.tensor([1])], T.tensor([7., 8., 9.]))",
    "y.index_put((T.tensor([1]),), T.tensor([7, 8, 9]))",
    "y.index_put((T.tensor([1]),), T.tensor([7., 8.]))",
    "y.index_put((T.tensor([1, 1]), T.tensor([0, 0])), T.tensor(2.), accumulate=True)",
    "y.clone().index_put_((T.tensor([1]),), T.tensor(9.))",
    "y.clone().index_fill_(0, T.tensor([1]), 3.)",
    "y.clone().masked_scatter_(y > 2, T.tensor([7., 8., 9.]))",
    # splitting.py
    "T.tensor_split(T.arange(7), 3)", "T.tensor_split(T.arange(7), [1, 5])",
    "T.tensor_split(T.arange(7), (5, 1))", "T.tensor_split(T.arange(7), [1, 10])",
    "T.tensor_split(T.arange(7), T.tensor(3))", "T.tensor_split(T.arange(7), T.tensor([2, 4]))",
    "T.tensor_split(y, 2, dim=1)", "T.tensor_split(T.arange(7), 0)",
    "T.tensor_split(T.arange(7), [-2])", "T.tensor_split(T.arange(2), 4)",
    "T.tensor_split(T.tensor(1.), 2)", "y.tensor_split(indices=[1], dim=1)",
    "y.tensor_split(sections=3, dim=1)", "y.tensor_split(2, 1)",
    "T.hsplit(y, 3)", "T.hsplit(y, 2)", "T.hsplit(T.arange(6), 2)", "T.hsplit(y, [1])",
    "y.hsplit(3)", "T.vsplit(y, 2)", "T.vsplit(T.arange(4), 2)", "T.dsplit(y, 1)",
    "T.dsplit(T.ones(1, 2, 4), [3])", "T.atleast_1d(T.tensor(1.))",
    "T.atleast_1d(T.tensor(1.), T.ones(2))", "T.atleast_1d([T.tensor(1.), T.ones(2)])",
    "T.atleast_1d((T.tensor(1.),))", "T.atleast_2d(T.ones(3))", "T.atleast_2d(T.tensor(1.))",
    "T.atleast_3d(T.ones(3))", "T.atleast_3d(T.ones(2, 3))", "T.atleast_3d(T.tensor(1.))",
    "T.atleast_3d(T.ones(1, 2, 3, 4))", "T.hstack([T.ones(2), T.ones(3)])",
    "T.hstack([T.tensor(1.), T.ones(3)])", "T.hstack([y, y])",
    "T.vstack([T.ones(3), T.ones(3)])", "T.vstack([T.ones(3), T.ones(2, 3)])",
    "T.row_stack([T.ones(3), T.ones(3)])", "T.dstack([T.ones(3), T.ones(3)])",
    "T.dstack([y, y])", "T.column_stack([T.ones(3), T.ones(3, 2)])",
    "T.column_stack([T.tensor(1.), T.ones(1, 2)])",
    "T.hstack([T.ones(2), T.ones(3, dtype=T.int64)])", "T.unflatten(T.ones(2, 6), 1, (2, 3))",
    "T.ones(2, 6).unflatten(1, (-1, 3))", "T.ones(2, 6).unflatten(-1, [2, -1])",
    "T.ones(2, 6).unflatten(1, (4, 3))", "T.ones(2, 6).unflatten(1, (-1, -1))",
    "T.ones(2, 6).unflatten(1, ())", "T.select(y, 1, -1)", "y.select(0, 2)", "y.select(2, 0)",
    "T.tensor(1.).select(0, 0)", "y.select(0, -2)", "y.narrow_copy(1, 1, 2)",
    "T.narrow_copy(y, 0, 0, 1)",
]


def _run(T, expr):
    x, y = T.ones(2, 1, 3), T.arange(6.).reshape(2, 3)     # noqa: F841  (read by eval)
    try:
        return eval(expr), None
    except Exception as error:                              # noqa: BLE001
        return None, error


def _plain(value):
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if hasattr(value, "detach"):
        array = np.asarray(value.detach().numpy())
        return (str(array.dtype), array.shape, array.tolist())
    return value


@pytest.mark.parametrize("expr", PROBES)
def test_matches_torch(expr):
    torch = pytest.importorskip("torch")
    want, want_error = _run(torch, expr)
    got, got_error = _run(G, expr)
    if want_error is not None:
        assert got_error is not None, f"torch raised {want_error!r}, gpugrad gave {got}"
        assert isinstance(got_error, type(want_error)), (want_error, got_error)
        return
    assert got_error is None, f"gpugrad raised {got_error!r}"
    assert _plain(got) == _plain(want)


# ----------------------------------------------------------------------------------------
# torch-free checks: hand values, error classes, gradients
# ----------------------------------------------------------------------------------------

def test_squeeze_dims_checked_and_zero_d_kept():
    assert gpugrad.tensor(3.0).squeeze(0).shape == ()
    assert gpugrad.zeros(2, 1, 3, 1).squeeze((1, 3)).shape == (2, 3)
    assert gpugrad.zeros(2, 1).squeeze(-1).shape == (2,)
    with pytest.raises(IndexError, match="out of range"):
        gpugrad.ones(2, 1).squeeze(7)
    with pytest.raises(RuntimeError, match="more than once"):
        gpugrad.ones(2, 1).squeeze((1, -1))
    with pytest.raises(IndexError):
        gpugrad.ones(2).unsqueeze(3)
    with pytest.raises(TypeError):
        gpugrad.ones(2).unsqueeze(0.5)


def test_dims_out_of_range_are_index_errors():
    x = gpugrad.ones(2, 3)
    for call in (lambda: x.transpose(0, 2), lambda: gpugrad.ones(3).transpose(0, 2),
                 lambda: x.flatten(0, 2), lambda: gpugrad.cat([x, x], 2),
                 lambda: x.permute(0, 2), lambda: S.movedim(x, 2, 0)):
        with pytest.raises(IndexError):
            call()
    assert gpugrad.cat([x, x], -1).shape == (2, 6)


def test_shape_errors_are_runtime_and_value_errors():
    x = gpugrad.ones(2, 3)
    for call in (lambda: x.reshape(4, 2), lambda: x.permute(1, 1), lambda: x.flatten(1, 0),
                 lambda: x.expand(3, 3), lambda: x.expand(-1, 2, 3),
                 lambda: gpugrad.cat([x, gpugrad.ones(3, 2)], 0),
                 lambda: gpugrad.stack([x, gpugrad.ones(3)])):
        with pytest.raises(RuntimeError) as info:
            call()
        assert isinstance(info.value, ValueError)


def test_movedim_sequences():
    x = gpugrad.tensor(X)
    np.testing.assert_array_equal(S.movedim(x, (0, 1), (2, 0)).numpy(),
                                  np.moveaxis(X, (0, 1), (2, 0)))
    np.testing.assert_array_equal(x.moveaxis(-1, 0).numpy(), np.moveaxis(X, -1, 0))
    check_grads(lambda t: S.movedim(t, (2, 0), (0, 1)) * 2.0, X)


def test_repeat_interleave_values_and_gradients():
    y = gpugrad.tensor([[1, 2], [3, 4]])
    assert y.repeat_interleave(2, dim=1).tolist() == [[1, 1, 2, 2], [3, 3, 4, 4]]
    assert M.repeat_interleave(gpugrad.tensor([2, 0, 1])).tolist() == [0, 0, 2]
    assert y.repeat_interleave(gpugrad.tensor([0, 3]), 0).tolist() == [[3, 4]] * 3
    check_grads(lambda t: M.repeat_interleave(t, 3, dim=1), X)
    check_grads(lambda t: M.repeat_interleave(t, gpugrad.tensor([2, 0, 1]), dim=1), X)
    check_grads(lambda t: M.repeat_interleave(t, 2), X)
    with pytest.raises(RuntimeError, match="non-negative"):
        y.repeat_interleave(-1)


def test_masked_select_and_scatter():
    x = gpugrad.tensor(X)
    mask = gpugrad.tensor(X[0] > 0)                      # (3, 4): broadcast over dim 0
    np.testing.assert_array_equal(M.masked_select(x, mask).numpy(),
                                  X[np.broadcast_to(X[0] > 0, X.shape)])
    check_grads(lambda t: M.masked_select(t, mask), X)
    src = RNG.standard_normal(30)
    out = np.array(X)
    full = np.broadcast_to(X[0] > 0, X.shape)
    out[full] = src[:full.sum()]
    np.testing.assert_allclose(M.masked_scatter(x, mask, gpugrad.tensor(src)).numpy(), out)
    check_grads(lambda t, s: M.masked_scatter(t, mask, s), X, src)
    with pytest.raises(RuntimeError, match="true places"):
        M.masked_scatter(x, mask, gpugrad.ones(2, dtype="float64"))
    with pytest.raises(TypeError, match="bool"):
        M.masked_select(x, x)
    z = gpugrad.zeros(3)
    assert z.masked_scatter_(gpugrad.tensor([True, False, True]), gpugrad.tensor([1.0, 2.0])) \
        is z and z.tolist() == [1.0, 0.0, 2.0]


def test_index_fill():
    x = gpugrad.tensor(X)
    want = np.array(X)
    want[:, [0, 2]] = -1.0
    index = gpugrad.tensor([0, 2, 0, -1])
    np.testing.assert_array_equal(M.index_fill(x, 1, gpugrad.tensor([0, -1]), -1.0).numpy(),
                                  want)
    assert gpugrad.arange(3).index_fill(0, gpugrad.tensor([1]), 2.7).tolist() == [0, 2, 2]
    check_grads(lambda t, v: M.index_fill(t, 1, index, v.sum()), X, [1.5])
    with pytest.raises(IndexError):
        M.index_fill(x, 1, gpugrad.tensor([3]), 0.0)
    with pytest.raises(RuntimeError):
        M.index_fill(x, 1, gpugrad.tensor([0]), gpugrad.ones(2))
    z = gpugrad.zeros(2, 2)
    assert z.index_fill_(1, gpugrad.tensor(1), 5.0) is z and z.tolist() == [[0, 5], [0, 5]]


def test_index_put():
    x = gpugrad.tensor(X)
    i, j = gpugrad.tensor([0, 1, 0]), gpugrad.tensor([2, 0, 2])
    v = RNG.standard_normal((3, 4))
    want = np.array(X)
    np.add.at(want, (np.array([0, 1, 0]), np.array([2, 0, 2])), v)
    np.testing.assert_allclose(M.index_put(x, (i, j), gpugrad.tensor(v), True).numpy(), want)
    check_grads(lambda t, w: M.index_put(t, (i, j), w, accumulate=True), X, v)
    check_grads(lambda t, w: M.index_put(t, (i[:2], j[:2]), w), X, v[:2])
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        M.index_put(x, (i,), gpugrad.ones(5, dtype="float64"))
    with pytest.raises(TypeError, match="dtype"):
        M.index_put(x, (i,), gpugrad.ones(4, dtype="float32"))
    z = gpugrad.zeros(3)
    z.index_put_((gpugrad.tensor([0, 0]),), gpugrad.tensor(1.0), accumulate=True)
    assert z.tolist() == [2.0, 0.0, 0.0]


def test_tensor_split_and_friends():
    x = gpugrad.tensor(X)
    got = P.tensor_split(x, 3, dim=2)
    assert [tuple(p.shape) for p in got] == [(2, 3, 2), (2, 3, 1), (2, 3, 1)]
    got = x.tensor_split([1, -1], 2)
    np.testing.assert_array_equal(got[1].numpy(), X[:, :, 1:-1])
    check_grads(lambda t: P.tensor_split(t, [1, 3], 2)[1] * 2.0, X)
    assert [tuple(p.shape) for p in x.hsplit([2])] == [(2, 2, 4), (2, 1, 4)]
    assert [tuple(p.shape) for p in P.dsplit(x, 2)] == [(2, 3, 2), (2, 3, 2)]
    with pytest.raises(RuntimeError, match="equal pieces"):
        P.vsplit(x, 3)


def test_stacks_and_atleast():
    a, b = gpugrad.tensor([1.0, 2.0]), gpugrad.tensor([3.0, 4.0])
    assert P.hstack([a, b]).tolist() == [1.0, 2.0, 3.0, 4.0]
    assert P.vstack([a, b]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert P.column_stack([a, b]).tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert P.dstack([a, b]).shape == (1, 2, 2)
    assert P.atleast_2d(gpugrad.tensor(1.0)).shape == (1, 1)
    assert [t.shape for t in P.atleast_3d(a, gpugrad.tensor(1.0))] == [(1, 2, 1), (1, 1, 1)]
    check_grads(lambda s, t: P.column_stack([s, t]) * P.hstack([t, s])[:2], X[0, 0, :2],
                X[0, 1, :2])


def test_unflatten_select_narrow_copy():
    x = gpugrad.tensor(X)
    assert x.unflatten(2, (2, -1)).shape == (2, 3, 2, 2)
    np.testing.assert_array_equal(x.select(1, -1).numpy(), X[:, -1])
    check_grads(lambda t: t.select(2, 1) * P.unflatten(t, 1, (3, 1))[:, :, 0, 0], X)
    copy = x.narrow_copy(2, 1, 2)
    copy[0, 0, 0] = 100.0
    assert x[0, 0, 1].item() == X[0, 0, 1]
    with pytest.raises(IndexError):
        x.select(1, 3)
    with pytest.raises(RuntimeError):
        x.unflatten(2, (3, -1))


def test_transpose_properties():
    m = gpugrad.tensor(X[0])
    np.testing.assert_array_equal(m.H.numpy(), X[0].T)
    np.testing.assert_array_equal(gpugrad.tensor(X).mH.numpy(), np.swapaxes(X, 1, 2))
    with pytest.raises(RuntimeError):
        gpugrad.tensor(X).H


def test_under_vmap_and_in_float32():
    x = gpugrad.tensor(X.astype(np.float32))
    mask = gpugrad.tensor([True, False, True, False])
    cases = [lambda t: M.masked_select(t, mask),
             lambda t: M.masked_scatter(t, mask, gpugrad.arange(8.0)),
             lambda t: M.index_fill(t, 1, gpugrad.tensor([0, 2]), -1.0),
             lambda t: M.index_put(t, (gpugrad.tensor([1, 1]),), gpugrad.tensor(2.0), True),
             lambda t: M.repeat_interleave(t, gpugrad.tensor([1, 0, 2]), dim=0),
             lambda t: P.tensor_split(t, 2, dim=1)[1], lambda t: P.unflatten(t, 1, (2, 2)),
             lambda t: S.movedim(t, (0, 1), (1, 0)), lambda t: P.column_stack([t, t])]
    for fn in cases:
        got = gpugrad.vmap(fn)(x)
        assert got.dtype == np.float32
        want = np.stack([fn(x[i]).numpy() for i in range(2)])
        np.testing.assert_array_equal(got.numpy(), want)


GRAD_PROBES = [
    "T.index_fill(a, 1, T.tensor([0, 2, 0]), v)",
    "a.masked_scatter(a > 0, T.cat([b.reshape(-1), b.reshape(-1)]))",
    "a.index_put((T.tensor([0, 1, 0]),), b, accumulate=True)",
    "a.index_put((T.tensor([0, 1]), T.tensor([2, 2])), b[0, :2])",
    "a.repeat_interleave(T.tensor([2, 0, 1, 3]), dim=1) * 1.5",
    "T.masked_select(a, a > 0) ** 2",
]


@pytest.mark.parametrize("expr", GRAD_PROBES)
def test_gradients_match_torch(expr):
    torch = pytest.importorskip("torch")
    values = {"a": X[0], "b": X[1], "v": np.array(0.7)}
    grads = []
    for T in (torch, G):
        leaves = {k: T.tensor(np.array(w), requires_grad=True) for k, w in values.items()}
        out = eval(expr, {"T": T}, leaves)
        weights = T.tensor(np.arange(1.0, 1.0 + out.numel()).reshape(tuple(out.shape)))
        (out * weights).sum().backward()
        grads.append([np.zeros_like(w) if leaves[k].grad is None else
                      np.asarray(leaves[k].grad.detach().numpy()) for k, w in values.items()])
    for want, got in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------------
# review 2: counts read on the host refused in a compiled step; per-example counts in vmap
# ----------------------------------------------------------------------------------------

def test_repeat_interleave_with_tensor_counts_is_refused_in_a_compiled_step():
    """The counts fix the result's size and are read on the host: a compiled step would
    replay the first call's counts (it gave [3, 3] for the second call below)."""
    x = gpugrad.ones(3, 2)
    fn = lambda t, r: t.repeat_interleave(r, 0).sum(0)           # noqa: E731
    assert fn(x, gpugrad.tensor([1, 1, 1])).tolist() == [3.0, 3.0]      # eager: sum(r)
    assert fn(x, gpugrad.tensor([2, 0, 3])).tolist() == [5.0, 5.0]
    step = gpugrad.compile(fn)
    for counts in ([1, 1, 1], [2, 0, 3]):
        with pytest.raises(gpugrad.cuda.CaptureError, match="repeat_interleave"):
            step(x, gpugrad.tensor(counts))
    with pytest.raises(gpugrad.cuda.CaptureError, match="repeat_interleave"):
        gpugrad.compile(lambda r: M.repeat_interleave(r))(gpugrad.tensor([1, 2]))
    step = gpugrad.compile(lambda t: t.repeat_interleave(2, 0).sum(0))    # an int: fine
    for k in (1.0, 3.0):
        assert step(gpugrad.full((3, 2), k)).tolist() == [6 * k, 6 * k]
    assert step.replays == 1


def test_masked_scatter_counts_true_places_per_example_under_vmap():
    zeros = gpugrad.zeros(2, 3)
    mask = gpugrad.tensor([[True, True, False], [True, True, True]])
    got = gpugrad.vmap(lambda a, m, s: a.masked_scatter(m, s))(
        zeros, mask, gpugrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    assert got.tolist() == [[1.0, 2.0, 0.0], [4.0, 5.0, 6.0]]       # torch.vmap's
    with pytest.raises(RuntimeError, match="3 true places but source has only 2"):
        gpugrad.vmap(lambda a, m, s: a.masked_scatter(m, s))(
            zeros, mask, gpugrad.tensor([[1.0, 2.0], [4.0, 5.0]]))


def test_masked_scatter_unchecked_short_source_reads_its_last_element():
    """In a compiled step's replay the count is not checked (it would be a host read on a
    GPU): the places past the source's end take its last element instead of reading out of
    range (NumPy raised a bare IndexError there, CuPy wraps around silently)."""
    step = gpugrad.compile(lambda a, m, s: a.masked_scatter(m, s))
    source = gpugrad.tensor([1.0, 2.0])
    assert step(gpugrad.zeros(3), gpugrad.tensor([True, False, True]), source).tolist() == \
        [1.0, 0.0, 2.0]
    got = step(gpugrad.zeros(3), gpugrad.tensor([True, True, True]), source)
    assert step.replays == 1 and got.tolist() == [1.0, 2.0, 2.0]


def test_index_fill_out_of_range_reports_the_indices_given():
    """It reported the indices shifted by the size ("got values from 6 to 6" for 3)."""
    for index, low, high in (([3], 3, 3), ([-4, 1], -4, 1)):
        with pytest.raises(IndexError, match=rf"in \[-3, 3\) .*got values from {low} to "
                                             rf"{high}$"):
            gpugrad.ones(3).index_fill(0, gpugrad.tensor(index), 0.0)
    assert gpugrad.ones(3).index_fill(0, gpugrad.tensor([-3, 2]), 0.0).tolist() == \
        [0.0, 1.0, 0.0]


def test_one_dim_check_and_one_error_class():
    """reduce's, shape's and selection's dimension checks are one helper: a DimError (an
    IndexError, as torch's "Dimension out of range", and a ValueError) naming the op."""
    from gpugrad.ops.shape_errors import DimError
    x = gpugrad.ones(2, 3)
    for op, call in (("max", lambda: x.max(5)), ("squeeze", lambda: x.squeeze(5)),
                     ("flatten", lambda: x.flatten(0, 5)), ("cat", lambda: gpugrad.cat([x], 5)),
                     ("unsqueeze", lambda: x.unsqueeze(5)), ("kthvalue", lambda: x.kthvalue(1, 5)),
                     ("index_fill", lambda: x.index_fill(5, gpugrad.tensor([0]), 1.0)),
                     ("movedim", lambda: S.movedim(x, 5, 0)), ("sum", lambda: x.sum(5))):
        with pytest.raises(DimError) as info:
            call()
        assert isinstance(info.value, IndexError) and isinstance(info.value, ValueError)
        if op != "sum":                       # (sum's several axes name no op)
            assert str(info.value).startswith(f"{op}: dim 5 is out of range"), info.value
    with pytest.raises(TypeError, match="max.* one int dimension"):
        x.max(1.0)
    assert x.squeeze(np.int64(-1)).shape == (2, 3) and x.max(np.int64(-1)).values.shape == (2,)
