"""cross_entropy and CrossEntropyLoss (gpugrad/nn/losses.py) against PyTorch 2.13 itself,
where it is installed: values, gradients of the logits and of class probabilities, second
derivatives, signatures, positional calls and the deprecated size_average/reduce, over
the cases of tests/cross_entropy_cases.py."""

import inspect
import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad.nn.losses import CrossEntropyLoss, cross_entropy

from cross_entropy_cases import GRID, IDS, LEGACY, SECOND_ORDER, WEIGHT, case, tensors

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape, soft, weighted, reduction, ignore, smoothing", GRID, ids=IDS)
def test_values_and_gradients_match_pytorch(shape, soft, weighted, reduction, ignore,
                                            smoothing):
    x, target = case(shape, soft, ignore)
    gx, gt, gw = tensors(x, target, weighted, soft)
    tx = torch.tensor(x, requires_grad=True)
    tt = torch.tensor(target, requires_grad=soft)
    tw = torch.tensor(WEIGHT) if weighted else None
    ours = cross_entropy(gx, gt, gw, ignore_index=ignore, reduction=reduction,
                         label_smoothing=smoothing)
    theirs = torch.nn.functional.cross_entropy(tx, tt, tw, ignore_index=ignore,
                                               reduction=reduction, label_smoothing=smoothing)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    cotangent = np.random.default_rng(1).standard_normal(tuple(theirs.shape))
    ours.backward(gpugrad.tensor(cotangent, dtype="float64"))
    theirs.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-11, atol=1e-14)
    if soft:
        np.testing.assert_allclose(gt.grad.numpy(), tt.grad.numpy(), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("shape, soft, weighted, reduction", SECOND_ORDER)
def test_second_derivatives_match_pytorch(shape, soft, weighted, reduction):
    ignore = -100 if soft else 1
    x, target = case(shape, soft, ignore)
    gx, gt, gw = tensors(x, target, weighted, soft)
    gt = gt.detach()
    tx, tt = torch.tensor(x, requires_grad=True), torch.tensor(target)
    tw = torch.tensor(WEIGHT) if weighted else None
    v = np.random.default_rng(2).standard_normal(x.shape)
    kwargs = dict(ignore_index=ignore, reduction=reduction, label_smoothing=0.2)
    # the gradient of <d loss / dx, v>: a Hessian-vector product (summed over the outputs)
    (g,) = gpugrad.autograd.grad(cross_entropy(gx, gt, gw, **kwargs).sum(), [gx],
                                 create_graph=True)
    (g * gpugrad.tensor(v)).sum().backward()
    (tg,) = torch.autograd.grad(torch.nn.functional.cross_entropy(tx, tt, tw, **kwargs).sum(),
                                [tx], create_graph=True)
    (tg * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_signatures_are_pytorchs():

    def params(fn):
        return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]

    ours, theirs = params(cross_entropy), params(torch.nn.functional.cross_entropy)
    assert [name for name, _ in ours] == [name for name, _ in theirs] + ["logits"]
    assert ours[2:len(theirs)] == theirs[2:]
    assert params(CrossEntropyLoss.__init__) == params(torch.nn.CrossEntropyLoss.__init__)


def test_legacy_reductions_and_positional_calls_match_pytorch():
    x, labels = case("NC", False, 1)
    gx, gt, gw = tensors(x, labels, True, False)
    tx, tt, tw = torch.tensor(x), torch.tensor(labels), torch.tensor(WEIGHT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for size_average, reduce in [legacy for legacy, _ in LEGACY]:
            ours = cross_entropy(gx, gt, gw, size_average, 1, reduce, "sum", 0.1)
            theirs = torch.nn.functional.cross_entropy(tx, tt, tw, size_average, 1, reduce,
                                                       "sum", 0.1)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
            assert CrossEntropyLoss(gw, size_average, 1, reduce).reduction == \
                torch.nn.CrossEntropyLoss(tw, size_average, 1, reduce).reduction

