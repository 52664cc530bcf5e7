"""The bugs ``benchmarks/mutate.py`` plants in gpugrad, one at a time: small, realistic
mistakes in the reverse and forward rules, the engine, checkpointing, the optimizers, the
losses and saving. Each is an exact text replacement (the original must occur exactly once
in its file, which ``mutate.py --check`` verifies in CI) with the test files that should
catch it.

Example::

    >>> from mutants import MUTANTS
    >>> len({m.name for m in MUTANTS}) == len(MUTANTS)
    True
"""

from __future__ import annotations

from typing import NamedTuple


class Mutant(NamedTuple):
    name: str
    path: str           # the file, relative to the repository root
    why: str            # what the bug is, in words
    edits: tuple        # (original text, replacement) pairs, each original exactly once
    tests: tuple        # test files run against it (pytest -x)


def planted(text: str, edits, where: str = "the text") -> str:
    """``text`` with each (original, replacement) of ``edits`` applied in turn; a
    ValueError naming the count when an original does not occur exactly once (``where``
    names the file in it).

    Example::

        >>> planted("x = 1 + 1", (("1 + 1", "1 - 1"),))
        'x = 1 - 1'
    """
    for old, new in edits:
        count = text.count(old)
        if count != 1:
            raise ValueError(f"the original text occurs {count} times in {where} "
                             f"(expected once): {old!r:.100}")
        text = text.replace(old, new)
    return text


RULES = ("tests/test_ops_table.py", "tests/test_autograd.py")
FORWARD = ("tests/test_ops_table.py", "tests/test_forward_ad.py", "tests/test_func.py")
LOSSES = ("tests/test_losses.py", "tests/test_ops_table.py", "tests/test_fused_ops.py")
ENGINE = ("tests/test_autograd.py", "tests/test_inplace.py", "tests/test_function.py",
          "tests/test_tensor_habits.py", "tests/test_shape_op_identity.py")
TIES = RULES + ("tests/test_reductions_ties.py",)
CHECKPOINT = ("tests/test_checkpoint.py", "tests/test_memory.py")
OPTIM = ("tests/test_optim.py", "tests/test_optimizer_rounding.py", "tests/test_multi_tensor.py",
         "tests/test_optim_habits.py")
SAVE = ("tests/test_serialization.py",)
NN = ("tests/test_nn.py",)
COMPILE = ("tests/test_compile.py", "tests/test_compile_random_programs.py",
           "tests/test_compile_outside_state.py", "tests/test_grad_assignment.py",
           "tests/test_compile_factories.py")

_E, _U, _A = "gpugrad/ops/elementwise.py", "gpugrad/ops/unary.py", "gpugrad/ops/activation.py"
_R, _L, _F = "gpugrad/ops/reduce.py", "gpugrad/ops/linalg.py", "gpugrad/ops/fused.py"
_G, _H = "gpugrad/autograd/graph.py", "gpugrad/autograd/hooks.py"
_N, _C = "gpugrad/autograd/engine.py", "gpugrad/checkpoint/recompute.py"
_S = "gpugrad/serialization.py"

