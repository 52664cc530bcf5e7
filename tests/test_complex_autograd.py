"""Complex autograd in PyTorch's convention: z.grad = dL/dRe(z) + i dL/dIm(z) for a real L.

Every op whose record is marked for complex values (``complex_grad``) is checked here against
central finite differences along the real and imaginary parts, in complex128: reverse mode,
forward mode (jvp) and second order (create_graph). Torch comparisons skip without torch.
"""

import numpy as np
import pytest

import gpugrad
from gpugrad.autograd import grad as autograd_grad
import gpugrad.autograd.forward_ad as fwAD
from gpugrad.ops import REGISTRY
from gpugrad.ops.shape import alias
import test_ops_table as ops_table
import test_vmap_ops as vmap_ops
from op_specs_complex import SPECS as COMPLEX_SPECS
from complex_case_checks import (TOL, _complex, _cotangent_like, _dual, _forward, _leaves,
                                 c, check_forward, check_reverse, check_second_order, r,
                                 records_reached, right, sample)

MASK = np.array([[True, False, True], [False, True, True]])


def _set_row(a, b):
    """``y[1] = b * b`` on a copy of a (SetItem; its gradient's ZeroAt), then a product."""
    y = a * 1.0
    y[1] = b * b
    return y * a

# name: (records it reaches, fn of tensors, input kinds)
CASES = {
    "add": (("Add",), lambda a, b: a + b, (c(2, 3), c(3))),
    "add_real_and_complex": (("Add", "Cast"), lambda a, b: a + b, (r(2, 3), c(2, 3))),
    "sub": (("Sub",), lambda a, b: a - b, (c(2, 3), c(2, 1))),
    "mul": (("Mul",), lambda a, b: a * b, (c(2, 3), c(2, 3))),
    "mul_real_and_complex": (("Mul", "Cast"), lambda a, b: a * b, (r(3), c(2, 3))),
    "div": (("Div",), lambda a, b: a / b, (c(2, 3), c(3))),
    "pow_tensor": (("Pow", "Where"), lambda a, b: a ** b, (right(2, 3), c(2, 3))),
    "neg": (("Neg",), lambda a: -a, (c(4),)),
    "add_scalar": (("AddScalar",), lambda a: a + (2.5 - 1j), (c(4),)),
    "mul_scalar": (("MulScalar",), lambda a: a * (1.5 - 2j), (c(4),)),
    "mul_complex_scalar_real_input": (("MulScalar",), lambda a: a * 1j, (r(4),)),
    "div_scalar": (("DivScalar",), lambda a: a / (2 + 1j), (c(4),)),
    "rdiv_scalar": (("RDivScalar",), lambda a: (1 + 1j) / a, (c(4),)),
    "pow_scalar": (("PowScalar", "PowScalarGrad"), lambda a: a ** 3, (c(4),)),
    "pow_scalar_fraction": (("PowScalar", "PowScalarGrad"), lambda a: a ** 2.5, (right(4),)),
    "rpow_scalar": (("RPowScalar",), lambda a: 2.0 ** a, (c(4),)),
    # a negative base: the complex log, log 2 + i pi (the NaN of a real log was wrong)
    "rpow_scalar_negative_base": (("RPowScalar",), lambda a: (-2.0) ** a, (c(4),)),
    # a complex base and a real exponent: a complex output of a real input
    "rpow_scalar_complex_base": (("RPowScalar",), lambda a: (0.5 + 1j) ** a, (r(4),)),
    "exp": (("Exp",), lambda a: a.exp(), (c(4),)),
    "log": (("Log",), lambda a: a.log(), (right(4),)),
    "sqrt": (("Sqrt",), lambda a: a.sqrt(), (right(4),)),
    "sin": (("Sin",), lambda a: gpugrad.sin(a), (c(4),)),
    "cos": (("Cos",), lambda a: gpugrad.cos(a), (c(4),)),
    "tanh": (("Tanh",), lambda a: a.tanh(), (c(4),)),
    "sum": (("Sum",), lambda a: a.sum(0), (c(2, 3),)),
    "mean": (("Mean",), lambda a: a.mean(), (c(2, 3),)),
    "reshape_view": (("Reshape",), lambda a: a.reshape(3, 2) * a.view(-1)[:2].view(1, 2),
                     (c(2, 3),)),
    "transpose_permute": (("Permute",), lambda a: a.transpose(0, 1) + a.permute(1, 0),
                          (c(2, 3),)),
    "getitem": (("GetItem", "ScatterAdd"), lambda a: a[1, ::2].sum() * a[[0, 0, 1], 1],
                (c(2, 3),)),
    "cat_stack": (("Concatenate",),
                  lambda a, b: gpugrad.cat([a, b]).view(2, 3) * gpugrad.stack([a, b]),
                  (c(3), c(3))),
    "expand": (("BroadcastTo",), lambda a: a.expand(2, 3), (c(1, 3),)),
    "alias_clone": (("Alias", "Clone"), lambda a: alias(a) * a.clone(), (c(3),)),
    "cast": (("Cast",), lambda a: a.astype("complex128") * (1 + 2j), (r(3),)),
    "matmul": (("MatMul",), lambda a, b: a @ b, (c(2, 3), c(3, 2))),
    "matmul_vector": (("MatMul",), lambda a, b: a @ b, (c(3), c(3, 2))),
    "where": (("Where",), lambda a, b: gpugrad.where(gpugrad.tensor(MASK), a, b),
              (c(2, 3), c(2, 3))),
    "abs": (("Abs",), lambda a: (a * a).abs(), (c(4),)),
    "real_imag": (("Real", "Imag"), lambda a: a.real * 2 + a.imag * a.real, (c(4),)),
    "conj": (("Conj",), lambda a: gpugrad.conj(a) * a.conj_physical() * a.resolve_conj(),
             (c(4),)),
    "angle": (("Angle",), lambda a: gpugrad.angle(a), (c(4),)),
    "polar": (("Polar",), lambda m, t: gpugrad.polar(m.abs(), t), (r(2, 3), r(3))),
    "complex": (("Complex",), lambda a, b: gpugrad.complex(a, b), (r(2, 1), r(3))),
    "view_as_real": (("ViewAsReal",), lambda a: gpugrad.view_as_real(a.transpose(0, 1)),
                     (c(2, 3),)),
    "view_as_complex": (("ViewAsComplex",), lambda a: gpugrad.view_as_complex(a),
                        (r(3, 2),)),
    "sgn": (("Sgn",), lambda a: gpugrad.sgn(a) * a, (c(4),)),
    # norms of complex values are norms of |x|: real results (Re(x conj x) for ord 2)
    "vector_norm": (("Conj", "Real", "Mul"), lambda a: gpugrad.linalg.vector_norm(a, dim=1),
                    (c(2, 3),)),
    "vector_norm_ord_3": (("Abs",), lambda a: gpugrad.linalg.vector_norm(a, 3), (c(4),)),
    "dist": (("Conj", "Real", "Sub"), lambda a, b: gpugrad.dist(a, b), (c(2, 3), c(3))),
    "einsum": (("Einsum",), lambda a, b: gpugrad.einsum("ij,jk->ik", a, b) * a.sum(),
               (c(2, 3), c(3, 2))),
    "einsum_broadcast_letter": (("Einsum",), lambda a, b: gpugrad.einsum("ij,k->jk", a, b),
                                (c(2, 3), c(2))),
    "vdot": (("Einsum", "Conj"), lambda a, b: gpugrad.vdot(a, b) * a, (c(3), c(3))),
    "setitem": (("SetItem", "ZeroAt"), _set_row, (c(2, 3), c(3))),
}
# The modules whose complex marks this file verifies (other modules' marked records, such as
# fft.py's, are checked by finite differences in their own tests); marked records of these
# modules without a case here, with the reason (a new mark needs a case or a line)
MODULES = {f"gpugrad.ops.{name}" for name in (
    "unary", "elementwise", "scalar", "trigonometric", "activation", "reduce", "shape",
    "indexing", "linalg", "complex_parts", "complex_views", "pointwise", "einsum",
    "region_write")}
