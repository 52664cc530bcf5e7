"""Losses, norms and logit that PyTorch defines for real values only refuse complex inputs
(and complex weights) with an error naming the function, as PyTorch refuses them, instead
of computing something (a complex "loss", or a layer norm of z^2 statistics). The complex
functions PyTorch does accept (rms_norm, l1_loss, poisson_nll_loss, a complex target of
binary_cross_entropy_with_logits...) still run."""

import numpy as np
import pytest

import gpugrad
import gpugrad.nn.functional as F
from gpugrad import nn
from gpugrad.ops import loss as ops_loss

Z = np.array([[0.3 + 0.1j, 0.5 - 0.2j, 0.2 + 0.3j], [0.1 + 0.0j, 0.6 + 0.1j, 0.3 - 0.3j]],
             dtype=np.complex64)
R = np.array([[0.3, 0.5, 0.2], [0.1, 0.6, 0.3]], dtype=np.float32)
LABELS = np.array([0, 2])


def _z(m):
    return m.tensor(Z)


def _r(m):
    return m.tensor(R)


def _zc(m):                     # a complex per-class vector (3,)
    return m.tensor(Z[0])


# name in the error: call(m, F) for m gpugrad or torch, F its functional module
REFUSED = {
    "logit": lambda m, F: m.logit(_z(m)),
    "logit (eps)": lambda m, F: m.logit(_z(m), eps=1e-6),
    "logit (special)": lambda m, F: m.special.logit(_z(m)),
    "logit (method)": lambda m, F: _z(m).logit(),
    "kl_div": lambda m, F: F.kl_div(_z(m), _z(m), reduction="batchmean"),
    "kl_div (real target)": lambda m, F: F.kl_div(_z(m), _r(m), reduction="sum"),
    "kl_div (complex target)": lambda m, F: F.kl_div(_r(m), _z(m), reduction="sum"),
    "kl_div (log_target)": lambda m, F: F.kl_div(_r(m), _z(m), reduction="sum",
                                                 log_target=True),
    "cross_entropy": lambda m, F: F.cross_entropy(_z(m), m.tensor(LABELS)),
    "cross_entropy (weight)": lambda m, F: F.cross_entropy(_r(m), m.tensor(LABELS),
                                                           weight=_zc(m)),
    "cross_entropy (probabilities)": lambda m, F: F.cross_entropy(_z(m), _r(m)),
    "cross_entropy (4-d)": lambda m, F: F.cross_entropy(_z(m).T[None, :, :, None],
                                                          m.tensor(LABELS[None, :, None])),
    "cross_entropy (layer)": lambda m, F: m.nn.CrossEntropyLoss()(_z(m), m.tensor(LABELS)),
    "nll_loss": lambda m, F: F.nll_loss(_z(m), m.tensor(LABELS)),
    "nll_loss (weight)": lambda m, F: F.nll_loss(_r(m), m.tensor(LABELS), weight=_zc(m)),
    "binary_cross_entropy": lambda m, F: F.binary_cross_entropy(_z(m), _z(m)),
    "binary_cross_entropy (real target)": lambda m, F: F.binary_cross_entropy(_z(m), _r(m)),
    "binary_cross_entropy (complex target)": lambda m, F: F.binary_cross_entropy(_r(m),
                                                                                 _z(m)),
    "binary_cross_entropy (weight)": lambda m, F: F.binary_cross_entropy(_r(m), _r(m),
                                                                         weight=_z(m)),
    "binary_cross_entropy_with_logits": lambda m, F: F.binary_cross_entropy_with_logits(
        _z(m), _r(m)),
    "binary_cross_entropy_with_logits (weight)":
        lambda m, F: F.binary_cross_entropy_with_logits(_r(m), _r(m), weight=_z(m)),
    "binary_cross_entropy_with_logits (pos_weight)":
        lambda m, F: F.binary_cross_entropy_with_logits(_r(m), _r(m), pos_weight=_zc(m)),
    "layer_norm": lambda m, F: F.layer_norm(_z(m), (3,)),
    "layer_norm (weight)": lambda m, F: F.layer_norm(_r(m), (3,), weight=_zc(m)),
    "layer_norm (bias)": lambda m, F: F.layer_norm(_r(m), (3,), bias=_zc(m)),
    "layer_norm (layer)": lambda m, F: m.nn.LayerNorm(3)(_z(m)),
    "group_norm": lambda m, F: F.group_norm(_z(m)[None], 1),
    "group_norm (weight)": lambda m, F: F.group_norm(_r(m)[None], 1, weight=_zc(m)[:2]),
    "group_norm (layer)": lambda m, F: m.nn.GroupNorm(1, 2)(_z(m)[None]),
    "batch_norm": lambda m, F: F.batch_norm(_z(m), None, None, training=True),
    "batch_norm (weight)": lambda m, F: F.batch_norm(_r(m), None, None, weight=_zc(m),
                                                     training=True),
    "instance_norm": lambda m, F: F.instance_norm(_z(m)[None]),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_complex_is_refused_with_the_functions_name(case):
    name = case.split(" (")[0]
    with pytest.raises(NotImplementedError, match=f"^{name} is not implemented for complex"):
        REFUSED[case](gpugrad, F)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_complex_is_refused_as_torch_refuses_it(case):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):           # (NotImplementedError is a RuntimeError)
        REFUSED[case](torch, torch.nn.functional)
    with pytest.raises(RuntimeError):
        REFUSED[case](gpugrad, F)


