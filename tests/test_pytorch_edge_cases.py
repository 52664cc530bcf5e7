"""The PyTorch look-alikes at their edges: copies where PyTorch copies, indices out of
range, norms at zero, vmap, broadcasting, the ``inplace`` arguments, BCE's gradient,
nll_loss's other shapes. References are hand-derived values and float64 NumPy; torch is a
cross-check where it is installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad import func, nn
from gpugrad.nn import functional as F

RNG = np.random.default_rng(21)


def leaf(a):
    return gpugrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def test_repeat_is_a_writable_copy():
    x = gpugrad.tensor([[1.0, 2.0]])
    for y in (x.repeat(1, 1), x.repeat(3, 1), x.repeat(2, 1, 1)):
        y.add_(10.0)
        assert y.is_contiguous()
    assert x.tolist() == [[1.0, 2.0]]


def test_negative_and_too_large_indices_are_refused():
    x = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(IndexError, match=r"gather: indices must be in \[0, 2\)"):
        gpugrad.gather(x, 1, gpugrad.tensor([[-1], [0]]))
    with pytest.raises(IndexError, match="index_select"):
        gpugrad.index_select(x, 0, gpugrad.tensor([2]))
    w = gpugrad.ones(3, 2)
    with pytest.raises(IndexError, match="embedding"):
        func.vmap(lambda i: F.embedding(i, w))(gpugrad.tensor([[0], [-1]]))
    with pytest.raises(IndexError, match="one_hot"):
        func.vmap(lambda i: F.one_hot(i, 3))(gpugrad.tensor([[0], [7]]))


def test_index_select_of_a_0d_tensor_and_chunks_of_nothing():
    assert gpugrad.tensor(5.0).index_select(0, gpugrad.tensor([0])).item() == 5.0
    assert len(gpugrad.zeros(0).chunk(3)) == 3


@pytest.mark.parametrize("p, want", [(0.5, [0.0, 2.414213562373095, 1.7071067811865475]),
                                     (-1.0, [0.0, 0.0, 0.0]), (3.0, None)])
def test_norm_gradients_at_zero_entries_are_zero(p, want):
    x = leaf([0.0, 1.0, 2.0])
    value = gpugrad.norm(x, p=p)
    value.backward()
    a = np.array([0.0, 1.0, 2.0])
    if p < 0:
        assert value.item() == 0.0                      # a zero entry: |0|**p is infinite
    else:
        total = (a ** p).sum()
        assert value.item() == pytest.approx(total ** (1 / p))
        want = want or list(np.where(a > 0, a ** (p - 1) * total ** (1 / p - 1), 0.0))
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12)


def test_norm_of_float16_sums_in_float32_and_takes_dtype():
    half = gpugrad.tensor([300.0, 400.0]).astype("float16")
    assert half.norm().item() == 500.0 and half.norm().dtype == np.float16
    assert half.norm(dtype="float64").dtype == np.float64
    assert gpugrad.tensor([3.0, 4.0]).norm(p=None).item() == 5.0


def test_contiguity_inside_vmap():
    x = gpugrad.tensor(np.arange(24.0).reshape(2, 3, 4))
    out = func.vmap(lambda a: a.T.contiguous().reshape(-1))(x)
    np.testing.assert_array_equal(out.numpy(), x.numpy().transpose(0, 2, 1).reshape(2, -1))
    assert func.vmap(lambda a: gpugrad.tensor(float(a.is_contiguous())))(x).tolist() == [1, 1]


def test_method_spellings():
    x = gpugrad.arange(6.0)
    assert [len(p) for p in x.split(split_size=4)] == [4, 2]
    assert x.allclose(x + 1e-9)
    with pytest.raises(ValueError, match="std >= 0"):
        x.normal_(0.0, -1.0)
    with pytest.raises(ValueError, match="a <= b"):
        x.uniform_(1.0, 0.0)


def test_masked_fill_refuses_values_that_do_not_fit():
    mask = gpugrad.tensor([True, False])
    with pytest.raises(ValueError, match="cannot be converted to int64"):
        gpugrad.tensor([1, 2]).masked_fill(mask, float("-inf"))
    with pytest.raises(ValueError, match="cannot be converted to float16"):
        gpugrad.zeros(2).astype("float16").masked_fill(mask, -1e9)
    assert gpugrad.zeros(2).masked_fill(mask, float("-inf")).tolist()[0] == float("-inf")


def test_cosine_similarity_broadcasts_before_dim():
    got = F.cosine_similarity(gpugrad.tensor([1.0, 0.0]), gpugrad.tensor([[1.0, 1.0],
                                                                          [0.0, 1.0]]))
    np.testing.assert_allclose(got.numpy(), [np.sqrt(0.5), 0.0], rtol=1e-6)


@pytest.mark.parametrize("make", [lambda: nn.ReLU(inplace=True),
                                  lambda: nn.LeakyReLU(0.2, inplace=True),
                                  lambda: nn.ELU(inplace=True), lambda: nn.SiLU(inplace=True),
                                  lambda: nn.Hardtanh(inplace=True),
                                  lambda: nn.ReLU6(inplace=True)])
def test_inplace_activations_write_their_input_and_keep_gradients(make):
    module = make()
    out_of_place = type(module)() if not isinstance(module, nn.LeakyReLU) \
        else nn.LeakyReLU(0.2)
    x = RNG.standard_normal((3, 4)) * 3
    a, b = leaf(x), leaf(x)
    hidden = a * 2.0
    result = module(hidden)
    assert result is hidden and "inplace=True" in repr(module)
    (result ** 2).sum().backward()
    (out_of_place(b * 2.0) ** 2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="leaf"):
        make()(leaf(x))                                 # as PyTorch: a leaf that needs grad


def test_embedding_from_pretrained_shares_and_freezes():
    table = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    e = nn.Embedding.from_pretrained(table)
    assert not e.weight.requires_grad and e(gpugrad.tensor([1])).tolist() == [[3.0, 4.0]]
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(3, 2, sparse=True)


def test_bce_gradient_is_pytorchs_and_finite():
    """(p - t) / max(p (1 - p), 1e-12), worked out by hand, at 0, 1 and a float32
    denormal (the exact derivative of the clamped log would be infinite there)."""
    p = np.array([0.0, 1.0, 0.3, 1e-40], dtype=np.float32)
    t = np.array([1.0, 0.0, 1.0, 1.0], dtype=np.float32)
    x = gpugrad.tensor(p, requires_grad=True)
    F.binary_cross_entropy(x, gpugrad.tensor(t), reduction="sum").backward()
    want = (p.astype(np.float64) - t) / np.maximum(p * (1.0 - p.astype(np.float64)), 1e-12)
    np.testing.assert_allclose(x.grad.numpy(), want.astype(np.float32), rtol=1e-6)
    assert np.isfinite(x.grad.numpy()).all()
    z = gpugrad.tensor([-95.0, -40.0], requires_grad=True)
    F.binary_cross_entropy(gpugrad.sigmoid(z), gpugrad.tensor([1.0, 1.0])).backward()
    assert np.isfinite(z.grad.numpy()).all()


def test_nll_loss_takes_pytorchs_other_shapes():
    logp = np.log(RNG.dirichlet(np.ones(3), size=(2, 4)).transpose(0, 2, 1))   # (2, 3, 4)
    labels = RNG.integers(0, 3, (2, 4))
    rows = logp.transpose(0, 2, 1).reshape(-1, 3)
    flat = -rows[np.arange(8), labels.reshape(-1)]
    got = F.nll_loss(leaf(logp), gpugrad.tensor(labels), reduction="none")
    np.testing.assert_allclose(got.numpy(), flat.reshape(2, 4), rtol=1e-12)
    assert F.nll_loss(leaf(logp), gpugrad.tensor(labels)).item() == pytest.approx(flat.mean())
    single = F.nll_loss(leaf(logp[0, :, 0]), gpugrad.tensor(labels[0, 0]))
    assert single.item() == pytest.approx(-logp[0, labels[0, 0], 0])
    with pytest.raises(ValueError, match="needs labels of shape"):
        F.nll_loss(leaf(logp), gpugrad.tensor(labels[:, :3]))


def test_against_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    p = RNG.uniform(0.01, 0.99, (3, 4))
    t = RNG.uniform(0.0, 1.0, (3, 4))
    x, tx = leaf(p), torch.tensor(p, requires_grad=True)
    F.binary_cross_entropy(x, gpugrad.tensor(t)).backward()
    TF.binary_cross_entropy(tx, torch.tensor(t)).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    for order in [0.5, -1.0]:
        v = np.array([0.0, 1.0, 2.0])
        a, ta = leaf(v), torch.tensor(v, requires_grad=True)
        gpugrad.norm(a, p=order).backward()
        torch.norm(ta, p=order).backward()
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)


def test_clamp_of_an_integer_tensor_by_a_float_bound_gives_the_default_float():
    """As torch.clamp: int64 with a float bound is float32 (not NumPy's float64); int
    bounds keep int64."""
    clamped = gpugrad.tensor([1, 5]).clamp(0.5, 2.5)
    assert clamped.dtype == np.float32 and clamped.tolist() == [1.0, 2.5]
    assert gpugrad.tensor([1, 5]).clamp(0, 2).dtype == np.int64