UNCASED = {"ToDevice": "moves tensors between devices: needs a GPU (tests/test_cuda_ops.py)",
           "LogSumExp": "checked in tests/test_complex_reductions.py (this file is full)"}


def _case(name):
    records, fn, kinds = CASES[name]
    return fn, sample(kinds, sum(map(ord, name)))


CASE_NAMES = sorted(CASES)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_reverse_mode_matches_finite_differences(name):
    check_reverse(*_case(name))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_forward_mode_matches_finite_differences(name):
    check_forward(*_case(name))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_second_order_matches_finite_differences_of_the_gradient(name):
    """create_graph through the complex rules: the gradient of <grad(z), w> in z."""
    if not check_second_order(*_case(name)):
        pytest.skip("the gradient does not depend on the inputs (a linear op)")


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case_reaches_the_records_it_names(name):
    seen = records_reached(*_case(name))
    assert set(CASES[name][0]) <= seen, f"{name} ran {sorted(seen)}"


def test_every_record_marked_for_complex_has_a_case():
    marked = {name for name, op in REGISTRY.items()
              if op.complex_grad is not None and op.__module__ in MODULES}
    covered = {name for records, _, _ in CASES.values() for name in records}
    assert marked - covered - set(UNCASED) == set()
    assert covered <= marked, sorted(covered - marked)


