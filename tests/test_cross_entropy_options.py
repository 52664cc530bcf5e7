"""cross_entropy and CrossEntropyLoss with PyTorch's arguments (gpugrad/nn/losses.py):
per-class weights, class probabilities ("soft" targets), logits (N, C), (N, C, d1, d2) and
(C,), ignore_index and label_smoothing in every reduction; PyTorch's positional order, its
deprecated size_average/reduce, and errors that name what was wrong.

Checked without torch: against the float64 NumPy reference of tests/cross_entropy_cases.py
(written from PyTorch's documented formulas) and small cases worked out by hand, gradients
by finite differences, second derivatives by gradgradcheck. test_cross_entropy_torch.py
checks the same cases against PyTorch 2.13 itself."""

import math
import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
from gpugrad.nn.losses import CrossEntropyLoss, cross_entropy

from cross_entropy_cases import (C, GRID, IDS, LEGACY, REDUCTIONS, SECOND_ORDER, WEIGHT, case,
                                 reference, tensors)


# ------------------------------------------------------------------ no torch needed
@pytest.mark.parametrize("shape, soft, weighted, reduction, ignore, smoothing", GRID, ids=IDS)
def test_matches_the_numpy_reference_and_finite_differences(shape, soft, weighted, reduction,
                                                            ignore, smoothing):
    x, target = case(shape, soft, ignore)
    gx, gt, gw = tensors(x, target, weighted, soft)

    def loss(gx, gt):
        return cross_entropy(gx, gt, gw, ignore_index=ignore, reduction=reduction,
                             label_smoothing=smoothing)

    out = loss(gx, gt)
    expected = reference(x, target, WEIGHT if weighted else None, ignore, reduction, smoothing)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert gpugrad.gradcheck(loss, (gx, gt))


@pytest.mark.parametrize("soft", [False, True])
def test_the_composites_on_each_device(device, soft):
    x, target = case("NCd1d2", soft, -100 if soft else 1)
    gx = gpugrad.tensor(x, dtype="float64", device=device, requires_grad=True)
    gt = gpugrad.tensor(target, dtype="float64" if soft else "int64", device=device)
    gw = gpugrad.tensor(WEIGHT, dtype="float64", device=device)
    ignore = -100 if soft else 1
    for reduction in REDUCTIONS:
        out = cross_entropy(gx, gt, gw, ignore_index=ignore, reduction=reduction,
                            label_smoothing=0.3)
        assert out.device == gx.device
        np.testing.assert_allclose(out.numpy(), reference(x, target, WEIGHT, ignore,
                                                          reduction, 0.3), rtol=1e-12)
    assert gpugrad.gradcheck(lambda gx: cross_entropy(gx, gt, gw, ignore_index=ignore), (gx,))



@pytest.mark.parametrize("shape, soft, weighted, reduction", SECOND_ORDER)
def test_second_derivatives_by_gradgradcheck(shape, soft, weighted, reduction):
    ignore = -100 if soft else 1
    x, target = case(shape, soft, ignore)
    gx, gt, gw = tensors(x, target, weighted, soft)
    assert gpugrad.gradgradcheck(
        lambda gx: cross_entropy(gx, gt, gw, ignore_index=ignore, reduction=reduction,
                                 label_smoothing=0.2), (gx,))


def test_a_weighted_case_worked_by_hand():
    # uniform logits: log_softmax = -log 2 everywhere; the loss of a row is w[label] log 2
    x = gpugrad.zeros(2, 2, dtype="float64", requires_grad=True)
    labels, w = gpugrad.tensor([0, 1]), gpugrad.tensor([1.0, 3.0], dtype="float64")
    log2 = math.log(2)
    np.testing.assert_allclose(cross_entropy(x, labels, w, reduction="none").numpy(),
                               [log2, 3 * log2], rtol=1e-15)
    assert cross_entropy(x, labels, w, reduction="sum").item() == pytest.approx(4 * log2)
    loss = cross_entropy(x, labels, w)              # "mean": / (w[0] + w[1]) = / 4
    assert loss.item() == pytest.approx(log2)
    loss.backward()             # w[label] (softmax - one_hot) / 4
    np.testing.assert_allclose(x.grad.numpy(), [[-0.125, 0.125], [0.375, -0.375]],
                               rtol=1e-15)


