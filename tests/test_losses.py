"""Losses against float64 NumPy written from their definitions, stability, and errors."""

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
from gpugrad.nn import functional as F


def reference_cross_entropy(logits, labels, reduction="mean", smoothing=0.0, ignore=-100):
    """PyTorch's documented formula, in float64 NumPy."""
    z = logits.astype(np.float64)
    logp = z - z.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    valid = labels != ignore
    picked = np.where(valid, labels, 0)
    nll = -logp[np.arange(len(z)), picked]
    losses = (1 - smoothing) * nll - smoothing * logp.mean(axis=1)
    losses = np.where(valid, losses, 0.0)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / valid.sum()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("ignore", [-100, 2])
def test_cross_entropy_matches_definition(device, reduction, smoothing, ignore):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 4)) * 3
    labels = np.array([0, 2, 3, 1, 2, 0])
    z = gpugrad.tensor(logits, dtype="float64", device=device, requires_grad=True)
    t = gpugrad.tensor(labels, device=device)
    loss = F.cross_entropy(z, t, reduction=reduction, label_smoothing=smoothing,
                           ignore_index=ignore)
    np.testing.assert_allclose(loss.numpy(), reference_cross_entropy(
        logits, labels, reduction, smoothing, ignore), rtol=1e-12, atol=1e-12)
    assert gpugrad.gradcheck(lambda z: F.cross_entropy(z, t, reduction=reduction,
                                                       label_smoothing=smoothing,
                                                       ignore_index=ignore), (z,))


def test_cross_entropy_gradient_is_softmax_minus_onehot(device):
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    z = gpugrad.tensor(logits, dtype="float64", device=device, requires_grad=True)
    F.cross_entropy(z, gpugrad.tensor([1, 2], device=device)).backward()
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = (softmax - np.eye(3)[[1, 2]]) / 2
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits(device):
    z = gpugrad.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], device=device, requires_grad=True)
    loss = F.cross_entropy(z, gpugrad.tensor([0, 0], device=device))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(z.grad.numpy()).all()
    assert loss.item() == pytest.approx((0.0 + 1e4 + np.log(2)) / 2, rel=1e-6)
    np.testing.assert_allclose(z.grad.numpy(), [[0, 0, 0], [-0.5, 0.25, 0.25]], atol=1e-6)


def test_cross_entropy_module_and_float32(device):
    z = gpugrad.randn(5, 3, device=device, requires_grad=True)
    loss = nn.CrossEntropyLoss(label_smoothing=0.2)(z, gpugrad.tensor([0, 1, 2, 1, 0],
                                                                       device=device))
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32


def test_cross_entropy_errors(device):
    z = gpugrad.randn(3, 4, device=device)
    with pytest.raises(TypeError, match="integer class indices.*float32"):
        F.cross_entropy(z, gpugrad.tensor([0.0, 1.0, 2.0], device=device))
    with pytest.raises(ValueError, match="label 7 is out of range for 4 classes"):
        F.cross_entropy(z, gpugrad.tensor([0, 7, 1], device=device)).item()  # cuda: at .item()
    with pytest.raises(ValueError, match=r"3 rows of logits but labels of shape \(2,\)"):
        F.cross_entropy(z, gpugrad.tensor([0, 1], device=device))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(z, gpugrad.tensor([0, 1, 2], device=device), reduction="avg")


def test_mse_loss(device):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    x = gpugrad.tensor(a, dtype="float64", device=device, requires_grad=True)
    y = gpugrad.tensor(b, dtype="float64", device=device)
    assert nn.MSELoss()(x, y).item() == pytest.approx(((a - b) ** 2).mean())
    assert F.mse_loss(x, y, reduction="sum").item() == pytest.approx(((a - b) ** 2).sum())
    np.testing.assert_allclose(F.mse_loss(x, y, reduction="none").numpy(), (a - b) ** 2)
    F.mse_loss(x, y).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (a - b) / 6)
    with pytest.raises(ValueError, match="shape"):
        F.mse_loss(x, gpugrad.zeros(2, 3, dtype="float64", device=device))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint8])
def test_small_label_dtypes_with_many_classes_are_checked_as_int64_labels(dtype):
    """The label check reads signed labels through an unsigned view (negatives read huge)
    only where the classes are fewer than the view's sign bit: int8 labels of 300 classes
    still find -1 out of range and -100 ignored."""
    classes = 300 if dtype != np.uint8 else 200
    logits = np.zeros((3, classes), np.float32)
    logits[:, 7], logits[:, classes - 1] = 5.0, 9.0
    x = gpugrad.tensor(logits)
    labels = np.array([-100, 3, 7] if dtype != np.uint8 else [100, 3, 7], dtype)
    loss = F.cross_entropy(x, gpugrad.tensor(labels), ignore_index=-100 if dtype != np.uint8
                           else 100).item()
    wide = F.cross_entropy(x, gpugrad.tensor(labels.astype(np.int64)),
                           ignore_index=-100 if dtype != np.uint8 else 100).item()
    assert loss == wide == pytest.approx(np.log(classes - 2 + np.exp(5) + np.exp(9)) - 2.5,
                                         rel=1e-6)     # rows 3 and 7; the first ignored
    if dtype != np.uint8:
        with pytest.raises(ValueError, match="label -1 is out of range for 300 classes"):
            F.cross_entropy(x, gpugrad.tensor(np.array([-1, 3, 7], dtype)))
