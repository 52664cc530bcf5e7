"""vmap over every op of the table (tests/op_specs.py): for each spec, mapped over each
argument alone and over all of them, the batched result equals the float64 NumPy reference
applied example by example; gradients through it (``grad(vmap(f))``) and per-example
gradients (``vmap(grad(f))``) equal loops of single-example backward passes, on every
device. No op falls back to the Python loop."""

import dataclasses
import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad.autograd import grad as autograd_grad
from gpugrad.func import grad, vmap
from op_specs import SPECS, sample_inputs

BATCH = 3
TOLERANCE = dict(rtol=1e-10, atol=1e-12)

# Specs whose batched form must be refused (with the error type): the result's shape would
# differ per example, or an in-place write would put per-example values into one tensor.
REFUSED = {
    ("getitem_mask_from_tensor", (0,)): IndexError,
    ("setitem_step_slice_broadcast_tensor", (1,)): RuntimeError,
    ("setitem_int_array", (1,)): RuntimeError,
    ("setitem_bool_mask", (1,)): RuntimeError,
    ("setitem_int_and_array_apart", (1,)): RuntimeError,
}


def _mappings(spec):
    n = len(spec.args)
    single = [(i,) for i in range(n)]
    return single + ([tuple(range(n))] if n > 1 else [])


CASES = [pytest.param(s, m, id=f"{s.name}-map{''.join(map(str, m))}")
         for s in SPECS if not s.needs_cuda for m in _mappings(s)]


def _examples(spec) -> list:
    """BATCH draws of the spec's inputs (each valid for the op: its own seed)."""
    return [sample_inputs(dataclasses.replace(spec, name=f"{spec.name}/vmap{b}"))
            for b in range(BATCH)]


def _arguments(examples, mapped, requires_grad=False, device="cpu"):
    """Batched arrays for the mapped arguments (batch at 0), the first example's for the
    others; and each example's own arguments."""
    n = len(examples[0])
    batched = [gpugrad.tensor(np.stack([e[i] for e in examples]) if i in mapped
                              else examples[0][i], requires_grad=requires_grad, device=device)
               for i in range(n)]
    per_example = [[e[i] if i in mapped else examples[0][i] for i in range(n)]
                   for e in examples]
    return batched, per_example


def _run_without_fallback(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return fn()


@pytest.mark.parametrize("spec,mapped", CASES)
def test_vmap_of_each_op_is_the_op_on_each_example(spec, mapped, device):
    examples = _examples(spec)
    args, per_example = _arguments(examples, mapped, device=device)
    in_dims = tuple(0 if i in mapped else None for i in range(len(args)))
    refused = REFUSED.get((spec.name, mapped))
    if refused is not None:
        with pytest.raises(refused, match="vmap|batched"):
            vmap(spec.fn, in_dims=in_dims)(*args)
        return
    out = _run_without_fallback(lambda: vmap(spec.fn, in_dims=in_dims)(*args))
    expected = np.stack([np.asarray(spec.reference(*a), dtype=np.float64)
                         for a in per_example])
    assert out.dtype == np.float64
    assert tuple(out.shape) == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, **TOLERANCE)


def _weights(spec, per_example):
    """Fixed random weights per example, shaped like the op's output, so that a scalar
    loss sees every output element."""
    shape = np.shape(spec.reference(*per_example[0]))
    return np.random.default_rng(7).uniform(0.5, 1.5, size=(BATCH,) + shape)


@pytest.mark.parametrize("spec,mapped", CASES)
def test_gradients_through_vmap_equal_the_loop(spec, mapped):
    if (spec.name, mapped) in REFUSED:
        pytest.skip("refused under vmap (tested above)")
    examples = _examples(spec)
    args, per_example = _arguments(examples, mapped, requires_grad=True)
    in_dims = tuple(0 if i in mapped else None for i in range(len(args)))
    weights = _weights(spec, per_example)
    out = _run_without_fallback(lambda: vmap(spec.fn, in_dims=in_dims)(*args))
    got = autograd_grad((out * gpugrad.tensor(weights)).sum(), args, allow_unused=True)
    expected = [np.zeros(a.shape) for a in args]
    for b, example in enumerate(per_example):
        leaves = [gpugrad.tensor(a, requires_grad=True) for a in example]
        loss = (spec.fn(*leaves) * gpugrad.tensor(weights[b])).sum()
        for i, g in enumerate(autograd_grad(loss, leaves, allow_unused=True)):
            if g is None:
                continue
            if i in mapped:
                expected[i][b] += g.numpy()
            else:
                expected[i] += g.numpy()
    for i, g in enumerate(got):
        shown = np.zeros(args[i].shape) if g is None else g.numpy()
        np.testing.assert_allclose(shown, expected[i], **TOLERANCE, err_msg=f"argument {i}")


@pytest.mark.parametrize("spec,mapped", CASES)
def test_per_example_gradients_equal_single_example_backward(spec, mapped, device):
    if (spec.name, mapped) in REFUSED:
        pytest.skip("refused under vmap (tested above)")
    examples = _examples(spec)
    args, per_example = _arguments(examples, mapped, device=device)
    n = len(args)
    weights = _weights(spec, per_example)

    def weighted_loss(*a):
        *inputs, w = a
        return (spec.fn(*inputs) * w).sum()

    in_dims = tuple(0 if i in mapped else None for i in range(n)) + (0,)
    per_example_grad = grad(weighted_loss, argnums=tuple(range(n)))
    got = _run_without_fallback(
        lambda: vmap(per_example_grad, in_dims=in_dims)(*args,
                                                        gpugrad.tensor(weights, device=device)))
    for b, example in enumerate(per_example):
        leaves = [gpugrad.tensor(a, requires_grad=True) for a in example]
        loss = (spec.fn(*leaves) * gpugrad.tensor(weights[b])).sum()
        for i, g in enumerate(autograd_grad(loss, leaves, allow_unused=True)):
            want = np.zeros(example[i].shape) if g is None else g.numpy()
            np.testing.assert_allclose(got[i].numpy()[b], want, **TOLERANCE,
                                       err_msg=f"example {b}, argument {i}")


def test_every_record_with_a_spec_has_a_batching_rule():
    """A record without a rule would loop (slowly, with a warning): every record reached by
    the table has a rule or a shortcut."""
    from gpugrad.ops import REGISTRY
    reached = {r for s in SPECS for r in s.records}
    missing = sorted(name for name in reached if REGISTRY[name].vmap is None)
    assert not missing, f"records without a batching rule: {missing}"