# ------------------------------------------------------------------ hand-derived values

def test_the_brief_example_gives_torchs_values():
    """|x*x| = |x|^2 = x conj(x): its gradient in torch's convention is 2x."""
    x = gpugrad.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    (x * x).abs().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 4j, 6 - 2j], rtol=1e-6)


def test_hand_derived_gradients_of_the_parts():
    z = gpugrad.tensor([3 + 4j, 0j], dtype=gpugrad.complex128, requires_grad=True)
    (z.real * 2 + z.imag * 5).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [2 + 5j, 2 + 5j])
    z.grad = None
    z.abs().sum().backward()                      # z / |z|, 0 at 0
    np.testing.assert_allclose(z.grad.numpy(), [0.6 + 0.8j, 0])
    z.grad = None
    gpugrad.angle(z).sum().backward()             # i z / |z|^2, 0 at 0
    np.testing.assert_allclose(z.grad.numpy(), [(-4 + 3j) / 25, 0])
    z.grad = None
    (z * (2 - 1j)).real.sum().backward()          # Re(c z): gradient conj(c)
    np.testing.assert_allclose(z.grad.numpy(), [2 + 1j, 2 + 1j])


def test_matmul_gradient_is_g_times_the_conjugate_transpose():
    rng = np.random.default_rng(0)
    a, b, g = (_complex(rng, s) for s in ((2, 3), (3, 4), (2, 4)))
    ta, tb = gpugrad.tensor(a, requires_grad=True), gpugrad.tensor(b, requires_grad=True)
    (ta @ tb).backward(gpugrad.tensor(g))
    np.testing.assert_allclose(ta.grad.numpy(), g @ b.conj().T)
    np.testing.assert_allclose(tb.grad.numpy(), a.conj().T @ g)


def test_real_input_of_a_complex_graph_gets_a_real_gradient():
    x = gpugrad.tensor([1.0, 2.0], dtype=gpugrad.float64, requires_grad=True)
    w = gpugrad.tensor([2 + 3j, 1 - 1j], dtype=gpugrad.complex128)
    (x * w).imag.sum().backward()                   # d Im(x w)/dx = Im(w)
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -1.0])


# ------------------------------------------------------------------ refusals

def test_an_op_without_a_complex_rule_refuses_when_recorded():
    z = gpugrad.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    with pytest.raises(TypeError, match="Sinh has no complex gradient yet"):
        gpugrad.sinh(z)
    with gpugrad.no_grad():                                             # forward alone is fine
        np.testing.assert_allclose(gpugrad.sinh(z).numpy(), np.sinh([1 + 2j, 3 - 1j]), rtol=1e-6)
    gpugrad.sinh(z.detach())                                            # no grad: fine


def test_an_op_without_a_complex_rule_refuses_forward_mode():
    with fwAD.dual_level():
        z = _dual(np.array([1 + 2j, 3 - 1j]), np.array([1j, 1.0 + 0j]))
        with pytest.raises(TypeError, match="Sinh has no complex forward-mode"):
            gpugrad.sinh(z)


def test_real_graphs_keep_the_plain_node():
    from gpugrad.autograd.graph import Node
    x = gpugrad.ones(3, requires_grad=True)
    assert (x * x).grad_fn.__class__ is Node and (x * 2.0).grad_fn.__class__ is Node
    z = gpugrad.ones(3, dtype=gpugrad.complex64, requires_grad=True)
    assert (z * z).grad_fn.__class__ is not Node


# ------------------------------------------------------------------ vmap of the new ops

