"""Shape errors of layers raise PyTorch's class (RuntimeError) and stay ValueErrors, so
code ported from PyTorch (``except RuntimeError``) and gpugrad's own (``except ValueError``)
both catch them."""

import pytest

import gpugrad
from gpugrad import nn


@pytest.fixture
def torch():
    return pytest.importorskip("torch")

CASES = [
    ("linear", lambda M: M.nn.Linear(3, 2)(M.ones(4, 5))),
    ("matmul", lambda M: M.ones(4, 5) @ M.ones(3, 2)),
    ("matmul_batch", lambda M: M.ones(2, 4, 5) @ M.ones(3, 5, 2)),
    ("matmul_0d", lambda M: M.matmul(M.ones(()), M.ones(3))),
    ("batch_norm_channels", lambda M: M.nn.BatchNorm1d(3)(M.ones(4, 5))),
    ("batch_norm_weight", lambda M: M.nn.functional.batch_norm(
        M.ones(4, 3), None, None, M.ones(2), training=True)),
    ("layer_norm", lambda M: M.nn.LayerNorm(3)(M.ones(4, 5))),
]


@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
def test_layer_shape_errors_are_runtime_and_value_errors(name, call):
    with pytest.raises(RuntimeError) as caught:
        call(gpugrad)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
def test_torch_raises_runtime_error_there_too(torch, name, call):
    with pytest.raises(RuntimeError):
        call(torch)


def test_batch_norm_rank_error_stays_a_value_error_as_torchs():
    with pytest.raises(ValueError, match="2-d or 3-d"):
        nn.BatchNorm1d(3)(gpugrad.ones(2, 3, 4, 5))
