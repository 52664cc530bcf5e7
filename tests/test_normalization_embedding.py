"""nn/normalization.py (layer_norm, LayerNorm, normalize, cosine_similarity) and
nn/embedding.py (one_hot, embedding, Embedding): values against float64 NumPy written
independently, gradients by finite differences, errors, and PyTorch where installed."""

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
    with pytest.raises(NotImplementedError, match="max_norm"):
        F.embedding(gpugrad.tensor([1]), leaf(w), max_norm=1.0)


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
