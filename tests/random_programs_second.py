"""Jacobians and second-order checks of the random-program tester (see
random_programs_checks.py).

Jacobians: ``func.jacrev`` with respect to every input that requires grad, and ``func.jacfwd``
with respect to each alone (the function closing over the others), against central
differences of the NumPy program along each input element.

Second order: the Hessian of ``sum(out * W)`` times a random direction V, computed four ways
by gpugrad, each against differences of central differences of the NumPy program:

- grad of grad: ``autograd.grad(loss, xs, create_graph=True)``, then the gradient of
  ``sum(g * V)``;
- ``loss.backward(create_graph=True)``, then ``sum(x.grad * V).backward()``;
- ``func.hvp`` with respect to every input that requires grad;
- ``func.hvp`` with respect to each such input alone, the function closing over the others
  (tensors requiring grad, as a model's parameters are).
"""

from __future__ import annotations

import numpy as np

import gpugrad
from gpugrad import func
from gpugrad.autograd import grad as autograd_grad
from random_programs import gpugrad_function, leaf_tensors, numpy_of, run_gpugrad, weights_tensor
from random_programs_checks import FIRST_TOLERANCE, along, compare

STEP = 1e-4                # both steps of the mixed second difference
SECOND_TOLERANCE = dict(rtol=1e-3, atol=2e-4)


def reference_hvp(ctx, directions, positions) -> list:
    """(H V) for the inputs at ``positions``: for each element e,
    [f(x + a e + b V) - f(x + a e - b V) - f(x - a e + b V) + f(x - a e - b V)] / (4 a b)."""
    arrays = ctx.arrays

    def f(p, index, s, t):
        moved = [a if d is None else a + t * d for a, d in zip(arrays, directions)]
        x = np.array(moved[p], dtype=np.float64)
        x[index] += s
        moved[p] = x
        return ctx.loss(moved)
    result = []
    for p in positions:
        hv = np.zeros_like(arrays[p])
        for index in np.ndindex(arrays[p].shape):
            a = b = STEP
            hv[index] = (f(p, index, a, b) - f(p, index, a, -b) - f(p, index, -a, b)
                         + f(p, index, -a, -b)) / (4 * a * b)
        result.append(hv)
    return result


def _contract(grads, directions):
    """sum(g * V) over the gradients that have a graph (the others are constants)."""
    terms = [(g * v).sum() for g, v in zip(grads, directions)
             if g is not None and g.requires_grad]
    return None if not terms else sum(terms[1:], terms[0])


def check_second_order(ctx):
    program = ctx.program
    positions = ctx.grad_positions
    if not positions:
        return
    arrays_v = ctx.directions("hvp")
    want = reference_hvp(ctx, arrays_v, positions)
    names = [program.names[program.inputs[p].value] for p in positions]
    v = [gpugrad.tensor(arrays_v[p], device=ctx.device) for p in positions]
    weights = weights_tensor(program, ctx.device)

    def compare_all(check, got):
        for name, g, w in zip(names, got, want):
            compare(ctx, check, numpy_of(g), w, what=f"(H V) for {name}", **SECOND_TOLERANCE)

    leaves = leaf_tensors(program, ctx.device)
    xs = [leaves[p] for p in positions]
    loss = (run_gpugrad(program, leaves, ctx.device)["out"] * weights).sum()
    if not loss.requires_grad:
        return
    grads = autograd_grad(loss, xs, create_graph=True, allow_unused=True)
    s = _contract(grads, v)
    hv = [None] * len(xs) if s is None else autograd_grad(s, xs, allow_unused=True)
    compare_all("second order: grad of grad (autograd.grad, create_graph=True)", hv)

    leaves = leaf_tensors(program, ctx.device)
    xs = [leaves[p] for p in positions]
    (run_gpugrad(program, leaves, ctx.device)["out"] * weights).sum().backward(
        create_graph=True)
    grads = [x.grad for x in xs]
    for x in xs:
        x.grad = None
    s = _contract(grads, v)
    if s is not None:
        s.backward()
    compare_all("second order: backward(create_graph=True), then backward of sum(x.grad * V)",
                [x.grad for x in xs])

    constants = leaf_tensors(program, ctx.device, grad=False)
    f = gpugrad_function(program, positions, constants, ctx.device)
    primals = tuple(constants[p] for p in positions)
    hv = func.hvp(lambda *a: (f(*a) * weights).sum(), primals, tuple(v))
    compare_all("second order: func.hvp", hv if len(positions) > 1 else (hv,))

    closed = leaf_tensors(program, ctx.device)
    for k, p in enumerate(positions):
        alone = gpugrad_function(program, [p], closed, ctx.device)
        hv = func.hvp(lambda a: (alone(a) * weights).sum(), (constants[p],), (v[k],))
        only = [arrays_v[p] if q == p else None for q in range(len(ctx.arrays))]
        compare(ctx, f"second order: func.hvp with respect to {names[k]} alone, closing over "
                     f"the other inputs (requiring grad)", numpy_of(hv),
                reference_hvp(ctx, only, [p])[0], what=f"(H V) for {names[k]}",
                **SECOND_TOLERANCE)


def reference_jacobian(ctx, p) -> np.ndarray:
    """d out / d input p, shaped out.shape + input.shape, by central differences."""
    shape = ctx.arrays[p].shape
    columns = []
    for index in np.ndindex(shape):
        unit = [None] * len(ctx.arrays)
        unit[p] = np.zeros(shape)
        unit[p][index] = 1.0
        columns.append(along(ctx.run, ctx.arrays, unit))
    out_shape = np.shape(ctx.run(ctx.arrays))
    return np.stack(columns, axis=-1).reshape(out_shape + shape) if columns else np.zeros(
        out_shape + shape)


def check_jacobians(ctx):
    program = ctx.program
    positions = ctx.grad_positions
    if not positions:
        return
    want = {p: reference_jacobian(ctx, p) for p in positions}
    names = {p: program.names[program.inputs[p].value] for p in positions}
    constants = leaf_tensors(program, ctx.device, grad=False)
    f = gpugrad_function(program, positions, constants, ctx.device)
    blocks = func.jacrev(f, argnums=tuple(range(len(positions))))(
        *(constants[p] for p in positions))
    for p, block in zip(positions, blocks):
        compare(ctx, "func.jacrev", numpy_of(block), want[p],
                what=f"d out / d {names[p]}", **FIRST_TOLERANCE)
    closed = leaf_tensors(program, ctx.device)
    for p in positions:
        alone = gpugrad_function(program, [p], closed, ctx.device)
        compare(ctx, f"func.jacfwd with respect to {names[p]} alone, closing over the other "
                     f"inputs (requiring grad)", numpy_of(func.jacfwd(alone)(constants[p])),
                want[p], what=f"d out / d {names[p]}", **FIRST_TOLERANCE)
