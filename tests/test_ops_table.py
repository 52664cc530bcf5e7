"""Every op record through one table (tests/op_specs.py; docs/ARCHITECTURE.md, "The op
record"): the forward against a NumPy float64 reference, float32 kept float32, reverse mode,
forward mode and second order against central differences in float64, with contiguous and
non-contiguous inputs, on every device."""

import numpy as np
import pytest

import gpugrad
from gpugrad import backend
from gpugrad.autograd import grad as autograd_grad
from gpugrad.func import jvp
from gpugrad.ops import REGISTRY
from conftest import CUDA_RUNS, fail_unless_cuda_is_usable
from op_specs import KINK_MARGIN, SPECS, sample_inputs

# Differentiable records that need no spec of their own, each with the reason. None today:
# every Op subclass in the registry is reached by some public function. (User-defined
# autograd Functions, such as autograd.function's _DelayedErrorFunction, are not Op records
# and never appear in REGISTRY.)
RECORDS_WITHOUT_SPEC: dict[str, str] = {
    "StandardGamma": "a random forward (a draw); its implicit-reparameterisation rule "
                     "(StandardGammaGrad) is checked against the CDF's quantile derivative "
                     "in tests/test_distributions_gamma.py",
    "StandardGammaGrad": "its rule only raises (no second derivative, as PyTorch's): "
                         "tests/test_distributions_gamma.py checks the error",
    **dict.fromkeys(("Eig", "EigVjp", "EigJvp"),
                    "complex outputs, no second order (refused): tests/test_linalg_eig.py "
                    "checks the values and first-order rules against finite differences"),
}

SPEC_PARAMS = [pytest.param(s, id=s.name) for s in SPECS]

FLOAT64_TOLERANCE = dict(rtol=1e-10, atol=1e-12)
FLOAT32_TOLERANCE = dict(rtol=1e-4, atol=1e-5)


def skip_if_device_missing(spec):
    if spec.needs_cuda and not CUDA_RUNS:
        pytest.skip(f"{spec.name} moves tensors to cuda and back: needs a usable GPU")
    if spec.needs_cuda:
        fail_unless_cuda_is_usable()


def as_input_tensors(arrays, device, dtype=np.float64):
    """Fresh leaf tensors (requiring grad) holding ``arrays`` on ``device``."""
    return [gpugrad.tensor(a.astype(dtype), device=device, requires_grad=True) for a in arrays]


def as_non_contiguous_tensor(values: np.ndarray, device):
    """``values`` as a non-contiguous view on ``device``: the transpose of a contiguous array
    when that is not contiguous itself, else every second element of a wider array. Arrays
    of at most one element are always contiguous and come back as plain tensors."""
    if values.size <= 1:
        return gpugrad.tensor(values, device=device)
    transposed = np.asfortranarray(values)
    if values.ndim >= 2 and not transposed.flags.c_contiguous:
        stored = gpugrad.tensor(np.ascontiguousarray(values.T), device=device)
        view = stored.array.T
    else:
        wide = np.zeros(values.shape[:-1] + (2 * values.shape[-1],))
        wide[..., ::2] = values
        stored = gpugrad.tensor(wide, device=device)
        view = stored.array[..., ::2]
    return gpugrad.as_tensor(view)


def as_non_contiguous_inputs(arrays, device):
    tensors = [as_non_contiguous_tensor(a, device).requires_grad_() for a in arrays]
    for t, a in zip(tensors, arrays):
        np.testing.assert_array_equal(t.numpy(), a)
    return tensors


def is_contiguous(t) -> bool:
    return bool(t.array.flags.c_contiguous)


def assert_matches_reference(out, expected, dtype, tolerance):
    assert isinstance(out, gpugrad.Tensor)
    assert out.dtype == dtype, f"output dtype {out.dtype}, expected {dtype}"
    assert tuple(out.shape) == np.shape(expected), (
        f"output shape {tuple(out.shape)}, NumPy gives {np.shape(expected)}")
    np.testing.assert_allclose(out.numpy().astype(np.float64), expected, **tolerance)


def finite_difference_options(spec) -> dict:
    """eps, atol and rtol for this spec: gradcheck's defaults unless the spec says otherwise."""
    return dict(dict(eps=1e-6, atol=1e-5, rtol=1e-3), **spec.gradcheck_options)


def sample_tangents(spec) -> list:
    rng = np.random.default_rng(7)
    return [rng.standard_normal(arg.shape) for arg in spec.args]


