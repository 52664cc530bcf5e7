"""Forward values, views and errors of the complex parts (real, imag, angle, polar,
view_as_real...) and complex outputs of backward and the transforms, against hand-derived
values. (Split from tests/test_complex_autograd.py, which checks the gradients.)"""

import numpy as np
import pytest

import gpugrad


def test_forward_values_and_properties():
    z = gpugrad.tensor([3 + 4j, -1 + 0j], dtype=gpugrad.complex128)
    assert z.real.tolist() == [3.0, -1.0] and z.imag.tolist() == [4.0, 0.0]
    np.testing.assert_allclose(gpugrad.angle(z).numpy(), [np.arctan2(4, 3), np.pi])
    assert gpugrad.conj(z).tolist() == [3 - 4j, -1 - 0j] and not z.is_conj()
    assert gpugrad.view_as_real(z).tolist() == [[3.0, 4.0], [-1.0, 0.0]]
    assert gpugrad.view_as_complex(gpugrad.view_as_real(z)).tolist() == z.tolist()
    p = gpugrad.polar(gpugrad.tensor([2.0]), gpugrad.tensor([np.pi / 2]))
    assert p.dtype == np.complex64
    np.testing.assert_allclose(p.numpy(), [2j], atol=1e-6)
    assert gpugrad.complex(gpugrad.tensor([1.0]), gpugrad.tensor([2.0])).tolist() == [1 + 2j]
    x = gpugrad.tensor([1.0, -2.0])
    assert x.real is x and gpugrad.conj(x) is x and gpugrad.resolve_conj(x) is x
    assert gpugrad.angle(x).tolist() == [0.0, pytest.approx(np.pi)]


def test_real_and_view_as_real_are_views():
    z = gpugrad.tensor([1 + 2j, 3 + 4j])
    assert np.shares_memory(z.real.numpy(), z.numpy())
    assert np.shares_memory(gpugrad.view_as_real(z).numpy(), z.numpy())


def test_clear_errors_for_wrong_inputs():
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-"):
        gpugrad.ones(2).imag
    with pytest.raises(RuntimeError, match="only supported for complex tensors"):
        gpugrad.view_as_real(gpugrad.ones(2))
    with pytest.raises(RuntimeError, match="last dimension of size 2"):
        gpugrad.view_as_complex(gpugrad.ones(2, 3))
    with pytest.raises(TypeError, match="complex: real and imag must be real floating"):
        gpugrad.complex(gpugrad.ones(2), gpugrad.ones(2, dtype=gpugrad.float64))


def test_complex_outputs_need_an_explicit_cotangent_and_transforms_take_complex_inputs():
    z = gpugrad.tensor(1 + 2j, dtype="complex128", requires_grad=True)
    with pytest.raises(RuntimeError, match="only for real scalar outputs"):
        (z * z).backward()
    (z * z).backward(gpugrad.tensor(1.0 + 0j, dtype="complex128"))
    assert z.grad.item() == pytest.approx(2 * np.conj(1 + 2j))      # g conj(f'(z)), f' = 2z
    grad = gpugrad.func.grad(lambda w: (w * w).abs())(gpugrad.tensor(1 + 2j,
                                                                     dtype="complex128"))
    assert grad.item() == pytest.approx(2 * (1 + 2j))              # |w|^2: 2w (torch's)
    _, tangent = gpugrad.func.jvp(lambda w: w * w, (gpugrad.tensor(1 + 2j, dtype="complex128"),),
                                  (gpugrad.tensor(1j, dtype="complex128"),))
    assert tangent.item() == pytest.approx(2 * (1 + 2j) * 1j)      # f'(z) t
    with pytest.raises(TypeError, match="only floating-point tensors"):
        gpugrad.func.jacrev(lambda w: w * w)(gpugrad.tensor([1j]))
