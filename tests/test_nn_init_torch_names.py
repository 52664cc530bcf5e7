"""nn.init's PyTorch names beyond the common initialisers: the private fan helpers
(``_calculate_fan_in_and_fan_out``, ``_calculate_correct_fan``), ``generator=``, ``dirac_``,
``sparse_``, and the refusal to draw random values into integer tensors. Values derived by
hand; PyTorch compared where installed."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad.nn import init


def test_private_fan_helpers_by_hand():
    assert init._calculate_fan_in_and_fan_out(gpugrad.empty(64, 32, 3, 3)) == (288, 576)
    assert init._calculate_fan_in_and_fan_out(gpugrad.empty(5, 7)) == (7, 5)
    assert init._calculate_correct_fan(gpugrad.empty(64, 32), "fan_out") == 64
    assert init._calculate_correct_fan(gpugrad.empty(64, 32), "fan_in") == 32
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(gpugrad.empty(3))


def test_private_fan_helpers_equal_torchs():
    torch = pytest.importorskip("torch")
    for shape in ((64, 32, 3, 3), (5, 7), (4, 6, 2)):
        assert init._calculate_fan_in_and_fan_out(gpugrad.empty(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        for mode in ("fan_in", "fan_out"):
            assert init._calculate_correct_fan(gpugrad.empty(*shape), mode) == \
                torch.nn.init._calculate_correct_fan(torch.empty(shape), mode)


RANDOM = {
    "uniform_": lambda t, g: init.uniform_(t, -1.0, 2.0, generator=g),
    "normal_": lambda t, g: init.normal_(t, 1.0, 0.5, generator=g),
    "xavier_uniform_": lambda t, g: init.xavier_uniform_(t, generator=g),
    "xavier_normal_": lambda t, g: init.xavier_normal_(t, generator=g),
    "kaiming_uniform_": lambda t, g: init.kaiming_uniform_(t, generator=g),
    "kaiming_normal_": lambda t, g: init.kaiming_normal_(t, generator=g),
    "trunc_normal_": lambda t, g: init.trunc_normal_(t, generator=g),
    "orthogonal_": lambda t, g: init.orthogonal_(t, generator=g),
    "sparse_": lambda t, g: init.sparse_(t, 0.5, generator=g),
}


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_generator_is_honoured(name):
    fill = RANDOM[name]
    draws = []
    for _ in range(2):
        generator = gpugrad.Generator().manual_seed(7)
        gpugrad.manual_seed(len(draws))                 # the global stream differs ...
        draws.append(fill(gpugrad.empty(6, 5), generator).numpy().copy())
    np.testing.assert_array_equal(draws[0], draws[1])   # ... the generator's draws do not
    gpugrad.manual_seed(3)
    before = gpugrad.rand(4).numpy()
    gpugrad.manual_seed(3)
    fill(gpugrad.empty(6, 5), gpugrad.Generator().manual_seed(7))
    np.testing.assert_array_equal(gpugrad.rand(4).numpy(), before)     # global untouched
    other = fill(gpugrad.empty(6, 5), gpugrad.Generator().manual_seed(8)).numpy()
    assert not np.array_equal(other, draws[0])


def test_dirac_by_hand():
    w = init.dirac_(gpugrad.ones(3, 2, 5)).numpy()      # 3 out, 2 in: min(3, 2) pairs
    want = np.zeros((3, 2, 5), dtype=np.float32)
    want[0, 0, 2] = want[1, 1, 2] = 1.0
    np.testing.assert_array_equal(w, want)
    w = init.dirac_(gpugrad.ones(4, 2, 3, 3), groups=2).numpy()     # 2 outputs per group
    want = np.zeros((4, 2, 3, 3), dtype=np.float32)
    for g in range(2):
        for d in range(2):
            want[g * 2 + d, d, 1, 1] = 1.0
    np.testing.assert_array_equal(w, want)
    x = np.arange(10.0)                                 # a conv with it is the identity
    k = init.dirac_(gpugrad.empty(1, 1, 3)).numpy()[0, 0]
    np.testing.assert_array_equal(np.convolve(x, k[::-1], mode="same"), x)
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(gpugrad.empty(3, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(gpugrad.empty(3, 2, 3), groups=2)


def test_dirac_equals_torchs():
    torch = pytest.importorskip("torch")
    for shape, groups in (((4, 4, 3), 1), ((6, 2, 3, 3), 2), ((4, 3, 3, 3, 3), 2),
                          ((2, 5, 1, 2), 1)):
        np.testing.assert_array_equal(init.dirac_(gpugrad.empty(*shape), groups).numpy(),
                                      torch.nn.init.dirac_(torch.empty(shape), groups).numpy())


def test_sparse_zeros_per_column_and_std():
    gpugrad.manual_seed(0)
    w = init.sparse_(gpugrad.empty(400, 50, dtype="float64"), sparsity=0.1, std=0.02).numpy()
    assert ((w == 0).sum(axis=0) == math.ceil(0.1 * 400)).all()
    kept = w[w != 0]
    assert kept.size == 360 * 50 and abs(kept.std() - 0.02) < 0.001
    rows_zeroed = [set(np.flatnonzero(w[:, j] == 0)) for j in range(2)]
    assert rows_zeroed[0] != rows_zeroed[1]             # each column draws its own rows
    with pytest.raises(ValueError, match="2 dimensions"):
        init.sparse_(gpugrad.empty(3), 0.5)


def test_sparse_zero_count_equals_torchs():
    torch = pytest.importorskip("torch")
    for rows, cols, sparsity in ((10, 4, 0.25), (7, 3, 0.5), (5, 5, 0.0)):
        mine = (init.sparse_(gpugrad.empty(rows, cols), sparsity).numpy() == 0).sum(0)
        theirs = (torch.nn.init.sparse_(torch.empty(rows, cols), sparsity) == 0).sum(0)
        np.testing.assert_array_equal(mine, theirs.numpy())


@pytest.mark.parametrize("name", sorted(RANDOM))
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_random_fills_refuse_integer_tensors(name, dtype):
    t = gpugrad.zeros(3, 4, dtype=dtype)
    with pytest.raises(NotImplementedError, match=f"nn.init.{name}.*{dtype}"):
        RANDOM[name](t, None)
    assert not t.numpy().any()                          # left as it was


def test_deterministic_fills_keep_working_on_integers():
    assert init.constant_(gpugrad.zeros(2, dtype="int64"), 3).tolist() == [3, 3]
    assert init.ones_(gpugrad.zeros(2, dtype="int32")).tolist() == [1, 1]
    assert init.eye_(gpugrad.zeros(2, 2, dtype="int64")).tolist() == [[1, 0], [0, 1]]


def test_integer_refusal_is_torchs_class():
    torch = pytest.importorskip("torch")
    for fill in (torch.nn.init.uniform_, torch.nn.init.normal_):
        with pytest.raises(NotImplementedError):
            fill(torch.zeros(3, dtype=torch.int64))
    with pytest.raises(NotImplementedError):
        init.uniform_(gpugrad.zeros(3, dtype="int64"))
