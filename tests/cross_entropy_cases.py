"""Shared cases of the cross_entropy tests (test_cross_entropy_options.py, without torch,
and test_cross_entropy_torch.py, against PyTorch): logits of each shape with class indices
or class probabilities, and a float64 NumPy reference written from PyTorch's documented
formulas."""

import numpy as np

import gpugrad

C = 4
WEIGHT = np.array([0.5, 2.0, 1.0, 3.0])
SHAPES = {"NC": (5, C), "NCd1d2": (3, C, 2, 2), "C": (C,)}
REDUCTIONS = ["mean", "sum", "none"]


def case(shape_name: str, soft: bool, ignore_index: int, seed: int = 0):
    """Float64 logits of the named shape and a target for them: class indices (one of them
    ``ignore_index`` where the shape has several positions) or class probabilities."""
    rng = np.random.default_rng(seed)
    shape = SHAPES[shape_name]
    x = rng.standard_normal(shape) * 2
    positions = shape[:1] + shape[2:] if len(shape) > 1 else ()
    if soft:
        probs = rng.dirichlet(np.ones(C), positions)                   # (..., C)
        return x, np.moveaxis(probs, -1, 1) if len(shape) > 1 else probs
    labels = rng.integers(0, C, positions)
    if positions:
        labels.flat[0] = ignore_index                   # (an in-range class or -100)
        labels.flat[-1] = 3                             # (at least one row not ignored)
    else:
        labels = np.array(3)
    return x, labels


def reference(x, target, weight, ignore_index, reduction, smoothing):
    """PyTorch's documented cross-entropy in float64 NumPy."""
    x, target = np.asarray(x, np.float64), np.asarray(target)
    soft = target.dtype.kind == "f"
    single = x.ndim == 1
    if single:
        x, target = x[None], target[None]
    classes = x.shape[1]
    positions = x.shape[:1] + x.shape[2:]
    rows = np.moveaxis(x, 1, -1).reshape(-1, classes)
    logp = rows - rows.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    w = np.ones(classes) if weight is None else np.asarray(weight, np.float64)
    if soft:
        q = np.moveaxis(target, 1, -1).reshape(-1, classes) * (1 - smoothing) + \
            smoothing / classes
        losses = -(w * q * logp).sum(1)
        divisor = len(rows)
    else:
        t = target.reshape(-1)
        valid = t != ignore_index
        picked = np.where(valid, t, 0)
        nll = -w[picked] * logp[np.arange(len(t)), picked]
        spread = -(w * logp).sum(1)
        losses = np.where(valid, (1 - smoothing) * nll + smoothing / classes * spread, 0.0)
        divisor = (w[picked] * valid).sum()
    if reduction == "none":
        return losses.reshape(()) if single else losses.reshape(positions)
    return losses.sum() if reduction == "sum" else losses.sum() / divisor


GRID = [(shape, soft, weighted, reduction, ignore, smoothing)
        for shape in SHAPES for soft in (False, True) for weighted in (False, True)
        for reduction in REDUCTIONS for ignore in (-100, 1) for smoothing in (0.0, 0.3)
        if not (soft and ignore != -100)]
IDS = ["-".join([s, "soft" if so else "hard", "w" if w else "now", r, f"ig{i}", f"ls{ls}"])
       for s, so, w, r, i, ls in GRID]


def tensors(x, target, weighted, soft):
    gx = gpugrad.tensor(x, dtype="float64", requires_grad=True)
    gt = gpugrad.tensor(target, dtype="float64" if soft else "int64", requires_grad=soft)
    gw = gpugrad.tensor(WEIGHT, dtype="float64") if weighted else None
    return gx, gt, gw


# the cases whose second derivatives are checked (gradgradcheck is slower)
SECOND_ORDER = [(shape, soft, weighted, reduction)
                for shape in ("NC", "NCd1d2") for soft in (False, True)
                for weighted in (False, True) for reduction in ("mean", "none")]


# (size_average, reduce) -> the reduction PyTorch maps them to (torch/_reduction.py)
LEGACY = [((None, None), "mean"), ((True, None), "mean"), ((False, None), "sum"),
          ((None, True), "mean"), ((None, False), "none"), ((True, True), "mean"),
          ((False, True), "sum"), ((True, False), "none"), ((False, False), "none")]

