"""clip_grad_norm_ / get_total_norm on float16 gradients: the squares are summed in float32
(NumPy would sum float16 in float16, where 300**2 + 400**2 overflows and 1e-4**2
underflows) and the norm comes back in float16, as PyTorch's. Hand-derived values, and
PyTorch bit for bit where installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad import nn


def half_param(values):
    p = nn.Parameter(gpugrad.zeros(len(values), dtype="float16"))
    p.grad = gpugrad.tensor(np.array(values, dtype=np.float16))
    return p


def test_norm_above_float16_squares_is_not_inf():
    p = half_param([300.0, 400.0])
    total = nn.utils.clip_grad_norm_([p], 1000.0)     # max_norm above the norm: no change
    assert total.dtype == np.float16 and total.item() == 500.0
    assert p.grad.tolist() == [300.0, 400.0]
    total = nn.utils.clip_grad_norm_([p], 1.0)
    coef = np.float16(1.0) / (np.float16(500.0) + np.float16(1e-6))   # in float16, as torch
    np.testing.assert_array_equal(p.grad.numpy(),
                                  np.array([300.0, 400.0], dtype=np.float16) * coef)
    assert abs(float(np.linalg.norm(p.grad.numpy().astype(np.float64))) - 1.0) < 1e-3


def test_small_float16_gradients_do_not_underflow():
    g = gpugrad.tensor(np.full(100, 1e-4, dtype=np.float16))
    total = nn.utils.get_total_norm([g])
    want = np.sqrt(100) * np.float64(np.float16(1e-4))      # 10 * 1e-4
    assert total.dtype == np.float16 and total.item() == pytest.approx(want, rel=1e-3)


def test_half_model_keeps_learning_after_clipping():
    gpugrad.manual_seed(0)
    model = nn.Linear(4, 4).half()
    model(gpugrad.ones(64, 4, dtype="float16") * 20).sum().backward()
    grads = [p.grad.numpy().astype(np.float64) for p in model.parameters()]
    want = np.sqrt(sum((g ** 2).sum() for g in grads))
    total = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    assert np.isfinite(total.item()) and total.item() == pytest.approx(want, rel=1e-3)
    after = np.sqrt(sum((p.grad.numpy().astype(np.float64) ** 2).sum()
                        for p in model.parameters()))
    assert after == pytest.approx(1.0, rel=1e-2)


def test_result_dtypes_and_overflow_as_pytorch():
    halves = [gpugrad.tensor(np.full(100, 300, dtype=np.float16))] * 10
    with np.errstate(all="raise"):                  # no NumPy overflow warning either
        assert nn.utils.get_total_norm(halves, 1.0).item() == float("inf")  # 300000 > 65504
    assert nn.utils.get_total_norm(halves[:1], "inf").item() == 300.0
    mixed = nn.utils.get_total_norm([gpugrad.tensor(np.array([300, 400], dtype=np.float16)),
                                     gpugrad.tensor([3.0, 4.0])])
    assert mixed.dtype == np.float32 and mixed.item() == pytest.approx(np.sqrt(250025.0))


def test_float16_bit_for_bit_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    arrays = [(rng.standard_normal(n) * scale).astype(np.float16)
              for n, scale in ((50, 200.0), (7, 1e-3), (300, 30.0))]
    for norm_type in (2.0, 1.0, 3.0, float("inf")):
        for max_norm in (1.0, 1e5):
            mine = [half_param(a) for a in arrays]
            theirs = [torch.nn.Parameter(torch.zeros(len(a), dtype=torch.half)) for a in arrays]
            for p, a in zip(theirs, arrays):
                p.grad = torch.tensor(a)
            got = nn.utils.clip_grad_norm_(mine, max_norm, norm_type)
            want = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
            assert got.dtype == np.float16
            np.testing.assert_allclose(got.item(), want.item(), rtol=1e-3)
            for p, q in zip(mine, theirs):
                np.testing.assert_allclose(p.grad.numpy().astype(np.float32),
                                           q.grad.numpy().astype(np.float32), rtol=2e-3,
                                           atol=1e-7)
    p, q = half_param([300.0, 400.0]), torch.nn.Parameter(torch.zeros(2, dtype=torch.half))
    q.grad = torch.tensor([300.0, 400.0]).half()
    nn.utils.clip_grad_norm_([p], 1.0)
    torch.nn.utils.clip_grad_norm_([q], 1.0)
    np.testing.assert_array_equal(p.grad.numpy().view(np.uint16), q.grad.numpy().view(np.uint16))
