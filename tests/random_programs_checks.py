"""The checks the random-program tester runs on each program, every one against an independent
float64 reference (the NumPy interpreter and central differences), never against gpugrad.

``check_program(program)`` runs them all and raises ``ProgramFailure`` (an AssertionError)
naming the check, the worst mismatch and the program as runnable gpugrad code:

- forward: the output against the NumPy interpreter;
- first order: each leaf's ``.grad`` after ``out.backward(W)`` against central differences of
  ``sum(out * W)``; ``retain_grad()`` on every intermediate, its ``.grad`` against central
  differences with respect to a perturbation added to that value (the NumPy program split
  there); then more ``backward`` calls: every ``.grad`` must be k times the reference;
- hooks, one leaf or intermediate at a time: a hook doubling its gradient must give the
  leaves ``2 * total - direct``, where ``direct`` differentiates the NumPy program with that
  value frozen (checked along a random direction); a hook returning another shape
  (on a leaf) or dtype (on an intermediate) must raise an error naming the hook;
- forward mode (``func.jvp``) with tangents on all inputs, and on each input alone (the others
  closed over as tensors requiring grad), against central differences along the tangent;
  reverse mode (``func.vjp``) against first-order differences, and ``u . (J v) == (u J) . v``
  between the two;
- Jacobians (``func.jacrev``, ``func.jacfwd``) and second order (grad of grad,
  ``backward(create_graph=True)``, ``func.hvp``): random_programs_second.py.
"""

from __future__ import annotations

import zlib

import numpy as np

import gpugrad
from gpugrad import func
from random_programs import (gpugrad_function, leaf_tensors, numpy_of, run_gpugrad,
                             run_numpy, selection_patterns, weights_tensor)
from random_programs_ops import array_code

EPS = 1e-6                 # central-difference step, first order
FORWARD_TOLERANCE = dict(rtol=1e-9, atol=1e-11)
FIRST_TOLERANCE = dict(rtol=1e-4, atol=1e-5)
EXACT_TOLERANCE = dict(rtol=1e-9, atol=1e-10)    # two gpugrad results that must agree exactly


class ProgramFailure(AssertionError):
    """A check failed on a program; the message ends with the program as gpugrad code."""


_FAILURE_TYPES: dict = {}


def failure_type(check: str) -> type:
    """A ProgramFailure subclass per check (its first words), so that hypothesis tells
    failures of different checks apart while it shrinks."""
    key = check.split(",")[0].split(":")[0].split("(")[0].strip()
    if key not in _FAILURE_TYPES:
        _FAILURE_TYPES[key] = type("ProgramFailure", (ProgramFailure,), {"check": key})
    return _FAILURE_TYPES[key]


class Context:
    """One program, its references (computed once, on demand) and its random directions."""

    def __init__(self, program, device="cpu"):
        self.program, self.device = program, device
        self.arrays = program.arrays()
        self.grad_positions = program.grad_inputs()
        self._seed = zlib.crc32(program.code().encode())
        self.tangents = self.directions("tangents")
        self._reference_grads = None
        self.intermediate_grads = {}        # value -> its reference gradient (first order)
        self.definitions = program.last_definitions()      # value -> its last step
        self.patterns = selection_patterns(program, self.arrays)

    def run(self, arrays, **options):
        """The NumPy reference at ``arrays``, max/min selections fixed as at the inputs (ties
        sharing equally: differences of it are derivatives of gpugrad's documented rule)."""
        return run_numpy(self.program, arrays, patterns=self.patterns, **options)

    def loss(self, arrays, **options) -> float:
        """sum(output * weights), the scalar every gradient check differentiates."""
        return float(np.sum(self.run(arrays, **options) * self.program.weights))

    def directions(self, purpose: str) -> list:
        """Random normal arrays, one per input that requires grad (None for the others),
        the same for every run of the same program and ``purpose``."""
        rng = np.random.default_rng([self._seed, zlib.crc32(purpose.encode())])
        return [rng.standard_normal(a.shape) if p in self.grad_positions else None
                for p, a in enumerate(self.arrays)]

    def fail(self, check: str, detail: str):
        raise failure_type(check)(f"random program check {check!r} failed: {detail}\n"
                                  f"--- the program (runnable gpugrad code):\n"
                                  f"{self.program.code()}\n---")

    def reference_grads(self) -> list:
        """d sum(out * W) / d input, by central differences, for every input that requires
        grad (None for the others)."""
        if self._reference_grads is None:
            self._reference_grads = [
                central_gradient(self.loss, self.arrays, p) if p in self.grad_positions
                else None for p in range(len(self.arrays))]
        return self._reference_grads

    def values(self) -> list:
        return self.run(self.arrays, all_values=True)