def assert_jvp_matches_reference_differences(spec, primals, arrays, device, along=None):
    """The tangent that forward mode computes against a central difference of the NumPy
    reference along the same direction. ``along`` (input positions, default all) says which
    inputs get a tangent: the others are plain tensors that carry none (a rule then sees
    None for them), and the difference moves the inputs in ``along`` alone."""
    along = list(range(len(arrays))) if along is None else list(along)
    directions = sample_tangents(spec)

    def along_those(*xs):
        bound = list(primals)
        for k, x in zip(along, xs):
            bound[k] = x
        return spec.fn(*bound)

    _, tangent_out = jvp(along_those, tuple(primals[k] for k in along),
                         tuple(gpugrad.tensor(directions[k], device=device) for k in along))
    options = finite_difference_options(spec)
    eps = options["eps"]

    def moved(sign):
        return [a + sign * eps * d if k in along else a
                for k, (a, d) in enumerate(zip(arrays, directions))]

    plus, minus = (np.asarray(spec.reference(*moved(sign)), np.float64) for sign in (1, -1))
    expected = (plus - minus) / (2 * eps)
    assert tangent_out.dtype == np.float64
    assert tuple(tangent_out.shape) == expected.shape
    np.testing.assert_allclose(tangent_out.numpy(), expected, rtol=options["rtol"],
                               atol=options["atol"])