def test_label_smoothing_with_weights_worked_by_hand():
    # softmax [1/4, 3/4]; label 0, w = [2, 1], smoothing 1/2 over 2 classes:
    # (1 - 1/2) * 2 log 4  +  (1/2) / 2 * (2 log 4 + 1 log(4/3)), then "mean" / w[0] = / 2
    x = gpugrad.tensor([[0.0, math.log(3)]], dtype="float64")
    w = gpugrad.tensor([2.0, 1.0], dtype="float64")
    row = math.log(4) + 0.25 * (2 * math.log(4) + math.log(4 / 3))
    got = cross_entropy(x, gpugrad.tensor([0]), w, reduction="sum", label_smoothing=0.5)
    assert got.item() == pytest.approx(row, rel=1e-14)
    got = cross_entropy(x, gpugrad.tensor([0]), w, label_smoothing=0.5)
    assert got.item() == pytest.approx(row / 2, rel=1e-14)


def test_soft_targets_with_weights_worked_by_hand():
    # softmax [1/4, 3/4], q = [1/2, 1/2], w = [2, 1]: -(2 q0 log 1/4 + q1 log 3/4);
    # d/dx_j = softmax_j * sum_c w_c q_c - w_j q_j = [1/4 * 3/2 - 1, 3/4 * 3/2 - 1/2]
    x = gpugrad.tensor([[0.0, math.log(3)]], dtype="float64", requires_grad=True)
    q = gpugrad.tensor([[0.5, 0.5]], dtype="float64")
    w = gpugrad.tensor([2.0, 1.0], dtype="float64")
    loss = cross_entropy(x, q, w)                   # "mean": / N = / 1, not / the weights
    assert loss.item() == pytest.approx(math.log(4) + 0.5 * math.log(4 / 3), rel=1e-14)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-0.625, 0.625]], rtol=1e-14)
    two = cross_entropy(gpugrad.cat([x, x]).detach(), gpugrad.cat([q, q]), w)
    assert two.item() == pytest.approx(loss.item(), rel=1e-14)     # a mean over rows


def test_unbatched_and_spatial_inputs_by_hand():
    x = gpugrad.tensor([0.0, math.log(3)], dtype="float64")               # (C,)
    assert cross_entropy(x, gpugrad.tensor(1), reduction="none").shape == ()
    assert cross_entropy(x, gpugrad.tensor(1)).item() == pytest.approx(math.log(4 / 3))
    assert cross_entropy(x, gpugrad.tensor([0.0, 1.0], dtype="float64")).item() == \
        pytest.approx(math.log(4 / 3))
    # (N, C, d1): position j of example n is the row x[n, :, j]
    spatial = gpugrad.tensor([[[0.0, 0.0], [math.log(3), 0.0]]], dtype="float64")  # (1, 2, 2)
    losses = cross_entropy(spatial, gpugrad.tensor([[1, 0]]), reduction="none")
    np.testing.assert_allclose(losses.numpy(), [[math.log(4 / 3), math.log(2)]], rtol=1e-14)


def test_weights_of_ones_agree_with_the_fused_record():
    x, labels = case("NC", False, 2, seed=3)
    gx = gpugrad.tensor(x, dtype="float64")
    ones = gpugrad.ones(C, dtype="float64")
    for reduction in REDUCTIONS:
        kwargs = dict(ignore_index=2, reduction=reduction, label_smoothing=0.3)
        fused = cross_entropy(gx, gpugrad.tensor(labels), **kwargs)
        composite = cross_entropy(gx, gpugrad.tensor(labels), ones, **kwargs)
        np.testing.assert_allclose(composite.numpy(), fused.numpy(), rtol=1e-13)


def test_the_common_case_keeps_the_fused_record():
    x = gpugrad.randn(4, C, requires_grad=True)
    labels = gpugrad.tensor([0, 1, 2, -100])
    for kwargs in ({}, {"label_smoothing": 0.1}, {"ignore_index": -100, "reduction": "sum"}):
        assert cross_entropy(x, labels, **kwargs).grad_fn.name() == \
            "SoftmaxCrossEntropyBackward"
    assert CrossEntropyLoss()(x, labels).grad_fn.name() == "SoftmaxCrossEntropyBackward"
    spatial = gpugrad.randn(2, C, 3, requires_grad=True)         # rows of the same record
    assert cross_entropy(spatial, gpugrad.tensor([[0, 1, 2], [3, 0, 1]])).grad_fn.name() \
        == "SoftmaxCrossEntropyBackward"
    assert cross_entropy(x, labels, gpugrad.ones(C)).grad_fn.name() != \
        "SoftmaxCrossEntropyBackward"


