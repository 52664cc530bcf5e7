"""The checks every complex case table runs (test_complex_autograd.py,
test_complex_reductions.py, test_complex_linalg.py, test_complex_decompositions.py,
test_complex_matrix_more.py), and ``case_tests``, the five tests the tables after the first
bind.

A case is ``name: (records it reaches, fn, input kinds)``; ``fn(m, *tensors)`` is written
once for both libraries (``m`` is ``gpugrad`` or ``torch``; test_complex_autograd.py's take
the tensors alone, and the checks take such a function). Each check compares, in
complex128, against central finite differences along the real and imaginary parts (reverse
mode, forward mode, second order), or against torch.
"""

from __future__ import annotations

import numpy as np

import gpugrad
from gpugrad.autograd import grad as autograd_grad
import gpugrad.autograd.forward_ad as fwAD

EPS = 1e-6
TOL = dict(rtol=1e-6, atol=1e-8)


def _complex(rng, shape, re_low=-1.5, re_high=1.5):
    """complex128 values with |z| >= 0.5 (away from abs's and angle's kink at 0)."""
    z = rng.uniform(re_low, re_high, shape) + 1j * rng.uniform(-1.5, 1.5, shape)
    small = np.abs(z) < 0.5
    return np.where(small, z / np.where(small, np.abs(z), 1) * 0.7, z)


def _cotangent_like(out, seed):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(out.shape)
    return g + 1j * rng.standard_normal(out.shape) if np.iscomplexobj(out) else g


def _pairing(value, weight) -> float:
    """<value, weight> over the reals: sum(Re v Re w + Im v Im w) (L whose z.grad is w)."""
    return float(np.sum(np.real(value) * np.real(weight) + np.imag(value) * np.imag(weight)))


def numeric_gradients(loss, arrays):
    """dL/dRe + i dL/dIm of the real function ``loss(arrays)`` by central differences."""
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        directions = (1, 1j) if np.iscomplexobj(a) else (1,)
        for k in range(a.size):
            for d in directions:
                moved = []
                for sign in (1, -1):
                    b = [x.copy() for x in arrays]
                    b[i].flat[k] += sign * EPS * d
                    moved.append(loss(b))
                g.flat[k] += d * (moved[0] - moved[1]) / (2 * EPS)
        grads.append(g)
    return grads


def _dual(array, tangent):
    """A tensor carrying ``tangent`` at the innermost level. (make_dual takes real tensors
    only: a complex one is made from dual real and imaginary parts.)"""
    if not np.iscomplexobj(array):
        return fwAD.make_dual(gpugrad.tensor(array), gpugrad.tensor(tangent))
    return gpugrad.complex(fwAD.make_dual(gpugrad.tensor(array.real),
                                          gpugrad.tensor(tangent.real)),
                           fwAD.make_dual(gpugrad.tensor(array.imag),
                                          gpugrad.tensor(tangent.imag)))




def c(*shape):
    """Complex values with |z| >= 0.5."""
    return ("c", shape)


def r(*shape):
    return ("r", shape)


def right(*shape):
    """Complex with real part in [0.5, 2]: away from log's, sqrt's and pow's branch cut."""
    return ("right", shape)


def well(*shape):
    """Complex square matrices (..., n, n) plus 3 I: well conditioned, for inverses."""
    return ("well", shape)


def sample(kinds, seed: int) -> list:
    """Arrays for ``kinds`` (c, right, r, well, or an array used as it is)."""
    rng = np.random.default_rng(seed)
    out = []
    for kind in kinds:
        if isinstance(kind, np.ndarray):
            out.append(kind.copy())
            continue
        name, shape = kind
        if name == "r":
            out.append(rng.uniform(-1.5, 1.5, shape))
            continue
        z = _complex(rng, shape, *((0.5, 2.0) if name == "right" else ()))
        out.append(z + 3 * np.eye(shape[-1]) if name == "well" else z)
    return out


def case_arrays(cases: dict, name: str):
    """The case's function of tensors (``fn(gpugrad, ...)``) and its input arrays."""
    records, fn, kinds = cases[name]
    return _bound(fn), sample(kinds, sum(map(ord, name)))


def _bound(fn):
    return lambda *xs: fn(gpugrad, *xs)


def _leaves(arrays):
    return [gpugrad.tensor(a, requires_grad=True) for a in arrays]


def _forward(fn, arrays):
    with gpugrad.no_grad():
        return fn(*[gpugrad.tensor(a) for a in arrays]).numpy()


def check_reverse(fn, arrays):
    """Reverse mode (PyTorch's convention) against finite differences along Re and Im."""
    inputs = _leaves(arrays)
    out = fn(*inputs)
    gout = _cotangent_like(out.numpy(), 1)
    grads = autograd_grad(out, inputs, grad_outputs=gpugrad.tensor(gout))
    expected = numeric_gradients(lambda b: _pairing(_forward(fn, b), gout), arrays)
    for got, want, a in zip(grads, expected, arrays):
        assert got.dtype == a.dtype
        np.testing.assert_allclose(got.numpy(), want, **TOL)


