"""gpugrad.fft against explicit DFT matrices in float64 (forward values), adjoints built
from them and finite differences (gradients, PyTorch's convention for complex tensors: for a
real loss L of z, dL/dRe z + i dL/dIm z), and torch.fft where torch is installed."""

import numpy as np
import pytest

import gpugrad
from gpugrad import fft

RNG = np.random.default_rng(0)


def dft_matrix(n_out: int, n_in: int, inverse=False, norm="backward") -> np.ndarray:
    """The (n_out, n_in) matrix of an n-point transform of the input padded or cut to n =
    n_out (rows: output bins; columns: input samples, beyond n_out dropped)."""
    n = n_out
    j, k = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    sign = 1.0 if inverse else -1.0
    scale = {"backward": 1.0 / n if inverse else 1.0, "ortho": 1.0 / np.sqrt(n),
             "forward": 1.0 if inverse else 1.0 / n}[norm]
    full = scale * np.exp(sign * 2j * np.pi * j * k / n)
    matrix = np.zeros((n, n_in), complex)
    keep = min(n, n_in)
    matrix[:, :keep] = full[:, :keep]
    return matrix


def complex_normal(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


@pytest.mark.parametrize("n", [None, 4, 9])
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("inverse", [False, True])
def test_1d_transforms_and_their_gradients_are_the_dft_matrix_and_its_adjoint(n, norm,
                                                                                inverse):
    x = complex_normal(3, 6)
    m = dft_matrix(n or 6, 6, inverse, norm or "backward")
    op = fft.ifft if inverse else fft.fft
    xt = gpugrad.tensor(x, requires_grad=True)
    y = op(xt, n=n, norm=norm)
    np.testing.assert_allclose(y.numpy(), x @ m.T, atol=1e-12)
    g = complex_normal(*y.shape)
    (gx,) = gpugrad.autograd.grad(y, xt, gpugrad.tensor(g))
    np.testing.assert_allclose(gx.numpy(), g @ m.conj(), atol=1e-12)       # J^H g, per row
    real = gpugrad.tensor(x.real, requires_grad=True)               # a real input: Re(J^H g)
    (gr,) = gpugrad.autograd.grad(op(real, n=n, norm=norm), real, gpugrad.tensor(g))
    assert gr.dtype == np.float64
    np.testing.assert_allclose(gr.numpy(), (g @ m.conj()).real, atol=1e-12)


@pytest.mark.parametrize("n", [None, 5, 8])
@pytest.mark.parametrize("norm", [None, "ortho"])
def test_rfft_is_the_half_spectrum_and_its_gradient_the_real_adjoint(n, norm):
    x = RNG.standard_normal((2, 6))
    length = n or 6
    m = dft_matrix(length, 6, norm=norm or "backward")[: length // 2 + 1]
    xt = gpugrad.tensor(x, requires_grad=True)
    y = fft.rfft(xt, n=n, norm=norm)
    assert y.shape == (2, length // 2 + 1) and y.dtype == np.complex128
    np.testing.assert_allclose(y.numpy(), x @ m.T, atol=1e-12)
    g = complex_normal(*y.shape)
    (gx,) = gpugrad.autograd.grad(y, xt, gpugrad.tensor(g))
    np.testing.assert_allclose(gx.numpy(), (g @ m.conj()).real, atol=1e-12)


def finite_difference_gradient(f, z: np.ndarray, eps=1e-6) -> np.ndarray:
    """dL/dRe z + i dL/dIm z of the real function f, by central differences."""
    grad = np.zeros_like(z)
    for i in np.ndindex(z.shape):
        for step in (1.0, 1j):
            up, down = z.copy(), z.copy()
            up[i] += eps * step
            down[i] -= eps * step
            grad[i] += step * (f(up) - f(down)) / (2 * eps)
    return grad


@pytest.mark.parametrize("n", [None, 3, 7, 8])
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_irfft_values_and_gradient_against_finite_differences(n, norm):
    spectrum = complex_normal(2, 4)
    g = RNG.standard_normal((2, n or 6))

    def loss(z):
        return float((np.fft.irfft(z, n=n, norm=norm) * g).sum())

    zt = gpugrad.tensor(spectrum, requires_grad=True)
    out = fft.irfft(zt, n=n, norm=norm)
    assert out.dtype == np.float64 and out.shape == (2, n or 6)
    length = n or 6                            # the Hermitian spectrum, inverted by hand
    full = np.zeros((2, length), complex)
    half = min(4, length // 2 + 1)
    full[:, :half] = spectrum[:, :half]
    full[:, :half] = np.where(np.arange(half) == 0, full[:, :half].real, full[:, :half])
    if length % 2 == 0 and half == length // 2 + 1:
        full[:, length // 2] = full[:, length // 2].real
    for k in range(1, half):
        if length - k != k:
            full[:, length - k] = np.conj(full[:, k])
    by_hand = full @ dft_matrix(length, length, inverse=True, norm=norm or "backward").T
    np.testing.assert_allclose(out.numpy(), by_hand.real, atol=1e-12)
    (gz,) = gpugrad.autograd.grad(out, zt, gpugrad.tensor(g))
    np.testing.assert_allclose(gz.numpy(), finite_difference_gradient(loss, spectrum),
                               atol=1e-6)


def test_nd_transforms_pad_cut_and_differentiate_over_the_chosen_dims():
    x = complex_normal(3, 4, 5)
    xt = gpugrad.tensor(x, requires_grad=True)
    y = fft.fftn(xt, s=(2, 7), dim=(0, 2), norm="ortho")
    m0, m2 = dft_matrix(2, 3, norm="ortho"), dft_matrix(7, 5, norm="ortho")
    expected = np.einsum("ai,ijk,bk->ajb", m0, x, m2)
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-12)
    g = complex_normal(*y.shape)
    (gx,) = gpugrad.autograd.grad(y, xt, gpugrad.tensor(g))
    np.testing.assert_allclose(gx.numpy(), np.einsum("ai,ajb,bk->ijk", m0.conj(), g, m2.conj()),
                               atol=1e-12)
    real = RNG.standard_normal((4, 6))
    half = fft.rfft2(gpugrad.tensor(real))
    np.testing.assert_allclose(half.numpy(), np.fft.fft2(real)[:, :4], atol=1e-12)
    back = fft.irfft2(half, s=(4, 6))
    np.testing.assert_allclose(back.numpy(), real, atol=1e-12)
    assert fft.fftn(gpugrad.tensor(x)).shape == x.shape
    np.testing.assert_allclose(fft.ifftn(fft.fftn(gpugrad.tensor(x))).numpy(), x, atol=1e-12)


def test_hermitian_transforms_by_hand():
    half = complex_normal(5)                   # bins 0..4 of a Hermitian 8-point signal
    full = np.concatenate([half, np.conj(half[1:4][::-1])])
    full[0], full[4] = full[0].real, full[4].real
    out = fft.hfft(gpugrad.tensor(half), n=8)
    np.testing.assert_allclose(out.numpy(), (dft_matrix(8, 8) @ full).real, atol=1e-12)
    signal = RNG.standard_normal(8)
    back = fft.ihfft(gpugrad.tensor(signal))
    np.testing.assert_allclose(back.numpy(), (dft_matrix(8, 8, inverse=True) @ signal)[:5],
                               atol=1e-12)
    np.testing.assert_allclose(fft.hfft(back, n=8).numpy(), signal, atol=1e-12)


def test_a_real_loss_through_complex_values_and_a_second_derivative():
    x = RNG.standard_normal(6)
    m = dft_matrix(6, 6)[:4]

    def power(v):                              # sum |rfft(v)|^2 by hand: v^T Re(M^H M) v
        return float(np.sum(np.abs(m @ v) ** 2))

    xt = gpugrad.tensor(x, requires_grad=True)
    loss = (fft.rfft(xt).abs() ** 2).sum()
    np.testing.assert_allclose(loss.item(), power(x), rtol=1e-12)
    (g,) = gpugrad.autograd.grad(loss, xt, create_graph=True)
    np.testing.assert_allclose(g.numpy(), 2 * (m.conj().T @ m).real @ x, atol=1e-10)
    (h,) = gpugrad.autograd.grad(g[1], xt)            # row 1 of the Hessian 2 Re(M^H M)
    np.testing.assert_allclose(h.numpy(), 2 * (m.conj().T @ m).real[1], atol=1e-10)

    def first_derivative(z):                   # d/dz sum(irfft(z)^2), by gpugrad
        zt = gpugrad.tensor(z, requires_grad=True)
        out = fft.irfft(zt, n=6)
        return gpugrad.autograd.grad((out * out).sum(), zt, create_graph=True)[0]

    z0 = complex_normal(4)
    zt = gpugrad.tensor(z0, requires_grad=True)
    out = fft.irfft(zt, n=6)
    (gz,) = gpugrad.autograd.grad((out * out).sum(), zt, create_graph=True)
    (gzz,) = gpugrad.autograd.grad(gz.abs().sum(), zt)        # through IRFFT's rule
    np.testing.assert_allclose(
        gzz.numpy(), finite_difference_gradient(
            lambda z: float(np.abs(first_derivative(z).numpy()).sum()), z0), atol=1e-5)


def test_dtypes_follow_pytorch():
    assert fft.fft(gpugrad.ones(4)).dtype == np.complex64
    assert fft.fft(gpugrad.tensor([1, 2, 3])).dtype == np.complex64     # ints: default float
    assert fft.rfft(gpugrad.ones(4, dtype="float64")).dtype == np.complex128
    assert fft.irfft(fft.rfft(gpugrad.ones(4))).dtype == np.float32
    assert fft.fftfreq(4).dtype == np.float32 and fft.rfftfreq(4, dtype="float64").dtype == \
        np.float64


def test_frequencies_and_shifts_by_hand():
    assert fft.fftfreq(5, d=0.5).numpy().tolist() == \
        np.array([0.0, 0.4, 0.8, -0.8, -0.4], np.float32).tolist()
    assert fft.fftfreq(4).tolist() == [0.0, 0.25, -0.5, -0.25]
    assert fft.rfftfreq(5).tolist() == np.array([0.0, 0.2, 0.4], np.float32).tolist()
    x = gpugrad.arange(10).reshape(2, 5)
    assert fft.fftshift(x).tolist() == np.fft.fftshift(np.arange(10).reshape(2, 5)).tolist()
    assert fft.ifftshift(fft.fftshift(x)).tolist() == x.tolist()
    assert fft.fftshift(x, dim=1).tolist() == [[3, 4, 0, 1, 2], [8, 9, 5, 6, 7]]


def test_forward_mode_and_vmap_are_the_transform_of_the_tangent_and_each_row():
    x = gpugrad.tensor(RNG.standard_normal((3, 8)))
    t = gpugrad.tensor(RNG.standard_normal((3, 8)))
    out, tangent = gpugrad.func.jvp(lambda v: fft.rfft(v), (x,), (t,))
    np.testing.assert_allclose(tangent.numpy(), np.fft.rfft(t.numpy()), atol=1e-5)
    rows = gpugrad.func.vmap(lambda v: fft.fft(v, n=5))(x)
    np.testing.assert_allclose(rows.numpy(), np.fft.fft(x.numpy(), n=5), atol=1e-5)


def test_bad_arguments_say_what_to_do():
    with pytest.raises(RuntimeError, match="expects a real input"):
        fft.rfft(gpugrad.tensor([1 + 1j, 2 + 0j]))
    with pytest.raises(ValueError, match="invalid normalization mode 'bogus'"):
        fft.fft(gpugrad.ones(4), norm="bogus")
    with pytest.raises(RuntimeError, match="invalid number of data points"):
        fft.fft(gpugrad.ones(4), n=0)
    with pytest.raises(RuntimeError, match="same length"):
        fft.fftn(gpugrad.ones(4, 4), s=(2, 2), dim=(0,))
    with pytest.raises(TypeError, match="cast to float32"):
        fft.fft(gpugrad.ones(4, dtype="float16"))


@pytest.mark.parametrize("name, kwargs", [
    ("fft", {}), ("fft", {"n": 7, "norm": "ortho"}), ("ifft", {"dim": 0}), ("rfft", {"n": 5}),
    ("fft2", {"norm": "forward"}), ("rfftn", {"s": (4, 9)}), ("irfft", {"n": 9}),
    ("irfftn", {"s": (3, 4)}), ("hfft", {"n": 7}), ("ihfft", {"norm": "ortho"}),
    ("hfftn", {}), ("ihfft2", {})])
def test_values_and_gradients_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    real_input = name.startswith(("r", "ih"))
    x = RNG.standard_normal((3, 6)) + (0 if real_input else 1j) * RNG.standard_normal((3, 6))
    ours = getattr(fft, name)(gpugrad.tensor(x, requires_grad=True), **kwargs)
    theirs = getattr(torch.fft, name)(torch.tensor(x, requires_grad=True), **kwargs)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().resolve_conj().numpy(),
                               atol=1e-12)
    g = RNG.standard_normal(ours.shape) + (1j * RNG.standard_normal(ours.shape)
                                           if ours.dtype.kind == "c" else 0)
    xt, tt = gpugrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ga,) = gpugrad.autograd.grad(getattr(fft, name)(xt, **kwargs), xt, gpugrad.tensor(g))
    (gb,) = torch.autograd.grad(getattr(torch.fft, name)(tt, **kwargs), tt, torch.tensor(g))
    np.testing.assert_allclose(ga.numpy(), gb.resolve_conj().numpy(), atol=1e-12)


def test_transforms_and_gradients_on_each_device(device):
    x = RNG.standard_normal((3, 8)).astype(np.float32)
    xt = gpugrad.tensor(x, device=device, requires_grad=True)
    spectrum = fft.rfft(xt, norm="ortho")
    assert str(spectrum.device).startswith(device) and spectrum.dtype == np.complex64
    np.testing.assert_allclose(spectrum.detach().cpu().numpy(),
                               x @ dft_matrix(8, 8, norm="ortho")[:5].T, atol=1e-5)
    out = fft.irfft(spectrum * 2.0, n=8, norm="ortho")            # 2 x, through both records
    np.testing.assert_allclose(out.detach().cpu().numpy(), 2 * x, atol=1e-5)
    out.sum().backward()
    np.testing.assert_allclose(xt.grad.cpu().numpy(), np.full_like(x, 2.0), atol=1e-5)
    shifted = fft.fftshift(fft.fftfreq(8, device=device))
    assert shifted.cpu().tolist() == np.fft.fftshift(np.fft.fftfreq(8)).tolist()


def test_a_0d_tensor_has_no_axis_to_transform_but_fftn_of_none_is_itself():
    x = gpugrad.tensor(2.0, requires_grad=True)
    with pytest.raises(IndexError, match="no dimensions"):
        fft.fft(x)
    with pytest.raises(RuntimeError, match="must transform at least one axis"):
        fft.rfftn(x)
    y = fft.fftn(x)                                  # no axis: the value, as complex
    assert y.dtype == np.complex64 and y.item() == 2.0
    (g,) = gpugrad.autograd.grad(y, x, gpugrad.tensor(1.0 + 3.0j))
    assert g.item() == 1.0                            # a real input: the real part
    assert fft.fftn(gpugrad.ones(2, 3), dim=()).tolist() == [[1 + 0j] * 3] * 2