def test_nothing_to_average_is_nan_with_a_zero_gradient():
    x = gpugrad.randn(2, C, dtype="float64", requires_grad=True)
    loss = cross_entropy(x, gpugrad.tensor([-100, -100]), gpugrad.ones(C, dtype="float64"),
                         label_smoothing=0.1)
    assert math.isnan(loss.item())
    loss.backward()
    assert (x.grad.numpy() == 0).all()
    empty = cross_entropy(gpugrad.zeros(0, C), gpugrad.zeros(0, C))
    assert math.isnan(empty.item())


def test_pytorch_positional_order_and_the_old_keywords():
    x, labels = case("NC", False, 1)
    gx, gt, gw = tensors(x, labels, True, False)
    by_keyword = cross_entropy(gx, gt, weight=gw, ignore_index=1, reduction="sum",
                               label_smoothing=0.1)
    positional = cross_entropy(gx, gt, gw, None, 1, None, "sum", 0.1)
    np.testing.assert_array_equal(positional.numpy(), by_keyword.numpy())
    module = CrossEntropyLoss(gw, None, 1, None, "sum", 0.1)
    np.testing.assert_array_equal(module(gx, gt).numpy(), by_keyword.numpy())
    old = cross_entropy(logits=gx, target=gt, reduction="none", label_smoothing=0.1,
                        ignore_index=1)
    np.testing.assert_allclose(old.numpy(), reference(x, labels, None, 1, "none", 0.1),
                               rtol=1e-12)
    old_module = CrossEntropyLoss(reduction="none", label_smoothing=0.1, ignore_index=1)
    np.testing.assert_array_equal(old_module(gx, gt).numpy(), old.numpy())
    assert CrossEntropyLoss(None)(gx, gt).item() == pytest.approx(
        reference(x, labels, None, -100, "mean", 0.0), rel=1e-12)
    with pytest.raises(TypeError, match="got both input and logits"):
        cross_entropy(gx, gt, logits=gx)


def test_a_reduction_where_pytorch_takes_the_weight_is_refused():
    x, labels = gpugrad.zeros(2, C), gpugrad.tensor([0, 1])
    with pytest.raises(TypeError, match=r"cross_entropy\(input, target, 'sum'\): the third "
                                        r"positional argument is weight .* pass "
                                        r"reduction='sum' by keyword"):
        cross_entropy(x, labels, "sum")
    with pytest.raises(TypeError, match=r"CrossEntropyLoss\('sum'\): the first positional "
                                        r"argument is weight .* pass reduction='sum' by "
                                        r"keyword"):
        CrossEntropyLoss("sum")
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be one of"):
        CrossEntropyLoss(reduction="avg")
    for weight in (None, gpugrad.ones(C)):
        with pytest.raises(ValueError, match="cross_entropy: reduction must be one of"):
            cross_entropy(x, labels, weight, reduction="avg")



@pytest.mark.parametrize("legacy, reduction", LEGACY)
def test_size_average_and_reduce_map_as_pytorch_maps_them(legacy, reduction):
    size_average, reduce = legacy
    x, labels = case("NCd1d2", False, 1)
    gx, gt, gw = tensors(x, labels, True, False)
    expected = cross_entropy(gx, gt, gw, ignore_index=1, reduction=reduction).numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = cross_entropy(gx, gt, gw, size_average, 1, reduce, reduction="sum")
        module = CrossEntropyLoss(gw, size_average, 1, reduce)
    deprecated = [w for w in caught if "deprecated" in str(w.message)]
    assert len(deprecated) == (0 if legacy == (None, None) else 2)
    assert all(w.filename == __file__ for w in deprecated)      # points at the caller
    if legacy == (None, None):
        expected = cross_entropy(gx, gt, gw, ignore_index=1, reduction="sum").numpy()
    np.testing.assert_array_equal(got.numpy(), expected)
    assert module.reduction == reduction
    np.testing.assert_array_equal(module(gx, gt).numpy(),
                                  cross_entropy(gx, gt, gw, ignore_index=1,
                                                reduction=reduction).numpy())


