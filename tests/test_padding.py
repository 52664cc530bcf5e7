"""F.pad (nn/padding.py): every mode, padding and cropping, against positions worked out
with NumPy's own pad, gradients by finite differences, errors, and PyTorch where installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad.nn import functional as F

RNG = np.random.default_rng(12)
NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


def leaf(a):
    return gpugrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


@pytest.mark.parametrize("mode", sorted(NUMPY_MODE))
@pytest.mark.parametrize("amounts", [(2, 1), (1, 2, 2, 0), (0, 3), (1, 1, 1, 1)])
def test_padding_as_numpy_pads(mode, amounts):
    x = RNG.standard_normal((2, 4, 5))
    widths = [(0, 0)] * (3 - len(amounts) // 2) + [
        (amounts[2 * k], amounts[2 * k + 1]) for k in reversed(range(len(amounts) // 2))]
    want = np.pad(x, widths, mode=NUMPY_MODE[mode])
    np.testing.assert_array_equal(F.pad(leaf(x), amounts, mode=mode).numpy(), want)
    assert gpugrad.gradcheck(lambda t: F.pad(t, amounts, mode=mode) ** 2, (leaf(x),))


def test_constant_value_and_cropping():
    x = RNG.standard_normal((3, 4))
    got = F.pad(leaf(x), (-1, 2, 1, -2), value=7.0).numpy()
    want = np.pad(x[:1, 1:], ((1, 0), (0, 2)), constant_values=7.0)
    np.testing.assert_array_equal(got, want)


def test_bad_padding_is_named():
    x = gpugrad.zeros(2, 3)
    with pytest.raises(ValueError, match="pairs of ints"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="mode must be one of"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="reflect padding of 3"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="value is for mode 'constant'"):
        F.pad(x, (1, 1), mode="circular", value=1.0)


def test_against_torch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((1, 3, 4))
    for mode in NUMPY_MODE:
        for amounts in [(-1, 2), (0, 0, -1, 1), (2, -1, 1, 1)]:
            want = torch.nn.functional.pad(torch.tensor(x), amounts, mode=mode).numpy()
            np.testing.assert_array_equal(F.pad(gpugrad.tensor(x), amounts, mode=mode).numpy(),
                                          want)
