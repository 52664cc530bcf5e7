"""Random draws at their edges, as PyTorch 2.13 makes them: float16 uniforms below 1 (and so
bernoulli(1) always 1), multinomial over many rows or none, randperm inside vmap, the dtype
of normal(mean, std), and the capture refusal naming the random draw.

Values are not PyTorch's (another generator): bounds, shapes, dtypes and errors are checked
exactly, against torch where it is installed and against hand values where it is not.
"""

import numpy as np
import pytest

import gpugrad
from gpugrad import random_sampling
from gpugrad.autograd.capture_mode import CaptureError, capture_rules


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# ----------------------------------------------------------------------------- float16
def test_float16_rand_is_below_one_on_the_2048_grid():
    gpugrad.manual_seed(0)
    u = gpugrad.rand(10 ** 6, dtype=gpugrad.float16).numpy()
    assert u.dtype == np.float16 and u.min() >= 0 and u.max() < 1      # 1.0 came out 52 times
    k = u.astype(np.float64) * 2048                     # k / 2048, k in 0 .. 2047, as torch
    assert np.array_equal(k, np.floor(k)) and len(np.unique(k)) == 2048
    g = gpugrad.Generator().manual_seed(5)              # the generator= path alike
    assert gpugrad.rand(10 ** 5, dtype=gpugrad.float16, generator=g).numpy().max() < 1
    assert gpugrad.rand_like(gpugrad.zeros(10 ** 5, dtype=gpugrad.float16)).numpy().max() < 1
    assert gpugrad.randn(4, dtype=gpugrad.float16).dtype == np.float16


def test_float16_bernoulli_of_one_is_always_one(torch):
    gpugrad.manual_seed(0)
    ones = gpugrad.ones(200_000, dtype=gpugrad.float16)
    assert int((gpugrad.bernoulli(ones) == 0).sum()) == 0               # was 52
    assert int((torch.bernoulli(torch.ones(200_000, dtype=torch.float16)) == 0).sum()) == 0
    assert int((ones.bernoulli_(1.0) == 0).sum()) == 0


def test_float16_init_uniform_draws_on_the_float16_grid():
    gpugrad.manual_seed(0)
    w = gpugrad.nn.init.uniform_(gpugrad.zeros(1000, 1000, dtype=gpugrad.float16))
    values = w.numpy().astype(np.float64)
    # a = 0, b = 1: exactly the k / 2048 of rand(dtype=float16), never b
    assert values.max() < 1 and np.array_equal(values * 2048, np.floor(values * 2048))
    w = gpugrad.nn.init.uniform_(gpugrad.zeros(1000, 1000, dtype=gpugrad.float16), -2.0, 2.0)
    assert -2 <= w.numpy().min() and w.numpy().max() < 2


# ----------------------------------------------------------------------------- multinomial
def test_multinomial_of_no_rows(torch):
    for replacement in (True, False):
        out = gpugrad.multinomial(gpugrad.zeros(0, 3), 2, replacement)
        theirs = torch.multinomial(torch.zeros(0, 3), 2, replacement)
        assert out.shape == tuple(theirs.shape) == (0, 2) and out.dtype == np.int64


def test_multinomial_of_no_rows_by_hand():
    out = gpugrad.multinomial(gpugrad.zeros(0, 3), 2, replacement=True)
    assert out.shape == (0, 2) and out.dtype == np.int64


def test_search_rows_equals_a_search_per_row():
    rng = np.random.default_rng(0)
    weights = rng.random((300, 7)) * (rng.random((300, 7)) < 0.6)    # zero categories
    weights[:, 3] += 0.1                                                # no empty row
    weights[0, -1] = 0.0                                                # a zero last one
    cdf = np.cumsum(weights, -1)
    cdf = cdf / cdf[:, -1:]
    u = rng.random((300, 50))
    u[:, 0] = np.nextafter(1.0, 0.0)            # u + 2r would round up to 2r + 1
    u[:, 1] = 0.0
    ours = random_sampling._search_rows(cdf, u)
    grid = 2.0 ** (52 - (2 * 300).bit_length())
    snapped = np.floor(u * grid) / grid
    loop = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, snapped)])
    np.testing.assert_array_equal(ours, loop)
    assert ours.max() < 7 and weights[np.arange(300)[:, None], ours].min() > 0