@pytest.mark.parametrize("name", ["real_imag", "conj", "angle", "polar", "complex",
                                  "view_as_real", "view_as_complex", "abs"])
def test_vmap_matches_a_loop(name):
    fn, arrays = _case(name)
    batched = [np.stack([a, a * 0.5 + 0.1]) for a in arrays]
    out = gpugrad.vmap(fn)(*[gpugrad.tensor(b) for b in batched])
    loop = np.stack([_forward(fn, [b[k] for b in batched]) for k in range(2)])
    np.testing.assert_allclose(out.numpy(), loop, rtol=1e-12)


# ------------------------------------------------------------------ torch

@pytest.mark.parametrize("name", CASE_NAMES)
def test_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    fn, arrays = _case(name)
    inputs = _leaves(arrays)
    out = fn(*inputs)
    gout = _cotangent_like(out.numpy(), 1)
    grads = autograd_grad(out, inputs, grad_outputs=gpugrad.tensor(gout))
    t_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_out = _torch_fn(torch, name, fn)(*t_inputs)
    np.testing.assert_allclose(t_out.detach().numpy(), out.numpy(), **TOL)
    t_grads = torch.autograd.grad(t_out, t_inputs, grad_outputs=torch.tensor(gout))
    for got, want in zip(grads, t_grads):
        np.testing.assert_allclose(got.numpy(), want.numpy(), **TOL)


def _torch_fn(torch, name, fn):
    """The case in torch's spelling where gpugrad's differs."""
    spelled = {
        "alias_clone": lambda a: a.view_as(a) * a.clone(),
        "cast": lambda a: a.to(torch.complex128) * (1 + 2j),
        "where": lambda a, b: torch.where(torch.tensor(MASK), a, b),
        "sin": torch.sin, "cos": torch.cos, "angle": torch.angle,
        "cat_stack": lambda a, b: torch.cat([a, b]).view(2, 3) * torch.stack([a, b]),
        "conj": lambda a: torch.conj(a) * a.conj_physical() * a.resolve_conj(),
        "polar": lambda m, t: torch.polar(m.abs(), t), "complex": torch.complex,
        "view_as_real": lambda a: torch.view_as_real(a.transpose(0, 1)),
        "view_as_complex": torch.view_as_complex,
        "getitem": lambda a: a[1, ::2].sum() * a[[0, 0, 1], 1],
        "sgn": lambda a: torch.sgn(a) * a,
        "vector_norm": lambda a: torch.linalg.vector_norm(a, dim=1),
        "vector_norm_ord_3": lambda a: torch.linalg.vector_norm(a, 3),
        "dist": torch.dist,
        "einsum": lambda a, b: torch.einsum("ij,jk->ik", a, b) * a.sum(),
        "einsum_broadcast_letter": lambda a, b: torch.einsum("ij,k->jk", a, b),
        "vdot": lambda a, b: torch.vdot(a, b) * a,
    }
    return spelled.get(name, fn)


# ------------------------------------------------------------------ the op table's checks

TABLE_CHECKS = ["test_forward_matches_numpy_float64", "test_float32_stays_float32",
                "test_gradcheck_float64", "test_gradgradcheck_float64",
                "test_jvp_matches_finite_differences", "test_jvp_consistent_with_vjp",
                "test_non_contiguous_inputs", "test_spec_exercises_the_records_it_names"]


@pytest.mark.parametrize("check", TABLE_CHECKS)
@pytest.mark.parametrize("spec", COMPLEX_SPECS, ids=lambda s: s.name)
def test_complex_specs_pass_the_op_table_checks(spec, check):
    """tests/op_specs_complex.py's specs (real around a complex middle) through the checks
    tests/test_ops_table.py runs on every spec, on cpu."""
    getattr(ops_table, check)(spec, "cpu")


@pytest.mark.parametrize("spec", COMPLEX_SPECS, ids=lambda s: s.name)
def test_complex_specs_pass_the_vmap_checks(spec):
    for mapped in vmap_ops._mappings(spec):
        vmap_ops.test_vmap_of_each_op_is_the_op_on_each_example(spec, mapped, "cpu")
        vmap_ops.test_gradients_through_vmap_equal_the_loop(spec, mapped)
        vmap_ops.test_per_example_gradients_equal_single_example_backward(spec, mapped, "cpu")
