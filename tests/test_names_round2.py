"""Round-2 fixes in the new names: searchsorted/bucketize with a number (a 0-d result that
prints and converts), empty and batched sequences (one vectorised search), histc with inf or
NaN data, cov's negative weights and complex input, addmm/addmv's alpha=0 and beta=0, and
random_()'s integer maximum."""

import numpy as np
import pytest

import gpugrad


def test_searchsorted_number_gives_a_usable_0d_tensor():
    r = gpugrad.searchsorted(gpugrad.tensor([1.0, 2.0]), 1.5)
    assert r.tolist() == 1 and r.numpy().shape == () and "1" in repr(r)
    b = gpugrad.bucketize(3, gpugrad.tensor([1, 3, 5]))
    assert b.tolist() == 1 and b.dtype == np.int64
    assert gpugrad.arange(4)[r].tolist() == 1


def test_searchsorted_empty_batched_sequence():
    out = gpugrad.searchsorted(gpugrad.zeros((0, 3)), gpugrad.zeros((0, 2)))
    assert out.shape == (0, 2) and out.dtype == np.int64
    assert gpugrad.searchsorted(gpugrad.zeros((2, 0)), gpugrad.ones((2, 3))).tolist() == \
        [[0, 0, 0], [0, 0, 0]]


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("m", [1, 2, 3, 5, 8, 17])
def test_batched_searchsorted_matches_numpy_row_by_row(m, right):
    rng = np.random.default_rng(m)
    seq = np.sort(rng.integers(0, 6, (4, m)).astype(float), -1)     # ties included
    if m > 2:
        seq[1, -1], seq[2, -2:] = np.nan, np.inf
    q = rng.integers(-1, 7, (4, 9)).astype(float)
    q[0, 0], q[3, 1] = np.nan, np.inf
    out = gpugrad.searchsorted(gpugrad.tensor(seq), gpugrad.tensor(q), right=right).numpy()
    side = "right" if right else "left"
    ref = np.stack([np.searchsorted(seq[i], q[i], side=side) for i in range(4)])
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_histc_auto_range_refuses_non_finite_data(bad):
    with pytest.raises(ValueError, match="not finite"):
        gpugrad.histc(gpugrad.tensor([1.0, bad, 2.0]), bins=2)


def test_histc_explicit_range_leaves_nan_and_outside_values_out():
    x = gpugrad.tensor([1.0, float("nan"), 2.0, -5.0, 3.0, float("inf")])
    assert gpugrad.histc(x, bins=3, min=0, max=3).tolist() == [0.0, 1.0, 2.0]
    assert gpugrad.histc(gpugrad.tensor([1.0, 2.0, 1.0, 5.0]), bins=4, min=0,
                         max=3).tolist() == [0.0, 2.0, 1.0, 0.0]


def test_histc_as_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(5000).astype(np.float32)
    np.testing.assert_array_equal(gpugrad.histc(gpugrad.tensor(x), bins=37).numpy(),
                                  torch.histc(torch.tensor(x), bins=37).numpy())
    with pytest.raises(RuntimeError, match="not finite"):
        torch.histc(torch.tensor([1.0, float("nan")]), bins=2)


@pytest.mark.parametrize("kw", [dict(fweights=[-1, 2, 1, 0, 3, 1]),
                                dict(aweights=[1.0, -2.0, 1.0, 0.0, 3.0, 1.0])])
def test_cov_refuses_negative_weights(kw):
    x = gpugrad.tensor(np.random.default_rng(0).standard_normal((3, 6)))
    ((name, w),) = kw.items()
    with pytest.raises(ValueError, match=f"{name} cannot be negative"):
        gpugrad.cov(x, **{name: gpugrad.tensor(w)})


def test_addmm_alpha_zero_ignores_the_product_and_beta_zero_gives_zero_input_grad():
    i = gpugrad.ones(1, 1, requires_grad=True)
    a = gpugrad.tensor([[float("nan")]], requires_grad=True)
    out = gpugrad.addmm(i, a, gpugrad.ones(1, 1), alpha=0, beta=2)
    assert out.tolist() == [[2.0]]                  # beta * input, the NaN product ignored
    out.sum().backward()
    assert i.grad.tolist() == [[2.0]] and a.grad.tolist() == [[0.0]]
    i = gpugrad.tensor([float("nan"), 1.0], requires_grad=True)
    out = gpugrad.addmv(i, gpugrad.eye(2), gpugrad.ones(2), beta=0)
    assert out.tolist() == [1.0, 1.0]
    out.sum().backward()
    assert i.grad.tolist() == [0.0, 0.0]            # torch: zeros, not None
    b = gpugrad.ones(2, 2, 2, requires_grad=True)
    gpugrad.baddbmm(b, gpugrad.ones(2, 2, 3), gpugrad.ones(2, 3, 2), beta=0).sum().backward()
    assert b.grad.tolist() == np.zeros((2, 2, 2)).tolist()


def test_addmm_edge_cases_as_torch():
    torch = pytest.importorskip("torch")
    t = torch.addmm(torch.ones(1, 1), torch.tensor([[float("nan")]]), torch.ones(1, 1), alpha=0)
    g = gpugrad.addmm(gpugrad.ones(1, 1), gpugrad.tensor([[float("nan")]]), gpugrad.ones(1, 1),
                      alpha=0)
    assert g.tolist() == t.tolist()


@pytest.mark.parametrize("dtype,top", [("uint8", 255), ("int8", 127)])
def test_random_in_place_draws_the_integer_maximum(dtype, top):
    gpugrad.manual_seed(0)
    x = gpugrad.zeros(20000, dtype=dtype).random_()
    assert x.min().item() == 0 and x.max().item() == top