def check_forward(fn, arrays):
    """Forward mode against a central difference along random complex tangents."""
    tangents = [_cotangent_like(a, 2) for a in arrays]
    with fwAD.dual_level():
        t_out = fwAD.unpack_dual(fn(*[_dual(a, t) for a, t in zip(arrays, tangents)])).tangent
    plus = _forward(fn, [a + EPS * t for a, t in zip(arrays, tangents)])
    minus = _forward(fn, [a - EPS * t for a, t in zip(arrays, tangents)])
    np.testing.assert_allclose(t_out.numpy(), (plus - minus) / (2 * EPS), **TOL)


def _first_gradients(fn, arrays, gout, create_graph=False):
    inputs = _leaves(arrays)
    grads = autograd_grad(fn(*inputs), inputs, grad_outputs=gpugrad.tensor(gout),
                          create_graph=create_graph)
    return inputs, grads


def check_second_order(fn, arrays) -> bool:
    """The gradient of <grad(z), w> in z against finite differences of the gradient; False
    where the gradient does not depend on the inputs (a linear op)."""
    gout = _cotangent_like(_forward(fn, arrays), 1)
    weights = [_cotangent_like(a, 3 + i) for i, a in enumerate(arrays)]
    inputs, grads = _first_gradients(fn, arrays, gout, create_graph=True)
    used = [(g, gpugrad.tensor(w)) for g, w in zip(grads, weights) if g.requires_grad]
    if not used:
        return False
    second = autograd_grad([g for g, _ in used], inputs, grad_outputs=[w for _, w in used],
                           allow_unused=True)

    def paired(b):
        return sum(_pairing(g.numpy(), w) for g, w in
                   zip(_first_gradients(fn, b, gout)[1], weights))

    expected = numeric_gradients(paired, arrays)
    for got, want in zip(second, expected):
        got = np.zeros_like(want) if got is None else got.numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    return True


def records_reached(fn, arrays) -> set:
    """The names of the records the forward and the (create_graph) backward ran."""
    inputs = _leaves(arrays)
    out = fn(*inputs)
    gout = gpugrad.tensor(_cotangent_like(out.numpy(), 1)).requires_grad_()
    grads = autograd_grad(out, inputs, grad_outputs=gout, create_graph=True)
    seen, visited = set(), set()
    stack = [t.grad_fn for t in [out, *grads] if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in visited:
            continue
        visited.add(id(node))
        if getattr(node, "op", None) is not None:
            seen.add(node.op.name)
        stack.extend(edge[0] for edge in node.next_edges if edge is not None)
    return seen


def check_torch(torch, fn, arrays):
    """Values and gradients (torch's convention) equal torch's."""
    inputs = _leaves(arrays)
    out = fn(gpugrad, *inputs)
    gout = _cotangent_like(out.numpy(), 1)
    grads = autograd_grad(out, inputs, grad_outputs=gpugrad.tensor(gout))
    t_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_out = fn(torch, *t_inputs)
    assert str(t_out.dtype).rpartition(".")[2] == str(out.dtype)
    np.testing.assert_allclose(out.numpy(), t_out.detach().resolve_conj().numpy(), **TOL)
    t_grads = torch.autograd.grad(t_out, t_inputs, grad_outputs=torch.tensor(gout))
    for got, want in zip(grads, t_grads):
        np.testing.assert_allclose(got.numpy(), want.resolve_conj().numpy(), **TOL)


def case_tests(cases: dict) -> tuple:
    """The five tests every case table runs, for a test module to bind at its top level
    (pytest collects them by those names):

        (test_reverse_mode_matches_finite_differences, test_forward_mode_matches_finite_differences,
         test_second_order_matches_finite_differences_of_the_gradient,
         test_case_reaches_the_records_it_names,
         test_values_and_gradients_match_torch) = case_tests(CASES)
    """
    import pytest
    by_name = pytest.mark.parametrize("name", sorted(cases))

    @by_name
    def reverse(name):
        check_reverse(*case_arrays(cases, name))

    @by_name
    def forward(name):
        check_forward(*case_arrays(cases, name))

    @by_name
    def second_order(name):
        if not check_second_order(*case_arrays(cases, name)):
            pytest.skip("the gradient does not depend on the inputs (a linear op)")

    @by_name
    def records(name):
        seen = records_reached(*case_arrays(cases, name))
        assert set(cases[name][0]) <= seen, f"{name} ran {sorted(seen)}"

    @by_name
    def against_torch(name):
        records, fn, kinds = cases[name]
        check_torch(pytest.importorskip("torch"), fn, sample(kinds, sum(map(ord, name))))

    return reverse, forward, second_order, records, against_torch