def central_gradient(fun, arrays, position, eps=EPS) -> np.ndarray:
    """d fun(arrays) / d arrays[position], element by element."""
    arrays = list(arrays)
    base = arrays[position]
    grad = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        moved = []
        for sign in (1.0, -1.0):
            x = base.copy()
            x[index] += sign * eps
            arrays[position] = x
            moved.append(fun(arrays))
        grad[index] = (moved[0] - moved[1]) / (2 * eps)
    arrays[position] = base
    return grad


def along(fun, arrays, directions, eps=EPS):
    """The derivative of fun at ``arrays`` along ``directions`` (arrays, or None = 0)."""
    def moved(sign):
        return fun([a if d is None else a + sign * eps * d for a, d in zip(arrays, directions)])
    return (np.asarray(moved(1.0)) - np.asarray(moved(-1.0))) / (2 * eps)


def compare(ctx, check: str, got, want, rtol, atol, what=""):
    """Fail unless |got - want| <= atol * max(1, |want|max) + rtol * |want| everywhere
    (``got`` None stands for zeros, as a missing gradient means zero)."""
    want = np.asarray(want, dtype=np.float64)
    got = np.zeros_like(want) if got is None else np.asarray(got, dtype=np.float64)
    if got.shape != want.shape:
        ctx.fail(check, f"{what} has shape {got.shape}, the reference {want.shape}")
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    error = np.abs(got - want)
    bound = atol * scale + rtol * np.abs(want)
    if not np.all(error <= bound) or not np.all(np.isfinite(got)):
        worst = tuple(int(i) for i in np.unravel_index(
            int(np.argmax(np.nan_to_num(error - bound, nan=np.inf))), want.shape))
        ctx.fail(check, f"{what}: got {float(got[worst])!r}, reference "
                        f"{float(want[worst])!r} at {worst} "
                        f"(max error {np.nanmax(error, initial=0.0):.3g})\n  got:       "
                        f"{np.array2string(got, precision=6)}\n  reference: "
                        f"{np.array2string(want, precision=6)}")


# ---------------------------------------------------------------------------------------------
# forward, first order, retain_grad, accumulation
# ---------------------------------------------------------------------------------------------

def check_forward_and_first_order(ctx, backward_calls: int = 3):
    program = ctx.program
    leaves = leaf_tensors(program, ctx.device)
    ns = run_gpugrad(program, leaves, ctx.device)
    out = ns["out"]
    compare(ctx, "forward", numpy_of(out), run_numpy(program, ctx.arrays),
            what="the output", **FORWARD_TOLERANCE)
    if not out.requires_grad:
        for p in ctx.grad_positions:
            compare(ctx, "first order", None, ctx.reference_grads()[p],
                    what=f"the gradient of unused {program.names[program.inputs[p].value]}",
                    **FIRST_TOLERANCE)
        return
    retained = {}
    for value, step in ctx.definitions.items():
        t = ns[program.names[value]]
        if t.requires_grad:
            t.retain_grad()
            retained[value] = (t, step)
    weights = weights_tensor(program, ctx.device)
    references = {value: intermediate_gradient(ctx, step, t.shape)
                  for value, (t, step) in retained.items()}
    ctx.intermediate_grads = references
    for call in range(1, backward_calls + 1):
        out.backward(weights, retain_graph=call < backward_calls)
        label = "first order" if call == 1 else f"accumulation over {call} backward calls"
        for p in ctx.grad_positions:
            name = program.names[program.inputs[p].value]
            compare(ctx, label, numpy_of(leaves[p].grad), call * ctx.reference_grads()[p],
                    what=f"{name}.grad", **FIRST_TOLERANCE)
        for value, (t, _) in retained.items():
            compare(ctx, f"retain_grad ({label})", numpy_of(t.grad), call * references[value],
                    what=f"{program.names[value]}.grad (retained)", **FIRST_TOLERANCE)