def test_multinomial_rows_follow_their_own_weights():
    gpugrad.manual_seed(0)
    p = gpugrad.tensor([[0.0, 1.0, 0.0, 3.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0],
                        [5.0, 5.0, 0.0, 0.0]])
    n = 40_000
    draws = gpugrad.multinomial(p, n, replacement=True).numpy()
    assert draws.shape == (4, n)
    freq = np.stack([np.bincount(row, minlength=4) / n for row in draws])
    want = p.numpy() / p.numpy().sum(-1, keepdims=True)
    assert np.array_equal(freq == 0, want == 0)             # zero weights never drawn
    assert np.all(np.abs(freq - want) < 5 * np.sqrt(want * (1 - want) / n) + 1e-12)


# ----------------------------------------------------------------------------- vmap
def test_randperm_inside_vmap_follows_randomness(torch):
    def f(x):
        return x + gpugrad.randperm(3).float()

    with pytest.raises(RuntimeError, match="randomness"):
        gpugrad.func.vmap(f)(gpugrad.zeros(2, 3))
    with pytest.raises(RuntimeError, match="randomness"):
        torch.func.vmap(lambda x: x + torch.randperm(3).float())(torch.zeros(2, 3))
    gpugrad.manual_seed(0)
    rows = gpugrad.func.vmap(f, randomness="different")(gpugrad.zeros(64, 3)).tolist()
    assert all(sorted(r) == [0, 1, 2] for r in rows) and len({tuple(r) for r in rows}) == 6
    rows = gpugrad.func.vmap(f, randomness="same")(gpugrad.zeros(5, 3)).tolist()
    assert sorted(rows[0]) == [0, 1, 2] and all(r == rows[0] for r in rows)


def test_randperm_inside_vmap_by_hand():
    with pytest.raises(RuntimeError, match="randomness"):
        gpugrad.func.vmap(lambda x: x + gpugrad.randperm(3))(gpugrad.zeros(2, 3))
    g = gpugrad.Generator().manual_seed(1)
    out = gpugrad.func.vmap(lambda x: x + gpugrad.randperm(4, generator=g),
                            randomness="different")(gpugrad.zeros(3, 4, dtype=gpugrad.int64))
    assert out.dtype == np.int64 and all(sorted(r) == [0, 1, 2, 3] for r in out.tolist())


# ----------------------------------------------------------------------------- normal dtype
@pytest.mark.parametrize("mean, std", [("float32", "float64"), ("float64", "float32"),
                                       ("float16", "float32"), (None, "float64")])
def test_normal_takes_the_mean_dtype(torch, mean, std):
    def call(lib):
        m = 0.0 if mean is None else lib.zeros(3, dtype=getattr(lib, mean))
        return lib.normal(m, lib.ones(3, dtype=getattr(lib, std)))
    assert str(call(gpugrad).dtype) == str(call(torch).dtype).replace("torch.", "")


def test_normal_takes_the_mean_dtype_by_hand():
    out = gpugrad.normal(gpugrad.zeros(2), gpugrad.ones(2, dtype=gpugrad.float64))
    assert out.dtype == np.float32
    out = gpugrad.normal(0.0, gpugrad.zeros(2, dtype=gpugrad.float64))
    assert out.dtype == np.float64 and out.tolist() == [0.0, 0.0]


# ----------------------------------------------------------------------------- capture
@pytest.mark.parametrize("call", [
    lambda: gpugrad.bernoulli(gpugrad.full((3,), 0.5)),
    lambda: gpugrad.normal(gpugrad.zeros(3), gpugrad.ones(3)),
    lambda: gpugrad.multinomial(gpugrad.ones(3), 2),
    lambda: gpugrad.randperm(3),
])
def test_a_draw_in_a_capture_names_the_random_draw(call):
    with capture_rules(recording=False):
        with pytest.raises(CaptureError, match="random numbers"):
            call()
