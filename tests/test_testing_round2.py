"""Round-2 fixes in gpugrad.testing.assert_close: NumPy scalars compare as the Python
numbers they hold, and None pairs, as torch.testing.assert_close."""

import numpy as np
import pytest

from gpugrad.testing import assert_close


@pytest.mark.parametrize("actual,expected", [(np.float64(1.0), 1.0), (np.float32(1.0), 1.0),
                                             (np.int64(3), 3), (np.bool_(True), True),
                                             (None, None)])
def test_numpy_scalars_and_none_pass(actual, expected):
    assert_close(actual, expected)
    assert_close(expected, actual)


def test_mismatches_still_fail():
    with pytest.raises(AssertionError, match="d\\)types"):
        assert_close(1, 1.0)
    with pytest.raises(AssertionError, match="None mismatch"):
        assert_close(None, 1)
    with pytest.raises(AssertionError, match="Scalars"):
        assert_close(np.float64(1.0), 2.0)


def test_as_torch():
    torch = pytest.importorskip("torch")
    for a, e in [(np.float64(1.0), 1.0), (None, None), (np.int64(3), 3)]:
        torch.testing.assert_close(a, e)
        assert_close(a, e)