def intermediate_gradient(ctx, step: int, shape) -> np.ndarray:
    """d sum(out * W) / d (the value step ``step`` defines), by central differences of the
    NumPy program with a perturbation added right after that step."""
    shape = tuple(shape)

    def fun(deltas):
        return ctx.loss(ctx.arrays, perturb=(step, deltas[0]))
    return central_gradient(fun, [np.zeros(shape)], 0)


# ---------------------------------------------------------------------------------------------
# hooks
# ---------------------------------------------------------------------------------------------

def check_hooks(ctx):
    """A hook doubling the gradient of one value (each leaf, then each intermediate) must give
    the leaves ``2 * total - direct``, along a random direction: ``direct`` is the derivative
    with that value frozen (for a leaf: without its own part)."""
    program = ctx.program
    positions = ctx.grad_positions
    if not positions:
        return
    directions = ctx.directions("hooks")
    parts = {p: float(np.sum(ctx.reference_grads()[p] * directions[p])) for p in positions}
    total = sum(parts.values())
    values = ctx.values()
    hooked = [(p, None) for p in positions] + list(ctx.definitions.items())
    for where, step in hooked:
        leaves = leaf_tensors(program, ctx.device)
        ns = run_gpugrad(program, leaves, ctx.device)
        name = program.names[where if step is not None else program.inputs[where].value]
        t = ns[name] if step is not None else leaves[where]
        if not (t.requires_grad and ns["out"].requires_grad):
            continue
        t.register_hook(lambda g: g * 2.0)
        ns["out"].backward(weights_tensor(program, ctx.device))
        got = sum(float(np.sum(np.nan_to_num(numpy_of(leaves[p].grad)) * directions[p]))
                  for p in positions if leaves[p].grad is not None)
        if step is None:
            direct = total - parts[where]
        else:
            direct = float(along(lambda xs: ctx.loss(xs, freeze=(step, values[where])),
                                 ctx.arrays, directions))
        compare(ctx, "hook doubling a gradient", got, 2 * total - direct,
                what=f"the leaves' gradients along a random direction, with a hook "
                     f"`{name}.register_hook(lambda g: g * 2)`", **FIRST_TOLERANCE)


def wrong_shape_hook(g):
    return g[None]


def wrong_dtype_hook(g):
    return g.astype("float32")


def check_hook_results_are_checked(ctx):
    """A hook's replacement of another shape (on a leaf) or dtype (on an intermediate) must
    raise an error that names the hook."""
    program = ctx.program
    grads = ctx.reference_grads()
    leaf = next((p for p in ctx.grad_positions if np.any(grads[p] != 0)), None)
    middle = next((v for v, r in ctx.intermediate_grads.items()
                   if v != program.output and np.any(r != 0)), None)
    for position, value, hook in ((leaf, None, wrong_shape_hook),
                                  (None, middle, wrong_dtype_hook)):
        if position is None and value is None:
            continue
        leaves = leaf_tensors(program, ctx.device)
        ns = run_gpugrad(program, leaves, ctx.device)
        t = leaves[position] if position is not None else ns[program.names[value]]
        name = program.names[program.inputs[position].value if value is None else value]
        t.register_hook(hook)
        try:
            ns["out"].backward(weights_tensor(program, ctx.device))
        except RuntimeError as exc:
            if hook.__name__ not in str(exc):
                ctx.fail("hook results are checked", f"the error for {name}'s "
                         f"{hook.__name__} does not name the hook: {exc}")
            continue
        stored = "" if t.grad is None else (
            f"; {name}.grad is {tuple(t.grad.shape)} {t.grad.dtype}")
        ctx.fail("hook results are checked",
                 f"{name}.register_hook({hook.__name__}) (a hook returning "
                 f"{'g[None]' if value is None else 'g.astype(float32)'}) raised no "
                 f"error{stored}")


