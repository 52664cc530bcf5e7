"""Refusal messages for NumPy calls that would cut a tensor from the graph: they name what
gpugrad has instead (second review)."""

import numpy as np
import pytest

import gpugrad


@pytest.fixture
def t():
    return gpugrad.tensor([1.0, 2.0], requires_grad=True)


def test_extra_numpy_argument_is_named(t):
    with pytest.raises(RuntimeError, match=r"has np.sum .* NumPy's dtype= argument"):
        np.sum(t, dtype=np.float32)
    with pytest.raises(RuntimeError, match=r"has np.mean .* NumPy's where= argument"):
        np.mean(t, where=np.array([True, False]))
    with pytest.raises(RuntimeError, match=r"has np.sin .* dtype="):
        np.sin(t, dtype=np.float64)


def test_out_and_inplace_say_assign(t):
    a = np.zeros(2, np.float32)
    with pytest.raises(RuntimeError, match=r"a = a \+ t"):
        np.exp(t, out=a)
    with pytest.raises(RuntimeError, match=r"a = a \+ t") as info:
        a += t
    assert "gpugrad.add(t)" not in str(info.value)


def test_ufunc_methods_give_real_spellings(t):
    with pytest.raises(RuntimeError, match="index_add_") as info:
        np.add.at(np.zeros(2), [0], t)
    assert "gpugrad.add.at" not in str(info.value)
    with pytest.raises(RuntimeError, match=r"t.sum\(dim\)") as info:
        np.add.reduce(t)
    assert "gpugrad.add.reduce" not in str(info.value)
    for spelled in ("index_add_", "scatter_add"):
        assert hasattr(t, spelled)


def test_no_op_message_kept(t):
    with pytest.raises(RuntimeError, match="no op for this call"):
        np.percentile(t, 50)
    assert np.percentile(t.detach(), 50) == 1.5