def test_errors_name_what_was_wrong():
    x = gpugrad.zeros(5, C)
    labels = gpugrad.tensor([0, 1, 2, 3, 0])
    probs = gpugrad.full((5, C), 0.25)
    for target in (labels, probs):
        with pytest.raises(ValueError, match=r"cross_entropy: weight must have one entry per "
                                             r"class, shape \(4,\), got \(3,\)"):
            cross_entropy(x, target, gpugrad.ones(3))
    for bad in (gpugrad.full((5, 3), 0.25), gpugrad.zeros(4, dtype="int64")):
        with pytest.raises(ValueError, match=r"cross_entropy: logits of shape \(5, 4\) need "
                                             r"class indices of shape \(5,\) \(integers\) or "
                                             r"class probabilities of shape \(5, 4\)"):
            cross_entropy(x, bad, gpugrad.ones(C))
    for weight in (None, gpugrad.ones(C)):
        with pytest.raises(TypeError, match=r"cross_entropy: a target of shape \(5,\) for "
                                            r"logits of shape \(5, 4\) holds integer class "
                                            r"indices, got float32; convert it with "
                                            r"astype\('int64'\)"):
            cross_entropy(x, gpugrad.zeros(5), weight)
        with pytest.raises(TypeError, match=r"a target of shape \(5, 1\) for logits of shape "
                                            r"\(5, 4, 1\) holds integer class indices"):
            cross_entropy(gpugrad.zeros(5, C, 1), gpugrad.zeros(5, 1), weight)
        with pytest.raises(TypeError, match=r"a target of shape \(5, 4\) for logits of shape "
                                            r"\(5, 4\) holds class probabilities and must be "
                                            r"float, got int64"):
            cross_entropy(x, gpugrad.zeros(5, C, dtype="int64"), weight)
    with pytest.raises(TypeError, match=r"a target of shape \(\) for logits of shape \(4,\) "
                                        r"holds integer class indices, got float32"):
        cross_entropy(gpugrad.zeros(C), gpugrad.tensor(1.0))
    with pytest.raises(ValueError, match=r"logits of shape \(2, 4, 3\) need class indices of "
                                         r"shape \(2, 3\)"):
        cross_entropy(gpugrad.zeros(2, C, 3), gpugrad.zeros(3, 2, dtype="int64"))
    with pytest.raises(TypeError, match="cross_entropy: target must be integer class indices "
                                        "or float class probabilities, got dtype bool"):
        cross_entropy(x, gpugrad.zeros(5, C, dtype="bool"))
    with pytest.raises(ValueError, match="ignore_index=0 does not apply to class "
                                         "probabilities"):
        cross_entropy(x, probs, ignore_index=0)
    with pytest.raises(ValueError, match="cross_entropy: label 4 is out of range for 4 "
                                         "classes"):
        cross_entropy(x, gpugrad.tensor([0, 1, 2, 4, 0]), gpugrad.ones(C))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        cross_entropy(x, probs, label_smoothing=1.5)
    with pytest.raises(ValueError, match="got a 0-d tensor"):
        cross_entropy(gpugrad.tensor(1.0), gpugrad.tensor(0.5))


def test_functional_cross_entropy_is_this_one():
    assert gpugrad.nn.functional.cross_entropy is cross_entropy


def test_module_weight_is_a_buffer():
    w = gpugrad.tensor([1.0, 2.0, 3.0, 4.0])
    module = CrossEntropyLoss(w, label_smoothing=0.1)
    assert module.weight is w
    assert list(module.state_dict()) == ["weight"]
    assert repr(module) == \
        "CrossEntropyLoss(reduction='mean', label_smoothing=0.1, ignore_index=-100)"
    assert nn.CrossEntropyLoss is CrossEntropyLoss
    assert CrossEntropyLoss(gpugrad.ones(C).numpy()).weight.shape == (C,)


def test_vmap_with_weights_is_the_loss_of_each_example():
    from gpugrad.func import vmap
    rng = np.random.default_rng(4)
    x, labels = rng.standard_normal((3, 5, C)), rng.integers(0, C, (3, 5))
    labels[1, :] = 1                                # an example with every row ignored
    w = gpugrad.tensor(WEIGHT, dtype="float64")

    def loss(a, b):
        return cross_entropy(a, b, w, ignore_index=1, label_smoothing=0.2)

    batched = vmap(loss)(gpugrad.tensor(x), gpugrad.tensor(labels)).numpy()
    alone = [loss(gpugrad.tensor(x[i]), gpugrad.tensor(labels[i])).item() for i in range(3)]
    np.testing.assert_allclose(batched, alone, rtol=1e-12)


def test_autocast_computes_the_composite_in_float32():
    from gpugrad.amp import autocast
    x = gpugrad.randn(3, C).astype("float16")
    with autocast("float16"):
        for target in (gpugrad.tensor([0, 1, 2]), gpugrad.full((3, C), 0.25)):
            assert cross_entropy(x, target, gpugrad.ones(C)).dtype == np.float32