def recorded_op_names(tensors) -> set:
    """Names of the op records in the graphs behind ``tensors``."""
    names, seen = set(), set()
    stack = [t.grad_fn for t in tensors if t is not None and t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        op = getattr(node, "op", None)
        if op is not None:
            names.add(op.name)
        stack.extend(edge[0] for edge in node.next_edges if edge is not None)
    return names


@pytest.mark.parametrize("spec", SPEC_PARAMS)
def test_forward_matches_numpy_float64(spec, device):
    skip_if_device_missing(spec)
    arrays = sample_inputs(spec)
    out = spec.fn(*as_input_tensors(arrays, device))
    assert out.device == backend.Device(device)
    assert_matches_reference(out, spec.reference(*arrays), np.float64, FLOAT64_TOLERANCE)


@pytest.mark.parametrize("spec", SPEC_PARAMS)
def test_float32_stays_float32(spec, device):
    """No accidental upcast (Python-float scalars included), in the output or the gradients."""
    skip_if_device_missing(spec)
    arrays = [a.astype(np.float32) for a in sample_inputs(spec)]
    inputs = as_input_tensors(arrays, device, np.float32)
    out = spec.fn(*inputs)
    expected = spec.reference(*(a.astype(np.float64) for a in arrays))
    assert_matches_reference(out, expected, np.float32, FLOAT32_TOLERANCE)
    grads = autograd_grad(out, inputs, grad_outputs=gpugrad.ones_like(out), allow_unused=True)
    for i, g in enumerate(grads):
        assert g is None or g.dtype == np.float32, f"gradient of input {i} is {g.dtype}"
    directions = [gpugrad.tensor(d.astype(np.float32), device=device)
                  for d in sample_tangents(spec)]
    _, tangent_out = jvp(spec.fn, tuple(inputs), tuple(directions))
    assert tangent_out.dtype == np.float32, f"forward-mode tangent is {tangent_out.dtype}"


@pytest.mark.parametrize("spec", SPEC_PARAMS)
def test_gradcheck_float64(spec, device):
    skip_if_device_missing(spec)
    inputs = as_input_tensors(sample_inputs(spec), device)
    assert gpugrad.gradcheck(spec.fn, tuple(inputs), **spec.gradcheck_options)


@pytest.mark.parametrize("spec", SPEC_PARAMS)
def test_gradgradcheck_float64(spec, device):
    skip_if_device_missing(spec)
    inputs = as_input_tensors(sample_inputs(spec), device)
    assert gpugrad.gradgradcheck(spec.fn, tuple(inputs), **spec.gradcheck_options)


@pytest.mark.parametrize("spec", SPEC_PARAMS)
def test_jvp_matches_finite_differences(spec, device):
    """Forward mode (gpugrad.func.jvp) on primals that do not require grad."""
    skip_if_device_missing(spec)
    arrays = sample_inputs(spec)
    primals = [gpugrad.tensor(a, device=device) for a in arrays]
    assert_jvp_matches_reference_differences(spec, primals, arrays, device)


ONE_TANGENT_PARAMS = [pytest.param(s, i, id=f"{s.name}-input{i}")
                      for s in SPECS if len(s.args) > 1 for i in range(len(s.args))]


@pytest.mark.parametrize("spec, i", ONE_TANGENT_PARAMS)
def test_jvp_with_a_tangent_on_one_input_alone(spec, i, device):
    """Forward mode with a tangent on input ``i`` only, the other inputs plain tensors that
    carry none (a rule then sees None for them): the output tangent has the output's shape
    and matches a central difference of the NumPy reference along input ``i`` alone. (A
    bias tangent alone once came back shaped like the bias, not like Linear's output.)"""
    skip_if_device_missing(spec)
    arrays = sample_inputs(spec)
    primals = [gpugrad.tensor(a, device=device) for a in arrays]
    assert_jvp_matches_reference_differences(spec, primals, arrays, device, along=[i])


@pytest.mark.parametrize("spec", SPEC_PARAMS)
def test_jvp_consistent_with_vjp(spec, device):
    """<u, J v> by forward mode equals <J^T u, v> by reverse mode, for random u and v."""
    skip_if_device_missing(spec)
    arrays = sample_inputs(spec)
    directions = sample_tangents(spec)
    primals = [gpugrad.tensor(a, device=device) for a in arrays]
    tangents = [gpugrad.tensor(d, device=device) for d in directions]
    out, jv = jvp(spec.fn, tuple(primals), tuple(tangents))
    u = np.random.default_rng(11).standard_normal(out.shape)
    inputs = as_input_tensors(arrays, device)
    pulled = autograd_grad(spec.fn(*inputs), inputs,
                           grad_outputs=gpugrad.tensor(u, device=device), allow_unused=True)
    forward = float((u * jv.numpy()).sum())
    reverse = sum(float((g.numpy() * d).sum()) for g, d in zip(pulled, directions)
                  if g is not None)
    # exact up to float64 rounding, except specs that round through float32 on purpose
    assert forward == pytest.approx(reverse, rel=1e-9,
                                    abs=spec.gradcheck_options.get("atol", 1e-12))


@pytest.mark.parametrize("spec", SPEC_PARAMS)
def test_non_contiguous_inputs(spec, device):
    """The same checks with inputs that are transposed or stepped views of other arrays."""
    skip_if_device_missing(spec)
    arrays = sample_inputs(spec)
    if all(a.size <= 1 for a in arrays):
        pytest.skip("inputs of at most one element are always contiguous")
    inputs = as_non_contiguous_inputs(arrays, device)
    assert not all(is_contiguous(t) for t in inputs)
    out = spec.fn(*inputs)
    assert_matches_reference(out, spec.reference(*arrays), np.float64, FLOAT64_TOLERANCE)
    assert gpugrad.gradcheck(spec.fn, tuple(inputs), **spec.gradcheck_options)
    assert gpugrad.gradgradcheck(spec.fn, tuple(inputs), **spec.gradcheck_options)
    assert_jvp_matches_reference_differences(spec, inputs, arrays, device)


@pytest.mark.parametrize("spec", SPEC_PARAMS)
def test_spec_exercises_the_records_it_names(spec, device):
    """Each named record shows up in the forward graph or in the graph of its gradients."""
    skip_if_device_missing(spec)
    inputs = as_input_tensors(sample_inputs(spec), device)
    out = spec.fn(*inputs)
    cotangent = gpugrad.ones_like(out).requires_grad_()
    grads = autograd_grad(out, inputs, grad_outputs=cotangent, create_graph=True,
                          allow_unused=True)
    seen = recorded_op_names([out, *grads])
    missing = set(spec.records) - seen
    assert not missing, f"{spec.name} never ran {sorted(missing)}; it ran {sorted(seen)}"


def test_every_differentiable_record_has_a_spec():
    differentiable = {name for name, op in REGISTRY.items() if op.differentiable}
    covered = {name for s in SPECS for name in s.records}
    missing = differentiable - covered - set(RECORDS_WITHOUT_SPEC)
    assert not missing, (f"differentiable op records without a spec in tests/op_specs.py: "
                         f"{sorted(missing)}")


def test_spec_records_are_registered_op_names():
    unknown = {name for s in SPECS for name in s.records} - set(REGISTRY)
    assert not unknown, f"specs name records that gpugrad.ops.REGISTRY lacks: {sorted(unknown)}"


def test_sampled_inputs_respect_their_domains():
    """The generators keep their promises (else a failing gradcheck could be a bad input)."""
    for s in SPECS:
        arrays = sample_inputs(s)
        distinct = np.concatenate([a.ravel() for a, arg in zip(arrays, s.args) if arg.distinct]
                                  or [np.zeros(0)])
        for a, arg in zip(arrays, s.args):
            assert a.shape == arg.shape and a.dtype == np.float64, s.name
            assert np.all(np.abs(a) >= arg.min_abs), s.name
            for kink in arg.avoid:
                assert np.all(np.abs(a - kink) >= KINK_MARGIN), s.name
            if not arg.distinct:
                assert np.all((a >= arg.low) & (a <= arg.high)), s.name
        gaps = np.diff(np.sort(distinct))
        assert np.all(gaps >= KINK_MARGIN), s.name
