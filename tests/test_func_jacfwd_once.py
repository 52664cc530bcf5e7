"""jacfwd pushes every differentiated leaf's directions through one forward pass (a block-
diagonal tangent, as torch.func's), so f runs once and randomness="same" gives every block
the same draw; the blocks still equal jacrev's and finite differences."""

import numpy as np
import pytest

import gpugrad
import gpugrad.nn.functional as F
from gpugrad import func


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def dropped(a, b):
    return F.dropout(a * b, 0.5, training=True)


def test_same_randomness_gives_every_block_one_mask():
    a, b = gpugrad.ones(16), gpugrad.ones(16) * 2
    ja, jb = func.jacfwd(dropped, argnums=(0, 1), randomness="same")(a, b)
    # by hand: d/da dropout(a b) = diag(mask * b / (1 - p)), d/db = diag(mask * a / (1 - p))
    mask_a, mask_b = np.diag(ja.numpy()) / (2 * 2.0), np.diag(jb.numpy()) / (1 * 2.0)
    assert set(mask_a) <= {0.0, 1.0} and 0 < mask_a.sum() < 16
    np.testing.assert_array_equal(mask_a, mask_b)
    np.testing.assert_array_equal(ja.numpy() - np.diag(np.diag(ja.numpy())), 0)


def test_same_randomness_one_mask_also_in_chunks():
    a, b = gpugrad.ones(6), gpugrad.ones(6) * 2
    ja, jb = func.jacfwd(dropped, argnums=(0, 1), randomness="same", chunk_size=4)(a, b)
    np.testing.assert_array_equal(np.diag(ja.numpy()) / 2, np.diag(jb.numpy()))


def test_same_randomness_one_mask_as_torch_func(torch):
    ja, jb = torch.func.jacfwd(lambda a, b: torch.nn.functional.dropout(a * b, 0.5),
                               argnums=(0, 1), randomness="same")(torch.ones(16),
                                                                  torch.ones(16) * 2)
    tmask = (np.diag(ja.numpy()) != 0, np.diag(jb.numpy()) != 0)
    ga, gb = func.jacfwd(dropped, argnums=(0, 1), randomness="same")(gpugrad.ones(16),
                                                                    gpugrad.ones(16) * 2)
    mask = (np.diag(ga.numpy()) != 0, np.diag(gb.numpy()) != 0)
    assert (tmask[0] == tmask[1]).all() and (mask[0] == mask[1]).all()


def test_f_runs_once_for_many_leaves():
    calls = []

    def f(p, y):
        calls.append(1)
        return p["w"] * p["b"].sum() + y[0] * y[1]
    p = {"w": gpugrad.tensor([1.0, 2.0]), "b": gpugrad.tensor([3.0, 4.0, 5.0])}
    y = (gpugrad.tensor(2.0), gpugrad.tensor([1.0, -1.0]))
    jp, jy = func.jacfwd(f, argnums=(0, 1))(p, y)
    assert len(calls) == 1
    np.testing.assert_allclose(jp["w"].numpy(), 12.0 * np.eye(2))
    np.testing.assert_allclose(jp["b"].numpy(), [[1.0] * 3, [2.0] * 3])
    np.testing.assert_allclose(jy[0].numpy(), [1.0, -1.0])
    np.testing.assert_allclose(jy[1].numpy(), [[2.0, 0.0], [0.0, 2.0]])


def test_mixed_dtypes_and_empty_leaves_equal_jacrev_and_differences(device):
    rng = np.random.default_rng(0)
    x32 = gpugrad.tensor(rng.standard_normal(3).astype(np.float32), device=device)
    x64 = gpugrad.tensor(rng.standard_normal((2, 2)), dtype="float64", device=device)
    empty = gpugrad.zeros(0, dtype="float64", device=device)

    def f(a, b, e):
        return {"o": (a.astype("float64")[:2] * b.sum(0)).sin() + e.sum(), "s": a.exp()}
    fwd = func.jacfwd(f, argnums=(0, 1, 2))(x32, x64, empty)
    rev = func.jacrev(f, argnums=(0, 1, 2))(x32, x64, empty)
    for key, dtype in (("o", np.float64), ("s", np.float32)):
        for got, want in zip(fwd[key], rev[key]):       # (forward: the output's dtype,
            assert got.dtype == dtype and got.shape == want.shape      # as torch.func's)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    # by hand: d o_i / d b_jk = cos(a_i s_i) a_i [k == i], s = b.sum(0)
    a, b = x32.numpy().astype(np.float64), x64.numpy()
    s = b.sum(0)
    want = np.zeros((2, 2, 2))
    for i in range(2):
        want[i, :, i] = np.cos(a[i] * s[i]) * a[i]
    np.testing.assert_allclose(fwd["o"][1].numpy(), want, rtol=1e-6)
    assert fwd["o"][2].shape == (2, 0)


def test_only_empty_leaves_still_gives_the_shapes():
    jac = func.jacfwd(lambda e: e.sum() + gpugrad.ones(3))(gpugrad.zeros(0))
    assert jac.shape == (3, 0)
