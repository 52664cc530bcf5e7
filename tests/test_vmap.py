"""vmap's semantics (as JAX's and torch.func's): in_dims/out_dims (ints, None, negative,
pytrees), nested vmap, chunk_size, randomness, in-place ops, the errors; composition with
grad and jvp (custom Functions: test_vmap_functions.py)."""

import numpy as np
import pytest

import gpugrad
from gpugrad.func import grad, jvp, vmap

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 3))
Y = RNG.normal(size=(5, 3))


def t(a, **kwargs):
    return gpugrad.tensor(a, **kwargs)


# ---------------------------------------------------------------------------------------------
# in_dims, out_dims, nesting, chunks
# ---------------------------------------------------------------------------------------------

def test_the_function_sees_one_example():
    seen = []
    vmap(lambda x: seen.append((x.shape, x.ndim, x.size, len(x))) or x)(t(X))
    assert seen == [((3,), 1, 3, 3)]


@pytest.mark.parametrize("in_dim", [0, 1, -1, -2])
def test_in_dims_pick_the_mapped_dimension(in_dim):
    out = vmap(lambda x: (x * x).sum(), in_dims=in_dim)(t(X))
    axis = in_dim % 2
    np.testing.assert_allclose(out.numpy(), (X * X).sum(axis=1 - axis), rtol=1e-12)


def test_unmapped_arguments_are_shared_and_out_dims_place_the_batch():
    w = RNG.normal(size=(3, 2))
    out = vmap(lambda x, m: x @ m, in_dims=(0, None), out_dims=1)(t(X), t(w))
    assert tuple(out.shape) == (2, 4)
    np.testing.assert_allclose(out.numpy(), (X @ w).T, rtol=1e-12)


def test_an_output_that_is_the_same_for_every_example_is_broadcast():
    out, same = vmap(lambda x: (x * 2, gpugrad.ones(2)))(t(X))
    np.testing.assert_allclose(out.numpy(), 2 * X)
    np.testing.assert_array_equal(same.numpy(), np.ones((4, 2)))
    kept = vmap(lambda x: (x * 2, gpugrad.ones(2)), out_dims=(0, None))(t(X))[1]
    assert tuple(kept.shape) == (2,)


def test_pytrees_in_and_out():
    params = {"a": t(X), "b": t(np.ones(3))}
    out = vmap(lambda p: {"sum": p["a"] + p["b"], "pair": (p["a"].sum(), p["b"] * 2)},
               in_dims=({"a": 0, "b": None},))(params)
    np.testing.assert_allclose(out["sum"].numpy(), X + 1)
    np.testing.assert_allclose(out["pair"][0].numpy(), X.sum(axis=1))
    np.testing.assert_allclose(out["pair"][1].numpy(), np.full((4, 3), 2.0))


def test_nested_vmap_gives_all_pairs():
    dot = lambda a, b: (a * b).sum()       # noqa: E731
    out = vmap(vmap(dot, in_dims=(None, 0)), in_dims=(0, None))(t(X), t(Y))
    np.testing.assert_allclose(out.numpy(), X @ Y.T, rtol=1e-12)


def test_nested_vmap_over_two_dimensions_of_one_tensor():
    grid = RNG.normal(size=(2, 3, 4))
    out = vmap(vmap(lambda v: v.max(), in_dims=1), in_dims=0)(t(grid))
    np.testing.assert_allclose(out.numpy(), grid.max(axis=1))


@pytest.mark.parametrize("chunk_size", [1, 3, 4, 10])
def test_chunks_give_the_same_result(chunk_size):
    f = lambda x, m: gpugrad.tanh(x @ m)      # noqa: E731
    w = RNG.normal(size=(3, 2))
    whole = vmap(f, in_dims=(0, None))(t(X), t(w))
    chunked = vmap(f, in_dims=(0, None), chunk_size=chunk_size)(t(X), t(w))
    np.testing.assert_allclose(chunked.numpy(), whole.numpy(), rtol=1e-12)


