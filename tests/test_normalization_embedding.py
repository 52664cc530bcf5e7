"""nn/normalization.py (layer_norm, LayerNorm, GroupNorm, normalize, cosine_similarity) and
nn/embedding.py (one_hot, embedding, Embedding with max_norm and scale_grad_by_freq): values
against float64 NumPy written independently, gradients by finite differences, errors (with
PyTorch's classes), and PyTorch where installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad import func, nn
from gpugrad.nn import functional as F

RNG = np.random.default_rng(8)


def leaf(a):
    return gpugrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def np_layer_norm(x, k, w=None, b=None, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    out = (x - mu) / np.sqrt(var + eps)
    return out * (1 if w is None else w) + (0 if b is None else b)


@pytest.mark.parametrize("shape, normalized", [((4, 5), (5,)), ((2, 3, 4), (3, 4)),
                                               ((6,), 6)])
def test_layer_norm_against_numpy_with_gradients(shape, normalized):
    x = RNG.standard_normal(shape)
    k = 1 if isinstance(normalized, int) else len(normalized)
    w, b = RNG.standard_normal(shape[-k:]), RNG.standard_normal(shape[-k:])
    got = F.layer_norm(leaf(x), normalized, leaf(w), leaf(b))
    np.testing.assert_allclose(got.numpy(), np_layer_norm(x, k, w, b), rtol=1e-12)
    assert gpugrad.gradcheck(lambda a, c, d: F.layer_norm(a, normalized, c, d),
                             (leaf(x), leaf(w), leaf(b)))
    assert gpugrad.gradgradcheck(lambda a: F.layer_norm(a, normalized), (leaf(x),))


def test_layer_norm_module_and_errors():
    ln = nn.LayerNorm((3, 4), eps=1e-3, dtype="float64")
    x = RNG.standard_normal((2, 3, 4))
    np.testing.assert_allclose(ln(gpugrad.tensor(x)).numpy(), np_layer_norm(x, 2, eps=1e-3))
    assert sorted(n for n, _ in ln.named_parameters()) == ["bias", "weight"]
    assert list(nn.LayerNorm(4, elementwise_affine=False).parameters()) == []
    assert [n for n, _ in nn.LayerNorm(4, bias=False).named_parameters()] == ["weight"]
    with pytest.raises(ValueError, match="normalized_shape"):
        F.layer_norm(gpugrad.zeros(2, 3), (4,))
    with pytest.raises(ValueError, match="weight must have shape"):
        F.layer_norm(gpugrad.zeros(2, 3), (3,), gpugrad.ones(4))


@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize_divides_by_the_clamped_norm(p, dim):
    x = RNG.standard_normal((3, 4))
    n = (np.abs(x) ** p).sum(axis=dim, keepdims=True) ** (1 / p)
    np.testing.assert_allclose(F.normalize(leaf(x), p, dim).numpy(), x / n, rtol=1e-12)
    assert gpugrad.gradcheck(lambda a: F.normalize(a, p, dim), (leaf(x),))
    zero = F.normalize(gpugrad.zeros(2, 3, dtype="float64"))
    assert zero.tolist() == [[0.0] * 3] * 2


def test_cosine_similarity_broadcasts_and_clamps_each_norm():
    a, b = RNG.standard_normal((5, 3)), RNG.standard_normal((1, 3))
    want = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    np.testing.assert_allclose(F.cosine_similarity(leaf(a), leaf(b)).numpy(), want,
                               rtol=1e-12)
    assert gpugrad.gradcheck(lambda u, v: F.cosine_similarity(u, v), (leaf(a), leaf(b)))
    tiny = gpugrad.tensor([[1e-5, 0.0]], dtype="float64")
    assert F.cosine_similarity(tiny, tiny).item() == pytest.approx(1.0)


def test_one_hot():
    labels = gpugrad.tensor([[0, 3], [2, 1]])
    got = F.one_hot(labels, 4)
    assert got.dtype == np.int64 and got.shape == (2, 2, 4)
    np.testing.assert_array_equal(got.numpy(), np.eye(4, dtype=np.int64)[labels.numpy()])
    assert F.one_hot(gpugrad.tensor([2, 0])).shape == (2, 3)       # inferred: max + 1
    with pytest.raises(IndexError, match=r"in \[0, 3\)"):
        F.one_hot(gpugrad.tensor([0, 3]), 3)
    with pytest.raises(TypeError, match="integer tensor"):
        F.one_hot(gpugrad.tensor([0.0]), 2)


def test_embedding_rows_gradients_and_padding():
    w = RNG.standard_normal((5, 3))
    index = np.array([[1, 4], [4, 0]])
    np.testing.assert_array_equal(F.embedding(gpugrad.tensor(index), leaf(w)).numpy(),
                                  w[index])
    weight = leaf(w)
    F.embedding(gpugrad.tensor(index), weight, padding_idx=4).sum().backward()
    want = np.zeros((5, 3))
    want[[1, 0]] = 1.0                                  # row 4 is padding: no gradient
    np.testing.assert_array_equal(weight.grad.numpy(), want)
    assert gpugrad.gradcheck(lambda t: F.embedding(gpugrad.tensor(index), t) ** 2, (leaf(w),))
    with pytest.raises(IndexError, match=r"in \[0, 5\)"):
        F.embedding(gpugrad.tensor([5]), leaf(w))
    with pytest.raises(NotImplementedError, match="sparse"):
        F.embedding(gpugrad.tensor([1]), leaf(w), sparse=True)


def test_embedding_module():
    gpugrad.manual_seed(0)
    e = nn.Embedding(6, 2, padding_idx=-1)
    assert e.padding_idx == 5 and e.weight[5].tolist() == [0.0, 0.0]
    assert e(gpugrad.tensor([[0, 5]])).shape == (1, 2, 2)
    assert repr(e) == "Embedding(6, 2, padding_idx=5)"
    per_example = func.vmap(lambda i: e(i).sum())(gpugrad.tensor([[0, 1], [2, 3]]))
    assert per_example.shape == (2,)


def test_against_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    x = RNG.standard_normal((4, 6))
    y = RNG.standard_normal((4, 6))
    tx, ty = torch.tensor(x), torch.tensor(y)
    pairs = [(F.layer_norm(gpugrad.tensor(x), (6,)), TF.layer_norm(tx, (6,))),
             (F.normalize(gpugrad.tensor(x), p=3.0, dim=0), TF.normalize(tx, p=3.0, dim=0)),
             (F.cosine_similarity(gpugrad.tensor(x), gpugrad.tensor(y)),
              TF.cosine_similarity(tx, ty))]
    for got, want in pairs:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
    small = torch.tensor([[1e-5, 0.0]], dtype=torch.float64)
    assert F.cosine_similarity(gpugrad.tensor(small.numpy()), gpugrad.tensor(
        small.numpy())).item() == pytest.approx(TF.cosine_similarity(small, small).item())


def test_embedding_max_norm_renormalises_looked_up_rows_in_place():
    w = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0], [1.0, 0.0]])
    weight = leaf(w)
    out = F.embedding(gpugrad.tensor([[0, 1], [0, 2]]), weight, max_norm=2.0)
    want = w.copy()
    want[0] *= 2.0 / (5.0 + 1e-7)                       # norm 5 > 2: scaled to norm 2
    want[2] *= 2.0 / (10.0 + 1e-7)                      # row 1 (norm 0.5) and row 3 (not
    np.testing.assert_allclose(weight.detach().numpy(), want, rtol=1e-15)   # looked up): kept
    np.testing.assert_allclose(out.detach().numpy(), want[[[0, 1], [0, 2]]], rtol=1e-15)
    assert weight.is_leaf and weight.requires_grad     # changed in place, under no_grad
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), [[2, 2], [1, 1], [1, 1], [0, 0]])
    one = leaf(w)                                       # norm_type 1: |3| + |4| = 7
    F.embedding(gpugrad.tensor([0]), one, max_norm=1.0, norm_type=1.0)
    np.testing.assert_allclose(one.detach().numpy()[0], w[0] / (7.0 + 1e-7), rtol=1e-15)
    e = nn.Embedding(4, 2, max_norm=1.0, dtype="float64")
    e(gpugrad.tensor([1, 3]))
    norms = np.linalg.norm(e.weight.detach().numpy(), axis=1)
    assert norms[1] <= 1.0 and norms[3] <= 1.0
    assert repr(e) == "Embedding(4, 2, max_norm=1.0)"


def test_embedding_scale_grad_by_freq_divides_by_the_count():
    w = RNG.standard_normal((5, 3))
    index = np.array([[1, 4, 1], [1, 0, 4]])            # 1 three times, 4 twice, 0 once
    weight = leaf(w)
    out = F.embedding(gpugrad.tensor(index), weight, scale_grad_by_freq=True)
    np.testing.assert_array_equal(out.detach().numpy(), w[index])
    g = RNG.standard_normal(index.shape + (3,))
    (out * gpugrad.tensor(g)).sum().backward()
    want = np.zeros((5, 3))
    counts = np.bincount(index.ravel(), minlength=5)
    for i, row in np.ndenumerate(index):
        want[row] += g[i] / counts[row]
    np.testing.assert_allclose(weight.grad.numpy(), want, rtol=1e-14)
    e = nn.Embedding(5, 3, scale_grad_by_freq=True, padding_idx=0)
    e(gpugrad.tensor([0, 2, 2])).sum().backward()
    np.testing.assert_allclose(e.weight.grad.numpy()[[0, 2]], [[0.0] * 3, [1.0] * 3])
    assert repr(e) == "Embedding(5, 3, padding_idx=0, scale_grad_by_freq=True)"


def test_embedding_max_norm_and_frequency_against_torch():
    torch = pytest.importorskip("torch")
    w = (RNG.standard_normal((6, 3)) * 2).astype(np.float32)
    index = np.array([[1, 4, 1], [0, 4, 4]])
    g = RNG.standard_normal(index.shape + (3,)).astype(np.float32)
    for kwargs in ({"max_norm": 1.0}, {"max_norm": 1.5, "norm_type": 1.0},
                   {"scale_grad_by_freq": True},
                   {"max_norm": 2.0, "scale_grad_by_freq": True, "padding_idx": 4}):
        mine, theirs = gpugrad.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
        got = F.embedding(gpugrad.tensor(index), mine, **kwargs)
        want = torch.nn.functional.embedding(torch.tensor(index), theirs, **kwargs)
        (got * gpugrad.tensor(g)).sum().backward()
        (want * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)
    assert repr(nn.Embedding(5, 3, max_norm=1.0, norm_type=1.0)) == repr(
        torch.nn.Embedding(5, 3, max_norm=1.0, norm_type=1.0))


def test_group_norm_bias_false():
    x = RNG.standard_normal((2, 4, 3))
    gn = nn.GroupNorm(2, 4, bias=False, dtype="float64")
    assert gn.bias is None and [n for n, _ in gn.named_parameters()] == ["weight"]
    assert repr(gn) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=False)"
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    with gpugrad.no_grad():
        gn.weight.copy_(gpugrad.tensor([1.0, 2.0, 3.0, 4.0], dtype="float64"))
    grouped = x.reshape(2, 2, -1)
    normed = ((grouped - grouped.mean(-1, keepdims=True))
              / np.sqrt(grouped.var(-1, keepdims=True) + 1e-5)).reshape(x.shape)
    want = normed * np.array([1.0, 2.0, 3.0, 4.0])[:, None]
    np.testing.assert_allclose(gn(gpugrad.tensor(x)).detach().numpy(), want, rtol=1e-12)
    with pytest.raises(TypeError):
        nn.GroupNorm(2, 4, 1e-5, True, None, None, False)   # keyword-only, as PyTorch's


def test_group_norm_bias_false_against_torch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 6, 5))
    mine, theirs = nn.GroupNorm(3, 6, bias=False, dtype="float64"), torch.nn.GroupNorm(
        3, 6, bias=False, dtype=torch.float64)
    assert repr(mine) == repr(theirs) and repr(nn.GroupNorm(3, 6)) == repr(
        torch.nn.GroupNorm(3, 6))
    got = mine(gpugrad.tensor(x))
    want = theirs(torch.tensor(x))
    (got ** 2).sum().backward()
    (want ** 2).sum().backward()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(mine.weight.grad.numpy(), theirs.weight.grad.numpy(),
                               rtol=1e-10)


@pytest.mark.parametrize("call", [
    lambda: nn.LayerNorm(3)(gpugrad.ones(4, 5)),
    lambda: F.layer_norm(gpugrad.ones(2, 3), (3,), gpugrad.ones(4)),
    lambda: nn.GroupNorm(2, 4)(gpugrad.ones(3, 6)),
    lambda: F.group_norm(gpugrad.ones(2, 3), 2),
    lambda: F.embedding(gpugrad.tensor([0]), gpugrad.ones(3)),
])
def test_shape_errors_are_runtime_errors_as_pytorchs(call):
    with pytest.raises(RuntimeError):                  # PyTorch's class ...
        call()
    with pytest.raises(ValueError):                    # ... and gpugrad's earlier one
        call()


def test_embedding_max_norm_counts_as_an_in_place_write():
    weight = leaf(RNG.standard_normal((4, 2)) * 5)
    saved = (weight * weight).sum()                     # saves weight for its backward
    F.embedding(gpugrad.tensor([1]), weight, max_norm=1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        saved.backward()                                # as PyTorch's


def test_embedding_options_compiled_equal_eager():
    indices = [gpugrad.tensor(RNG.integers(0, 6, size=(3, 4))) for _ in range(4)]
    results = []
    for compiled in (False, True):
        gpugrad.manual_seed(0)
        model = nn.Embedding(6, 3, max_norm=1.5, scale_grad_by_freq=True)
        opt = gpugrad.optim.SGD(model.parameters(), lr=0.5)

        def step(index):
            opt.zero_grad()
            loss = (model(index) ** 2).sum()
            loss.backward()
            opt.step()
            return loss

        run = gpugrad.compile(step) if compiled else step
        losses = [run(index).numpy().copy() for index in indices]
        results.append((losses, model.weight.numpy().copy()))
    (eager_losses, eager_w), (losses, w) = results
    np.testing.assert_array_equal(losses, eager_losses)
    np.testing.assert_array_equal(w, eager_w)
