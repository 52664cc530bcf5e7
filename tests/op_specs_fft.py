"""Op-table specs of the Fourier transforms (gpugrad/ops/fft.py): real inputs and outputs
around the complex spectrum, so the table's float64 checks (forward, gradcheck,
gradgradcheck, jvp, vmap) run through DFT, IRFFT and FFTResize and their PyTorch-convention
rules. The references are cosine and sine sums written out, not NumPy's FFT.

(tests/test_fft.py checks the transforms on complex inputs and against torch.fft.)
"""

from __future__ import annotations

import numpy as np

import gpugrad
from gpugrad import fft
from op_specs import real, spec


def _angles(n_out: int, n_in: int, n: int) -> np.ndarray:
    return 2 * np.pi * np.outer(np.arange(n_out), np.arange(n_in)) / n


def _rfft_parts_ref(x):
    """Re and Im of the half spectrum of x (..., 6) over 8 points (x zero-padded)."""
    a = _angles(5, 6, 8)
    return np.concatenate([x @ np.cos(a).T, -(x @ np.sin(a).T)], axis=-1)


def _rfft_parts(x):
    spectrum = fft.rfft(x, n=8)
    return gpugrad.cat([spectrum.real, spectrum.imag], dim=-1)


def _irfft_ref(y):
    """irfft of the real half spectrum y (..., 5), 6 points: bins 0..3 kept (the Nyquist bin
    3 once, bins 1 and 2 twice), bin 4 cut."""
    weights = np.array([1.0, 2.0, 2.0, 1.0])
    return (y[..., :4] * weights) @ np.cos(_angles(4, 6, 6)) / 6


def _fft_roundtrip(x):
    """x (..., 4) through fft, a phase ramp i^k on bin k, and ifft: x shifted (real)."""
    spectrum = fft.fft(x, norm="ortho")
    return fft.ifft(spectrum * gpugrad.tensor([1.0, 1j, -1.0, -1j]), norm="ortho").real


def _fft_roundtrip_ref(x):
    return np.roll(x, 3, axis=-1)           # multiplying bin k by i^k: a shift of -1 place


FFT_SPECS = [
    spec("rfft_padded_real_and_imaginary_parts", ("DFT", "Real", "Imag"), _rfft_parts,
         _rfft_parts_ref, real((2, 6))),
    spec("irfft_of_a_real_spectrum_cut_to_n", ("IRFFT", "DFT", "FFTResize"),
         lambda y: fft.irfft(y, n=6), _irfft_ref, real((2, 5))),
    spec("fft_phase_ramp_is_a_shift", "DFT", _fft_roundtrip, _fft_roundtrip_ref, real((3, 4))),
]
