"""Complex matrices through linalg.solve, linalg.inv / inverse and linalg.solve_triangular,
and through diagonals (diagonal, diag, diag_embed, trace, einsum with a repeated letter), as
torch 2.13's: the records are holomorphic, so their gradients are PyTorch's conjugated ones
(gB = A^-H g for solve, -X^H g X^H for inv).

Each case runs tests/complex_case_checks.py's checks: reverse mode, forward mode and second
order against finite differences along Re and Im (torch-free), and torch (skipped without).
"""

import numpy as np
import pytest

import gpugrad
from complex_case_checks import c, case_tests, well

# name: (records it reaches, fn(m, *tensors) with m gpugrad or torch, input kinds)
CASES = {
    "inv": (("Inv",), lambda m, a: m.linalg.inv(a), (well(3, 3),)),
    "inverse_batched": (("Inv",), lambda m, a: m.inverse(a), (well(2, 3, 3),)),
    "solve_matrix": (("Solve",), lambda m, a, b: m.linalg.solve(a, b), (well(3, 3), c(3, 2))),
    "solve_vector_batch_broadcast": (("Solve",), lambda m, a, b: m.linalg.solve(a, b),
                                     (well(2, 3, 3), c(3))),
    "solve_left_false": (("Solve",), lambda m, a, b: m.linalg.solve(a, b, left=False),
                         (well(3, 3), c(2, 3))),
    "solve_triangular_upper": (("SolveTriangular",),
                               lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True),
                               (well(3, 3), c(3, 2))),
    "solve_triangular_lower_unit_right": (
        ("SolveTriangular",),
        lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, left=False,
                                                  unitriangular=True),
        (well(2, 3, 3), c(4, 3))),
    "diagonal": (("Diagonal",), lambda m, a: m.diagonal(a, 1, 0, 2) * a[0, :, :3],
                 (c(3, 2, 4),)),
    "diag_of_a_matrix": (("Diagonal",), lambda m, a: m.diag(a, -1) * m.diag(a)[1:],
                         (c(3, 3),)),
    "diag_of_a_vector": (("DiagonalEmbed",), lambda m, a: m.diag(a, 1) * a.sum(), (c(3),)),
    "diag_embed": (("DiagonalEmbed",), lambda m, a: m.diag_embed(a), (c(2, 3),)),
    "trace": (("Diagonal",), lambda m, a: m.trace(a) * a, (c(3, 3),)),
    "einsum_repeated_letter": (("Diagonal", "Einsum"),
                               lambda m, a, b: m.einsum("ii,ij->j", a, b), (c(3, 3), c(3, 2))),
    "einsum_trace": (("Diagonal", "Einsum"), lambda m, a: m.einsum("ii", a) * a,
                     (c(2, 2),)),
}
(test_reverse_mode_matches_finite_differences, test_forward_mode_matches_finite_differences,
 test_second_order_matches_finite_differences_of_the_gradient,
 test_case_reaches_the_records_it_names,
 test_values_and_gradients_match_torch) = case_tests(CASES)


# ------------------------------------------------------------------ hand-derived values

def test_solve_gradient_of_b_is_the_conjugate_transposed_inverse_applied():
    A = gpugrad.tensor([[2.0, 0.0], [0.0, 1j]], dtype="complex128", requires_grad=True)
    B = gpugrad.tensor([1.0 + 0j, 1.0], dtype="complex128", requires_grad=True)
    X = gpugrad.linalg.solve(A, B)
    np.testing.assert_allclose(X.numpy(), [0.5, -1j])
    X.backward(gpugrad.tensor([1.0 + 0j, 1.0], dtype="complex128"))
    np.testing.assert_allclose(B.grad.numpy(), [0.5, 1j])     # A^-H g = diag(0.5, i) g
    # gA = -gB X^H = -[0.5, i]^T [0.5, i]
    np.testing.assert_allclose(A.grad.numpy(), [[-0.25, -0.5j], [-0.5j, 1.0]])


def test_inv_gradient_of_a_one_by_one_matrix_is_the_conjugate_derivative():
    A = gpugrad.tensor([[1j]], dtype="complex128", requires_grad=True)
    X = gpugrad.linalg.inv(A)
    assert X.item() == -1j
    X.backward(gpugrad.tensor([[1.0 + 0j]], dtype="complex128"))
    assert A.grad.item() == pytest.approx(1.0)      # conj(-1 / a^2) = conj(1) = 1


def test_solve_triangular_reads_only_its_triangle_of_a_complex_matrix():
    A = np.array([[2.0, 5j], [1 + 1j, 1j]])
    B = np.array([[1.0 + 0j], [1j]])
    X = gpugrad.linalg.solve_triangular(gpugrad.tensor(A), gpugrad.tensor(B), upper=False)
    np.testing.assert_allclose(X.numpy(), np.linalg.solve(np.tril(A), B))


def test_diagonal_and_trace_gradients_of_complex_matrices():
    m = gpugrad.tensor(np.arange(4).reshape(2, 2) * (1 + 1j), requires_grad=True)
    gpugrad.trace(m).backward(gpugrad.tensor(2j, dtype=m.dtype))
    np.testing.assert_allclose(m.grad.numpy(), [[2j, 0], [0, 2j]])      # conj(1) g on the diagonal


def test_integer_matrices_are_refused_with_the_dtypes_named():
    with pytest.raises(TypeError, match=r"got int64 \(or complex64 or complex128\)"):
        gpugrad.linalg.inv(gpugrad.tensor([[1, 0], [0, 1]]))