# ---------------------------------------------------------------------------------------------
# forward mode and reverse mode
# ---------------------------------------------------------------------------------------------

def check_forward_and_reverse_mode(ctx):
    program = ctx.program
    positions = ctx.grad_positions
    if not positions:
        return
    constants = leaf_tensors(program, ctx.device, grad=False)
    f = gpugrad_function(program, positions, constants, ctx.device)
    primals = tuple(constants[p] for p in positions)
    tangents = tuple(gpugrad.tensor(ctx.tangents[p], device=ctx.device) for p in positions)
    directions = [ctx.tangents[p] if p in positions else None for p in range(len(ctx.arrays))]
    jv = numpy_of(func.jvp(f, primals, tangents)[1])
    want = along(ctx.run, ctx.arrays, directions)
    compare(ctx, "forward mode (func.jvp), tangents on all inputs", jv, want,
            what=f"the output tangent, for tangents {_listed(ctx, positions)}",
            **FIRST_TOLERANCE)
    _, vjp_fn = func.vjp(f, *primals)
    pulled = [numpy_of(c) for c in vjp_fn(weights_tensor(program, ctx.device))]
    for p, c in zip(positions, pulled):
        compare(ctx, "reverse mode (func.vjp)", c, ctx.reference_grads()[p],
                what=f"the cotangent of {program.names[program.inputs[p].value]}",
                **FIRST_TOLERANCE)
    u_jv = float(np.sum(program.weights * jv))
    uj_v = sum(float(np.sum(c * ctx.tangents[p])) for p, c in zip(positions, pulled))
    compare(ctx, "u . (J v) == (u J) . v", u_jv, uj_v, what="u . (J v) by func.jvp "
            "against (u J) . v by func.vjp", **EXACT_TOLERANCE)
    closed = leaf_tensors(program, ctx.device)              # closed over, requiring grad
    for p, c in zip(positions, pulled):
        name = program.names[program.inputs[p].value]
        alone = gpugrad_function(program, [p], closed, ctx.device)
        t = gpugrad.tensor(ctx.tangents[p], device=ctx.device)
        jv_p = numpy_of(func.jvp(alone, (constants[p],), (t,))[1])
        only = [ctx.tangents[p] if q == p else None for q in range(len(ctx.arrays))]
        want = along(ctx.run, ctx.arrays, only)
        compare(ctx, f"forward mode (func.jvp), a tangent on {name} alone", jv_p, want,
                what=f"the output tangent, for the tangent {_listed(ctx, [p])}",
                **FIRST_TOLERANCE)
        compare(ctx, f"u . (J v) == (u J) . v, a tangent on {name} alone",
                float(np.sum(program.weights * jv_p)), float(np.sum(c * ctx.tangents[p])),
                what="u . (J v) by func.jvp against (u J) . v by func.vjp", **EXACT_TOLERANCE)


def _listed(ctx, positions) -> str:
    """The tangents of the inputs at ``positions`` as source, to repeat a failing jvp."""
    return ", ".join(f"{ctx.program.names[ctx.program.inputs[p].value]}: "
                     f"{array_code(ctx.tangents[p])}" for p in positions)


def check_program(program, device="cpu", skip=frozenset()):
    """Every check on ``program``; ``skip`` names checks left out ("first_order", "hooks",
    "forward_mode", "second_order"; see KNOWN_DEFECTS in tests/random_programs_run.py)."""
    from random_programs_second import check_jacobians, check_second_order
    ctx = Context(program, device)
    checks = [("first_order", "forward and first order", check_forward_and_first_order),
              ("hooks", "hooks", check_hooks),
              ("hooks", "hook results are checked", check_hook_results_are_checked),
              ("forward_mode", "forward mode and reverse mode", check_forward_and_reverse_mode),
              ("forward_mode", "jacobians", check_jacobians),
              ("second_order", "second order", check_second_order)]
    for key, name, check in checks:
        if key in skip:
            continue
        try:
            check(ctx)
        except ProgramFailure:
            raise
        except Exception as exc:        # an error gpugrad raised is a failure too
            try:
                ctx.fail(f"{name} (an error)", f"{type(exc).__name__}: {exc}")
            except ProgramFailure as failure:
                raise failure from exc
