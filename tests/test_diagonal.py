"""diagonal, diag, diag_embed, trace and einsum's repeated letters: NumPy's values,
gradients worked out by hand, and PyTorch's where installed (the op table checks the
records' rules against finite differences and vmap)."""

import numpy as np
import pytest

import gpugrad
from gpugrad import func

RNG = np.random.default_rng(3)


def test_trace_gradient_is_the_identity_and_its_hessian_trace_is_a_laplacian():
    m = gpugrad.tensor(RNG.standard_normal((3, 3)), dtype="float64", requires_grad=True)
    gpugrad.trace(m).backward()
    np.testing.assert_array_equal(m.grad.numpy(), np.eye(3))
    x = gpugrad.tensor([1.0, 2.0, 3.0], dtype="float64")        # sum(x^3): Laplacian 6 sum x
    assert gpugrad.trace(func.hessian(lambda v: (v ** 3).sum())(x)).item() == 36.0


@pytest.mark.parametrize("shape, offset, dims", [((3, 4), 0, (0, 1)), ((3, 4), 2, (0, 1)),
                                                 ((3, 4), -1, (1, 0)), ((2, 3, 3), 0, (1, 2)),
                                                 ((3, 4), 9, (0, 1))])
def test_diagonal_values_and_gradient_placement(shape, offset, dims):
    x = RNG.standard_normal(shape)
    t = gpugrad.tensor(x, requires_grad=True)
    d = gpugrad.diagonal(t, offset, *dims)
    np.testing.assert_array_equal(d.numpy(), np.diagonal(x, offset, *dims))
    weights = RNG.standard_normal(d.shape)
    (d * gpugrad.tensor(weights)).sum().backward()
    d1, d2 = (d % len(shape) for d in dims)
    want = np.zeros(shape)          # element by element: on the diagonal, its weight
    for index in np.ndindex(*shape):
        i, j = index[d1], index[d2]
        if j - i == offset:
            rest = tuple(n for axis, n in enumerate(index) if axis not in (d1, d2))
            want[index] = weights[rest + (min(i, j),)]
    np.testing.assert_array_equal(t.grad.numpy(), want)


def test_diag_both_ways_and_diag_embed():
    v = gpugrad.tensor([1.0, 2.0])
    assert gpugrad.diag(v, 1).tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]
    assert gpugrad.diag(gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]]), -1).tolist() == [3.0]
    batch = gpugrad.diag_embed(gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert batch.tolist() == [[[1.0, 0.0], [0.0, 2.0]], [[3.0, 0.0], [0.0, 4.0]]]
    with pytest.raises(ValueError, match="1-d or 2-d"):
        gpugrad.diag(gpugrad.ones(2, 2, 2))
    with pytest.raises(ValueError, match="must be different dimensions"):
        gpugrad.diagonal(gpugrad.ones(2, 2), 0, 1, -1)
    with pytest.raises(ValueError, match="2-d matrix"):
        gpugrad.trace(gpugrad.ones(3))


@pytest.mark.parametrize("equation, shapes", [("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
                                              ("bii->bi", [(2, 3, 3)]),
                                              ("ij,jj->i", [(2, 3), (3, 3)]),
                                              ("iii->i", [(2, 2, 2)]),
                                              ("...ii->...", [(2, 4, 4)])])
def test_einsum_with_a_letter_repeated_in_an_operand_takes_that_diagonal(equation, shapes):
    xs = [RNG.standard_normal(s) for s in shapes]
    ts = [gpugrad.tensor(x, requires_grad=True) for x in xs]
    out = gpugrad.einsum(equation, *ts)
    np.testing.assert_allclose(out.numpy(), np.einsum(equation, *xs), rtol=1e-13)
    assert gpugrad.gradcheck(lambda *a: gpugrad.einsum(equation, *a),
                             tuple(gpugrad.tensor(x, requires_grad=True) for x in xs))
    with pytest.raises(ValueError, match="a diagonal needs equal sizes"):
        gpugrad.einsum("ii", gpugrad.ones(2, 3))


def test_diagonals_match_pytorchs():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 4))
    for offset, d1, d2 in [(0, 0, 2), (1, -1, 1), (-2, 2, 1)]:
        ours = gpugrad.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        a, b = gpugrad.diagonal(ours, offset, d1, d2), torch.diagonal(theirs, offset, d1, d2)
        np.testing.assert_array_equal(a.numpy(), b.detach().numpy())
        (a * a).sum().backward()
        (b * b).sum().backward()
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    v = RNG.standard_normal((2, 3))
    for offset, d1, d2 in [(0, -2, -1), (1, 0, 2), (-1, 2, 0)]:
        np.testing.assert_array_equal(
            gpugrad.diag_embed(gpugrad.tensor(v), offset, d1, d2).numpy(),
            torch.diag_embed(torch.tensor(v), offset, d1, d2).numpy())


def test_a_diagonal_is_a_view_that_writes_go_through():
    """As PyTorch's: filling the diagonal writes the matrix, a diagonal taken earlier sees
    later writes, and a write through it is in the graph. By hand: y = [[1.5, 2], [3, 4.5]]
    after adding w0 = 0.5 to the diagonal of x; L = sum(y^2) = 35.5, dL/dx = 2y,
    dL/dw0 = 2 (1.5 + 4.5) = 12."""
    m = gpugrad.zeros(3, 3)
    m.diagonal().fill_(1.0)
    np.testing.assert_array_equal(m.numpy(), np.eye(3))
    d = m.diagonal(1)
    m.fill_(5.0)
    assert d.tolist() == [5.0, 5.0]
    x = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64", requires_grad=True)
    w = gpugrad.tensor([0.5, -1.0], dtype="float64", requires_grad=True)
    y = x * 1.0
    y.diagonal().add_(w[0])
    loss = (y ** 2).sum()
    loss.backward()
    assert loss.item() == 35.5
    assert x.grad.tolist() == [[3.0, 4.0], [6.0, 9.0]] and w.grad.tolist() == [12.0, 0.0]