def test_a_batched_index_picks_per_example():
    logits = RNG.normal(size=(4, 5))
    labels = np.array([1, 4, 0, 2])
    out = vmap(lambda row, k: gpugrad.log_softmax(row)[k])(t(logits), t(labels))
    lse = np.log(np.exp(logits).sum(axis=1))
    np.testing.assert_allclose(out.numpy(), logits[np.arange(4), labels] - lse, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# randomness
# ---------------------------------------------------------------------------------------------

def test_random_draws_are_refused_by_default():
    with pytest.raises(RuntimeError, match="randomness="):
        vmap(lambda x: x + gpugrad.randn(3))(t(X))


def test_randomness_different_and_same():
    gpugrad.manual_seed(0)
    diff = vmap(lambda x: x * 0 + gpugrad.randn(3), randomness="different")(t(X)).numpy()
    same = vmap(lambda x: x * 0 + gpugrad.randn(3), randomness="same")(t(X)).numpy()
    assert not np.allclose(diff[0], diff[1])
    np.testing.assert_array_equal(same, np.broadcast_to(same[0], same.shape))


def test_dropout_masks_follow_randomness():
    ones = t(np.ones((4, 50)))
    gpugrad.manual_seed(1)
    diff = vmap(lambda x: gpugrad.nn.functional.dropout(x, 0.5), randomness="different")(ones)
    same = vmap(lambda x: gpugrad.nn.functional.dropout(x, 0.5), randomness="same")(ones)
    assert not np.array_equal(diff.numpy()[0], diff.numpy()[1])
    np.testing.assert_array_equal(same.numpy(), np.broadcast_to(same.numpy()[0], (4, 50)))


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------

def test_batch_sizes_that_disagree_are_named():
    with pytest.raises(ValueError, match="argument 0 has 4.*argument 1 has 5"):
        vmap(lambda a, b: a.sum() + b.sum())(t(X), t(Y))


def test_nothing_mapped_and_bad_dims_are_refused():
    with pytest.raises(ValueError, match="no argument is mapped"):
        vmap(lambda a: a, in_dims=None)(t(X))
    with pytest.raises(ValueError, match="no dimension 2"):
        vmap(lambda a: a, in_dims=2)(t(X))
    with pytest.raises(ValueError, match="2 entries"):
        vmap(lambda a: a, in_dims=(0, 0))(t(X))
    with pytest.raises(ValueError, match="randomness"):
        vmap(lambda a: a, randomness="sometimes")
    with pytest.raises(ValueError, match="out_dims is None"):
        vmap(lambda a: a * 2, out_dims=None)(t(X))


@pytest.mark.parametrize("read", [lambda x: float(x.sum()), lambda x: bool(x.sum() > 0),
                                  lambda x: x.numpy(), lambda x: x.item(), lambda x: x.tolist()])
def test_python_control_flow_on_batched_values_is_refused(read):
    with pytest.raises(RuntimeError, match="control flow"):
        vmap(lambda x: read(x) and x)(t(X))


def test_in_place_into_an_unbatched_tensor_is_refused_and_into_a_batched_one_works():
    def accumulate(x):
        total = gpugrad.zeros(3)
        total += x
        return total
    with pytest.raises(RuntimeError, match="same for every example"):
        vmap(accumulate)(t(X))

    def write(x):
        y = x.clone()
        y[0] = 5.0
        y *= 2
        return y
    out = vmap(write)(t(X))
    expected = X * 2
    expected[:, 0] = 10.0
    np.testing.assert_allclose(out.numpy(), expected)


def test_backward_inside_vmap_points_to_grad():
    with pytest.raises(RuntimeError, match="func.grad"):
        vmap(lambda x: x.sum().backward())(t(X, requires_grad=True))


def test_an_escaped_batched_tensor_says_so():
    kept = []
    vmap(lambda x: kept.append(x * 2) or x)(t(X))
    with pytest.raises(RuntimeError, match="escaped"):
        kept[0] + 1


# ---------------------------------------------------------------------------------------------
# composition
# ---------------------------------------------------------------------------------------------

def test_vmap_of_jvp_pushes_a_batch_of_tangents():
    x = t(X[0])
    out = vmap(lambda v: jvp(lambda z: (z ** 3).sum(), (x,), (v,))[1])(t(np.eye(3)))
    np.testing.assert_allclose(out.numpy(), 3 * X[0] ** 2, rtol=1e-12)


def test_grad_of_vmap_goes_through_the_batch():
    x = t(X, requires_grad=True)
    vmap(lambda v: (gpugrad.tanh(v) ** 2).sum())(x).sum().backward()
    th = np.tanh(X)
    np.testing.assert_allclose(x.grad.numpy(), 2 * th * (1 - th ** 2), rtol=1e-12)


def test_per_example_gradients_of_an_mlp_equal_single_example_backward():
    rng = np.random.default_rng(3)
    params = {"w1": t(rng.normal(size=(8, 6)) / 3), "b1": t(rng.normal(size=8)),
              "w2": t(rng.normal(size=(4, 8)) / 3), "b2": t(rng.normal(size=4))}
    xs, ys = rng.normal(size=(5, 6)), np.array([0, 3, 1, 1, 2])
    F = gpugrad.nn.functional

    def loss(p, x, y):
        h = F.linear_relu(x.unsqueeze(0), p["w1"], p["b1"])
        return F.cross_entropy(F.linear(h, p["w2"], p["b2"]), y.unsqueeze(0))

    got = vmap(grad(loss), in_dims=(None, 0, 0))(params, t(xs), t(ys))
    for b in range(5):
        leaves = {k: t(v.numpy(), requires_grad=True) for k, v in params.items()}
        loss(leaves, t(xs[b]), t(ys[b])).backward()
        for k in params:
            np.testing.assert_allclose(got[k].numpy()[b], leaves[k].grad.numpy(), rtol=1e-10,
                                       atol=1e-12, err_msg=k)


def test_cross_entropy_with_per_example_labels_and_ignored_rows():
    logits = RNG.normal(size=(3, 4, 5))
    labels = np.array([[1, -100, 4, 0], [-100, -100, -100, -100], [2, 2, 0, 3]])
    F = gpugrad.nn.functional
    with np.errstate(invalid="ignore", divide="ignore"):
        means = vmap(F.cross_entropy)(t(logits), t(labels)).numpy()
    sums = vmap(lambda x, y: F.cross_entropy(x, y, reduction="sum"))(t(logits), t(labels))
    logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    for b in range(3):
        rows = [-logp[b, i, k] for i, k in enumerate(labels[b]) if k != -100]
        np.testing.assert_allclose(sums.numpy()[b], sum(rows), rtol=1e-12)
        if rows:
            np.testing.assert_allclose(means[b], np.mean(rows), rtol=1e-12)
        else:
            assert np.isnan(means[b])            # a mean over no rows, as PyTorch's


def test_movedim_matches_numpy_and_vmap_is_at_the_top_level():
    a = RNG.normal(size=(2, 3, 4))
    for source, destination in [(0, 2), (2, 0), (-1, 1), (1, 1)]:
        np.testing.assert_array_equal(gpugrad.movedim(t(a), source, destination).numpy(),
                                      np.moveaxis(a, source, destination))
    with pytest.raises(IndexError, match="out of range"):
        gpugrad.movedim(t(a), 3, 0)
    assert gpugrad.vmap is vmap


def test_an_example_whose_labels_are_all_ignored_gets_a_zero_gradient():
    F = gpugrad.nn.functional
    logits = t(np.zeros((2, 3, 4)))
    labels = t(np.array([[1, 2, 3], [-100, -100, -100]]))
    per_example = vmap(grad(F.cross_entropy))(logits, labels).numpy()
    (alone,) = [grad(F.cross_entropy)(logits[0], labels[0]).numpy()]
    np.testing.assert_allclose(per_example[0], alone, rtol=1e-12)
    np.testing.assert_array_equal(per_example[1], np.zeros((3, 4)))


def test_same_randomness_is_the_same_across_chunks():
    gpugrad.manual_seed(3)
    out = vmap(lambda x: x + gpugrad.randn(3), randomness="same", chunk_size=2)(
        t(np.zeros((5, 3)))).numpy()
    np.testing.assert_array_equal(out, np.broadcast_to(out[0], out.shape))


def test_an_escaped_tensor_is_caught_in_a_later_vmap_whatever_the_order():
    kept = []
    vmap(lambda x: kept.append(x) or x)(t(X))
    for f in (lambda y: y + kept[0], lambda y: kept[0] + y):
        with pytest.raises(RuntimeError, match="escaped"):
            vmap(f)(t(X))


def test_argmax_over_everything_keeps_the_per_example_shape():
    grid = RNG.normal(size=(4, 3, 2))
    got = vmap(lambda m: gpugrad.argmax(m, keepdims=True))(t(grid))
    assert tuple(got.shape) == (4, 1, 1)
    np.testing.assert_array_equal(got.numpy().reshape(4), grid.reshape(4, -1).argmax(axis=1))
    flat = vmap(lambda m: gpugrad.argmin(m))(t(grid)).numpy()
    np.testing.assert_array_equal(flat, grid.reshape(4, -1).argmin(axis=1))


def test_jacfwd_takes_randomness_for_the_function_it_runs_under_vmap():
    from gpugrad.func import jacfwd
    dropout = lambda x: gpugrad.nn.functional.dropout(x, 0.5)     # noqa: E731
    with pytest.raises(RuntimeError, match="randomness"):
        jacfwd(dropout)(t(np.ones(4)))
    gpugrad.manual_seed(0)
    jac = jacfwd(dropout, randomness="same")(t(np.ones(4))).numpy()
    kept = np.diag(jac)
    assert set(np.unique(kept)) <= {0.0, 2.0}
    np.testing.assert_array_equal(jac, np.diag(kept))


def test_in_place_on_a_vmapped_non_leaf_works_and_differentiates():
    x = t(X, requires_grad=True)
    out = vmap(lambda r: r.add_(1.0))(x * 1)
    np.testing.assert_allclose(out.numpy(), X * 1 + 1, rtol=1e-12)
    (out * out).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (X + 1), rtol=1e-12)


def test_vmap_at_dimension_zero_records_no_permute_and_no_same_shape_reshape():
    from gpugrad.autograd.walk import nodes_behind
    w = t(RNG.normal(size=(3, 2)), requires_grad=True)
    out = vmap(lambda r: r @ w)(t(X, requires_grad=True))       # (B, 3) @ (3, 2): one GEMM
    np.testing.assert_allclose(out.numpy(), X @ w.numpy(), rtol=1e-12)
    names = [node.name() for node in nodes_behind([out.grad_fn])]
    assert not [n for n in names if n.startswith(("Permute", "Reshape"))], names
    assert names[0] == "MatMulBackward"