MUTANTS = [
    # ---- reverse rules (vjp) ----------------------------------------------------------------
    Mutant("mul-vjp-own-operand", _E, "Mul's d/da is g * a instead of g * b",
           (("sum_to(g * b, ctx.shapes[0])", "sum_to(g * a, ctx.shapes[0])"),), RULES),
    Mutant("div-vjp-sign", _E, "Div's d/db loses its minus sign",
           (("sum_to(-g * ctx.ans / b, ctx.shapes[1])",
             "sum_to(g * ctx.ans / b, ctx.shapes[1])"),), RULES),
    Mutant("pow-vjp-exponent-not-lowered", _E, "d(a**b)/da is b * a**b, not b * a**(b-1)",
           (("return b * a ** (where(origin, 1.0, b) - 1)",
             "return b * a ** where(origin, 1.0, b)"),), RULES),
    Mutant("pow-vjp-masks-every-zero-exponent", _E,
           "d(a**b)/da loses its derivative in b wherever b == 0 (the tester's find)",
           (("origin = (b == 0) & (a == 0)", "origin = b == 0"),),
           ("tests/test_random_programs.py",)),
    Mutant("square-vjp-missing-2", "gpugrad/ops/scalar.py", "x**2's rule drops the factor 2",
           (("return g * (x * 2.0)", "return g * x"),), RULES),
    Mutant("exp-vjp-drops-cotangent", _U, "Exp's rule returns exp(x), forgetting the g factor",
           (("        return g * ctx.ans\n\n    jvp = ELEMENTWISE\n\n\nclass Log",
             "        return ctx.ans\n\n    jvp = ELEMENTWISE\n\n\nclass Log"),), RULES),
    Mutant("log-vjp-multiplies", _U, "Log's rule is g * x instead of g / x",
           (("return g / ctx.xs[0]", "return g * ctx.xs[0]"),), RULES),
    Mutant("sqrt-vjp-missing-half", _U, "Sqrt's rule is g / sqrt(x), missing the 1/2",
           (("return g / (ctx.ans * 2.0)", "return g / ctx.ans"),), RULES),
    Mutant("tanh-vjp-not-squared", _A, "Tanh's rule is g (1 - y) instead of g (1 - y^2)",
           (("g * (1.0 - ctx.ans * ctx.ans)", "g * (1.0 - ctx.ans)"),), RULES),
    Mutant("sigmoid-vjp-missing-factor", _A, "Sigmoid's rule is g (1 - y), missing y",
           (("g * ctx.ans * (1.0 - ctx.ans)", "g * (1.0 - ctx.ans)"),), RULES),
    Mutant("softmax-vjp-unweighted-sum", _A, "Softmax's rule subtracts sum(g), not sum(g y)",
           (("y * (g - reduce_sum(g * y, axis=ctx.axis",
             "y * (g - reduce_sum(g, axis=ctx.axis"),), RULES),
    Mutant("log-softmax-vjp-missing-exp", _A, "LogSoftmax's rule uses log p where p belongs",
           (("return g - ctx.ans.exp() * reduce_sum(g,", "return g - ctx.ans * reduce_sum(g,"),),
           RULES),
    Mutant("matmul-vjp-transposed", _L, "d(a @ b)/db comes back transposed, (a^T g)^T",
           (("gb = matmul(transpose(am), g)", "gb = transpose(matmul(transpose(am), g))"),),
           RULES),
    Mutant("sum-to-averages", _R, "undoing a broadcast averages the copies instead of summing",
           (("out = apply(Sum, g, axis=axes, keepdims=False) if axes else g",
             "out = apply(Mean, g, axis=axes, keepdims=False) if axes else g"),), RULES),
    Mutant("mean-vjp-counts-everything", _R, "mean over some axes divides by all elements",
           (("count = math.prod(shape) if ctx.axis is None else math.prod(shape[a] for a in "
             "ctx.axis)", "count = math.prod(shape)"),), RULES),
    Mutant("max-ties-not-shared", "gpugrad/ops/extremes.py",
           "every tied maximum gets the whole gradient",
           (("    return hit / count\n", "    return hit\n"),), TIES),
    Mutant("maximum-ties-not-shared", "gpugrad/ops/extremes.py",
           "maximum(a, b) gives both tied inputs the gradient",
           (("return wins.astype(dtype) + (a == b).astype(dtype) * 0.5",
             "return wins.astype(dtype) + (a == b).astype(dtype)"),), TIES),
    Mutant("where-vjp-swapped", _E, "where's gradient for a goes where cond is false",
           (("sum_to(where(cond, g, 0.0), ctx.shapes[1])",
             "sum_to(where(cond, 0.0, g), ctx.shapes[1])"),), RULES),
    Mutant("clamp-boundary-excluded", _U, "clamp's gradient is 0 at its lower bound itself",
           (("inside = x >= ctx.min", "inside = x > ctx.min"),), RULES),
    Mutant("linear-relu-bias-grad-unmasked", _F,
           "the fused layer's bias gradient sums g, not relu's masked g",
           (("        gx, gw, gb = linear_backward(xp, gz, x, w, needs)\n",
             "        gx, gw, _ = linear_backward(xp, gz, x, w, needs)\n"
             "        gb = g.sum(axis=0) if needs[2] else None\n"),),
           RULES + ("tests/test_fused_ops.py", "tests/test_nn.py")),
    Mutant("xent-grad-ignores-smoothing", _F, "cross-entropy's gradient subtracts a plain one-hot",
           (("grad[_rows(xp, probs.shape[0]), picked] -= coef * (1.0 - smoothing) if smoothing "
             "else coef", "grad[_rows(xp, probs.shape[0]), picked] -= coef"),), LOSSES),
    Mutant("xent-unscaled-one-hot", _F,
           "the gradient subtracts 1 at each label, not the cotangent g",
           (("grad[_rows(xp, probs.shape[0]), picked] -= coef * (1.0 - smoothing) if smoothing "
             "else coef", "grad[_rows(xp, probs.shape[0]), picked] -= (1.0 - smoothing)"),),
           LOSSES),
    Mutant("xent-recomputed-softmax-unnormalised", _F,
           "the softmax recomputed from the logits (none kept) is not divided by its row sums",
           (("        grad *= per_row / row_sums\n", "        grad *= per_row\n"),), LOSSES),
    Mutant("xent-kept-softmax-unnormalised", _F,
           "the softmax kept for the backward is exp(x - max), not divided by its row sums",
           (("    exp /= total[:, None]\n", ""),), LOSSES),
    Mutant("xent-some-rows-taken-for-all", _F,
           "one row counting is taken for all rows: ignored rows are not masked",
           (("        if valid.all():\n", "        if valid.any():\n"),), LOSSES),
    Mutant("xent-mean-counts-ignored-rows", "gpugrad/ops/loss_checks.py",
           "a mean cross-entropy divides by all rows, ignored ones included",
           (("return int((labels != ignore_index).sum())", "return labels.size"),), LOSSES),
    Mutant("mse-grad-missing-2", _F, "mse's gradient drops the factor 2",
           (("(x - t) * (g * (2.0 * scale))", "(x - t) * (g * scale)"),), LOSSES),
    # ---- forward rules (jvp) ----------------------------------------------------------------
    Mutant("mul-jvp-own-operand", _E, "Mul's tangent is ta * a instead of ta * b",
           (("None if ta is None else ta * b,", "None if ta is None else ta * a,"),), FORWARD),
    Mutant("div-jvp-sign", _E, "Div's tangent in b loses its minus sign",
           (("None if tb is None else -tb * ctx.ans / b)",
             "None if tb is None else tb * ctx.ans / b)"),), FORWARD),
    Mutant("matmul-jvp-one-term", _L, "matmul's tangent keeps ta @ b and drops a @ tb",
           (("left if right is None else left + right", "left if right is None else left"),),
           FORWARD),
    Mutant("log-softmax-jvp-unweighted", _A, "LogSoftmax's tangent subtracts sum(t), not E_p[t]",
           (("return t - reduce_sum(ctx.ans.exp() * t,", "return t - reduce_sum(t,"),), FORWARD),
    Mutant("linear-jvp-last-part-only", _L, "Linear's tangent keeps only the last term",
           (("total = part if total is None else total + part", "total = part"),), FORWARD),
    Mutant("forward-ad-perturbation-confusion", "gpugrad/ops/jvp.py",
           "nested levels: a rule sees inputs still carrying its own level's tangents",
           (("xs = [below(t, level) for t in inputs]", "xs = list(inputs)"),), FORWARD),
    Mutant("make-dual-drops-outer-tangents", "gpugrad/autograd/forward_ad.py",
           "make_dual on a primal that carries an outer level's tangent loses it",
           (("tangents = dict(live_tangents(primal) or {})", "tangents = {}"),), FORWARD),
    # ---- the engine ---------------------------------------------------------------------------
    Mutant("engine-buffer-overwrites", _N, "two gradients for one node: the later replaces",
           (("slots[output_nr] = g if old is None or old is ACCUMULATED else old + g",
             "slots[output_nr] = g"),), ENGINE),
    Mutant("grad-overwritten-in-place", _G, "backward overwrites .grad instead of adding to it",
           (("old._xp().add(existing, grad._array, out=existing)",
             "old._xp().copyto(existing, grad._array)"),), ENGINE),
    Mutant("grad-accumulation-no-version-bump", _G,
           "adding into .grad in place does not bump its version counter",
           (("            old._version_counter.value += 1\n            return\n",
             "            return\n"),), ENGINE),
    Mutant("fused-grad-add-no-version-bump", _N,
           "a rule adding into .grad in place (vjp_accumulate) does not bump its version",
           (("                grad._version_counter.value += 1\n", ""),), ENGINE),
    Mutant("retain-grad-skipped", _N, "retain_grad() is ignored on nodes without hooks",
           (("if node._pre_hooks or node._retained:", "if node._pre_hooks:"),), ENGINE),
    Mutant("hooks-run-in-reverse", _H, "a tensor's hooks run last-registered first",
           (("    for hook in hooks:\n", "    for hook in reversed(hooks):\n"),), ENGINE),
    Mutant("retained-grad-before-hooks", _H, "retain_grad stores the gradient before hooks ran",
           (("    if node._pre_hooks:\n        for nr, hooks in node._pre_hooks.items():\n"
             "            _apply(hooks, grads, nr, handouts, Tensor)\n    if node._retained:\n"
             "        for nr, ref in node._retained.items():\n            t = ref()\n"
             "            if t is not None and grads[nr] is not None:\n"
             "                store_grad_copy(t, grads[nr], create_graph, in_place=False)\n",
             "    if node._retained:\n        for nr, ref in node._retained.items():\n"
             "            t = ref()\n            if t is not None and grads[nr] is not None:\n"
             "                store_grad_copy(t, grads[nr], create_graph, in_place=False)\n"
             "    if node._pre_hooks:\n        for nr, hooks in node._pre_hooks.items():\n"
             "            _apply(hooks, grads, nr, handouts, Tensor)\n"),), ENGINE),
    Mutant("dependencies-counted-once", "gpugrad/autograd/walk.py",
           "a node reached by two edges runs after the first",
           (("                deps[child] += 1\n", "                deps[child] = 1\n"),), ENGINE),
    Mutant("grad-shares-cotangent", _N, "a leaf's .grad may be the caller's or another's buffer",
           (("g is not ACCUMULATED and self.handouts.owned(g))", "g is not ACCUMULATED)"),),
           ENGINE),
    # ---- checkpointing ---------------------------------------------------------------------
    Mutant("checkpoint-rng-not-restored", _C, "the recomputation draws fresh random numbers",
           (("                set_rng_state(self.rng)\n", "                pass\n"),), CHECKPOINT),
    Mutant("checkpoint-outer-rng-not-restored", _C,
           "after a recomputation the outer random state is the replayed one",
           (("            set_rng_state(outer_rng)\n", "            pass\n"),), CHECKPOINT),
    Mutant("checkpoint-sequential-drops-layers", _C,
           "uneven segments lose the extra layers (n % segments of them)",
           (("stop = start + size + (extra if i == segments - 1 else 0)",
             "stop = start + size"),),
           CHECKPOINT),
    Mutant("checkpoint-recompute-without-graph", _C,
           "create_graph through a checkpoint recomputes graph-free values",
           (("self._recompute(with_graph=is_grad_enabled())",
             "self._recompute(with_graph=False)"),), CHECKPOINT),
    # ---- optimizers ---------------------------------------------------------------------------
    Mutant("adam-bias-correction-off-by-one", "gpugrad/optim/adam.py",
           "Adam's first-moment correction uses step t + 1",
           (("step *= lr / (1.0 - beta1**t)", "step *= lr / (1.0 - beta1**(t + 1))"),), OPTIM),
    Mutant("adam-second-moment-uncorrected", "gpugrad/optim/adam.py",
           "Adam's second moment is not bias-corrected",
           (("denom = xp.multiply(v, 1.0 / (1.0 - beta2**t), out=xp.empty_like(v))",
             "denom = xp.multiply(v, 1.0, out=xp.empty_like(v))"),), OPTIM),
    Mutant("adamw-decay-without-lr", "gpugrad/optim/adam.py", "AdamW decays by wd, not lr * wd",
           (("param *= 1.0 - lr * decay", "param *= 1.0 - decay"),), OPTIM),
    Mutant("weight-decay-sign", "gpugrad/optim/hyper.py",
           "the L2 term of every optimizer's weight decay is subtracted",
           (("grad = grad + decay * param", "grad = grad - decay * param"),), OPTIM),
    Mutant("sgd-nesterov-without-momentum", "gpugrad/optim/sgd.py",
           "Nesterov looks ahead by buf, not momentum * buf",
           (("grad = grad + momentum * buf if", "grad = grad + buf if"),), OPTIM),
    Mutant("sgd-dampening-ignored", "gpugrad/optim/sgd.py", "SGD's momentum ignores dampening",
           (('buf += (1.0 - group["dampening"]) * grad', "buf += grad"),), OPTIM),
    Mutant("optimizer-step-no-version-bump", "gpugrad/optim/optimizer.py",
           "step() changes parameters in place without bumping their versions",
           (("            states[p] = state\n        p._version_counter.value += 1\n",
             "            states[p] = state\n"),),
           OPTIM + ("tests/test_inplace.py",)),
    # ---- layers -------------------------------------------------------------------------------
    Mutant("dropout-unscaled", "gpugrad/nn/dropout_variants.py",
           "dropout keeps x, not x / (1 - p)",
           (("        return x * keep * (1.0 / (1.0 - p))", "        return x * keep"),), NN),
    Mutant("clip-grad-scales-up", "gpugrad/nn/utils/clip_grad.py",
           "clipping also scales small gradients up to max_norm",
           (("coef = xp.minimum(max_norm / (total + 1e-6), 1.0)",
             "coef = xp.asarray(max_norm / (total + 1e-6))"),), NN),
    # ---- compiled steps -----------------------------------------------------------------------
    Mutant("compile-kernel-not-recorded", "gpugrad/autograd/compile_mode.py",
           "a raw-array kernel (fused rule, in-place write) runs but is not written down, so "
           "replays reuse the recording's result",
           (("    recorder.kernel(fn, args, kwargs, result, scalar)\n",
             "    pass\n"),), COMPILE),
    Mutant("compile-effect-result-not-bound", "gpugrad/step_program.py",
           "the gradient an effect stores is not what later lines read (the recording's is)",
           (("        self._bind_result(result, call, reads)\n        if fn is setattr",
             "        self.lines.append((call, reads, ()))\n        if fn is setattr"),), COMPILE),
    Mutant("compile-guards-ignored", "gpugrad/step_signature.py",
           "a parameter given a new array is not noticed: the program reads the old one",
           (('        terms += [f"g{number}._array is a{number}",\n',
             '        terms += [\n'),), COMPILE),
    Mutant("compile-targets-frozen", "gpugrad/ops/loss.py",
           "cross-entropy's differentiable reverse rule makes its targets outside a kernel, "
           "so a compiled second-order step replays the recording's labels",
           (("    one_hot, valid = kernel(_targets_raw, labels._xp(), labels._array, classes, "
             "dtype,\n",
             "    one_hot, valid = (lambda *a: a[0](*a[1:]))(_targets_raw, labels._xp(), "
             "labels._array, classes, dtype,\n"),), COMPILE),
    Mutant("compile-structure-ignored", "gpugrad/step_signature.py",
           "a buffer replaced or a hook removed outside the step is not noticed",
           (('             f"_structure.epoch == {signature.structure!r}",',
             '             "True",'),), COMPILE),
    Mutant("compile-outside-grad-frozen", "gpugrad/step_program.py",
           "a gradient made outside the step is the recording's at every replay",
           (('        self._bind(array, f"{name}._grad._array", ())\n',
             '        pass\n'),), COMPILE),
    Mutant("compile-replay-write-uncounted", "gpugrad/autograd/compile_mode.py",
           "an in-place write a replay makes is not counted on the tensor's version",
           (("        version.value += 1\n", "        pass\n"),), COMPILE),
    Mutant("compile-factory-frozen", "gpugrad/creation.py",
           "a factory's array is a constant of the program, so in-place writes carry over",
           (("        array = recorded(xp.full)(shape, fill, dtype=dtype)",
             "        array = xp.full(shape, fill, dtype=dtype)"),), COMPILE),
    Mutant("compile-grad-assignment-frozen", "gpugrad/tensor.py",
           "p.grad = ... inside a compiled step runs at the recording only",
           (('        effect(setattr, self, "_grad", value)       #',
             '        self._grad = value       #'),), COMPILE),
    Mutant("compile-keeps-every-array", "gpugrad/step_program.py",
           "no array is freed before the replay ends (a replay holds every intermediate)",
           (("            if dead:\n", "            if False:\n"),), COMPILE),
    # ---- what a CUDA graph's replay redoes and checks (graph_entry.py, multi_tensor.py) -------
    Mutant("replay-leaves-grads-unset", "gpugrad/graph_entry.py",
           "after a replay the .grad the step set are not set again (a backward captured with "
           "zero_grad outside leaves None, and the update outside does nothing)",
           (("        for t, _, end in self.grads:\n            t._grad = end\n", ""),),
           ("tests/test_cuda_graph_guards.py",)),
    Mutant("replay-grad-start-unchecked", "gpugrad/graph_entry.py",
           "a replay does not check the .grad the recording found (it stores where the step "
           "now adds)",
           (('f"zero_grad(set_to_none=False)", f"{name}._grad is {guard.name(start)}")',
             'f"zero_grad(set_to_none=False)", "True")'),),
           ("tests/test_cuda_graph_guards.py",)),
    Mutant("replay-input-grads-skip-hooks", "gpugrad/graph_entry.py",
           "an input's gradient is added after a replay without the engine, so its hooks "
           "do not run",
           (("            backward([inputs[i] for i, _ in self.input_grads],\n"
             "                     [buffer.clone() for _, buffer in self.input_grads])\n",
             "            for i, buffer in self.input_grads:\n"
             "                inputs[i]._grad = buffer.clone()\n"),),
           ("tests/test_cuda_graph_edges.py",)),
    Mutant("replay-groups-unchecked", "gpugrad/optim/multi_tensor.py",
           "a replay does not check which parameters the optimizer's groups hold (a swapped "
           "parameter is not updated, the old one still is)",
           (('                guard.add(layout, f"{name(params)}[{j}] is {name(p)}")\n', ""),),
           ("tests/test_cuda_graph_edges.py",)),
    Mutant("recording-zero-grad-to-none", "gpugrad/nn/parameter.py",
           "zero_grad() inside a recording sets gradients to None, so the backward stores new "
           "buffers the optimizer's recorded launch does not name",
           (("    if kept:\n        set_to_none = False\n", ""),),
           ("tests/test_cuda_graph_guards.py",)),
    Mutant("guard-skips-leaf-arrays", "gpugrad/graph_entry.py",
           "a replay does not check the arrays of the leaves whose .grad the step sets",
           (('                      f"{name}._array is {guard.name(array)}")',
             '                      "True")'),),
           ("tests/test_cuda_graph_guards.py",)),
    Mutant("replay-skips-grads-made-outside", "gpugrad/optim/multi_tensor.py",
           "a parameter that gains a gradient outside the step after the recording is not "
           "checked (the recorded launch skips it)",
           (('                              f"({name(p)}._grad is not None) is "\n'
             '                              f"{p._grad is not None}")',
             '                              "True")'),),
           ("tests/test_cuda_graph_edges.py",)),
    Mutant("replay-copies-parameter-inputs", "gpugrad/graph_entry.py",
           "a parameter passed as an input is copied into a static buffer (the update step "
           "updates the copy)",
           (("                made[id(t._array)] = t if is_module_state(t) else _static_like(t)",
             "                made[id(t._array)] = _static_like(t)"),),
           ("tests/test_cuda_graph_edges.py",)),
    Mutant("replay-optimizer-state-unchecked", "gpugrad/optim/multi_tensor.py",
           "a replay does not check the optimizer's state (after load_state_dict the graph "
           "updates the old tensors)",
           (('            guard.add(state, f"{opt}.state.get({p}) is {name(held.state)}")\n',
             ""),),
           ("tests/test_cuda_graph_guards.py",)),
    # ---- PyTorch look-alikes -------------------------------------------------------------------
    Mutant("bce-exact-gradient", "gpugrad/ops/binary_cross_entropy.py",
           "BCE's gradient divides by p (1 - p) unfloored (infinite at 0, 1 and denormals)",
           (("        grad_p = g * (p - target) / clamp(p * (1.0 - p), min=GRADIENT_FLOOR) \\\n",
             "        grad_p = g * (p - target) / (p * (1.0 - p)) \\\n"),),
           ("tests/test_pytorch_edge_cases.py",)),
    Mutant("norm-slope-at-zero", "gpugrad/ops/norms.py",
           "a p < 1 norm takes |x|**p at zero entries, whose slope is infinite (NaN gradient)",
           (("        safe = elementwise.where(at_zero, 1.0, magnitude) ** ord\n",
             "        safe = magnitude ** ord\n"),),
           ("tests/test_pytorch_edge_cases.py",)),
    Mutant("gather-wraps-negative", "gpugrad/ops/selection.py",
           "a negative gather/index_select index counts from the end instead of raising",
           (("    if least < low or most >= size:", "    if most >= size:"),),
           ("tests/test_pytorch_edge_cases.py",)),
    Mutant("repeat-returns-a-view", "gpugrad/ops/selection.py",
           "Tensor.repeat returns a view of its input (writes show through, or fail)",
           (("    return unary.clone(out).reshape(", "    return (out).reshape("),),
           ("tests/test_pytorch_edge_cases.py",)),
    # ---- CUDA-graph GEMMs (cuda/captured_blas.py) and the loss shortcut ------------------------
    Mutant("captured-gemm-operands-swapped", "gpugrad/cuda/captured_blas.py",
           "a captured GEMM passes a's transpose flag for b and b's for a",
           (("    head = (blas.handle, _OP_N if b_kind == \"row\" else _OP_T,\n"
             "            _OP_N if a_kind == \"row\" else _OP_T,",
             "    head = (blas.handle, _OP_N if a_kind == \"row\" else _OP_T,\n"
             "            _OP_N if b_kind == \"row\" else _OP_T,"),),
           ("tests/test_captured_blas.py",)),
    Mutant("captured-gemm-workspace-first", "gpugrad/cuda/captured_blas.py",
           "the workspace is set before the stream, which resets it (cuBLAS would allocate "
           "while the graph records)",
           (("        _call(self.lib.cublasSetStream_v2, self.handle, "
             "ctypes.c_void_p(self.stream_pointer()))\n",
             ""),
            ("              ctypes.c_void_p(_pointer(self.workspace)), "
             "ctypes.c_size_t(self.workspace.nbytes))\n",
             "              ctypes.c_void_p(_pointer(self.workspace)), "
             "ctypes.c_size_t(self.workspace.nbytes))\n"
             "        _call(self.lib.cublasSetStream_v2, self.handle, "
             "ctypes.c_void_p(self.stream_pointer()))\n"),),
           ("tests/test_captured_blas.py",)),
    Mutant("only-gpu-skips-cpu-arrays", "gpugrad/backend.py",
           "arrays count as on the one GPU when the first is, so a CPU array mixed in is not "
           "refused",
           (("    for a in arrays:\n        if a.__class__ is not only:",
             "    for a in arrays[:1]:\n        if a.__class__ is not only:"),),
           ("tests/test_errors.py",)),
    Mutant("xent-inexact-count-trusted", "gpugrad/ops/fused.py",
           "a float count of the rows is trusted past the integers its dtype holds exactly",
           (("    return exact is not None and rows <= exact and counted.item() == rows",
             "    return exact is not None and counted.item() == rows"),),
           ("tests/test_fused_ops.py",)),
    # ---- saving -------------------------------------------------------------------------------
    Mutant("save-not-atomic", _S, "save writes the file in place (a crash leaves half a file)",
           (('    temporary = temporary_file(folder, ".npz", lambda f: np.savez(f, **arrays), '
             'mode)\n',
             '    temporary = temporary_file(folder, ".npz", lambda f: None, mode)\n'
             '    np.savez(path, **arrays)\n'),), SAVE),
    Mutant("save-leaves-private-mode", _S, "a saved file keeps mkstemp's 0600 permissions",
           (("os.chmod(path, 0o666 & ~_UMASK if mode is None else mode)", "pass"),), SAVE),
    Mutant("save-replaces-symlink", _S, "saving through a link replaces the link by a file",
           (("path = os.path.realpath(given)", "path = os.path.abspath(given)"),), SAVE),
    Mutant("save-loop-not-detected", _S, "a link that loops is replaced by a file",
           (("        os.stat(given)\n", "        os.lstat(given)\n"),), SAVE),
    Mutant("save-leaves-debris", _S, "a failed save leaves its temporary file behind",
           (("    except BaseException:\n        os.remove(path)\n        raise\n",
             "    except BaseException:\n        raise\n"),), SAVE),
    # ---- PyTorch's semantics a review found missing ----------------------------------------
    Mutant("transforms-obey-outer-no-grad", "gpugrad/func/transforms.py",
           "grad/jacrev/hessian called under no_grad() see no graph and return zeros",
           (("            with enable_grad():\n                return f(*self.args, **kwargs)\n",
             "            return f(*self.args, **kwargs)\n"),), ("tests/test_func.py",)),
    Mutant("prod-hessian-at-two-zeros", "gpugrad/ops/product.py",
           "the product of a slice's other zero is a constant: prod's Hessian loses its "
           "entries between two zeros",
           (("where(zeros == 2, zeros_sum - x, 0.0)", "where(zeros == 2, 0.0 * x, 0.0)"),),
           ("tests/test_pytorch_spellings.py",)),
    Mutant("retained-grad-added-in-place", _H,
           "a retained non-leaf .grad is accumulated into its buffer (an earlier read changes)",
           (("store_grad_copy(t, grads[nr], create_graph, in_place=False)",
             "store_grad_copy(t, grads[nr], create_graph, in_place=True)"),),
           ("tests/test_autograd_habits.py",)),
    Mutant("batch-norm-biased-running-var", "gpugrad/nn/batch_norm.py",
           "the running variance moves towards the biased batch variance",
           (("* (count / (count - 1))", "* 1.0"),), ("tests/test_batch_norm.py",)),
    Mutant("tensor-of-tensors-silent", "gpugrad/interop.py",
           "gpugrad.tensor([t, ...]) of tensors requiring grad cuts the graph without a word",
           (("        copying.cut = True", "        pass"),), ("tests/test_autograd_habits.py",)),
    Mutant("sin-slope-sign", "gpugrad/ops/trigonometric.py", "sin's derivative is -cos",
           (("        return g * cos(ctx.xs[0])\n", "        return -g * cos(ctx.xs[0])\n"),),
           ("tests/test_ops_table.py",)),
    Mutant("det-gradient-untransposed", "gpugrad/ops/matrix_functions.py",
           "det's gradient is g det A^-1 (PyTorch's is g det A^-T)",
           (("return _matrix_of(g * ctx.ans) * mT(inv)",
             "return _matrix_of(g * ctx.ans) * inv"),),
           ("tests/test_ops_table.py",)),
    Mutant("einsum-diagonal-letter-first", "gpugrad/ops/einsum.py",
           "a repeated letter's diagonal is named as the first dimension (diagonal appends "
           "it)",
           (("subscripts[:i] + subscripts[i + 1:j] + subscripts[j + 1:] + c\n",
             "c + subscripts[:i] + subscripts[i + 1:j] + subscripts[j + 1:]\n"),),
           ("tests/test_diagonal.py",)),
    Mutant("grown-base-views-stay-constant", "gpugrad/ops/record.py",
           "a view taken before its base took a graph in place stays a constant in ops",
           (("                    _view_replay.refresh_grown(op.name, t)\n",
             "                    pass\n"),),
           ("tests/test_inplace_views.py",)),
    Mutant("detached-views-follow-base", "gpugrad/tensor.py",
           "what detach() made follows its base's graph after the base changes in place",
           (("        out._version_counter = self._version_counter\n        return out\n",
             "        out._version_counter = self._version_counter\n        out._base = self\n"
             "        return out\n"),),
           ("tests/test_inplace_views.py",)),
    Mutant("int-division-by-float64-narrows", "gpugrad/ops/elementwise.py",
           "int / float64 is computed in the default float32 (PyTorch: float64)",
           (("    a, b = promote(a, b)       # (int with float64 is float64: the float side's "
             "dtype)\n", "    a, b = promote(_float(a), _float(b))\n"),),
           ("tests/test_operator_parity.py",)),
    Mutant("int-copy-of-grad-source-tracked", "gpugrad/ops/inplace.py",
           "an int tensor copy_'d from a float requiring grad requires grad itself",
           (("        src = src.detach()          # (an integer or bool result is a constant, "
             "as PyTorch's)\n", "        pass\n"),), ("tests/test_operator_parity.py",)),
    Mutant("repeat-counts-baked-in-compile", "gpugrad/ops/masked.py",
           "repeat_interleave's tensor counts are read once when a step is compiled",
           (("        refuse_host_sync(f\"{op} with a tensor of repeats (its size depends on "
             "them)\")\n", "        pass\n"),), ("tests/test_shape_parity.py",)),
    # ---- PyTorch parity, round 4 (this file's newest) -------------------------------------
    Mutant("loader-batches-are-views", "gpugrad/data/loader.py",
           "in-order batches are views of the dataset: xb /= 255 changes it for later epochs",
           (("batch = [wrap(array[start:stop].copy()) for array in arrays]",
             "batch = [wrap(array[start:stop]) for array in arrays]"),),
           ("tests/test_data_batches.py",)),
    Mutant("collate-first-number-decides", "gpugrad/data/collate.py",
           "a batch of numbers takes the first one's dtype: [1, 2.5] becomes [1, 2]",
           (("            dtype = promote_types(dtype, _number_dtype(value))\n",
             "            pass\n"),), ("tests/test_data_batches.py",)),
    Mutant("clip-norm-float16-sums-in-float16", "gpugrad/nn/utils/clip_grad.py",
           "float16 gradient norms are summed in float16: 300, 400 give inf and zero grads",
           (("norm = xp.linalg.norm(array.ravel().astype(np.float32), ord=norm_type)",
             "norm = xp.linalg.norm(array.ravel(), ord=norm_type)"),),
           ("tests/test_nn_utils_clip_grad_half.py",)),
    Mutant("sequential-fuses-patched-forward", "gpugrad/nn/sequential.py",
           "Linear + ReLU are fused even where an instance's forward was replaced",
           (('return bool(module._all_hooks) or "forward" in module.__dict__',
             "return bool(module._all_hooks)"),), ("tests/test_nn_module_machinery.py",)),
    Mutant("shared-child-visited-twice", "gpugrad/nn/module.py",
           "a child held under two names is visited twice by children/apply/train",
           (("if module is not None and module not in memo:", "if module is not None:"),),
           ("tests/test_nn_module_machinery.py",)),
    Mutant("registry-write-not-mirrored", "gpugrad/nn/attributes.py",
           "m._parameters[name] = p updates the registry but not the attribute forward reads",
           (("            owner.__dict__[key] = value\n", ""),),
           ("tests/test_nn_module_machinery.py",)),
    Mutant("pytree-dict-keys-sorted", "gpugrad/pytree.py",
           "dicts come back from the transforms in sorted key order, not the input's",
           (("        for value in tree.values():\n",
             "        for value in (tree[k] for k in sorted(tree)):\n"),
            ("TreeSpec(kind, children, tuple(tree))",
             "TreeSpec(kind, children, tuple(sorted(tree)))")),
           ("tests/test_pytree.py", "tests/test_func_dicts.py")),
    Mutant("function-keyword-tensors-unbound", "gpugrad/autograd/function.py",
           "tensors passed to Function.apply by keyword record no node: their gradient is lost",
           (("args, kwargs = bind_arguments(cls, args, kwargs)", "args, kwargs = args, kwargs"),),
           ("tests/test_autograd_review_fixes.py",)),
    Mutant("equal-broadcasts", "gpugrad/ops/compare.py",
           "gpugrad.equal compares after broadcasting instead of refusing other shapes",
           (("    if tuple(input.shape) != tuple(other.shape):\n        return False\n", ""),),
           ("tests/test_names_functions.py",)),
    Mutant("big-int-beside-small-ints-is-float", "gpugrad/creation_args.py",
           "tensor([1, 2**63]) silently becomes a float tensor instead of raising Overflow",
           (('    if inferred.kind in "uOf":', '    if inferred.kind in "uO":'),),
           ("tests/test_creation_parity.py",)),
    Mutant("complex-gradient-not-conjugated", "gpugrad/ops/complex_node.py",
           "a holomorphic op's rule on complex values is used as JAX writes it (no conjugate): "
           "gradients are the conjugate of PyTorch's",
           (("            return _parts.conj_physical(r)\n", "            return r\n"),),
           ("tests/test_complex_autograd.py",)),
    Mutant("fft-adjoint-same-norm", "gpugrad/ops/fft.py",
           "a transform's gradient is the inverse with the same norm, not the dual one (off "
           "by a factor n for the default norm)",
           (('_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}',
             '_DUAL = {"backward": "backward", "forward": "forward", "ortho": "ortho"}'),),
           ("tests/test_fft.py",)),
    Mutant("irfft-mirrored-bins-not-doubled", "gpugrad/ops/fft.py",
           "irfft's gradient counts each bin once, not also for its mirror image",
           (("        weights = np.full(half, 2.0)\n", "        weights = np.full(half, 1.0)\n"),),
           ("tests/test_fft.py",)),
    Mutant("int-index-not-selected-first", "gpugrad/ops/indexing.py",
           "x[0, :, idx] follows NumPy's rule (the array's dimension first), the transpose "
           "of PyTorch's result, with the gradient in the wrong cells",
           (('    return _adjacent([n for n, k in enumerate(rest) if k == "a"])\n',
             "    return False\n"),),
           ("tests/test_indexing_torch_rule.py",)),
    Mutant("empty-dim-reduces-nothing", "gpugrad/ops/reduce.py",
           "x.sum(dim=()) returns x (NumPy's axis=()) where PyTorch reduces over everything",
           (("    return None, None\n", "    return (), None\n"),),
           ("tests/test_reductions_edges.py",)),
    Mutant("float16-variance-in-float16", "gpugrad/ops/reduce.py",
           "float16 var/std sum their squares in float16: inf past 65504",
           (('    if x.dtype == "float16":         # (its squares and their sum overflow',
             '    if False:                        # (its squares and their sum overflow'),),
           ("tests/test_reductions_edges.py",)),
    Mutant("float16-scan-in-float16", "gpugrad/ops/cumulative.py",
           "float16 cumsum/cumprod accumulate in float16: ones(3000).cumsum() ends at 2048",
           (("    return xp.float32 if dtype == xp.float16 else dtype\n", "    return dtype\n"),),
           ("tests/test_edges_a_scans_det.py",)),
    Mutant("int-scalar-not-wrapped", "gpugrad/scalar_casts.py",
           "an out-of-range Python int meets an integer tensor unwrapped (u8 > -1 is True, "
           "where PyTorch's -1 is 255 there)",
           (("    return (value - low) % modulus + low\n", "    return value\n"),),
           ("tests/test_integer_scalars.py",)),
    Mutant("saved-stream-not-truncated", "gpugrad/serialization.py",
           "saving into a reused file object leaves the older, longer content after it",
           (("            f.truncate()            # an older", "            pass  # an older"),),
           ("tests/test_serialization_round2.py",)),
]