def test_the_fused_cross_entropy_refuses_complex_logits():
    with pytest.raises(NotImplementedError, match="^cross_entropy is not implemented"):
        ops_loss.cross_entropy(gpugrad.tensor(Z), gpugrad.tensor(LABELS))


def test_real_inputs_still_run():
    x = gpugrad.tensor([[0.0, 2.0]], dtype="float64")
    assert F.layer_norm(x, (2,), eps=0.0).tolist() == [[-1.0, 1.0]]
    assert F.group_norm(x[None].reshape(1, 2, 1), 1, eps=0.0).reshape(-1).tolist() == [-1, 1]
    assert gpugrad.logit(gpugrad.tensor([0.5])).tolist() == [0.0]
    p = gpugrad.tensor([[0.5, 0.5]], dtype="float64")
    assert F.kl_div(p.log(), p, reduction="sum").item() == 0.0
    assert abs(F.binary_cross_entropy(p, p).item() - np.log(2)) < 1e-12
    assert abs(F.cross_entropy(x, gpugrad.tensor([1])).item() - np.log1p(np.exp(-2))) < 1e-12


# PyTorch computes these for complex values; gpugrad too (the same numbers, by hand here)
def test_complex_functions_torch_accepts_still_run():
    z = gpugrad.tensor(Z.astype(np.complex128))
    rms = np.sqrt(np.mean(Z.astype(np.complex128) ** 2, axis=-1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(F.rms_norm(z, (3,), eps=1e-6).numpy(), Z / rms, rtol=1e-12)
    np.testing.assert_allclose(F.l1_loss(z, z * 0).item(), np.abs(Z).mean(), rtol=1e-6)
    t = gpugrad.tensor(R.astype(np.float64))
    x = gpugrad.tensor(R.astype(np.float64) - 0.4)
    zt = gpugrad.tensor(Z.astype(np.complex128))           # a complex target, real logits
    got = F.binary_cross_entropy_with_logits(x, zt, reduction="none").numpy()
    xr = R.astype(np.float64) - 0.4
    expected = (1 - Z.astype(np.complex128)) * xr + np.log1p(np.exp(-xr))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert F.poisson_nll_loss(z, t).dtype == "complex128"
    assert isinstance(nn.RMSNorm(3)(z), gpugrad.Tensor)


def test_complex_functions_torch_accepts_match_torch():
    torch = pytest.importorskip("torch")
    z, r = Z.astype(np.complex128), R.astype(np.float64)
    cases = [
        lambda m, F: F.rms_norm(m.tensor(z), (3,)),
        lambda m, F: F.binary_cross_entropy_with_logits(m.tensor(r - 0.4), m.tensor(z),
                                                        reduction="none"),
        lambda m, F: F.poisson_nll_loss(m.tensor(z), m.tensor(r)),
        lambda m, F: F.l1_loss(m.tensor(z), m.tensor(z * 0.5)),
    ]
    for call in cases:
        ours = call(gpugrad, F).numpy()
        theirs = call(torch, torch.nn.functional).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
