"""Op-table specs of the complex parts (gpugrad/ops/complex_parts.py): real inputs and outputs
around a complex middle, so the table's float64 checks (forward, gradcheck, gradgradcheck,
jvp, vmap) run through the complex records and their PyTorch-convention rules.

(tests/test_complex_autograd.py checks every complex record on complex inputs as well.)
"""

from __future__ import annotations

import numpy as np

import gpugrad
from op_specs import positive, real, spec


def _parts(z):
    return (z * z).real + (z * 2.0).imag


def _parts_ref(a, b):
    z = a + 1j * b
    return (z * z).real + (z * 2.0).imag


def _polar(r, t):
    w = gpugrad.polar(r, t)
    return gpugrad.angle(w * w) + w.abs()


def _polar_ref(r, t):
    w = r * np.exp(1j * t)
    return np.angle(w * w) + np.abs(w)


def _view_conj(x):
    z = gpugrad.view_as_complex(x)
    return gpugrad.view_as_real(gpugrad.conj(z) * z * z)


def _view_conj_ref(x):
    z = x[..., 0] + 1j * x[..., 1]
    w = np.conj(z) * z * z
    return np.stack([w.real, w.imag], axis=-1)


def _sgn(a, b):
    return gpugrad.view_as_real(gpugrad.sgn(gpugrad.complex(a, b)))


def _sgn_ref(a, b):
    z = a + 1j * b
    w = z / np.abs(z)
    return np.stack([w.real, w.imag], axis=-1)


SPECS = [
    # (away from 0, where sgn has no derivative)
    spec("sgn_of_a_complex_value", ("Sgn", "Complex", "ViewAsReal"), _sgn, _sgn_ref,
         positive((2, 3)), real((2, 3))),
    spec("complex_real_imag", ("Complex", "Real", "Imag"),
         lambda a, b: _parts(gpugrad.complex(a, b)), _parts_ref, real((2, 3)), real((3,))),
    # angles in (-0.7, 0.7): the angle of w * w stays inside (-pi, pi), no wrap
    spec("polar_angle_abs", ("Polar", "Angle", "Abs"), _polar, _polar_ref,
         positive((2, 3)), real((2, 3), -0.7, 0.7)),
    spec("view_as_complex_conj", ("ViewAsComplex", "ViewAsReal", "Conj"), _view_conj,
         _view_conj_ref, real((3, 2))),
]
